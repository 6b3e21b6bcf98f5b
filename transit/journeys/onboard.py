"""Journeys that start aboard a vehicle ("I am on this trip now": `from_trip`).

The rider is on a trip instance at `depart_at`: the first leg rides it on from the last stop
it left (by live times when there are some) and the rider may get off at any later stop
where drop-off is allowed, or stay seated into the trips its vehicle runs next. The engine
searches from there as if the rider had arrived by that trip (`search.Seed`): the change off
it follows the same rules as any change (stop change times, footpaths, and the trip- and
route-specific transfers.txt rules). Staying aboard to a destination is a journey of its own.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from transit.api.problems import invalid, not_found
from transit.realtime.context import LiveContext
from transit.realtime.matching import trip_live
from transit.realtime.overlay import NO_TIME
from transit.routing import search as engine
from transit.timetable.timetable import Timetable


def locate(tt: Timetable, trip_id: str, service_date: date | None, t: int,
           live: LiveContext | None) -> engine.Seed:
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
    return engine.Seed(trip, day, pos, arr, dep)


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


def plan_aboard(searcher: engine.Searcher, q: engine.Query, a: engine.Seed
                ) -> list[engine.Journey]:
    """Journeys from aboard `a` at q.time to q.destinations (q.origins are ignored)."""
    return searcher.depart_aboard(q, a)
