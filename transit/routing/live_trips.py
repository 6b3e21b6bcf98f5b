"""Trip instances as live data has them, in the form the search kernels read.

Each instance (a delayed or re-platformed scheduled trip, or an added one) is its own
one-trip pattern with absolute times; the scheduled instances it replaces (and cancelled
ones) are masked out of the timetable's patterns by (trip, day) key.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KEY_DAYS = 65536  # key = trip * KEY_DAYS + day, as the kernels compute it


@dataclass(frozen=True)
class LiveTrips:
    trip_has_rt: np.ndarray  # bool per scheduled trip: some instance of it is masked
    masked: np.ndarray  # sorted int64 keys of masked (trip, day) instances
    offsets: np.ndarray  # CSR over instances
    stops: np.ndarray
    arr: np.ndarray  # Unix seconds
    dep: np.ndarray
    board_ok: np.ndarray  # bool per call
    alight_ok: np.ndarray
    trip: np.ndarray  # scheduled trip of each instance, -1 for an added trip
    day: np.ndarray  # its service day
    sp_offsets: np.ndarray  # stop -> (instance, position)
    sp_inst: np.ndarray
    sp_pos: np.ndarray

    @classmethod
    def empty(cls, n_trips: int, n_stops: int) -> LiveTrips:
        return cls.build(n_trips, n_stops, [], [])

    @classmethod
    def build(cls, n_trips: int, n_stops: int, masked: list[tuple[int, int]],
              instances: list[tuple[int, int, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                    np.ndarray]]) -> LiveTrips:
        """`instances`: (trip or -1, day, stops, arr, dep, board_ok, alight_ok)."""
        has = np.zeros(n_trips, np.bool_)
        keys = np.array(sorted({t * KEY_DAYS + d for t, d in masked}), np.int64)
        for t, _ in masked:
            has[t] = True
        lengths = [len(i[2]) for i in instances]
        offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)

        def cat(k: int, dtype: type) -> np.ndarray:
            return np.concatenate([i[k] for i in instances]).astype(dtype) if instances \
                else np.zeros(0, dtype)

        stops = cat(2, np.int64)
        inst_of = np.repeat(np.arange(len(instances)), lengths)
        pos_of = np.arange(len(stops)) - np.repeat(offsets[:-1], lengths)
        order = np.lexsort((pos_of, inst_of, stops)) if len(stops) else np.zeros(0, np.int64)
        counts = np.bincount(stops, minlength=n_stops) if len(stops) else np.zeros(
            n_stops, np.int64)
        return cls(
            trip_has_rt=has, masked=keys, offsets=offsets, stops=stops,
            arr=cat(3, np.int64), dep=cat(4, np.int64), board_ok=cat(5, np.bool_),
            alight_ok=cat(6, np.bool_),
            trip=np.array([i[0] for i in instances], np.int64),
            day=np.array([i[1] for i in instances], np.int64),
            sp_offsets=np.r_[0, np.cumsum(counts)].astype(np.int64),
            sp_inst=inst_of[order].astype(np.int64), sp_pos=pos_of[order].astype(np.int64))

    def kernel_args(self, rt_ok: np.ndarray) -> tuple[np.ndarray, ...]:
        return (self.trip_has_rt, self.masked, self.offsets, self.stops, self.arr, self.dep,
                self.board_ok, self.alight_ok, rt_ok, self.sp_offsets, self.sp_inst,
                self.sp_pos)
