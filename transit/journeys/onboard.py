"""Journeys that start aboard a vehicle ("I am on this trip now": `from_trip`).

The rider is on a trip instance at `depart_at`: the first leg rides it on from the last stop
it left (by live times when there are some) and the rider may get off at any later stop
where drop-off is allowed. The search then starts from those stops: at a stop the rider
gets off at, a vehicle can be boarded after the stop's change time; a footpath from it can be
walked at once (the engine's rule after alighting). Staying aboard to a destination stop is
a journey of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from transit.api.problems import invalid, not_found
from transit.realtime.context import LiveContext
from transit.realtime.matching import trip_live
from transit.realtime.overlay import NO_TIME
from transit.routing import search as engine
from transit.timetable.timetable import Timetable


@dataclass(frozen=True)
class Aboard:
    """A trip instance ridden, where it is, and its times from there on (Unix seconds)."""

    trip: int
    day: int
    pos: int  # the last stop it left (the leg's first position)
    arr: np.ndarray  # per position: arrival (live where known)
    dep: np.ndarray


def locate(tt: Timetable, trip_id: str, service_date: date | None, t: int,
           live: LiveContext | None) -> Aboard:
    """The instance of `trip_id` running at t (on `service_date`'s when given)."""
    trip = tt.trip_index.get(trip_id)
    if trip is None:
        raise not_found("trip", trip_id)
    if service_date is not None:
        day = tt.day_of(service_date)
        if not tt.runs_on(trip, day):
            raise invalid("from_date", f"trip {trip_id!r} does not run on "
                          f"{service_date.isoformat()}")
        days = [day]
    else:
        base0 = int(tt.tz_reference_utc[int(tt.trip_tz[trip]), 0])
        d0 = (t - base0) // 86400
        days = [d for d in range(d0 - tt.max_days_back - 1, d0 + 2) if tt.runs_on(trip, d)]
    running = []
    for d in days:
        arr, dep = _times(tt, trip, d, live)
        if service_date is not None or dep[0] <= t <= arr[-1]:
            running.append((d, arr, dep))
    if not running:
        raise invalid("from_trip", f"trip {trip_id!r} is not under way at depart_at (give "
                      "from_date for another service day)")
    if len(running) > 1:
        dates = ", ".join(tt.service_date(d).isoformat() for d, _, _ in running)
        raise invalid("from_date", f"trip {trip_id!r} runs at depart_at on several service "
                      f"days ({dates}): give from_date")
    day, arr, dep = running[0]
    if not dep[0] <= t < arr[-1]:
        raise invalid("from_trip", f"trip {trip_id!r} of {tt.service_date(day).isoformat()} "
                      "is not under way at depart_at")
    pos = int(np.flatnonzero(dep[:-1] <= t)[-1])
    return Aboard(trip, day, pos, arr, dep)


def _times(tt: Timetable, trip: int, day: int, live: LiveContext | None
           ) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = tt.pattern_range(trip)
    st0 = int(tt.trip_st_start[trip])
    base = int(tt.tz_reference_utc[int(tt.trip_tz[trip]), day])
    arr = base + np.asarray(tt.st_arr[st0:st0 + hi - lo], np.int64)
    dep = base + np.asarray(tt.st_dep[st0:st0 + hi - lo], np.int64)
    lv = None if live is None or not live.overlay.available else trip_live(
        live.overlay, trip, day, live.now, live.stale_after_s)
    if lv is not None and len(lv.rt_arr) == len(arr):
        arr = np.where(lv.rt_arr != NO_TIME, lv.rt_arr, arr).astype(np.int64)
        dep = np.where(lv.rt_dep != NO_TIME, lv.rt_dep, dep).astype(np.int64)
    return arr, dep


@dataclass(frozen=True)
class _Exit:
    k: int  # position the rider gets off at
    walk_to: int  # -1, or the stop a footpath leads to from there
    walk_s: int


def plan_aboard(searcher: engine.Searcher, tt: Timetable, q: engine.Query, a: Aboard
                ) -> list[engine.Journey]:
    """Journeys from aboard `a` at q.time to q.destinations (q.origins are ignored)."""
    net = searcher.net
    lo, hi = tt.pattern_range(a.trip)
    stops = np.asarray(tt.pattern_stops[lo:hi], np.int64)
    drop = np.asarray(tt.pattern_dropoff[lo:hi])
    stop_ok = q.stop_ok
    change = np.asarray(net.stop_change_s, np.int64) + q.extra_change_s
    best: dict[int, tuple[int, _Exit]] = {}  # origin stop -> (access seconds, how)
    egress: dict[int, int] = {}
    for s, e in q.destinations:
        egress[s] = min(egress.get(s, e), e)
    aboard_best: tuple[int, _Exit] | None = None  # staying on to a destination (+ a walk)

    def offer(stop: int, access: int, how: _Exit) -> None:
        if stop_ok is not None and not stop_ok[stop]:
            return
        if stop not in best or access < best[stop][0]:
            best[stop] = (access, how)

    for k in range(a.pos + 1, len(stops)):
        s = int(stops[k])
        if drop[k] == 1 or (stop_ok is not None and not stop_ok[s]):
            continue
        at = int(a.arr[k]) - q.time
        if s in egress and (aboard_best is None or at + egress[s] < aboard_best[0]):
            aboard_best = (at + egress[s], _Exit(k, -1, 0))
        offer(s, at + int(change[s]), _Exit(k, -1, 0))
        if q.walk_from_origins:
            for f in range(int(net.fp_offsets[s]), int(net.fp_offsets[s + 1])):
                to, dur = int(net.fp_to[f]), int(net.fp_duration_s[f])
                offer(to, at + dur, _Exit(k, to, dur))
                if to in egress and (aboard_best is None or
                                     at + dur + egress[to] < aboard_best[0]):
                    aboard_best = (at + dur + egress[to], _Exit(k, to, dur))
    out: list[engine.Journey] = []
    if aboard_best is not None:
        out.append(_prefixed(searcher, a, aboard_best[1], None))
    if best and q.max_transfers >= 1:
        sub = replace(q, origins=[(s, acc) for s, (acc, _) in best.items()],
                      max_transfers=q.max_transfers - 1, walk_from_origins=False)
        for j in searcher.depart_at(sub):
            if j.trips > 0:
                out.append(_prefixed(searcher, a, best[j.first_stop][1], j))
    return out


def _prefixed(searcher: engine.Searcher, a: Aboard, how: _Exit, j: engine.Journey | None
              ) -> engine.Journey:
    """The ride aboard (and a walk) before the journey j found from where it leads."""
    ride = searcher.trip_leg(a.trip, a.day, a.pos, how.k)
    ride = replace(ride, departure=int(a.dep[a.pos]), arrival=int(a.arr[how.k]))
    legs = [ride]
    if how.walk_to >= 0:
        legs.append(engine.Leg("walk", ride.to_stop, how.walk_to, ride.arrival,
                               ride.arrival + how.walk_s))
    if j is None:
        return engine.Journey(legs, ride.from_stop, legs[-1].to_stop, ride.departure,
                              legs[-1].arrival, 1)
    return engine.Journey(legs + j.legs, ride.from_stop, j.last_stop, ride.departure,
                          j.arrival, j.trips + 1)
