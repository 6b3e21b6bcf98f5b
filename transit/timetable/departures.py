"""Next departures at a set of stops: compiled with numba over the events index.

For each stop, its events are sorted by (time zone, departure seconds). For each service day
that can still have a departure in [t0, t1] (trips may run past 24:00 for several days), the
instant is turned into that day's local seconds, a binary search finds the first event, and
the scan keeps events whose trip runs on that day, until `limit` per day or past t1. The
candidates of all days are then sorted by instant.

`first_departures` (the boards') keeps only the overall first `limit` while it scans: a
bounded buffer in instant order, each scan stopping as soon as its next event could not enter
it, with the routes shown and (for the look back of live data) the trip instances wanted
decided in the same pass. Ties keep the scan order, as the sort of `_departures` does.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from transit.timetable.timetable import Timetable


@njit(cache=True, nogil=True, _nrt=False)
def _zone_end(ev_tz, seg, hi):  # pragma: no cover - compiled
    """The end of the run of a stop's events in the time zone of event `seg` (a stop's
    events are sorted by zone, then departure)."""
    tz = ev_tz[seg]
    end = seg
    while end < hi and ev_tz[end] == tz:
        end += 1
    return end


@njit(cache=True, nogil=True, _nrt=False)
def _day_span(tz_ref, tz, t0, t1, max_days_back):  # pragma: no cover - compiled
    """The service days of zone `tz` that may have a departure in [t0, t1] (trips run past
    24:00 for up to `max_days_back` days), clipped to the compiled days."""
    first = max((t0 - tz_ref[tz, 0]) // 86400 - max_days_back - 1, 0)
    last = min((t1 - tz_ref[tz, 0]) // 86400 + 1, tz_ref.shape[1] - 1)
    return first, last


@njit(cache=True, nogil=True, _nrt=False)
def _first_at_or_after(ev_dep, a, b, local):  # pragma: no cover - compiled
    """The first event in [a, b) leaving at or after `local` seconds (b if none)."""
    while a < b:
        m = (a + b) >> 1
        if ev_dep[m] < local:
            a = m + 1
        else:
            b = m
    return a


@njit(cache=True, nogil=True)
def _departures(stops, ev_offsets, ev_trip, ev_dep, ev_tz, trip_service, service_days,
                tz_ref, t0, t1, max_days_back, limit):  # pragma: no cover - compiled
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
            seg_end = _zone_end(ev_tz, seg, hi)
            d_first, d_last = _day_span(tz_ref, tz, t0, t1, max_days_back)
            for d in range(d_first, d_last + 1):
                base = tz_ref[tz, d]
                local1 = t1 - base
                found = 0
                e = _first_at_or_after(ev_dep, seg, seg_end, t0 - base)
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


DAY_KEYS = 1 << 16  # a trip instance's key: trip * DAY_KEYS + service day


def live_key(trip: int, day: int) -> int:
    """The key of a trip instance among first_departures' `live_keys`."""
    return trip * DAY_KEYS + day


@njit(cache=True, nogil=True)
def _live_key_in(keys, key):  # pragma: no cover - compiled
    a = 0
    b = keys.shape[0]
    while a < b:
        m = (a + b) >> 1
        if keys[m] < key:
            a = m + 1
        else:
            b = m
    return a < keys.shape[0] and keys[a] == key


@njit(cache=True, nogil=True)
def _first(stops, ev_offsets, ev_trip, ev_dep, ev_tz, ev_pos, trip_service, service_days,
           tz_ref, t0, t1, max_days_back, limit, trip_route, route_ok, live_keys,
           only_live):  # pragma: no cover - compiled
    """_departures' first `limit` departures, found with a buffer of `limit` (see the
    module's docstring): rows instants, events, trips, stops, positions, days. `route_ok` (empty:
    all) masks routes; with `only_live`, only trip instances whose live_key is in the sorted
    `live_keys`."""
    # one array answered (each array handed back costs the call a Python object): rows
    # instant, event, trip, stop, position, day
    buf = np.empty((6, max(limit, 1)), np.int64)
    n = 0
    any_route = route_ok.shape[0] == 0
    for si in range(stops.shape[0]):
        s = stops[si]
        lo = ev_offsets[s]
        hi = ev_offsets[s + 1]
        seg = lo
        while seg < hi:
            tz = ev_tz[seg]
            seg_end = _zone_end(ev_tz, seg, hi)
            d_first, d_last = _day_span(tz_ref, tz, t0, t1, max_days_back)
            dep_first = ev_dep[seg]
            dep_last = ev_dep[seg_end - 1]
            for d in range(d_first, d_last + 1):
                base = tz_ref[tz, d]
                local0 = t0 - base
                local1 = t1 - base
                if dep_last < local0 or dep_first > local1:
                    continue  # no event of this segment falls in the window on day d
                found = 0
                e = _first_at_or_after(ev_dep, seg, seg_end, local0)
                while e < seg_end and ev_dep[e] <= local1 and found < limit:
                    t = base + ev_dep[e]
                    if n == limit and t >= buf[0, n - 1]:
                        break  # this scan's next events come later still: none enters
                    trip = ev_trip[e]
                    srv = trip_service[trip]
                    if ((service_days[srv, d >> 3] >> (d & 7)) & 1
                            and (any_route or route_ok[trip_route[trip]])
                            and (not only_live or _live_key_in(live_keys, trip * DAY_KEYS + d))):
                        # after the instants <= t already kept (the scan order for ties)
                        i = n if n < limit else limit - 1
                        while i > 0 and buf[0, i - 1] > t:
                            for row in range(6):
                                buf[row, i] = buf[row, i - 1]
                            i -= 1
                        buf[0, i] = t
                        buf[1, i] = e
                        buf[2, i] = trip
                        buf[3, i] = s
                        buf[4, i] = ev_pos[e]
                        buf[5, i] = d
                        if n < limit:
                            n += 1
                        found += 1
                    e += 1
            seg = seg_end
    return buf[:, :n]


class Found(NamedTuple):
    """first_departures' answer: one entry per departure, earliest first, as lists."""

    time: list[int]  # Unix seconds of the scheduled departure
    event: list[int]  # index into ev_*
    trip: list[int]
    stop: list[int]
    pos: list[int]
    day: list[int]


NO_ROUTES = np.zeros(0, dtype=np.bool_)
NO_KEYS = np.zeros(0, dtype=np.int64)


def first_departures(tt: Timetable, stops: np.ndarray, t0: int, t1: int, limit: int,
                     route_ok: np.ndarray | None = None, live_keys: np.ndarray | None = None
                     ) -> Found:
    """The first `limit` departures at any of `stops` between Unix times t0 and t1
    inclusive, earliest first (ties in next_departures' order): of the routes `route_ok`
    allows (None: all); with `live_keys` (sorted live_key values), of those trip instances
    only."""
    arrays = tt.cache.get(_ARRAYS)
    if arrays is None:  # read once per version (a column is a dict look-up away)
        arrays = tt.cache[_ARRAYS] = (
            tt.ev_offsets, tt.ev_trip, tt.ev_dep, tt.ev_tz, tt.ev_pos, tt.trip_service,
            tt.service_days, tt.tz_reference_utc)
    offsets, trip, dep, tz, pos, service, days, tz_ref = arrays  # type: ignore[misc]
    # plain ints: numba types a numpy scalar argument several times slower
    out = _first(np.asarray(stops, dtype=np.int64), offsets, trip, dep, tz, pos, service, days,
                 tz_ref, int(t0), int(t1), tt.max_days_back, int(limit), tt.trip_route,
                 NO_ROUTES if route_ok is None else route_ok,
                 NO_KEYS if live_keys is None else live_keys, live_keys is not None)
    return Found(*out.tolist())


_ARRAYS = ("first_departures arrays",)


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
        for route_ok in (None, np.ones(len(tt.route_type), dtype=np.bool_)):
            first_departures(tt, np.zeros(1, dtype=np.int64), 0, 0, 1, route_ok)
            first_departures(tt, np.zeros(1, dtype=np.int64), 0, 0, 1, route_ok, NO_KEYS)
