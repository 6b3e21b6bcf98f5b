"""transfers.txt: every transfer type, for stops, stations, routes and trips, with the
spec's precedence; in-seat transfers; recommended and timed transfer points as tie-breaks."""

from __future__ import annotations

from pathlib import Path

from tests.journey_support import (
    AT_0755,
    Planner,
    by_trip,
    changing,
    feed,
    ruled,
    summary,
    trips_of,
)
from transit.routing import raptor
from transit.timetable.departures import _departures

# -- transfers.txt: every type, with the spec's precedence ----------------------------------

def test_no_changing_at_a_stop_with_a_transfer_type_3_to_itself(tmp_path: Path,
                                                                 planner) -> None:
    q = {"from": "Q:A", "to": "Q:B", "depart_at": "2026-05-05T07:55:00+02:00"}
    p = planner(changing(tmp_path / "a", ""), "2026-05-05T07:00:00+02:00")
    assert trips_of(p.plan(**q)) == [["Q:T1", "Q:T2"], ["Q:T9"]]
    # X -> X type 3: no change at X (the direct trip only); walking on from X to a stop
    # 56 m away still takes the walk (or Y's change time), not "never"
    p = planner(changing(tmp_path / "b", "X,X,3,,,,,\n", extra_stops="Y,Yew,50.0105,4.0,0,\n"),
                "2026-05-05T07:00:00+02:00")
    assert trips_of(p.plan(**q)) == [["Q:T9"]]
    assert p.footpath("Q:X", "Q:Y")[:1] == (120,)  # type: ignore[index]
    # a rule for other routes, or other trips, is no rule for these
    p = planner(changing(tmp_path / "c", "X,X,3,,R9,R2,,\nX,X,3,,,,T9,T2\n"),
                "2026-05-05T07:00:00+02:00")
    assert trips_of(p.plan(**q)) == [["Q:T1", "Q:T2"], ["Q:T9"]]
    # route- and trip-specific rules for these trips: a journey breaking one is not offered
    for d, rules, want in (
            ("d", "X,X,3,,R1,R2,,\n", [["Q:T9"]]),  # no change from route 1 to route 2
            ("e", "X,X,2,600,,,T1,T2\n", [["Q:T9"]]),  # 10 minutes from T1 to T2 (5 given)
            ("f", "X,X,2,300,,,T1,T2\n", [["Q:T1", "Q:T2"], ["Q:T9"]]),  # 5 minutes will do
            # a rule for both trips wins over one for a route
            ("g", "X,X,3,,R1,,,\nX,X,0,,,,T1,T2\n", [["Q:T1", "Q:T2"], ["Q:T9"]])):
        p = planner(changing(tmp_path / d, rules), "2026-05-05T07:00:00+02:00")
        assert trips_of(p.plan(**q)) == want, rules

def test_a_forbidden_trip_to_trip_change_finds_the_next_trip(tmp_path: Path, planner) -> None:
    # T1 -> T2 at X is forbidden (type 3): T1 then T4, the next trip of route 2
    p = ruled(tmp_path, planner, "a", "X,X,3,,,,T1,T2\n", five=False)
    js = p.plan(**AT_0755)
    assert summary(js[0]) == [
        ("Q:T1", "Q:A", "2026-05-05T08:00:00+02:00", "Q:X", "2026-05-05T08:10:00+02:00"),
        ("Q:T4", "Q:X", "2026-05-05T08:25:00+02:00", "Q:B", "2026-05-05T08:40:00+02:00")]
    assert trips_of(js) == [["Q:T1", "Q:T4"], ["Q:T9"]]
    # arriving by 08:35: T2 is the last trip that does, and T1 may not change into it: T0
    assert trips_of(p.plan(**by_trip("08:35"))) == [["Q:T0", "Q:T2"]]
    # from T0 the change into T2 stays allowed (08:00 -> 08:15), T1's alone is forbidden
    assert trips_of(p.plan(**{**AT_0755, "depart_at": "2026-05-05T07:45:00+02:00"}))[0] == [
        "Q:T0", "Q:T2"]


def test_a_route_to_route_minimum_time(tmp_path: Path, planner) -> None:
    # route 1 -> route 2 at X takes 10 minutes: T1 (08:10) misses T2 (08:15), T4 (08:25) is fine
    p = ruled(tmp_path, planner, "a", "X,X,2,600,R1,R2,,\n", five=False)
    assert trips_of(p.plan(**AT_0755)) == [["Q:T1", "Q:T4"], ["Q:T9"]]
    assert trips_of(p.plan(**by_trip("08:35"))) == [["Q:T0", "Q:T2"]]
    # the rider's own slack comes on top of the rule's time at one stop
    assert trips_of(p.plan(**AT_0755, min_transfer_s=600)) == [["Q:T9"]]


def test_a_timed_trip_to_trip_transfer_shorter_than_the_stops_change_time(tmp_path: Path,
                                                                         planner) -> None:
    # T5 leaves X a minute after T1 arrives (X's change time is 2 minutes): only a timed
    # transfer (type 1) from T1 to T5 makes it
    p = ruled(tmp_path, planner, "a", "")
    assert trips_of(p.plan(**AT_0755)) == [["Q:T1", "Q:T2"], ["Q:T9"]]
    p = ruled(tmp_path, planner, "b", "X,X,1,,,,T1,T5\n")
    # (journey_problems would find the change shorter than X's change time: not used here)
    js = p.get(**AT_0755)["journeys"]
    assert trips_of(js) == [["Q:T1", "Q:T5"], ["Q:T9"]]
    assert js[0]["arrival"] == "2026-05-05T08:20:00+02:00"
    assert trips_of(p.get(**by_trip("08:25"))["journeys"]) == [["Q:T1", "Q:T5"]]


def test_a_trip_rule_wins_over_a_stop_rule(tmp_path: Path, planner) -> None:
    # no changing at X at all (stop rule), but T1 -> T5 is a timed transfer (trip rule)
    p = ruled(tmp_path, planner, "a", "X,X,3,,,,,\nX,X,1,,,,T1,T5\n")
    assert trips_of(p.get(**AT_0755)["journeys"]) == [["Q:T1", "Q:T5"], ["Q:T9"]]
    assert trips_of(p.get(**by_trip("08:25"))["journeys"]) == [["Q:T1", "Q:T5"]]
    # immediate changes at X (stop rule), but none from route 1 to route 2 (route rule)
    p = ruled(tmp_path, planner, "b", "X,X,1,,,,,\nX,X,3,,R1,R2,,\n")
    assert trips_of(p.plan(**AT_0755)) == [["Q:T9"]]
    # a trip rule (type 0: the usual change time) wins over the route rule
    p = ruled(tmp_path, planner, "c", "X,X,3,,R1,R2,,\nX,X,0,,,,T1,T4\n")
    assert trips_of(p.plan(**AT_0755)) == [["Q:T1", "Q:T4"], ["Q:T9"]]
    assert trips_of(p.plan(**by_trip("08:45"))) == [["Q:T1", "Q:T4"]]


def test_trip_specific_rules_compile_nothing_after_the_warm_up(tmp_path: Path,
                                                              planner) -> None:
    # the server warms its kernels up before it is ready; requests under trip-specific rules
    # (forward, arrive_by's lenient search and its confirmations, windows, the tie-break
    # search that B's recommended transfer point asks for) add no compiled variant
    p = ruled(tmp_path, planner, "a", "X,X,3,,,,T1,T2\nX,X,1,,,,T1,T5\nB,B,0,,,,\n")
    kernels = [raptor.rounds, _departures]
    before = [len(k.signatures) for k in kernels]
    assert all(before)
    for params in (AT_0755, by_trip("08:35"), {**AT_0755, "window": 30},
                   {**AT_0755, "min_transfer_s": 60}):
        assert p.get(**params)["journeys"], params
    assert [len(k.signatures) for k in kernels] == before




def test_a_platform_rule_wins_over_its_stations_rule(tmp_path: Path, planner) -> None:
    # station S with platforms P1, P2 (10 m apart): S -> S takes 10 min, P1 -> P2 1 min,
    # whatever the order of the rows
    stops = ("S,Station,50.03,4.0,1,\nP1,Station 1,50.03,4.0,0,S\n"
             "P2,Station 2,50.03009,4.0,0,S\n")
    for i, rows in enumerate(("P1,P2,2,60,,,,\nS,S,2,600,,,,\n",
                              "S,S,2,600,,,,\nP1,P2,2,60,,,,\n")):
        p = planner(changing(tmp_path / str(i), rows, extra_stops=stops),
                    "2026-05-05T07:00:00+02:00")
        assert p.footpath("Q:P1", "Q:P2")[:1] == (60,), rows  # type: ignore[index]
        assert p.footpath("Q:P2", "Q:P1")[:1] == (600,), rows  # type: ignore[index]
        assert (p.change_s("Q:P1"), p.change_s("Q:P2")) == (600, 600)
    # a type 3 between the platforms beats the station's type 2
    p = planner(changing(tmp_path / "x", "S,S,2,600,,,,\nP1,P2,3,,,,,\n", extra_stops=stops),
                "2026-05-05T07:00:00+02:00")
    assert p.footpath("Q:P1", "Q:P2") is None and p.footpath("Q:P2", "Q:P1") is not None



def test_recommended_and_timed_transfer_points_break_ties(tmp_path: Path, planner) -> None:
    # T1 A 08:00 -> X 08:10 -> Y 08:12 and T2 X 08:20 -> Y 08:22 -> B 08:40: changing at X or
    # at Y gives the same journey times; transfers.txt recommends (0) or times (1) Y
    stops = "Y,Yew,50.011,4.0,0,\n"
    times = ("T1,08:00:00,08:00:00,A,1\nT1,08:10:00,08:10:00,X,2\nT1,08:12:00,08:12:00,Y,3\n"
             "T2,08:20:00,08:20:00,X,1\nT2,08:22:00,08:22:00,Y,2\nT2,08:40:00,08:40:00,B,3\n")

    def network(d: str, rules: str) -> dict[str, Path]:
        stops_all = ("stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station\n"
                     "A,Ash,50.0,4.0,0,\nX,Xeno,50.01,4.0,0,\nB,Birch,50.03,4.0,0,\n" + stops)
        return {"Q": feed(tmp_path / d, "Q", stops_all, "R1,Q,1,One,3\nR2,Q,2,Two,3\n",
                          "route_id,service_id,trip_id\nR1,DAILY,T1\nR2,DAILY,T2\n", times,
                          **{"transfers.txt": "from_stop_id,to_stop_id,transfer_type,"
                             "min_transfer_time\n" + rules})}

    q = {"from": "Q:A", "to": "Q:B", "depart_at": "2026-05-05T07:55:00+02:00"}

    def change_at(p: Planner) -> list[str]:
        return [j["legs"][1]["from"]["stop_id"] for j in p.plan(**q)]

    assert change_at(planner(network("a", ""), "2026-05-05T07:00:00+02:00")) == ["Q:X"]
    assert change_at(planner(network("b", "Y,Y,0,\n"), "2026-05-05T07:00:00+02:00")) == [
        "Q:Y"]
    assert change_at(planner(network("c", "Y,Y,1,\n"), "2026-05-05T07:00:00+02:00")) == [
        "Q:Y"]
    # arrive_by too
    p = planner(network("d", "Y,Y,0,\n"), "2026-05-05T07:00:00+02:00")
    js = p.plan(**{"from": "Q:A", "to": "Q:B", "arrive_by": "2026-05-05T08:45:00+02:00"})
    assert [j["legs"][1]["from"]["stop_id"] for j in js] == ["Q:Y"]
    # journeys that end (or start) with a footpath: to D, 22 m past B, and from E, 22 m
    # before A; walking there is no change, the tie is broken as before
    stops += "D,Dune,50.0302,4.0,0,\nE,Elm,49.9998,4.0,0,\n"
    for name, params in (("e", {"to": "Q:D", "depart_at": "2026-05-05T07:55:00+02:00"}),
                         ("f", {"to": "Q:D", "arrive_by": "2026-05-05T08:45:00+02:00"}),
                         ("g", {"from": "Q:E", "depart_at": "2026-05-05T07:50:00+02:00"})):
        p = planner(network(name, "Y,Y,0,\n"), "2026-05-05T07:00:00+02:00")
        js = p.plan(**{"from": "Q:A", "to": "Q:B", **params})
        assert [[x["mode"] for x in j["legs"]] for j in js] == [
            ["walk", "bus", "bus"] if "from" in params else ["bus", "bus", "walk"]], name
        trips = [x for x in js[0]["legs"] if x["mode"] != "walk"]
        assert trips[1]["from"]["stop_id"] == "Q:Y", name


def test_in_seat_transfers_of_transfers_txt(tmp_path: Path, planner) -> None:
    # type 4 T1 -> T3: T3 X 08:12 -> B 08:25 continues T1 (no block_id): seated, no transfer
    extra = ("T3,08:12:00,08:12:00,X,1\nT3,08:25:00,08:25:00,B,2\n")
    q = {"from": "Q:A", "to": "Q:B", "depart_at": "2026-05-05T07:55:00+02:00",
         "max_transfers": 0}
    p = planner(changing(tmp_path / "a", ",,4,,,,T1,T3\n", "R2,DAILY,T3,\n", extra),
                "2026-05-05T07:00:00+02:00")
    [j] = p.plan(**q)
    assert summary(j) == [
        ("Q:T1", "Q:A", "2026-05-05T08:00:00+02:00", "Q:X", "2026-05-05T08:10:00+02:00"),
        ("Q:T3", "Q:X", "2026-05-05T08:12:00+02:00", "Q:B", "2026-05-05T08:25:00+02:00",
         "seated")]
    # type 5 between trips of one block: alight and board again (a transfer, change time)
    p = planner(changing(tmp_path / "b", ",,5,,,,T1,T3\n", "R2,DAILY,T3,BL\n",
                          extra.replace("08:12:00", "08:13:00")),
                "2026-05-05T07:00:00+02:00")
    assert trips_of(p.plan(**q)) == [["Q:T9"]]
    js = p.plan(**{**q, "max_transfers": 1})
    assert [(t, j["transfers"]) for t, j in zip(trips_of(js), js, strict=True)] == [
        (["Q:T1", "Q:T3"], 1), (["Q:T9"], 0)]
