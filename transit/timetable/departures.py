"""Next departures at a set of stops: compiled with numba over the events index.

For each stop, its events are sorted by (time zone, departure seconds). For each service day
that can still have a departure in [t0, t1] (trips may run past 24:00 for several days), the
instant is turned into that day's local seconds, a binary search finds the first event, and
the scan keeps events whose trip runs on that day, until `limit` per day or past t1. The
candidates of all days are then sorted by instant.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from transit.timetable.timetable import Timetable


@njit(cache=True, nogil=True)
def _departures(stops, ev_offsets, ev_trip, ev_dep, ev_tz, trip_service, service_days,
                tz_ref, t0, t1, max_days_back, limit):  # pragma: no cover - compiled
    n_days = tz_ref.shape[1]
    cap = 64
    out_time = np.empty(cap, np.int64)
    out_ev = np.empty(cap, np.int64)
    out_day = np.empty(cap, np.int64)
    n = 0
    for si in range(stops.shape[0]):
        s = stops[si]
        lo = ev_offsets[s]
        hi = ev_offsets[s + 1]
        seg = lo
        while seg < hi:
            tz = ev_tz[seg]
            seg_end = seg
            while seg_end < hi and ev_tz[seg_end] == tz:
                seg_end += 1
            # service day of t0 in this zone (approximate, corrected by the day loop range)
            d_first = (t0 - tz_ref[tz, 0]) // 86400 - max_days_back - 1
            d_last = (t1 - tz_ref[tz, 0]) // 86400 + 1
            if d_first < 0:
                d_first = 0
            if d_last > n_days - 1:
                d_last = n_days - 1
            for d in range(d_first, d_last + 1):
                base = tz_ref[tz, d]
                local0 = t0 - base
                local1 = t1 - base
                # binary search first event with dep >= local0
                a = seg
                b = seg_end
                while a < b:
                    m = (a + b) >> 1
                    if ev_dep[m] < local0:
                        a = m + 1
                    else:
                        b = m
                found = 0
                e = a
                while e < seg_end and ev_dep[e] <= local1 and found < limit:
                    srv = trip_service[ev_trip[e]]
                    if (service_days[srv, d >> 3] >> (d & 7)) & 1:
                        if n == cap:
                            cap *= 2
                            nt = np.empty(cap, np.int64)
                            ne = np.empty(cap, np.int64)
                            nd = np.empty(cap, np.int64)
                            nt[:n] = out_time[:n]
                            ne[:n] = out_ev[:n]
                            nd[:n] = out_day[:n]
                            out_time, out_ev, out_day = nt, ne, nd
                        out_time[n] = base + ev_dep[e]
                        out_ev[n] = e
                        out_day[n] = d
                        n += 1
                        found += 1
                    e += 1
            seg = seg_end
    order = np.argsort(out_time[:n], kind="mergesort")
    k = min(limit, n)
    return out_time[:n][order][:k], out_ev[:n][order][:k], out_day[:n][order][:k]


class Departure(NamedTuple):
    """One departure: the event (index into ev_*), the trip, its service day, the instant (a
    named tuple: a board makes dozens per request, and a frozen dataclass took 4 times as
    long to build)."""

    event: int
    trip: int
    stop: int
    pos: int
    day: int
    time_utc: int  # Unix seconds of the scheduled departure


def next_departures(tt: Timetable, stops: np.ndarray, t0: int, t1: int, limit: int
                    ) -> list[Departure]:
    """Departures at any of `stops` between Unix times t0 and t1 inclusive, earliest first."""
    times, events, days = _departures(
        np.asarray(stops, dtype=np.int64), tt.ev_offsets, tt.ev_trip, tt.ev_dep, tt.ev_tz,
        tt.trip_service, tt.service_days, tt.tz_reference_utc, np.int64(t0), np.int64(t1),
        np.int64(tt.max_days_back), np.int64(limit))
    ev_stop = _event_stops(tt, events).tolist()
    trips = tt.ev_trip[events].tolist()
    positions = tt.ev_pos[events].tolist()
    return [Departure(e, tr, s, p, d, t) for e, tr, s, p, d, t in zip(
        events.tolist(), trips, ev_stop, positions, days.tolist(), times.tolist(), strict=True)]


def _event_stops(tt: Timetable, events: np.ndarray) -> np.ndarray:
    """The stop of each event: events are grouped by stop, so the last offset <= event."""
    return np.searchsorted(tt.ev_offsets, events, side="right") - 1


def warm_up(tt: Timetable) -> None:
    """Compile (or load from numba's cache) for this timetable's array types before the first
    request is served."""
    if len(tt.ev_offsets) > 1:
        next_departures(tt, np.zeros(1, dtype=np.int64), 0, 0, 1)
