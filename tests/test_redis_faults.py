"""Redis trouble, on real processes: a uvicorn API server on a redis-server of the test's own
(free port, no persistence), which the test kills (kill -9), stops (SIGSTOP: a hung Redis
that still accepts connections) and restarts empty.

1. While Redis is dead or hung every endpoint answers within 2 s (the httpx timeout of these
   requests): schedules with `realtime.available` false, the merged GTFS-RT export of the
   feeds the process last applied, the operator status, an invalid push 400 and a valid
   push 503 with Retry-After.
2. After Redis restarts empty, the live data pushed before is written back by the process
   that held it: served again within seconds, with no new push.
3. The write-back never overwrites a newer state (unit test of RedisBackend.restore on a
   Redis of its own).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.transit import gtfs_realtime_pb2 as pb

from tests.conftest import REDIS_URL, catalog_of, session_redis_url
from tests.feeds import write_feed
from tests.realtime_support import (
    SMALL_FEED,
    api_servers,
    event,
    eventually,
    feed,
    free_port,
    redis_server_binary,
    start_redis_server,
    stop_process,
    stu,
    trip_update,
    unique_prefix,
    vehicle,
)
from transit.ingest.pipeline import ingest
from transit.realtime.backends import RedisBackend
from transit.realtime.breaker import CircuitBreaker, StoreUnavailable
from transit.timetable.store import Store

CLOCK = "2026-03-10T07:50:00+01:00"
CLOCK_TS = 1773125400
KEY = "k"
BOUND_S = 2.0  # every answer, Redis dead or hung
AT = "2026-03-10T07:55:00+01:00"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("redis-faults")
    ingest(catalog_of({"A": write_feed(root / "a", SMALL_FEED)}), Store(root / "data"))
    return root / "data"


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A redis-server of this test's own; `proc` is replaced when the test restarts it."""
    redis_server_binary()
    port = free_port()
    state: dict[str, Any] = {"port": port, "dir": tmp_path / "redis",
                             "url": f"redis://127.0.0.1:{port}/0"}
    state["proc"] = start_redis_server(port, state["dir"])
    try:
        yield state
    finally:
        proc: subprocess.Popen[bytes] = state["proc"]
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)
        stop_process(proc)


def env_for(url: str) -> dict[str, str]:
    """Rate limiting on (its buckets live in the same Redis), at a limit never reached."""
    return {"TRANSIT_REDIS_URL": url, "TRANSIT_REDIS_PREFIX": unique_prefix("faults"),
            "TRANSIT_PUSH_KEYS": json.dumps({"A": KEY}), "TRANSIT_CLOCK": CLOCK,
            "TRANSIT_REALTIME_POLL": "false", "TRANSIT_RATE_LIMIT_PER_MINUTE": "1000000"}


def t1_feed(delay: int, ts: int = CLOCK_TS - 5) -> pb.FeedMessage:
    return feed(trip_update("e1", "T1", start_date="20260310",
                            updates=[stu(10, "S1", dep=event(delay=delay))]), ts=ts)


def push(http: httpx.Client, base: str, body: bytes) -> httpx.Response:
    return http.post(f"{base}/v1/operators/A/realtime", content=body,
                     headers={"Authorization": f"Bearer {KEY}",
                              "Content-Type": "application/x-protobuf"})


def board(http: httpx.Client, base: str) -> dict[str, Any]:
    r = http.get(f"{base}/v1/stops/A:S1/departures", params={"at": AT, "window": 90})
    assert r.status_code == 200, r.text
    return r.json()


def t1_delay(http: httpx.Client, base: str) -> Any:
    rows = [d for d in board(http, base)["departures"] if d["trip_id"] == "A:T1"]
    assert len(rows) == 1
    return rows[0]["delay_s"]


def live_up(http: httpx.Client, base: str) -> bool:
    return bool(http.get(f"{base}/v1/operators/A/realtime").json()["available"])


class Timed:
    """An httpx client whose every request must answer within BOUND_S (its timeout: a
    slower answer fails the test with ReadTimeout); remembers the slowest."""

    def __init__(self) -> None:
        self.http = httpx.Client(timeout=BOUND_S)
        self.worst = 0.0
        self.worst_what = ""

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        t0 = time.monotonic()
        r = self.http.request(method, url, **kw)
        took = time.monotonic() - t0
        if took > self.worst:
            self.worst, self.worst_what = took, f"{method} {url}"
        assert took < BOUND_S, f"{method} {url} took {took:.3f} s"
        return r


def check_every_endpoint(t: Timed, base: str) -> bool:
    """One round over the endpoints; True when the process reports live data unavailable."""
    b = t.request("GET", f"{base}/v1/stops/A:S1/departures", params={"at": AT, "window": 90})
    assert b.status_code == 200, b.text
    assert b.json()["departures"], "the schedule is served"
    for path, params in (("/v1/trips/A:T1", {"date": "2026-03-10"}),
                         ("/v1/journeys", {"from": "A:S1", "to": "A:S4", "depart_at": AT}),
                         ("/v1/stops", {"q": "First"}), ("/v1/operators", {}),
                         ("/v1/vehicles", {"bbox": "3,49,5,51"}), ("/v1/alerts", {}),
                         ("/readyz", {})):
        r = t.request("GET", base + path, params=params)
        assert r.status_code == 200, (path, r.text)
    st = t.request("GET", f"{base}/v1/operators/A/realtime")
    assert st.status_code == 200, st.text
    kinds = {f["kind"] for f in st.json()["feeds"]}
    assert {"trip-updates", "vehicle-positions"} <= kinds, st.json()
    for kind, entity in (("trip-updates", "A:e1"), ("vehicle-positions", "A:v1")):
        r = t.request("GET", f"{base}/v1/gtfs-rt/{kind}")
        assert r.status_code == 200, r.text
        msg = pb.FeedMessage()
        msg.ParseFromString(r.content)
        assert [e.id for e in msg.entity] == [entity], "the last-known feed"
    r = t.request("GET", f"{base}/v1/gtfs-rt/alerts", params={"format": "json"})
    assert r.status_code == 200 and "entity" not in r.json()
    bad = t.request("POST", f"{base}/v1/operators/A/realtime", content=b"\x00garbage",
                    headers={"Authorization": f"Bearer {KEY}"})
    assert bad.status_code == 400, bad.text
    assert "not a GTFS-Realtime FeedMessage" in bad.json()["detail"]
    ok = t.request("POST", f"{base}/v1/operators/A/realtime",
                   content=t1_feed(300).SerializeToString(),
                   headers={"Authorization": f"Bearer {KEY}"})
    assert ok.status_code == 503, ok.text
    assert ok.headers["retry-after"] and ok.headers["content-type"].startswith(
        "application/problem+json")
    assert "127.0.0.1" not in ok.text and "redis://" not in st.text  # no store address
    return b.json()["realtime"]["available"] is False


@pytest.mark.parametrize("fault", ["kill -9", "SIGSTOP"])
def test_every_endpoint_answers_within_2s_while_redis_is_dead_or_hung(
        data_dir: Path, tmp_path: Path, own_redis: dict[str, Any], fault: str) -> None:
    with api_servers(1, data_dir, tmp_path, env_for(own_redis["url"])) as (api,), \
            httpx.Client(timeout=5.0) as http:
        eventually(lambda: live_up(http, api.url), 10, what="live data up")
        both = feed(t1_feed(120).entity[0], vehicle("v1", 50.0, 4.0, "T1"), ts=CLOCK_TS - 5)
        assert push(http, api.url, both.SerializeToString()).status_code == 202
        eventually(lambda: t1_delay(http, api.url) == 120, 5, what="push on the board")
        eventually(lambda: http.get(f"{api.url}/v1/vehicles", params={"bbox": "3,49,5,51"})
                   .json()["features"], 5, what="vehicle on the map")

        proc: subprocess.Popen[bytes] = own_redis["proc"]
        if fault == "kill -9":
            proc.kill()
            proc.wait()
        else:
            os.kill(proc.pid, signal.SIGSTOP)
        t = Timed()
        rounds = unavailable_rounds = 0
        deadline = time.monotonic() + 6.0  # across the moment the server notices
        while time.monotonic() < deadline:
            rounds += 1
            unavailable_rounds += check_every_endpoint(t, api.url)
        print(f"\n{fault}: {rounds} rounds, slowest answer {t.worst:.3f} s ({t.worst_what})")
        assert unavailable_rounds >= 1, "the server never said live data is unavailable"
        b = board(http, api.url)
        assert b["realtime"]["available"] is False and b["realtime"]["reason"]
        assert all(d["delay_s"] is None for d in b["departures"])


def test_live_data_returns_after_redis_restarts_empty(
        data_dir: Path, tmp_path: Path, own_redis: dict[str, Any]) -> None:
    import redis

    with api_servers(2, data_dir, tmp_path, env_for(own_redis["url"])) as (one, two), \
            httpx.Client(timeout=5.0) as http:
        for s in (one, two):
            eventually(lambda s=s: live_up(http, s.url), 10, what="live data up")
        assert push(http, one.url, t1_feed(120).SerializeToString()).status_code == 202
        for s in (one, two):
            eventually(lambda s=s: t1_delay(http, s.url) == 120, 5, what="push applied")

        own_redis["proc"].kill()  # kill -9: everything Redis held is gone
        own_redis["proc"].wait()
        eventually(lambda: board(http, one.url)["realtime"]["available"] is False, 10,
                   what="outage noticed")
        own_redis["proc"] = start_redis_server(own_redis["port"], own_redis["dir"])

        t0 = time.monotonic()
        for s in (one, two):
            eventually(lambda s=s: board(http, s.url)["realtime"]["available"]
                       and t1_delay(http, s.url) == 120, 10, interval=0.05,
                       what=f"pushed delay served again by {s.url}")
        print(f"\nlive data served again {time.monotonic() - t0:.2f} s after Redis restarted")
        client = redis.Redis.from_url(own_redis["url"])
        assert client.keys("*:rt:A:trip-updates:header"), "written back to Redis"
        st = http.get(f"{one.url}/v1/operators/A/realtime").json()
        tu = next(f for f in st["feeds"] if f["kind"] == "trip-updates")
        assert (tu["entities"], tu["applied"], tu["last_success"]) == (1, 1, tu["last_success"])
        assert tu["last_success"] is not None
        # and a new push wins over what was written back
        assert push(http, two.url, t1_feed(240, CLOCK_TS - 1).SerializeToString()
                    ).status_code == 202
        for s in (one, two):
            eventually(lambda s=s: t1_delay(http, s.url) == 240, 5, what="new push applied")
        client.close()


def test_restore_never_overwrites_a_newer_feed(own_redis: dict[str, Any]) -> None:
    backend = RedisBackend(own_redis["url"], unique_prefix("restore"))
    try:
        older, newer = t1_feed(60, CLOCK_TS - 30), t1_feed(90, CLOCK_TS - 10)
        assert backend.restore("A", "trip-updates", older) is True  # absent: written
        assert backend.get("A", "trip-updates") == older
        assert ("A", "trip-updates") in backend.stored()
        assert backend.restore("A", "trip-updates", older) is False  # same age: kept
        assert backend.restore("A", "trip-updates", newer) is True  # newer: written
        assert backend.get("A", "trip-updates") == newer
        assert backend.restore("A", "trip-updates", older) is False  # older: refused
        assert backend.get("A", "trip-updates") == newer
        backend.put("A", "trip-updates", t1_feed(30, CLOCK_TS))  # a push is always taken
        assert backend.restore("A", "trip-updates", newer) is False
        assert backend.get("A", "trip-updates").entity[0].trip_update.stop_time_update[
            0].departure.delay == 30
    finally:
        backend.close()


def test_redis_tests_run_without_transit_redis_url() -> None:
    """The README's test command runs the Redis tests: without TRANSIT_REDIS_URL the session
    starts a redis-server of its own on a free port (never the machine's 6379)."""
    import redis

    redis_server_binary()
    url = session_redis_url()
    assert url is not None
    if REDIS_URL is None:
        assert not url.startswith("redis://127.0.0.1:6379"), url
    client = redis.Redis.from_url(url, socket_timeout=2)
    assert client.ping() is True
    client.close()


def test_an_idle_listener_stays_up_and_notices_a_hang(own_redis: dict[str, Any]) -> None:
    """Nothing published for seconds is not an outage (the listener's pings are answered);
    a hung Redis is noticed within a few timeouts, and its return too."""
    events: list[tuple[str, float]] = []
    backend = RedisBackend(own_redis["url"], unique_prefix("idle"), timeout_s=0.3,
                           on_down=lambda reason: events.append(("down", time.monotonic())),
                           on_up=lambda: events.append(("up", time.monotonic())))
    try:
        backend.subscribe(lambda op, kind: None)
        eventually(lambda: events, 5, what="listener up")
        time.sleep(3.0)
        assert [e for e, _ in events] == ["up"] and not backend.breaker.is_open
        hung_at = time.monotonic()
        os.kill(own_redis["proc"].pid, signal.SIGSTOP)
        eventually(lambda: any(e == "down" for e, _ in events), 5, what="hang noticed")
        down_at = next(t for e, t in events if e == "down")
        assert down_at - hung_at < 1.5, down_at - hung_at
        assert backend.breaker.is_open
        t0 = time.monotonic()
        with pytest.raises(StoreUnavailable):
            backend.get("A", "trip-updates")
        assert time.monotonic() - t0 < 0.05  # the breaker answers, Redis is not asked
        os.kill(own_redis["proc"].pid, signal.SIGCONT)
        eventually(lambda: [e for e, _ in events][-1] == "up", 5, what="back up")
        assert backend.get("A", "trip-updates") is None and not backend.breaker.is_open
    finally:
        os.kill(own_redis["proc"].pid, signal.SIGCONT)
        backend.close()


def test_circuit_breaker_fails_fast_then_tries_once() -> None:
    now = [100.0]
    breaker = CircuitBreaker((OSError,), cooldown_s=1.0, max_cooldown_s=4.0,
                             clock=lambda: now[0], describe=lambda e: "store away")
    calls: list[str] = []

    def fail() -> None:
        calls.append("fail")
        raise OSError("connection refused by 10.1.2.3")

    with pytest.raises(StoreUnavailable, match=r"^store away$"):
        breaker.call(fail)
    with pytest.raises(StoreUnavailable):
        breaker.call(lambda: calls.append("not called"))
    assert calls == ["fail"]
    now[0] += 1.0  # cool-down over: one trial, which fails: the next cool-down is longer
    with pytest.raises(StoreUnavailable):
        breaker.call(fail)
    now[0] += 1.5
    with pytest.raises(StoreUnavailable):
        breaker.call(lambda: calls.append("not called"))
    now[0] += 0.5
    assert breaker.call(lambda: 42) == 42 and not breaker.is_open
    breaker.trip("listener saw it go", hold=True)  # held open: no trial until reset
    now[0] += 60
    with pytest.raises(StoreUnavailable, match="listener saw it go"):
        breaker.call(lambda: calls.append("not called"))
    breaker.reset()
    assert breaker.call(lambda: 7) == 7
    assert calls == ["fail", "fail"]


def test_a_change_published_before_the_subscription_is_read_when_it_is_made(
        data_dir: Path) -> None:
    """The listener (re)subscribes after the process already read the store: a change
    published in between was not heard, so reaching the store re-reads it all."""
    from tests.conftest import client_for

    with client_for(data_dir, CLOCK, push_keys={"A": KEY}, realtime_poll=False) as c:
        live = c.app.state.live  # type: ignore[attr-defined]
        board_delay = lambda: next(  # noqa: E731
            d["delay_s"] for d in c.get("/v1/stops/A:S1/departures",
                                        params={"at": AT, "window": 90}).json()["departures"]
            if d["trip_id"] == "A:T1")
        assert board_delay() is None  # the store was read once
        heard = list(live.backend._listeners)
        live.backend._listeners.clear()
        live.backend.put("A", "trip-updates", t1_feed(120))  # a change nobody heard
        live.backend._listeners.extend(heard)
        assert board_delay() is None
        live.came_up()
        assert board_delay() == 120
