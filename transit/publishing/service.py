"""Feed versions in the database: upload, background staging, publish, rollback, audit.

The request side only records an upload and queues a job; the job runner (transit.db.jobs)
validates and compiles it (Releases.stage) and publishes it (Releases.publish). Jobs are
keyed by operator, so one operator's uploads and publishes run one at a time, in order,
while other operators' run in parallel. Every publish and rollback is written to the audit
log with the version it replaced.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from transit.accounts import audit
from transit.accounts.roles import Role
from transit.accounts.scope import Principal
from transit.catalog import Operator
from transit.db import jobs
from transit.db.engine import Database
from transit.db.models import FeedVersionRow, JobRow, OperatorRow
from transit.publishing.release import Releases, UnknownPart

VALIDATING, REJECTED, STAGED, PUBLISHED, SUPERSEDED = (
    "validating", "rejected", "staged", "published", "superseded")
STAGE, PUBLISH, PREVIEW = "feed.stage", "feed.publish", "feed.preview"
log = logging.getLogger("transit.publishing")


class PublishingError(Exception):
    """Base: the message says what was wrong."""


class NotFound(PublishingError):
    pass


class Conflict(PublishingError):
    pass


@dataclass(frozen=True)
class Upload:
    """A received feed file in the scratch directory, with what identifies it."""

    path: Path
    sha256: str
    size: int
    source_url: str | None = None
    etag: str | None = None
    last_modified: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def new_version_id() -> str:
    """Opaque and unguessable: another operator cannot find a version by counting."""
    return "fv_" + secrets.token_urlsafe(15)


class FeedVersions:
    def __init__(self, db: Database, releases: Releases, scratch: Path) -> None:
        self.db = db
        self.releases = releases
        self.uploads = scratch / "uploads"

    # -- requests
    def create(self, operator_id: str, upload: Upload, actor: Principal) -> FeedVersionRow:
        """Record an upload (moved into the data directory) and queue its staging."""
        version_id = new_version_id()
        self.uploads.mkdir(parents=True, exist_ok=True)
        kept = self.uploads / f"{version_id}.zip"
        shutil.move(upload.path, kept)
        now = _now()
        with self.db.session() as s:
            row = FeedVersionRow(
                id=version_id, operator_id=operator_id, sha256=upload.sha256,
                size=upload.size, source_url=upload.source_url, etag=upload.etag,
                last_modified=upload.last_modified, uploaded_by=actor.prefix,
                uploaded_at=now, status=VALIDATING, progress="queued", counts={},
                blocking=0, upload_path=str(kept))
            s.add(row)
            audit.record(s, actor, operator_id, "feed.upload", version_id,
                         {"sha256": upload.sha256, "size": upload.size,
                          **({"url": upload.source_url} if upload.source_url else {})}, now)
        jobs.enqueue(self.db, STAGE, operator_id, {"version": version_id})
        return row

    def list(self, operator_id: str) -> list[FeedVersionRow]:
        with self.db.session() as s:
            return list(s.scalars(select(FeedVersionRow).where(
                FeedVersionRow.operator_id == operator_id).order_by(
                FeedVersionRow.uploaded_at.desc(), FeedVersionRow.id)))

    def get(self, operator_id: str, version_id: str) -> FeedVersionRow:
        """The version, if it is this operator's (another operator's is not found)."""
        with self.db.session() as s:
            row = s.get(FeedVersionRow, version_id)
        if row is None or row.operator_id != operator_id:
            raise NotFound(f"operator {operator_id} has no feed version {version_id[:60]!r}")
        return row

    def latest_from_url(self, operator_id: str, url: str) -> FeedVersionRow | None:
        """The newest version fetched from `url` (for a conditional GET)."""
        with self.db.session() as s:
            return s.scalars(select(FeedVersionRow).where(
                FeedVersionRow.operator_id == operator_id, FeedVersionRow.source_url == url)
                .order_by(FeedVersionRow.uploaded_at.desc()).limit(1)).first()

    def published(self, operator_id: str) -> FeedVersionRow | None:
        with self.db.session() as s:
            return s.scalars(select(FeedVersionRow).where(
                FeedVersionRow.operator_id == operator_id,
                FeedVersionRow.status == PUBLISHED)).first()

    def request_publish(self, operator_id: str, version_id: str, actor: Principal,
                        force: bool = False) -> int:
        """Queue the publish of a staged (or earlier published) version; the job id."""
        row = self.get(operator_id, version_id)
        if row.status in (VALIDATING, REJECTED) or row.part is None:
            raise Conflict(f"version {version_id} is {row.status}: only a staged or earlier "
                           "published version can be published")
        if row.status == PUBLISHED:
            raise Conflict(f"version {version_id} is already published")
        if row.blocking and not force:
            codes = sorted({n["code"] for n in (row.report or {}).get("notices", [])
                            if n.get("blocking")})
            raise Conflict(f"version {version_id} has blocking notices ({', '.join(codes)}); "
                           "read its report, and publish with force=true if it is intended")
        if not self.releases.store.has_part(operator_id, row.part):
            raise Conflict(f"version {version_id} is too old: its compiled part is no longer "
                           f"kept (TRANSIT_FEED_VERSIONS_KEPT={self.releases.keep})")
        return jobs.enqueue(self.db, PUBLISH, operator_id, {
            "version": version_id, "action": "publish", "force": force, **_actor(actor)})

    def request_rollback(self, operator_id: str, actor: Principal) -> tuple[int, str]:
        """Queue going back to the version published before the current one."""
        current = self.published(operator_id)
        if current is None:
            raise Conflict(f"operator {operator_id} has no published feed version")
        with self.db.session() as s:
            target = s.scalars(select(FeedVersionRow).where(
                FeedVersionRow.operator_id == operator_id,
                FeedVersionRow.status == SUPERSEDED,
                FeedVersionRow.published_at < current.published_at,
                FeedVersionRow.part.is_not(None))
                .order_by(FeedVersionRow.published_at.desc()).limit(1)).first()
        if target is None or not self.releases.store.has_part(operator_id, target.part or ""):
            raise Conflict(f"operator {operator_id} has no earlier published version to roll "
                           "back to (still kept)")
        job = jobs.enqueue(self.db, PUBLISH, operator_id, {
            "version": target.id, "action": "rollback", "force": True, **_actor(actor)})
        return job, target.id

    def wait(self, job_id: int, timeout_s: float) -> jobs.JobRow | None:
        """The finished job, or None if it is still queued or running after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        delay = 0.02
        while True:
            row = jobs.get(self.db, job_id)
            if row is not None and row.status in (jobs.DONE, jobs.FAILED):
                return row
            if time.monotonic() >= deadline:
                return None
            time.sleep(delay)
            delay = min(delay * 1.5, 0.2)

    # -- jobs
    def handlers(self) -> dict[str, jobs.Handler]:
        return {STAGE: self.stage_job, PUBLISH: self.publish_job, PREVIEW: self.preview_job}

    def request_preview(self, row: FeedVersionRow) -> None:
        """Queue building the preview of a version over the network served now (once: not
        when such a job is already waiting or running)."""
        with self.db.session() as s:
            waiting = s.scalars(select(JobRow.id).where(
                JobRow.kind == PREVIEW, JobRow.key == row.operator_id,
                JobRow.status.in_((jobs.QUEUED, jobs.RUNNING)),
                JobRow.payload["version"].as_string() == row.id).limit(1)).first()
        if waiting is None:
            jobs.enqueue(self.db, PREVIEW, row.operator_id, {"version": row.id})

    def preview_job(self, job: jobs.Job) -> dict[str, Any]:
        with self.db.session() as s:
            row = s.get(FeedVersionRow, job.payload["version"])
        if row is None or row.part is None or not self.releases.store.has_part(
                row.operator_id, row.part):
            return {"skipped": True}
        t0 = time.perf_counter()
        self.releases.preview(self.operator(row.operator_id), row.part)
        return {"seconds": time.perf_counter() - t0}

    def operator(self, operator_id: str) -> Operator:
        """The operator as the engine sees it (its name from the database)."""
        with self.db.session() as s:
            row = s.get(OperatorRow, operator_id)
        return Operator(operator_id, row.name if row else operator_id, "")

    def _set(self, version_id: str, **values: Any) -> None:
        with self.db.session() as s:
            s.execute(update(FeedVersionRow).where(FeedVersionRow.id == version_id)
                      .values(**values))

    def stage_job(self, job: jobs.Job) -> dict[str, Any]:
        version_id = job.payload["version"]
        with self.db.session() as s:
            row = s.get(FeedVersionRow, version_id)
        if row is None or row.status != VALIDATING or not row.upload_path:
            return {"skipped": True}
        self._set(version_id, progress="validating and compiling")
        staged = self.releases.stage(self.operator(row.operator_id), Path(row.upload_path))
        report = staged.report.to_json()
        # staged: the report is readable now; "done" once the preview is merged too
        self._set(version_id, status=staged.status,
                  progress="building the preview" if staged.part else "done", report=report,
                  diff=staged.diff, counts=staged.counts, part=staged.part,
                  blocking=len(staged.report.blocking), upload_path=None)
        Path(row.upload_path).unlink(missing_ok=True)
        seconds = dict(staged.seconds)
        if staged.part is not None:
            # merge the preview now (a publish right after reuses it; a preview is instant)
            t0, cpu0 = time.perf_counter(), time.thread_time()
            try:
                self.releases.preview(self.operator(row.operator_id), staged.part)
            except Exception:  # the version stays staged; a preview is built when asked
                log.exception("preview of feed version %s", version_id)
            seconds["preview"] = time.perf_counter() - t0
            seconds["preview_cpu"] = time.thread_time() - cpu0
            self._set(version_id, progress="done")
        return {"status": staged.status, "seconds": seconds}

    def fail_job(self, job: jobs.Job, detail: str) -> None:
        """A job that failed for good: a staging becomes `rejected`, saying why."""
        if job.kind != STAGE:
            return
        report = {"counts": {"error": 1, "warning": 0, "info": 0},
                  "codes": [{"code": "internal_error", "severity": "error", "total": 1,
                             "listed": 1}],
                  "notices": [{"code": "internal_error", "severity": "error",
                               "message": f"the feed could not be processed: {detail}",
                               "file": None, "line": None, "field": None, "value": None,
                               "blocking": False}]}
        self._set(job.payload["version"], status=REJECTED, progress="failed", report=report,
                  upload_path=None)

    def publish_job(self, job: jobs.Job) -> dict[str, Any]:
        p = job.payload
        version_id = p["version"]
        with self.db.session() as s:
            row = s.get(FeedVersionRow, version_id)
            assert row is not None and row.part is not None
            before = s.scalars(select(FeedVersionRow).where(
                FeedVersionRow.operator_id == row.operator_id,
                FeedVersionRow.status == PUBLISHED)).first()
        try:
            done = self.releases.publish(self.operator(row.operator_id), row.part)
        except UnknownPart as exc:
            raise Conflict(str(exc)) from None
        now = _now()
        actor = Principal(Role(p["role"]), p["operator"], p["actor"])
        with self.db.session() as s:
            s.execute(update(FeedVersionRow).where(
                FeedVersionRow.operator_id == row.operator_id,
                FeedVersionRow.status == PUBLISHED, FeedVersionRow.id != version_id)
                .values(status=SUPERSEDED))
            values: dict[str, Any] = {"status": PUBLISHED, "merged_version": done.version,
                                      "published_by": actor.prefix}
            if p["action"] == "publish" or row.published_at is None:
                values["published_at"] = now
            s.execute(update(FeedVersionRow).where(FeedVersionRow.id == version_id)
                      .values(**values))
            audit.record(s, actor, row.operator_id, f"feed.{p['action']}", version_id,
                         {"from": before.id if before else None, "to": version_id,
                          "forced": bool(p.get("force")) and p["action"] == "publish",
                          "timetable_version": done.version}, now)
        return {"version": done.version, "from": before.id if before else None,
                "seconds": done.seconds}


def _actor(actor: Principal) -> dict[str, Any]:
    return {"actor": actor.prefix, "role": actor.role.value, "operator": actor.operator_id}
