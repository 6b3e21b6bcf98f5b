"""Indexes that journey planning walks: stop -> (pattern, position), incoming footpaths,
block continuations and through trips, wheelchair access of each stop."""

from __future__ import annotations

import numpy as np

from transit.timetable.storage import Column
from transit.timetable.strings import StringColumn
from transit.timetable.through import build_through_patterns


def build_routing_indexes(cols: dict[str, Column]) -> dict[str, np.ndarray]:
    n_stops = len(cols["stop_id"])
    out = _stop_patterns(n_stops, np.asarray(cols["pattern_stop_offsets"]),
                         np.asarray(cols["pattern_stops"]), "sp")
    # incoming footpaths (arrive_by searches walk them backwards)
    fp_off = np.asarray(cols["fp_offsets"])
    fp_from = np.repeat(np.arange(n_stops), np.diff(fp_off))
    fp_to = np.asarray(cols["fp_to"]).astype(np.int64)
    order = np.lexsort((fp_from, fp_to))
    out["fpi_offsets"] = np.r_[0, np.cumsum(np.bincount(fp_to, minlength=n_stops))].astype(
        np.int64)
    out["fpi_from"] = fp_from[order].astype(np.int32)
    out["fpi_duration_s"] = np.asarray(cols["fp_duration_s"])[order]
    # a platform without its own wheelchair_boarding takes its parent station's
    wc = np.asarray(cols["stop_wheelchair"]).copy()
    parent = np.asarray(cols["stop_parent"])
    inherit = (wc == 0) & (parent >= 0)
    wc[inherit] = wc[parent[inherit]]
    out["stop_wheelchair_eff"] = wc
    out["trip_next_in_block"] = _block_continuations(cols)
    through = build_through_patterns(cols, out["trip_next_in_block"])
    out.update(through)
    out.update(_stop_patterns(len(cols["stop_id"]), through["thr_pattern_stop_offsets"],
                              through["thr_pattern_stops"], "thr_sp"))
    return out


def _stop_patterns(n_stops: int, offsets: np.ndarray, stops: np.ndarray, prefix: str
                   ) -> dict[str, np.ndarray]:
    """stop -> (pattern, position) as CSR: `{prefix}_offsets`, `_pattern`, `_pos`."""
    stops = stops.astype(np.int64)
    rows = np.arange(len(stops))
    pattern = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    order = np.lexsort((rows, stops))
    return {
        f"{prefix}_offsets": np.r_[0, np.cumsum(np.bincount(stops, minlength=n_stops))
                                   ].astype(np.int64),
        f"{prefix}_pattern": pattern[order].astype(np.int32),
        f"{prefix}_pos": (rows - offsets[pattern])[order].astype(np.int32),
    }


def _block_continuations(cols: dict[str, Column]) -> np.ndarray:
    """For each trip, the trip of the same block (same operator and block_id) that starts
    where it ends, no earlier than it arrives, and soonest after: a rider stays seated.
    transfers.txt overrides it: an in-seat transfer (type 4) from one trip to another that
    starts where it ends, no earlier, on the same service, makes that the continuation
    (blocks or not); type 5 (alight and board again) removes a continuation."""
    nxt = _same_block_continuations(cols)
    # transfers.txt: type 4 (in-seat) joins two trips, type 5 forbids staying seated
    typ = np.asarray(cols["transfer_type"])
    a, b = np.asarray(cols["transfer_from_trip"]), np.asarray(cols["transfer_to_trip"])
    pso = np.asarray(cols["pattern_stop_offsets"])
    pstops = np.asarray(cols["pattern_stops"])
    tp = np.asarray(cols["trip_pattern"])
    st0 = np.asarray(cols["trip_st_start"])
    arr, dep = np.asarray(cols["st_arr"]), np.asarray(cols["st_dep"])
    svc = np.asarray(cols["trip_service"])
    for i in np.flatnonzero(((typ == 4) | (typ == 5)) & (a >= 0) & (b >= 0)):
        t, u = int(a[i]), int(b[i])
        if typ[i] == 5:
            if nxt[t] == u:
                nxt[t] = -1
            continue
        n_st = pso[tp[t] + 1] - pso[tp[t]]
        # the vehicle goes on from where the first trip ends, on the same service days
        # (one vehicle: a trip continues into at most one trip and from at most one)
        if pstops[pso[tp[t] + 1] - 1] == pstops[pso[tp[u]]] and \
                dep[st0[u]] >= arr[st0[t] + n_st - 1] and svc[u] == svc[t] and \
                not np.any(nxt == u):
            nxt[t] = u
    return nxt


def _same_block_continuations(cols: dict[str, Column]) -> np.ndarray:
    blocks = cols["trip_block"]
    assert isinstance(blocks, StringColumn)
    n = len(blocks)
    nxt = np.full(n, -1, dtype=np.int32)
    names = blocks.to_list()
    with_block = [t for t in range(n) if names[t]]
    if not with_block:
        return nxt
    pso = np.asarray(cols["pattern_stop_offsets"])
    pstops = np.asarray(cols["pattern_stops"])
    tp = np.asarray(cols["trip_pattern"])
    st0 = np.asarray(cols["trip_st_start"])
    arr, dep = np.asarray(cols["st_arr"]), np.asarray(cols["st_dep"])
    op = np.asarray(cols["trip_operator"])
    svc = np.asarray(cols["trip_service"])
    groups: dict[tuple[int, str], list[int]] = {}
    for t in with_block:
        groups.setdefault((int(op[t]), names[t]), []).append(t)
    for trips in groups.values():
        if len(trips) < 2:
            continue
        first = {t: (int(pstops[pso[tp[t]]]), int(dep[st0[t]])) for t in trips}
        ordered = sorted(trips, key=lambda t: first[t][1])
        for t in ordered:
            n_st = pso[tp[t] + 1] - pso[tp[t]]
            last_stop = int(pstops[pso[tp[t] + 1] - 1])
            end = int(arr[st0[t] + n_st - 1])
            best = None
            for u in ordered:
                s, d = first[u]
                if u != t and s == last_stop and d >= end and svc[u] == svc[t]:
                    best = u
                    break
            if best is not None:
                nxt[t] = best
    return nxt
