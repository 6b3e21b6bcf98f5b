"""arrive_by under trip- and route-specific transfers.txt rules.

The backward search does not read those rules (`transfer_rules`). Run on a network where
every change is as easy as the most lenient rule makes it (the shortest time any rule gives a
stop or a pair of stops, the forbidden changes kept), it finds, for each bound k on the
trips, a departure no exact answer leaves after. The forward search (which honours the rules)
then confirms it: leaving then, does a journey of at most k trips arrive in time? When it
does not (a rule forbids or lengthens a change the bound relied on), the latest departure
that does is found by bisection over the instants that just catch a departure at the origin:
arriving by a time is monotone in the departure.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from transit.routing.transfer_rules import FORBID

if TYPE_CHECKING:
    from transit.routing.search import Footpaths, Journey, Query, Searcher


def arrive_by_under_rules(searcher: Searcher, q: Query) -> list[Journey]:
    from transit.routing.search import _pareto

    bounds = searcher.backward(_lenient(searcher, q))
    access = {s: a for s, a in sorted(q.origins, key=lambda x: -x[1])}
    # without a trip there is no change to a rule to apply, but only real footpaths walk
    out = [j for j in bounds if j.trips == 0 and _walkable(searcher, q, j)]

    def leave(j: Journey) -> int:
        return j.departure - access.get(j.first_stop, 0)

    latest = max((leave(j) for j in out), default=None)  # the latest found, fewer trips
    for k in range(1, q.max_transfers + 2):
        # (a lenient walk bounds the journeys with trips too)
        uppers = [leave(j) for j in bounds if j.trips <= k]
        if not uppers or (latest is not None and latest >= max(uppers)):
            continue  # one more trip could not leave later
        found = _latest(searcher, q, k, max(uppers))
        if found is not None:
            latest = found[0]
            out.append(found[1])
    return _pareto(out, lambda j: -j.departure)


def _walkable(searcher: Searcher, q: Query, j: Journey) -> bool:
    """Whether j's walks are footpaths of the query's network (the lenient one adds some)."""
    net, fp = searcher.net, q.footpaths
    offsets, to, dur = (net.fp_offsets, net.fp_to, net.fp_duration_s) if fp is None else (
        fp.offsets, fp.to, fp.duration_s)
    for leg in j.legs:
        lo, hi = int(offsets[leg.from_stop]), int(offsets[leg.from_stop + 1])
        hit = np.flatnonzero(np.asarray(to[lo:hi]) == leg.to_stop)
        if not len(hit) or int(dur[lo + hit[0]]) != leg.arrival - leg.departure:
            return False
    return True


def _arriving(searcher: Searcher, q: Query, k: int, leave: int) -> Journey | None:
    """The journey of at most k trips leaving at `leave` that arrives by q.time, if any."""
    egress = {}
    for s, e in q.destinations:
        egress[s] = min(egress.get(s, e), e)
    fq = replace(q, time=leave, max_transfers=k - 1, max_duration_s=q.time - leave)
    ok = [j for j in searcher.depart_at(fq)
          if 0 < j.trips <= k and j.arrival + egress[j.last_stop] <= q.time]
    return max(ok, key=lambda j: (j.departure, -j.trips)) if ok else None


def _latest(searcher: Searcher, q: Query, k: int, upper: int
            ) -> tuple[int, Journey] | None:
    """(latest instant leaving the origin, journey) of at most k trips arriving by q.time,
    leaving no later than `upper`."""
    found = _arriving(searcher, q, k, upper)
    if found is not None:
        return upper, found
    start = q.time - q.max_duration_s
    times = sorted(t for t in searcher._departure_times(replace(q, time=start), upper - start)
                   if start <= t < upper)
    best = None
    lo, hi = 0, len(times) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        j = _arriving(searcher, q, k, times[mid])
        if j is not None:
            best, lo = (times[mid], j), mid + 1
        else:
            hi = mid - 1
    return best


def _lenient(searcher: Searcher, q: Query) -> Query:
    """q on a network where each change takes the least time any rule allows (cached per
    searcher for queries without their own change times or footpaths)."""
    from transit.routing.search import Footpaths

    if q.change_s is None and q.footpaths is None:
        cached = getattr(searcher, "_lenient", None)
        if cached is None:
            cached = _lenient_network(searcher, None, None)
            searcher._lenient = cached  # type: ignore[attr-defined]
        change, paths = cached
    else:
        change, paths = _lenient_network(searcher, q.change_s, q.footpaths)
    assert isinstance(paths, Footpaths)
    return replace(q, change_s=change, footpaths=paths)


def _lenient_network(searcher: Searcher, change_s: np.ndarray | None,
                     footpaths: Footpaths | None) -> tuple[np.ndarray, Footpaths]:
    from transit.routing.search import Footpaths

    net = searcher.net
    rules = net.rules
    change = np.array(net.stop_change_s if change_s is None else change_s, np.int64)
    if footpaths is None:
        src = np.repeat(np.arange(net.n_stops), np.diff(net.fp_offsets))
        edges = {(int(a), int(b)): int(d) for a, b, d in zip(
            src, net.fp_to, net.fp_duration_s, strict=True)}
    else:
        src = np.repeat(np.arange(net.n_stops), np.diff(footpaths.offsets))
        edges = {(int(a), int(b)): int(d) for a, b, d in zip(
            src, footpaths.to, footpaths.duration_s, strict=True)}
    e_offsets, e_to, e_gap = rules[0], rules[1], rules[7]
    for x in np.flatnonzero(np.diff(e_offsets)):
        for e in range(int(e_offsets[x]), int(e_offsets[x + 1])):
            gap, y = int(e_gap[e]), int(e_to[e])
            if gap < 0 or gap >= FORBID:
                continue
            if y == x:
                change[x] = min(int(change[x]), gap)
            else:
                edges[(int(x), y)] = min(edges.get((int(x), y), gap), gap)
    keys = sorted(edges)
    return change, Footpaths.of_edges(
        net, np.array([a for a, _ in keys], np.int64), np.array([b for _, b in keys], np.int64),
        np.array([edges[key] for key in keys], np.int64))
