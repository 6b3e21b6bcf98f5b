"""Stop -> departure events index (CSR), sorted per stop by (time zone, departure time)."""

from __future__ import annotations

import numpy as np


def build_events(
    n_stops: int, pattern_stop_offsets: np.ndarray, pattern_stops: np.ndarray,
    pattern_pickup: np.ndarray, trip_pattern: np.ndarray, trip_st_start: np.ndarray,
    trip_tz: np.ndarray, st_dep: np.ndarray,
) -> dict[str, np.ndarray]:
    """Every place where a trip can be boarded: not its last stop, pickup not forbidden."""
    n_trips = len(trip_pattern)
    lengths = (pattern_stop_offsets[1:] - pattern_stop_offsets[:-1])[trip_pattern]
    st_trip = np.repeat(np.arange(n_trips, dtype=np.int64), lengths)
    st_pos = np.arange(len(st_trip), dtype=np.int64) - np.repeat(trip_st_start, lengths)
    pattern_row = pattern_stop_offsets[trip_pattern[st_trip]] + st_pos
    stop = pattern_stops[pattern_row].astype(np.int64)
    boardable = (pattern_pickup[pattern_row] != 1) & (st_pos < lengths[st_trip] - 1)
    idx = np.flatnonzero(boardable)
    tz = trip_tz[st_trip[idx]].astype(np.int64)
    dep = st_dep[idx].astype(np.int64)
    order = np.lexsort((st_trip[idx], dep, tz, stop[idx]))
    idx = idx[order]
    counts = np.bincount(stop[idx], minlength=n_stops)
    return {
        "ev_offsets": np.r_[0, np.cumsum(counts)].astype(np.int64),
        "ev_trip": st_trip[idx].astype(np.int32),
        "ev_pos": st_pos[idx].astype(np.int32),
        "ev_dep": st_dep[idx].astype(np.int32),
        "ev_tz": trip_tz[st_trip[idx]].astype(np.int16),
    }
