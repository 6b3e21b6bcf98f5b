"""GTFS-Realtime semantics, one test each, on a small written feed (tests/feeds.py) and
FeedMessages built here with gtfs_realtime_pb2, pushed through the API.

The network (operator A, Europe/Brussels, every day of 2026 but 2026-03-12):

    T1  S1 08:00 -> S2 08:10/08:11 -> ST1 08:20/08:21 -> S3 08:30/08:31 -> S4 08:40
        (stop_sequence 10, 20, 30, 40, 50; ST1 and ST2 are platforms 1 and 2 of station ST)
    T4  S1 09:00 -> S2 -> ST1 -> S3 -> S4 09:40       route R1, direction 0
    T3  S4 09:00 -> S3 -> ST1 -> S2 -> S1 09:40       route R1, direction 1
    T2  S1 23:50 -> S2 24:10 -> S3 24:30              past midnight
    T5  S1 24:20 -> S2 24:30                          starts after midnight
    TF  S1 -> S2 (10 min), frequencies 06:00-07:00 every 20 min, exact_times=0

Served as of Tuesday 2026-03-10 07:50 local by a clock the tests move; feeds are stamped
5 s before. Most tests use the memory backend; the FULL_DATASET / DIFFERENTIAL tests also
run on Redis (TRANSIT_REDIS_URL; skipped when unset)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import orjson
import pytest
from fastapi.testclient import TestClient
from google.protobuf.message import DecodeError
from google.transit import gtfs_realtime_pb2 as pb

from tests.conftest import catalog_of
from tests.feeds import write_feed
from tests.realtime_support import (
    SMALL_FEED,
    STU,
    TD,
    MutableClock,
    drop_prefix,
    event,
    eventually,
    feed,
    redis_url,
    stu,
    trip_update,
    unique_prefix,
    vehicle,
)
from transit.app import create_app
from transit.departures import service
from transit.ingest.pipeline import ingest
from transit.realtime.context import LiveContext
from transit.settings import Settings
from transit.timetable.store import Store

TZ = "Europe/Brussels"
DAY = date(2026, 3, 10)
YMD = "20260310"
NEXT = date(2026, 3, 11)
START = datetime(2026, 3, 10, 7, 50, tzinfo=ZoneInfo(TZ))
KEY = "secret"
LAG = 5


def t(hms: str, day: date = DAY) -> int:
    """Unix time of a local wall-clock time on a calendar day."""
    parts = [int(x) for x in hms.split(":")] + [0]
    return int(datetime(day.year, day.month, day.day, parts[0], parts[1], parts[2],
                        tzinfo=ZoneInfo(TZ)).timestamp())


def local(hms: str, day: date = DAY) -> str:
    return datetime.fromtimestamp(t(hms, day), ZoneInfo(TZ)).isoformat()


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rt-semantics")
    report = ingest(catalog_of({"A": write_feed(root / "a", SMALL_FEED)}), Store(root / "data"))
    assert report is not None
    return root / "data"


class Live:
    """A started service over the small network, and what the tests do with it."""

    def __init__(self, client: TestClient, clock: MutableClock) -> None:
        self.client, self.clock = client, clock

    def ts(self) -> int:
        return self.clock.ts - LAG

    def push(self, msg: pb.FeedMessage | bytes, *, op: str = "A", key: str | None = KEY,
             kind: str | None = None, expect: int = 202) -> Any:
        body = msg if isinstance(msg, bytes) else msg.SerializeToString()
        headers = {"Content-Type": "application/x-protobuf"}
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        r = self.client.post(f"/v1/operators/{op}/realtime", content=body, headers=headers,
                             params={"kind": kind} if kind else None)
        assert r.status_code == expect, r.text
        return r

    def send(self, *entities: pb.FeedEntity, full: bool = True, kind: str | None = None
             ) -> None:
        self.push(feed(*entities, ts=self.ts(), full=full), kind=kind)

    def board(self, stop: str, hms: str, day: date = DAY, window: int = 30,
              station: bool = False) -> dict:
        kind = "stations" if station else "stops"
        r = self.client.get(f"/v1/{kind}/A:{stop}/departures",
                            params={"at": local(hms, day), "window": window, "limit": 50})
        assert r.status_code == 200, r.text
        return r.json()

    def row(self, stop: str, hms: str, trip: str, day: date = DAY, **kw: Any) -> dict | None:
        rows = [d for d in self.board(stop, hms, day, **kw)["departures"]
                if d["trip_id"] == f"A:{trip}"]
        assert len(rows) <= 1, rows
        return rows[0] if rows else None

    def trip(self, trip: str, day: date = DAY) -> dict:
        r = self.client.get(f"/v1/trips/A:{trip}", params={"date": day.isoformat()})
        assert r.status_code == 200, r.text
        return r.json()

    def stops(self, trip: str, day: date = DAY) -> dict[str, dict]:
        return {s["stop_id"].removeprefix("A:"): s for s in self.trip(trip, day)["stops"]}

    def status(self, kind: str = "trip-updates") -> dict:
        r = self.client.get("/v1/operators/A/realtime")
        assert r.status_code == 200, r.text
        feeds = {f["kind"]: f for f in r.json()["feeds"]}
        return feeds.get(kind, {})

    def until(self, probe: Callable[[], Any], what: str = "live data") -> Any:
        """The memory backend applies synchronously, Redis through its listener."""
        return eventually(probe, timeout=5.0, what=what)


@pytest.fixture
def make_live(data_dir: Path) -> Iterator[Callable[..., Live]]:
    opened: list[tuple[TestClient, str | None, str | None]] = []

    def make(backend: str = "memory", **settings: Any) -> Live:
        url = prefix = None
        if backend == "redis":
            url = redis_url()
            prefix = unique_prefix("semantics")
        clock = MutableClock(START)
        values: dict[str, Any] = {"data_dir": data_dir, "rate_limit_per_minute": 0,
                                  "redis_url": url, "redis_prefix": prefix or "transit",
                                  "push_keys": {"A": KEY, "B": "b-key"},
                                  "realtime_poll": False, **settings}
        client = TestClient(create_app(Settings(**values), clock=clock))
        client.__enter__()
        opened.append((client, url, prefix))
        live = Live(client, clock)
        if backend == "redis":  # the listener reports Redis up before pushes are accepted
            live.until(lambda: client.get("/v1/operators/A/realtime").json()["available"],
                       "Redis listener up")
        return live

    yield make
    for client, url, prefix in opened:
        client.__exit__(None, None, None)
        if url and prefix:
            drop_prefix(url, prefix)


@pytest.fixture
def live(make_live: Callable[..., Live]) -> Live:
    return make_live()


def t1_delay(delay: int, eid: str = "e1", start_date: str = YMD) -> pb.FeedEntity:
    return trip_update(eid, "T1", start_date=start_date,
                       updates=[stu(10, "S1", dep=event(delay=delay))])


# --------------------------------------------------------------------------- matching


def test_match_by_trip_id_and_start_date(live: Live) -> None:
    live.send(t1_delay(120))
    row = live.row("S1", "07:55", "T1")
    assert row is not None
    assert (row["realtime_departure"], row["delay_s"], row["status"]) == (
        local("08:02"), 120, "delayed")
    assert row["service_date"] == "2026-03-10"
    # the same trip on the next service day: today's run is back to the schedule
    live.send(t1_delay(120, start_date="20260311"))
    today = live.row("S1", "07:55", "T1")
    assert today is not None
    assert (today["realtime_departure"], today["status"]) == (None, "scheduled")
    tomorrow = live.row("S1", "07:55", "T1", day=NEXT)
    assert tomorrow is not None
    assert (tomorrow["realtime_departure"], tomorrow["delay_s"]) == (local("08:02", NEXT), 120)
    # a service day on which the trip does not run
    live.send(t1_delay(120, start_date="20260312"))
    st = live.status()
    assert (st["applied"], st["rejected"]) == (0, {"no service on date": 1})


def test_trip_past_midnight_start_date_is_the_service_day(live: Live) -> None:
    """T2 leaves 23:50 and reaches S2 at 24:10 (00:10 on the 11th); T5 leaves at 24:20. Their
    start_date is the service day 20260310, not the calendar day of the call."""
    live.send(
        trip_update("e2", "T2", start_date=YMD, updates=[stu(2, "S2", dep=event(delay=300))]),
        trip_update("e5", "T5", start_date=YMD, updates=[stu(1, "S1", dep=event(delay=120))]))
    row = live.row("S2", "00:05", "T2", day=NEXT)
    assert row is not None
    assert row["service_date"] == "2026-03-10"
    assert row["scheduled_departure"] == local("00:10", NEXT)
    assert (row["realtime_departure"], row["delay_s"]) == (local("00:15", NEXT), 300)
    assert live.stops("T2")["S3"]["realtime_arrival"] == local("00:35", NEXT)
    row = live.row("S1", "00:15", "T5", day=NEXT)
    assert row is not None
    assert (row["service_date"], row["realtime_departure"]) == ("2026-03-10",
                                                                local("00:22", NEXT))
    # start_date = the calendar day of the call is another run (T5 of the 11th, at 00:20
    # on the 12th), and leaves the run of the 10th alone
    live.send(trip_update("e5", "T5", start_date="20260311",
                          updates=[stu(1, "S1", dep=event(delay=120))]))
    row = live.row("S1", "00:15", "T5", day=NEXT)
    assert row is not None and row["realtime_departure"] is None
    row = live.row("S1", "00:15", "T5", day=date(2026, 3, 12))
    assert row is not None
    assert (row["service_date"], row["delay_s"]) == ("2026-03-11", 120)


def test_frequency_trip_by_start_time(live: Live) -> None:
    """TF runs every 20 min from 06:00 (exact_times=0): instances are TF@HH:MM:SS and the
    update names one by start_time."""
    live.send(trip_update("f", "TF", start_date=YMD, start_time="06:20:00",
                          updates=[stu(1, "S1", dep=event(delay=60))]))
    rows = {d["trip_id"]: d for d in live.board("S1", "05:55", window=60)["departures"]}
    assert set(rows) == {"A:TF@06:00:00", "A:TF@06:20:00", "A:TF@06:40:00"}
    assert rows["A:TF@06:20:00"]["realtime_departure"] == local("06:21")
    assert rows["A:TF@06:20:00"]["delay_s"] == 60
    assert rows["A:TF@06:00:00"]["realtime_departure"] is None
    assert rows["A:TF@06:40:00"]["realtime_departure"] is None
    live.send(trip_update("f", "TF", start_date=YMD, updates=[stu(1, "S1",
                                                                   dep=event(delay=60))]))
    st = live.status()
    assert (st["applied"], sum(st["rejected"].values())) == (0, 1)


def test_match_by_route_direction_start_date_start_time(live: Live) -> None:
    """No trip_id: route R1 + direction + start_date + start_time. T4 (direction 0) and T3
    (direction 1) both start at 09:00; without direction_id the descriptor is ambiguous."""
    live.send(
        trip_update("d0", route_id="R1", direction_id=0, start_date=YMD, start_time="09:00:00",
                    updates=[stu(stop="S2", dep=event(delay=180))]),
        trip_update("d1", route_id="R1", direction_id=1, start_date=YMD, start_time="09:00:00",
                    updates=[stu(stop="S3", dep=event(delay=60))]))
    assert live.status()["applied"] == 2
    assert live.stops("T4")["S2"]["realtime_departure"] == local("09:13")
    assert live.stops("T3")["S3"]["realtime_departure"] == local("09:11")
    assert live.stops("T3")["S2"]["realtime_departure"] == local("09:31")
    live.send(trip_update("dx", route_id="R1", start_date=YMD, start_time="09:00:00",
                          updates=[stu(stop="S2", dep=event(delay=180))]))
    st = live.status()
    assert (st["applied"], sum(st["rejected"].values())) == (0, 1)
    assert live.stops("T4")["S2"]["realtime_departure"] is None


# --------------------------------------------------------------------------- propagation


def test_delay_propagates_downstream_and_across_skipped(live: Live) -> None:
    live.send(trip_update("e1", "T1", start_date=YMD, updates=[
        stu(10, "S1", dep=event(delay=180)),
        stu(20, "S2", rel=STU.SKIPPED),
        stu(40, "S3", dep=event(delay=60))]))
    s = live.stops("T1")
    assert (s["S1"]["realtime_departure"], s["S1"]["delay_s"]) == (local("08:03"), 180)
    assert (s["S2"]["status"], s["S2"]["realtime_departure"]) == ("skipped", None)
    assert (s["ST1"]["realtime_arrival"], s["ST1"]["realtime_departure"]) == (
        local("08:23"), local("08:24"))  # the 180 s run on past the skipped S2
    assert (s["S3"]["realtime_departure"], s["S3"]["delay_s"]) == (local("08:32"), 60)
    assert s["S4"]["realtime_arrival"] == local("08:41")  # the next update's delay
    row = live.row("ST1", "08:15", "T1")
    assert row is not None and (row["delay_s"], row["status"]) == (180, "delayed")


def test_time_wins_over_delay(live: Live) -> None:
    live.send(trip_update("e1", "T1", start_date=YMD, updates=[
        stu(20, "S2", dep={"time": t("08:15"), "delay": 60})]))
    row = live.row("S2", "08:05", "T1")
    assert row is not None
    assert (row["realtime_departure"], row["delay_s"]) == (local("08:15"), 240)
    assert live.stops("T1")["ST1"]["realtime_departure"] == local("08:25")


def test_no_data_propagates_no_prediction(live: Live) -> None:
    live.send(trip_update("e1", "T1", start_date=YMD, updates=[
        stu(10, "S1", dep=event(delay=120)),
        stu(30, "ST1", rel=STU.NO_DATA),
        stu(50, "S4", arr=event(delay=300))]))
    s = live.stops("T1")
    assert s["S1"]["realtime_departure"] == local("08:02")
    assert s["S2"]["realtime_departure"] == local("08:13")
    for stop in ("ST1", "S3"):  # no prediction from NO_DATA until the next update
        assert (s[stop]["realtime_departure"], s[stop]["delay_s"], s[stop]["status"]) == (
            None, None, "scheduled"), stop
    assert s["S4"]["realtime_arrival"] == local("08:45")
    row = live.row("S3", "08:25", "T1")
    assert row is not None and (row["realtime_departure"], row["status"]) == (None,
                                                                              "scheduled")


def test_backwards_times_are_repaired(live: Live) -> None:
    """S2 leaves 08:25 but the feed has ST1 arrive 08:15 and leave 08:16: ST1 cannot be
    reached before 08:25, and nothing after it runs backwards."""
    live.send(trip_update("e1", "T1", start_date=YMD, updates=[
        stu(20, "S2", dep=event(time_=t("08:25"))),
        stu(30, "ST1", arr=event(time_=t("08:15")), dep=event(time_=t("08:16")))]))
    s = live.stops("T1")
    assert s["S2"]["realtime_departure"] == local("08:25")
    assert (s["ST1"]["realtime_arrival"], s["ST1"]["realtime_departure"]) == (local("08:25"),
                                                                             local("08:25"))
    times = [datetime.fromisoformat(x) for st in s.values()
             for x in (st["realtime_arrival"], st["realtime_departure"]) if x]
    assert times == sorted(times)


def test_skipped_stop_shown_as_skipped(live: Live) -> None:
    """A stop skipped mid-trip, and the last two skipped (partial cancellation): boards at
    those stops show the trip as skipped, elsewhere it runs; the trip is not canceled."""
    live.send(trip_update("e1", "T1", start_date=YMD, updates=[
        stu(10, "S1", dep=event(delay=0)),
        stu(20, "S2", rel=STU.SKIPPED),
        stu(40, "S3", rel=STU.SKIPPED),
        stu(50, "S4", rel=STU.SKIPPED)]))
    for stop, hms in (("S2", "08:05"), ("S3", "08:25")):
        row = live.row(stop, hms, "T1")
        assert row is not None, stop
        assert (row["status"], row["realtime_departure"]) == ("skipped", None), stop
    row = live.row("S1", "07:55", "T1")
    assert row is not None and row["status"] == "on_time"
    row = live.row("ST1", "08:15", "T1")
    assert row is not None and row["status"] == "on_time"
    trip = live.trip("T1")
    assert trip["status"] == "scheduled"
    assert [s["status"] for s in trip["stops"]] == ["on_time", "skipped", "on_time", "skipped",
                                                    "skipped"]


def test_late_trip_scheduled_before_the_window_is_on_the_board(live: Live) -> None:
    """T1 is due at S1 at 08:00 but leaves at 08:10: a board from 08:05 shows it."""
    live.send(t1_delay(600))
    row = live.row("S1", "08:05", "T1", window=15)
    assert row is not None
    assert (row["scheduled_departure"], row["realtime_departure"]) == (local("08:00"),
                                                                       local("08:10"))


def test_early_trip_scheduled_after_the_window_is_on_the_board(live: Live) -> None:
    """T1 is due at S1 at 08:00 but leaves at 07:57: a board of 07:50-07:59 shows it, and a
    board from 07:58 does not."""
    live.send(t1_delay(-180))
    row = live.row("S1", "07:50", "T1", window=9)
    assert row is not None
    assert (row["realtime_departure"], row["delay_s"]) == (local("07:57"), -180)
    assert live.row("S1", "07:58", "T1", window=30) is None


def test_canceled_trip_stays_on_boards(live: Live) -> None:
    live.send(trip_update("e1", "T1", start_date=YMD, rel=TD.CANCELED))
    for stop, hms in (("S1", "07:55"), ("S2", "08:05"), ("ST1", "08:15")):
        row = live.row(stop, hms, "T1")
        assert row is not None, stop
        assert (row["status"], row["realtime_departure"], row["delay_s"]) == (
            "canceled", None, None)
    assert live.trip("T1")["status"] == "canceled"
    other = live.row("S1", "08:55", "T4")
    assert other is not None and other["status"] == "scheduled"


def test_deleted_trip_is_hidden(live: Live) -> None:
    live.send(trip_update("e1", "T1", start_date=YMD, rel=TD.DELETED))
    assert live.row("S1", "07:55", "T1") is None
    assert live.row("S2", "08:05", "T1") is None
    assert live.row("S1", "08:55", "T4") is not None
    assert live.status()["applied"] == 1


@pytest.mark.parametrize("rel", [TD.ADDED, TD.NEW], ids=["ADDED", "NEW"])
def test_added_trip_on_boards(live: Live, rel: int) -> None:
    live.send(trip_update("x", "X1", start_date=YMD, route_id="R1", rel=rel, updates=[
        stu(stop="S1", dep=event(time_=t("08:05"))),
        stu(stop="S2", arr=event(time_=t("08:14")), dep=event(time_=t("08:15"))),
        stu(stop="S3", arr=event(time_=t("08:25")))]))
    assert live.status()["applied"] == 1
    for stop, hms, dep in (("S1", "07:55", "08:05"), ("S2", "08:05", "08:15")):
        row = live.row(stop, hms, "X1")
        assert row is not None, stop
        assert row["status"] == "added"
        assert row["realtime_departure"] == row["scheduled_departure"] == local(dep)
        assert row["route"]["id"] == "A:R1"
        assert row["operator"] == "A"
        assert row["service_date"] == "2026-03-10"
    assert live.row("S3", "08:20", "X1") is None  # it ends there


def test_added_trip_without_start_date_takes_the_local_service_day(live: Live) -> None:
    """Pushed at 00:30 Brussels time on the 11th (23:30 UTC on the 10th), an ADDED trip
    without start_date runs on the service day 2026-03-11 of the operator's zone."""
    live.clock.set(datetime(2026, 3, 11, 0, 30, tzinfo=ZoneInfo(TZ)))
    live.send(trip_update("x", "X2", route_id="R1", rel=TD.ADDED, updates=[
        stu(stop="S1", dep=event(time_=t("00:40", NEXT))),
        stu(stop="S2", arr=event(time_=t("00:50", NEXT)))]))
    row = live.row("S1", "00:35", "X2", day=NEXT)
    assert row is not None
    assert row["service_date"] == "2026-03-11"


def test_duplicated_trip(live: Live) -> None:
    """T1 DUPLICATED to start at 10:00 as T1-dup: a second run on boards, T1 unchanged."""
    live.send(trip_update("dup", "T1", start_date=YMD, rel=TD.DUPLICATED,
                          dup={"trip_id": "T1-dup", "start_date": YMD,
                               "start_time": "10:00:00"}))
    assert live.status()["applied"] == 1
    row = live.row("S1", "09:55", "T1-dup")
    assert row is not None
    assert (row["status"], row["realtime_departure"]) == ("added", local("10:00"))
    assert row["route"]["id"] == "A:R1"
    row = live.row("S2", "10:05", "T1-dup")
    assert row is not None and row["realtime_departure"] == local("10:11")
    orig = live.row("S1", "07:55", "T1")
    assert orig is not None and orig["status"] == "scheduled"


# --------------------------------------------------------------------------- platforms


def test_platform_change_by_assigned_stop_id(live: Live) -> None:
    live.send(trip_update("e1", "T1", start_date=YMD, updates=[
        stu(30, "ST1", dep=event(delay=0), assigned="ST2")]))
    row = live.row("ST1", "08:15", "T1")
    assert row is not None
    assert (row["platform"], row["scheduled_platform"]) == ("2", "1")
    rows = [d for d in live.board("ST", "08:15", station=True)["departures"]
            if d["trip_id"] == "A:T1"]
    assert [(d["platform"], d["scheduled_platform"]) for d in rows] == [("2", "1")]
    st1 = live.stops("T1")["ST1"]
    assert (st1["platform"], st1["scheduled_platform"]) == ("2", "1")
    other = live.row("ST1", "09:15", "T4")
    assert other is not None and other["platform"] == "1"


def test_platform_change_by_sibling_stop_id(live: Live) -> None:
    """NMBS style: only a stop_id, which is another platform of the station the trip calls
    at. Same call, other platform, with the update's delay."""
    live.send(trip_update("e1", "T1", start_date=YMD, updates=[
        stu(stop="ST2", dep=event(delay=60))]))
    assert live.status()["applied"] == 1
    row = live.row("ST1", "08:15", "T1")
    assert row is not None
    assert (row["platform"], row["scheduled_platform"], row["delay_s"]) == ("2", "1", 60)
    assert row["stop_id"] == "A:ST1"


# --------------------------------------------------------------------------- feed level


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_full_dataset_replaces_and_empty_clears(make_live: Callable[..., Live],
                                                backend: str) -> None:
    live = make_live(backend)

    def t_delays() -> tuple[Any, Any]:
        a, b = live.row("S1", "07:55", "T1", window=90), live.row("S1", "07:55", "T4",
                                                                  window=90)
        assert a is not None and b is not None
        return a["delay_s"], b["delay_s"]

    live.send(t1_delay(120), vehicle("v1", 50.0, 4.0, "T1"))
    live.until(lambda: t_delays() == (120, None))
    live.send(trip_update("e4", "T4", start_date=YMD, updates=[stu(1, "S1",
                                                                   dep=event(delay=60))]),
              kind="trip-updates")
    live.until(lambda: t_delays() == (None, 60), "T1 replaced by T4")
    # an empty FULL_DATASET of trip updates clears them, and only them
    live.send(kind="trip-updates")
    live.until(lambda: t_delays() == (None, None), "trip updates cleared")
    vehicles = live.client.get("/v1/vehicles", params={"lat": 50.0, "lon": 4.0}).json()
    assert [f["id"] for f in vehicles["features"]] == ["A:v1"]
    assert live.status()["entities"] == 0
    # an empty FULL_DATASET without kind clears every kind of the operator
    live.send()
    live.until(lambda: live.client.get("/v1/vehicles", params={"lat": 50.0, "lon": 4.0})
               .json()["features"] == [], "vehicles cleared")


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_differential_merges(make_live: Callable[..., Live], backend: str) -> None:
    live = make_live(backend)

    def t_delays() -> tuple[Any, Any]:
        a, b = live.row("S1", "07:55", "T1", window=90), live.row("S1", "07:55", "T4",
                                                                  window=90)
        assert a is not None and b is not None
        return a["delay_s"], b["delay_s"]

    live.send(t1_delay(120))
    live.until(lambda: t_delays() == (120, None))
    live.send(trip_update("e4", "T4", start_date=YMD, updates=[stu(1, "S1",
                                                                   dep=event(delay=60))]),
              full=False)
    live.until(lambda: t_delays() == (120, 60), "T4 merged next to T1")
    live.send(t1_delay(300), full=False)  # same entity id: replaces that entity
    live.until(lambda: t_delays() == (300, 60), "T1 entity replaced")
    st = live.status()
    assert (st["entities"], st["applied"], st["incrementality"]) == (2, 2, "DIFFERENTIAL")
    live.send(full=False)  # an empty DIFFERENTIAL changes nothing
    live.until(lambda: live.status().get("incrementality") == "DIFFERENTIAL")
    assert t_delays() == (300, 60)


def test_differential_is_deleted_removes_an_entity(live: Live) -> None:
    """In a DIFFERENTIAL feed, an entity with is_deleted removes what that id said before."""
    live.send(t1_delay(120), trip_update("e4", "T4", start_date=YMD,
                                         updates=[stu(1, "S1", dep=event(delay=60))]))
    gone = pb.FeedEntity(id="e1", is_deleted=True)
    live.send(gone, full=False)
    row = live.row("S1", "07:55", "T1")
    assert row is not None and row["realtime_departure"] is None
    assert live.stops("T4")["S1"]["delay_s"] == 60
    assert live.status()["entities"] == 1


def test_stale_trip_updates_are_not_used(live: Live) -> None:
    live.send(t1_delay(120))
    live.clock.advance(90 - LAG - 1)  # 89 s old
    b = live.board("S1", "07:55")
    assert b["realtime"]["stale_operators"] == []
    assert next(d for d in b["departures"] if d["trip_id"] == "A:T1")["delay_s"] == 120
    live.clock.advance(2)  # 91 s old: stale by the service clock
    b = live.board("S1", "07:55")
    assert b["realtime"]["available"] is True
    assert b["realtime"]["stale_operators"] == ["A"]
    row = next(d for d in b["departures"] if d["trip_id"] == "A:T1")
    assert (row["realtime_departure"], row["delay_s"], row["status"]) == (None, None,
                                                                          "scheduled")
    assert live.stops("T1")["S1"]["realtime_departure"] is None
    assert live.status()["age_s"] == 91


def test_stale_added_trips_are_not_used(live: Live) -> None:
    """A feed with only an ADDED trip: once stale, the trip leaves the boards and the
    operator is listed as stale."""
    live.send(trip_update("x", "X1", start_date=YMD, route_id="R1", rel=TD.ADDED, updates=[
        stu(stop="S1", dep=event(time_=t("08:05"))), stu(stop="S2", arr=event(time_=t("08:14")))
    ]))
    assert live.row("S1", "07:55", "X1") is not None
    live.clock.advance(120)
    b = live.board("S1", "07:55")
    assert "A:X1" not in [d["trip_id"] for d in b["departures"]]
    assert b["realtime"]["stale_operators"] == ["A"]


BAD_ENTITIES = [
    pytest.param("trip not found", trip_update(
        "bad", "NOPE", start_date=YMD, updates=[stu(1, "S1", dep=event(delay=60))]),
        id="trip-not-found"),
    pytest.param("no service on date", trip_update(
        "bad", "T4", start_date="20260312", updates=[stu(1, "S1", dep=event(delay=60))]),
        id="no-service-on-date"),
    pytest.param("unknown stop", trip_update(
        "bad", "T4", start_date=YMD, updates=[stu(stop="NOPE", dep=event(delay=60))]),
        id="unknown-stop"),
    pytest.param("stop mismatch", trip_update(
        "bad", "T4", start_date=YMD, updates=[stu(2, "S3", dep=event(delay=60))]),
        id="stop-mismatch"),
    pytest.param("invalid stop sequence", trip_update(
        "bad", "T4", start_date=YMD, updates=[stu(99, dep=event(delay=60))]),
        id="invalid-stop-sequence"),
]


@pytest.mark.parametrize("reason,bad", BAD_ENTITIES)
def test_one_bad_entity_is_counted_and_the_rest_applies(live: Live, reason: str,
                                                        bad: pb.FeedEntity) -> None:
    live.send(t1_delay(120), bad, trip_update("e3", "T3", start_date=YMD,
                                              updates=[stu(1, "S4", dep=event(delay=60))]))
    st = live.status()
    assert (st["entities"], st["applied"], st["rejected"]) == (3, 2, {reason: 1})
    assert "bad" in st["rejected_examples"][reason]  # the entity
    row = live.row("S1", "07:55", "T1")
    assert row is not None and row["delay_s"] == 120
    assert live.stops("T3")["S4"]["delay_s"] == 60
    assert live.stops("T4")["S1"]["realtime_departure"] is None


@pytest.mark.parametrize("reason,bad", BAD_ENTITIES)
def test_rejected_example_names_the_trip(live: Live, reason: str, bad: pb.FeedEntity) -> None:
    """The consumer notes: "skip it, count it by reason, name the trip"."""
    live.send(bad)
    example = live.status()["rejected_examples"][reason]
    trip = bad.trip_update.trip.trip_id
    assert trip in example, f"the example of {reason!r} does not name trip {trip}: {example!r}"


# --------------------------------------------------------------------------- push endpoint


def test_push_authentication(live: Live) -> None:
    body = feed(t1_delay(120), ts=live.ts())
    r = live.push(body, key=None, expect=401)
    assert r.headers["www-authenticate"].lower().startswith("bearer")
    assert r.headers["content-type"].startswith("application/problem+json")
    r = live.client.post("/v1/operators/A/realtime", content=body.SerializeToString(),
                         headers={"Authorization": f"Basic {KEY}"})
    assert r.status_code == 401
    live.push(body, key="wrong", expect=401)  # no such key: not authenticated
    live.push(body, key="b-key", expect=403)  # B's key does not push for A
    live.push(body, op="NOPE", expect=403)  # A's key is for A only, known operator or not
    assert live.status() == {}  # nothing was stored
    row = live.row("S1", "07:55", "T1")
    assert row is not None and row["realtime_departure"] is None
    r = live.push(body)
    assert r.json() == {"operator": "A", "kinds": ["trip-updates"], "entities": 1}


def _parser_reason(body: bytes) -> str:
    msg = pb.FeedMessage()
    try:
        msg.ParseFromString(body)
    except DecodeError as exc:
        return str(exc)
    assert not msg.header.gtfs_realtime_version
    return "gtfs_realtime_version"


@pytest.mark.parametrize("body", [b"\xff\xff\xff\xff not protobuf", b"",
                                  pb.FeedMessage(entity=[t1_delay(1)]).SerializePartialToString()],
                         ids=["garbage", "empty", "no-header"])
def test_invalid_body_is_400_and_changes_nothing(live: Live, body: bytes) -> None:
    live.send(t1_delay(120))
    before = live.status()
    r = live.push(body, expect=400)
    detail = r.json()["detail"]
    assert _parser_reason(body) in detail
    assert "FeedMessage" in detail
    row = live.row("S1", "07:55", "T1")
    assert row is not None and row["delay_s"] == 120
    after = live.status()
    assert {k: after[k] for k in ("entities", "applied", "rejected", "feed_timestamp",
                                  "last_success")} == {
        k: before[k] for k in ("entities", "applied", "rejected", "feed_timestamp",
                               "last_success")}
    assert after["last_error"] and "FeedMessage" in after["last_error"]


def test_body_over_the_limit_is_413(make_live: Callable[..., Live]) -> None:
    live = make_live(max_push_bytes=1024)
    live.send(t1_delay(120))
    big = feed(*[t1_delay(60, eid=f"e{i}") for i in range(100)], ts=live.ts())
    body = big.SerializeToString()
    assert len(body) > 1024
    r = live.push(body, expect=413)
    assert r.headers["content-type"].startswith("application/problem+json")

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while streaming
        for i in range(0, len(body), 256):
            yield body[i:i + 256]

    r = live.client.post("/v1/operators/A/realtime", content=chunks(),
                         headers={"Authorization": f"Bearer {KEY}"})
    assert r.status_code == 413
    row = live.row("S1", "07:55", "T1")
    assert row is not None and row["delay_s"] == 120
    assert live.status()["entities"] == 1


# --------------------------------------------------------------------------- vehicles, alerts


def test_vehicle_without_trip_is_on_the_map(live: Live) -> None:
    live.send(vehicle("bus7", 50.0101, 4.0001), vehicle("bus8", 50.02, 4.0, "NOPE"))
    feats = {f["id"]: f for f in live.client.get(
        "/v1/vehicles", params={"bbox": "3.9,49.9,4.1,50.1"}).json()["features"]}
    assert set(feats) == {"A:bus7", "A:bus8"}
    assert feats["A:bus7"]["properties"]["trip_id"] is None
    assert feats["A:bus8"]["properties"]["trip_id"] is None
    st = live.status("vehicle-positions")
    assert (st["entities"], st["applied"]) == (2, 2)


def test_alert_selectors_periods_and_language(live: Live) -> None:
    """Fields of one informed_entity are ANDed, informed entities ORed; active_period; text
    in the caller's language with a fallback."""
    e = pb.FeedEntity(id="al1")
    a = e.alert
    ie = a.informed_entity.add()
    ie.route_id, ie.stop_id = "R1", "S2"  # R1 at S2 only
    a.informed_entity.add().stop_id = "S4"  # or anything at S4
    p = a.active_period.add()
    p.start, p.end = t("08:00"), t("09:05")
    a.effect = pb.Alert.DETOUR
    for lang, text in (("fr", "Déviation"), ("nl", "Omleiding"), ("en", "Detour")):
        tr = a.header_text.translation.add()
        tr.language, tr.text = lang, text
    live.send(e)
    row = live.row("S2", "08:05", "T1")
    assert row is not None and [x["id"] for x in row["alerts"]] == ["A:al1"]
    assert row["alerts"][0]["header"] == "Detour"  # no language asked: English
    row = live.row("S1", "07:55", "T1")
    assert row is not None and row["alerts"] == []  # R1 but not at S2
    late = live.row("S2", "09:30", "T3")
    assert late is not None and late["alerts"] == []  # after the active period
    r = live.client.get("/v1/alerts", params={"at": "any", "lang": "nl"}).json()
    assert [x["text"]["header"] for x in r["alerts"]] == ["Omleiding"]
    r = live.client.get("/v1/alerts", params={"lang": "de", "at": local("08:30")}).json()
    assert [x["text"]["header"] for x in r["alerts"]] == ["Detour"]
    r = live.client.get("/v1/alerts", params={"at": local("10:00")}).json()
    assert r["alerts"] == []


def test_stale_alerts_are_not_used(live: Live) -> None:
    """Alerts older than ~10 minutes by the service clock are stale (the consumer notes):
    an alert feed pushed once and never refreshed stops showing after that."""
    e = pb.FeedEntity(id="al1")
    e.alert.informed_entity.add().stop_id = "S1"
    e.alert.header_text.translation.add().text = "Works"
    live.send(e)
    row = live.row("S1", "07:55", "T1")
    assert row is not None and [a["id"] for a in row["alerts"]] == ["A:al1"]
    live.clock.advance(11 * 60)
    row = live.row("S1", "07:55", "T1")
    assert row is not None and row["alerts"] == []
    assert live.client.get("/v1/alerts", params={"at": "any"}).json()["alerts"] == []


def test_operators_are_kept_apart(tmp_path: Path) -> None:
    """A and B have the same ids (trip T1, stop S1): A's feed changes A:T1 only, and A's
    staleness is A's alone."""
    ingest(catalog_of({"A": write_feed(tmp_path / "a", SMALL_FEED),
                       "B": write_feed(tmp_path / "b", SMALL_FEED)}), Store(tmp_path / "d"))
    clock = MutableClock(START)
    app = create_app(Settings(data_dir=tmp_path / "d", rate_limit_per_minute=0, redis_url=None,
                              push_keys={"A": KEY, "B": "b-key"}, realtime_poll=False),
                     clock=clock)
    with TestClient(app) as client:
        live = Live(client, clock)
        live.send(t1_delay(120))
        clock.advance(60)
        r = client.post("/v1/operators/B/realtime",
                        content=feed(t1_delay(300), ts=clock.ts - LAG).SerializeToString(),
                        headers={"Authorization": "Bearer b-key"})
        assert r.status_code == 202, r.text

        def delays() -> dict[str, Any]:
            out = {}
            for op in ("A", "B"):
                b = client.get(f"/v1/stops/{op}:S1/departures",
                               params={"at": local("07:55"), "window": 30}).json()
                out[op] = next(d["delay_s"] for d in b["departures"]
                               if d["trip_id"] == f"{op}:T1")
            return out

        assert delays() == {"A": 120, "B": 300}
        clock.advance(40)  # A's feed is 105 s old, B's 45 s
        assert delays() == {"A": None, "B": 300}
        b = client.get("/v1/stops/B:S1/departures", params={"at": local("07:55")}).json()
        assert b["realtime"]["stale_operators"] == ["A"]


def test_board_rows_as_fragments_are_the_dict_rows_byte_for_byte(live: Live) -> None:
    """The HTTP boards write each row as JSON text from pieces kept per version
    (service._row_fragment); the commuter's board builds dicts (service._row_dict). With a
    delay, a skipped stop and a cancellation live, both give the same bytes at every stop."""
    live.send(t1_delay(300), trip_update("e2", "T4", start_date=YMD, updates=[
        stu(10, "S1", dep=event(delay=60)), stu(20, "S2", rel=STU.SKIPPED)]),
        trip_update("e3", "T3", start_date=YMD, rel=TD.CANCELED))
    app: Any = live.client.app
    tt = app.state.holder.get()
    ctx = LiveContext(app.state.live.overlay(), live.clock.ts,
                      app.state.settings.realtime_stale_after_s)
    assert ctx.overlay.trips  # the live data is in the snapshot compared
    compared, statuses = 0, set()
    for stop in ("S1", "S2", "S3", "S4", "ST1"):
        members = np.array([tt.stop_index[f"A:{stop}"]], np.int64)
        start = datetime.fromisoformat(local("07:30"))
        rows = [orjson.dumps(service.board(tt, members, start, 180, 50, ["en"], live=ctx,
                                           fragments=f), option=orjson.OPT_SERIALIZE_NUMPY)
                for f in (True, False)]
        assert rows[0] == rows[1], stop
        shown = orjson.loads(rows[0])["departures"]
        compared += len(shown)
        statuses |= {d["status"] for d in shown}
    assert compared >= 8
    assert {"delayed", "skipped", "canceled"} <= statuses, statuses
