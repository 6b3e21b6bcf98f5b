"""Shared helpers of the journey tests: feeds written in a test, a `Planner` that asks
GET /v1/journeys of them, the validity check of every journey the API returns
(`journey_problems`), and the small networks several test files plan on."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.conftest import client_for
from tests.feeds import write_feed
from tests.routing_reference import (
    INF,
)
from transit.catalog import Catalog, Operator
from transit.ingest.pipeline import ingest
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


def changing(tmp_path: Path, transfers: str, trips: str = "", extra_times: str = "",
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


def trips_of(js: list[dict]) -> list[list[str]]:
    return [[leg["trip_id"] for leg in j["legs"] if leg["trip_id"]] for j in js]





# T4 X 08:25 -> B 08:40 (route 2, after T2), T5 X 08:11 -> B 08:20 (route 2, a minute after
# T1 arrives: less than X's change time), T0 A 07:50 -> X 08:00 (route 1, before T1)
MORE_TRIPS = ("R2,DAILY,T4,\nR2,DAILY,T5,\nR1,DAILY,T0,\n",
               "T4,08:25:00,08:25:00,X,1\nT4,08:40:00,08:40:00,B,2\n"
               "T5,08:11:00,08:11:00,X,1\nT5,08:20:00,08:20:00,B,2\n"
               "T0,07:50:00,07:50:00,A,1\nT0,08:00:00,08:00:00,X,2\n")


def ruled(tmp_path: Path, planner, name: str, rules: str, five: bool = True) -> Planner:
    trips, times = MORE_TRIPS
    if not five:  # without T5
        trips = trips.replace("R2,DAILY,T5,\n", "")
        times = "".join(x + "\n" for x in times.splitlines() if not x.startswith("T5"))
    return planner(changing(tmp_path / name, rules, trips, times), "2026-05-05T07:00:00+02:00")


AT_0755 = {"from": "Q:A", "to": "Q:B", "depart_at": "2026-05-05T07:55:00+02:00"}


def by_trip(t: str) -> dict[str, str]:
    return {"from": "Q:A", "to": "Q:B", "arrive_by": f"2026-05-05T{t}:00+02:00"}




def via_network(tmp_path: Path) -> dict[str, Path]:
    """changing, with T8 A 08:06 -> X 08:20 -> B 08:40 and T4 X 08:25 -> B 08:35."""
    return changing(tmp_path, "", "R9,DAILY,T8,\nR2,DAILY,T4,\n",
                     "T8,08:06:00,08:06:00,A,1\nT8,08:20:00,08:20:00,X,2\n"
                     "T8,08:40:00,08:40:00,B,3\n"
                     "T4,08:25:00,08:25:00,X,1\nT4,08:35:00,08:35:00,B,2\n")
