"""Journeys: places to stops, filters to masks, the search, results to the API's shape."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import numpy as np

from transit.api.common import alert_refs, instant_in_period, iso, operator_id, route_ref
from transit.api.problems import invalid
from transit.departures.service import LiveContext
from transit.journeys.places import Place
from transit.journeys.schemas import IntermediateStop, Journey, JourneyList, Leg, LegPlace
from transit.realtime.overlay import NO_TIME, Alert, TripLive
from transit.realtime.routing_view import live_trips
from transit.routing import search as engine
from transit.routing.network import Network
from transit.timetable.geo import haversine_m
from transit.timetable.modes import MODES, mode_of
from transit.timetable.timetable import Timetable


@lru_cache(maxsize=2)
def searcher_for(tt: Timetable) -> engine.Searcher:
    return engine.Searcher(Network.of(tt))


def warm_up_routing(tt: Timetable) -> None:
    """Compile (or load from cache) the search kernels for this version's arrays."""
    if tt.n_days and len(tt.ev_offsets) > 1:
        s = searcher_for(tt)
        q = engine.Query(origins=[(0, 0)], destinations=[(0, 0)], time=0, max_transfers=0)
        s.depart_at(q)
        s.arrive_by(q)


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


def parse_modes(param: str, value: str | None) -> frozenset[str] | None:
    if value is None:
        return None
    modes = frozenset(m.strip().lower() for m in value.split(",") if m.strip())
    unknown = sorted(modes - set(MODES))
    if unknown:
        raise invalid(param, f"unknown mode {unknown[0]!r}; modes are {', '.join(MODES)}")
    return modes


def parse_operators(tt: Timetable, param: str, value: str | None) -> frozenset[str] | None:
    if value is None:
        return None
    ops = frozenset(o.strip() for o in value.split(",") if o.strip())
    unknown = sorted(ops - set(tt.operator_index))
    if unknown:
        raise invalid(param, f"unknown operator {unknown[0]!r}; operators are "
                      f"{', '.join(tt.operator_index)}")
    return ops


def _masks(tt: Timetable, opt: Options) -> tuple[np.ndarray | None, np.ndarray | None]:
    trip_ok = None
    route_ok = np.ones(len(tt.route_type), np.bool_)
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
    if not route_ok.all() or opt.wheelchair:
        trip_ok = route_ok[np.asarray(tt.trip_route)]
        if opt.wheelchair:
            trip_ok &= np.asarray(tt.trip_wheelchair) == 1
    stop_ok = (np.asarray(tt.stop_wheelchair_eff) == 1) if opt.wheelchair else None
    return trip_ok, stop_ok


def plan(tt: Timetable, origin: Place, destination: Place, when: datetime, arrive_by: bool,
         opt: Options, langs: list[str], live: LiveContext | None = None) -> JourneyList:
    searcher = searcher_for(tt)
    trip_ok, stop_ok = _masks(tt, opt)
    live_view, behind = (None, []) if live is None or not live.overlay.available else \
        live_trips(tt, live.overlay, live.now, live.stale_after_s)
    t = int(when.timestamp())
    search_info = {"depart_at" if not arrive_by else "arrive_by": when.isoformat(),
                   "window_min": opt.window_min, "max_transfers": opt.max_transfers,
                   "max_walk_m": opt.max_walk_m, "access_stops": len(origin.stops),
                   "egress_stops": len(destination.stops)}
    direct = _direct_walk(origin, destination, opt)
    for place in (origin, destination):
        if not place.stops and direct is None:
            return JourneyList(journeys=[], search=search_info, reason=(
                f"no stop within {opt.max_walk_m:g} m of {place.param} "
                f"({place.lat},{place.lon})"))
    q = engine.Query(
        origins=[(s, w) for s, w, _ in origin.stops if stop_ok is None or stop_ok[s]],
        destinations=[(s, w) for s, w, _ in destination.stops if stop_ok is None or stop_ok[s]],
        time=t, max_transfers=opt.max_transfers, trip_ok=trip_ok, stop_ok=stop_ok,
        extra_change_s=opt.min_transfer_s, walk_from_origins=not origin.is_coordinate,
        walk_to_destinations=not destination.is_coordinate,
        live=live_view)
    if arrive_by:
        found = searcher.arrive_by(q)
    elif opt.window_min:
        found = searcher.depart_in_range(q, opt.window_min * 60)
    else:
        found = searcher.depart_at(q)
    if origin.is_coordinate or destination.is_coordinate:
        # walking to a stop and on from it is walking: the direct walk covers it
        found = [j for j in found if j.trips > 0]
    journeys = [_journey(tt, j, origin, destination, opt, langs, behind) for j in found]
    alerts = live.alerts if live is not None else []  # the fresh ones, judged once
    if alerts:
        for j, jj in zip(journeys, found, strict=True):
            _attach_alerts(tt, j, jj, alerts, langs)
    if direct is not None:
        walk_s = direct[0]
        start = t - walk_s if arrive_by else t
        journeys.append(_walk_only(tt, origin, destination, start, walk_s, direct[1]))
        journeys = _pareto(journeys, arrive_by)
    journeys.sort(key=lambda j: (j.departure, j.arrival, j.transfers))
    reason = None if journeys else (
        "no connection found within the search bounds (transfers, time window, walking)")
    return JourneyList(journeys=journeys, reason=reason, search=search_info)


def _direct_walk(a: Place, b: Place, opt: Options) -> tuple[int, float] | None:
    if a.lat is None or a.lon is None or b.lat is None or b.lon is None:
        return None
    metres = float(haversine_m(a.lat, a.lon, b.lat, b.lon)) * opt.detour
    if metres > opt.max_walk_m:
        return None
    return math.ceil(metres / opt.walk_speed), metres


def _pareto(journeys: list[Journey], arrive_by: bool) -> list[Journey]:
    def key(j: Journey) -> tuple[int, int]:
        t = -_unix(j.departure) if arrive_by else _unix(j.arrival)
        return t, j.transfers

    keep = []
    for j in journeys:
        kj = key(j)
        if not any(key(o) <= kj and key(o) != kj for o in journeys):
            keep.append(j)
    return keep


def _unix(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def _tz(tt: Timetable, stop: int) -> str:
    return tt.timezones[int(tt.stop_tz[stop])]


def _stop_place(tt: Timetable, s: int, langs: list[str]) -> LegPlace:
    lat, lon = float(tt.stop_lat[s]), float(tt.stop_lon[s])
    return LegPlace(stop_id=tt.strings("stop_id")[s], name=tt.translated("stop_name", s, langs),
                    platform=tt.strings("stop_platform")[s] or None,
                    lat=None if math.isnan(lat) else round(lat, 7),
                    lon=None if math.isnan(lon) else round(lon, 7))


def _point_place(place: Place) -> LegPlace:
    return LegPlace(stop_id=None, name=f"{place.lat},{place.lon}", platform=None,
                    lat=place.lat, lon=place.lon)


def _line(points: list[tuple[float | None, float | None]]) -> dict:
    coords = [[round(lon, 6), round(lat, 6)] for lat, lon in points
              if lat is not None and lon is not None]
    return {"type": "LineString", "coordinates": coords}


def _walk_leg(a: LegPlace, b: LegPlace, dep: int, arr: int, metres: float, tz: str) -> Leg:
    return Leg.model_validate({
        "mode": "walk", "from": a, "to": b, "departure": iso(dep, tz), "arrival": iso(arr, tz),
        "duration_s": arr - dep, "distance_m": round(metres, 1),
        "geometry": _line([(a.lat, a.lon), (b.lat, b.lon)])})


def _footpath_metres(tt: Timetable, a: int, b: int, detour: float) -> float:
    lo, hi = int(tt.fp_offsets[a]), int(tt.fp_offsets[a + 1])
    to = np.asarray(tt.fp_to[lo:hi])
    hit = np.flatnonzero(to == b)
    if len(hit):
        return float(tt.fp_distance_m[lo + hit[0]]) * detour
    return float(haversine_m(tt.stop_lat[a], tt.stop_lon[a], tt.stop_lat[b], tt.stop_lon[b])) \
        * detour


def _shape_between(tt: Timetable, trip: int, stops: list[int]) -> dict:
    shape = int(tt.trip_shape[trip])
    pts = [(float(tt.stop_lat[s]), float(tt.stop_lon[s])) for s in stops]
    if shape < 0:
        return _line(pts)  # type: ignore[arg-type]
    lo, hi = int(tt.shape_pt_offsets[shape]), int(tt.shape_pt_offsets[shape + 1])
    lat = np.asarray(tt.shape_pt_lat[lo:hi], dtype=np.float64)
    lon = np.asarray(tt.shape_pt_lon[lo:hi], dtype=np.float64)
    if len(lat) < 2:
        return _line(pts)  # type: ignore[arg-type]
    start = int(np.argmin(haversine_m(pts[0][0], pts[0][1], lat, lon)))
    rest = haversine_m(pts[-1][0], pts[-1][1], lat[start:], lon[start:])
    end = start + int(np.argmin(rest))
    if end <= start:
        return _line(pts)  # type: ignore[arg-type]
    return _line([(float(a), float(b)) for a, b in zip(lat[start:end + 1], lon[start:end + 1],
                                                       strict=True)])


def _trip_leg(tt: Timetable, leg: engine.Leg, langs: list[str]) -> Leg:
    t = leg.trip
    lo, _ = tt.pattern_range(t)
    st0 = int(tt.trip_st_start[t])
    base = int(tt.tz_reference_utc[int(tt.trip_tz[t]), leg.day])
    stops = [int(tt.pattern_stops[lo + k]) for k in range(leg.board_pos, leg.alight_pos + 1)]
    inter = []
    for k in range(leg.board_pos + 1, leg.alight_pos):
        s = int(tt.pattern_stops[lo + k])
        p = _stop_place(tt, s, langs)
        inter.append(IntermediateStop(
            stop_id=p.stop_id or "", name=p.name, platform=p.platform,
            arrival=iso(base + int(tt.st_arr[st0 + k]), _tz(tt, s)),
            departure=iso(base + int(tt.st_dep[st0 + k]), _tz(tt, s))))
    r = int(tt.trip_route[t])
    route = route_ref(tt, r, langs)
    return Leg.model_validate({
        "mode": route.mode, "from": _stop_place(tt, leg.from_stop, langs),
        "to": _stop_place(tt, leg.to_stop, langs),
        "departure": iso(leg.departure, _tz(tt, leg.from_stop)),
        "arrival": iso(leg.arrival, _tz(tt, leg.to_stop)),
        "duration_s": leg.arrival - leg.departure, "trip_id": tt.strings("trip_id")[t],
        "route": route, "operator": operator_id(tt, int(tt.route_operator[r])),
        "headsign": tt.translated("trip_headsign", t, langs),
        "service_date": tt.service_date(leg.day).isoformat(), "stay_seated": leg.stay_seated,
        "intermediate_stops": inter, "geometry": _shape_between(tt, t, stops)})


def _attach_alerts(tt: Timetable, out: Journey, found: engine.Journey, alerts: list[Alert],
                   langs: list[str]) -> None:
    trip_legs = [leg for leg in out.legs if leg.trip_id is not None]
    for leg, eng in zip(trip_legs, [x for x in found.legs if x.kind == "trip"], strict=True):
        route = int(tt.trip_route[eng.trip]) if eng.trip >= 0 else -1
        leg.alerts = alert_refs(tt, alerts, route, eng.trip, leg.trip_id or "",
                                [eng.from_stop, eng.to_stop], eng.departure, langs,
                                leg.operator or "")


def _live_leg(tt: Timetable, leg: engine.Leg, lv: TripLive, langs: list[str]) -> Leg:
    """A leg on a trip as live data has it: live times, live platforms."""
    arr = np.where(lv.rt_arr != NO_TIME, lv.rt_arr, lv.sched_arr)
    dep = np.where(lv.rt_dep != NO_TIME, lv.rt_dep, lv.sched_dep)
    stops = [int(s) for s in lv.stops[leg.board_pos:leg.alight_pos + 1]]
    inter = []
    for k in range(leg.board_pos + 1, leg.alight_pos):
        s = int(lv.stops[k])
        p = _stop_place(tt, s, langs)
        inter.append(IntermediateStop(stop_id=p.stop_id or "", name=p.name, platform=p.platform,
                                      arrival=iso(int(arr[k]), _tz(tt, s)),
                                      departure=iso(int(dep[k]), _tz(tt, s))))
    route = route_ref(tt, lv.route, langs) if lv.route >= 0 else None
    headsign = lv.headsign if lv.trip < 0 else tt.translated("trip_headsign", lv.trip, langs)
    geometry = _shape_between(tt, lv.trip, stops) if lv.trip >= 0 else _line(
        [(float(tt.stop_lat[s]), float(tt.stop_lon[s])) for s in stops])
    return Leg.model_validate({
        "mode": route.mode if route else "other", "from": _stop_place(tt, leg.from_stop, langs),
        "to": _stop_place(tt, leg.to_stop, langs),
        "departure": iso(leg.departure, _tz(tt, leg.from_stop)),
        "arrival": iso(leg.arrival, _tz(tt, leg.to_stop)),
        "scheduled_departure": iso(int(lv.sched_dep[leg.board_pos]), _tz(tt, leg.from_stop)),
        "scheduled_arrival": iso(int(lv.sched_arr[leg.alight_pos]), _tz(tt, leg.to_stop)),
        "realtime": True, "duration_s": leg.arrival - leg.departure, "trip_id": lv.trip_id,
        "route": route, "operator": lv.operator, "headsign": headsign,
        "service_date": tt.service_date(lv.day).isoformat(), "intermediate_stops": inter,
        "geometry": geometry})


def _journey(tt: Timetable, j: engine.Journey, origin: Place, destination: Place, opt: Options,
             langs: list[str], behind: list[TripLive]) -> Journey:
    legs: list[Leg] = []
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
    dep, arr = j.departure, j.arrival
    if origin.is_coordinate:
        walk = next((w, m) for s, w, m in origin.stops if s == j.first_stop)
        legs.insert(0, _walk_leg(_point_place(origin), _stop_place(tt, j.first_stop, langs),
                                 dep - walk[0], dep, walk[1], _tz(tt, j.first_stop)))
        dep -= walk[0]
    if destination.is_coordinate:
        walk = next((w, m) for s, w, m in destination.stops if s == j.last_stop)
        legs.append(_walk_leg(_stop_place(tt, j.last_stop, langs), _point_place(destination),
                              arr, arr + walk[0], walk[1], _tz(tt, j.last_stop)))
        arr += walk[0]
    tz = _tz(tt, j.first_stop)
    return Journey(departure=iso(dep, tz), arrival=iso(arr, _tz(tt, j.last_stop)),
                   duration_s=arr - dep, transfers=j.transfers,
                   walk_m=round(sum(leg.distance_m or 0.0 for leg in legs), 1), legs=legs)


def _walk_only(tt: Timetable, a: Place, b: Place, start: int, walk_s: int, metres: float
               ) -> Journey:
    near = a.stops[0][0] if a.stops else (b.stops[0][0] if b.stops else None)
    tz = _tz(tt, near) if near is not None else "UTC"
    pa = LegPlace(stop_id=a.label or None, name=a.label or f"{a.lat},{a.lon}", platform=None,
                  lat=a.lat, lon=a.lon)
    pb = LegPlace(stop_id=b.label or None, name=b.label or f"{b.lat},{b.lon}", platform=None,
                  lat=b.lat, lon=b.lon)
    leg = _walk_leg(pa, pb, start, start + walk_s, metres, tz)
    return Journey(departure=leg.departure, arrival=leg.arrival, duration_s=walk_s,
                   transfers=0, walk_m=round(metres, 1), legs=[leg])


def resolve_time(tt: Timetable, value: str | None, param: str, now: datetime, tz: str
                 ) -> datetime:
    """The search time: `value` (422 when outside the service period, a day either side),
    default now."""
    return now if value is None else instant_in_period(tt, value, param, tz)
