"""Journeys: places to stops, filters to masks, the search, results to the API's shape.

The answer is built as plain dicts in the shape of transit.journeys.schemas (JourneyList,
Journey, Leg, LegPlace, ...: every field, defaults included, in the models' order), which
the router writes with orjson: the same JSON as the models' `model_dump(by_alias=True)`
without a pydantic model validated and dumped again per leg and per intermediate stop
(they were a fifth of a journey request)."""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

import numpy as np
import orjson

from transit.api.common import (
    alert_refs,
    instant_in_period,
    iso,
    route_dict,
    service_date_text,
    stop_display,
    trip_display,
    unix_of,
)
from transit.api.problems import invalid
from transit.journeys import fares
from transit.journeys.onboard import plan_aboard
from transit.journeys.places import Place
from transit.journeys.via import plan_via
from transit.realtime.context import LiveContext
from transit.realtime.overlay import NO_TIME, Alert, TripLive
from transit.realtime.routing_view import live_trips
from transit.routing import search as engine
from transit.routing.network import Network
from transit.timetable.footpaths import NO_CHANGE
from transit.timetable.geo import haversine_m
from transit.timetable.modes import mode_of
from transit.timetable.timetable import Timetable


@lru_cache(maxsize=2)
def searcher_for(tt: Timetable) -> engine.Searcher:
    return engine.Searcher(Network.of(tt))


def warm_up_routing(tt: Timetable) -> None:
    """Compile (or load from cache) the search kernels for this version's arrays, for every
    kind of request (options only change the data the same kernels read)."""
    if tt.n_days and len(tt.ev_offsets) > 1:
        s = searcher_for(tt)
        q = engine.Query(origins=[(0, 0)], destinations=[(0, 0)], time=0, max_transfers=0)
        s.depart_at(q)
        s.arrive_by(q)
        s.depart_in_range(q, 60)  # and the departures a window starts at


@dataclass(frozen=True)
class Options:
    max_transfers: int = 5
    max_walk_m: float = 1000.0
    walk_speed: float = 1.2
    detour: float = 1.3
    min_transfer_s: int = 0
    wheelchair: bool = False
    modes: frozenset[str] | None = None
    exclude_modes: frozenset[str] = frozenset()
    operators: frozenset[str] | None = None
    exclude_operators: frozenset[str] = frozenset()
    window_min: int = 0
    wheelchair_unknown: bool = False  # with wheelchair: unknown access allowed (flagged)
    exclude_routes: frozenset[int] = frozenset()  # route indexes
    exclude_stops: frozenset[int] = frozenset()  # stop indexes: no boarding, alighting
    exclude_passing: bool = False  # and no trip calling at an excluded stop at all
    via_stops: tuple[int, ...] = ()  # journeys through one of these stops (a place)
    via_min_stay_s: int = 0
    fares: bool = True  # price the journeys (transit.fares)
    rider_category: str | None = None  # checked as known (None: default riders)


def parse_routes(tt: Timetable, param: str, value: str | None) -> frozenset[int]:
    """Route ids (`OP:route_id`, comma separated) as route indexes; unknown ones are 422."""
    if not value:
        return frozenset()
    key = ("route_index",)
    if key not in tt.cache:
        tt.cache[key] = {r: i for i, r in enumerate(tt.strings("route_id").to_list())}
    index: dict[str, int] = tt.cache[key]  # type: ignore[assignment]
    out = set()
    for r in (x.strip() for x in value.split(",")):
        if r and r not in index:
            raise invalid(param, f"unknown route {r!r} (route ids are OPERATOR:route_id)")
        if r:
            out.add(index[r])
    return frozenset(out)


def parse_stops(tt: Timetable, param: str, value: str | None) -> frozenset[int]:
    """Stop or station ids (comma separated) as the stop indexes they cover."""
    if not value:
        return frozenset()
    out: set[int] = set()
    for ident in (x.strip() for x in value.split(",")):
        if not ident:
            continue
        s = tt.stop_index.get(ident)
        if s is None:
            raise invalid(param, f"unknown stop {ident!r}")
        station = int(tt.stop_station[s])
        members = tt.members_of_station(station) if int(tt.station_anchor[station]) == s \
            else np.array([s])
        for m in members:
            m = int(m)
            out.add(m)
            out.update(int(c) for c in np.flatnonzero(np.asarray(tt.stop_parent) == m))
    return frozenset(out)


def _masks(tt: Timetable, opt: Options) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Filters as data: per trip and per stop, whether a journey may use it (None: all)."""
    if not (opt.exclude_routes or opt.modes is not None or opt.exclude_modes
            or opt.operators is not None or opt.exclude_operators or opt.wheelchair
            or opt.exclude_stops):
        return None, None  # no filter (most requests): no mask made to find it allows all
    trip_ok = None
    route_ok = np.ones(len(tt.route_type), np.bool_)
    if opt.exclude_routes:
        route_ok[list(opt.exclude_routes)] = False
    if opt.modes is not None or opt.exclude_modes:
        modes = np.array([mode_of(int(t)) for t in tt.route_type])
        if opt.modes is not None:
            route_ok &= np.isin(modes, list(opt.modes))
        route_ok &= ~np.isin(modes, list(opt.exclude_modes))
    if opt.operators is not None or opt.exclude_operators:
        ops = np.array([o["id"] for o in tt.meta["operators"]])[np.asarray(tt.route_operator)]
        if opt.operators is not None:
            route_ok &= np.isin(ops, list(opt.operators))
        route_ok &= ~np.isin(ops, list(opt.exclude_operators))
    # wheelchair: 1 accessible, 2 not, 0 unknown (strict: only 1; with unknown: not 2)
    def access(values: np.ndarray) -> np.ndarray:
        return values != 2 if opt.wheelchair_unknown else values == 1

    if not route_ok.all() or opt.wheelchair or (opt.exclude_stops and opt.exclude_passing):
        trip_ok = route_ok[np.asarray(tt.trip_route)]
        if opt.wheelchair:
            trip_ok &= access(np.asarray(tt.trip_wheelchair))
        if opt.exclude_stops and opt.exclude_passing:
            trip_ok &= ~_trips_calling_at(tt, opt.exclude_stops)
    stop_ok = access(np.asarray(tt.stop_wheelchair_eff)) if opt.wheelchair else None
    if opt.exclude_stops:
        stop_ok = np.ones(len(tt.stop_lat), np.bool_) if stop_ok is None else stop_ok
        stop_ok[list(opt.exclude_stops)] = False
    return trip_ok, stop_ok


def _trips_calling_at(tt: Timetable, stops: frozenset[int]) -> np.ndarray:
    """Per trip: whether it calls at one of the stops (a trip of a pattern that does)."""
    pso = np.asarray(tt.pattern_stop_offsets)
    hit = np.isin(np.asarray(tt.pattern_stops), list(stops))
    per_pattern = np.add.reduceat(hit.astype(np.int64), pso[:-1]) > 0 if len(hit) else \
        np.zeros(len(pso) - 1, np.bool_)
    per_pattern &= np.diff(pso) > 0
    return per_pattern[np.asarray(tt.trip_pattern)]


Body = dict[str, Any]  # a schema's fields in its order, JSON-ready (see the module's doc)


def journey_list(journeys: list[Body], search: dict[str, Any], reason: str | None = None
                 ) -> Body:
    """A JourneyList as the router writes it."""
    return {"journeys": journeys, "reason": reason, "search": search, "applied_profile": None}


def plan(tt: Timetable, origin: Place, destination: Place, when: datetime, arrive_by: bool,
         opt: Options, langs: list[str], live: LiveContext | None = None,
         aboard: engine.Seed | None = None) -> Body:
    """The journeys between two places (or from aboard a trip instance: `aboard`), as a
    JourneyList's dict."""
    searcher = searcher_for(tt)
    trip_ok, stop_ok = _masks(tt, opt)
    live_view, behind = (None, []) if live is None or not live.overlay.available else \
        live_trips(tt, live.overlay, live.now, live.stale_after_s)
    t = int(when.timestamp())
    search_info = {"depart_at" if not arrive_by else "arrive_by": when.isoformat(),
                   "window_min": opt.window_min, "max_transfers": opt.max_transfers,
                   "max_walk_m": opt.max_walk_m, "access_stops": len(origin.stops),
                   "egress_stops": len(destination.stops)}
    if opt.via_stops:
        search_info["via_min_stay_min"] = opt.via_min_stay_s // 60
    if aboard is not None:
        search_info["from_trip"] = tt.strings("trip_id")[aboard.trip]
        search_info["from_date"] = tt.service_date(aboard.day).isoformat()
    if aboard is None and _same_place(origin, destination):
        return journey_list([], search_info, (
            "from and to are the same place: there is no journey to make"))
    direct = None if aboard is not None or opt.via_stops else \
        _direct_walk(origin, destination, opt)
    for place in (destination,) if aboard is not None else (origin, destination):
        if not place.stops and direct is None:
            return journey_list([], search_info, (
                f"no stop within {opt.max_walk_m:g} m of {place.param} "
                f"({place.lat},{place.lon})"))
    # a footpath from an origin stop (or into a destination stop) is walking too: only when
    # max_walk_m allows the longest of them
    footpaths_ok = opt.max_walk_m >= _longest_footpath_m(tt)
    q = engine.Query(
        origins=[(s, w) for s, w, _ in origin.stops if stop_ok is None or stop_ok[s]],
        destinations=[(s, w) for s, w, _ in destination.stops if stop_ok is None or stop_ok[s]],
        time=t, max_transfers=opt.max_transfers, trip_ok=trip_ok, stop_ok=stop_ok,
        extra_change_s=opt.min_transfer_s,
        walk_from_origins=not origin.is_coordinate and footpaths_ok,
        walk_to_destinations=not destination.is_coordinate and footpaths_ok,
        live=live_view)
    found = _search(searcher, tt, q, opt, arrive_by, aboard)
    # walking instead of transit is one option, whenever one leaves: the direct walk (at the
    # rider's speed), else a footpath between the two stops (for stops without coordinates)
    walks = [j for j in found if j.trips == 0 and j.legs]
    found = [j for j in found if j.trips > 0]
    journeys = [_journey(tt, j, origin, destination, opt, langs, behind) for j in found]
    alerts = live.alerts if live is not None else []  # the fresh ones, judged once
    if alerts:
        for j, jj in zip(journeys, found, strict=True):
            _attach_alerts(tt, j, jj, alerts, langs)
    walk: Body | None = None
    if direct is not None:
        walk_s = direct[0]
        start = t - walk_s if arrive_by else t
        walk = _walk_only(tt, origin, destination, start, walk_s, direct[1], langs)
    elif walks and not origin.is_coordinate and not destination.is_coordinate:
        w = min(walks, key=lambda j: j.arrival - j.departure)
        walk = _journey(tt, _at(w, t, arrive_by), origin, destination, opt, langs, behind)
    journeys = _pareto(journeys, walk)
    journeys.sort(key=lambda j: (j["departure"], j["arrival"], j["transfers"]))
    reason = None if journeys else (
        "no connection found within the search bounds (transfers, time window, walking)")
    return journey_list(journeys, search_info, reason)


def _search(searcher: engine.Searcher, tt: Timetable, q: engine.Query, opt: Options,
            arrive_by: bool, aboard: engine.Seed | None) -> list[engine.Journey]:
    """The search the request asks for: from aboard a trip, through a place, arriving by,
    over a window of departures, or leaving at a time."""
    if aboard is not None:
        return plan_aboard(searcher, q, aboard)
    if opt.via_stops:
        return plan_via(searcher, q, list(opt.via_stops), opt.via_min_stay_s, arrive_by)
    if arrive_by:
        found = searcher.arrive_by(q)
    elif opt.window_min:
        found = searcher.depart_in_range(q, opt.window_min * 60)
    else:
        found = searcher.depart_at(q)
    return _prefer_transfer_points(searcher, tt, q, found, arrive_by, opt.window_min * 60)


def _change_points(j: engine.Journey) -> list[tuple[int, int]]:
    """(alighting stop, boarding stop) of each change between vehicles of a journey."""
    out = []
    last = None
    for leg in j.legs:
        if leg.kind != "trip":
            continue
        if last is not None and not leg.stay_seated:
            out.append((last, leg.from_stop))
        last = leg.to_stop
    return out


def _prefer_transfer_points(searcher: engine.Searcher, tt: Timetable, q: engine.Query,
                            found: list[engine.Journey], arrive_by: bool, window_s: int
                            ) -> list[engine.Journey]:
    """Among journeys equal on departure, arrival and transfers, one changing only at the
    transfer points transfers.txt recommends (type 0) or times (type 1). A second search
    allowed to change only there (no other change, no other footpath) finds it, if any;
    it runs only when the answer changes elsewhere and the feeds name such points."""
    stop_pref = np.asarray(tt.stop_transfer_preferred)
    fp_pref = np.asarray(tt.fp_preferred)
    named = tt.cache.get(("names_preferred_transfers",))
    if named is None:  # once per version, not two scans of every stop and footpath
        named = tt.cache[("names_preferred_transfers",)] = bool(stop_pref.any()
                                                                 or fp_pref.any())
    if not named:
        return found
    off, to = np.asarray(tt.fp_offsets), np.asarray(tt.fp_to)

    def preferred(a: int, b: int) -> bool:
        if a == b:
            return bool(stop_pref[a])
        lo, hi = int(off[a]), int(off[a + 1])
        hit = np.flatnonzero(to[lo:hi] == b)
        return bool(len(hit) and fp_pref[lo + hit[0]])

    if all(preferred(a, b) for j in found for a, b in _change_points(j)):
        return found
    key = ("preferred_transfers",)
    if key not in tt.cache:
        change = np.where(stop_pref > 0, np.asarray(tt.stop_change_s), NO_CHANGE)
        tt.cache[key] = (np.ascontiguousarray(change.astype(np.int64)),
                         engine.Footpaths.only(searcher.net, fp_pref > 0))
    change, paths = tt.cache[key]  # type: ignore[misc]
    # walking from an origin stop or into a destination stop is no change: the second
    # search starts (ends) at the stops a footpath away, as the first one could walk there
    ends = _Ends.of(tt, q)
    q2 = replace(q, change_s=change, footpaths=paths, origins=ends.origins,
                 destinations=ends.destinations, walk_from_origins=False,
                 walk_to_destinations=False)
    if arrive_by:
        other = searcher.arrive_by(q2)
    elif window_s:
        other = searcher.depart_in_range(q2, window_s)
    else:
        other = searcher.depart_at(q2)
    better = {ends.key(j): j for j in other if j.trips}
    return [ends.walked(better[ends.key(j)]) if ends.key(j) in better else j for j in found]


@dataclass(frozen=True)
class _Ends:
    """A query's origins and destinations with the stops a footpath away added (each with
    the stop it is walked from or to), so that a search without footpaths at its ends finds
    the same journeys; journeys compared by leaving the origin and reaching the destination."""

    origins: list[tuple[int, int]]
    destinations: list[tuple[int, int]]
    walk_from: dict[int, tuple[int, int]]  # stop -> (origin stop, seconds walked)
    walk_to: dict[int, tuple[int, int]]  # stop -> (destination stop, seconds walked)

    @classmethod
    def of(cls, tt: Timetable, q: engine.Query) -> _Ends:
        off, to, dur = np.asarray(tt.fp_offsets), np.asarray(tt.fp_to), \
            np.asarray(tt.fp_duration_s)
        src = np.repeat(np.arange(len(off) - 1), np.diff(off))

        def spread(places: list[tuple[int, int]], walk: bool, out_going: bool
                   ) -> tuple[list[tuple[int, int]], dict[int, tuple[int, int]]]:
            best = {s: (a, s, 0) for s, a in places}
            for s, a in places if walk else []:
                rows = range(int(off[s]), int(off[s + 1])) if out_going else \
                    np.flatnonzero(to == s)
                for f in rows:
                    other = int(to[f]) if out_going else int(src[f])
                    cand = (a + int(dur[f]), s, int(dur[f]))
                    if other not in best or cand < best[other]:
                        best[other] = cand
            return [(s, v[0]) for s, v in best.items()], {
                s: (v[1], v[2]) for s, v in best.items() if v[1] != s}

        origins, walk_from = spread(q.origins, q.walk_from_origins, True)
        dests, walk_to = spread(q.destinations, q.walk_to_destinations, False)
        return cls(origins, dests, walk_from, walk_to)

    def key(self, j: engine.Journey) -> tuple[int, int, int]:
        access = dict(self.origins)
        egress = dict(self.destinations)
        return (j.departure - access.get(j.first_stop, 0),
                j.arrival + egress.get(j.last_stop, 0), j.trips)

    def walked(self, j: engine.Journey) -> engine.Journey:
        """j with the walks from the origin stop and to the destination stop put back."""
        legs, first, last = list(j.legs), j.first_stop, j.last_stop
        if first in self.walk_from:
            o, w = self.walk_from[first]
            legs.insert(0, engine.Leg("walk", o, first, j.departure - w, j.departure))
            first = o
        if last in self.walk_to:
            d, w = self.walk_to[last]
            legs.append(engine.Leg("walk", last, d, j.arrival, j.arrival + w))
            last = d
        return engine.Journey(legs, first, last, legs[0].departure, legs[-1].arrival, j.trips)


def _same_place(a: Place, b: Place) -> bool:
    """Places naming the same stop or station (or one of its platforms), or one point."""
    if a.is_coordinate or b.is_coordinate:
        return a.is_coordinate and b.is_coordinate and (a.lat, a.lon) == (b.lat, b.lon)
    return a.label == b.label or bool({s for s, _, _ in a.stops} & {s for s, _, _ in b.stops})


def _longest_footpath_m(tt: Timetable) -> float:
    key = ("longest_footpath_m",)
    if key not in tt.cache:
        dist = np.asarray(tt.fp_distance_m)
        tt.cache[key] = float(dist.max(initial=0.0)) * float(tt.meta["footpaths"]["detour"])
    return tt.cache[key]  # type: ignore[return-value]


def _at(j: engine.Journey, t: int, arrive_by: bool) -> engine.Journey:
    """A walk-only journey moved to leave at t (arrive by t): a walk leaves at any time."""
    shift = (t - j.arrival) if arrive_by else (t - j.departure)
    legs = [engine.Leg(leg.kind, leg.from_stop, leg.to_stop, leg.departure + shift,
                       leg.arrival + shift) for leg in j.legs]
    return engine.Journey(legs, j.first_stop, j.last_stop, j.departure + shift,
                          j.arrival + shift, 0)


def _direct_walk(a: Place, b: Place, opt: Options) -> tuple[int, float] | None:
    if a.lat is None or a.lon is None or b.lat is None or b.lon is None or opt.max_walk_m <= 0:
        return None
    metres = float(haversine_m(a.lat, a.lon, b.lat, b.lon)) * opt.detour
    if metres > opt.max_walk_m:
        return None
    return math.ceil(metres / opt.walk_speed), metres


def _pareto(journeys: list[Body], walk: Body | None) -> list[Body]:
    """The journeys no other one dominates on (later departure, earlier arrival, fewer
    transfers), one of each. A walk leaves whenever one likes, so it dominates every
    journey that takes at least as long; it is itself dominated by a journey with no
    transfer leaving no earlier and arriving no later."""

    def key(j: Body) -> tuple[int, int, int]:
        return unix_of(j["departure"]), unix_of(j["arrival"]), j["transfers"]

    def beats(o: tuple[int, int, int], k: tuple[int, int, int]) -> bool:
        return o[0] >= k[0] and o[1] <= k[1] and o[2] <= k[2] and o != k

    keys = [key(j) for j in journeys]
    keep: list[Body] = []
    seen: set[tuple[int, int, int]] = set()
    for j, k in zip(journeys, keys, strict=True):
        if k in seen or any(beats(o, k) for o in keys):
            continue
        if walk is not None and j["duration_s"] >= walk["duration_s"]:
            continue
        seen.add(k)
        keep.append(j)
    if walk is not None and not any(beats(key(o), key(walk)) for o in keep):
        keep.append(walk)
    return keep


def _tz(tt: Timetable, stop: int) -> str:
    return tt.timezones[int(tt.stop_tz[stop])]


def _stop_place(tt: Timetable, s: int, langs: list[str], platform: str | None = None
                ) -> Body:
    """A stop as a LegPlace's dict."""
    sid, name, plat, lat, lon = _stop_fields(tt, s, tt.known_languages(langs))
    return {"stop_id": sid, "name": name, "platform": platform or plat, "lat": lat, "lon": lon}


def _stop_fields(tt: Timetable, s: int, known: tuple[str, ...]
                 ) -> tuple[str, str, str | None, float | None, float | None]:
    """(id, name, platform, lat, lon) of a stop as legs show it, cached per version and
    languages (`known`: tt.known_languages of the request)."""
    key = ("leg_place", s, known)
    hit = tt.cache.get(key)
    if hit is None:
        sid, name, plat, _ = stop_display(tt, s, known)
        lat, lon = float(tt.stop_lat[s]), float(tt.stop_lon[s])
        hit = tt.cache[key] = (sid, name, plat, None if math.isnan(lat) else round(lat, 7),
                               None if math.isnan(lon) else round(lon, 7))
    return hit  # type: ignore[return-value]


def _point_place(place: Place) -> Body:
    return {"stop_id": None, "name": f"{place.lat},{place.lon}", "platform": None,
            "lat": _float(place.lat), "lon": _float(place.lon)}


def _float(x: float | None) -> float | None:
    """As a pydantic float field holds it (an int as a float)."""
    return None if x is None else float(x)


def _leg(mode: str, a: Body, b: Body, departure: str, arrival: str, duration_s: int,
         geometry: dict[str, Any], **given: Any) -> Body:
    """A Leg's dict: every field of schemas.Leg in its order, the defaults unless `given`."""
    out = {"mode": mode, "from": a, "to": b, "departure": departure, "arrival": arrival,
           "scheduled_departure": None, "scheduled_arrival": None, "realtime": False,
           "duration_s": int(duration_s), "distance_m": None, "trip_id": None, "route": None,
           "operator": None, "headsign": None, "service_date": None, "stay_seated": False,
           "intermediate_stops": None, "alerts": [], "wheelchair_unknown": [],
           "geometry": geometry, "fares": None}
    assert given.keys() <= out.keys(), given.keys() - out.keys()
    out.update(given)
    return out


def _journey_body(departure: str, arrival: str, duration_s: int, transfers: int,
                  walk_m: float, wheelchair_unknown: bool, legs: list[Body]) -> Body:
    """A Journey's dict (schemas.Journey's fields in order; id and fare filled in later)."""
    return {"id": None, "departure": departure, "arrival": arrival,
            "duration_s": int(duration_s), "transfers": int(transfers),
            "walk_m": float(walk_m), "wheelchair_unknown": bool(wheelchair_unknown),
            "legs": legs, "fare": None}


def _line(points: list[tuple[float | None, float | None]]) -> dict:
    coords = [[round(lon, 6), round(lat, 6)] for lat, lon in points
              if lat is not None and lon is not None]
    return {"type": "LineString", "coordinates": coords}


def _walk_leg(a: Body, b: Body, dep: int, arr: int, metres: float, tz: str) -> Body:
    return _leg("walk", a, b, iso(dep, tz), iso(arr, tz), arr - dep,
                _line([(a["lat"], a["lon"]), (b["lat"], b["lon"])]),
                distance_m=float(round(metres, 1)))


def _footpath_metres(tt: Timetable, a: int, b: int, detour: float) -> float:
    """The walking metres of a footpath leg, its straight metres cached per worker and
    version (at most one entry per footpath; a lookup instead of a numpy search on every
    walk leg)."""
    key = ("footpath_m", a, b)
    straight = tt.cache.get(key)
    if straight is None:
        lo, hi = int(tt.fp_offsets[a]), int(tt.fp_offsets[a + 1])
        hit = np.flatnonzero(np.asarray(tt.fp_to[lo:hi]) == b)
        straight = tt.cache[key] = float(tt.fp_distance_m[lo + hit[0]]) if len(hit) else \
            float(haversine_m(tt.stop_lat[a], tt.stop_lon[a], tt.stop_lat[b], tt.stop_lon[b]))
    return straight * detour  # type: ignore[operator]


def _shape_between(tt: Timetable, trip: int, stops: list[int]) -> dict:
    """The trip's shape from the point nearest its first stop to the point nearest its last
    one after that (the stops' own line without a shape). The coordinates are JSON text
    (an orjson.Fragment) cut from the shape's: thousands of points, without a Python float
    or list each, nor formatting them again on every answer (the router writes the answer
    with orjson)."""
    shape = int(tt.trip_shape[trip])
    if shape < 0 or int(tt.shape_pt_offsets[shape + 1]) - int(tt.shape_pt_offsets[shape]) < 2:
        return _stops_line(tt, stops)
    start = _nearest_shape_point(tt, shape, stops[0])
    end = _nearest_shape_point(tt, shape, stops[-1])
    if end < start:  # the nearest point is behind the leg's start: the nearest after it
        lat, lon = _shape_points(tt, shape)
        s = stops[-1]
        rest = haversine_m(float(tt.stop_lat[s]), float(tt.stop_lon[s]), lat[start:],
                           lon[start:])
        end = start + int(np.argmin(rest))
    if end <= start:
        return _stops_line(tt, stops)
    text, begins, ends = _shape_text(tt, shape)
    coords = orjson.Fragment(b"[" + text[int(begins[start]):int(ends[end])] + b"]")
    return {"type": "LineString", "coordinates": coords}


_SHAPE_TEXTS = 512  # shapes whose JSON text a worker keeps (a median shape: about 15 kB)
_LEG_GEOMETRIES = 2048  # legs' geometries a worker keeps (each a part of a shape's text)


def _leg_geometry(tt: Timetable, trip: int, lo: int, board: int, alight: int,
                  stops: list[int]) -> dict[str, Any]:
    """_shape_between for a trip's leg, kept per version for the _LEG_GEOMETRIES legs used
    last: it depends only on the trip's shape and the pattern's calls from `board` to
    `alight` (`lo`: where the pattern's stops begin), which the trips of a corridor share,
    and finding the leg's part of a long shape again on every answer cost as much as all
    the rest of the leg. The dict is shared between answers: nothing changes it."""
    key = (int(tt.trip_shape[trip]), lo, board, alight)
    with _shape_texts_lock:
        kept = tt.cache.get(("leg_geometries",))
        if kept is None:
            kept = tt.cache[("leg_geometries",)] = OrderedDict()
        hit = kept.get(key)  # type: ignore[union-attr]
        if hit is not None:
            kept.move_to_end(key)  # type: ignore[union-attr]
            return hit  # type: ignore[no-any-return]
    geometry = _shape_between(tt, trip, stops)
    with _shape_texts_lock:
        kept[key] = geometry  # type: ignore[index]
        while len(kept) > _LEG_GEOMETRIES:  # type: ignore[arg-type]
            kept.popitem(last=False)  # type: ignore[union-attr]
    return geometry


_shape_texts_lock = threading.Lock()


def _shape_text(tt: Timetable, shape: int) -> tuple[bytes, np.ndarray, np.ndarray]:
    """A shape's points as JSON text, `[lon,lat],[lon,lat],...` rounded to 6 decimals (as
    orjson writes them), with where each point's text begins and ends: a leg's coordinates
    are a slice of it. Kept for the _SHAPE_TEXTS shapes used last."""
    key = ("shape_texts",)
    with _shape_texts_lock:
        texts = tt.cache.get(key)
        if texts is None:
            texts = tt.cache[key] = OrderedDict()
        hit = texts.get(shape)  # type: ignore[union-attr]
        if hit is not None:
            texts.move_to_end(shape)  # type: ignore[union-attr]
            return hit  # type: ignore[no-any-return]
    lat, lon = _shape_points(tt, shape)
    coords = np.round(np.column_stack((lon, lat)), 6)
    text = orjson.dumps(coords, option=orjson.OPT_SERIALIZE_NUMPY)[1:-1]
    ends = np.flatnonzero(np.frombuffer(text, np.uint8) == ord("]")) + 1
    begins = np.concatenate(([0], ends[:-1] + 1))
    hit = (text, begins, ends)
    with _shape_texts_lock:
        texts[shape] = hit  # type: ignore[index]
        while len(texts) > _SHAPE_TEXTS:  # type: ignore[arg-type]
            texts.popitem(last=False)  # type: ignore[union-attr]
    return hit


def _stops_line(tt: Timetable, stops: list[int]) -> dict:
    return _line([(float(tt.stop_lat[s]), float(tt.stop_lon[s])) for s in stops])


def _shape_points(tt: Timetable, shape: int) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = int(tt.shape_pt_offsets[shape]), int(tt.shape_pt_offsets[shape + 1])
    return (np.asarray(tt.shape_pt_lat[lo:hi], dtype=np.float64),
            np.asarray(tt.shape_pt_lon[lo:hi], dtype=np.float64))


def _nearest_shape_point(tt: Timetable, shape: int, stop: int) -> int:
    """The position of the shape's point nearest the stop (the first of equals), cached per
    worker and version: at most one entry per pattern stop, each a haversine over the whole
    shape (thousands of points) computed once instead of on every leg."""
    key = ("shape_stop_point", shape, stop)
    hit = tt.cache.get(key)
    if hit is None:
        lat, lon = _shape_points(tt, shape)
        hit = tt.cache[key] = int(np.argmin(haversine_m(
            float(tt.stop_lat[stop]), float(tt.stop_lon[stop]), lat, lon)))
    return hit  # type: ignore[return-value]


def _trip_leg(tt: Timetable, leg: engine.Leg, langs: list[str]) -> Body:
    t, day = leg.trip, leg.day
    known = tt.known_languages(langs)
    lo, _ = tt.pattern_range(t)
    st0 = int(tt.trip_st_start[t])
    base = int(tt.tz_reference_utc[int(tt.trip_tz[t]), day])
    b, a = leg.board_pos, leg.alight_pos
    stops = tt.pattern_stops[lo + b:lo + a + 1].tolist()
    # the calls in between, read as slices (a leg passes dozens of stops): IntermediateStop
    # dicts
    arrivals = (base + np.asarray(tt.st_arr[st0 + b + 1:st0 + a], np.int64)).tolist()
    departures = (base + np.asarray(tt.st_dep[st0 + b + 1:st0 + a], np.int64)).tolist()
    overrides = len(tt.columns.get("override_st", ())) > 0  # else a call's platform: its stop's
    inter = []
    shown = _stop_displays(tt, known)
    for k, s, arr, dep in zip(range(b + 1, a), stops[1:-1], arrivals, departures, strict=True):
        sid, name, plat, tz = shown.get(s) or shown.setdefault(s, stop_display(tt, s, known))
        if overrides:
            plat = tt.call_platform(t, k, day) or plat
        at = iso(arr, tz)  # most calls leave when they arrive: one time text for both
        inter.append({"stop_id": sid, "name": name, "platform": plat, "arrival": at,
                      "departure": at if dep == arr else iso(dep, tz)})
    trip_id, _, route, operator, headsign, _ = trip_display(tt, t, known)
    # a Leg's dict as _leg makes it (every field of schemas.Leg in its order), written out:
    # the hottest of the legs
    return {
        "mode": str(route["mode"]),
        "from": _stop_place(tt, leg.from_stop, langs,
                            tt.call_platform(t, b, day) if overrides else None),
        "to": _stop_place(tt, leg.to_stop, langs,
                          tt.call_platform(t, a, day) if overrides else None),
        "departure": iso(leg.departure, _tz(tt, leg.from_stop)),
        "arrival": iso(leg.arrival, _tz(tt, leg.to_stop)),
        "scheduled_departure": None, "scheduled_arrival": None, "realtime": False,
        "duration_s": int(leg.arrival - leg.departure), "distance_m": None,
        "trip_id": trip_id, "route": route, "operator": operator, "headsign": headsign,
        "service_date": service_date_text(tt, day), "stay_seated": bool(leg.stay_seated),
        "intermediate_stops": inter, "alerts": [], "wheelchair_unknown": [],
        "geometry": _leg_geometry(tt, t, lo, b, a, stops), "fares": None}


def _stop_displays(tt: Timetable, known: tuple[str, ...]
                   ) -> dict[int, tuple[str, str, str | None, str]]:
    """stop_display's tuples by stop for these languages, per version: read per call of a
    leg by the stop alone (no key tuple made and hashed per call)."""
    key = ("stop_displays", known)
    hit = tt.cache.get(key)
    if hit is None:
        hit = tt.cache[key] = {}
    return hit  # type: ignore[return-value]


def _attach_alerts(tt: Timetable, out: Body, found: engine.Journey, alerts: list[Alert],
                   langs: list[str]) -> None:
    trip_legs = [leg for leg in out["legs"] if leg["trip_id"] is not None]
    for leg, eng in zip(trip_legs, [x for x in found.legs if x.kind == "trip"], strict=True):
        route = int(tt.trip_route[eng.trip]) if eng.trip >= 0 else -1
        leg["alerts"] = [a.model_dump() for a in alert_refs(
            tt, alerts, route, eng.trip, leg["trip_id"] or "", [eng.from_stop, eng.to_stop],
            eng.departure, langs, leg["operator"] or "")]


def _live_leg(tt: Timetable, leg: engine.Leg, lv: TripLive, langs: list[str]) -> Body:
    """A leg on a trip as live data has it: live times, live platforms."""
    arr = np.where(lv.rt_arr != NO_TIME, lv.rt_arr, lv.sched_arr)
    dep = np.where(lv.rt_dep != NO_TIME, lv.rt_dep, lv.sched_dep)
    stops = [int(s) for s in lv.stops[leg.board_pos:leg.alight_pos + 1]]
    inter = []
    for k in range(leg.board_pos + 1, leg.alight_pos):
        s = int(lv.stops[k])
        p = _stop_place(tt, s, langs)
        inter.append({"stop_id": p["stop_id"] or "", "name": p["name"],
                      "platform": p["platform"], "arrival": iso(int(arr[k]), _tz(tt, s)),
                      "departure": iso(int(dep[k]), _tz(tt, s))})
    route = route_dict(tt, lv.route, tt.known_languages(langs)) if lv.route >= 0 else None
    headsign = lv.headsign if lv.trip < 0 else tt.translated("trip_headsign", lv.trip, langs)
    geometry = _shape_between(tt, lv.trip, stops) if lv.trip >= 0 else _stops_line(tt, stops)
    return _leg(
        str(route["mode"]) if route else "other", _stop_place(tt, leg.from_stop, langs),
        _stop_place(tt, leg.to_stop, langs), iso(leg.departure, _tz(tt, leg.from_stop)),
        iso(leg.arrival, _tz(tt, leg.to_stop)), leg.arrival - leg.departure, geometry,
        scheduled_departure=iso(int(lv.sched_dep[leg.board_pos]), _tz(tt, leg.from_stop)),
        scheduled_arrival=iso(int(lv.sched_arr[leg.alight_pos]), _tz(tt, leg.to_stop)),
        realtime=True, trip_id=lv.trip_id, route=route, operator=lv.operator,
        headsign=headsign, service_date=tt.service_date(lv.day).isoformat(),
        intermediate_stops=inter)


def _journey(tt: Timetable, j: engine.Journey, origin: Place, destination: Place, opt: Options,
             langs: list[str], behind: list[TripLive]) -> Body:
    legs: list[Body] = []
    for leg in j.legs:
        if leg.kind == "trip" and leg.live >= 0:
            legs.append(_live_leg(tt, leg, behind[leg.live], langs))
        elif leg.kind == "trip":
            legs.append(_trip_leg(tt, leg, langs))
        else:
            metres = _footpath_metres(tt, leg.from_stop, leg.to_stop, opt.detour)
            legs.append(_walk_leg(_stop_place(tt, leg.from_stop, langs),
                                  _stop_place(tt, leg.to_stop, langs), leg.departure,
                                  leg.arrival, metres, _tz(tt, leg.to_stop)))
    _walks_at_the_vehicles_platforms(legs)
    dep, arr = j.departure, j.arrival
    if origin.is_coordinate:
        walk = next((w, m) for s, w, m in origin.stops if s == j.first_stop)
        first = legs[0]["from"] if legs else _stop_place(tt, j.first_stop, langs)
        legs.insert(0, _walk_leg(_point_place(origin), first, dep - walk[0], dep, walk[1],
                                 _tz(tt, j.first_stop)))
        dep -= walk[0]
    if destination.is_coordinate:
        walk = next((w, m) for s, w, m in destination.stops if s == j.last_stop)
        last = legs[-1]["to"] if legs else _stop_place(tt, j.last_stop, langs)
        legs.append(_walk_leg(last, _point_place(destination), arr, arr + walk[0], walk[1],
                              _tz(tt, j.last_stop)))
        arr += walk[0]
    tz = _tz(tt, j.first_stop)
    unknown = False
    if opt.wheelchair and opt.wheelchair_unknown:
        for body, leg in zip([x for x in legs if x["trip_id"] is not None],
                             [x for x in j.legs if x.kind == "trip"], strict=True):
            body["wheelchair_unknown"] = _unknown_access(tt, leg)
            unknown = unknown or bool(body["wheelchair_unknown"])
    out = _journey_body(iso(dep, tz), iso(arr, _tz(tt, j.last_stop)), arr - dep, j.transfers,
                        round(sum(leg["distance_m"] or 0.0 for leg in legs), 1), unknown,
                        legs)
    if opt.fares:
        fares.attach(tt, out, [(x.departure, x.arrival) for x in j.legs if x.kind == "trip"],
                     opt.rider_category)
    return out


def _walks_at_the_vehicles_platforms(legs: list[Body]) -> None:
    """A walk leaving a vehicle starts at the platform the vehicle called at (which
    stop_time_overrides.txt may set per day), and one boarding a vehicle ends at its
    platform."""
    for i, leg in enumerate(legs):
        if leg["mode"] != "walk":
            continue
        if i > 0 and legs[i - 1]["mode"] != "walk":
            leg["from"] = legs[i - 1]["to"]
        if i + 1 < len(legs) and legs[i + 1]["mode"] != "walk":
            leg["to"] = legs[i + 1]["from"]


def _unknown_access(tt: Timetable, leg: engine.Leg) -> list[str]:
    """Ids of the leg's trip and of the stops it boards and leaves at whose wheelchair
    access the feed leaves unknown (0)."""
    out = []
    if leg.trip >= 0 and int(tt.trip_wheelchair[leg.trip]) == 0:
        out.append(tt.strings("trip_id")[leg.trip])
    for s in (leg.from_stop, leg.to_stop):
        if int(tt.stop_wheelchair_eff[s]) == 0 and not (leg.stay_seated and s == leg.from_stop):
            out.append(tt.strings("stop_id")[s])
    return out


def _walk_only(tt: Timetable, a: Place, b: Place, start: int, walk_s: int, metres: float,
               langs: list[str]) -> Body:
    near = a.stops[0][0] if a.stops else (b.stops[0][0] if b.stops else None)
    tz = _tz(tt, near) if near is not None else "UTC"
    leg = _walk_leg(_named_place(tt, a, langs), _named_place(tt, b, langs), start,
                    start + walk_s, metres, tz)
    return _journey_body(leg["departure"], leg["arrival"], walk_s, 0, round(metres, 1), False,
                         [leg])


def _named_place(tt: Timetable, place: Place, langs: list[str]) -> Body:
    """A stop or station as legs show it (id, name, platform); a point by its coordinates."""
    if place.is_coordinate:
        return _point_place(place)
    return _stop_place(tt, tt.stop_index[place.label], langs)


def resolve_time(tt: Timetable, value: str | None, param: str, now: datetime, tz: str
                 ) -> datetime:
    """The search time: `value` (422 when outside the service period, a day either side),
    default now."""
    return now if value is None else instant_in_period(tt, value, param, tz)
