"""transfers.txt rules for some trips or routes (types 0-3 with `from_trip_id`,
`to_trip_id`, `from_route_id` or `to_route_id`), compiled into the tables the search
kernels read.

A rule applies to a change from an arriving trip at one stop to a departing trip at the
same or another stop. The most specific matching rule decides (the spec's ranking: both
trips, a trip and a route, one trip, both routes, one route; at equal rank a rule naming a
stop wins over one naming its parent station): type 3 forbids the change, type 2 sets its
time (`min_transfer_time`), type 1 makes it immediate, type 0 keeps the default (the stop's
change time, or the footpath). Stop-only rules are compiled into footpaths and change times
(`timetable.footpaths`) and rank below all of these.

The kernels keep, besides the usual label per stop, a label per *arrival group*: the
arrivals at a stop that some rule may concern, grouped so that arrivals of one group are
treated alike by every rule (a named trip; the other trips of a named route; any other
trip, when a rule names no arriving trip or route). Within a group the earliest arrival
dominates, so one label per group and round keeps the search exact. Arrivals that no rule
concerns keep the usual label, valid for boarding any trip.

Kernel tables (one tuple of read-only int64 arrays, `TABLE_FIELDS` order):
- entries by from-stop (CSR `e_offsets`): to-stop, from trip, from route, to trip, to route
  (-1: any), rank, gap (`FORBID`, `DEFAULT`, or seconds);
- groups by stop (CSR `g_offsets`): the group's trip (-2: none) and route (-2: none), stop;
- sources by boarding stop (CSR `in_offsets`): group and the default time from the group's
  stop (-1: the change time of the stop itself; seconds of the footpath; `FORBID`: no
  footpath, only a rule's time);
- targets by group (CSR `out_offsets`): the boarding stops that list the group;
- the route of each trip.
"""

from __future__ import annotations

import numpy as np

from transit.timetable.timetable import Timetable

FORBID = np.int64(1) << 40  # gap of a forbidden change (type 3)
DEFAULT = np.int64(-1)  # gap of a rule keeping the default time (type 0)
TABLE_FIELDS = ("e_offsets", "e_to", "e_from_trip", "e_from_route", "e_to_trip", "e_to_route",
                "e_rank", "e_gap", "g_offsets", "g_trip", "g_route", "g_stop", "in_offsets",
                "in_group", "in_walk", "out_offsets", "out_stop", "trip_route")
_RANK = {(2, 0): 6, (1, 1): 5, (1, 0): 4, (0, 2): 3, (0, 1): 2}


def _csr(keys: np.ndarray, n: int) -> np.ndarray:
    counts = np.bincount(keys, minlength=n) if len(keys) else np.zeros(n, np.int64)
    return np.r_[0, np.cumsum(counts)].astype(np.int64)


def _frozen(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    out = []
    for a in arrays:
        a = np.ascontiguousarray(np.asarray(a, np.int64))
        a.setflags(write=False)
        out.append(a)
    return tuple(out)


class _Stops:
    """The stops a rule's stop field stands for (a station: its platforms)."""

    def __init__(self, tt: Timetable) -> None:
        self.parent = np.asarray(tt.stop_parent)
        self.children: dict[int, list[int]] = {}
        for c in np.flatnonzero(self.parent >= 0):
            self.children.setdefault(int(self.parent[c]), []).append(int(c))
        self.trip_route = np.asarray(tt.trip_route)

    def named(self, s: int) -> list[int]:
        return self.children.get(s, [s]) if self.parent[s] < 0 else [s]


def compile_rules(tt: Timetable, fp_offsets: np.ndarray, fp_to: np.ndarray,
                  fp_duration_s: np.ndarray) -> tuple[np.ndarray, ...]:
    """The kernel tables of the timetable's trip- and route-specific rules (types 0-3)."""
    n = len(fp_offsets) - 1
    cols = [np.asarray(tt.columns[c]).astype(np.int64) for c in (
        "transfer_from", "transfer_to", "transfer_from_route", "transfer_to_route",
        "transfer_from_trip", "transfer_to_trip", "transfer_type", "transfer_min_s")]
    stops = _Stops(tt)
    footpath: dict[tuple[int, int], int] = {}
    for s in range(n):
        for f in range(int(fp_offsets[s]), int(fp_offsets[s + 1])):
            footpath[(s, int(fp_to[f]))] = int(fp_duration_s[f])
    entries: list[tuple[int, ...]] = []
    for i in range(len(cols[0])):
        fs, ts, fr, tr, ft, tt_, kind, mins = (int(c[i]) for c in cols)
        if kind > 3 or max(fr, tr, ft, tt_) < 0:
            continue  # a stop-only rule, or an in-seat one (block continuations)
        fr = -1 if ft >= 0 else fr  # a trip named with its route: the trip decides
        tr = -1 if tt_ >= 0 else tr
        rank = _RANK[((ft >= 0) + (tt_ >= 0), (fr >= 0) + (tr >= 0))] * 4
        gap = FORBID if kind == 3 else (0 if kind == 1 else (
            mins if kind == 2 and mins >= 0 else DEFAULT))
        if fs < 0 or ts < 0:
            continue  # types 0-3 name both stops (feeds without them are refused)
        for x in stops.named(fs):
            for y in stops.named(ts):
                specific = int(x == fs) + int(y == ts)
                entries.append((x, y, ft, fr, tt_, tr, rank + specific, int(gap)))
    entries.sort(key=lambda e: e[0])
    e = np.array(entries, np.int64).reshape(-1, 8)
    groups = _groups(e, stops.trip_route)
    g_stop = np.array([g[0] for g in groups], np.int64)
    sources = _sources(groups, e, footpath)
    in_keys = np.array([q for q, _, _ in sources], np.int64)
    out = sorted((g, q) for q, g, _ in sources)
    return _frozen(
        _csr(e[:, 0], n), e[:, 1], e[:, 2], e[:, 3], e[:, 4], e[:, 5], e[:, 6], e[:, 7],
        _csr(g_stop, n), [g[1] for g in groups], [g[2] for g in groups], g_stop,
        _csr(in_keys, n), [g for _, g, _ in sources], [w for _, _, w in sources],
        _csr(np.array([g for g, _ in out], np.int64), len(groups)), [q for _, q in out],
        stops.trip_route)


def _groups(e: np.ndarray, trip_route: np.ndarray) -> list[tuple[int, int, int]]:
    """(stop, trip or -2, route or -2) of each arrival group, by stop."""
    out: set[tuple[int, int, int]] = set()
    for x, _y, ft, fr, _tt, _tr, _rank, _gap in e.tolist():
        if ft >= 0:
            out.add((x, ft, int(trip_route[ft])))
        elif fr >= 0:
            out.add((x, -2, fr))
        else:
            out.add((x, -2, -2))
    return sorted(out)


def _sources(groups: list[tuple[int, int, int]], e: np.ndarray,
             footpath: dict[tuple[int, int], int]) -> list[tuple[int, int, int]]:
    """(boarding stop, group, default time) for each place a group's arrivals may board:
    its own stop, the stops a footpath away, and the stops its rules name."""
    by_stop: dict[int, set[int]] = {}
    for x, y in e[:, :2].tolist():
        by_stop.setdefault(x, set()).add(y)
    walks: dict[int, list[tuple[int, int]]] = {}
    for (a, b), d in footpath.items():
        walks.setdefault(a, []).append((b, d))
    out = []
    for g, (x, _trip, _route) in enumerate(groups):
        targets = {x: -1}
        for b, d in walks.get(x, []):
            targets[b] = d
        for y in by_stop.get(x, ()):
            targets.setdefault(y, int(FORBID))
        out.extend((q, g, w) for q, w in targets.items())
    out.sort()
    return out

