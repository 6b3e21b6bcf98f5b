"""Publishing against a real server: uvicorn with two workers, a load loop reading
departures while an operator publishes and rolls back. No request may fail, and every
worker serves the new version within 2 s of the publish answer. Also, on the real server:
a body over the limit is refused before it is read, and a zip bomb costs little memory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import build
from tests.feeds import BASE, write_feed
from tests.publishing_support import AT, feed_zip, trips
from tests.zip_bombs import Member, MiB, feed_members, write_zip
from transit.accounts import service as accounts
from transit.accounts.scope import CLI
from transit.db import migrate
from transit.db.engine import Database, default_url

ROOT = Path(__file__).resolve().parents[1]
SWITCH_S = 2.0
LIMIT = 20 * MiB


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    port: int
    key: str
    proc: subprocess.Popen[bytes]

    def workers(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True,
                             text=True).stdout
        return [int(p) for p in out.split()]

    def peak_rss_mib(self) -> dict[int, float]:
        """VmHWM (peak resident memory) of each worker process."""
        peaks = {}
        for pid in self.workers():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks[pid] = int(line.split()[1]) / 1024
            except FileNotFoundError:
                pass
        return peaks


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    data = tmp_path / "data"
    build({"A": write_feed(tmp_path / "a", {})}, data)
    db = Database(default_url(data))
    migrate.upgrade(db)
    accounts.create_operator(db, "A", "Operator A", CLI)
    key = accounts.create_key(db, "A", "publisher", CLI).token
    db.dispose()
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TRANSIT_DATA_DIR": str(data),
           "TRANSIT_CLOCK": AT, "TRANSIT_RATE_LIMIT_PER_MINUTE": "0",
           "TRANSIT_CATALOG": str(tmp_path / "no-catalog.toml"),
           "TRANSIT_REALTIME_POLL": "false", "TRANSIT_MAX_FEED_BYTES": str(LIMIT)}
    env.pop("TRANSIT_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "transit.app:app_from_env",
         "--host", "127.0.0.1", "--port", str(port), "--workers", "2",
         "--log-level", "warning"], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        ready = 0
        while ready < 10:  # several answers in a row: both workers are up
            assert time.monotonic() < deadline, "server did not become ready"
            try:
                ok = httpx.get(f"{url}/readyz", timeout=2).status_code == 200
            except httpx.TransportError:
                ok = False
            ready = ready + 1 if ok else 0
            time.sleep(0.1)
        yield Server(url, port, key, proc)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@dataclass
class Load:
    """Threads reading departures (each with its own connections) until stopped."""

    url: str
    seen: list[tuple[float, int, tuple[str, ...]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                with httpx.Client(base_url=self.url, timeout=10) as http:  # new connection
                    for _ in range(5):
                        r = http.get("/v1/stops/A:S1/departures", params={
                            "at": "2026-03-02T07:59:00+01:00", "limit": 50})
                        trip_ids = tuple(d["trip_id"] for d in r.json()["departures"]) \
                            if r.status_code == 200 else ()
                        self.seen.append((time.monotonic(), r.status_code, trip_ids))
            except (httpx.HTTPError, ValueError) as exc:
                self.errors.append(f"{type(exc).__name__}: {exc}")


def _switch(load: Load, answered: float, new: tuple[str, ...]) -> float:
    """Seconds from the answer to the last response still showing something else."""
    late = [t for t, _, ids in load.seen if t > answered and ids != new]
    return max(late) - answered if late else 0.0


def _staged(http: httpx.Client, body: bytes) -> str:
    r = http.post("/v1/operators/A/feeds", files={"file": ("feed.zip", body)})
    assert r.status_code == 202, r.text
    version = r.json()["id"]
    deadline = time.monotonic() + 60
    while (status := http.get(f"/v1/operators/A/feeds/{version}").json()["status"]) \
            == "validating":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert status == "staged"
    return version


def test_publish_and_rollback_under_load_with_two_workers(server: Server) -> None:
    load = Load(server.url)
    threads = [threading.Thread(target=load.run) for _ in range(4)]
    for t in threads:
        t.start()
    auth = {"Authorization": f"Bearer {server.key}"}
    switches = []
    try:
        with httpx.Client(base_url=server.url, headers=auth, timeout=120) as http:
            time.sleep(1.0)
            v1 = _staged(http, feed_zip(trips(3)))
            r = http.post(f"/v1/operators/A/feeds/{v1}/publish")
            answered = time.monotonic()
            assert r.status_code == 200, r.text
            time.sleep(SWITCH_S + 1.0)
            switches.append(_switch(load, answered, ("A:T0", "A:T1", "A:T2")))
            v2 = _staged(http, feed_zip(trips(5)))
            r = http.post(f"/v1/operators/A/feeds/{v2}/publish")
            answered = time.monotonic()
            assert r.status_code == 200, r.text
            time.sleep(SWITCH_S + 1.0)
            switches.append(_switch(load, answered, tuple(f"A:T{i}" for i in range(5))))
            r = http.post("/v1/operators/A/feeds/rollback")
            answered = time.monotonic()
            assert r.status_code == 200 and r.json()["id"] == v1, r.text
            time.sleep(SWITCH_S + 1.0)
            switches.append(_switch(load, answered, ("A:T0", "A:T1", "A:T2")))
    finally:
        load.stop.set()
        for t in threads:
            t.join(30)
    statuses = {s for _, s, _ in load.seen}
    print(f"{len(load.seen)} requests, switch after the answer: "
          f"{', '.join(f'{s:.2f} s' for s in switches)}")
    assert load.errors == []
    assert statuses == {200}
    assert len(load.seen) > 100
    assert all(s <= SWITCH_S for s in switches), switches


def test_a_body_over_the_limit_is_refused_before_it_is_read(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall((f"POST /v1/operators/A/feeds HTTP/1.1\r\nHost: x\r\n"
                   f"Authorization: Bearer {server.key}\r\n"
                   "Content-Type: multipart/form-data; boundary=b\r\n"
                   f"Content-Length: {10 * LIMIT}\r\n\r\n").encode() + b"--b\r\n")
        answer = ""  # with 1 KB of the 200 MB sent
        while "over the limit" not in answer and (chunk := s.recv(65536)):
            answer += chunk.decode(errors="replace")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert f"over the limit of {LIMIT} bytes" in answer


def test_zip_bombs_cost_the_server_little_memory(server: Server, tmp_path: Path) -> None:
    auth = {"Authorization": f"Bearer {server.key}"}
    before = server.peak_rss_mib()
    rows = ("T1,08:00:00,08:00:00,S1,1\n" * 40_000).encode()
    without_stop_times = {n: t for n, t in BASE.items() if n != "stop_times.txt"}
    bomb = write_zip(tmp_path / "bomb.zip", [  # 4 MB that says it expands to 4 GiB
        *feed_members(BASE), Member("padding.bin", b"\0" * MiB, 4095)]).read_bytes()
    lying = write_zip(tmp_path / "lying.zip", [  # says 10 MiB, expands to 1.5 GiB
        *feed_members(without_stop_times),
        Member("stop_times.txt", rows, 1536 * MiB // len(rows), declared_size=10 * MiB)
    ]).read_bytes()
    with httpx.Client(base_url=server.url, headers=auth, timeout=120) as http:
        r = http.post("/v1/operators/A/feeds", files={"file": ("bomb.zip", bomb)})
        assert r.status_code == 422 and r.json()["code"] == "member_too_large", r.text
        r = http.post("/v1/operators/A/feeds", files={"file": ("lying.zip", lying)})
        assert r.status_code == 202, r.text
        version = r.json()["id"]
        deadline = time.monotonic() + 120
        while (v := http.get(f"/v1/operators/A/feeds/{version}").json())["status"] \
                == "validating":
            assert time.monotonic() < deadline
            time.sleep(0.2)
    assert v["status"] == "rejected"
    assert v["report"]["notices"][0]["file"] == "stop_times.txt"
    after = server.peak_rss_mib()
    grown = max(after[p] - before.get(p, after[p]) for p in after)
    print(f"worker peak RSS before {before}, after {after}: +{grown:.0f} MiB at most")
    assert grown < 100, (before, after)
