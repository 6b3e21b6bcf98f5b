"""Live data across real processes: uvicorn API servers (subprocesses, 127.0.0.1 only)
sharing Redis.

1. Two servers on the machine's Redis (TRANSIT_REDIS_URL, a prefix of this test's own): a
   push through one is on the other's departure board within 1 s, both ways.
2. A server on a redis-server of the test's own: the Redis process is stopped mid-test,
   the API keeps answering with the schedule (realtime.available false with a reason, no
   live times, pushes refused with 503), then Redis comes back on the same port (empty) and
   live data returns: available again, the delay pushed before the outage written back by
   the server (no new push), and a new push is on the board within seconds.

Every wait is bounded; every process is stopped in a finally."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import catalog_of
from tests.feeds import write_feed
from tests.realtime_support import (
    SMALL_FEED,
    api_servers,
    drop_prefix,
    event,
    eventually,
    feed,
    free_port,
    redis_server_binary,
    redis_url,
    start_redis_server,
    stop_process,
    stu,
    trip_update,
    unique_prefix,
)
from transit.ingest.pipeline import ingest
from transit.timetable.store import Store

CLOCK = "2026-03-10T07:50:00+01:00"
CLOCK_TS = 1773125400  # CLOCK as Unix time
KEY = "k"
VISIBLE_WITHIN_S = 1.0


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rt-processes")
    ingest(catalog_of({"A": write_feed(root / "a", SMALL_FEED)}), Store(root / "data"))
    return root / "data"


def env_for(url: str, prefix: str) -> dict[str, str]:
    return {"TRANSIT_REDIS_URL": url, "TRANSIT_REDIS_PREFIX": prefix,
            "TRANSIT_PUSH_KEYS": json.dumps({"A": KEY}), "TRANSIT_CLOCK": CLOCK,
            "TRANSIT_REALTIME_POLL": "false", "TRANSIT_RATE_LIMIT_PER_MINUTE": "0"}


def t1_feed(delay: int) -> bytes:
    return feed(trip_update("e1", "T1", start_date="20260310",
                            updates=[stu(10, "S1", dep=event(delay=delay))]),
                ts=CLOCK_TS - 5).SerializeToString()


def push(http: httpx.Client, base: str, body: bytes) -> httpx.Response:
    return http.post(f"{base}/v1/operators/A/realtime", content=body,
                     headers={"Authorization": f"Bearer {KEY}",
                              "Content-Type": "application/x-protobuf"})


def board(http: httpx.Client, base: str) -> dict[str, Any]:
    r = http.get(f"{base}/v1/stops/A:S1/departures",
                 params={"at": "2026-03-10T07:55:00+01:00", "window": 90})
    assert r.status_code == 200, r.text
    return r.json()


def t1_delay(http: httpx.Client, base: str) -> Any:
    rows = [d for d in board(http, base)["departures"] if d["trip_id"] == "A:T1"]
    assert len(rows) == 1
    return rows[0]["delay_s"]


def wait_for(probe: Callable[[], Any], timeout: float, what: str) -> float:
    """Seconds until probe() is truthy (polling every 10 ms), failing after timeout."""
    t0 = time.monotonic()
    eventually(probe, timeout=timeout, interval=0.01, what=what)
    return time.monotonic() - t0


def test_push_through_one_process_is_visible_in_the_other(data_dir: Path,
                                                          tmp_path: Path) -> None:
    url = redis_url()
    prefix = unique_prefix("processes")
    try:
        with api_servers(2, data_dir, tmp_path, env_for(url, prefix)) as (one, two), \
                httpx.Client(timeout=5.0) as http:
            for s in (one, two):  # both follow Redis before the first push
                eventually(lambda s=s: http.get(f"{s.url}/v1/operators/A/realtime")
                           .json()["available"], 10, what=f"{s.url} live data up")
            assert t1_delay(http, two.url) is None
            for delay, writer, reader in ((120, one, two), (300, two, one), (0, one, two)):
                r = push(http, writer.url, t1_feed(delay))
                assert r.status_code == 202, r.text
                took = wait_for(lambda d=delay, rd=reader: t1_delay(http, rd.url) == d,
                                timeout=5.0, what=f"delay {delay} on the other process")
                assert took < VISIBLE_WITHIN_S, f"visible after {took:.3f} s"
            for s in (one, two):
                st = http.get(f"{s.url}/v1/operators/A/realtime").json()
                tu = next(f for f in st["feeds"] if f["kind"] == "trip-updates")
                assert (tu["entities"], tu["applied"], tu["rejected"]) == (1, 1, {})
                assert tu["last_success"] is not None
    finally:
        drop_prefix(url, prefix)


def test_redis_outage_keeps_schedules_and_live_data_returns(data_dir: Path,
                                                            tmp_path: Path) -> None:
    redis_server_binary()
    port = free_port()
    redis_proc = start_redis_server(port, tmp_path / "redis")
    try:
        env = env_for(f"redis://127.0.0.1:{port}/0", unique_prefix("outage"))
        with api_servers(1, data_dir, tmp_path, env) as (api,), \
                httpx.Client(timeout=5.0) as http:
            eventually(lambda: http.get(f"{api.url}/v1/operators/A/realtime")
                       .json()["available"], 10, what="live data up")
            assert push(http, api.url, t1_feed(120)).status_code == 202
            wait_for(lambda: t1_delay(http, api.url) == 120, 5.0, "first push on the board")

            stop_process(redis_proc)  # Redis goes away mid-test

            def unavailable() -> bool:
                return board(http, api.url)["realtime"]["available"] is False

            wait_for(unavailable, 10.0, "realtime.available false")
            b = board(http, api.url)
            assert b["realtime"]["reason"], b["realtime"]
            assert b["departures"], "the schedule is still served"
            assert all(d["realtime_departure"] is None and d["delay_s"] is None
                       and d["status"] == "scheduled" for d in b["departures"])
            r = http.get(f"{api.url}/v1/trips/A:T1", params={"date": "2026-03-10"})
            assert r.status_code == 200
            assert all(s["realtime_departure"] is None for s in r.json()["stops"])
            r = http.get(f"{api.url}/v1/operators/A/realtime")
            assert r.status_code == 200 and r.json()["available"] is False
            r = push(http, api.url, t1_feed(300))
            assert r.status_code == 503, r.text
            assert "retry-after" in r.headers

            redis_proc = start_redis_server(port, tmp_path / "redis")  # back, and empty

            def available() -> bool:
                return board(http, api.url)["realtime"]["available"] is True

            wait_for(available, 15.0, "realtime.available true again")
            # the new Redis started empty; the server wrote back the state it held
            wait_for(lambda: t1_delay(http, api.url) == 120, 5.0, "held delay written back")
            eventually(lambda: push(http, api.url, t1_feed(240)).status_code == 202, 10,
                       interval=0.2, what="push accepted again")
            wait_for(lambda: t1_delay(http, api.url) == 240, 5.0, "new push on the board")
    finally:
        stop_process(redis_proc)
