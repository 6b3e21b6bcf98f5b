"""The journeys a commute watches: its places as stops, its window as instants, and the
RAPTOR search over the timetable (plans) or the live network (re-plans).

Engine side: it uses transit.routing directly, not the web layer's journey service.
Plans are shared: commutes with the same places, window, day and options reuse one search.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from transit.commuters.rules import Commute, RuleError
from transit.realtime.overlay import TripLive
from transit.routing import search as engine
from transit.routing.live_trips import LiveTrips
from transit.routing.network import Network
from transit.timetable.timetable import Timetable

_COORD = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")
MAX_WALK_M, WALK_SPEED, DETOUR = 1000.0, 1.2, 1.3
MAX_PLANS = 3  # journeys watched per commute and day: the first ones of the window


@dataclass(frozen=True)
class PlannedLeg:
    """A ride on one trip instance, at the timetable's times."""

    trip: int
    day: int
    trip_id: str
    operator: str
    route: int
    board_pos: int
    alight_pos: int
    from_stop: int
    to_stop: int
    departure: int
    arrival: int
    change_before_s: int  # needed between the previous ride's arrival and this departure


@dataclass(frozen=True)
class Plan:
    legs: tuple[PlannedLeg, ...]
    departure: int
    arrival: int


def one_per_departure(found: list[engine.Journey]) -> list[engine.Journey]:
    """By departure, one journey per departure instant: the earliest arrival, then the
    fewest rides. An alert id names a watched journey by its departure (alert_id), so two
    journeys leaving together (the same first train, then a change or not) would share
    ids."""
    best: dict[int, engine.Journey] = {}
    for j in found:
        was = best.get(j.departure)
        if was is None or (j.arrival, j.trips) < (was.arrival, was.trips):
            best[j.departure] = j
    return [best[t] for t in sorted(best)]


@lru_cache(maxsize=2)
def searcher_of(tt: Timetable) -> engine.Searcher:
    return engine.Searcher(Network.of(tt))


def place_stops(tt: Timetable, value: str, field: str) -> list[tuple[int, int]]:
    """(stop, walk seconds) a PLACE covers; RuleError(field) when the timetable has no such
    stop or no stop within walking distance of the point."""
    m = _COORD.match(value)
    if m:
        lat, lon = float(m.group(1)), float(m.group(2))
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise RuleError(field, f"{value!r}: latitude in [-90, 90], longitude in [-180, 180]")
        cand, dist = tt.grid.within(lat, lon, MAX_WALK_M / DETOUR)
        keep = np.asarray(tt.stop_location_type)[cand] == 0
        out = [(int(s), math.ceil(d * DETOUR / WALK_SPEED))
               for s, d in zip(cand[keep][:300], dist[keep][:300], strict=True)]
        if not out:
            raise RuleError(field, f"no stop within {MAX_WALK_M:g} m of {value}")
        return out
    s = tt.stop_index.get(value)
    if s is None:
        raise RuleError(field, f"unknown place {value!r} (a stop or station id as "
                        "OPERATOR:stop_id, or lat,lon)")
    station = int(tt.stop_station[s])
    members = tt.members_of_station(station) if int(tt.station_anchor[station]) == s \
        else np.array([s])
    loc, parent = np.asarray(tt.stop_location_type), np.asarray(tt.stop_parent)
    stops: set[int] = set()
    for mm in (int(x) for x in members):
        if loc[mm] == 0:
            stops.add(mm)
        else:
            stops.update(int(c) for c in np.flatnonzero(parent == mm))
    return [(x, 0) for x in sorted(stops)]


def zone_of(tt: Timetable, c: Commute) -> ZoneInfo:
    stops = place_stops(tt, c.origin, "from")
    return ZoneInfo(tt.timezones[int(tt.stop_tz[stops[0][0]])])


def window_instants(tt: Timetable, c: Commute, d: date) -> tuple[int, int]:
    tz = zone_of(tt, c)
    midnight = datetime(d.year, d.month, d.day, tzinfo=tz)
    a = midnight + timedelta(minutes=c.window.start_min)
    b = midnight + timedelta(minutes=c.window.end_min)
    return int(a.timestamp()), int(b.timestamp())


class Planner:
    """Plans of commutes on one timetable version (cached by what a search depends on)."""

    def __init__(self, tt: Timetable) -> None:
        self.tt = tt
        self.searcher = searcher_of(tt)
        self._cache: dict[tuple, list[Plan]] = {}
        self._trip_ids = tt.strings("trip_id")
        self._ops = [o["id"] for o in tt.meta["operators"]]
        self.searches = 0
        self._described: dict[int, tuple[Plan, dict]] = {}

    def _query(self, c: Commute, t: int, live: LiveTrips | None) -> engine.Query:
        tt = self.tt
        return engine.Query(origins=place_stops(tt, c.origin, "from"),
                            destinations=place_stops(tt, c.destination, "to"), time=t,
                            max_transfers=c.max_transfers, extra_change_s=c.min_transfer_s,
                            live=live)

    def plans(self, c: Commute, d: date) -> list[Plan]:
        """The first journeys of the commute's window on local date d (timetable only)."""
        key = (c.origin, c.destination, c.window.arrive, c.window.start_min,
               c.window.end_min, d, c.max_transfers, c.min_transfer_s)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        t0, t1 = window_instants(self.tt, c, d)
        self.searches += 1
        if c.window.arrive:
            found = [j for j in self.searcher.arrive_by(self._query(c, t1, None))
                     if j.arrival >= t0]
        else:
            found = self.searcher.depart_in_range(self._query(c, t0, None), t1 - t0)
        chosen = one_per_departure([j for j in found if j.trips > 0])
        out = self._cache[key] = [self.plan_of(j, []) for j in chosen[:MAX_PLANS]]
        return out

    def forget_before(self, d: date) -> None:
        """Drop the plans of days before d (the cache would grow by a day each day)."""
        for key in [k for k in self._cache if k[5] < d]:
            del self._cache[key]

    def replan(self, c: Commute, t: int, live: LiveTrips, behind: list[TripLive]
               ) -> Plan | None:
        """The earliest arrival leaving from t on the live network (a broken leg's way out)."""
        self.searches += 1
        found = [j for j in self.searcher.depart_at(self._query(c, t, live)) if j.trips > 0]
        if not found:
            return None
        return self.plan_of(min(found, key=lambda j: (j.arrival, j.trips)), behind)

    def plan_of(self, j: engine.Journey, behind: list[TripLive]) -> Plan:
        tt = self.tt
        legs: list[PlannedLeg] = []
        walk = 0
        for leg in j.legs:
            if leg.kind != "trip":
                walk += leg.arrival - leg.departure
                continue
            if leg.live >= 0:
                lv = behind[leg.live]
                trip_id, op, route = lv.trip_id, lv.operator, lv.route
            else:
                r = int(tt.trip_route[leg.trip])
                trip_id, route = self._trip_ids[leg.trip], r
                op = self._ops[int(tt.route_operator[r])]
            change = 0
            if legs:
                same = legs[-1].to_stop == leg.from_stop
                change = walk + (0 if leg.stay_seated else
                                 int(self.searcher.net.stop_change_s[leg.from_stop])
                                 if same else 0)
            legs.append(PlannedLeg(leg.trip, leg.day, trip_id, op, route, leg.board_pos,
                                   leg.alight_pos, leg.from_stop, leg.to_stop, leg.departure,
                                   leg.arrival, change))
            walk = 0
        return Plan(tuple(legs), legs[0].departure, legs[-1].arrival)

    def describe(self, p: Plan) -> dict:
        """A plan as alerts carry it (ids and instants); computed once per plan."""
        hit = self._described.get(id(p))
        if hit is not None and hit[0] is p:
            return hit[1]
        out = self._describe(p)
        self._described[id(p)] = (p, out)
        return out

    def _describe(self, p: Plan) -> dict:
        ids = self.tt.strings("stop_id")

        def iso(t: int, s: int) -> str:
            return datetime.fromtimestamp(t, ZoneInfo(self.tt.timezones[int(self.tt.stop_tz[s])])
                                          ).isoformat()

        return {"departure": iso(p.departure, p.legs[0].from_stop),
                "arrival": iso(p.arrival, p.legs[-1].to_stop),
                "legs": [{"trip_id": x.trip_id, "operator": x.operator,
                          "from": ids[x.from_stop], "to": ids[x.to_stop],
                          "departure": iso(x.departure, x.from_stop),
                          "arrival": iso(x.arrival, x.to_stop)} for x in p.legs]}
