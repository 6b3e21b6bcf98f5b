"""A small durable job queue in the database, so background work survives a crash.

A runner claims the oldest job it may run with a lease (`lease_until`), renews the lease
while it works, and marks the job done or failed. A job whose runner died keeps its lease
until it expires; then any runner claims it again. Jobs sharing a `key` (an operator's
uploads and publishes) run one at a time in order: a job is claimable only when no older
job of its key is queued or running.

The claim is a compare-and-set UPDATE (it succeeds for one runner only, on any backend);
on PostgreSQL the candidate is first read with FOR UPDATE SKIP LOCKED, so runners of many
processes do not queue behind one another's row locks.
"""

from __future__ import annotations

import logging
import threading
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import aliased

from transit.background import Worker
from transit.db.engine import Database
from transit.db.models import JobRow

log = logging.getLogger("transit.jobs")

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    key: str
    payload: dict[str, Any]
    attempts: int


def _now() -> datetime:
    return datetime.now(UTC)


def enqueue(db: Database, kind: str, key: str, payload: dict[str, Any]) -> int:
    with db.session() as s:
        row = JobRow(kind=kind, key=key, payload=payload, status=QUEUED, attempts=0,
                     created_at=_now())
        s.add(row)
        s.flush()
        return row.id


def _claimable(now: datetime) -> Any:
    older = aliased(JobRow)
    blocked = exists().where(and_(
        older.key == JobRow.key, older.id < JobRow.id,
        or_(older.status == QUEUED, older.status == RUNNING)))
    free = or_(JobRow.status == QUEUED,
               and_(JobRow.status == RUNNING, JobRow.lease_until < now))
    return and_(free, ~blocked)


def claim(db: Database, worker: str, lease_s: float) -> Job | None:
    """The oldest job this worker may run now, leased to it; None when there is none."""
    now = _now()
    with db.session() as s:
        query = select(JobRow.id).where(_claimable(now)).order_by(JobRow.id).limit(1)
        if not db.is_sqlite:
            query = query.with_for_update(skip_locked=True, of=JobRow)
        job_id = s.scalars(query).first()
        if job_id is None:
            return None
        done = s.execute(
            update(JobRow).where(JobRow.id == job_id, _claimable(now)).values(
                status=RUNNING, lease_until=now + timedelta(seconds=lease_s),
                locked_by=worker, attempts=JobRow.attempts + 1)
            .execution_options(synchronize_session=False))
        if done.rowcount != 1:  # another runner got it first
            return None
        row = s.get(JobRow, job_id)
        assert row is not None
        s.refresh(row)
        return Job(row.id, row.kind, row.key, dict(row.payload), row.attempts)


def renew(db: Database, job_id: int, worker: str, lease_s: float) -> bool:
    """Extend the lease; False when the job is no longer this worker's."""
    with db.session() as s:
        done = s.execute(update(JobRow).where(
            JobRow.id == job_id, JobRow.locked_by == worker, JobRow.status == RUNNING).values(
            lease_until=_now() + timedelta(seconds=lease_s)))
        return done.rowcount == 1


def finish(db: Database, job_id: int, worker: str, result: dict[str, Any] | None = None,
           error: str | None = None) -> None:
    with db.session() as s:
        s.execute(update(JobRow).where(JobRow.id == job_id, JobRow.locked_by == worker)
                  .values(status=FAILED if error else DONE, finished_at=_now(),
                          lease_until=None, result=result, error=error and error[:2000]))


def get(db: Database, job_id: int) -> JobRow | None:
    with db.session() as s:
        return s.get(JobRow, job_id)


Handler = Callable[[Job], dict[str, Any] | None]


class Runner:
    """A thread that runs the jobs of this process (one API process or a worker).

    `handlers[kind](job)` does the work; an exception fails the job after MAX_ATTEMPTS
    claims (each claim after a crash counts), the handler's `on_failure` hook, if any,
    records what the job's owner should see.
    """

    def __init__(self, db: Database, handlers: dict[str, Handler], lease_s: float = 60.0,
                 poll_s: float = 0.5,
                 on_failure: Callable[[Job, str], None] | None = None) -> None:
        self.db = db
        self.handlers = handlers
        self.lease_s = lease_s
        self.poll_s = poll_s
        self.on_failure = on_failure
        self.worker = f"{uuid.uuid4().hex[:12]}"
        # a job done: the next at once; none: poll again; the database away (or not
        # migrated): logged once, polled again with a doubling pause up to 30 s
        self.background = Worker("transit-jobs", self.run_once, poll_s, backoff=True,
                                 max_pause_s=30.0, logger=log)

    def start(self) -> None:
        self.background.start()

    def wake(self) -> None:
        """Look for work now (a job was just queued by this process)."""
        self.background.wake()

    def stop(self, timeout: float = 30.0) -> None:
        self.background.stop(timeout)

    def run_once(self) -> bool:
        """Claim and run one job; False when there was none."""
        job = claim(self.db, self.worker, self.lease_s)
        if job is None:
            return False
        beat_stop = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(job.id, beat_stop), daemon=True)
        beat.start()
        try:
            handler = self.handlers.get(job.kind)
            if handler is None:
                raise LookupError(f"no handler for jobs of kind {job.kind!r}")
            result = handler(job)
        except Exception as exc:
            detail = "".join(traceback.format_exception_only(exc)).strip()
            log.error("job %s (%s) failed: %s", job.id, job.kind, detail)
            if job.attempts >= MAX_ATTEMPTS or not _retryable(exc):
                if self.on_failure is not None:
                    self.on_failure(job, detail)
                finish(self.db, job.id, self.worker, error=detail)
            else:  # give it back at once for another attempt
                with self.db.session() as s:
                    s.execute(update(JobRow).where(JobRow.id == job.id).values(
                        status=QUEUED, lease_until=None, locked_by=None, error=detail))
        else:
            finish(self.db, job.id, self.worker, result)
        finally:
            beat_stop.set()
        return True

    def _heartbeat(self, job_id: int, stop: threading.Event) -> None:
        while not stop.wait(self.lease_s / 3):
            try:
                renew(self.db, job_id, self.worker, self.lease_s)
            except Exception:
                log.exception("renewing the lease of job %s", job_id)


def _retryable(exc: Exception) -> bool:
    """Errors of the job's own input are final; others (I/O, the database) may pass."""
    return isinstance(exc, OSError | ConnectionError) or type(exc).__module__.startswith(
        "sqlalchemy")
