"""`transit serve --workers N`: workers forked from a parent that loaded the code and the
timetable once, restarted when they die, stopped together.

A real server of the demo network in a subprocess: its workers are the parent's children
in /proc; one is killed with `kill -9` while requests keep coming, and every request on a
new connection is answered while the parent starts another; SIGTERM to the parent ends them all."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import DEMO_CATALOG
from tests.realtime_support import _clean_env, free_port

NOW = "2026-11-26T08:00:00+01:00"  # a Thursday morning
BOARD = "/v1/stops/RR:CEN1/departures"


def _children(pid: int) -> list[int]:
    return sorted(int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture
def server(demo_whole: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, Path]]:
    port = free_port()
    env = _clean_env({"TRANSIT_RATE_LIMIT_PER_MINUTE": "0", "TRANSIT_REALTIME_POLL": "false"})
    log = tmp_path / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "transit", "serve", "--data-dir", str(demo_whole),
             "--catalog", str(DEMO_CATALOG), "--clock", NOW, "--workers", "2",
             "--port", str(port)], cwd=tmp_path, env=env, stdout=out, stderr=out, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # a cold numba cache compiles the kernels first
        while not (_ready(url) and len(_children(proc.pid)) == 2):
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the server did not start within 300 s"
            time.sleep(0.1)
        yield proc, url, log
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_forked_workers_answer_alike_and_one_killed_is_replaced(
        server: tuple[subprocess.Popen[str], str, Path]) -> None:
    proc, url, log = server
    first = _children(proc.pid)
    assert len(first) == 2
    with httpx.Client(base_url=url, timeout=30) as client:
        boards = [client.get(BOARD, params={"limit": 3}) for _ in range(20)]
        assert [b.status_code for b in boards] == [200] * 20
        assert len({b.text for b in boards}) == 1  # both workers serve one version alike
        deps = boards[0].json()["departures"]
        assert [d["trip_id"] for d in deps] == ["RR:A-OUT-0800", "RR:A-OUT-0830",
                                               "RR:A-OUT-0900"]
        os.kill(first[0], signal.SIGKILL)
        statuses = []
        deadline = time.monotonic() + 60
        while True:
            # a new connection each time: one kept alive to the killed worker dies with it
            statuses.append(httpx.get(url + BOARD, params={"limit": 3}, timeout=30).status_code)
            now = _children(proc.pid)
            if len(now) == 2 and first[0] not in now:
                break
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.02)
        assert set(statuses) == {200}  # the other worker answered meanwhile
        after = httpx.get(url + BOARD, params={"limit": 3}, timeout=30)
        assert after.status_code == 200 and after.text == boards[0].text
    replaced = (set(_children(proc.pid)) - set(first)).pop()
    ready = re.compile(rf"worker {replaced} ready \d+\.\d\d s after its fork")
    deadline = time.monotonic() + 60
    while not ready.search(log.read_text()):
        assert time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.05)
    assert f"worker {first[0]} ended (signal SIGKILL); starting another" in log.read_text()


def test_sigterm_stops_the_parent_and_every_worker(
        server: tuple[subprocess.Popen[str], str, Path]) -> None:
    proc, url, _ = server
    workers = _children(proc.pid)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(
            f"/proc/{pid}/stat").read_text().split()[2]
    assert not _ready(url)
