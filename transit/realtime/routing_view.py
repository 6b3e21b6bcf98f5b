"""The live overlay as the journey search sees it (LiveTrips), built once per snapshot."""

from __future__ import annotations

import weakref

import numpy as np

from transit.realtime.matching import fresh
from transit.realtime.overlay import NO_TIME, STOP_SKIPPED, Overlay, TripLive
from transit.routing.live_trips import LiveTrips
from transit.timetable.timetable import Timetable

_cache: weakref.WeakKeyDictionary[Overlay, tuple[str, int, LiveTrips, list[TripLive]]] = \
    weakref.WeakKeyDictionary()


def live_trips(tt: Timetable, overlay: Overlay, now: int, stale_after_s: int
               ) -> tuple[LiveTrips, list[TripLive]]:
    """LiveTrips for the fresh part of the overlay, and the TripLive behind each instance."""
    hit = _cache.get(overlay)
    bucket = now // 15  # freshness changes slowly; rebuild at most every 15 s per snapshot
    if hit is not None and hit[0] == tt.version and hit[1] == bucket:
        return hit[2], hit[3]
    masked: list[tuple[int, int]] = []
    instances = []
    behind: list[TripLive] = []
    for (t, day), lv in overlay.trips.items():
        if not fresh(lv, now, stale_after_s):
            continue
        masked.append((t, day))
        if lv.status in ("canceled", "deleted"):
            continue
        lo, hi = tt.pattern_range(t)
        skipped = lv.stop_status == STOP_SKIPPED
        arr = np.where(lv.rt_arr != NO_TIME, lv.rt_arr, lv.sched_arr)
        dep = np.where(lv.rt_dep != NO_TIME, lv.rt_dep, lv.sched_dep)
        board = (np.asarray(tt.pattern_pickup[lo:hi]) != 1) & ~skipped
        alight = (np.asarray(tt.pattern_dropoff[lo:hi]) != 1) & ~skipped
        instances.append((t, day, lv.stops, arr, dep, board, alight))
        behind.append(lv)
    for lv in overlay.added:
        if not fresh(lv, now, stale_after_s):
            continue
        ones = np.ones(len(lv.stops), np.bool_)
        instances.append((-1, lv.day, lv.stops, lv.rt_arr, lv.rt_dep, ones, ones))
        behind.append(lv)
    built = LiveTrips.build(len(tt.trip_st_start), len(tt.stop_id), masked, instances)
    _cache[overlay] = (tt.version, bucket, built, behind)
    return built, behind
