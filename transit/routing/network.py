"""The arrays RAPTOR reads, gathered from a timetable once per version."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from transit.routing.transfer_rules import TABLE_FIELDS, compile_rules
from transit.timetable.timetable import Timetable


@dataclass(frozen=True)
class Network:
    """Plain arrays (indexes as in the timetable); the search kernels take these only."""

    pattern_stop_offsets: np.ndarray
    pattern_stops: np.ndarray
    pattern_pickup: np.ndarray
    pattern_dropoff: np.ndarray
    pattern_trip_offsets: np.ndarray
    trip_st_start: np.ndarray
    trip_tz: np.ndarray
    trip_service: np.ndarray
    trip_next_in_block: np.ndarray
    trip_pattern: np.ndarray
    st_arr: np.ndarray
    st_dep: np.ndarray
    service_days: np.ndarray
    tz_reference_utc: np.ndarray
    sp_offsets: np.ndarray
    sp_pattern: np.ndarray
    sp_pos: np.ndarray
    fp_offsets: np.ndarray
    fp_to: np.ndarray
    fp_duration_s: np.ndarray
    fpi_offsets: np.ndarray
    fpi_from: np.ndarray
    fpi_duration_s: np.ndarray
    stop_change_s: np.ndarray
    ev_offsets: np.ndarray
    ev_trip: np.ndarray
    ev_dep: np.ndarray
    ev_tz: np.ndarray
    thr_pattern_stop_offsets: np.ndarray
    thr_pattern_stops: np.ndarray
    thr_pattern_pickup: np.ndarray
    thr_pattern_dropoff: np.ndarray
    thr_pattern_trip_offsets: np.ndarray
    thr_pattern_join: np.ndarray
    thr_pattern_base: np.ndarray
    thr_trip_st_start: np.ndarray
    thr_st_arr: np.ndarray
    thr_st_dep: np.ndarray
    thr_trip_first: np.ndarray
    thr_trip_second: np.ndarray
    thr_sp_offsets: np.ndarray
    thr_sp_pattern: np.ndarray
    thr_sp_pos: np.ndarray
    thr_pattern_next_classes: np.ndarray
    thr_pattern_prev_classes: np.ndarray
    thr_trip_next_class: np.ndarray
    thr_trip_prev_class: np.ndarray
    max_days_back: int
    thr_tz: np.ndarray = None  # type: ignore[assignment]  # derived in `of`
    thr_service: np.ndarray = None  # type: ignore[assignment]
    # trip- and route-specific transfers.txt rules as the kernels read them (`transfer_rules`)
    rules: tuple[np.ndarray, ...] = ()
    # the search indexes stored with the version (`network_indexes`; empty: derive them)
    derived: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def _arrays(cls, tt: Timetable) -> dict[str, np.ndarray]:
        names = [f for f in cls.__dataclass_fields__
                 if f not in ("max_days_back", "thr_tz", "thr_service", "rules", "derived")]
        return {n: np.asarray(getattr(tt, n)) for n in names}

    @classmethod
    def of(cls, tt: Timetable) -> Network:
        """The network of a version, with the indexes stored with it (`network_indexes.of`:
        mapped, not derived again in each process)."""
        from transit.routing import network_indexes

        derived = network_indexes.of(tt)
        rules = tuple(derived[f"rule_{f}"] for f in TABLE_FIELDS)
        return cls(**cls._arrays(tt), max_days_back=tt.max_days_back,
                   thr_tz=derived["thr_tz"], thr_service=derived["thr_service"], rules=rules,
                   derived=derived)

    @classmethod
    def computed(cls, tt: Timetable) -> Network:
        """The network of a version with what it derives computed here (no stored indexes):
        what the ingest stores, and what a version compiled before them is served with."""
        arrays = cls._arrays(tt)
        first = arrays["thr_trip_first"]
        # per through trip: its first trip's zone and service (read-only like the rest, so
        # the kernels see one array type for both pattern sets)
        thr_tz = np.ascontiguousarray(arrays["trip_tz"][first])
        thr_service = np.ascontiguousarray(arrays["trip_service"][first])
        thr_tz.setflags(write=False)
        thr_service.setflags(write=False)
        rules = compile_rules(tt, arrays["fp_offsets"], arrays["fp_to"],
                              arrays["fp_duration_s"])
        return cls(**arrays, max_days_back=tt.max_days_back, thr_tz=thr_tz,
                   thr_service=thr_service, rules=rules)

    @property
    def n_stops(self) -> int:
        return len(self.sp_offsets) - 1

    @property
    def n_trips(self) -> int:
        return len(self.trip_st_start)
