"""Footpaths between stops: the operators' transfers.txt where given, else walking.

Walking links every pair of boardable stops within `radius_m` (any operators; 0 turns
walking off), timed as the straight-line distance times `detour` at `speed_m_s`, and never
less than the change time of either stop (changing vehicles takes that long however near
the platforms are). transfers.txt wins for its pairs: type 0 (recommended) keeps the walk,
type 1 (timed) is immediate, type 2 with `min_transfer_time` sets the time, type 3 forbids the
transfer. A rule between parent stations applies to all their platforms, and a rule naming a
platform wins over one naming its station (the spec's precedence: the more specific stop).
A rule from a stop to itself sets that stop's minimum change time; type 3 there forbids
changing vehicles at the stop at all (`NO_CHANGE`). Trip- and route-specific rules are not
footpaths: the caller leaves them out (in-seat transfers, types 4 and 5, join trips as block
continuations, see `routing_indexes`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from transit.timetable.geo import haversine_m, pairs_within

KIND_WALK = 0
KIND_TRANSFERS_TXT = 1
NO_CHANGE = 1 << 30  # change time of a stop where transfers.txt forbids changing vehicles
PREFERRED_NO, PREFERRED_RECOMMENDED, PREFERRED_TIMED = 0, 1, 2  # transfers.txt type 0, 1


@dataclass(frozen=True)
class FootpathRules:
    radius_m: float = 300.0
    speed_m_s: float = 1.2
    detour: float = 1.3
    min_change_s: int = 120


@dataclass
class Footpaths:
    offsets: np.ndarray  # int64 CSR over stops
    to: np.ndarray  # int32
    duration_s: np.ndarray  # int32
    distance_m: np.ndarray  # float32, straight line
    kind: np.ndarray  # int8
    change_s: np.ndarray  # int32 per stop: minimum time to change trips there
    preferred: np.ndarray  # int8 per footpath: PREFERRED_* of its transfers.txt rule
    stop_preferred: np.ndarray  # int8 per stop: PREFERRED_* for changing there


def _platforms(stop: int, parent: np.ndarray, children: dict[int, list[int]]) -> list[int]:
    return children.get(stop, [stop]) if parent[stop] < 0 else [stop]


def build_footpaths(
    lat: np.ndarray, lon: np.ndarray, location_type: np.ndarray, parent: np.ndarray,
    transfer_from: np.ndarray, transfer_to: np.ndarray, transfer_type: np.ndarray,
    transfer_min_s: np.ndarray, rules: FootpathRules,
) -> Footpaths:
    n = len(lat)
    boardable = np.flatnonzero(location_type == 0)
    if rules.radius_m > 0:
        a, b, d = pairs_within(lat, lon, boardable, rules.radius_m)
    else:  # no walking footpaths at all (transfers.txt still applies)
        a, b, d = np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0)
    dur = np.ceil(d * rules.detour / rules.speed_m_s).astype(np.int64)
    edges: dict[tuple[int, int], tuple[int, float, int]] = {
        (int(x), int(y)): (int(t), float(m), KIND_WALK)
        for x, y, t, m in zip(a, b, dur, d, strict=True)
    }
    change = np.full(n, rules.min_change_s, dtype=np.int32)
    stop_pref = np.zeros(n, dtype=np.int8)
    pref: dict[tuple[int, int], int] = {}
    children: dict[int, list[int]] = {}
    for c in np.flatnonzero(parent >= 0):
        children.setdefault(int(parent[c]), []).append(int(c))
    # the least specific rules first, so a platform's own rule overrides its station's
    def specificity(i: int) -> int:
        return int(location_type[transfer_from[i]] == 0) + \
            int(location_type[transfer_to[i]] == 0)

    for i in sorted(range(len(transfer_from)), key=specificity):
        f, t = int(transfer_from[i]), int(transfer_to[i])
        typ, mins = int(transfer_type[i]), int(transfer_min_s[i])
        if f < 0 or t < 0 or typ > 3:
            continue
        for x in _platforms(f, parent, children):
            for y in _platforms(t, parent, children):
                level = PREFERRED_RECOMMENDED if typ == 0 else (
                    PREFERRED_TIMED if typ == 1 else PREFERRED_NO)
                if x == y:
                    stop_pref[x] = level
                    if typ == 3:
                        change[x] = NO_CHANGE
                    elif typ == 2 and mins >= 0:
                        change[x] = mins
                    elif typ == 1:
                        change[x] = 0
                    continue
                pref[(x, y)] = level
                if typ == 3:
                    edges.pop((x, y), None)
                    continue
                seconds = 0 if typ == 1 else (mins if typ == 2 and mins >= 0 else None)
                dist = float(haversine_m(lat[x], lon[x], lat[y], lon[y]))
                if seconds is None:
                    if not np.isfinite(dist):
                        continue
                    seconds = int(np.ceil(dist * rules.detour / rules.speed_m_s))
                edges[(x, y)] = (seconds, dist if np.isfinite(dist) else 0.0,
                                 KIND_TRANSFERS_TXT)
    # a change between vehicles takes at least the change time of the stops it joins, also
    # when the platforms are a few metres apart (the operators' own times stand as given)
    for (x, y), (seconds, dist, kind) in list(edges.items()):
        if kind == KIND_WALK:
            slack = [int(c) for c in (change[x], change[y]) if c != NO_CHANGE]
            edges[(x, y)] = (max([seconds, *slack]), dist, kind)
    keys = sorted(edges)
    src = np.array([k[0] for k in keys], dtype=np.int64)
    counts = np.bincount(src, minlength=n) if len(src) else np.zeros(n, dtype=np.int64)
    return Footpaths(
        offsets=np.r_[0, np.cumsum(counts)].astype(np.int64),
        to=np.array([k[1] for k in keys], dtype=np.int32),
        duration_s=np.array([edges[k][0] for k in keys], dtype=np.int32),
        distance_m=np.array([edges[k][1] for k in keys], dtype=np.float32),
        kind=np.array([edges[k][2] for k in keys], dtype=np.int8),
        change_s=change,
        preferred=np.array([pref.get(k, PREFERRED_NO) for k in keys], dtype=np.int8),
        stop_preferred=stop_pref,
    )
