"""The command line, re-ingesting one operator, hot swap, and a real server with 2 workers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from tests.conftest import DEMO_CATALOG, client_for
from tests.feeds import write_feed
from transit.cli import app as cli
from transit.timetable.store import Store

STOP_TIMES = "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
runner = CliRunner()


def ingest_cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["ingest", *args])
    return result.exit_code, result.output


def test_ingest_with_feeds_on_the_command_line(tmp_path: Path) -> None:
    a = write_feed(tmp_path / "a", {})
    b = write_feed(tmp_path / "b", {}, zipped=False)
    data = tmp_path / "data"
    code, out = ingest_cli("--data-dir", str(data), "--feed", f"A={a}", "--feed", f"B={b}")
    assert code == 0, out
    assert "2 operators, 6 stops" in out
    assert "(read A, B; reused none)" in out
    # unchanged feeds are reused; --operator forces a re-read of that one only
    code, out = ingest_cli("--data-dir", str(data), "--feed", f"A={a}", "--feed", f"B={b}")
    assert "(read none; reused A, B)" in out
    code, out = ingest_cli("--data-dir", str(data), "--feed", f"A={a}", "--feed", f"B={b}",
                           "--operator", "B")
    assert "(read B; reused A)" in out
    # a changed feed is noticed by its content
    write_feed(tmp_path / "b", {"stop_times.txt": STOP_TIMES + "T1,09:00:00,09:00:00,S1,1\n"
                                "T1,09:30:00,09:30:00,S3,2\n"}, zipped=False)
    code, out = ingest_cli("--data-dir", str(data), "--feed", f"A={a}", "--feed", f"B={b}")
    assert "(read B; reused A)" in out


def test_ingest_errors_are_reported_and_publish_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    good = write_feed(tmp_path / "good", {})
    assert ingest_cli("--data-dir", str(data), "--feed", f"A={good}")[0] == 0
    version = Store(data).current_version()
    bad = write_feed(tmp_path / "bad", {"stop_times.txt": STOP_TIMES + "T1,8h,8h,S1,1\n"})
    code, out = ingest_cli("--data-dir", str(data), "--feed", f"A={bad}")
    assert code == 2
    assert "stop_times.txt line 2 field arrival_time: not a time HH:MM:SS (value '8h')" in out
    assert "nothing was published" in out
    assert Store(data).current_version() == version
    code, out = ingest_cli("--data-dir", str(data), "--feed", "bad id=x.zip")
    assert code == 2 and "operator id 'bad id' must be" in out
    code, out = ingest_cli("--data-dir", str(data), "--feed", f"A={tmp_path / 'none.zip'}")
    assert code == 2 and "none.zip does not exist" in out


def test_catalog_ingest_of_the_demo(tmp_path: Path) -> None:
    code, out = ingest_cli("--data-dir", str(tmp_path), "--catalog", str(DEMO_CATALOG))
    assert code == 0, out
    assert "3 operators, 11 stops, 6 stations, 204 trips, 690 stop_times" in out


def test_a_running_server_swaps_to_a_new_version_without_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    feed = write_feed(tmp_path / "a", {})
    ingest_cli("--data-dir", str(data), "--feed", f"A={feed}")
    with client_for(data, "2026-06-01T07:00:00+02:00", reload_interval_s=0) as c:
        def first() -> str:
            return c.get("/v1/stops/A:S1/departures").json()["departures"][0][
                "scheduled_departure"]

        assert first() == "2026-06-01T08:00:00+02:00"
        write_feed(tmp_path / "a", {"stop_times.txt": STOP_TIMES + "T1,07:30:00,07:30:00,S1,1\n"
                                    "T1,07:45:00,07:45:00,S3,2\n"})
        assert ingest_cli("--data-dir", str(data), "--feed", f"A={feed}")[0] == 0
        assert first() == "2026-06-01T07:30:00+02:00"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_transit_serve_runs_a_real_server_with_two_workers(tmp_path: Path) -> None:
    port = _free_port()
    feed = write_feed(tmp_path / "a", {})
    env = {**os.environ, "TRANSIT_RATE_LIMIT_PER_MINUTE": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "transit", "serve", "--data-dir", str(tmp_path / "data"),
         "--feed", f"A={feed}", "--port", str(port), "--workers", "2",
         "--clock", "2026-06-01T07:00:00+02:00"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        else:
            raise AssertionError("server did not become ready")
        with httpx.Client(base_url=url) as http:
            answers = {http.get("/v1/stops/A:S1/departures").json()["departures"][0][
                "scheduled_departure"] for _ in range(20)}
        assert answers == {"2026-06-01T08:00:00+02:00"}
    finally:
        proc.terminate()
        proc.wait(timeout=20)
