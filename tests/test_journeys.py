"""Journey planning across operators (issue "Journey planning across operators").

a. small networks written here, each checked exactly through GET /v1/journeys;
b. every journey the API returns is checked for validity (`journey_problems`): trips run on
   their service date and are boarded and left at the timetable's times (/v1/trips), changes
   respect the change time, walks the footpaths, distance and speed;
c. the engine against an independent brute force (tests/routing_reference.py) on random
   networks and on the real feeds (29 Bay Area operators, SNCB): the earliest arrival with at
   most k trips, for every k, must be equal;
d. the journeys of the peer cases (../shared/peer-cases/CASES.md, section 1, nigiri).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.conftest import DATA, PEER_CASES, client_for
from tests.feeds import write_feed
from tests.gtfs_reference import read_table
from tests.routing_reference import (
    INF,
    Instance,
    RawFeed,
    Reference,
    block_continuations,
    days_around,
    pareto_front,
)
from transit.catalog import Catalog, Operator
from transit.ingest.pipeline import ingest
from transit.routing import raptor
from transit.routing.network import Network
from transit.routing.search import Journey as EngineJourney
from transit.routing.search import Query, Searcher, Seed
from transit.timetable.departures import _departures
from transit.timetable.footpaths import FootpathRules
from transit.timetable.store import Store
from transit.timetable.timetable import Timetable

TZ = "Europe/Brussels"
ST = "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
AGENCY = "agency_id,agency_name,agency_url,agency_timezone\n{op},Operator {op},https://x.example,{tz}\n"
ROUTES = "route_id,agency_id,route_short_name,route_long_name,route_type\n"
DAILY = ("service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,"
         "end_date\nDAILY,1,1,1,1,1,1,1,20260101,20261231\n")
SPEED, DETOUR = 1.2, 1.3


# -- helpers ----------------------------------------------------------------------------------

def unix(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def show(t: int, tz: str = TZ) -> str:
    return "-" if t >= INF or t <= -INF else datetime.fromtimestamp(t, ZoneInfo(tz)).isoformat()


def metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on the mean Earth sphere (IUGG radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(
        math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(min(a, 1.0)))


def walk_s(lat1: float, lon1: float, lat2: float, lon2: float) -> int:
    return math.ceil(metres(lat1, lon1, lat2, lon2) * DETOUR / SPEED)


def stops_txt(*rows: tuple) -> str:
    """stops.txt from (id, name, lat, lon[, wheelchair_boarding[, platform_code]])."""
    out = "stop_id,stop_name,stop_lat,stop_lon,wheelchair_boarding,platform_code\n"
    for r in rows:
        wb = r[4] if len(r) > 4 else ""
        plat = r[5] if len(r) > 5 else ""
        out += f"{r[0]},{r[1]},{r[2]},{r[3]},{wb},{plat}\n"
    return out


def feed(directory: Path, op: str, stops: str, routes: str, trips: str, stop_times: str,
         tz: str = TZ, **extra: str) -> Path:
    return write_feed(directory / op, {
        "agency.txt": AGENCY.format(op=op, tz=tz), "stops.txt": stops,
        "routes.txt": ROUTES + routes, "calendar.txt": extra.pop("calendar", DAILY),
        "trips.txt": trips, "stop_times.txt": ST + stop_times, **extra})


@dataclass
class Planner:
    """A built network: the API client over it and its compiled timetable."""

    client: TestClient
    tt: Timetable
    tz: str = TZ
    _trips: dict[tuple[str, str], dict] = field(default_factory=dict)
    _fp: dict[tuple[str, str], tuple[int, float, int]] | None = None

    def footpath(self, a: str, b: str) -> tuple[int, float, int] | None:
        """(seconds, straight metres, kind) of the footpath a -> b in the timetable."""
        if self._fp is None:
            self._fp = footpaths_of(self.tt)
        return self._fp.get((a, b))

    def change_s(self, stop: str) -> int:
        return int(self.tt.stop_change_s[self.tt.stop_index[stop]])

    def trip(self, trip_id: str, service_date: str) -> dict | None:
        key = (trip_id, service_date)
        if key not in self._trips:
            r = self.client.get(f"/v1/trips/{trip_id}", params={"date": service_date})
            self._trips[key] = r.json() if r.status_code == 200 else None
        return self._trips[key]

    def get(self, **params: object) -> dict:
        r = self.client.get("/v1/journeys", params=params)
        assert r.status_code == 200, r.text
        return r.json()

    def plan(self, **params: object) -> list[dict]:
        """The journeys for these parameters, each checked with `journey_problems`."""
        body = self.get(**params)
        problems = [p for j in body["journeys"] for p in journey_problems(self, j, params)]
        assert not problems, "\n".join(problems)
        return body["journeys"]


def footpaths_of(tt: Timetable) -> dict[tuple[str, str], tuple[int, float, int]]:
    ids = tt.strings("stop_id").to_list()
    off, to = np.asarray(tt.fp_offsets), np.asarray(tt.fp_to)
    dur, dist, kind = (np.asarray(tt.fp_duration_s), np.asarray(tt.fp_distance_m),
                       np.asarray(tt.fp_kind))
    return {(ids[s], ids[int(to[f])]): (int(dur[f]), float(dist[f]), int(kind[f]))
            for s in range(len(ids)) for f in range(int(off[s]), int(off[s + 1]))}


@pytest.fixture
def planner(tmp_path: Path) -> Iterator[Callable[..., Planner]]:
    """planner({"A": feed, ...}, at=..., min_change_s=None) -> a started Planner."""
    made: list[Planner] = []

    def make(feeds: dict[str, Path], at: str, min_change_s: int | None = None,
             tz: str = TZ) -> Planner:
        data = tmp_path / f"data{len(made)}"
        rules = FootpathRules() if min_change_s is None else FootpathRules(
            min_change_s=min_change_s)
        ops = tuple(Operator(id=op, name=f"Operator {op}", gtfs=str(p.resolve()))
                    for op, p in feeds.items())
        ingest(Catalog(ops, footpaths=rules), Store(data))
        client = client_for(data, at)
        client.__enter__()
        tt = Store(data).load_current()
        assert tt is not None
        p = Planner(client, tt, tz)
        made.append(p)
        return p

    yield make
    for p in made:
        p.client.__exit__(None, None, None)


def summary(j: dict) -> list[tuple]:
    """A journey's legs, compactly: trips as (trip_id, from, departure, to, arrival[, seated]),
    walks as ("walk", from, to, duration_s)."""
    out: list[tuple] = []
    for leg in j["legs"]:
        a = leg["from"]["stop_id"] or leg["from"]["name"]
        b = leg["to"]["stop_id"] or leg["to"]["name"]
        if leg["mode"] == "walk":
            out.append(("walk", a, b, leg["duration_s"]))
        else:
            row = (leg["trip_id"], a, leg["departure"], b, leg["arrival"])
            out.append((*row, "seated") if leg.get("stay_seated") else row)
    return out


def journey_problems(p: Planner, j: dict, params: dict) -> list[str]:
    """Everything that makes a journey of the API impossible to travel as shown."""
    out: list[str] = []
    label = f"journey {j['departure']} -> {j['arrival']}"
    legs = j["legs"]
    if not legs:
        return [f"{label}: no legs"]
    extra = int(params.get("min_transfer_s", 0))  # type: ignore[call-overload]
    speed = float(params.get("walk_speed", SPEED))  # type: ignore[arg-type]
    zone = ZoneInfo(p.tz)
    for text in [j["departure"], j["arrival"]] + [x for leg in legs for x in (
            leg["departure"], leg["arrival"])]:
        t = datetime.fromisoformat(text)
        if t.utcoffset() != t.astimezone(zone).utcoffset():
            out.append(f"{label}: {text} does not carry the UTC offset of {p.tz}")
    if j["departure"] != legs[0]["departure"] or j["arrival"] != legs[-1]["arrival"]:
        out.append(f"{label}: does not span its legs {legs[0]['departure']} .. "
                   f"{legs[-1]['arrival']}")
    if j["duration_s"] != unix(j["arrival"]) - unix(j["departure"]):
        out.append(f"{label}: duration_s {j['duration_s']}")
    if "depart_at" in params and unix(j["departure"]) < unix(str(params["depart_at"])):
        out.append(f"{label}: leaves before depart_at {params['depart_at']}")
    if "arrive_by" in params and unix(j["arrival"]) > unix(str(params["arrive_by"])):
        out.append(f"{label}: arrives after arrive_by {params['arrive_by']}")
    trip_legs = [leg for leg in legs if leg["mode"] != "walk"]
    transfers = max(sum(1 for leg in trip_legs if not leg["stay_seated"]) - 1, 0)
    if j["transfers"] != transfers:
        out.append(f"{label}: transfers {j['transfers']}, the legs make {transfers}")
    walked = 0.0
    for i, leg in enumerate(legs):
        dep, arr = unix(leg["departure"]), unix(leg["arrival"])
        where = f"{label} leg {i} ({leg['mode']} {leg['from']['name']} -> {leg['to']['name']})"
        if leg["duration_s"] != arr - dep or arr < dep:
            out.append(f"{where}: times {leg['departure']} .. {leg['arrival']}, duration_s "
                       f"{leg['duration_s']}")
        geo = leg["geometry"]
        if geo.get("type") != "LineString" or len(geo.get("coordinates", [])) < (
                2 if leg["from"]["lat"] is not None else 0):
            out.append(f"{where}: geometry {geo}")
        if i > 0:
            prev = legs[i - 1]
            if unix(prev["arrival"]) > dep:
                out.append(f"{where}: leaves before the previous leg arrives")
            if (prev["to"]["stop_id"], prev["to"]["lat"], prev["to"]["lon"]) != (
                    leg["from"]["stop_id"], leg["from"]["lat"], leg["from"]["lon"]):
                out.append(f"{where}: does not start where the previous leg ends")
        if leg["mode"] == "walk":
            out += _walk_problems(p, leg, where, speed, direct=len(legs) == 1)
            walked += leg["distance_m"] or 0.0
            continue
        seated_on = i + 1 < len(legs) and legs[i + 1].get("stay_seated", False)
        out += _trip_leg_problems(p, leg, where, seated_on)
        # the change before this trip leg
        if i == 0 or not any(x["mode"] != "walk" for x in legs[:i]):
            continue
        prev_trip = next(x for x in reversed(legs[:i]) if x["mode"] != "walk")
        between = legs[legs.index(prev_trip) + 1:i]
        if leg["stay_seated"]:
            out += _seated_problems(p, prev_trip, leg, between, where)
        elif not between:
            stop = leg["from"]["stop_id"]
            need = unix(prev_trip["arrival"]) + p.change_s(stop) + extra
            if stop != prev_trip["to"]["stop_id"] or dep < need:
                out.append(f"{where}: change at {stop} needs until {show(need, p.tz)}")
        elif len(between) != 1:
            out.append(f"{where}: {len(between)} walks in a row")
    if abs(j["walk_m"] - round(walked, 1)) > 0.15:
        out.append(f"{label}: walk_m {j['walk_m']} but the walks add up to {walked:.1f}")
    return out


def _walk_problems(p: Planner, leg: dict, where: str, speed: float, direct: bool
                   ) -> list[str]:
    out = []
    a, b = leg["from"], leg["to"]
    dur, dist = leg["duration_s"], leg["distance_m"]
    if dist is None or leg.get("trip_id") is not None:
        return [f"{where}: a walk needs distance_m and no trip_id"]
    if not direct and a["stop_id"] is not None and b["stop_id"] is not None and (
            p.footpath(a["stop_id"], b["stop_id"]) is not None):
        secs, straight, kind = p.footpath(a["stop_id"], b["stop_id"])  # type: ignore[misc]
        if dur != secs:
            out.append(f"{where}: walks {dur} s, the footpath takes {secs} s")
        if abs(dist - round(straight * DETOUR, 1)) > 0.15:
            out.append(f"{where}: distance_m {dist}, footpath {straight:.1f} m x {DETOUR}")
        # walking: the straight line x detour at the speed, and no less than the change
        # time of either stop (transfers.txt times stand as given)
        walking = max(math.ceil(straight * DETOUR / SPEED), p.change_s(a["stop_id"]),
                      p.change_s(b["stop_id"]))
        if kind == 0 and dur != walking:
            out.append(f"{where}: {dur} s for {straight:.1f} m straight, expected {walking} s")
        return out
    if not direct and a["stop_id"] is not None and b["stop_id"] is not None:
        return [f"{where}: walks between stops without a footpath"]
    # access, egress or direct walk: the straight line x detour at the walking speed
    straight = metres(a["lat"], a["lon"], b["lat"], b["lon"])
    if dur != math.ceil(straight * DETOUR / speed):
        out.append(f"{where}: {dur} s, expected ceil({straight:.1f} m x {DETOUR} / {speed})")
    if abs(dist - round(straight * DETOUR, 1)) > 0.15:
        out.append(f"{where}: distance_m {dist}, expected {straight * DETOUR:.1f}")
    return out


def _trip_leg_problems(p: Planner, leg: dict, where: str, seated_on: bool) -> list[str]:
    trip = p.trip(leg["trip_id"], leg["service_date"])
    if trip is None:
        return [f"{where}: {leg['trip_id']} does not run on {leg['service_date']}"]
    out = []
    stops = trip["stops"]
    board = [k for k, s in enumerate(stops) if s["stop_id"] == leg["from"]["stop_id"]
             and unix(s["scheduled_departure"]) == unix(leg["departure"])]
    alight = [k for k, s in enumerate(stops) if s["stop_id"] == leg["to"]["stop_id"]
              and unix(s["scheduled_arrival"]) == unix(leg["arrival"])]
    if not board or not alight or alight[-1] <= board[0]:
        return [f"{where}: {leg['trip_id']} of {leg['service_date']} does not leave "
                f"{leg['from']['stop_id']} at {leg['departure']} and reach "
                f"{leg['to']['stop_id']} at {leg['arrival']}"]
    b, e = board[0], next(k for k in alight if k > board[0])
    if stops[b]["pickup"] == "none" and not leg["stay_seated"]:
        out.append(f"{where}: boards at {stops[b]['stop_id']} where pickup is none")
    if stops[e]["drop_off"] == "none" and not seated_on:
        out.append(f"{where}: alights at {stops[e]['stop_id']} where drop-off is none")
    inter = [(s["stop_id"], s["scheduled_arrival"], s["scheduled_departure"])
             for s in stops[b + 1:e]]
    got = [(s["stop_id"], s["arrival"], s["departure"]) for s in leg["intermediate_stops"]]
    if inter != got:
        out.append(f"{where}: intermediate stops {got}, the trip has {inter}")
    if leg["mode"] != trip["route"]["mode"] or leg["operator"] != trip["operator"] or (
            leg["route"]["id"] != trip["route"]["id"]):
        out.append(f"{where}: mode/operator/route differ from the trip's")
    if leg["from"]["platform"] != stops[b]["platform"] or (
            leg["to"]["platform"] != stops[e]["platform"]):
        out.append(f"{where}: platforms differ from the trip's")
    return out


def _seated_problems(p: Planner, prev: dict, leg: dict, between: list, where: str
                     ) -> list[str]:
    a = p.trip(prev["trip_id"], prev["service_date"])
    b = p.trip(leg["trip_id"], leg["service_date"])
    if between or a is None or b is None:
        return [f"{where}: stays seated across a walk or into a trip that does not run"]
    ti, tj = p.tt.trip_index[prev["trip_id"]], p.tt.trip_index[leg["trip_id"]]
    in_seat = int(p.tt.trip_next_in_block[ti]) == tj  # transfers.txt type 4 (tests check it)
    ok = ((in_seat or (a["block_id"] is not None and a["block_id"] == b["block_id"]))
          and a["operator"] == b["operator"] and prev["service_date"] == leg["service_date"]
          and a["stops"][-1]["stop_id"] == prev["to"]["stop_id"] == leg["from"]["stop_id"]
          == b["stops"][0]["stop_id"]
          and unix(a["stops"][-1]["scheduled_arrival"]) == unix(prev["arrival"])
          and unix(b["stops"][0]["scheduled_departure"]) == unix(leg["departure"])
          and unix(leg["departure"]) >= unix(prev["arrival"]))
    return [] if ok else [f"{where}: {leg['trip_id']} is not the block continuation of "
                          f"{prev['trip_id']}"]


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
    assert [(j["departure"][11:19], j["arrival"][11:19], _trips_of([j])[0]) for j in js] == [
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
    assert [_trips_of([j])[0] for j in js] == [["W:D0800"]]
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


# -- transfers.txt: every type, with the spec's precedence ----------------------------------

def _changing(tmp_path: Path, transfers: str, trips: str = "", extra_times: str = "",
              extra_stops: str = "") -> dict[str, Path]:
    """T1 A 08:00 -> X 08:10 (block BL); T2 X 08:15 -> B 08:30 (a change at X); the slow
    direct T9 A 08:05 -> B 09:00."""
    stops = ("stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station\n"
             "A,Ash,50.0,4.0,0,\nX,Xeno,50.01,4.0,0,\nB,Birch,50.02,4.0,0,\n" + extra_stops)
    return {"Q": feed(tmp_path, "Q", stops, "R1,Q,1,One,3\nR2,Q,2,Two,3\nR9,Q,9,Nine,3\n",
                      "route_id,service_id,trip_id,block_id\nR1,DAILY,T1,BL\nR2,DAILY,T2,\n"
                      "R9,DAILY,T9,\n" + trips,
                      "T1,08:00:00,08:00:00,A,1\nT1,08:10:00,08:10:00,X,2\n"
                      "T2,08:15:00,08:15:00,X,1\nT2,08:30:00,08:30:00,B,2\n"
                      "T9,08:05:00,08:05:00,A,1\nT9,09:00:00,09:00:00,B,2\n" + extra_times,
                      **{"transfers.txt": "from_stop_id,to_stop_id,transfer_type,"
                         "min_transfer_time,from_route_id,to_route_id,from_trip_id,to_trip_id\n"
                         + transfers})}


def _trips_of(js: list[dict]) -> list[list[str]]:
    return [[leg["trip_id"] for leg in j["legs"] if leg["trip_id"]] for j in js]


def test_no_changing_at_a_stop_with_a_transfer_type_3_to_itself(tmp_path: Path,
                                                                 planner) -> None:
    q = {"from": "Q:A", "to": "Q:B", "depart_at": "2026-05-05T07:55:00+02:00"}
    p = planner(_changing(tmp_path / "a", ""), "2026-05-05T07:00:00+02:00")
    assert _trips_of(p.plan(**q)) == [["Q:T1", "Q:T2"], ["Q:T9"]]
    # X -> X type 3: no change at X (the direct trip only); walking on from X to a stop
    # 56 m away still takes the walk (or Y's change time), not "never"
    p = planner(_changing(tmp_path / "b", "X,X,3,,,,,\n", extra_stops="Y,Yew,50.0105,4.0,0,\n"),
                "2026-05-05T07:00:00+02:00")
    assert _trips_of(p.plan(**q)) == [["Q:T9"]]
    assert p.footpath("Q:X", "Q:Y")[:1] == (120,)  # type: ignore[index]
    # a rule for other routes, or other trips, is no rule for these
    p = planner(_changing(tmp_path / "c", "X,X,3,,R9,R2,,\nX,X,3,,,,T9,T2\n"),
                "2026-05-05T07:00:00+02:00")
    assert _trips_of(p.plan(**q)) == [["Q:T1", "Q:T2"], ["Q:T9"]]
    # route- and trip-specific rules for these trips: a journey breaking one is not offered
    for d, rules, want in (
            ("d", "X,X,3,,R1,R2,,\n", [["Q:T9"]]),  # no change from route 1 to route 2
            ("e", "X,X,2,600,,,T1,T2\n", [["Q:T9"]]),  # 10 minutes from T1 to T2 (5 given)
            ("f", "X,X,2,300,,,T1,T2\n", [["Q:T1", "Q:T2"], ["Q:T9"]]),  # 5 minutes will do
            # a rule for both trips wins over one for a route
            ("g", "X,X,3,,R1,,,\nX,X,0,,,,T1,T2\n", [["Q:T1", "Q:T2"], ["Q:T9"]])):
        p = planner(_changing(tmp_path / d, rules), "2026-05-05T07:00:00+02:00")
        assert _trips_of(p.plan(**q)) == want, rules


# T4 X 08:25 -> B 08:40 (route 2, after T2), T5 X 08:11 -> B 08:20 (route 2, a minute after
# T1 arrives: less than X's change time), T0 A 07:50 -> X 08:00 (route 1, before T1)
_MORE_TRIPS = ("R2,DAILY,T4,\nR2,DAILY,T5,\nR1,DAILY,T0,\n",
               "T4,08:25:00,08:25:00,X,1\nT4,08:40:00,08:40:00,B,2\n"
               "T5,08:11:00,08:11:00,X,1\nT5,08:20:00,08:20:00,B,2\n"
               "T0,07:50:00,07:50:00,A,1\nT0,08:00:00,08:00:00,X,2\n")


def _ruled(tmp_path: Path, planner, name: str, rules: str, five: bool = True) -> Planner:
    trips, times = _MORE_TRIPS
    if not five:  # without T5
        trips = trips.replace("R2,DAILY,T5,\n", "")
        times = "".join(x + "\n" for x in times.splitlines() if not x.startswith("T5"))
    return planner(_changing(tmp_path / name, rules, trips, times), "2026-05-05T07:00:00+02:00")


AT_0755 = {"from": "Q:A", "to": "Q:B", "depart_at": "2026-05-05T07:55:00+02:00"}


def _by(t: str) -> dict[str, str]:
    return {"from": "Q:A", "to": "Q:B", "arrive_by": f"2026-05-05T{t}:00+02:00"}


def test_a_forbidden_trip_to_trip_change_finds_the_next_trip(tmp_path: Path, planner) -> None:
    # T1 -> T2 at X is forbidden (type 3): T1 then T4, the next trip of route 2
    p = _ruled(tmp_path, planner, "a", "X,X,3,,,,T1,T2\n", five=False)
    js = p.plan(**AT_0755)
    assert summary(js[0]) == [
        ("Q:T1", "Q:A", "2026-05-05T08:00:00+02:00", "Q:X", "2026-05-05T08:10:00+02:00"),
        ("Q:T4", "Q:X", "2026-05-05T08:25:00+02:00", "Q:B", "2026-05-05T08:40:00+02:00")]
    assert _trips_of(js) == [["Q:T1", "Q:T4"], ["Q:T9"]]
    # arriving by 08:35: T2 is the last trip that does, and T1 may not change into it: T0
    assert _trips_of(p.plan(**_by("08:35"))) == [["Q:T0", "Q:T2"]]
    # from T0 the change into T2 stays allowed (08:00 -> 08:15), T1's alone is forbidden
    assert _trips_of(p.plan(**{**AT_0755, "depart_at": "2026-05-05T07:45:00+02:00"}))[0] == [
        "Q:T0", "Q:T2"]


def test_a_route_to_route_minimum_time(tmp_path: Path, planner) -> None:
    # route 1 -> route 2 at X takes 10 minutes: T1 (08:10) misses T2 (08:15), T4 (08:25) is fine
    p = _ruled(tmp_path, planner, "a", "X,X,2,600,R1,R2,,\n", five=False)
    assert _trips_of(p.plan(**AT_0755)) == [["Q:T1", "Q:T4"], ["Q:T9"]]
    assert _trips_of(p.plan(**_by("08:35"))) == [["Q:T0", "Q:T2"]]
    # the rider's own slack comes on top of the rule's time at one stop
    assert _trips_of(p.plan(**AT_0755, min_transfer_s=600)) == [["Q:T9"]]


def test_a_timed_trip_to_trip_transfer_shorter_than_the_stops_change_time(tmp_path: Path,
                                                                         planner) -> None:
    # T5 leaves X a minute after T1 arrives (X's change time is 2 minutes): only a timed
    # transfer (type 1) from T1 to T5 makes it
    p = _ruled(tmp_path, planner, "a", "")
    assert _trips_of(p.plan(**AT_0755)) == [["Q:T1", "Q:T2"], ["Q:T9"]]
    p = _ruled(tmp_path, planner, "b", "X,X,1,,,,T1,T5\n")
    # (journey_problems would find the change shorter than X's change time: not used here)
    js = p.get(**AT_0755)["journeys"]
    assert _trips_of(js) == [["Q:T1", "Q:T5"], ["Q:T9"]]
    assert js[0]["arrival"] == "2026-05-05T08:20:00+02:00"
    assert _trips_of(p.get(**_by("08:25"))["journeys"]) == [["Q:T1", "Q:T5"]]


def test_a_trip_rule_wins_over_a_stop_rule(tmp_path: Path, planner) -> None:
    # no changing at X at all (stop rule), but T1 -> T5 is a timed transfer (trip rule)
    p = _ruled(tmp_path, planner, "a", "X,X,3,,,,,\nX,X,1,,,,T1,T5\n")
    assert _trips_of(p.get(**AT_0755)["journeys"]) == [["Q:T1", "Q:T5"], ["Q:T9"]]
    assert _trips_of(p.get(**_by("08:25"))["journeys"]) == [["Q:T1", "Q:T5"]]
    # immediate changes at X (stop rule), but none from route 1 to route 2 (route rule)
    p = _ruled(tmp_path, planner, "b", "X,X,1,,,,,\nX,X,3,,R1,R2,,\n")
    assert _trips_of(p.plan(**AT_0755)) == [["Q:T9"]]
    # a trip rule (type 0: the usual change time) wins over the route rule
    p = _ruled(tmp_path, planner, "c", "X,X,3,,R1,R2,,\nX,X,0,,,,T1,T4\n")
    assert _trips_of(p.plan(**AT_0755)) == [["Q:T1", "Q:T4"], ["Q:T9"]]
    assert _trips_of(p.plan(**_by("08:45"))) == [["Q:T1", "Q:T4"]]


def test_trip_specific_rules_compile_nothing_after_the_warm_up(tmp_path: Path,
                                                              planner) -> None:
    # the server warms its kernels up before it is ready; requests under trip-specific rules
    # (forward, arrive_by's lenient search and its confirmations, windows, the tie-break
    # search that B's recommended transfer point asks for) add no compiled variant
    p = _ruled(tmp_path, planner, "a", "X,X,3,,,,T1,T2\nX,X,1,,,,T1,T5\nB,B,0,,,,\n")
    kernels = [raptor.rounds, _departures]
    before = [len(k.signatures) for k in kernels]
    assert all(before)
    for params in (AT_0755, _by("08:35"), {**AT_0755, "window": 30},
                   {**AT_0755, "min_transfer_s": 60}):
        assert p.get(**params)["journeys"], params
    assert [len(k.signatures) for k in kernels] == before


def _dispatchers() -> dict[str, object]:
    """Every numba-compiled function of the search (its modules' globals)."""
    from numba.core.registry import CPUDispatcher

    from transit.routing import indexes, lower_bounds, rule_kernels, search
    out = {}
    for m in (raptor, rule_kernels, search, lower_bounds, indexes):
        for name, f in vars(m).items():
            if isinstance(f, CPUDispatcher):
                out[f"{f.__module__}.{name}"] = f
    return out


def test_options_compile_nothing_after_the_warm_up(tmp_path: Path, planner) -> None:
    # every option is data for the kernels the server compiles (or loads) before it is
    # ready: after the warm-up no request compiles a new variant of any of them
    f = feed(tmp_path / "w", "W", stops_txt(
        ("S1", "One", 50.0, 4.0, 1), ("S3", "Three", 50.02, 4.0, 1), ("S4", "Four", 50.03, 4.0, 0),
        ("S5", "Five", 50.04, 4.0, 1)), "R1,W,1,Line,3\n",
        "route_id,service_id,trip_id,wheelchair_accessible\nR1,DAILY,ACC,1\nR1,DAILY,ACC2,1\n"
        "R1,DAILY,UNK,\n",
        "ACC,08:05:00,08:05:00,S1,1\nACC,08:20:00,08:20:00,S5,2\n"
        "ACC2,08:25:00,08:25:00,S5,1\nACC2,08:30:00,08:31:00,S4,2\nACC2,08:40:00,08:40:00,S3,3\n"
        "UNK,08:02:00,08:02:00,S1,1\nUNK,08:29:00,08:29:00,S3,2\n")
    w = planner({"W": f}, "2026-05-05T07:00:00+02:00")
    p = planner(_changing(tmp_path / "q", "X,X,2,300,,,T8,T4\n", "R9,DAILY,T8,\nR2,DAILY,T4,\n",
                          "T8,08:06:00,08:06:00,A,1\nT8,08:20:00,08:20:00,X,2\n"
                          "T8,08:40:00,08:40:00,B,3\n"
                          "T4,08:25:00,08:25:00,X,1\nT4,08:35:00,08:35:00,B,2\n"),
                "2026-05-05T07:00:00+02:00")
    kernels = _dispatchers()
    assert len(kernels) >= 10
    before = {n: len(k.signatures) for n, k in kernels.items()}  # type: ignore[attr-defined]
    wq = {"from": "W:S1", "to": "W:S3", "depart_at": "2026-05-05T07:55:00+02:00"}
    for params in ({**wq, "wheelchair": "true"},
                   {**wq, "wheelchair": "true", "wheelchair_unknown": "true"},
                   {"from": "W:S1", "to": "W:S3", "arrive_by": "2026-05-05T08:45:00+02:00",
                    "wheelchair": "true"}):
        assert w.get(**params)["journeys"], params
    q = {"from": "Q:A", "to": "Q:B", "depart_at": "2026-05-05T07:55:00+02:00"}
    by = {"from": "Q:A", "to": "Q:B", "arrive_by": "2026-05-05T08:50:00+02:00"}
    for params in ({**q, "modes": "bus"}, {**q, "exclude_modes": "rail"},
                   {**q, "operators": "Q"}, {**q, "exclude_routes": "Q:R2"},
                   {**q, "exclude_stops": "Q:X"},
                   {**q, "exclude_stops": "Q:X", "exclude_passing": "true"},
                   {**q, "via": "Q:X"}, {**q, "via": "Q:X", "via_min_stay": 10},
                   {**by, "via": "Q:X"},
                   {"from_trip": "Q:T8", "to": "Q:B", "depart_at": "2026-05-05T08:10:00+02:00"},
                   {"from_trip": "Q:T8", "to": "Q:B", "depart_at": "2026-05-05T08:10:00+02:00",
                    "modes": "bus", "min_transfer_s": 60},
                   by, {**by, "exclude_routes": "Q:R9"}, {**q, "window": 60},
                   {**q, "window": 60, "exclude_stops": "Q:X"},
                   {**q, "min_transfer_s": 120, "max_transfers": 1}):
        assert p.get(**params)["journeys"], params
    after = {n: len(k.signatures) for n, k in kernels.items()}  # type: ignore[attr-defined]
    assert {n: (before[n], after[n]) for n in after if after[n] != before[n]} == {}


def test_a_platform_rule_wins_over_its_stations_rule(tmp_path: Path, planner) -> None:
    # station S with platforms P1, P2 (10 m apart): S -> S takes 10 min, P1 -> P2 1 min,
    # whatever the order of the rows
    stops = ("S,Station,50.03,4.0,1,\nP1,Station 1,50.03,4.0,0,S\n"
             "P2,Station 2,50.03009,4.0,0,S\n")
    for i, rows in enumerate(("P1,P2,2,60,,,,\nS,S,2,600,,,,\n",
                              "S,S,2,600,,,,\nP1,P2,2,60,,,,\n")):
        p = planner(_changing(tmp_path / str(i), rows, extra_stops=stops),
                    "2026-05-05T07:00:00+02:00")
        assert p.footpath("Q:P1", "Q:P2")[:1] == (60,), rows  # type: ignore[index]
        assert p.footpath("Q:P2", "Q:P1")[:1] == (600,), rows  # type: ignore[index]
        assert (p.change_s("Q:P1"), p.change_s("Q:P2")) == (600, 600)
    # a type 3 between the platforms beats the station's type 2
    p = planner(_changing(tmp_path / "x", "S,S,2,600,,,,\nP1,P2,3,,,,,\n", extra_stops=stops),
                "2026-05-05T07:00:00+02:00")
    assert p.footpath("Q:P1", "Q:P2") is None and p.footpath("Q:P2", "Q:P1") is not None


def test_exclude_routes_and_stops(tmp_path: Path, planner) -> None:
    # T8 A 08:06 -> X 08:20 -> B 08:40 passes X
    p = planner(_changing(tmp_path, "", "R9,DAILY,T8,\n",
                          "T8,08:06:00,08:06:00,A,1\nT8,08:20:00,08:20:00,X,2\n"
                          "T8,08:40:00,08:40:00,B,3\n"), "2026-05-05T07:00:00+02:00")
    q = {"from": "Q:A", "to": "Q:B", "depart_at": "2026-05-05T07:55:00+02:00"}
    assert _trips_of(p.plan(**q)) == [["Q:T1", "Q:T2"], ["Q:T8"]]
    assert _trips_of(p.plan(**q, exclude_routes="Q:R2")) == [["Q:T8"]]
    assert _trips_of(p.plan(**q, exclude_routes="Q:R2,Q:R9")) == []
    # no change at X; T8 only passes there
    assert _trips_of(p.plan(**q, exclude_stops="Q:X")) == [["Q:T8"]]
    # a closed station: no trip calling at X at all
    assert _trips_of(p.plan(**q, exclude_stops="Q:X", exclude_passing="true")) == [["Q:T9"]]
    assert _trips_of(p.plan(**q, exclude_passing="true")) == [["Q:T1", "Q:T2"], ["Q:T8"]]
    body = p.get(**{**q, "to": "Q:X"}, exclude_stops="Q:X")
    assert body["journeys"] == []
    for bad in ({"exclude_routes": "Q:NOPE"}, {"exclude_stops": "Q:A,Q:NOPE"},
                {"exclude_routes": "x" * 2001}):
        r = p.client.get("/v1/journeys", params={**q, **bad})
        assert r.status_code == 422, bad
        assert r.headers["content-type"].startswith("application/problem+json")
        assert next(iter(bad)) in r.text


def _via_network(tmp_path: Path) -> dict[str, Path]:
    """_changing, with T8 A 08:06 -> X 08:20 -> B 08:40 and T4 X 08:25 -> B 08:35."""
    return _changing(tmp_path, "", "R9,DAILY,T8,\nR2,DAILY,T4,\n",
                     "T8,08:06:00,08:06:00,A,1\nT8,08:20:00,08:20:00,X,2\n"
                     "T8,08:40:00,08:40:00,B,3\n"
                     "T4,08:25:00,08:25:00,X,1\nT4,08:35:00,08:35:00,B,2\n")


def test_via_a_place_with_a_minimum_stay(tmp_path: Path, planner) -> None:
    p = planner(_via_network(tmp_path), "2026-05-05T07:00:00+02:00")
    q = {"from": "Q:A", "to": "Q:B", "depart_at": "2026-05-05T07:55:00+02:00"}
    assert _trips_of(p.plan(**q)) == [["Q:T1", "Q:T2"], ["Q:T8"]]
    # through X (getting off there): T1 + T2, or T8 to X and T4 on (arrives later)
    assert _trips_of(p.plan(**q, via="Q:X")) == [["Q:T1", "Q:T2"]]
    # 10 minutes at X: T1 arrives 08:10, T2 (08:15) is missed; T8 arrives 08:20, too late
    # for T4 (08:25): T1, then T4
    js = p.plan(**q, via="Q:X", via_min_stay=10)
    assert [summary(j) for j in js] == [[
        ("Q:T1", "Q:A", "2026-05-05T08:00:00+02:00", "Q:X", "2026-05-05T08:10:00+02:00"),
        ("Q:T4", "Q:X", "2026-05-05T08:25:00+02:00", "Q:B", "2026-05-05T08:35:00+02:00")]]
    assert js[0]["transfers"] == 1
    # arrive by 08:50: the latest such departure is the same
    js = p.plan(**{"from": "Q:A", "to": "Q:B"}, arrive_by="2026-05-05T08:50:00+02:00",
                via="Q:X", via_min_stay=10)
    assert _trips_of(js) == [["Q:T1", "Q:T4"]]
    for bad in ({"via": "Q:NOPE"}, {"via": "50.0,4.0"}, {"via": "Q:X", "window": 30},
                {"via": "Q:X", "via_min_stay": 601}):
        r = p.client.get("/v1/journeys", params={**q, **bad})
        assert r.status_code in (404, 422), bad
        assert r.headers["content-type"].startswith("application/problem+json")


def test_from_a_trip_the_rider_is_on(tmp_path: Path, planner) -> None:
    p = planner(_via_network(tmp_path), "2026-05-05T07:00:00+02:00")
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
    assert _trips_of(_aboard(p, **ABOARD_T8)) == [["Q:T8"]]


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
    assert _trips_of(p.get(**ABOARD_T8, min_transfer_s=960)["journeys"]) == [["Q:T8"]]


def test_from_trip_stays_seated_into_an_in_seat_transfer(tmp_path: Path, planner) -> None:
    # type 4 T1 -> T3 (T3 X 08:11 -> B 08:25, a minute after T1 reaches X: too soon to
    # change): aboard T1, the rider stays seated into T3 (before T2, X 08:15 -> B 08:30);
    # with type 5 instead, T3 cannot be caught: T2
    extra = "T3,08:11:00,08:11:00,X,1\nT3,08:25:00,08:25:00,B,2\n"
    q = {"from_trip": "Q:T1", "to": "Q:B", "depart_at": "2026-05-05T08:05:00+02:00"}
    p = planner(_changing(tmp_path / "a", ",,4,,,,T1,T3\n", "R2,DAILY,T3,\n", extra),
                "2026-05-05T07:00:00+02:00")
    [j] = _aboard(p, **q)
    assert summary(j) == [
        ("Q:T1", "Q:A", "2026-05-05T08:00:00+02:00", "Q:X", "2026-05-05T08:10:00+02:00"),
        ("Q:T3", "Q:X", "2026-05-05T08:11:00+02:00", "Q:B", "2026-05-05T08:25:00+02:00",
         "seated")]
    assert j["transfers"] == 0
    p = planner(_changing(tmp_path / "b", ",,5,,,,T1,T3\n", "R2,DAILY,T3,BL\n", extra),
                "2026-05-05T07:00:00+02:00")
    js = _aboard(p, **q)
    assert [(t, j["transfers"]) for t, j in zip(_trips_of(js), js, strict=True)] == [
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
    assert _trips_of(body["journeys"]) == [["Q:N", "Q:T2"], ["Q:N"]]  # (within 24 h)


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
    p = planner(_changing(tmp_path / "a", ",,4,,,,T1,T3\n", "R2,DAILY,T3,\n", extra),
                "2026-05-05T07:00:00+02:00")
    [j] = p.plan(**q)
    assert summary(j) == [
        ("Q:T1", "Q:A", "2026-05-05T08:00:00+02:00", "Q:X", "2026-05-05T08:10:00+02:00"),
        ("Q:T3", "Q:X", "2026-05-05T08:12:00+02:00", "Q:B", "2026-05-05T08:25:00+02:00",
         "seated")]
    # type 5 between trips of one block: alight and board again (a transfer, change time)
    p = planner(_changing(tmp_path / "b", ",,5,,,,T1,T3\n", "R2,DAILY,T3,BL\n",
                          extra.replace("08:12:00", "08:13:00")),
                "2026-05-05T07:00:00+02:00")
    assert _trips_of(p.plan(**q)) == [["Q:T9"]]
    js = p.plan(**{**q, "max_transfers": 1})
    assert [(t, j["transfers"]) for t, j in zip(_trips_of(js), js, strict=True)] == [
        (["Q:T1", "Q:T3"], 1), (["Q:T9"], 0)]


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


def test_journeys_parameters_in_the_openapi_document(tmp_path: Path) -> None:
    # the parameters come from four dependencies (transit.journeys.params): the document
    # lists them in the order and with the constraints the endpoint always had
    spec = client_for(tmp_path, "2026-05-05T07:00:00+02:00").app.openapi()  # type: ignore[attr-defined]
    params = spec["paths"]["/v1/journeys"]["get"]["parameters"]
    assert [x["name"] for x in params] == [
        "to", "from", "depart_at", "arrive_by", "window", "max_transfers", "max_walk_m",
        "walk_speed", "min_transfer_s", "wheelchair", "modes", "exclude_modes", "operators",
        "exclude_operators", "wheelchair_unknown", "exclude_routes", "exclude_stops",
        "exclude_passing", "via", "via_min_stay", "from_trip", "from_date", "rider_category",
        "preview", "lang"]
    by = {x["name"]: x for x in params}
    assert by["to"]["required"] and not by["from"]["required"]
    assert by["from"]["description"] == "stop id, station id, or lat,lon (or from_trip)"
    assert (by["window"]["schema"]["maximum"], by["window"]["schema"]["default"]) == (180, 0)
    assert by["walk_speed"]["schema"]["anyOf"][0]["exclusiveMinimum"] == 0.3
    assert by["rider_category"]["schema"]["anyOf"][0]["pattern"] == r"^[A-Za-z0-9_.:-]+$"


# -- c. the engine against the brute force on random networks ---------------------------------

def _hms(s: int) -> str:
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def random_feeds(rng: random.Random, directory: Path, n_ops: int = 3, rules: bool = False
                 ) -> dict[str, Path]:
    """Operators with stops around shared hubs (cross-operator footpaths), routes whose trips
    run from 04:00 to past 26:00, several calendars (weekdays, Sundays, single dates),
    pickup/drop-off restrictions, own change times (transfers.txt) and block continuations."""
    hubs = [(50.0 + rng.uniform(0, 0.03), 4.0 + rng.uniform(0, 0.04)) for _ in range(5)]
    feeds = {}
    for o in range(n_ops):
        op = "ABCDEF"[o]
        stops = []
        for i in range(rng.randint(6, 9)):
            if rng.random() < 0.5:
                lat, lon = rng.choice(hubs)
                lat, lon = lat + rng.uniform(-0.0015, 0.0015), lon + rng.uniform(-0.002, 0.002)
            else:
                lat, lon = 50.0 + rng.uniform(0, 0.03), 4.0 + rng.uniform(0, 0.04)
            stops.append((f"{op}{i}", lat, lon))
        names = [s for s, _, _ in stops]
        routes, trips, times = [], [], {}
        for r in range(rng.randint(2, 3)):
            seq = rng.sample(names, rng.randint(3, 5))
            routes.append(f"{op}R{r},{op},{r},Route {r},{rng.choice([3, 2, 0, 4])}\n")
            hops = [rng.randint(1, 8) * 60 for _ in seq[1:]]
            dwell = [rng.choice([0, 0, 60]) for _ in seq]
            for _ in range(rng.randint(4, 9)):
                t = rng.randrange(4 * 3600, 26 * 3600, 60)
                rows = []
                for i, s in enumerate(seq):
                    inner = 0 < i < len(seq) - 1
                    rows.append((s, t, t + dwell[i], "1" if inner and rng.random() < 0.1 else "",
                                 "1" if inner and rng.random() < 0.1 else ""))
                    if i < len(hops):
                        t += dwell[i] + hops[i] + rng.choice([0, 0, 60])
                trip = f"{op}T{len(trips)}"
                trips.append([f"{op}R{r}", rng.choice(["DAILY", "DAILY", "WEEK", "SUN", "ODD"]),
                              trip, ""])
                times[trip] = rows
        for b in range(rng.randint(1, 3)):  # the vehicle of a trip continues as another
            k = rng.randrange(len(trips))
            last, end = times[trips[k][2]][-1][:2]
            t = end + rng.choice([0, 120, 300])
            rows = []
            for s in [last, *rng.sample([n for n in names if n != last], 2)]:
                rows.append((s, t, t, "", ""))
                t += rng.randint(2, 6) * 60
            trips[k][3] = f"BL{b}"
            trip = f"{op}T{len(trips)}"
            trips.append([f"{op}R0", trips[k][1], trip, f"BL{b}"])
            times[trip] = rows
        feeds[op] = write_feed(directory / op, {
            "agency.txt": AGENCY.format(op=op, tz=TZ),
            "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\n" + "".join(
                f"{s},Stop {s},{la:.6f},{lo:.6f}\n" for s, la, lo in stops),
            "routes.txt": ROUTES + "".join(routes),
            "calendar.txt": DAILY + "WEEK,1,1,1,1,1,0,0,20260101,20261231\n"
                                    "SUN,0,0,0,0,0,0,1,20260101,20261231\n",
            "calendar_dates.txt": "service_id,date,exception_type\nWEEK,20260602,2\n" + "".join(
                f"ODD,{d},1\n" for d in ("20260328", "20260329", "20260330", "20261024",
                                         "20261025", "20260602", "20260603")),
            "transfers.txt": "from_stop_id,to_stop_id,transfer_type,min_transfer_time,"
            "from_route_id,to_route_id,from_trip_id,to_trip_id\n"
            + "".join(f"{s},{s},2,{rng.choice([0, 60, 300])},,,,\n" for s in rng.sample(names, 2))
            + (random_rules(rng, names, trips, times) if rules else ""),
            "trips.txt": "route_id,service_id,trip_id,block_id\n" + "".join(
                ",".join(t) + "\n" for t in trips),
            "stop_times.txt": ST.strip() + ",pickup_type,drop_off_type\n" + "".join(
                f"{t},{_hms(a)},{_hms(d)},{s},{i + 1},{pu},{do}\n"
                for t, rows in times.items() for i, (s, a, d, pu, do) in enumerate(rows))})
    return feeds


def random_rules(rng: random.Random, names: list[str], trips: list[list[str]],
                 times: dict[str, list[tuple]]) -> str:
    """transfers.txt rows for some trips or routes (types 0-3): at a stop two trips call at,
    from one to the other (or their routes, or any), at that stop or to another one."""
    calls: dict[str, list[list[str]]] = {}
    for t in trips:
        for row in times[t[2]]:
            calls.setdefault(row[0], []).append(t)
    busy = [s for s, ts in calls.items() if len(ts) >= 2]
    rows = ""
    for _ in range(rng.randint(8, 14)):
        s = rng.choice(busy)
        a, b = rng.sample(calls[s], 2)
        to = s if rng.random() < 0.7 else rng.choice(names)
        side = [rng.choice(["trip", "trip", "route", "none"]) for _ in range(2)]
        if side == ["none", "none"]:
            side[1] = "trip"
        fr, ft = (a[0], "") if side[0] == "route" else ("", a[2] if side[0] == "trip" else "")
        tr, tt_ = (b[0], "") if side[1] == "route" else ("", b[2] if side[1] == "trip" else "")
        kind = rng.choice([0, 1, 2, 2, 3, 3])
        mins = rng.choice([0, 60, 300, 900]) if kind == 2 else ""
        rows += f"{s},{to},{kind},{mins},{fr},{tr},{ft},{tt_}\n"
    return rows


def reference_of(tt: Timetable, raws: list[RawFeed], days: list[date], t_lo: int,
                 t_hi: int) -> Reference:
    """The brute force over the raw feeds' trip instances, with the timetable's footpaths and
    change times (footpath generation is tested elsewhere)."""
    instances: list[Instance] = [i for r in raws for i in r.instances(days, t_lo, t_hi)]
    fps: dict[str, list[tuple[str, int]]] = {}
    for (a, b), (secs, _m, _k) in footpaths_of(tt).items():
        fps.setdefault(a, []).append((b, secs))
    ids = tt.strings("stop_id").to_list()
    change = dict(zip(ids, np.asarray(tt.stop_change_s).tolist(), strict=True))
    routes = {f"{r.operator}:{t}": f"{r.operator}:{x}" for r in raws
              for t, x in zip(r.trip_ids, r.trip_route, strict=True)}
    return Reference(instances, fps, change, block_continuations(instances),
                     rules=[x for r in raws for x in r.rules], trip_route=routes)


@dataclass
class World:
    """A compiled network, its engine, and the brute force per query date."""

    tt: Timetable
    searcher: Searcher
    raws: list[RawFeed]
    tz: str
    refs: dict[date, Reference] = field(default_factory=dict)

    def ref(self, d: date, t_lo: int | None = None, t_hi: int | None = None) -> Reference:
        if d not in self.refs:
            midnight = int(datetime.combine(d, time(0), ZoneInfo(self.tz)).timestamp())
            self.refs[d] = reference_of(
                self.tt, self.raws, days_around(d), midnight - 86400 if t_lo is None else t_lo,
                midnight + 3 * 86400 if t_hi is None else t_hi)
        return self.refs[d]

    def query(self, origins: list[tuple[str, int]], destinations: list[tuple[str, int]],
              t: int, max_transfers: int, extra: int = 0, walk: bool = True,
              max_duration_s: int = 24 * 3600) -> Query:
        idx = self.tt.stop_index
        return Query(origins=[(idx[s], a) for s, a in origins],
                     destinations=[(idx[s], e) for s, e in destinations], time=t,
                     max_transfers=max_transfers, extra_change_s=extra,
                     walk_from_origins=walk, max_duration_s=max_duration_s)

    def describe(self, j: EngineJourney) -> str:
        ids, trips = self.tt.strings("stop_id"), self.tt.strings("trip_id")
        parts = []
        for leg in j.legs:
            if leg.kind == "walk":
                parts.append(f"walk {ids[leg.from_stop]} -> {ids[leg.to_stop]} "
                             f"{leg.arrival - leg.departure}s")
            else:
                parts.append(f"{'seated ' if leg.stay_seated else ''}{trips[leg.trip]} "
                             f"{ids[leg.from_stop]} {show(leg.departure, self.tz)[11:19]} -> "
                             f"{ids[leg.to_stop]} {show(leg.arrival, self.tz)[5:19]}")
        return f"[{j.trips} trips, arr {show(j.arrival, self.tz)}] " + "; ".join(parts)


def world_of(tt: Timetable, feeds: dict[str, Path], tz: str) -> World:
    return World(tt, Searcher(Network.of(tt)), [RawFeed(op, p) for op, p in feeds.items()], tz)


def engine_best(w: World, js: list[EngineJourney], destinations: list[tuple[str, int]],
                max_trips: int) -> list[int]:
    """Earliest arrival (egress included) with at most k trips, k = 0 .. max_trips."""
    egress = {w.tt.stop_index[s]: e for s, e in destinations}
    best = [INF] * (max_trips + 1)
    for j in js:
        for k in range(j.trips, max_trips + 1):
            best[k] = min(best[k], j.arrival + egress[j.last_stop])
    return best


def engine_journey_problems(w: World, ref: Reference, j: EngineJourney,
                            origins: list[tuple[str, int]], t0: int, extra: int,
                            aboard: bool = False) -> list[str]:
    """An engine journey checked against the raw trip instances and footpaths (`aboard`:
    the rider is on the first leg's trip from the start, boarded before)."""
    ids, trip_ids = w.tt.strings("stop_id"), w.tt.strings("trip_id")
    access = dict(origins)
    out = []
    prev = None
    alighted = None  # (trip, stop, arrival) of the last trip leg
    for i, leg in enumerate(j.legs):
        a, b = ids[leg.from_stop], ids[leg.to_stop]
        seated_on = i + 1 < len(j.legs) and j.legs[i + 1].stay_seated
        if leg.kind == "walk":
            ruled = any(r.from_stop == a and r.to_stop == b for r in ref.rules)
            if (b, leg.arrival - leg.departure) not in ref.footpaths.get(a, []) and not ruled:
                out.append(f"walk {a} -> {b} of {leg.arrival - leg.departure}s: no footpath")
            prev = ("walk", b, leg.arrival)
            continue
        key = (trip_ids[leg.trip], w.tt.service_date(leg.day).isoformat())
        inst = ref.instance(key)
        if inst is None:
            out.append(f"{key} does not run")
            continue
        st = inst.stops
        if not (0 <= leg.board_pos < leg.alight_pos < len(st)) or (
                st[leg.board_pos][0], st[leg.board_pos][2], st[leg.alight_pos][0],
                st[leg.alight_pos][1]) != (a, leg.departure, b, leg.arrival):
            out.append(f"{key}: not {a} {show(leg.departure, w.tz)} -> {b} "
                       f"{show(leg.arrival, w.tz)}")
        elif (not st[leg.alight_pos][4] and not seated_on) or (
                not st[leg.board_pos][3] and not leg.stay_seated and not (aboard and i == 0)):
            out.append(f"{key}: boards or alights where the feed forbids it")
        if prev is None:
            if leg.departure < t0 + access.get(a, 0):
                out.append(f"{key}: leaves before the origin is reached")
        elif leg.stay_seated:
            if prev[0] != "trip" or ref.continuation.get(prev[3]) != key:
                out.append(f"{key}: is not the block continuation of {prev}")
        elif ref.rules and alighted is not None:
            gap = ref.change_gap(alighted[0], alighted[1], key[0], a, extra)
            if gap is None or leg.departure < alighted[2] + gap:
                out.append(f"{key}: the change from {alighted} at {a} breaks the rules "
                           f"({gap} s needed)")
        elif prev[0] == "trip" and leg.departure < prev[2] + ref.change_s[a] + extra:
            out.append(f"{key}: change at {a} too short")
        elif prev[0] == "walk" and leg.departure < prev[2]:
            out.append(f"{key}: leaves before the walk ends")
        prev = ("trip", b, leg.arrival, key)
        alighted = (key[0], b, leg.arrival)
    return out


def random_queries(rng: random.Random, w: World, stops: list[str], dates: list[date],
                   n: int) -> Iterator[tuple]:
    """(ref, origins, destinations, t0, max_transfers, extra, walk): stop to stop, or from
    a set of stops with access walks like a coordinate (a stop and its footpath neighbours)
    to such a set or to a stop."""
    for _ in range(n):
        d = rng.choice(dates)
        ref = w.ref(d)
        midnight = int(datetime.combine(d, time(0), ZoneInfo(w.tz)).timestamp())
        t0 = midnight + rng.randrange(3 * 3600, 26 * 3600, 60)
        o, dd = rng.sample(stops, 2)
        if rng.random() < 0.7:
            origins, dests, walk = [(o, 0)], [(dd, 0)], True
        else:
            a, e = rng.randint(0, 600), rng.randint(0, 600)
            origins = [(o, a)] + [(q, a + x) for q, x in ref.footpaths.get(o, [])]
            dests = [(dd, e)] + [(q, e + x) for q, x in ref.footpaths.get(dd, [])]
            if rng.random() < 0.4:  # from a coordinate to a stop
                dests = [(dd, 0)]
            walk = False
        yield ref, origins, dests, t0, rng.randint(0, 4), rng.choice([0, 0, 0, 60, 180]), walk


RANDOM_DATES = [date(2026, 3, 29), date(2026, 10, 25), date(2026, 6, 2), date(2026, 6, 3)]


@pytest.fixture(scope="module")
def random_worlds(tmp_path_factory: pytest.TempPathFactory) -> list[World]:
    worlds = []
    for seed in range(6):
        d = tmp_path_factory.mktemp(f"random{seed}")
        feeds = random_feeds(random.Random(seed), d)
        ops = tuple(Operator(id=op, name=op, gtfs=str(p)) for op, p in feeds.items())
        ingest(Catalog(ops), Store(d / "data"))
        tt = Store(d / "data").load_current()
        assert tt is not None
        worlds.append(world_of(tt, feeds, TZ))
    return worlds


@pytest.fixture(scope="module")
def ruled_worlds(tmp_path_factory: pytest.TempPathFactory) -> list[World]:
    """Random networks with trip- and route-specific transfers.txt rules."""
    worlds = []
    for seed in range(20, 25):
        d = tmp_path_factory.mktemp(f"ruled{seed}")
        feeds = random_feeds(random.Random(seed), d, rules=True)
        ops = tuple(Operator(id=op, name=op, gtfs=str(p)) for op, p in feeds.items())
        ingest(Catalog(ops), Store(d / "data"))
        tt = Store(d / "data").load_current()
        assert tt is not None
        worlds.append(world_of(tt, feeds, TZ))
    return worlds


def _compare(w: World, label: str, best: list[int], got: list[int], cap: int, ref: Reference,
             js: list[EngineJourney]) -> list[str]:
    best = [x if x <= cap else INF for x in best]
    got = [x if x <= cap else INF for x in got]
    if best == got:
        return []
    k = next(i for i in range(len(best)) if best[i] != got[i])
    return [f"{label}: earliest arrival by number of trips {[show(x, w.tz) for x in got]}, "
            f"brute force {[show(x, w.tz) for x in best]}; at most {k} trips the brute force "
            f"has: {ref.explain(k)}; the engine: {[w.describe(j) for j in js]}"]


def test_depart_at_equals_the_brute_force_on_random_networks(random_worlds) -> None:
    _depart_at_against_the_brute_force(random_worlds, 100, 40, 200)


def test_depart_at_honours_trip_specific_rules_as_the_brute_force(ruled_worlds) -> None:
    """Trip- and route-specific transfers.txt rules: the earliest arrival per number of trips
    equals the brute force's, which applies the most specific rule to every change."""
    assert sum(len(r.rules) for w in ruled_worlds for r in w.raws) >= 100
    _depart_at_against_the_brute_force(ruled_worlds, 400, 60, 250)


def _depart_at_against_the_brute_force(worlds: list[World], seed0: int, per_world: int,
                                       at_least: int) -> None:
    problems, n = [], 0
    for seed, w in enumerate(worlds):
        rng = random.Random(seed0 + seed)
        stops = sorted(w.tt.stop_index)
        for ref, origins, dests, t0, k, extra, walk in random_queries(
                rng, w, stops, RANDOM_DATES, per_world):
            n += 1
            best = ref.earliest_by_trips(origins, dests, t0, k + 1, 24 * 3600, extra, walk)
            js = w.searcher.depart_at(w.query(origins, dests, t0, k, extra, walk))
            label = f"[net {seed}] {origins} -> {dests} at {show(t0)} max_transfers={k} " \
                    f"slack={extra}"
            cap = t0 + 23 * 3600
            found = _compare(w, label, best, engine_best(w, js, dests, k + 1), cap, ref, js)
            egress = {w.tt.stop_index[s]: e for s, e in dests}
            front = sorted((j.arrival + egress[j.last_stop], j.trips) for j in js)
            want = sorted(x for x in pareto_front(best) if x[0] <= cap)
            if not found and [x for x in front if x[0] <= cap] != want:
                found.append(f"{label}: not the Pareto set: {[w.describe(j) for j in js]}, "
                             f"brute force {[(show(a), b) for a, b in want]}")
            for j in js:
                found += [f"{label}: {m}" for m in engine_journey_problems(
                    w, ref, j, origins, t0, extra)]
            problems += found
    assert n >= at_least
    assert not problems, f"{len(problems)} problems in {n} queries:\n" + "\n".join(problems[:12])


def test_from_trip_equals_the_brute_force_on_random_networks(ruled_worlds) -> None:
    """A rider aboard a random trip instance under way (random networks with trip- and
    route-specific transfers.txt rules, blocks, several service days): the earliest arrival
    per number of trips equals the brute force's started aboard the same instance, the
    answer is its Pareto set, and every journey is valid (the change off the trip ridden
    included)."""
    problems, n, changed = [], 0, 0
    for seed, w in enumerate(ruled_worlds):
        rng = random.Random(600 + seed)
        stops = sorted(w.tt.stop_index)
        asked = 0
        while asked < 40:
            d = rng.choice(RANDOM_DATES)
            ref = w.ref(d)
            midnight = int(datetime.combine(d, time(0), ZoneInfo(w.tz)).timestamp())
            t0 = midnight + rng.randrange(4 * 3600, 26 * 3600, 60)
            running = [x for x in ref.instances if x.stops[0][2] <= t0 < x.stops[-1][1]]
            if not running:
                continue
            inst = rng.choice(running)
            pos = max(p for p, x in enumerate(inst.stops[:-1]) if x[2] <= t0)
            dd = rng.choice(stops)
            dests = [(dd, 0)] if rng.random() < 0.7 else [(dd, 60)] + [
                (q, 60 + x) for q, x in ref.footpaths.get(dd, [])]
            k, extra = rng.randint(0, 3), rng.choice([0, 0, 60, 180])
            n, asked = n + 1, asked + 1
            trip_id, day = inst.key  # type: ignore[misc]
            aboard = Seed(w.tt.trip_index[trip_id], w.tt.day_of(date.fromisoformat(day)), pos,
                          np.array([x[1] for x in inst.stops], np.int64),
                          np.array([x[2] for x in inst.stops], np.int64))
            js = w.searcher.depart_aboard(w.query([], dests, t0, k, extra), aboard)
            best = ref.earliest_by_trips([], dests, t0, k + 1, 24 * 3600, extra,
                                         aboard=(inst.key, pos))
            label = f"[net {seed}] aboard {inst.key} from {inst.stops[pos][0]} at " \
                    f"{show(t0)} -> {dests} max_transfers={k} slack={extra}"
            cap = t0 + 23 * 3600
            found = _compare(w, label, best, engine_best(w, js, dests, k + 1), cap, ref, js)
            egress = {w.tt.stop_index[s]: e for s, e in dests}
            front = sorted((j.arrival + egress[j.last_stop], j.trips) for j in js)
            want = sorted(x for x in pareto_front(best) if x[0] <= cap)
            if not found and [x for x in front if x[0] <= cap] != want:
                found.append(f"{label}: not the Pareto set: {[w.describe(j) for j in js]}, "
                             f"brute force {[(show(a), b) for a, b in want]}")
            for j in js:
                first = j.legs[0]
                if (first.trip, first.day, first.board_pos) != (aboard.trip, aboard.day, pos):
                    found.append(f"{label}: does not start aboard: {w.describe(j)}")
                found += [f"{label}: {m}" for m in engine_journey_problems(
                    w, ref, j, [], inst.stops[pos][2], extra, aboard=True)]
            changed += any(j.trips > 1 for j in js)
            problems += found
    assert changed >= 60, (n, changed)
    assert not problems, f"{len(problems)} problems in {n} queries:\n" + "\n".join(problems[:12])


def test_arrive_by_equals_the_brute_force_on_random_networks(random_worlds) -> None:
    """For each k the latest departure found by arrive_by(T) with at most k trips arrives by T
    when searched forward (brute force), and no later departure does."""
    _arrive_by_against_the_brute_force(random_worlds, 200, 12, 60)


def test_arrive_by_honours_trip_specific_rules_as_the_brute_force(ruled_worlds) -> None:
    _arrive_by_against_the_brute_force(ruled_worlds, 500, 12, 60)


def _arrive_by_against_the_brute_force(worlds: list[World], seed0: int, per_world: int,
                                       at_least: int) -> None:
    problems, n = [], 0
    for seed, w in enumerate(worlds):
        rng = random.Random(seed0 + seed)
        stops = sorted(w.tt.stop_index)
        for ref, origins, dests, t_end, k, extra, walk in random_queries(
                rng, w, stops, RANDOM_DATES, per_world):
            n += 1
            horizon = 12 * 3600
            js = w.searcher.arrive_by(w.query(origins, dests, t_end, k, extra, walk, horizon))
            access = dict(origins)
            ids = w.tt.strings("stop_id")
            got = [-INF] * (k + 2)
            for j in js:
                dep = j.departure - access[ids[j.first_stop]]
                for kk in range(j.trips, k + 2):
                    got[kk] = max(got[kk], dep)
            want = ref.latest_by_trips(origins, dests, t_end, k + 1, horizon, extra, walk)
            label = f"[net {seed}] {origins} -> {dests} by {show(t_end)} max_transfers={k} " \
                    f"slack={extra}"
            if got != want:
                problems.append(f"{label}: latest departure by number of trips "
                                f"{[show(x) for x in got]}, brute force "
                                f"{[show(x) for x in want]}; the engine: "
                                f"{[w.describe(j) for j in js]}")
            for kk, dep in enumerate(got):
                if dep > -INF and ref.earliest_by_trips(origins, dests, dep, kk, horizon, extra,
                                                        walk)[kk] > t_end:
                    problems.append(f"{label}: leaving at {show(dep)} with {kk} trips does not "
                                    f"arrive by {show(t_end)}")
    assert n >= at_least
    assert not problems, f"{len(problems)} problems in {n} queries:\n" + "\n".join(problems[:12])


def test_departure_window_equals_the_brute_force_on_random_networks(random_worlds) -> None:
    """depart_in_range(t0, window): every Pareto-optimal journey (later departure, earlier
    arrival, fewer trips) leaving in [t0, t0 + window] is listed, unless one leaving after
    the window does as well; nothing listed is dominated by a journey leaving in the window
    (journeys with trips)."""
    problems, n = [], 0
    for seed, w in enumerate(random_worlds):
        rng = random.Random(300 + seed)
        stops = sorted(w.tt.stop_index)
        for ref, origins, dests, t0, k, extra, walk in random_queries(
                rng, w, stops, RANDOM_DATES, 8):
            if not walk:
                continue
            n += 1
            window = rng.choice([30, 60, 120]) * 60
            js = w.searcher.depart_in_range(w.query(origins, dests, t0, k, extra, walk), window)
            got = sorted({(j.departure, j.arrival, j.trips) for j in js if j.trips})
            want = _window_reference(ref, origins, dests, t0, window, k + 1, extra)
            label = f"[net {seed}] {origins} -> {dests} from {show(t0)} for {window // 60} " \
                    f"min, max_transfers={k} slack={extra}"
            after = ref.earliest_by_trips(origins, dests, t0 + window + 1, k + 1, 24 * 3600,
                                          extra)
            missing = [t for t in want if not any(
                g[0] >= t[0] and g[1] <= t[1] and g[2] <= t[2] for g in got)
                and after[t[2]] > t[1]]
            dominated = [g for g in got if not t0 <= g[0] <= t0 + window or any(
                t != g and t[0] >= g[0] and t[1] <= g[1] and t[2] <= g[2] for t in want)]
            if missing or dominated:
                problems.append(f"{label}: missing {[(show(a), show(b), c) for a, b, c in missing]}"
                                f", dominated {[(show(a), show(b), c) for a, b, c in dominated]};"
                                f" the engine: {[w.describe(j) for j in js]}")
    assert n >= 30
    assert not problems, f"{len(problems)} problems in {n} queries:\n" + "\n".join(problems[:8])


def _window_reference(ref: Reference, origins: list[tuple[str, int]],
                      dests: list[tuple[str, int]], t0: int, window: int, max_trips: int,
                      extra: int) -> list[tuple[int, int, int]]:
    """(departure, arrival, trips) of the Pareto set of the journeys (with trips) leaving
    in [t0, t0 + window]."""
    end = t0 + window
    cands = [t0, *(x for x in ref.candidate_departures(origins, t0, end) if x > t0)]
    triples = set()
    for i, c in enumerate(cands):
        b = ref.earliest_by_trips(origins, dests, c, max_trips, 24 * 3600, extra, True, end)
        for k in range(1, max_trips + 1):
            if b[k] >= INF or b[k] == b[k - 1]:
                continue
            # the journey leaves at the latest departure that still makes it
            dep = c
            for x in cands[i + 1:]:
                if ref.earliest_by_trips(origins, dests, x, k, 24 * 3600, extra, True,
                                         end)[k] != b[k]:
                    break
                dep = x
            triples.add((dep, b[k], k))
    return sorted(t for t in triples if not any(
        o != t and o[0] >= t[0] and o[1] <= t[1] and o[2] <= t[2] for o in triples))


# -- c. the engine against the brute force on real feeds --------------------------------------

HORIZON_S = 4 * 3600


def real_queries(w: World, ref: Reference, day: date, seed: int, n: int
                 ) -> list[tuple[str, str, int]]:
    """Stop-to-stop queries between 06:00 and 10:00 whose destination is reachable: the origin
    has a departure within 30 min; the destination is found by riding 1 to 3 random trips
    (with a random footpath now and then)."""
    rng = random.Random(seed)
    midnight = int(datetime.combine(day, time(0), ZoneInfo(w.tz)).timestamp())
    served = sorted(s for s in ref.footpaths.keys() | {e[0] for i in ref.instances
                                                       for e in i.stops})
    out = []
    while len(out) < n:
        t0 = midnight + rng.randrange(6 * 3600, 10 * 3600, 60)
        origin = rng.choice(served)
        if not ref.departure_times(origin, t0, t0 + 1800):
            continue
        stop, t = origin, t0
        for _ in range(rng.randint(1, 3)):
            deps = ref.departure_times(stop, t, t + 3600)
            if not deps:
                break
            inst, pos = ref.event_at(stop, rng.choice(deps))
            st = ref.instances[inst].stops
            j = rng.randrange(pos + 1, len(st))
            stop, t = st[j][0], st[j][1] + 180
            if rng.random() < 0.4 and ref.footpaths.get(stop):
                stop, secs = rng.choice(ref.footpaths[stop])
                t += secs
        if stop != origin:
            out.append((origin, stop, t0))
    return out


def real_problems(w: World, ref: Reference, queries: list[tuple[str, str, int]],
                  arrive_by: int = 40) -> list[str]:
    """Depart at: the earliest arrival per number of trips equals the brute force's, and the
    engine's journeys are made of the raw trips. Arrive by the earliest arrival (the first
    `arrive_by` queries): the latest departure per number of trips equals the brute force's
    (both counted from t0 on: the brute force has the trips from 06:00)."""
    problems = []
    for n, (origin, dest, t0) in enumerate(queries):
        best = ref.earliest_by_trips([(origin, 0)], [(dest, 0)], t0, 6, HORIZON_S)
        js = w.searcher.depart_at(w.query([(origin, 0)], [(dest, 0)], t0, 5))
        label = f"{origin} -> {dest} at {show(t0, w.tz)}"
        problems += _compare(w, label, best, engine_best(w, js, [(dest, 0)], 6),
                             t0 + HORIZON_S, ref, js)
        for j in js:
            if j.arrival <= t0 + HORIZON_S:  # the brute force has the trips of the horizon
                problems += [f"{label}: {m}" for m in engine_journey_problems(
                    w, ref, j, [(origin, 0)], t0, 0)]
        t_end = best[6]
        if n >= arrive_by or t_end > t0 + HORIZON_S:
            continue
        back = w.searcher.arrive_by(w.query([(origin, 0)], [(dest, 0)], t_end, 5, 0, True,
                                            HORIZON_S))
        got = [-INF] * 7
        for j in back:
            for k in range(j.trips, 7):
                got[k] = max(got[k], j.departure)
        want = ref.latest_by_trips([(origin, 0)], [(dest, 0)], t_end, 6, HORIZON_S)
        got, want = ([x if x >= t0 else -INF for x in v] for v in (got, want))
        if got != want:
            problems.append(f"{origin} -> {dest} by {show(t_end, w.tz)}: latest departure by "
                            f"number of trips {[show(x, w.tz) for x in got]}, brute force "
                            f"{[show(x, w.tz) for x in want]}; the engine: "
                            f"{[w.describe(j) for j in back]}")
    return problems


def _real_world(tmp_path_factory: pytest.TempPathFactory, name: str, feeds: dict[str, Path],
                tz: str, day: date) -> tuple[World, Reference, Path]:
    data = tmp_path_factory.mktemp(name)
    ops = tuple(Operator(id=op, name=op, gtfs=str(p.resolve())) for op, p in feeds.items())
    ingest(Catalog(ops), Store(data))
    tt = Store(data).load_current()
    assert tt is not None
    w = world_of(tt, feeds, tz)
    midnight = int(datetime.combine(day, time(0), ZoneInfo(tz)).timestamp())
    ref = w.ref(day, midnight + 6 * 3600, midnight + 10 * 3600 + HORIZON_S + 3600)
    return w, ref, data


BAYAREA = DATA / "gtfs" / "bayarea-511-2018"
SNCB = DATA / "gtfs" / "belgium" / "sncb-nmbs-2019-03-11.zip"
BA_DAY, SNCB_DAY = date(2018, 8, 29), date(2019, 3, 18)


@pytest.fixture(scope="module")
def bayarea(tmp_path_factory: pytest.TempPathFactory) -> tuple[World, Reference, Path]:
    if not BAYAREA.exists():
        pytest.skip(f"shared test data folder absent ({BAYAREA}); present on CI")
    feeds = {z.name.split("-")[0]: z for z in sorted(BAYAREA.glob("*.zip"))}
    return _real_world(tmp_path_factory, "ba_journeys", feeds, "America/Los_Angeles", BA_DAY)


@pytest.fixture(scope="module")
def sncb(tmp_path_factory: pytest.TempPathFactory) -> tuple[World, Reference, Path]:
    if not SNCB.exists():
        pytest.skip(f"shared test data absent ({SNCB}); present on CI")
    return _real_world(tmp_path_factory, "sncb_journeys", {"SNCB": SNCB}, TZ, SNCB_DAY)


def test_bayarea_earliest_arrivals_equal_the_brute_force(bayarea) -> None:
    w, ref, _ = bayarea
    queries = real_queries(w, ref, BA_DAY, seed=2018, n=600)
    problems = real_problems(w, ref, queries)
    assert not problems, f"{len(problems)} problems in {len(queries)} queries:\n" + "\n".join(
        problems[:8])


def test_sncb_earliest_arrivals_equal_the_brute_force(sncb) -> None:
    w, ref, _ = sncb
    queries = real_queries(w, ref, SNCB_DAY, seed=2019, n=300)
    problems = real_problems(w, ref, queries)
    assert not problems, f"{len(problems)} problems in {len(queries)} queries:\n" + "\n".join(
        problems[:8])


@pytest.mark.parametrize("which", ["bayarea", "sncb"])
def test_real_journeys_of_the_api_are_valid(which: str, request) -> None:
    w, ref, data = request.getfixturevalue(which)
    day = BA_DAY if which == "bayarea" else SNCB_DAY
    queries = real_queries(w, ref, day, seed=7, n=12)
    at = datetime.fromtimestamp(queries[0][2], ZoneInfo(w.tz)).isoformat()
    with client_for(data, at) as client:
        p = Planner(client, w.tt, w.tz)
        n = 0
        for origin, dest, t0 in queries:
            js = p.plan(**{"from": origin, "to": dest, "depart_at": show(t0, w.tz)})
            n += len(js)
        assert n >= len(queries) // 2


def test_sncb_platforms_come_from_stop_time_overrides(sncb) -> None:
    """The 2019 SNCB feed gives platforms only in stop_time_overrides.txt: every call of 40
    trips running on the test day shows the platform_code of the stop the override active
    that day names (read here with pandas from the raw zip)."""
    w, _, data = sncb
    raw = w.raws[0]
    active = raw.services_on(SNCB_DAY)
    ov = read_table(SNCB, "stop_time_overrides.txt")
    stops = read_table(SNCB, "stops.txt")
    assert ov is not None and stops is not None
    code = dict(zip(stops["stop_id"], stops["platform_code"], strict=True))
    ov = ov[ov["service_id"].isin(active)]
    want: dict[str, dict[int, str]] = {}
    for trip, seq, stop in zip(ov["trip_id"], ov["stop_sequence"], ov["stop_id"], strict=True):
        want.setdefault(trip, {})[int(seq)] = code[stop]
    running = [t for k, t in enumerate(raw.trip_ids) if raw.trip_service[k] in active
               and t in want]
    assert len(running) > 1000
    checked = 0
    with client_for(data, f"{SNCB_DAY.isoformat()}T06:00:00+01:00") as client:
        for trip in random.Random(9).sample(running, 40):
            body = client.get(f"/v1/trips/SNCB:{trip}", params={"date": SNCB_DAY.isoformat()})
            assert body.status_code == 200, body.text
            got = {x["stop_sequence"]: x["platform"] for x in body.json()["stops"]}
            assert got == {q: want[trip].get(q) or None for q in got}, trip
            checked += sum(1 for v in got.values() if v)
    assert checked > 200


# -- d. peer cases (nigiri) -------------------------------------------------------------------

needs_peers = pytest.mark.skipif(not PEER_CASES.exists(),
                                 reason=f"peer cases not found at {PEER_CASES}")


def _peer(planner, case: str, at: str, tz: str, **kw) -> Planner:
    return planner({"N": PEER_CASES / case / "gtfs"}, at, tz=tz, **kw)


def _times(js: list[dict]) -> list[tuple[str, str, int]]:
    return [(j["departure"], j["arrival"], j["transfers"]) for j in js]


@needs_peers
def test_peer_tb_same_day_transfer(planner) -> None:
    p = _peer(planner, "nigiri_tb_same_day_transfer", "2021-02-28T23:00:00Z", "Europe/London")
    js = p.plan(**{"from": "N:S0", "to": "N:S2", "depart_at": "2021-02-28T23:00:00+00:00"})
    assert _times(js) == [("2021-03-01T00:00:00+00:00", "2021-03-01T13:00:00+00:00", 1)]
    assert summary(js[0]) == [
        ("N:R0_MON", "N:S0", "2021-03-01T00:00:00+00:00", "N:S1", "2021-03-01T06:00:00+00:00"),
        ("N:R1_MON", "N:S1", "2021-03-01T12:00:00+00:00", "N:S2", "2021-03-01T13:00:00+00:00")]


@needs_peers
def test_peer_tb_earlier_stop_transfer_and_no_journey(planner) -> None:
    p = _peer(planner, "nigiri_tb_earlier_stop_transfer", "2021-02-28T23:00:00Z",
              "Europe/London")
    js = p.plan(**{"from": "N:S3", "to": "N:S2", "depart_at": "2021-02-28T23:00:00+00:00"})
    assert [(j["arrival"], j["transfers"]) for j in js] == [("2021-03-01T06:00:00+00:00", 1)]
    assert summary(js[0]) == [
        ("N:R0_MON0", "N:S3", "2021-03-01T03:00:00+00:00", "N:S1", "2021-03-01T04:00:00+00:00"),
        ("N:R0_MON1", "N:S1", "2021-03-01T05:00:00+00:00", "N:S2", "2021-03-01T06:00:00+00:00")]
    body = p.get(**{"from": "N:S4", "to": "N:S0", "depart_at": "2021-02-28T23:00:00+00:00"})
    assert body["journeys"] == [] and body["reason"]


@needs_peers
def test_peer_tb_early_train_multi_day_trip(planner) -> None:
    p = _peer(planner, "nigiri_tb_early_train", "2021-03-04T05:00:00Z", "Europe/London")
    js = p.plan(**{"from": "N:S1", "to": "N:S3", "depart_at": "2021-03-04T05:00:00+00:00"})
    assert [(j["arrival"], j["transfers"]) for j in js] == [("2021-03-04T09:00:00+00:00", 1)]
    assert summary(js[0]) == [
        ("N:R1_THU", "N:S1", "2021-03-04T06:00:00+00:00", "N:S2", "2021-03-04T07:00:00+00:00"),
        ("N:R0_MON", "N:S2", "2021-03-04T08:00:00+00:00", "N:S3", "2021-03-04T09:00:00+00:00")]
    assert [leg["service_date"] for leg in js[0]["legs"]] == ["2021-03-04", "2021-03-01"]


@needs_peers
@pytest.mark.parametrize(("change_min", "arrival"), [
    (2, "2019-05-01T10:22:00+02:00"), (3, "2019-05-01T10:22:00+02:00"),
    (4, "2019-05-01T10:30:00+02:00"), (10, "2019-05-01T10:30:00+02:00")])
def test_peer_transfer_time_settings(planner, change_min: int, arrival: str) -> None:
    at = "2019-05-01T10:00:00+02:00"
    q = {"from": "N:A", "to": "N:C", "depart_at": at}
    p = _peer(planner, "nigiri_transfer_time_settings", at, "Europe/Berlin",
              min_change_s=change_min * 60)
    js = p.plan(**q)
    assert _times(js) == [("2019-05-01T10:00:00+02:00", arrival, 1)]
    second = "N:T2" if arrival.endswith("10:22:00+02:00") else "N:T3"
    assert [leg["trip_id"] for leg in js[0]["legs"]] == ["N:T1", second]


@needs_peers
@pytest.mark.parametrize(("extra_min", "arrival"), [
    (0, "2019-05-01T10:22:00+02:00"), (1, "2019-05-01T10:22:00+02:00"),
    (2, "2019-05-01T10:30:00+02:00"), (8, "2019-05-01T10:30:00+02:00")])
def test_peer_transfer_time_settings_as_extra_slack(planner, extra_min: int,
                                                    arrival: str) -> None:
    # the catalog's default change time (min_change_s 120 s) plus min_transfer_s:
    # 2, 3, 4 and 10 minutes in all
    at = "2019-05-01T10:00:00+02:00"
    p = _peer(planner, "nigiri_transfer_time_settings", at, "Europe/Berlin")
    js = p.plan(**{"from": "N:A", "to": "N:C", "depart_at": at,
                   "min_transfer_s": extra_min * 60})
    assert _times(js) == [("2019-05-01T10:00:00+02:00", arrival, 1)]


@needs_peers
def test_peer_fares_v2_area_sets_journey(planner) -> None:
    at = "2022-03-30T02:00:00+02:00"  # 00:00 UTC
    p = _peer(planner, "nigiri_fares_v2_area_sets", at, "Europe/Berlin")
    js = p.plan(**{"from": "N:A", "to": "N:C", "depart_at": at})
    assert _times(js) == [("2022-03-30T02:00:00+02:00", "2022-03-30T03:00:00+02:00", 1)]
    assert [(leg["route"]["id"], leg["from"]["stop_id"], leg["departure"], leg["to"]["stop_id"],
             leg["arrival"]) for leg in js[0]["legs"]] == [
        ("N:line1", "N:A", "2022-03-30T02:00:00+02:00", "N:B", "2022-03-30T02:30:00+02:00"),
        ("N:line2", "N:B", "2022-03-30T02:35:00+02:00", "N:C", "2022-03-30T03:00:00+02:00")]


@needs_peers
@pytest.mark.parametrize(("origin", "at", "arrival", "transfers"), [
    ("N:A", "2022-03-30T02:00:00+02:00", "2022-03-30T04:30:00+02:00", 3),  # offpeak
    ("N:A", "2022-03-30T08:00:00+02:00", "2022-03-30T10:30:00+02:00", 3),  # peak
    ("N:C", "2022-03-30T02:00:00+02:00", "2022-03-30T03:30:00+02:00", 1)])
def test_peer_fares_v2_timeframes_transfer_journeys(planner, origin: str, at: str,
                                                    arrival: str, transfers: int) -> None:
    p = _peer(planner, "nigiri_fares_v2_timeframes_transfer", at, "Europe/Berlin")
    js = p.plan(**{"from": origin, "to": "N:E", "depart_at": at})
    assert [(j["arrival"], j["transfers"]) for j in js] == [(arrival, transfers)]


@needs_peers
def test_peer_rt_delay_static_timetable_has_no_journey(planner) -> None:
    p = _peer(planner, "nigiri_rt_delay_makes_transfer", "2019-05-03T01:00:00+02:00",
              "Europe/Berlin")
    body = p.get(**{"from": "N:A", "to": "N:D", "depart_at": "2019-05-03T01:00:00+02:00"})
    assert body["journeys"] == [] and body["reason"]

    # with the GTFS-RT update the journey exists: tests/test_realtime_journeys.py
