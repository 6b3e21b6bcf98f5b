"""Starting aboard a vehicle (`from_trip`): the first leg rides the trip on, and the change
off it is searched under the transfer rules."""

from __future__ import annotations

from pathlib import Path

from tests.journey_support import (
    Planner,
    changing,
    feed,
    journey_problems,
    summary,
    trips_of,
    via_network,
)


def test_from_a_trip_the_rider_is_on(tmp_path: Path, planner) -> None:
    p = planner(via_network(tmp_path), "2026-05-05T07:00:00+02:00")
    q = {"from_trip": "Q:T8", "to": "Q:B", "depart_at": "2026-05-05T08:10:00+02:00"}
    body = p.get(**q)
    # aboard T8 (left A at 08:06): stay on to B (08:40), or get off at X for T4 (08:35)
    assert [summary(j) for j in body["journeys"]] == [
        [("Q:T8", "Q:A", "2026-05-05T08:06:00+02:00", "Q:X", "2026-05-05T08:20:00+02:00"),
         ("Q:T4", "Q:X", "2026-05-05T08:25:00+02:00", "Q:B", "2026-05-05T08:35:00+02:00")],
        [("Q:T8", "Q:A", "2026-05-05T08:06:00+02:00", "Q:B", "2026-05-05T08:40:00+02:00")]]
    assert [j["transfers"] for j in body["journeys"]] == [1, 0]
    assert body["search"]["from_trip"] == "Q:T8"
    assert body["search"]["from_date"] == "2026-05-05"
    params = {k: v for k, v in q.items() if k != "depart_at"}
    assert not [x for j in body["journeys"] for x in journey_problems(p, j, params)]
    # past X (08:22): the leg starts at X, the last stop left; only staying on remains
    body = p.get(**{**q, "depart_at": "2026-05-05T08:22:00+02:00", "from_date": "2026-05-05"})
    assert [summary(j) for j in body["journeys"]] == [
        [("Q:T8", "Q:X", "2026-05-05T08:20:00+02:00", "Q:B", "2026-05-05T08:40:00+02:00")]]
    # to X: getting off there
    body = p.get(**{**q, "to": "Q:X"})
    assert [summary(j) for j in body["journeys"]] == [
        [("Q:T8", "Q:A", "2026-05-05T08:06:00+02:00", "Q:X", "2026-05-05T08:20:00+02:00")]]
    cases = [({"depart_at": "2026-05-05T07:00:00+02:00"}, 422, "from_trip"),
             ({"from_trip": "Q:NOPE"}, 404, None),
             ({"from_date": "not-a-date"}, 422, "from_date"),
             ({"from_date": "2027-05-05"}, 422, "from_date"),
             ({"from": "Q:A"}, 422, "from"),
             ({"arrive_by": "2026-05-05T09:00:00+02:00", "depart_at": None}, 422, "from_trip"),
             ({"window": 30}, 422, "from_trip")]
    for extra, status, param in cases:
        params = {k: v for k, v in {**q, **extra}.items() if v is not None}
        r = p.client.get("/v1/journeys", params=params)
        assert r.status_code == status, (extra, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        if param:
            assert r.json()["parameter"] == param, (extra, r.text)
    r = p.client.get("/v1/journeys", params={"to": "Q:B"})
    assert r.status_code == 422 and r.json()["parameter"] == "from"


def _aboard_network(tmp_path: Path, transfers: str) -> dict[str, Path]:
    """T8 (route R8) A 08:00 -> X 08:10 -> Y 08:20 -> B 09:30; T2 (route R2) X 08:15 ->
    Y 08:25 -> B 08:40 and T4 (route R2) X 08:25 -> B 08:50."""
    stops = ("stop_id,stop_name,stop_lat,stop_lon\nA,Ash,50.0,4.0\nX,Xeno,50.01,4.0\n"
             "Y,Yew,50.02,4.0\nB,Birch,50.03,4.0\n")
    return {"Q": feed(tmp_path, "Q", stops, "R8,Q,8,Eight,3\nR2,Q,2,Two,3\n",
                      "route_id,service_id,trip_id\nR8,DAILY,T8\nR2,DAILY,T2\nR2,DAILY,T4\n",
                      "T8,08:00:00,08:00:00,A,1\nT8,08:10:00,08:10:00,X,2\n"
                      "T8,08:20:00,08:20:00,Y,3\nT8,09:30:00,09:30:00,B,4\n"
                      "T2,08:15:00,08:15:00,X,1\nT2,08:25:00,08:25:00,Y,2\n"
                      "T2,08:40:00,08:40:00,B,3\n"
                      "T4,08:25:00,08:25:00,X,1\nT4,08:50:00,08:50:00,B,2\n",
                      **{"transfers.txt": "from_stop_id,to_stop_id,transfer_type,"
                         "min_transfer_time,from_route_id,to_route_id,from_trip_id,to_trip_id\n"
                         + transfers})}


ABOARD_T8 = {"from_trip": "Q:T8", "to": "Q:B", "depart_at": "2026-05-05T08:05:00+02:00"}


def _aboard(p: Planner, **params: object) -> list[dict]:
    """p.plan for a rider aboard (the ride aboard left its stop before depart_at)."""
    js = p.get(**params)["journeys"]
    checked = {k: v for k, v in params.items() if k != "depart_at"}
    assert not [x for j in js for x in journey_problems(p, j, checked)]
    return js


def test_from_trip_changes_off_it_where_a_route_rule_allows(tmp_path: Path, planner) -> None:
    # no change off route 8 at X (type 3): the search gets off at Y for the same T2 instead
    # (a filter of the journeys found would drop the change at X and offer no other)
    p = planner(_aboard_network(tmp_path / "a", ""), "2026-05-05T07:00:00+02:00")
    assert [summary(j)[1][1] for j in _aboard(p, **ABOARD_T8)[:1]] == ["Q:X"]
    p = planner(_aboard_network(tmp_path / "b", "X,X,3,,R8,,,\n"), "2026-05-05T07:00:00+02:00")
    js = _aboard(p, **ABOARD_T8)
    assert [summary(j) for j in js] == [
        [("Q:T8", "Q:A", "2026-05-05T08:00:00+02:00", "Q:Y", "2026-05-05T08:20:00+02:00"),
         ("Q:T2", "Q:Y", "2026-05-05T08:25:00+02:00", "Q:B", "2026-05-05T08:40:00+02:00")],
        [("Q:T8", "Q:A", "2026-05-05T08:00:00+02:00", "Q:B", "2026-05-05T09:30:00+02:00")]]
    # no change off route 8 at either: staying aboard only
    p = planner(_aboard_network(tmp_path / "c", "X,X,3,,R8,,,\nY,Y,3,,R8,,,\n"),
                "2026-05-05T07:00:00+02:00")
    assert trips_of(_aboard(p, **ABOARD_T8)) == [["Q:T8"]]


def test_from_trip_waits_a_trip_rules_minimum_time(tmp_path: Path, planner) -> None:
    # T8 -> route 2 at X takes 10 minutes (the stop's change time is 2), at Y 20: T2 at X
    # (08:15) and at Y (08:25) are missed; T4 (X 08:25) is the next that the rule allows
    rules = "X,X,2,600,,R2,T8,\nY,Y,2,1200,,R2,T8,\n"
    p = planner(_aboard_network(tmp_path, rules), "2026-05-05T07:00:00+02:00")
    assert p.change_s("Q:X") == 120
    js = p.get(**ABOARD_T8)["journeys"]
    assert [summary(j) for j in js] == [
        [("Q:T8", "Q:A", "2026-05-05T08:00:00+02:00", "Q:X", "2026-05-05T08:10:00+02:00"),
         ("Q:T4", "Q:X", "2026-05-05T08:25:00+02:00", "Q:B", "2026-05-05T08:50:00+02:00")],
        [("Q:T8", "Q:A", "2026-05-05T08:00:00+02:00", "Q:B", "2026-05-05T09:30:00+02:00")]]
    # the rider's own slack comes on top: 10 + 16 minutes at X misses T4 as well
    assert trips_of(p.get(**ABOARD_T8, min_transfer_s=960)["journeys"]) == [["Q:T8"]]


def test_from_trip_stays_seated_into_an_in_seat_transfer(tmp_path: Path, planner) -> None:
    # type 4 T1 -> T3 (T3 X 08:11 -> B 08:25, a minute after T1 reaches X: too soon to
    # change): aboard T1, the rider stays seated into T3 (before T2, X 08:15 -> B 08:30);
    # with type 5 instead, T3 cannot be caught: T2
    extra = "T3,08:11:00,08:11:00,X,1\nT3,08:25:00,08:25:00,B,2\n"
    q = {"from_trip": "Q:T1", "to": "Q:B", "depart_at": "2026-05-05T08:05:00+02:00"}
    p = planner(changing(tmp_path / "a", ",,4,,,,T1,T3\n", "R2,DAILY,T3,\n", extra),
                "2026-05-05T07:00:00+02:00")
    [j] = _aboard(p, **q)
    assert summary(j) == [
        ("Q:T1", "Q:A", "2026-05-05T08:00:00+02:00", "Q:X", "2026-05-05T08:10:00+02:00"),
        ("Q:T3", "Q:X", "2026-05-05T08:11:00+02:00", "Q:B", "2026-05-05T08:25:00+02:00",
         "seated")]
    assert j["transfers"] == 0
    p = planner(changing(tmp_path / "b", ",,5,,,,T1,T3\n", "R2,DAILY,T3,BL\n", extra),
                "2026-05-05T07:00:00+02:00")
    js = _aboard(p, **q)
    assert [(t, j["transfers"]) for t, j in zip(trips_of(js), js, strict=True)] == [
        (["Q:T1", "Q:T2"], 1)]


def test_from_trip_on_a_trip_under_way_on_two_service_days(tmp_path: Path, planner) -> None:
    # N runs 25 hours (A 20:00, X 32:00, Y 44:00, B 45:00): at 20:30 the instance of the
    # day before (between Y and B) and today's (between A and X) are both under way;
    # from_date chooses. From X, T2 (08:15 -> B 08:30) is a change off N.
    stops = ("stop_id,stop_name,stop_lat,stop_lon\nA,Ash,50.0,4.0\nX,Xeno,50.01,4.0\n"
             "Y,Yew,50.02,4.0\nB,Birch,50.03,4.0\n")
    f = feed(tmp_path, "Q", stops, "RN,Q,N,Night,2\nR2,Q,2,Two,3\n",
             "route_id,service_id,trip_id\nRN,DAILY,N\nR2,DAILY,T2\n",
             "N,20:00:00,20:00:00,A,1\nN,32:00:00,32:00:00,X,2\nN,44:00:00,44:00:00,Y,3\n"
             "N,45:00:00,45:00:00,B,4\nT2,08:15:00,08:15:00,X,1\nT2,08:30:00,08:30:00,B,2\n")
    p = planner({"Q": f}, "2026-05-05T07:00:00+02:00")
    q = {"from_trip": "Q:N", "to": "Q:B", "depart_at": "2026-05-05T20:30:00+02:00"}
    r = p.client.get("/v1/journeys", params=q)
    assert r.status_code == 422 and r.json()["parameter"] == "from_date"
    assert "2026-05-04, 2026-05-05" in r.text
    body = p.get(**q, from_date="2026-05-04")
    assert [summary(j) for j in body["journeys"]] == [
        [("Q:N", "Q:Y", "2026-05-05T20:00:00+02:00", "Q:B", "2026-05-05T21:00:00+02:00")]]
    assert body["search"]["from_date"] == "2026-05-04"
    body = p.get(**q, from_date="2026-05-05")
    assert [summary(j) for j in body["journeys"]] == [
        [("Q:N", "Q:A", "2026-05-05T20:00:00+02:00", "Q:X", "2026-05-06T08:00:00+02:00"),
         ("Q:T2", "Q:X", "2026-05-06T08:15:00+02:00", "Q:B", "2026-05-06T08:30:00+02:00")]]
    # (staying aboard reaches B at 21:00 the next day: past the search's 24 hours)
    assert body["search"]["from_date"] == "2026-05-05"
    # a minute after yesterday's instance arrives, only today's is under way
    body = p.get(**{**q, "depart_at": "2026-05-05T21:01:00+02:00"})
    assert body["search"]["from_date"] == "2026-05-05"
    assert trips_of(body["journeys"]) == [["Q:N", "Q:T2"], ["Q:N"]]  # (within 24 h)
