"""An API with a database and two operators (A, B) and their keys, for the feed tests."""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from tests.feeds import BASE
from transit.accounts import service as accounts
from transit.accounts.scope import CLI
from transit.app import create_app
from transit.clock import FixedClock
from transit.settings import Settings

AT = "2026-03-02T08:00:00+01:00"
ST_HEAD = "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
TRIPS_HEAD = "route_id,service_id,trip_id,trip_headsign\n"


def feed_zip(files: dict[str, str | None] | None = None, folder: str = "") -> bytes:
    content = dict(BASE)
    for name, text in (files or {}).items():
        if text is None:
            content.pop(name, None)
        else:
            content[name] = text
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in content.items():
            zf.writestr(folder + name, text)
    return buf.getvalue()


def trips(n: int, prefix: str = "T") -> dict[str, str]:
    """A feed of n trips S1 -> S3, one a minute from 08:00."""
    return {
        "trips.txt": TRIPS_HEAD + "".join(f"R1,DAILY,{prefix}{i},Third\n" for i in range(n)),
        "stop_times.txt": ST_HEAD + "".join(
            f"{prefix}{i},08:{i:02d}:00,08:{i:02d}:00,S1,1\n"
            f"{prefix}{i},08:{i + 20:02d}:00,08:{i + 20:02d}:00,S3,2\n" for i in range(n)),
    }


@dataclass
class Api:
    client: TestClient
    keys: dict[str, str]  # "A", "A-viewer", "B", "admin", "A-revoked"
    data: Path

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def upload(self, op: str, body: bytes, who: str | None = None,
               name: str = "feed.zip") -> httpx.Response:
        return self.client.post(f"/v1/operators/{op}/feeds", headers=self.auth(who or op),
                                files={"file": (name, body, "application/zip")})

    def wait(self, op: str, version: str, who: str | None = None,
             timeout_s: float = 60.0) -> dict:
        deadline = time.monotonic() + timeout_s
        while True:
            r = self.client.get(f"/v1/operators/{op}/feeds/{version}",
                                headers=self.auth(who or op))
            assert r.status_code == 200, r.text
            if r.json()["status"] != "validating" and r.json()["progress"] in ("done", "failed"):
                return r.json()  # its preview is built too
            assert time.monotonic() < deadline, r.json()
            time.sleep(0.05)

    def staged(self, op: str, body: bytes) -> dict:
        r = self.upload(op, body)
        assert r.status_code == 202, r.text
        return self.wait(op, r.json()["id"])

    def publish(self, op: str, version: str, force: bool = False) -> httpx.Response:
        return self.client.post(f"/v1/operators/{op}/feeds/{version}/publish"
                                + ("?force=true" if force else ""), headers=self.auth(op))

    def departures(self, stop: str = "A:S1", headers: dict[str, str] | None = None,
                   **params: str) -> httpx.Response:
        return self.client.get(f"/v1/stops/{stop}/departures", headers=headers or {},
                               params={"at": "2026-03-02T07:59:00+01:00", "limit": 100,
                                       **params})

    def trip_ids(self, stop: str = "A:S1", headers: dict[str, str] | None = None,
                 **params: str) -> list[str]:
        r = self.departures(stop, headers, **params)
        assert r.status_code == 200, r.text
        return [d["trip_id"] for d in r.json()["departures"]]


@contextmanager
def api_for(db_url: str, tmp_path: Path, **settings: object) -> Iterator[Api]:
    data = tmp_path / "data"
    values: dict[str, object] = {
        "data_dir": data, "database_url": db_url, "rate_limit_per_minute": 0,
        "catalog": tmp_path / "no-catalog.toml", "realtime_poll": False,
        "reload_interval_s": 0, **settings}
    app = create_app(Settings(**values),  # type: ignore[arg-type]
                     clock=FixedClock(datetime.fromisoformat(AT)))
    with TestClient(app) as client:
        db = app.state.db
        keys = {}
        for op in ("A", "B"):
            accounts.create_operator(db, op, f"Operator {op}", CLI)
            keys[op] = accounts.create_key(db, op, "publisher", CLI).token
        keys["A-viewer"] = accounts.create_key(db, "A", "viewer", CLI).token
        keys["A-realtime"] = accounts.create_key(db, "A", "realtime", CLI).token
        revoked = accounts.create_key(db, "A", "publisher", CLI)
        accounts.revoke_key(db, "A", revoked.info.id, CLI)
        keys["A-revoked"] = revoked.token
        keys["admin"] = accounts.create_key(db, None, "admin", CLI).token
        yield Api(client, keys, data)


def staged_version(app: object, op: str, body: bytes | None = None) -> str:
    """A version of `op` staged through the service (no key needed), once its job ran."""
    import hashlib
    import tempfile

    from transit.publishing.service import Upload

    versions = app.state.feed_versions  # type: ignore[attr-defined]
    data = body if body is not None else feed_zip()
    with tempfile.NamedTemporaryFile(suffix=".zip", delete=False) as fh:
        fh.write(data)
    upload = Upload(Path(fh.name), hashlib.sha256(data).hexdigest(), len(data))
    row = versions.create(op, upload, CLI)
    app.state.job_runner.wake()  # type: ignore[attr-defined]
    deadline = time.monotonic() + 60
    while (status := versions.get(op, row.id).status) == "validating":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert status == "staged", versions.get(op, row.id).report
    return row.id


def published_twice(app: object, op: str) -> None:
    """Two versions of `op` published one after the other, so a rollback has a target."""
    versions = app.state.feed_versions  # type: ignore[attr-defined]
    for _ in range(2):
        job = versions.request_publish(op, staged_version(app, op), CLI)
        app.state.job_runner.wake()  # type: ignore[attr-defined]
        done = versions.wait(job, 60)
        assert done is not None and done.status == "done", done and done.error
