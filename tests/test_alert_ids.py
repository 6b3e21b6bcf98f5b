"""Alert ids are unique within a commute: an alert id is derived from the commute, the day,
the watched journey's departure, the kind and the subject, so a commute must never watch
two journeys leaving at the same time (e.g. the same first train, then either staying on
it or changing to a faster one). The planner keeps one journey per departure: the earliest
arrival, then the fewest rides."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.commute_support import LiveRig, commute
from tests.conftest import catalog_of
from tests.feeds import write_feed
from tests.realtime_support import event, feed, stu, trip_update
from transit.ingest.pipeline import ingest
from transit.timetable.store import Store
from transit.timetable.timetable import Timetable

# T1 is slow to S3 (08:40); changing at S2 to T2 gets there at 08:25: two journeys leaving
# S1 at 08:00 on T1, one with a change (earlier arrival), one without (fewer rides).
FEED = {
    "routes.txt": "route_id,agency_id,route_short_name,route_long_name,route_type\n"
                  "R1,A,1,Slow,3\nR2,A,2,Fast,3\n",
    "trips.txt": "route_id,service_id,trip_id,trip_headsign\nR1,DAILY,T1,Third\n"
                 "R2,DAILY,T2,Third\n",
    "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                      "T1,08:00:00,08:00:00,S1,1\nT1,08:10:00,08:11:00,S2,2\n"
                      "T1,08:40:00,08:40:00,S3,3\n"
                      "T2,08:15:00,08:15:00,S2,1\nT2,08:25:00,08:25:00,S3,2\n",
}
NOW = int(datetime.fromisoformat("2026-03-10T07:50:00+01:00").timestamp())
START = datetime.fromisoformat("2026-03-10T07:59:00+01:00")


@pytest.fixture(scope="module")
def two_ways(tmp_path_factory: pytest.TempPathFactory) -> Timetable:
    root = tmp_path_factory.mktemp("two-ways")
    ingest(catalog_of({"A": write_feed(root / "a", FEED)}), Store(root / "data"))
    tt = Store(root / "data").load_current()
    assert tt is not None
    return tt


def test_the_search_finds_two_journeys_with_one_departure(two_ways: Timetable) -> None:
    """The premise: the engine's range search returns both (Pareto by arrival and rides)."""
    from transit.commuters.planning import searcher_of, window_instants
    from transit.routing.search import Query

    c = commute("c", "A:S1", "A:S3", START, 2)
    t0, t1 = window_instants(two_ways, c, START.date())
    s1, s3 = two_ways.stop_index["A:S1"], two_ways.stop_index["A:S3"]
    found = searcher_of(two_ways).depart_in_range(
        Query(origins=[(s1, 0)], destinations=[(s3, 0)], time=t0), t1 - t0)
    assert sorted((j.departure - t0, j.arrival - t0, j.trips) for j in found) == [
        (60, 26 * 60, 2), (60, 41 * 60, 1)]


def test_one_watched_journey_per_departure_the_earliest_arrival(two_ways: Timetable) -> None:
    rig = LiveRig(two_ways, NOW)
    c = commute("c", "A:S1", "A:S3", START, 2)
    plans = rig.evaluator.planner(two_ways).plans(c, START.date())
    assert [([leg.trip_id for leg in p.legs], p.arrival - p.departure) for p in plans] == [
        (["A:T1", "A:T2"], 25 * 60)]


def test_every_alert_of_a_multi_journey_commute_has_its_own_id(two_ways: Timetable) -> None:
    rig = LiveRig(two_ways, NOW)
    rules = [{"kind": "delay", "min_minutes": 5}, {"kind": "missed_connection"}]
    c = commute("c", "A:S1", "A:S3", START, 2, rules=rules)
    assert rig.evaluator.watch(two_ways, [c]) == 1
    late = feed(trip_update("e1", "T1", start_date="20260310",
                            updates=[stu(1, "S1", dep=event(delay=360))]), ts=NOW - 5)
    events = rig.push("A", late)
    # T1 six minutes late: the delay, and the change at S2 to T2 (08:15) is missed
    assert sorted((e.kind, e.subject, e.state, e.version) for e in events) == [
        ("delay", "A:T1", "new", 1), ("missed_connection", "A:T2", "new", 1)]
    assert len({e.id for e in events}) == len(events) == 2
    assert [e.detail["delay_s"] for e in events if e.kind == "delay"] == [360]
    # back on time: each alert resolved once, under its own id
    rig.clock.advance(30)
    ok = feed(trip_update("e1", "T1", start_date="20260310",
                          updates=[stu(1, "S1", dep=event(delay=0))]), ts=NOW + 25)
    done = rig.push("A", ok)
    assert sorted((e.id, e.state, e.version) for e in done) == sorted(
        (e.id, "resolved", 2) for e in events)
