"""Live data that must never break an answer: every pushed value is judged on the way in.

An implausible value (a time in year 36812, a vehicle at latitude 1e9, a delay of days, a
timestamp from the future) rejects its entity with a counted reason and the rest of the feed
applies; a feed dated ahead of the service clock is refused whole; a push whose body holds
another kind than declared is refused; vehicles that stopped reporting leave the map.

Same small network and clock as tests/test_realtime_semantics.py (Tuesday 2026-03-10 07:50
Europe/Brussels, feeds stamped 5 s before)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from google.transit import gtfs_realtime_pb2 as pb

from tests.conftest import catalog_of
from tests.feeds import write_feed
from tests.realtime_support import (
    SMALL_FEED,
    TD,
    MutableClock,
    event,
    feed,
    stu,
    trip_update,
    vehicle,
)
from tests.test_realtime_semantics import KEY, START, YMD, Live, local, t, t1_delay
from transit.app import create_app
from transit.ingest.pipeline import ingest
from transit.settings import Settings
from transit.timetable.store import Store

FAR = 1 << 40  # year 36812
INT64_MAX = (1 << 63) - 1
BBOX = {"bbox": "3.9,49.9,4.1,50.1"}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rt-validation")
    assert ingest(catalog_of({"A": write_feed(root / "a", SMALL_FEED)}),
                  Store(root / "data")) is not None
    return root / "data"


@pytest.fixture
def make_live(data_dir: Path) -> Iterator[Callable[..., Live]]:
    opened: list[TestClient] = []

    def make(**settings: Any) -> Live:
        clock = MutableClock(START)
        values: dict[str, Any] = {"data_dir": data_dir, "rate_limit_per_minute": 0,
                                  "redis_url": None, "push_keys": {"A": KEY},
                                  "realtime_poll": False, **settings}
        client = TestClient(create_app(Settings(**values), clock=clock))
        client.__enter__()
        opened.append(client)
        return Live(client, clock)

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def live(make_live: Callable[..., Live]) -> Live:
    return make_live()


def good_t3() -> pb.FeedEntity:
    return trip_update("e3", "T3", start_date=YMD, updates=[stu(1, "S4", dep=event(delay=60))])


def vehicles(live: Live, **params: Any) -> dict[str, dict]:
    r = live.client.get("/v1/vehicles", params=params or BBOX)
    assert r.status_code == 200, r.text
    return {f["id"]: f for f in r.json()["features"]}


def exported(live: Live, kind: str) -> list[str]:
    r = live.client.get(f"/v1/gtfs-rt/{kind}")
    assert r.status_code == 200, r.text
    msg = pb.FeedMessage()
    msg.ParseFromString(r.content)
    return [e.id for e in msg.entity]


# --------------------------------------------------------------------------- trip updates


def test_stop_time_in_year_36812_rejects_the_entity_and_the_trip_still_answers(
        live: Live) -> None:
    bad = trip_update("bad", "T1", start_date=YMD,
                      updates=[stu(20, "S2", dep=event(time_=FAR))])
    live.send(bad, good_t3())
    st = live.status()
    assert (st["entities"], st["applied"]) == (2, 1)
    assert st["rejected"] == {"time outside the service day": 1}
    assert "bad" in st["rejected_examples"]["time outside the service day"]
    assert "T1" in st["rejected_examples"]["time outside the service day"]
    assert live.stops("T1")["S2"]["realtime_departure"] is None  # answered, no live time
    assert live.stops("T3")["S4"]["delay_s"] == 60
    assert exported(live, "trip-updates") == ["A:e3"]  # not republished


@pytest.mark.parametrize("when", [
    pytest.param(lambda: t("08:11") - 2 * 86400, id="two-days-before"),
    pytest.param(lambda: t("08:40") + 7 * 3600, id="beyond-the-delay-bound-after-the-trip"),
    pytest.param(lambda: INT64_MAX, id="int64-max"),
])
def test_times_far_outside_the_service_day_are_rejected(live: Live,
                                                        when: Callable[[], int]) -> None:
    live.send(trip_update("bad", "T1", start_date=YMD,
                          updates=[stu(20, "S2", arr=event(time_=when()))]), good_t3())
    st = live.status()
    assert (st["applied"], st["rejected"]) == (1, {"time outside the service day": 1})
    assert live.stops("T1")["S2"]["realtime_arrival"] is None


def test_delay_beyond_the_bound_is_rejected(live: Live) -> None:
    six_h = 6 * 3600
    live.send(t1_delay(six_h), good_t3())
    st = live.status()
    assert (st["applied"], st["rejected"]) == (2, {})
    live.send(t1_delay(six_h + 1), good_t3())
    st = live.status()
    assert (st["applied"], st["rejected"]) == (1, {"delay out of bounds": 1})
    assert live.stops("T1")["S1"]["realtime_departure"] is None
    live.send(t1_delay(-six_h - 1), good_t3())  # early too
    assert live.status()["rejected"] == {"delay out of bounds": 1}
    # a time that means the same delay
    live.send(trip_update("e1", "T1", start_date=YMD,
                          updates=[stu(20, "S2", dep=event(time_=t("08:11") + six_h + 60))]))
    assert live.status()["rejected"] == {"delay out of bounds": 1}


def test_the_delay_bound_is_a_setting(make_live: Callable[..., Live]) -> None:
    live = make_live(realtime_max_delay_s=600)
    live.send(t1_delay(600), good_t3())
    assert live.status()["rejected"] == {}
    live.send(t1_delay(601), good_t3())
    assert live.status()["rejected"] == {"delay out of bounds": 1}
    assert live.stops("T1")["S1"]["realtime_departure"] is None
    # the boards look back no further than the bound allows
    row = live.row("S1", "07:55", "T1")
    assert row is not None and row["realtime_departure"] is None


def test_added_trip_far_outside_its_service_day_is_rejected(live: Live) -> None:
    live.send(
        trip_update("x", "X1", start_date=YMD, route_id="R1", rel=TD.ADDED, updates=[
            stu(stop="S1", dep=event(time_=t("08:05"))), stu(stop="S2", arr=event(time_=FAR))]),
        trip_update("y", "Y1", start_date="99991231", route_id="R1", rel=TD.ADDED, updates=[
            stu(stop="S1", dep=event(time_=t("08:05"))),
            stu(stop="S2", arr=event(time_=t("08:14")))]),
        trip_update("z", "T1", start_date=YMD, rel=TD.DUPLICATED,
                    dup={"trip_id": "T1b", "start_time": "10:00:00",
                         "start_date": "00010101"}),
        good_t3())
    st = live.status()
    assert st["applied"] == 1
    assert st["rejected"] == {"time outside the service day": 1,
                              "start_date outside the service period": 2}
    ids = [d["trip_id"] for d in live.board("S1", "07:55")["departures"]]
    assert "A:X1" not in ids and "A:Y1" not in ids


# --------------------------------------------------------------------------- vehicles


@pytest.mark.parametrize("lat,lon", [(1e9, 4.0), (50.0, math.nan), (50.0, math.inf),
                                     (-91.0, 4.0), (50.0, 180.5), (math.nan, math.nan)])
def test_vehicle_position_out_of_range_is_rejected(live: Live, lat: float, lon: float) -> None:
    live.send(vehicle("bad", lat, lon), vehicle("bus7", 50.0101, 4.0001))
    st = live.status("vehicle-positions")
    assert (st["entities"], st["applied"]) == (2, 1)
    assert st["rejected"] == {"invalid position": 1}
    assert set(vehicles(live)) == {"A:bus7"}
    far = vehicles(live, lat=-10.0, lon=120.0, radius=50_000)
    assert far == {}  # the distance to latitude 1e9 does not wrap into range
    assert exported(live, "vehicle-positions") == ["A:bus7"]


@pytest.mark.parametrize("field,value", [("bearing", math.nan), ("bearing", 361.0),
                                         ("speed", math.inf), ("speed", -1.0)])
def test_vehicle_bearing_and_speed_are_judged(live: Live, field: str, value: float) -> None:
    bad = vehicle("bad", 50.0, 4.0)
    setattr(bad.vehicle.position, field, value)
    live.send(bad, vehicle("bus7", 50.0101, 4.0001))
    st = live.status("vehicle-positions")
    assert st["rejected"] == {f"invalid {field}": 1}
    assert set(vehicles(live)) == {"A:bus7"}


def test_vehicle_timestamp_in_the_future_is_rejected(live: Live) -> None:
    soon, later, absurd = (vehicle(f"v{i}", 50.0, 4.0) for i in range(3))
    soon.vehicle.timestamp = live.clock.ts + 120  # clocks drift a little
    later.vehicle.timestamp = live.clock.ts + 600
    absurd.vehicle.timestamp = INT64_MAX
    live.send(soon, later, absurd)
    st = live.status("vehicle-positions")
    assert (st["applied"], st["rejected"]) == (1, {"timestamp in the future": 2})
    assert set(vehicles(live)) == {"A:v0"}
    r = live.client.get("/v1/operators/A/realtime")
    assert r.status_code == 200


def test_vehicles_that_stop_reporting_leave_the_map(make_live: Callable[..., Live]) -> None:
    live = make_live(realtime_vehicle_max_age_s=300)
    old = vehicle("old", 50.0, 4.0)
    old.vehicle.timestamp = live.clock.ts - 200
    live.send(old, vehicle("bus7", 50.0101, 4.0001))  # bus7: the feed's time (5 s ago)
    assert set(vehicles(live)) == {"A:old", "A:bus7"}
    live.clock.advance(100)  # old: 300 s
    assert set(vehicles(live)) == {"A:old", "A:bus7"}
    live.clock.advance(1)
    assert set(vehicles(live)) == {"A:bus7"}
    assert exported(live, "vehicle-positions") == ["A:bus7"]
    live.clock.advance(200)
    assert vehicles(live) == {}
    assert exported(live, "vehicle-positions") == []


# --------------------------------------------------------------------------- whole feeds


@pytest.mark.parametrize("ahead", [600, INT64_MAX], ids=["ten-minutes", "int64-max"])
def test_feed_dated_ahead_of_the_clock_is_refused(live: Live, ahead: int) -> None:
    live.send(t1_delay(120))
    ts = ahead if ahead == INT64_MAX else live.clock.ts + ahead
    r = live.push(feed(t1_delay(300), ts=ts), expect=422)
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "ahead of the service clock" in r.json()["detail"]
    st = live.status()
    assert st["applied"] == 1 and "ahead of the service clock" in st["last_error"]
    row = live.row("S1", "07:55", "T1")
    assert row is not None and row["delay_s"] == 120  # the last good feed stays
    # a little drift is fine
    live.push(feed(t1_delay(300), ts=live.clock.ts + 60))
    assert live.stops("T1")["S1"]["delay_s"] == 300


def test_the_future_tolerance_is_a_setting(make_live: Callable[..., Live]) -> None:
    live = make_live(realtime_future_tolerance_s=10)
    live.push(feed(t1_delay(300), ts=live.clock.ts + 11), expect=422)
    live.push(feed(t1_delay(300), ts=live.clock.ts + 10))


def test_push_of_another_kind_than_declared_is_refused(live: Live) -> None:
    live.send(t1_delay(120))
    live.send(vehicle("bus7", 50.0101, 4.0001))
    r = live.push(feed(vehicle("bus8", 50.0, 4.0), ts=live.ts()), kind="trip-updates",
                  expect=422)
    detail = r.json()["detail"]
    assert "trip-updates" in detail and "vehicle-positions" in detail
    r = live.push(feed(t1_delay(60), ts=live.ts()), kind="vehicle-positions", expect=422)
    assert "holds trip-updates" in r.json()["detail"]
    row = live.row("S1", "07:55", "T1")
    assert row is not None and row["delay_s"] == 120  # nothing cleared
    assert set(vehicles(live)) == {"A:bus7"}
    # an empty FULL_DATASET of the declared kind still clears that kind only
    live.push(feed(ts=live.ts()), kind="vehicle-positions")
    assert vehicles(live) == {}
    assert live.row("S1", "07:55", "T1")["delay_s"] == 120  # type: ignore[index]


def test_unparsable_push_is_counted_under_the_kind_pushed(live: Live) -> None:
    live.send(vehicle("bus7", 50.0101, 4.0001))
    live.push(b"\xff\xff garbage", expect=400)
    r = live.client.get("/v1/operators/A/realtime").json()
    feeds = {f["kind"]: f for f in r["feeds"]}
    assert set(feeds) == {"vehicle-positions"}
    assert "FeedMessage" in feeds["vehicle-positions"]["last_error"]
    live.push(b"\xff\xff garbage", kind="alerts", expect=400)
    feeds = {f["kind"]: f for f in live.client.get("/v1/operators/A/realtime").json()["feeds"]}
    assert set(feeds) == {"vehicle-positions", "alerts"}
    assert "FeedMessage" in feeds["alerts"]["last_error"]


def test_alert_period_beyond_year_9999_is_rejected(live: Live) -> None:
    bad = pb.FeedEntity(id="al-bad")
    bad.alert.informed_entity.add().stop_id = "S1"
    bad.alert.active_period.add().end = (1 << 64) - 1
    good = pb.FeedEntity(id="al-good")
    good.alert.informed_entity.add().stop_id = "S1"
    good.alert.active_period.add().start = t("07:00")
    live.send(bad, good)
    st = live.status("alerts")
    assert st["rejected"] == {"invalid active period": 1}
    r = live.client.get("/v1/alerts", params={"at": "any"})
    assert r.status_code == 200
    assert [a["id"] for a in r.json()["alerts"]] == ["A:al-good"]


# --------------------------------------------------------------------------- stop matching


def test_unknown_stop_sequence_matches_by_a_stop_id_of_the_trip(live: Live) -> None:
    """The SNCB feed identifies stops by id; its sequences may not be the static ones."""
    live.send(trip_update("e4", "T4", start_date=YMD,
                          updates=[stu(99, "S2", dep=event(delay=60))]),
              trip_update("bad", "T3", start_date=YMD,
                          updates=[stu(99, dep=event(delay=60))]))
    st = live.status()
    assert (st["applied"], st["rejected"]) == (1, {"invalid stop sequence": 1})
    assert st["warnings"] == {"stop_sequence not in the trip, matched by stop_id": 1}
    assert "e4" in st["warning_examples"]["stop_sequence not in the trip, matched by stop_id"]
    s = live.stops("T4")
    assert (s["S2"]["delay_s"], s["S1"]["realtime_departure"]) == (60, None)
    assert s["S3"]["realtime_departure"] == local("09:31")


def test_unknown_stop_sequence_with_a_stop_not_in_the_trip_is_rejected(live: Live) -> None:
    live.send(trip_update("bad", "T2", start_date=YMD,
                          updates=[stu(99, "S4", dep=event(delay=60))]), good_t3())
    st = live.status()
    assert (st["applied"], st["warnings"]) == (1, {})
    assert set(st["rejected"]) == {"invalid stop sequence"}


def test_feed_lacking_required_fields_is_400(live: Live) -> None:
    """The parser lets required fields go missing; storing such a message then failed."""
    live.send(t1_delay(120))
    msg = feed(t1_delay(300), ts=live.ts())
    msg.entity[0].ClearField("id")
    msg.entity.add().trip_update.stop_time_update.add().stop_sequence = 1  # no trip, no id
    r = live.push(msg.SerializePartialToString(), expect=400)
    assert "required fields missing" in r.json()["detail"]
    assert "entity[0].id" in r.json()["detail"]
    row = live.row("S1", "07:55", "T1")
    assert row is not None and row["delay_s"] == 120


def test_a_stored_feed_dated_ahead_is_not_applied(live: Live) -> None:
    """What another process (or an older version) stored is judged again when applied."""
    live.send(t1_delay(120))
    state = live.client.app.state.live  # type: ignore[attr-defined]
    state.backend.put("A", "trip-updates", feed(t1_delay(300), ts=INT64_MAX))
    row = live.row("S1", "07:55", "T1")
    assert row is not None and row["realtime_departure"] is None
    r = live.client.get("/v1/operators/A/realtime")
    assert r.status_code == 200
