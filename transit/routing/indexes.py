"""Indexes the search kernels read, derived once per network (the `Searcher` holds them):
the stop times by position within each pattern, and each stop's boarding and alighting
places. Plain numpy; the kernels are in `raptor`."""

from __future__ import annotations

import numpy as np


def stop_time_rows(pattern_stop_offsets: np.ndarray, pattern_trip_offsets: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(trip, pattern, position) of every stop time of the patterns' trips, trip by trip
    (a trip's stop times are the rows `trip_st_start[trip] + position`)."""
    length = np.diff(pattern_stop_offsets).astype(np.int64)
    n_trips = np.diff(pattern_trip_offsets).astype(np.int64)
    trip_pat = np.repeat(np.arange(len(length)), n_trips)
    per_trip = length[trip_pat]
    trip = np.repeat(np.arange(len(trip_pat)), per_trip)
    pos = np.arange(int(per_trip.sum())) - np.repeat(np.cumsum(per_trip) - per_trip, per_trip)
    return trip, trip_pat[trip], pos


def time_columns(pattern_stop_offsets: np.ndarray, pattern_trip_offsets: np.ndarray,
                 trip_st_start: np.ndarray, st_arr: np.ndarray, st_dep: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stop times again, pattern by pattern and within it position by position (trips in
    pattern order): (offset per pattern, departures, arrivals). Trip t of pattern p (trips
    lo..hi) is at `offsets[p] + pos * (hi - lo) + t - lo`. Finding a trip by time reads a
    short contiguous run instead of one row per trip."""
    trip, pat, pos = stop_time_rows(pattern_stop_offsets, pattern_trip_offsets)
    length = np.diff(pattern_stop_offsets).astype(np.int64)
    n_trips = np.diff(pattern_trip_offsets).astype(np.int64)
    offsets = np.zeros(len(length) + 1, np.int64)
    np.cumsum(length * n_trips, out=offsets[1:])
    n_rows = len(trip)
    at = offsets[pat] + pos * n_trips[pat] + trip - pattern_trip_offsets[pat]
    src = np.asarray(trip_st_start)[trip] + pos
    dep = np.empty(n_rows, np.asarray(st_dep).dtype)
    arr = np.empty(n_rows, np.asarray(st_arr).dtype)
    dep[at] = np.asarray(st_dep)[src]
    arr[at] = np.asarray(st_arr)[src]
    for a in (offsets, dep, arr):
        a.setflags(write=False)
    return offsets, dep, arr


def stop_places(sp_offsets: np.ndarray, sp_pattern: np.ndarray, sp_pos: np.ndarray,
                pattern_stop_offsets: np.ndarray, rule: np.ndarray, limit: np.ndarray,
                forward: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (pattern, position) places of each stop where a search may board (forward) or
    alight (backward), as CSR: `rule` is the pickup (drop-off) type per pattern stop, 1
    forbidding it; forward, positions >= limit[p] are left out (a last stop, a through
    trip's joint), backward, positions <= limit[p] (a first stop, a joint)."""
    n_stops = len(sp_offsets) - 1
    stop_of = np.repeat(np.arange(n_stops), np.diff(sp_offsets))
    pattern = np.asarray(sp_pattern)
    pos = np.asarray(sp_pos)
    keep = np.asarray(rule)[np.asarray(pattern_stop_offsets)[pattern] + pos] != 1
    keep &= (pos < limit[pattern]) if forward else (pos > limit[pattern])
    offsets = np.zeros(n_stops + 1, np.int64)
    np.cumsum(np.bincount(stop_of[keep], minlength=n_stops), out=offsets[1:])
    out = (offsets, np.ascontiguousarray(pattern[keep]), np.ascontiguousarray(pos[keep]))
    for a in out:
        a.setflags(write=False)
    return out
