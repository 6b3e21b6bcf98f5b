"""Operator KPIs: recorded from live data pushed through the API on the small network of
tests/test_realtime_semantics.py (operator A, Europe/Brussels, 2026-03-10), read through
GET /v1/operators/{id}/kpis, on SQLite and PostgreSQL.

    T1  S1 08:00 -> S2 08:10/08:11 -> ST1 08:20/08:21 -> S3 08:30/08:31 -> S4 08:40
    T4  S1 09:00 -> ... -> S4 09:40      T3  S4 09:00 -> ... -> S1 09:40
    T2  S1 23:50 -> S2 24:10 -> S3 24:30  T5  S1 24:20 -> S2 24:30
    TF  S1 -> S2, every 20 min 06:00-07:00 (3 runs)
All on route R1: 8 trips scheduled on 2026-03-10.

The recorder flushes every hour in these tests; each test flushes when it reads (as the
background thread would within TRANSIT_KPI_FLUSH_INTERVAL_S)."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient
from google.transit import gtfs_realtime_pb2 as pb

from tests.conftest import catalog_of
from tests.feeds import write_feed
from tests.realtime_support import (
    SMALL_FEED,
    TD,
    MutableClock,
    Server,
    drop_prefix,
    event,
    eventually,
    feed,
    launch_api,
    redis_url,
    stop_process,
    stu,
    trip_update,
    unique_prefix,
    vehicle,
    wait_ready,
)
from transit.accounts import service as accounts
from transit.accounts.scope import CLI
from transit.app import create_app
from transit.db import migrate
from transit.db.engine import Database
from transit.ingest.pipeline import ingest
from transit.kpis.recorder import KpiRecorder
from transit.realtime.backends import MemoryBackend
from transit.realtime.overlay import FeedResult
from transit.realtime.state import LiveState
from transit.settings import Settings
from transit.timetable.store import Store
from transit.timetable.timetable import Timetable

TZ = "Europe/Brussels"
DAY = "2026-03-10"
YMD = "20260310"
PUSH_KEY = "push-secret"


def at(hms: str, day: date = date(2026, 3, 10)) -> datetime:
    h, m, *s = (int(x) for x in hms.split(":"))
    return datetime(day.year, day.month, day.day, h, m, s[0] if s else 0, tzinfo=ZoneInfo(TZ))


def local(hms: str) -> str:
    return at(hms).isoformat()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("kpis")
    ingest(catalog_of({"A": write_feed(root / "a", SMALL_FEED)}), Store(root / "data"))
    return root / "data"


class Service:
    """A started app over the small network and one database, with keys of every kind."""

    def __init__(self, client: TestClient, clock: MutableClock, keys: dict[str, str]) -> None:
        self.client, self.clock, self.keys = client, clock, keys

    @property
    def recorder(self) -> KpiRecorder:
        return self.client.app.state.kpis  # type: ignore[attr-defined,no-any-return]

    def push(self, *entities: pb.FeedEntity, at_: str | None = None, kind: str | None = None
             ) -> None:
        if at_ is not None:
            self.clock.set(at(at_))
        msg = feed(*entities, ts=self.clock.ts - 5)
        r = self.client.post("/v1/operators/A/realtime", content=msg.SerializeToString(),
                             headers={"Authorization": f"Bearer {PUSH_KEY}"},
                             params={"kind": kind} if kind else None)
        assert r.status_code == 202, r.text

    def kpis(self, key: str | None = "viewer", expect: int = 200, op: str = "A",
             **params: str) -> Any:
        self.recorder.flush()
        headers = {"Authorization": f"Bearer {self.keys[key]}"} if key else {}
        r = self.client.get(f"/v1/operators/{op}/kpis", params=params, headers=headers)
        assert r.status_code == expect, r.text
        return r.json()

    def day(self, **params: str) -> Any:
        body = self.kpis(**{"from": DAY, "to": DAY, **params})
        assert [d["date"] for d in body["days"]] == [DAY]
        return body["days"][0]


@pytest.fixture
def make_service(data_dir: Path, db_url: str) -> Iterator[Callable[..., Service]]:
    opened: list[TestClient] = []
    keys: dict[str, str] = {}

    def make(start: str = "07:50", **more: Any) -> Service:
        clock = MutableClock(at(start))
        settings = Settings(data_dir=data_dir, database_url=db_url, rate_limit_per_minute=0,
                            realtime_poll=False, push_keys={"A": PUSH_KEY},
                            kpi_flush_interval_s=3600, **more)
        client = TestClient(create_app(settings, clock=clock))
        client.__enter__()
        opened.append(client)
        if not keys:  # the database outlives a restarted app: keys are made once
            db = Database(db_url)
            accounts.create_operator(db, "B", "Operator B", CLI)
            for name, op, role in (("viewer", "A", "viewer"), ("publisher", "A", "publisher"),
                                   ("realtime", "A", "realtime"), ("other", "B", "publisher"),
                                   ("admin", None, "admin")):
                keys[name] = accounts.create_key(db, op, role, CLI).token
            db.dispose()
        return Service(client, clock, keys)

    yield make
    for c in opened:
        c.__exit__(None, None, None)


@pytest.fixture
def svc(make_service: Callable[..., Service]) -> Service:
    return make_service()


def t1(*updates: pb.TripUpdate.StopTimeUpdate, eid: str = "e1") -> pb.FeedEntity:
    return trip_update(eid, "T1", start_date=YMD, updates=updates)


# 30 s early at S1, 4 min late at S2, 7 min late at ST1 (and on, propagated)
T1_UPDATES = (stu(10, "S1", dep=event(delay=-30)), stu(20, "S2", dep=event(delay=240)),
              stu(30, "ST1", dep=event(delay=420)))


# --------------------------------------------------------------------------- punctuality


def test_punctuality_counts_each_departed_stop_once_with_its_last_prediction(
        svc: Service) -> None:
    svc.push(t1(*T1_UPDATES))  # 07:50: nothing has left yet
    assert svc.day()["departures"] == {"observed": 0, "on_time": 0, "early": 0, "late": 0,
                                       "punctuality": None}
    # 08:30: S1 left 07:59:30, S2 08:15, ST1 08:28; S3 (08:38 predicted) not yet
    svc.push(t1(*T1_UPDATES), at_="08:30")
    svc.push(t1(*T1_UPDATES), at_="08:30:30")  # named again: still counted once
    day = svc.day()
    expected = {"observed": 3, "on_time": 2, "early": 0, "late": 1, "punctuality": 0.6667}
    assert day["departures"] == expected
    assert [r["route"] for r in day["routes"]] == ["A:R1"]
    assert day["routes"][0]["departures"] == expected
    assert svc.kpis(**{"from": DAY, "to": DAY})["totals"]["departures"] == expected
    # a later update corrects ST1 to 3 min 20 s late (the vehicle's actual departure): the
    # last prediction counts
    svc.push(t1(stu(30, "ST1", dep=event(delay=200))), at_="08:32")
    assert svc.day()["departures"] == {"observed": 3, "on_time": 3, "early": 0, "late": 0,
                                       "punctuality": 1.0}


def test_bounds_of_on_time_and_skipped_and_last_stops(svc: Service) -> None:
    """-60 s and +300 s are on time, -61 s early, +301 s late; a skipped stop and the last
    stop (no departure) are not departures."""
    svc.push(t1(stu(10, "S1", dep=event(delay=-60)), stu(20, "S2", dep=event(delay=300)),
                stu(30, "ST1", dep=event(delay=301)),
                stu(40, "S3", rel=pb.TripUpdate.StopTimeUpdate.SKIPPED),
                stu(50, "S4", arr=event(delay=301))),
             trip_update("e4", "T4", start_date=YMD,
                         updates=[stu(1, "S1", dep=event(delay=-61))]),
             at_="09:50")
    # T1: -60 and +300 on time, +301 late (S3 skipped, S4 its last stop); T4: -61 s at S1,
    # propagated to S2, ST1 and S3 (S4 its last stop): 4 early
    assert svc.day()["departures"] == {"observed": 7, "on_time": 2, "early": 4, "late": 1,
                                       "punctuality": 0.2857}


# --------------------------------------------------------------------------- trips


def test_cancellations_and_share_of_trips_with_live_data(svc: Service) -> None:
    svc.push(t1(stu(10, "S1", dep=event(delay=60))),
             trip_update("e3", "T3", start_date=YMD, rel=TD.CANCELED),
             trip_update("e4", "T4", start_date=YMD, rel=TD.DELETED),
             trip_update("x", "X1", start_date=YMD, route_id="R1", rel=TD.ADDED, updates=[
                 stu(stop="S1", dep=event(time_=int(at("08:05").timestamp()))),
                 stu(stop="S2", arr=event(time_=int(at("08:14").timestamp())))]))
    trips = svc.day()["trips"]
    assert trips == {"scheduled": 8, "with_live_data": 2, "live_data_share": 0.25,
                     "canceled": 1, "deleted": 1, "added": 1}
    # T3 runs after all: no longer canceled, still with live data
    svc.push(t1(stu(10, "S1", dep=event(delay=60))),
             trip_update("e3", "T3", start_date=YMD, updates=[stu(1, "S4", dep=event(
                 delay=0))]))
    trips = svc.day()["trips"]
    assert (trips["canceled"], trips["with_live_data"], trips["deleted"]) == (0, 2, 1)


def test_an_id_too_long_to_store_does_not_block_the_others(svc: Service) -> None:
    """An added trip's id comes from the feed: one over the column's 255 characters is left
    out, and the rest of the flush is written."""
    stops = [stu(stop="S1", dep=event(time_=int(at("08:05").timestamp()))),
             stu(stop="S2", arr=event(time_=int(at("08:14").timestamp())))]
    svc.push(trip_update("x", "X" * 300, start_date=YMD, rel=TD.ADDED, updates=stops),
             trip_update("y", "Y1", start_date=YMD, rel=TD.ADDED, updates=stops),
             trip_update("c", "T3", start_date=YMD, rel=TD.CANCELED))
    trips = svc.day()["trips"]
    assert (trips["added"], trips["canceled"]) == (1, 1)


def test_a_day_without_live_data_counts_its_scheduled_trips(svc: Service) -> None:
    body = svc.kpis(**{"from": "2026-03-11", "to": "2026-03-12"})
    assert [(d["date"], d["trips"]["scheduled"], d["trips"]["live_data_share"])
            for d in body["days"]] == [("2026-03-11", 8, 0.0), ("2026-03-12", 0, None)]


# --------------------------------------------------------------------------- feeds


def test_freshness_and_gaps(svc: Service) -> None:
    svc.push(t1(), at_="07:50")
    svc.push(t1(), at_="07:50:30")
    svc.push(t1(), at_="07:54")  # 210 s after the last: over 3 x 30 s, a gap
    svc.push(t1(), at_="07:55")
    svc.push(vehicle("v1", 50.0, 4.0, "T1"), at_="07:55:30", kind="vehicle-positions")
    svc.clock.set(at("07:56"))
    body = svc.kpis(**{"from": DAY, "to": DAY})
    assert body["freshness"] == [
        {"kind": "trip-updates", "last_update_at": local("07:55"), "age_s": 60, "updates": 4,
         "gaps": 1, "max_gap_s": 210},
        {"kind": "vehicle-positions", "last_update_at": local("07:55:30"), "age_s": 30,
         "updates": 1, "gaps": 0, "max_gap_s": 0}]
    f, v = body["days"][0]["feeds"]
    assert v["kind"] == "vehicle-positions" and v["updates"] == 1
    assert f == {"kind": "trip-updates", "updates": 4, "entities": 4, "applied": 4, "gaps": 1,
                 "max_gap_s": 210, "first_update_at": local("07:50"),
                 "last_update_at": local("07:55")}


def test_rejected_entities_by_reason(svc: Service) -> None:
    bad = (trip_update("n", "NOPE", start_date=YMD),
           trip_update("d", "T1", start_date="20260312"),  # T1 does not run on the 12th
           trip_update("ok", "T4", start_date=YMD))
    svc.push(*bad)
    svc.push(*bad, at_="07:50:30")
    day = svc.day()
    assert day["rejected"] == {"no service on date": 2, "trip not found": 2}
    assert (day["feeds"][0]["entities"], day["feeds"][0]["applied"]) == (6, 2)
    assert svc.kpis(**{"from": DAY, "to": DAY})["totals"]["rejected"] == day["rejected"]


# --------------------------------------------------------------------------- demand


def test_api_demand_counts_requests_naming_the_operators_stops_trips_and_routes(
        svc: Service) -> None:
    c = svc.client
    assert c.get("/v1/stops/A:S1/departures", params={"at": local("08:00")}).status_code == 200
    assert c.get("/v1/trips/A:T1", params={"date": DAY}).status_code == 200
    assert c.get("/v1/alerts", params={"route": "A:R1"}).status_code == 200
    assert c.get("/v1/stops/A:NOPE").status_code == 404  # names nothing that exists
    assert c.get("/v1/stops", params={"lat": 50.0, "lon": 4.0}).status_code == 200
    day = svc.day()
    assert day["requests"] == 3
    assert [(r["route"], r["requests"]) for r in day["routes"]] == [("A:R1", 2)]
    assert svc.day(route="A:R1")["requests"] == 2


# --------------------------------------------------------------------------- durability


def test_a_restart_keeps_the_numbers_and_goes_on_from_them(
        make_service: Callable[..., Service]) -> None:
    first = make_service()
    first.push(t1(*T1_UPDATES), at_="08:30")
    first.client.get("/v1/trips/A:T1", params={"date": DAY})
    first.push(trip_update("n", "NOPE", start_date=YMD), kind="trip-updates")
    before = first.kpis(**{"from": DAY, "to": DAY})
    first.client.__exit__(None, None, None)  # shutdown: the recorder writes what it holds

    second = make_service("08:45")
    after = second.kpis(**{"from": DAY, "to": DAY})
    assert after["days"] == before["days"]
    assert after["days"][0]["departures"]["observed"] == 3
    assert after["days"][0]["requests"] == 1
    # an update naming only S3 (left 08:31): S1, S2 and ST1 stay counted from before
    second.push(t1(stu(40, "S3", dep=event(delay=0))), at_="08:45")
    dep = second.day()["departures"]
    assert dep == {"observed": 4, "on_time": 3, "early": 0, "late": 1, "punctuality": 0.75}
    assert second.day()["feeds"][0]["updates"] == 3


def test_a_failed_flush_keeps_everything_for_the_next(svc: Service, db_url: str) -> None:
    """The database refuses a write (here: a table gone for a while): the flush fails whole,
    nothing is dropped, and the next flush writes it all."""
    svc.push(t1(*T1_UPDATES), at_="08:30")
    svc.client.get("/v1/stops/A:S1")
    other = Database(db_url)
    with other.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE kpi_feeds RENAME TO kpi_feeds_away")
    with pytest.raises(Exception, match="kpi_feeds"):
        svc.recorder.flush()
    with other.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE kpi_feeds_away RENAME TO kpi_feeds")
    other.dispose()
    svc.push(t1(*T1_UPDATES), at_="08:30:30")
    day = svc.day()
    assert (day["feeds"][0]["updates"], day["departures"]["observed"], day["requests"]) == (
        2, 3, 1)


def test_shutdown_writes_without_an_explicit_flush(make_service: Callable[..., Service]
                                                   ) -> None:
    first = make_service()
    first.push(t1(*T1_UPDATES), at_="08:30")
    first.client.__exit__(None, None, None)
    assert make_service("08:31").day()["departures"]["observed"] == 3


def test_processes_sharing_redis_record_each_update_once(
        make_service: Callable[..., Service]) -> None:
    """Every process applies every update (Redis pub/sub): one of them, the lease holder,
    records it; each counts its own requests."""
    url, prefix = redis_url(), unique_prefix("kpis")
    try:
        one = make_service(redis_url=url, redis_prefix=prefix)
        two = make_service(redis_url=url, redis_prefix=prefix)
        for s in (one, two):
            eventually(lambda s=s: s.client.get("/v1/operators/A/realtime").json()[
                "available"], 10, what="Redis listener up")
        two.clock.set(at("08:30"))  # both at 08:30 when they apply it
        one.push(t1(*T1_UPDATES), at_="08:30")
        for s in (one, two):  # each applies it from the pub/sub channel, in its own time
            eventually(lambda s=s: [f["applied"] for f in s.client.get(
                "/v1/operators/A/realtime").json()["feeds"]] == [1], 5,
                what="the update applied by both processes")
        for s in (one, two):
            assert s.client.get("/v1/trips/A:T1", params={"date": DAY}).json()["stops"][0][
                "delay_s"] == -30
        for s in (one, two, one, two):
            s.recorder.flush()
        day = two.day()
        assert (day["feeds"][0]["updates"], day["departures"]["observed"]) == (1, 3)
        assert day["requests"] == 2  # one request in each process
    finally:
        drop_prefix(url, prefix)


# --------------------------------------------------------------------------- scope


def test_scope_of_the_kpis(svc: Service) -> None:
    params = {"from": DAY, "to": DAY}
    for key in ("viewer", "publisher", "admin"):
        assert svc.kpis(key, **params)["operator"] == "A"
    problem = svc.kpis("other", 403, **params)
    assert "belongs to operator 'B'" in problem["detail"]
    assert "may not read reports" in svc.kpis("realtime", 403, **params)["detail"]
    assert svc.kpis(None, 401, **params)["status"] == 401
    svc.keys["bogus"] = "tk_nope_nope"
    assert svc.kpis("bogus", 401, **params)["status"] == 401
    assert svc.kpis("admin", 404, op="ZZ", **params)["detail"] == "unknown operator 'ZZ'"


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(("params", "parameter", "message"), [
    ({"from": "2026-03-11", "to": "2026-03-10"}, "from", "after"),
    ({"from": "2026-3-1", "to": DAY}, "from", "not a date"),
    ({"from": DAY, "to": "20260310"}, "to", "not a date"),
    ({"from": "2026-02-30", "to": DAY}, "from", "not a date"),
    ({"from": "2025-03-09", "to": DAY}, "to", "367 days"),
    ({"from": DAY, "to": "x" * 11}, "to", "at most 10 characters"),
    ({"from": DAY, "to": DAY, "route": "r" * 256}, "route", "at most 255"),
])
def test_bad_input_is_422_naming_the_parameter(svc: Service, params: dict[str, str],
                                               parameter: str, message: str) -> None:
    problem = svc.kpis(expect=422, **params)
    assert problem["parameter"] == parameter
    assert message in problem["detail"]


def test_a_year_is_the_longest_range(svc: Service) -> None:
    body = svc.kpis(**{"from": "2025-03-10", "to": DAY})
    assert len(body["days"]) == 366


@pytest.mark.parametrize("route", ["A:NOPE", "B:R1", "R1", "A:R1' OR '1'='1"])
def test_unknown_route_is_404(svc: Service, route: str) -> None:
    problem = svc.kpis(expect=404, route=route, **{"from": DAY, "to": DAY})
    assert problem["parameter"] == "route" and "unknown route" in problem["detail"]


def test_defaults_are_today_in_the_operators_time_zone(svc: Service) -> None:
    svc.clock.set(at("00:30", date(2026, 3, 11)))  # 23:30 UTC on the 10th
    body = svc.kpis()
    assert (body["from"], body["to"]) == ("2026-03-11", "2026-03-11")
    assert body["definitions"]["punctuality"].startswith("share of observed departures")


# --------------------------------------------------------------------------- processes


def test_numbers_survive_a_killed_process(data_dir: Path, db_url: str, tmp_path: Path
                                          ) -> None:
    """A real server records through its background flusher; kill -9 it, start another on
    the same database: the numbers are there."""
    db = Database(db_url)
    migrate.upgrade(db)
    accounts.create_operator(db, "A", "Operator A", CLI)
    viewer = accounts.create_key(db, "A", "viewer", CLI).token
    db.dispose()
    env = {"TRANSIT_DATABASE_URL": db_url, "TRANSIT_CLOCK": at("08:30").isoformat(),
           "TRANSIT_PUSH_KEYS": f'{{"A": "{PUSH_KEY}"}}', "TRANSIT_KPI_FLUSH_INTERVAL_S": "0.2"}
    auth = {"Authorization": f"Bearer {viewer}"}
    params = {"from": DAY, "to": DAY}

    def day(server: Server) -> Any:
        r = httpx.get(f"{server.url}/v1/operators/A/kpis", params=params, headers=auth)
        assert r.status_code == 200, r.text
        return r.json()["days"][0]

    first = launch_api(data_dir, tmp_path / "one", env)
    try:
        wait_ready(first)
        msg = feed(t1(*T1_UPDATES), ts=int(at("08:30").timestamp()) - 5)
        r = httpx.post(f"{first.url}/v1/operators/A/realtime", content=msg.SerializeToString(),
                       headers={"Authorization": f"Bearer {PUSH_KEY}"})
        assert r.status_code == 202, r.text
        httpx.get(f"{first.url}/v1/trips/A:T1", params={"date": DAY})
        before = eventually(lambda: (lambda d: d if d["departures"]["observed"] == 3
                                     and d["requests"] == 1 else None)(day(first)), 10,
                            what="the flusher wrote the update and the request")
        first.proc.kill()  # SIGKILL: no shutdown, no last flush
        first.proc.wait(timeout=10)
    finally:
        stop_process(first.proc)
    second = launch_api(data_dir, tmp_path / "two", env)
    try:
        wait_ready(second)
        assert day(second) == before
        assert before["departures"]["punctuality"] == 0.6667
    finally:
        stop_process(second.proc)


# --------------------------------------------------------------------------- the hook


def test_realtime_observers_see_each_applied_update_once(data_dir: Path) -> None:
    tt = Store(data_dir).load_current()
    assert tt is not None
    clock = MutableClock(at("08:30"))
    state = LiveState(MemoryBackend(), clock, lambda: tt)
    seen: list[tuple[str, str, int, int]] = []

    def failing(tt_: Timetable, result: FeedResult, now: int) -> None:
        raise RuntimeError("an observer that fails")

    state.add_observer(failing)  # never stops live data nor the other observers
    state.add_observer(lambda tt_, r, now: seen.append((r.operator, r.kind, r.status.applied,
                                                        now)))
    state.publish("A", feed(t1(*T1_UPDATES), ts=clock.ts), "trip-updates")
    assert seen == [("A", "trip-updates", 1, clock.ts)]
    assert len(state.overlay().trips) == 1
    state.reload_all()  # re-applies what was observed already: no new observation
    assert len(seen) == 1
    clock.advance(30)
    state.publish("A", feed(ts=clock.ts), "vehicle-positions")
    assert seen[-1] == ("A", "vehicle-positions", 0, clock.ts)


def test_the_recorder_side_imports_nothing_from_the_web() -> None:
    """transit.kpis but its router is engine side: usable from a script, and the realtime
    state knows its observers only as callables."""
    root = Path(__file__).resolve().parents[1] / "transit"
    files = [p for p in (root / "kpis").glob("*.py") if p.name != "router.py"]
    files += [root / "realtime" / "state.py", root / "db" / "models_kpis.py"]
    assert len(files) >= 9
    web = ("fastapi", "starlette", "uvicorn", "transit.api")
    for path in files:
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
        assert not {n for n in names if n.split(".")[0] in web or n.startswith(web)}, path
    state = (root / "realtime" / "state.py").read_text()
    assert "kpis" not in state
