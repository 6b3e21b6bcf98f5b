"""A serving worker: it imports no ingest-only library, and logs requests only when asked.

gtfs-kit (with pandas, geopandas, shapely, pyproj, folium) reads and compiles feeds; a
worker that imported it for an ingest-time function held ~65 MiB more private memory. A
real uvicorn server of the demo network is started in a subprocess, answers departures,
journeys, trips and live-data requests (a GTFS-RT push included), and then lists its
`sys.modules`. TRANSIT_ACCESS_LOG (default off) decides whether uvicorn logs a line per
request."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from tests.conftest import DEMO_CATALOG
from tests.realtime_support import _clean_env, feed, free_port, stu, trip_update

NOW = "2026-11-26T08:00:00+01:00"  # a Thursday morning
INGEST_ONLY = ("gtfs_kit", "pandas", "geopandas", "shapely", "pyproj", "folium", "pyarrow")
# an HTTP client is loaded by a process that fetches a feed, polls GTFS-RT or sends a webhook
CLIENT_ONLY = ("httpx", "rich")

SERVER = textwrap.dedent("""
    import json, sys, threading
    import uvicorn
    server = uvicorn.Server(uvicorn.Config(
        "transit.app:app_from_env", factory=True, host="127.0.0.1",
        port=int(sys.argv[1]), log_level="info"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    sys.stdin.readline()  # the test has made its requests
    print(json.dumps(sorted(sys.modules)), flush=True)
    server.should_exit = True
    thread.join(30)
""")


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@contextmanager
def serving(demo_whole: Path, workdir: Path, **env: str
            ) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A uvicorn server of the demo network in a subprocess (stderr, where uvicorn logs, to
    workdir/server.log; the access log goes to stdout); writing a line to its stdin makes
    it print its sys.modules as its last line and stop."""
    port = free_port()
    full_env = _clean_env({
        "TRANSIT_DATA_DIR": str(demo_whole), "TRANSIT_CATALOG": str(DEMO_CATALOG),
        "TRANSIT_CLOCK": NOW, "TRANSIT_RATE_LIMIT_PER_MINUTE": "0",
        "TRANSIT_REALTIME_POLL": "false", "TRANSIT_PUSH_KEYS": '{"RR": "rr-secret"}', **env})
    with (workdir / "server.log").open("w") as log:
        proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], cwd=workdir,
                                env=full_env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=log, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # a cold numba cache compiles the kernels first
        while not _ready(url):
            assert proc.poll() is None, (workdir / "server.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the server did not start within 300 s"
            time.sleep(0.1)
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_serving_imports_no_ingest_library(demo_whole: Path, tmp_path: Path) -> None:
    with serving(demo_whole, tmp_path) as (proc, url):
        _serve_requests(url)
        out, _ = proc.communicate("go\n", timeout=60)
    loaded = set(json.loads(out.splitlines()[-1]))
    assert "transit.app" in loaded and "transit.routing.raptor" in loaded
    assert sorted(m for m in loaded if m.split(".")[0] in INGEST_ONLY) == []
    assert sorted(m for m in loaded if m.split(".")[0] in CLIENT_ONLY) == []


def _serve_requests(url: str) -> None:
    """Departures, journeys, trips and live data, after a GTFS-RT push that delays a trip."""
    ts = int(datetime.fromisoformat(NOW).timestamp())
    late = feed(trip_update("e1", "A-OUT-0800", start_date="20261126",
                            updates=[stu(1, arr={"delay": 120}, dep={"delay": 120})]), ts=ts)
    r = httpx.post(f"{url}/v1/operators/RR/realtime", content=late.SerializeToString(),
                   headers={"Authorization": "Bearer rr-secret"}, timeout=60)
    assert r.status_code == 202, r.text
    board = httpx.get(f"{url}/v1/stops/RR:CEN1/departures", params={"limit": 5}, timeout=60).json()
    first = next(d for d in board["departures"] if d["trip_id"] == "RR:A-OUT-0800")
    assert first["delay_s"] == 120 and first["status"] == "delayed"
    gets = [
        ("/v1/stations/RR:CEN/departures", {}),
        ("/v1/departures", {"lat": 50.45, "lon": 3.95, "radius": 500}),
        ("/v1/journeys", {"from": "RR:CEN1", "to": "RR:AIR", "depart_at": NOW}),
        ("/v1/journeys", {"from": "50.44,3.93", "to": "RR:HAR", "depart_at": NOW,
                          "window": 30}),
        ("/v1/journeys", {"from": "RR:CEN", "to": "RR:HAR", "arrive_by":
                          "2026-11-26T09:00:00+01:00"}),
        ("/v1/trips/RR:A-OUT-0800", {"date": "2026-11-26"}),
        ("/v1/stops", {"q": "harbour"}),
        ("/v1/vehicles", {"lat": 50.45, "lon": 3.95, "radius": 5000}),
        ("/v1/alerts", {}),
        ("/v1/gtfs-rt/trip-updates", {"format": "json"}),
        ("/v1/operators/RR/realtime", {}),
    ]
    for path, params in gets:
        r = httpx.get(f"{url}{path}", params=params, timeout=60)
        assert r.status_code == 200, (path, r.text)
    journeys = httpx.get(f"{url}/v1/journeys", params=gets[2][1], timeout=60).json()["journeys"]
    assert journeys and journeys[0]["legs"][-1]["to"]["stop_id"] == "RR:AIR"


@pytest.mark.parametrize(("setting", "lines"), [(None, 0), ("false", 0), ("true", 2)])
def test_access_log_is_a_setting(demo_whole: Path, tmp_path: Path, setting: str | None,
                                 lines: int) -> None:
    """Off unless TRANSIT_ACCESS_LOG=true: then one line per request, with its status."""
    env = {} if setting is None else {"TRANSIT_ACCESS_LOG": setting}
    with serving(demo_whole, tmp_path, **env) as (proc, url):
        assert httpx.get(f"{url}/v1/stops/RR:CEN1").status_code == 200
        assert httpx.get(f"{url}/v1/stops/RR:NOPE").status_code == 404
        out, _ = proc.communicate("go\n", timeout=60)
    logged = [ln for ln in out.splitlines() if '"GET /v1/stops/' in ln]
    assert len(logged) == lines, out
    if lines:
        assert "/v1/stops/RR:CEN1 HTTP/1.1\" 200" in logged[0]
        assert "/v1/stops/RR:NOPE HTTP/1.1\" 404" in logged[1]
    # the server's own log stays
    assert "Application startup complete" in (tmp_path / "server.log").read_text()
