"""Lower bounds on travel time between stops, for pruning the round-based search.

A label at stop s with time t can only matter if t plus the shortest possible time from s
to a destination beats the best arrival found so far; most of a search's work after the
first arrival at the destination fails that test. The bound comes from a Dijkstra over a
stop graph whose edges never take longer than the timetable does: each consecutive pair of
stops of a pattern, weighted by the fastest trip between them (no waiting, no change time),
every footpath, and the hop from a trip's last stop to the first stop of the next trip of its
block. Live trip instances add their own hops at query time, as they may run faster than
the schedule.

The forward search takes bounds towards the destinations (a Dijkstra on reversed edges);
the arrive_by search takes bounds from the origins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from transit.routing.indexes import stop_time_rows

if TYPE_CHECKING:
    from transit.routing.network import Network

UNREACHABLE = np.int64(1) << 62


def _segments(pso: np.ndarray, pstops: np.ndarray, pto: np.ndarray, st0: np.ndarray,
              arr: np.ndarray, dep: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(from stop, to stop, fastest time) per consecutive pair of stops of each pattern."""
    trip, pat, pos = stop_time_rows(pso, pto)
    hop = pos < np.diff(pso)[pat] - 1  # a trip's last stop starts no hop
    row = np.asarray(st0)[trip[hop]] + pos[hop]
    dur = arr[row + 1].astype(np.int64) - dep[row].astype(np.int64)
    best = np.full(len(pstops), UNREACHABLE, np.int64)
    np.minimum.at(best, pso[pat[hop]] + pos[hop], dur)
    at = np.flatnonzero(best < UNREACHABLE)
    return pstops[at].astype(np.int64), pstops[at + 1].astype(np.int64), \
        np.maximum(best[at], 0)


@dataclass(frozen=True)
class LowerBoundGraph:
    """Stop graph, both ways, as CSR: `in_*` lists the edges into each stop, `out_*` the
    edges out of it. Parallel edges are merged, keeping the shortest."""

    in_offsets: np.ndarray
    in_from: np.ndarray
    in_w: np.ndarray
    out_offsets: np.ndarray
    out_to: np.ndarray
    out_w: np.ndarray

    @classmethod
    def of(cls, net: Network) -> LowerBoundGraph:
        n = net.n_stops
        parts = [
            _segments(np.asarray(net.pattern_stop_offsets), np.asarray(net.pattern_stops),
                      np.asarray(net.pattern_trip_offsets), np.asarray(net.trip_st_start),
                      np.asarray(net.st_arr), np.asarray(net.st_dep)),
            _segments(np.asarray(net.thr_pattern_stop_offsets),
                      np.asarray(net.thr_pattern_stops),
                      np.asarray(net.thr_pattern_trip_offsets),
                      np.asarray(net.thr_trip_st_start), np.asarray(net.thr_st_arr),
                      np.asarray(net.thr_st_dep)),
        ]
        fp_from = np.repeat(np.arange(n), np.diff(net.fp_offsets))
        parts.append((fp_from.astype(np.int64), np.asarray(net.fp_to, np.int64),
                      np.asarray(net.fp_duration_s, np.int64)))
        # staying seated into the next trip of the block, which may start elsewhere
        nxt = np.asarray(net.trip_next_in_block)
        has = np.flatnonzero(nxt >= 0)
        pso, pstops, tp = net.pattern_stop_offsets, net.pattern_stops, net.trip_pattern
        last = pstops[pso[tp[has] + 1] - 1].astype(np.int64)
        first = pstops[pso[tp[nxt[has]]]].astype(np.int64)
        parts.append((last, first, np.zeros(len(has), np.int64)))
        u = np.concatenate([p[0] for p in parts])
        v = np.concatenate([p[1] for p in parts])
        w = np.concatenate([p[2] for p in parts])
        keep = u != v
        u, v, w = u[keep], v[keep], w[keep]
        order = np.lexsort((w, v, u))
        u, v, w = u[order], v[order], w[order]
        first_of_pair = np.ones(len(u), np.bool_)
        first_of_pair[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        u, v, w = u[first_of_pair], v[first_of_pair], w[first_of_pair]
        out_offsets = np.r_[0, np.cumsum(np.bincount(u, minlength=n))].astype(np.int64)
        by_v = np.lexsort((u, v))
        in_offsets = np.r_[0, np.cumsum(np.bincount(v, minlength=n))].astype(np.int64)
        return cls(in_offsets=in_offsets, in_from=u[by_v], in_w=w[by_v],
                   out_offsets=out_offsets, out_to=v, out_w=w)


@njit(cache=True, nogil=True)
def _push(heap_key, heap_node, n, key, node):  # pragma: no cover - compiled
    i = n
    while i > 0:
        parent = (i - 1) >> 1
        if heap_key[parent] <= key:
            break
        heap_key[i] = heap_key[parent]
        heap_node[i] = heap_node[parent]
        i = parent
    heap_key[i] = key
    heap_node[i] = node
    return n + 1


@njit(cache=True, nogil=True)
def _pop(heap_key, heap_node, n):  # pragma: no cover - compiled
    """Removes the root; returns the new size (the root was read by the caller)."""
    n -= 1
    key = heap_key[n]
    node = heap_node[n]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and heap_key[c + 1] < heap_key[c]:
            c += 1
        if heap_key[c] >= key:
            break
        heap_key[i] = heap_key[c]
        heap_node[i] = heap_node[c]
        i = c
    heap_key[i] = key
    heap_node[i] = node
    return n


@njit(cache=True, nogil=True)
def shortest_times(offsets, nbr, w, sources, source_s, towards, rt_offsets, rt_stops, rt_arr,
                   rt_dep, rt_sp_offsets, rt_sp_inst, rt_sp_pos, bound):  # pragma: no cover
    """Dijkstra from `sources` (at `source_s` seconds) over one direction of the graph
    (`towards`: edges are read as incoming, giving times to the sources; else outgoing,
    times from them), plus the hops of the live instances; UNREACHABLE where no path.

    It stops once every stop left is farther than `bound`: those all get the distance of
    the nearest of them, which still bounds each from below (and is all a search that
    prunes at `bound` needs)."""
    n = offsets.shape[0] - 1
    dist = np.full(n, UNREACHABLE, np.int64)
    done = np.zeros(n, np.bool_)
    cap = nbr.shape[0] + rt_stops.shape[0] + sources.shape[0] + 1
    heap_key = np.empty(cap, np.int64)
    heap_node = np.empty(cap, np.int64)
    size = 0
    for i in range(sources.shape[0]):
        s = sources[i]
        if source_s[i] < dist[s]:
            dist[s] = source_s[i]
            size = _push(heap_key, heap_node, size, source_s[i], s)
    while size > 0:
        d = heap_key[0]
        s = heap_node[0]
        size = _pop(heap_key, heap_node, size)
        if done[s]:
            continue
        if d > bound:
            for x in range(n):
                if not done[x]:
                    dist[x] = d
            break
        done[s] = True
        for e in range(offsets[s], offsets[s + 1]):
            x = nbr[e]
            nd = d + w[e]
            if nd < dist[x]:
                dist[x] = nd
                size = _push(heap_key, heap_node, size, nd, x)
        for e in range(rt_sp_offsets[s], rt_sp_offsets[s + 1]):
            inst = rt_sp_inst[e]
            pos = rt_sp_pos[e]
            o = rt_offsets[inst]
            if towards:
                if pos == 0:
                    continue
                x = rt_stops[o + pos - 1]
                hop = rt_arr[o + pos] - rt_dep[o + pos - 1]
            else:
                if o + pos + 1 >= rt_offsets[inst + 1]:
                    continue
                x = rt_stops[o + pos + 1]
                hop = rt_arr[o + pos + 1] - rt_dep[o + pos]
            nd = d + max(hop, 0)
            if nd < dist[x]:
                dist[x] = nd
                size = _push(heap_key, heap_node, size, nd, x)
    return dist
