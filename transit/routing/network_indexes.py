"""The search indexes derived from a network, computed once when a version is compiled and
stored with it (columns `rx_*`), so that every worker maps them read-only from the page
cache instead of deriving its own copy at start (time, and private memory per worker).

What is stored: the time columns of both pattern sets (`indexes.time_columns`), the
boarding and alighting places per stop (`indexes.stop_places`), the previous trip in each
block, the lower-bound graph (`lower_bounds`), the trip- and route-specific transfer rules
(`transfer_rules`), each through trip's zone and service, the change time per stop and the
first trips of the through trips as int64. Integer widths are the narrowest the kernels
read safely: the lower-bound graph and the previous trip in block are int32 (the kernels
add them to int64 times; numba computes int32 arithmetic in int64).

A version compiled by an older release has none of them: `of` then computes them in the
process (and says so in the log); the arrays are the same either way (tests compare them).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from transit.routing import indexes
from transit.routing.lower_bounds import LowerBoundGraph
from transit.routing.transfer_rules import TABLE_FIELDS

if TYPE_CHECKING:
    from transit.routing.network import Network
    from transit.timetable.timetable import Timetable

log = logging.getLogger("transit.routing")

PREFIX = "rx_"
LOWER_BOUNDS = ("in_offsets", "in_from", "in_w", "out_offsets", "out_to", "out_w")
PLACES = ("offsets", "pattern", "pos")
TIME_COLUMNS = ("offsets", "dep", "arr")
NAMES: tuple[str, ...] = (
    "thr_tz", "thr_service", "prev_in_block", "change_s", "thr_first",
    *(f"rule_{f}" for f in TABLE_FIELDS),
    *(f"lb_{f}" for f in LOWER_BOUNDS),
    *(f"{s}_{f}" for s in ("cols", "thr_cols") for f in TIME_COLUMNS),
    *(f"{s}_{f}" for s in ("board_at", "alight_at", "thr_board_at", "thr_alight_at")
      for f in PLACES),
)


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


def _int32(a: np.ndarray) -> np.ndarray:
    """a as int32, whose values all fit (checked: a silent wrap would corrupt the bounds)."""
    a = np.asarray(a)
    if len(a) and (a.min() < np.iinfo(np.int32).min or a.max() > np.iinfo(np.int32).max):
        raise ValueError(f"values out of int32 range: {a.min()}..{a.max()}")
    return a.astype(np.int32)


def build(net: Network) -> dict[str, np.ndarray]:
    """Every index of NAMES, derived from a network (whose thr_tz, thr_service and rules
    are set: `Network.computed`)."""
    out: dict[str, np.ndarray] = {"thr_tz": net.thr_tz, "thr_service": net.thr_service}
    out.update({f"rule_{f}": a for f, a in zip(TABLE_FIELDS, net.rules, strict=True)})
    # int32 like trip_next_in_block: both directions' pattern sets then have one type
    prev = np.full(net.n_trips, -1, np.int32)
    has_next = net.trip_next_in_block >= 0
    prev[np.asarray(net.trip_next_in_block)[has_next]] = np.flatnonzero(has_next)
    out["prev_in_block"] = prev
    out["change_s"] = np.asarray(net.stop_change_s).astype(np.int64)
    out["thr_first"] = np.asarray(net.thr_trip_first, np.int64)
    lb = LowerBoundGraph.of(net)
    # stops and seconds between consecutive stops: int32 (the Dijkstra sums in int64)
    out.update({f"lb_{f}": _int32(getattr(lb, f)) for f in LOWER_BOUNDS})
    cols = indexes.time_columns(net.pattern_stop_offsets, net.pattern_trip_offsets,
                                net.trip_st_start, net.st_arr, net.st_dep)
    thr_cols = indexes.time_columns(net.thr_pattern_stop_offsets, net.thr_pattern_trip_offsets,
                                    net.thr_trip_st_start, net.thr_st_arr, net.thr_st_dep)
    out.update({f"cols_{f}": a for f, a in zip(TIME_COLUMNS, cols, strict=True)})
    out.update({f"thr_cols_{f}": a for f, a in zip(TIME_COLUMNS, thr_cols, strict=True)})
    length = np.diff(net.pattern_stop_offsets)
    sp = (net.sp_offsets, net.sp_pattern, net.sp_pos, net.pattern_stop_offsets)
    thr_sp = (net.thr_sp_offsets, net.thr_sp_pattern, net.thr_sp_pos,
              net.thr_pattern_stop_offsets)
    places = {
        "board_at": indexes.stop_places(*sp, net.pattern_pickup, length - 1, True),
        "alight_at": indexes.stop_places(*sp, net.pattern_dropoff, np.zeros_like(length),
                                         False),
        "thr_board_at": indexes.stop_places(*thr_sp, net.thr_pattern_pickup,
                                            net.thr_pattern_join, True),
        "thr_alight_at": indexes.stop_places(*thr_sp, net.thr_pattern_dropoff,
                                             net.thr_pattern_join, False),
    }
    for s, arrays in places.items():
        out.update({f"{s}_{f}": a for f, a in zip(PLACES, arrays, strict=True)})
    return {n: _frozen(out[n]) for n in NAMES}


def stored(columns: Mapping[str, object]) -> dict[str, np.ndarray] | None:
    """The indexes stored with a version (its columns), or None when it has not all."""
    if not all(PREFIX + n in columns for n in NAMES):
        return None
    return {n: np.asarray(columns[PREFIX + n]) for n in NAMES}


def columns_of(tt: Timetable) -> dict[str, np.ndarray]:
    """What the ingest stores with a version: the indexes, as `rx_*` columns."""
    from transit.routing.network import Network

    return {PREFIX + n: a for n, a in build(Network.computed(tt)).items()}


def of(tt: Timetable) -> dict[str, np.ndarray]:
    """The version's stored indexes; computed here (logged) for one compiled before they
    were stored."""
    found = stored(tt.columns)
    if found is not None:
        return found
    from transit.routing.network import Network

    log.info("version %s has no stored search indexes (compiled by an older release): "
             "computing them in this process", tt.version)
    return build(Network.computed(tt))
