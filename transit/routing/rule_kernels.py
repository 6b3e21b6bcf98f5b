"""The compiled side of `transfer_rules`: which arrival group an arrival falls in, the time a
change needs under the rules (the trip search that asks them is `raptor._find_trip`).

`rules` is the tuple of `transfer_rules.TABLE_FIELDS`, read-only int64 arrays.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from transit.routing.transfer_rules import DEFAULT, FORBID

INF = np.int64(1) << 62


@njit(cache=True, nogil=True, _nrt=False)
def group_of(rules, s, trip):  # pragma: no cover - compiled
    """The arrival group of `trip` (-1: an added trip) arriving at stop s; -1: no rule
    concerns it (the usual label)."""
    g_offsets, g_trip, g_route, trip_route = rules[8], rules[9], rules[10], rules[17]
    lo = g_offsets[s]
    hi = g_offsets[s + 1]
    if lo == hi:
        return -1
    route = trip_route[trip] if trip >= 0 else -3
    by_route = -1
    anyone = -1
    for g in range(lo, hi):
        if g_trip[g] >= 0:
            if g_trip[g] == trip:
                return g
        elif g_route[g] >= 0:
            if g_route[g] == route:
                by_route = g
        else:
            anyone = g
    return by_route if by_route >= 0 else anyone


@njit(cache=True, nogil=True, _nrt=False)
def rule_gap(rules, g, q, b):  # pragma: no cover - compiled
    """The gap the most specific rule sets for arrivals of group g boarding trip b (-1: an
    added trip) at stop q: FORBID, DEFAULT (no rule, or one keeping the default) or seconds."""
    e_offsets, e_to, e_ft, e_fr, e_tt, e_tr, e_rank, e_gap = rules[:8]
    g_trip, g_route, g_stop, trip_route = rules[9], rules[10], rules[11], rules[17]
    x = g_stop[g]
    a_trip = g_trip[g]
    a_route = g_route[g]
    b_route = trip_route[b] if b >= 0 else -3
    best_rank = -1
    gap = DEFAULT
    for e in range(e_offsets[x], e_offsets[x + 1]):
        if e_to[e] != q or e_rank[e] <= best_rank:
            continue
        if (e_ft[e] >= 0 and e_ft[e] != a_trip) or (e_fr[e] >= 0 and e_fr[e] != a_route):
            continue
        if (e_tt[e] >= 0 and e_tt[e] != b) or (e_tr[e] >= 0 and e_tr[e] != b_route):
            continue
        best_rank = e_rank[e]
        gap = e_gap[e]
    return gap


@njit(cache=True, nogil=True, _nrt=False)
def source_ready(rules, e, arrival, q, b, change_s, extra):  # pragma: no cover - compiled
    """When a rider of source e (in_* of stop q: a group's arrival at `arrival`) may board
    trip b at q; INF when the rules forbid it."""
    g = rules[13][e]
    walk = rules[14][e]
    gap = rule_gap(rules, g, q, b)
    if gap == FORBID:
        return INF
    if gap == DEFAULT:
        if walk < 0:
            return arrival + change_s[q]
        if walk >= FORBID:
            return INF
        return arrival + walk
    return arrival + gap + (extra if walk < 0 else 0)
