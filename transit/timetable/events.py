"""Stop -> departure events index (CSR), sorted per stop by (time zone, departure time).

Per event: ev_trip, ev_dep (int32), ev_pos (int16), ev_tz (int8): 10 bytes, not 14."""

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
    pos, zone = st_pos[idx], trip_tz[st_trip[idx]]
    return {
        "ev_offsets": np.r_[0, np.cumsum(counts)].astype(np.int64),
        "ev_trip": st_trip[idx].astype(np.int32),
        "ev_pos": pos.astype(_narrowest(pos, np.int16, np.int32)),
        "ev_dep": st_dep[idx].astype(np.int32),
        "ev_tz": zone.astype(_narrowest(zone, np.int8, np.int16)),
    }


def _narrowest(values: np.ndarray, *dtypes: type) -> type:
    """The first of `dtypes` holding every value (a position within a pattern fits int16,
    a time zone's index int8, on any real network; the wider one is kept for the others)."""
    for dtype in dtypes[:-1]:
        info = np.iinfo(dtype)
        if not len(values) or (values.min() >= info.min and values.max() <= info.max):
            return dtype
    return dtypes[-1]
