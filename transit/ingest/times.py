"""GTFS clock times ("25:10:00") as seconds after the service day's reference (noon - 12 h)."""

from __future__ import annotations

import numpy as np
import pandas as pd

_TIME = r"^\s*(\d{1,3}):([0-5]\d):([0-5]\d)\s*$"
MISSING = -1


def parse_times(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parse a column of GTFS times.

    Returns (seconds, bad) where seconds is int32 with MISSING for empty cells and `bad`
    marks non-empty cells that are not a time.
    """
    text = values.astype("string")
    empty = text.isna() | (text.str.strip() == "")
    parts = text.str.extract(_TIME)
    ok = parts[0].notna()
    bad = (~empty & ~ok).to_numpy(dtype=bool)
    seconds = np.full(len(values), MISSING, dtype=np.int32)
    okv = ok.to_numpy(dtype=bool)
    if okv.any():
        hms = parts[okv].astype(np.int64).to_numpy()
        seconds[okv] = (hms[:, 0] * 3600 + hms[:, 1] * 60 + hms[:, 2]).astype(np.int32)
    return seconds, bad


def interpolate_missing(trip_codes: np.ndarray, arrival: np.ndarray, departure: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Fill untimed stop_times linearly by stop index, per trip, from the previous timed stop's
    departure to the next timed stop's arrival.

    `trip_codes` must group each trip's rows together in stop_sequence order. A row is untimed
    when both times are MISSING. Rows before the first or after the last timed stop of a trip
    stay MISSING (the validator reports them: GTFS requires those stops to be timed).
    """
    n = len(arrival)
    arr = arrival.astype(np.int64).copy()
    dep = departure.astype(np.int64).copy()
    timed = arr != MISSING
    if timed.all() or n == 0:
        return arr.astype(np.int32), dep.astype(np.int32)
    idx = np.arange(n)
    trip_start = np.r_[True, trip_codes[1:] != trip_codes[:-1]]
    trip_end = np.r_[trip_codes[1:] != trip_codes[:-1], True]
    prev = np.maximum.accumulate(np.where(timed, idx, -1))
    start_of_trip = np.maximum.accumulate(np.where(trip_start, idx, 0))
    prev = np.where(prev >= start_of_trip, prev, -1)
    nxt = np.minimum.accumulate(np.where(timed, idx, n)[::-1])[::-1]
    end_of_trip = np.minimum.accumulate(np.where(trip_end, idx, n)[::-1])[::-1]
    nxt = np.where(nxt <= end_of_trip, nxt, n)
    fill = ~timed & (prev >= 0) & (nxt < n)
    p, q = prev[fill], nxt[fill]
    frac = (idx[fill] - p) / (q - p)
    t = np.round(dep[p] + frac * (arr[q] - dep[p])).astype(np.int64)
    arr[fill] = t
    dep[fill] = t
    return arr.astype(np.int32), dep.astype(np.int32)
