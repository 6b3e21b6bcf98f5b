"""Journeys on small networks written here, each checked exactly through GET /v1/journeys
(and every journey for validity, `journey_problems`): operators sharing a station, midnight
and DST days, arrive_by, wheelchair, blocks, windows, walking, coordinates, platforms."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from tests.journey_support import (
    DAILY,
    DETOUR,
    feed,
    metres,
    stops_txt,
    summary,
    trips_of,
    walk_s,
)

# -- a. small networks, exactly ---------------------------------------------------------------

def two_operators(tmp_path: Path) -> dict[str, Path]:
    """A (bus) runs A1 -> AM -> A2 "Central"; B (rail) runs B1 "Central" -> B2. A2 and B1
    are 55.6 m apart: one station; walking takes ceil(55.6 x 1.3 / 1.2) = 61 s, but a
    footpath takes no less than the change time (120 s)."""
    a = feed(tmp_path, "A", stops_txt(("A1", "Alpha", 50.0, 4.0), ("AM", "Middle", 50.005, 4.0),
                                      ("A2", "Central", 50.01, 4.0, "", "3")),
             "RA,A,1,Line One,3\n", "route_id,service_id,trip_id\nRA,DAILY,TA\n",
             "TA,08:00:00,08:00:00,A1,1\nTA,08:05:00,08:06:00,AM,2\nTA,08:10:00,08:10:00,A2,3\n")
    b = feed(tmp_path, "B", stops_txt(("B1", "Central", 50.0105, 4.0), ("B2", "Beta", 50.03, 4.0)),
             "RB,B,2,Line Two,2\n",
             "route_id,service_id,trip_id,shape_id\nRB,DAILY,TB1,SH\nRB,DAILY,TB2,SH\n",
             "TB1,08:11:00,08:11:00,B1,1\nTB1,08:30:00,08:30:00,B2,2\n"
             "TB2,08:12:00,08:12:00,B1,1\nTB2,08:31:00,08:31:00,B2,2\n",
             **{"shapes.txt": "shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence\n"
                              "SH,50.0105,4.0,1\nSH,50.02,4.001,2\nSH,50.03,4.0,3\n"})
    return {"A": a, "B": b}


def test_transfer_between_two_operators_at_a_shared_station(tmp_path: Path, planner) -> None:
    p = planner(two_operators(tmp_path), "2026-05-05T07:00:00+02:00")
    station = p.client.get("/v1/stations/A:A2").json()
    assert {m["stop"]["id"] for m in station["members"]} >= {"A:A2", "B:B1"}
    assert walk_s(50.01, 4.0, 50.0105, 4.0) == 61
    assert p.footpath("A:A2", "B:B1")[0] == 120  # type: ignore[index]
    [j] = p.plan(**{"from": "A:A1", "to": "B:B2", "depart_at": "2026-05-05T07:50:00+02:00"})
    # TB1 leaves 08:11:00, before the walk ends: TB2 at 08:12:00, just when it ends
    assert summary(j) == [
        ("A:TA", "A:A1", "2026-05-05T08:00:00+02:00", "A:A2", "2026-05-05T08:10:00+02:00"),
        ("walk", "A:A2", "B:B1", 120),
        ("B:TB2", "B:B1", "2026-05-05T08:12:00+02:00", "B:B2", "2026-05-05T08:31:00+02:00")]
    assert (j["departure"], j["arrival"], j["duration_s"], j["transfers"]) == (
        "2026-05-05T08:00:00+02:00", "2026-05-05T08:31:00+02:00", 1860, 1)
    bus, foot, rail = j["legs"]
    assert bus["mode"] == "bus" and rail["mode"] == "rail" and foot["mode"] == "walk"
    assert bus["operator"] == "A" and rail["operator"] == "B"
    assert bus["route"]["id"] == "A:RA" and bus["service_date"] == "2026-05-05"
    assert bus["to"] == {"stop_id": "A:A2", "name": "Central", "platform": "3", "lat": 50.01,
                         "lon": 4.0}
    assert bus["from"]["platform"] is None
    assert bus["intermediate_stops"] == [{
        "stop_id": "A:AM", "name": "Middle", "platform": None,
        "arrival": "2026-05-05T08:05:00+02:00", "departure": "2026-05-05T08:06:00+02:00"}]
    assert bus["geometry"] == {"type": "LineString",
                               "coordinates": [[4.0, 50.0], [4.0, 50.005], [4.0, 50.01]]}
    assert rail["geometry"]["type"] == "LineString"
    assert np.allclose(rail["geometry"]["coordinates"], [[4.0, 50.0105], [4.001, 50.02],
                                                         [4.0, 50.03]], rtol=0, atol=1e-5)
    assert foot["departure"] == "2026-05-05T08:10:00+02:00"
    assert foot["arrival"] == "2026-05-05T08:12:00+02:00"
    assert foot["distance_m"] == round(metres(50.01, 4.0, 50.0105, 4.0) * DETOUR, 1) == 72.3
    assert foot["geometry"] == {"type": "LineString",
                                "coordinates": [[4.0, 50.01], [4.0, 50.0105]]}
    assert foot["trip_id"] is None and foot["intermediate_stops"] is None
    assert j["walk_m"] == 72.3
    # no transfer allowed: nothing
    body = p.get(**{"from": "A:A1", "to": "B:B2", "depart_at": "2026-05-05T07:50:00+02:00",
                    "max_transfers": 0})
    assert body["journeys"] == [] and body["reason"]


def test_trip_past_midnight_and_a_change_after_midnight(tmp_path: Path, planner) -> None:
    # NIGHT runs on Mondays only, 23:50 .. 25:10; LATE (daily) leaves S3 at 25:20 of its day
    mon = ("service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,"
           "end_date\nMON,1,0,0,0,0,0,0,20260101,20261231\nDAILY,1,1,1,1,1,1,1,20260101,"
           "20261231\nTUE,0,1,0,0,0,0,0,20260101,20261231\n")
    f = feed(tmp_path, "N", stops_txt(("S1", "One", 50.0, 4.0), ("S2", "Two", 50.01, 4.0),
                                      ("S3", "Three", 50.02, 4.0), ("S4", "Four", 50.03, 4.0)),
             "R1,N,1,Night,3\n",
             "route_id,service_id,trip_id\nR1,MON,NIGHT\nR1,DAILY,LATE\nR1,TUE,EARLYTUE\n",
             "NIGHT,23:50:00,23:50:00,S1,1\nNIGHT,24:30:00,24:31:00,S2,2\n"
             "NIGHT,25:10:00,25:10:00,S3,3\nLATE,25:20:00,25:20:00,S3,1\n"
             "LATE,25:40:00,25:40:00,S4,2\nEARLYTUE,01:30:00,01:30:00,S3,1\n"
             "EARLYTUE,01:50:00,01:50:00,S4,2\n", calendar=mon)
    p = planner({"N": f}, "2026-06-01T22:00:00+02:00")
    [j] = p.plan(**{"from": "N:S2", "to": "N:S3", "depart_at": "2026-06-02T00:20:00+02:00"})
    assert summary(j) == [("N:NIGHT", "N:S2", "2026-06-02T00:31:00+02:00", "N:S3",
                           "2026-06-02T01:10:00+02:00")]
    assert j["legs"][0]["service_date"] == "2026-06-01"
    [j] = p.plan(**{"from": "N:S1", "to": "N:S4", "depart_at": "2026-06-01T23:00:00+02:00"})
    assert summary(j) == [
        ("N:NIGHT", "N:S1", "2026-06-01T23:50:00+02:00", "N:S3", "2026-06-02T01:10:00+02:00"),
        ("N:LATE", "N:S3", "2026-06-02T01:20:00+02:00", "N:S4", "2026-06-02T01:40:00+02:00")]
    assert [leg["service_date"] for leg in j["legs"]] == ["2026-06-01", "2026-06-01"]
    assert j["transfers"] == 1
    # Tuesday night: NIGHT does not run (Monday only)
    body = p.get(**{"from": "N:S1", "to": "N:S4", "depart_at": "2026-06-02T23:00:00+02:00",
                    "max_transfers": 3})
    assert body["journeys"] == [] and body["reason"]


def test_journeys_on_the_two_dst_change_days(tmp_path: Path, planner) -> None:
    # GTFS times count from noon minus 12 h. 2026-03-29 (Brussels springs forward at 02:00):
    # that is 23:00 CET of the 28th, so 01:30:00 is 00:30 CET, 02:30:00 is 01:30 CET and
    # 03:00:00 is 03:00 CEST. 2026-10-25 (falls back at 03:00): it is 01:00 CEST, so
    # 01:30:00 is 02:30 CEST and 02:30:00 is 02:30 CET, an hour later.
    f = feed(tmp_path, "D", stops_txt(("S1", "One", 50.0, 4.0), ("S2", "Two", 50.01, 4.0),
                                      ("S3", "Three", 50.02, 4.0), ("S4", "Four", 50.05, 4.0),
                                      ("S5", "Five", 50.06, 4.0)),
             "R1,D,1,Line,3\n",
             "route_id,service_id,trip_id\nR1,DAILY,T1\nR1,DAILY,T2\nR1,DAILY,X\nR1,DAILY,Y\n",
             "T1,01:30:00,01:30:00,S1,1\nT1,02:30:00,02:30:00,S2,2\n"
             "T2,03:00:00,03:00:00,S2,1\nT2,03:30:00,03:30:00,S3,2\n"
             "X,01:30:00,01:30:00,S4,1\nX,01:50:00,01:50:00,S5,2\n"
             "Y,02:30:00,02:30:00,S4,1\nY,02:50:00,02:50:00,S5,2\n")
    p = planner({"D": f}, "2026-03-28T12:00:00+01:00")
    [j] = p.plan(**{"from": "D:S1", "to": "D:S3", "depart_at": "2026-03-29T00:00:00+01:00"})
    assert summary(j) == [
        ("D:T1", "D:S1", "2026-03-29T00:30:00+01:00", "D:S2", "2026-03-29T01:30:00+01:00"),
        ("D:T2", "D:S2", "2026-03-29T03:00:00+02:00", "D:S3", "2026-03-29T03:30:00+02:00")]
    assert (j["duration_s"], j["transfers"]) == (7200, 1)
    assert [leg["service_date"] for leg in j["legs"]] == ["2026-03-29", "2026-03-29"]
    [j] = p.plan(**{"from": "D:S4", "to": "D:S5", "depart_at": "2026-10-25T02:40:00+02:00"})
    assert summary(j) == [("D:Y", "D:S4", "2026-10-25T02:30:00+01:00", "D:S5",
                           "2026-10-25T02:50:00+01:00")]
    [j] = p.plan(**{"from": "D:S4", "to": "D:S5", "depart_at": "2026-10-25T02:20:00+02:00"})
    assert summary(j) == [("D:X", "D:S4", "2026-10-25T02:30:00+02:00", "D:S5",
                           "2026-10-25T02:50:00+02:00")]
    # arrive by 02:55 CET: Y (the later 02:30)
    [j] = p.plan(**{"from": "D:S4", "to": "D:S5", "arrive_by": "2026-10-25T02:55:00+01:00"})
    assert summary(j)[0][0] == "D:Y"


def direct_and_transfer(tmp_path: Path) -> dict[str, Path]:
    """S1 -> S3 direct every 30 min (20 min ride); and S1 07:40 -> S2, S2 07:50 -> S3 08:05."""
    f = feed(tmp_path, "A", stops_txt(("S1", "One", 50.0, 4.0), ("S2", "Two", 50.01, 4.0),
                                      ("S3", "Three", 50.02, 4.0)),
             "R1,A,1,Direct,3\nR2,A,2,Feeder,3\nR3,A,3,Link,3\n",
             "route_id,service_id,trip_id\nR1,DAILY,D0700\nR1,DAILY,D0730\nR1,DAILY,D0800\n"
             "R2,DAILY,F\nR3,DAILY,L\n",
             "D0700,07:00:00,07:00:00,S1,1\nD0700,07:20:00,07:20:00,S3,2\n"
             "D0730,07:30:00,07:30:00,S1,1\nD0730,07:50:00,07:50:00,S3,2\n"
             "D0800,08:00:00,08:00:00,S1,1\nD0800,08:20:00,08:20:00,S3,2\n"
             "F,07:40:00,07:40:00,S1,1\nF,07:45:00,07:45:00,S2,2\n"
             "L,07:50:00,07:50:00,S2,1\nL,08:05:00,08:05:00,S3,2\n")
    return {"A": f}


def test_arrive_by_gives_the_latest_departures_that_arrive_in_time(tmp_path: Path,
                                                                     planner) -> None:
    p = planner(direct_and_transfer(tmp_path), "2026-05-05T06:00:00+02:00")
    q = {"from": "A:S1", "to": "A:S3"}
    js = p.plan(**q, arrive_by="2026-05-05T08:10:00+02:00")
    assert [summary(j) for j in js] == [
        [("A:D0730", "A:S1", "2026-05-05T07:30:00+02:00", "A:S3", "2026-05-05T07:50:00+02:00")],
        [("A:F", "A:S1", "2026-05-05T07:40:00+02:00", "A:S2", "2026-05-05T07:45:00+02:00"),
         ("A:L", "A:S2", "2026-05-05T07:50:00+02:00", "A:S3", "2026-05-05T08:05:00+02:00")]]
    assert [j["transfers"] for j in js] == [0, 1]
    js = p.plan(**q, arrive_by="2026-05-05T08:04:59+02:00")
    assert [summary(j)[0][:3] for j in js] == [("A:D0730", "A:S1", "2026-05-05T07:30:00+02:00")]
    js = p.plan(**q, arrive_by="2026-05-05T07:50:00+02:00")  # inclusive
    assert [summary(j)[0][0] for j in js] == ["A:D0730"]
    js = p.plan(**q, arrive_by="2026-05-05T07:49:59+02:00")
    assert [summary(j)[0][0] for j in js] == ["A:D0700"]
    js = p.plan(**q, arrive_by="2026-05-05T08:10:00+02:00", max_transfers=0)
    assert [summary(j)[0][0] for j in js] == ["A:D0730"]
    r = p.client.get("/v1/journeys", params={**q, "arrive_by": "2026-05-05T08:10:00+02:00",
                                             "depart_at": "2026-05-05T07:00:00+02:00"})
    assert r.status_code == 422


def test_wheelchair_avoids_inaccessible_stops_and_vehicles(tmp_path: Path, planner) -> None:
    # S2 not accessible (2), S4 unknown (0): no boarding or alighting there; vehicles other
    # than wheelchair_accessible=1 (2, or unknown) are not used.
    f = feed(tmp_path, "W", stops_txt(("S1", "One", 50.0, 4.0, 1), ("S2", "Two", 50.01, 4.0, 2),
                                      ("S3", "Three", 50.02, 4.0, 1), ("S4", "Four", 50.03, 4.0, 0),
                                      ("S5", "Five", 50.04, 4.0, 1)),
             "R1,W,1,Line,3\n",
             "route_id,service_id,trip_id,wheelchair_accessible\nR1,DAILY,FAST,1\n"
             "R1,DAILY,X,1\nR1,DAILY,BAD,2\nR1,DAILY,UNK,\nR1,DAILY,ACC,1\nR1,DAILY,ACC2,1\n",
             "FAST,08:00:00,08:00:00,S1,1\nFAST,08:10:00,08:10:00,S2,2\n"
             "X,08:15:00,08:15:00,S2,1\nX,08:25:00,08:25:00,S3,2\n"
             "BAD,08:01:00,08:01:00,S1,1\nBAD,08:30:00,08:30:00,S3,2\n"
             "UNK,08:02:00,08:02:00,S1,1\nUNK,08:29:00,08:29:00,S3,2\n"
             "ACC,08:05:00,08:05:00,S1,1\nACC,08:20:00,08:20:00,S5,2\n"
             "ACC2,08:25:00,08:25:00,S5,1\nACC2,08:30:00,08:31:00,S4,2\n"
             "ACC2,08:40:00,08:40:00,S3,3\n")
    p = planner({"W": f}, "2026-05-05T07:00:00+02:00")
    q = {"from": "W:S1", "to": "W:S3", "depart_at": "2026-05-05T07:55:00+02:00"}
    js = p.plan(**q)
    assert [[leg[0] for leg in summary(j)] for j in js] == [["W:FAST", "W:X"], ["W:UNK"]]
    js = p.plan(**q, wheelchair="true")
    assert [summary(j) for j in js] == [[
        ("W:ACC", "W:S1", "2026-05-05T08:05:00+02:00", "W:S5", "2026-05-05T08:20:00+02:00"),
        ("W:ACC2", "W:S5", "2026-05-05T08:25:00+02:00", "W:S3", "2026-05-05T08:40:00+02:00")]]
    assert [s["stop_id"] for s in js[0]["legs"][1]["intermediate_stops"]] == ["W:S4"]
    # to an inaccessible stop: nothing, with a reason
    body = p.get(**{**q, "to": "W:S2", "wheelchair": "true"})
    assert body["journeys"] == [] and body["reason"]
    # unknown access allowed on request, and flagged: UNK (trip unknown), S4 (stop unknown)
    js = p.plan(**q, wheelchair="true", wheelchair_unknown="true")
    assert [(summary(j), j["wheelchair_unknown"], [leg["wheelchair_unknown"] for leg in
                                                    j["legs"]]) for j in js] == [
        ([("W:UNK", "W:S1", "2026-05-05T08:02:00+02:00", "W:S3", "2026-05-05T08:29:00+02:00")],
         True, [["W:UNK"]])]
    assert p.get(**{**q, "to": "W:S4", "wheelchair": "true"})["journeys"] == []
    js = p.plan(**{**q, "to": "W:S4"}, wheelchair="true", wheelchair_unknown="true")
    assert [([leg[0] for leg in summary(j)], [leg["wheelchair_unknown"] for leg in j["legs"]])
            for j in js] == [(["W:ACC", "W:ACC2"], [[], ["W:S4"]])]
    # never flagged without the option
    assert all(not j["wheelchair_unknown"] for j in p.plan(**q))


def blocks(tmp_path: Path, chained: bool = False, earlier: bool = False, t3: bool = True
           ) -> dict[str, Path]:
    """T1 S1 08:00 -> S2 08:20 (08:21 its departure there) continues (block BL) as T2 S2
    08:25 -> S3 08:40; T3 S2 08:22 -> S3 08:35 is another vehicle. `earlier`: T0 S1 07:00 ->
    S2 07:20, the same pattern as T1 without a block. `chained`: T2 continues again as T4 S3
    08:45 -> S4 09:00."""
    trips = "route_id,service_id,trip_id,block_id\nR1,DAILY,T1,BL\nR2,DAILY,T2,BL\n"
    times = ("T1,08:00:00,08:00:00,S1,1\nT1,08:20:00,08:21:00,S2,2\n"
             "T2,08:25:00,08:25:00,S2,1\nT2,08:40:00,08:40:00,S3,2\n")
    if t3:
        trips += "R2,DAILY,T3,\n"
        times += "T3,08:22:00,08:22:00,S2,1\nT3,08:35:00,08:35:00,S3,2\n"
    if earlier:
        trips += "R1,DAILY,T0,\n"
        times += "T0,07:00:00,07:00:00,S1,1\nT0,07:20:00,07:20:00,S2,2\n"
    if chained:
        trips += "R3,DAILY,T4,BL\n"
        times += "T4,08:45:00,08:45:00,S3,1\nT4,09:00:00,09:00:00,S4,2\n"
    f = feed(tmp_path, "K", stops_txt(("S1", "One", 50.0, 4.0), ("S2", "Two", 50.01, 4.0),
                                      ("S3", "Three", 50.02, 4.0), ("S4", "Four", 50.03, 4.0)),
             "R1,K,1,First,3\nR2,K,2,Second,3\nR3,K,3,Third,3\n", trips, times)
    return {"K": f}


SEATED = [("K:T1", "K:S1", "2026-05-05T08:00:00+02:00", "K:S2", "2026-05-05T08:20:00+02:00"),
          ("K:T2", "K:S2", "2026-05-05T08:25:00+02:00", "K:S3", "2026-05-05T08:40:00+02:00",
           "seated")]


def test_staying_seated_in_a_block_is_not_a_transfer(tmp_path: Path, planner) -> None:
    p = planner(blocks(tmp_path), "2026-05-05T07:00:00+02:00")
    q = {"from": "K:S1", "to": "K:S3", "depart_at": "2026-05-05T07:50:00+02:00"}
    js = p.plan(**q)
    assert [(summary(j), j["transfers"]) for j in js] == [
        ([SEATED[0], ("K:T3", "K:S2", "2026-05-05T08:22:00+02:00", "K:S3",
                      "2026-05-05T08:35:00+02:00")], 1),
        (SEATED, 0)]
    assert [leg["stay_seated"] for leg in js[1]["legs"]] == [False, True]
    assert [(summary(j), j["transfers"]) for j in p.plan(**q, max_transfers=0)] == [(SEATED, 0)]
    # from S2 (T1's last stop) after T3 left: board T2 there, not T1 for no distance
    js = p.plan(**{**q, "from": "K:S2", "depart_at": "2026-05-05T08:19:00+02:00"})
    assert [(summary(j), j["transfers"]) for j in js] == [([
        ("K:T3", "K:S2", "2026-05-05T08:22:00+02:00", "K:S3", "2026-05-05T08:35:00+02:00")], 0)]
    js = p.plan(**{**q, "from": "K:S2", "depart_at": "2026-05-05T08:23:00+02:00"})
    assert [(summary(j), j["transfers"]) for j in js] == [([
        ("K:T2", "K:S2", "2026-05-05T08:25:00+02:00", "K:S3", "2026-05-05T08:40:00+02:00")], 0)]


def test_boarding_where_a_block_continues_is_boarding_the_next_trip(tmp_path: Path,
                                                                     planner) -> None:
    # from S2, T1's last stop, at 08:19: the rider boards T2 at S2; riding T1 from S2 to S2
    # (08:21 -> 08:20) and staying seated is no leg to show
    p = planner(blocks(tmp_path, t3=False), "2026-05-05T07:00:00+02:00")
    js = p.plan(**{"from": "K:S2", "to": "K:S3", "depart_at": "2026-05-05T08:19:00+02:00"})
    assert [(summary(j), j["transfers"]) for j in js] == [([
        ("K:T2", "K:S2", "2026-05-05T08:25:00+02:00", "K:S3", "2026-05-05T08:40:00+02:00")], 0)]


def test_block_continuation_of_a_later_trip_of_the_pattern(tmp_path: Path, planner) -> None:
    # T0 (07:00) is the first trip of the pattern S1 -> S2 but only T1 (08:00) continues as T2
    p = planner(blocks(tmp_path, earlier=True), "2026-05-05T06:00:00+02:00")
    js = p.plan(**{"from": "K:S1", "to": "K:S3", "depart_at": "2026-05-05T06:50:00+02:00",
                   "max_transfers": 0})
    assert [(summary(j), j["transfers"]) for j in js] == [(SEATED, 0)]


def test_block_continuation_twice(tmp_path: Path, planner) -> None:
    # one vehicle runs T1, T2 and T4: a rider staying on board from S1 to S4 changes nothing
    # (like SNCB trains whose trip_id changes on the way, same block_id)
    p = planner(blocks(tmp_path, chained=True), "2026-05-05T06:00:00+02:00")
    js = p.plan(**{"from": "K:S1", "to": "K:S4", "depart_at": "2026-05-05T07:50:00+02:00",
                   "max_transfers": 0})
    assert [(summary(j), j["transfers"]) for j in js] == [([*SEATED, (
        "K:T4", "K:S3", "2026-05-05T08:45:00+02:00", "K:S4", "2026-05-05T09:00:00+02:00",
        "seated")], 0)]


def test_block_chains_of_a_later_vehicle_with_the_same_first_trips(tmp_path: Path,
                                                                   planner) -> None:
    # Two vehicles run the same two trips S1 -> S2 -> S3, an hour apart, each with one trip
    # before and one after: A (early) comes from S0 and goes on to S5, B from S7 on to S4.
    # Staying seated in B to S4, or in A from S0, needs the later (earlier) vehicle, not the
    # first one found on S1 -> S3.
    rows = {"A": ("06", "07", "S0", "S5"), "B": ("07", "08", "S7", "S4")}
    trips, times = "route_id,service_id,trip_id,block_id\n", ""
    for v, (h0, h, before, after) in rows.items():
        trips += "".join(f"R1,DAILY,{v}{k},B{v}\n" for k in range(4))
        times += (f"{v}0,{h0}:30:00,{h0}:30:00,{before},1\n{v}0,{h0}:50:00,{h0}:50:00,S1,2\n"
                  f"{v}1,{h}:00:00,{h}:00:00,S1,1\n{v}1,{h}:20:00,{h}:20:00,S2,2\n"
                  f"{v}2,{h}:25:00,{h}:25:00,S2,1\n{v}2,{h}:40:00,{h}:40:00,S3,2\n"
                  f"{v}3,{h}:45:00,{h}:45:00,S3,1\n{v}3,{int(h) + 1:02d}:00:00,"
                  f"{int(h) + 1:02d}:00:00,{after},2\n")
    stops = stops_txt(*[(f"S{k}", f"Stop {k}", 50.0 + k / 100, 4.0) for k in range(8)])
    p = planner({"K": feed(tmp_path, "K", stops, "R1,K,1,One,3\n", trips, times)},
                "2026-05-05T05:00:00+02:00")

    def leg(trip: str, a: str, t0: str, b: str, t1: str, seated: bool) -> tuple:
        out = (f"K:{trip}", f"K:{a}", f"2026-05-05T{t0}:00+02:00", f"K:{b}",
               f"2026-05-05T{t1}:00+02:00")
        return (*out, "seated") if seated else out

    js = p.plan(**{"from": "K:S1", "to": "K:S4", "depart_at": "2026-05-05T06:55:00+02:00",
                   "max_transfers": 0})
    assert [(summary(j), j["transfers"]) for j in js] == [([
        leg("B1", "S1", "08:00", "S2", "08:20", False),
        leg("B2", "S2", "08:25", "S3", "08:40", True),
        leg("B3", "S3", "08:45", "S4", "09:00", True)], 0)]
    js = p.plan(**{"from": "K:S0", "to": "K:S3", "arrive_by": "2026-05-05T08:50:00+02:00",
                   "max_transfers": 0})
    assert [(summary(j), j["transfers"]) for j in js] == [([
        leg("A0", "S0", "06:30", "S1", "06:50", False),
        leg("A1", "S1", "07:00", "S2", "07:20", True),
        leg("A2", "S2", "07:25", "S3", "07:40", True)], 0)]


def test_arrive_by_stays_seated_too(tmp_path: Path, planner) -> None:
    p = planner(blocks(tmp_path), "2026-05-05T07:00:00+02:00")
    js = p.plan(**{"from": "K:S1", "to": "K:S3", "arrive_by": "2026-05-05T08:45:00+02:00"})
    assert [(summary(j), j["transfers"]) for j in js] == [(SEATED, 0)]


def test_window_gives_the_pareto_set_of_each_departure(tmp_path: Path, planner) -> None:
    # direct S1 -> S3 every 20 min (30 min ride) and F 08:10 -> S2, L 08:20 -> S3 08:28
    f = feed(tmp_path, "A", stops_txt(("S1", "One", 50.0, 4.0), ("S2", "Two", 50.01, 4.0),
                                      ("S3", "Three", 50.02, 4.0)),
             "R1,A,1,Direct,3\nR2,A,2,Feeder,3\nR3,A,3,Link,3\n",
             "route_id,service_id,trip_id\n" + "".join(
                 f"R1,DAILY,D{h}\n" for h in ("0800", "0820", "0840", "0900", "0920"))
             + "R2,DAILY,F\nR3,DAILY,L\n",
             "".join(f"D{h}{m},{h}:{m}:00,{h}:{m}:00,S1,1\nD{h}{m},{e},{e},S3,2\n"
                     for h, m, e in (("08", "00", "08:30:00"), ("08", "20", "08:50:00"),
                                     ("08", "40", "09:10:00"), ("09", "00", "09:30:00"),
                                     ("09", "20", "09:50:00")))
             + "F,08:10:00,08:10:00,S1,1\nF,08:15:00,08:15:00,S2,2\n"
               "L,08:20:00,08:20:00,S2,1\nL,08:28:00,08:28:00,S3,2\n")
    p = planner({"A": f}, "2026-05-05T07:00:00+02:00")
    js = p.plan(**{"from": "A:S1", "to": "A:S3", "depart_at": "2026-05-05T08:00:00+02:00",
                   "window": 60})
    got = [(j["departure"][11:19], j["arrival"][11:19], j["transfers"],
            [leg["trip_id"] for leg in j["legs"]]) for j in js]
    # every departure of the hour (08:00 .. 09:00 inclusive) with its Pareto set; the 08:00
    # direct trip stays: it has fewer transfers than the later F + L that arrives earlier
    assert got == [("08:00:00", "08:30:00", 0, ["A:D0800"]),
                   ("08:10:00", "08:28:00", 1, ["A:F", "A:L"]),
                   ("08:20:00", "08:50:00", 0, ["A:D0820"]),
                   ("08:40:00", "09:10:00", 0, ["A:D0840"]),
                   ("09:00:00", "09:30:00", 0, ["A:D0900"])]


def test_ride_then_walk_to_a_stop_near_the_origins_neighbour(tmp_path: Path, planner) -> None:
    # O -- 222 m -- N -- 222 m -- D (O to D 445 m: no footpath, a walk is one footpath).
    # T runs O 08:00 -> N 08:05 -> X. Ride T one stop and walk N -> D: 08:05 + 241 s. That N
    # is also a walk from O (reached at 07:59:01, from where one may not walk on) does not
    # make the later arrival at N by T useless.
    f = feed(tmp_path, "P", stops_txt(("O", "Oak", 50.0, 4.0), ("N", "Nile", 50.002, 4.0),
                                      ("D", "Dune", 50.004, 4.0), ("X", "Xeno", 50.05, 4.0)),
             "R1,P,1,Line,3\n", "route_id,service_id,trip_id\nR1,DAILY,T\n",
             "T,08:00:00,08:00:00,O,1\nT,08:05:00,08:05:00,N,2\nT,08:20:00,08:20:00,X,3\n")
    p = planner({"P": f}, "2026-05-05T07:00:00+02:00")
    walk = walk_s(50.002, 4.0, 50.004, 4.0)
    assert p.footpath("P:O", "P:N")[0] == walk == 241  # type: ignore[index]
    assert p.footpath("P:N", "P:D")[0] == walk and p.footpath("P:O", "P:D") is None  # type: ignore[index]
    # max_walk_m 400: no direct walk O -> D (578 m walked)
    js = p.plan(**{"from": "P:O", "to": "P:D", "depart_at": "2026-05-05T07:55:00+02:00",
                   "max_walk_m": 400})
    assert [summary(j) for j in js] == [[
        ("P:T", "P:O", "2026-05-05T08:00:00+02:00", "P:N", "2026-05-05T08:05:00+02:00"),
        ("walk", "P:N", "P:D", walk)]]
    assert js[0]["arrival"] == "2026-05-05T08:09:01+02:00"


def test_a_walk_arriving_after_a_trip_can_still_be_ready_sooner(tmp_path: Path,
                                                              planner) -> None:
    # T1 runs A 08:00 -> X 08:10 -> Y 08:12:30; T2 runs X 08:11 -> Y 08:13 -> D 08:30. At X
    # the 2-minute change misses T2; walking X -> Y (166 s) reaches Y at 08:12:46, after T1
    # does, yet is ready for T2 there, which T1's own arrival (plus a change) is not.
    f = feed(tmp_path, "P", stops_txt(("A", "Ash", 50.1, 4.0), ("X", "Xeno", 50.0, 4.0),
                                      ("Y", "Yew", 50.00137, 4.0), ("D", "Dune", 50.2, 4.0)),
             "R1,P,1,One,3\nR2,P,2,Two,3\n",
             "route_id,service_id,trip_id\nR1,DAILY,T1\nR2,DAILY,T2\n",
             "T1,08:00:00,08:00:00,A,1\nT1,08:10:00,08:10:00,X,2\nT1,08:12:30,08:12:30,Y,3\n"
             "T2,08:11:00,08:11:00,X,1\nT2,08:13:00,08:13:00,Y,2\nT2,08:30:00,08:30:00,D,3\n")
    p = planner({"P": f}, "2026-05-05T07:00:00+02:00")
    walk = walk_s(50.0, 4.0, 50.00137, 4.0)
    assert p.footpath("P:X", "P:Y")[0] == walk == 166  # type: ignore[index]
    assert p.change_s("P:Y") == 120
    want = [[("P:T1", "P:A", "2026-05-05T08:00:00+02:00", "P:X", "2026-05-05T08:10:00+02:00"),
             ("walk", "P:X", "P:Y", walk),
             ("P:T2", "P:Y", "2026-05-05T08:13:00+02:00", "P:D", "2026-05-05T08:30:00+02:00")]]
    js = p.plan(**{"from": "P:A", "to": "P:D", "depart_at": "2026-05-05T07:55:00+02:00"})
    assert [summary(j) for j in js] == want
    js = p.plan(**{"from": "P:A", "to": "P:D", "arrive_by": "2026-05-05T08:35:00+02:00"})
    assert [summary(j) for j in js] == want


def test_arrive_by_from_a_coordinate_may_end_with_a_footpath(tmp_path: Path,
                                                              planner) -> None:
    # T runs A 08:00 -> N 08:10; D is a footpath (241 s) from N. From a point 22 m from A to
    # the stop D: depart_at finds T + the walk N -> D; arrive_by must find the same journey
    # (a coordinate origin forbids a footpath after the access walk, not at the end).
    f = feed(tmp_path, "P", stops_txt(("A", "Alder", 50.03, 4.0), ("N", "Nile", 50.002, 4.0),
                                      ("D", "Dune", 50.004, 4.0)),
             "R1,P,1,Line,3\n", "route_id,service_id,trip_id\nR1,DAILY,T\n",
             "T,08:00:00,08:00:00,A,1\nT,08:10:00,08:10:00,N,2\n")
    p = planner({"P": f}, "2026-05-05T07:00:00+02:00")
    journey = [("walk", "50.0302,4.0", "P:A", walk_s(50.0302, 4.0, 50.03, 4.0)),
               ("P:T", "P:A", "2026-05-05T08:00:00+02:00", "P:N", "2026-05-05T08:10:00+02:00"),
               ("walk", "P:N", "P:D", 241)]
    q = {"from": "50.0302,4.0", "to": "P:D"}
    assert [summary(j) for j in p.plan(**q, depart_at="2026-05-05T07:50:00+02:00")] == [journey]
    assert [summary(j) for j in p.plan(**q, arrive_by="2026-05-05T08:30:00+02:00")] == [journey]


def coordinates_network(tmp_path: Path) -> dict[str, Path]:
    f = feed(tmp_path, "C", stops_txt(("S1", "Alpha", 50.0, 4.0), ("S3", "Gamma", 50.02, 4.0)),
             "R1,C,1,Line,3\n", "route_id,service_id,trip_id\nR1,DAILY,T\n",
             "T,08:00:00,08:00:00,S1,1\nT,08:20:00,08:20:00,S3,2\n")
    return {"C": f}


def test_from_and_to_coordinates_walk_exactly(tmp_path: Path, planner) -> None:
    p = planner(coordinates_network(tmp_path), "2026-05-05T07:00:00+02:00")
    w1, w2 = walk_s(50.0, 4.003, 50.0, 4.0), walk_s(50.0205, 4.0, 50.02, 4.0)
    assert (w1, w2) == (233, 61)
    [j] = p.plan(**{"from": "50.0,4.003", "to": "50.0205,4.0",
                    "depart_at": "2026-05-05T07:30:00+02:00"})
    assert summary(j) == [
        ("walk", "50.0,4.003", "C:S1", w1),
        ("C:T", "C:S1", "2026-05-05T08:00:00+02:00", "C:S3", "2026-05-05T08:20:00+02:00"),
        ("walk", "C:S3", "50.0205,4.0", w2)]
    first, _, last = j["legs"]
    assert first["from"] == {"stop_id": None, "name": "50.0,4.003", "platform": None,
                             "lat": 50.0, "lon": 4.003}
    assert first["departure"] == "2026-05-05T07:56:07+02:00"  # leave just in time
    assert last["arrival"] == "2026-05-05T08:21:01+02:00"
    assert (j["departure"], j["arrival"]) == (first["departure"], last["arrival"])
    assert first["distance_m"] == round(metres(50.0, 4.003, 50.0, 4.0) * DETOUR, 1)
    assert last["geometry"]["coordinates"] == [[4.0, 50.02], [4.0, 50.0205]]
    # a stop id to a coordinate, and walking speed
    [j] = p.plan(**{"from": "C:S1", "to": "50.0205,4.0", "walk_speed": 0.8,
                    "depart_at": "2026-05-05T07:30:00+02:00"})
    assert summary(j)[-1] == ("walk", "C:S3", "50.0205,4.0",
                              math.ceil(metres(50.02, 4.0, 50.0205, 4.0) * DETOUR / 0.8))


def test_direct_walk_is_offered_when_it_is_best(tmp_path: Path, planner) -> None:
    p = planner(coordinates_network(tmp_path), "2026-05-05T07:00:00+02:00")
    # 429 m apart (558 m walked): walking beats waiting for the 08:00 trip
    [j] = p.plan(**{"from": "50.0,4.003", "to": "50.0,4.009",
                    "depart_at": "2026-05-05T07:30:00+02:00"})
    secs = walk_s(50.0, 4.003, 50.0, 4.009)
    assert summary(j) == [("walk", "50.0,4.003", "50.0,4.009", secs)]
    assert (j["departure"], j["duration_s"], j["transfers"]) == (
        "2026-05-05T07:30:00+02:00", secs, 0)
    assert j["walk_m"] == round(metres(50.0, 4.003, 50.0, 4.009) * DETOUR, 1)
    # beyond max_walk_m, no direct walk: the trip
    js = p.plan(**{"from": "50.0,4.003", "to": "50.0205,4.0",
                   "depart_at": "2026-05-05T07:30:00+02:00"})
    assert [leg["mode"] for leg in js[0]["legs"]] == ["walk", "bus", "walk"] and len(js) == 1


def test_coordinates_sharing_their_only_stop(tmp_path: Path, planner) -> None:
    # 500 m north and 500 m south of S1, which is the only stop either reaches (650 m walked
    # each way) and no trip leaves from S1 towards the south. Walking via S1 is walking
    # instead of transit (1300 m): no journey within max_walk_m 1000; within 1500 m exactly
    # one, the direct walk (not a second one via S1).
    p = planner(coordinates_network(tmp_path), "2026-05-05T07:00:00+02:00")
    q = {"from": "50.0045,4.0", "to": "49.9955,4.0", "depart_at": "2026-05-05T07:30:00+02:00"}
    body = p.get(**q)
    assert body["journeys"] == [] and "no connection" in body["reason"]
    assert body["search"]["access_stops"] == body["search"]["egress_stops"] == 1
    js = p.plan(**q, max_walk_m=1500)
    secs = walk_s(50.0045, 4.0, 49.9955, 4.0)
    assert [summary(j) for j in js] == [[("walk", "50.0045,4.0", "49.9955,4.0", secs)]]
    assert (js[0]["departure"], js[0]["duration_s"]) == ("2026-05-05T07:30:00+02:00", secs)


def walking_network(tmp_path: Path) -> dict[str, Path]:
    """A, N 222 m north (a footpath), B 556 m north of A (723 m walked: no footpath, a direct
    walk within 1000 m). D every 15 min A 08:00 .. 09:00 -> B 4 min later; TN N 07:10 ->
    B 07:14."""
    times = "".join(f"D{h}{m},{h}:{m}:00,{h}:{m}:00,A,1\nD{h}{m},{h}:{int(m) + 4:02d}:00,"
                    f"{h}:{int(m) + 4:02d}:00,B,2\n"
                    for h, m in (("08", "00"), ("08", "15"), ("08", "30"), ("08", "45"),
                                 ("09", "00")))
    trips = "".join(f"R1,DAILY,D{h}{m}\n" for h, m in (
        ("08", "00"), ("08", "15"), ("08", "30"), ("08", "45"), ("09", "00")))
    return {"W": feed(tmp_path, "W", stops_txt(("A", "Ash", 50.0, 4.0), ("N", "Nile", 50.002, 4.0),
                                               ("B", "Birch", 50.005, 4.0)),
                      "R1,W,1,Direct,3\nR2,W,2,North,3\n",
                      "route_id,service_id,trip_id\n" + trips + "R2,DAILY,TN\n",
                      times + "TN,07:10:00,07:10:00,N,1\nTN,07:14:00,07:14:00,B,2\n")}


def test_walking_is_one_option_among_others(tmp_path: Path, planner) -> None:
    p = planner(walking_network(tmp_path), "2026-05-05T06:00:00+02:00")
    ab = walk_s(50.0, 4.0, 50.005, 4.0)
    an = walk_s(50.0, 4.0, 50.002, 4.0)
    assert (ab, an) == (603, 241) and p.footpath("W:A", "W:B") is None
    # a window gives one journey per departure, each faster than walking
    js = p.plan(**{"from": "W:A", "to": "W:B", "depart_at": "2026-05-05T08:00:00+02:00",
                   "window": 60})
    assert [(j["departure"][11:19], j["arrival"][11:19], trips_of([j])[0]) for j in js] == [
        (f"{h}:{m}:00", f"{h}:{int(m) + 4:02d}:00", [f"W:D{h}{m}"]) for h, m in (
            ("08", "00"), ("08", "15"), ("08", "30"), ("08", "45"), ("09", "00"))]
    # at 07:00: walking now (07:10:03), and walking to N for TN (07:05:59 -> 07:14), which
    # leaves later and is faster than the walk; the walk names its stops
    js = p.plan(**{"from": "W:A", "to": "W:B", "depart_at": "2026-05-05T07:00:00+02:00"})
    assert [summary(j) for j in js] == [
        [("walk", "W:A", "W:B", ab)],
        [("walk", "W:A", "W:N", an),
         ("W:TN", "W:N", "2026-05-05T07:10:00+02:00", "W:B", "2026-05-05T07:14:00+02:00")]]
    assert (js[0]["legs"][0]["from"]["name"], js[0]["legs"][0]["to"]["name"]) == (
        "Ash", "Birch")
    assert js[1]["departure"] == "2026-05-05T07:05:59+02:00"
    # arrive by 07:14: walking leaves at 07:03:57, walking to N for TN at 07:05:59 and arrives
    # as soon (it dominates the walk); by 07:20 walking leaves later, at 07:09:57: both
    js = p.plan(**{"from": "W:A", "to": "W:B", "arrive_by": "2026-05-05T07:14:00+02:00"})
    assert [(j["departure"][11:19], j["arrival"][11:19], len(j["legs"])) for j in js] == [
        ("07:05:59", "07:14:00", 2)]
    js = p.plan(**{"from": "W:A", "to": "W:B", "arrive_by": "2026-05-05T07:20:00+02:00"})
    assert [(j["departure"][11:19], j["arrival"][11:19], len(j["legs"])) for j in js] == [
        ("07:05:59", "07:14:00", 2), ("07:09:57", "07:20:00", 1)]
    # a footpath walk (A -> N) is listed once, by name
    js = p.plan(**{"from": "W:A", "to": "W:N", "depart_at": "2026-05-05T07:00:00+02:00"})
    assert [summary(j) for j in js] == [[("walk", "W:A", "W:N", an)]]
    assert js[0]["legs"][0]["to"]["name"] == "Nile"
    # max_walk_m=0: no walk between stops, neither instead of transit nor to N
    js = p.plan(**{"from": "W:A", "to": "W:B", "depart_at": "2026-05-05T07:00:00+02:00",
                   "max_walk_m": 0})
    assert [trips_of([j])[0] for j in js] == [["W:D0800"]]
    assert all(leg["mode"] != "walk" for j in js for leg in j["legs"])
    body = p.get(**{"from": "W:A", "to": "W:N", "max_walk_m": 0,
                    "depart_at": "2026-05-05T07:00:00+02:00"})
    assert body["journeys"] == []


def test_from_and_to_the_same_place(tmp_path: Path, planner) -> None:
    p = planner(walking_network(tmp_path), "2026-05-05T06:00:00+02:00")
    for a, b in (("W:A", "W:A"), ("50.0,4.0", "50.0,4.0")):
        body = p.get(**{"from": a, "to": b, "depart_at": "2026-05-05T07:00:00+02:00"})
        assert body["journeys"] == [] and "same place" in body["reason"], (a, b)


def test_unknown_place_unreachable_and_far_coordinates(tmp_path: Path, planner) -> None:
    p = planner(coordinates_network(tmp_path), "2026-05-05T07:00:00+02:00")
    r = p.client.get("/v1/journeys", params={"from": "C:NOPE", "to": "C:S3"})
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == 404 and "C:NOPE" in body["detail"]
    r = p.client.get("/v1/journeys", params={"from": "C:S1", "to": "91.0,4.0"})
    assert r.status_code == 422 and r.json()["parameter"] == "to"
    # no trip goes back from S3 to S1
    body = p.get(**{"from": "C:S3", "to": "C:S1", "depart_at": "2026-05-05T07:30:00+02:00"})
    assert body["journeys"] == [] and body["reason"]
    body = p.get(**{"from": "51.0,5.0", "to": "C:S3", "depart_at": "2026-05-05T07:30:00+02:00"})
    assert body["journeys"] == []
    assert "no stop within 1000 m" in body["reason"] and "from" in body["reason"]
    body = p.get(**{"from": "C:S1", "to": "51.0,5.0", "depart_at": "2026-05-05T07:30:00+02:00"})
    assert body["journeys"] == [] and "no stop within" in body["reason"] and "to" in body[
        "reason"]


def test_filters_by_mode_and_operator(tmp_path: Path, planner) -> None:
    # A's bus A1 -> A3 08:00-08:20; B's train B1 -> B3 08:02-08:25, its stops 100 m from A's
    a = feed(tmp_path, "A", stops_txt(("A1", "Alpha", 50.0, 4.0), ("A3", "Gamma", 50.02, 4.0)),
             "RA,A,1,Bus,3\n", "route_id,service_id,trip_id\nRA,DAILY,TA\n",
             "TA,08:00:00,08:00:00,A1,1\nTA,08:20:00,08:20:00,A3,2\n")
    b = feed(tmp_path, "B", stops_txt(("B1", "Quay", 50.0009, 4.0),
                                      ("B3", "Harbour", 50.0209, 4.0)),
             "RB,B,2,Train,2\n", "route_id,service_id,trip_id\nRB,DAILY,TB\n",
             "TB,08:02:00,08:02:00,B1,1\nTB,08:25:00,08:25:00,B3,2\n")
    p = planner({"A": a, "B": b}, "2026-05-05T07:00:00+02:00")
    walk = max(walk_s(50.0, 4.0, 50.0009, 4.0), 120)  # no footpath below the change time
    q = {"from": "A:A1", "to": "A:A3", "depart_at": "2026-05-05T07:50:00+02:00"}
    by_bus = [[("A:TA", "A:A1", "2026-05-05T08:00:00+02:00", "A:A3",
                "2026-05-05T08:20:00+02:00")]]
    by_train = [[("walk", "A:A1", "B:B1", walk),
                 ("B:TB", "B:B1", "2026-05-05T08:02:00+02:00", "B:B3",
                  "2026-05-05T08:25:00+02:00"),
                 ("walk", "B:B3", "A:A3", max(walk_s(50.0209, 4.0, 50.02, 4.0), 120))]]
    assert [summary(j) for j in p.plan(**q)] == by_bus
    for extra in ({"modes": "rail"}, {"exclude_modes": "bus"}, {"operators": "B"},
                  {"exclude_operators": "A"}, {"modes": "rail,ferry", "operators": "A,B"}):
        assert [summary(j) for j in p.plan(**q, **extra)] == by_train, extra
    assert [summary(j) for j in p.plan(**q, operators="A", modes="bus")] == by_bus
    body = p.get(**q, modes="ferry")
    assert body["journeys"] == [] and body["reason"]
    for bad in ({"modes": "spaceship"}, {"operators": "Z"}, {"exclude_operators": "Z"}):
        r = p.client.get("/v1/journeys", params={**q, **bad})
        assert r.status_code == 422, bad
        assert r.json()["parameter"] == next(iter(bad))


def test_platforms_from_stop_time_overrides(tmp_path: Path, planner) -> None:
    # HAFAS exports (SNCB) name the platform of a call per service only in
    # stop_time_overrides.txt: T leaves A from platform 2 on weekdays (WK), 1 on Sundays (SU),
    # and reaches B at platform 7 every day (DAILY); B's own stop has no platform
    stops = ("stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station,platform_code\n"
             "SA,Ash,50.0,4.0,1,,\nA,Ash,50.0,4.0,0,SA,\nA_1,Ash,50.0,4.0,0,SA,1\n"
             "A_2,Ash,50.0,4.0,0,SA,2\nB,Birch,50.1,4.0,0,,\nB_7,Birch,50.1,4.0,0,,7\n"
             "C,Cedar,50.1002,4.0,0,,\nZ,Zinnia,49.9998,4.0,0,,\n")
    cal = DAILY + ("WK,1,1,1,1,1,1,0,20260101,20261231\n"
                   "SU,0,0,0,0,0,0,1,20260101,20261231\n")
    f = feed(tmp_path, "P", stops, "R1,P,1,Line,2\n", "route_id,service_id,trip_id\n"
             "R1,DAILY,T\n", "T,08:00:00,08:00:00,A,1\nT,08:30:00,08:30:00,B,2\n",
             calendar=cal, **{"stop_time_overrides.txt": "trip_id,stop_sequence,service_id,"
                              "stop_id\nT,1,WK,A_2\nT,1,SU,A_1\nT,2,DAILY,B_7\n"})
    p = planner({"P": f}, "2026-05-05T07:00:00+02:00")
    for day, want in (("2026-05-05", "2"), ("2026-05-10", "1")):  # a Tuesday, a Sunday
        [j] = p.plan(**{"from": "P:A", "to": "P:B", "depart_at": f"{day}T07:30:00+02:00"})
        leg = j["legs"][0]
        assert (leg["from"]["stop_id"], leg["from"]["platform"], leg["to"]["platform"]) == (
            "P:A", want, "7"), day
        trip = p.trip("P:T", day)
        assert trip is not None
        assert [x["platform"] for x in trip["stops"]] == [want, "7"], day
        board = p.client.get("/v1/stops/P:A/departures",
                             params={"at": f"{day}T07:30:00+02:00"}).json()
        assert [d["platform"] for d in board["departures"]] == [want], day
        # walking on from B (to C, 22 m on) starts at the platform T reached, and walking to
        # A (from Z, 22 m before) ends at the one T leaves from
        js = p.plan(**{"from": "P:Z", "to": "P:C", "depart_at": f"{day}T07:30:00+02:00"})
        assert [[(x["mode"], x["from"]["stop_id"], x["from"]["platform"], x["to"]["stop_id"],
                  x["to"]["platform"]) for x in j["legs"]] for j in js] == [[
                      ("walk", "P:Z", None, "P:A", want), ("rail", "P:A", want, "P:B", "7"),
                      ("walk", "P:B", "7", "P:C", None)]], day
