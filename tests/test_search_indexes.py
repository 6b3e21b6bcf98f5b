"""The indexes the journey search derives from a network: lower bounds on travel time (which
prune the search, so must never exceed a real journey), times by position, and each stop's
boarding and alighting places."""

from __future__ import annotations

import random
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from tests.journey_support import TZ
from tests.journey_worlds import random_feeds, reference_of
from tests.routing_reference import INF, RawFeed, Reference, days_around
from transit.catalog import Catalog, Operator
from transit.ingest.pipeline import ingest
from transit.routing import indexes
from transit.routing.live_trips import LiveTrips
from transit.routing.lower_bounds import UNREACHABLE, LowerBoundGraph, shortest_times
from transit.routing.network import Network
from transit.timetable.store import Store
from transit.timetable.timetable import Timetable

DAY = date(2026, 6, 2)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Timetable, Network, Reference]:
    d = tmp_path_factory.mktemp("indexes")
    feeds = random_feeds(random.Random(7), d)
    ops = tuple(Operator(id=op, name=op, gtfs=str(p)) for op, p in feeds.items())
    ingest(Catalog(ops), Store(d / "data"))
    tt = Store(d / "data").load_current()
    assert tt is not None
    midnight = int(datetime.combine(DAY, time(0), ZoneInfo(TZ)).timestamp())
    ref = reference_of(tt, [RawFeed(op, p) for op, p in feeds.items()], days_around(DAY),
                       midnight - 86400, midnight + 3 * 86400)
    return tt, Network.of(tt), ref


def _bounds(net: Network, graph: LowerBoundGraph, stop: int, towards: bool,
            bound: int = int(UNREACHABLE)) -> np.ndarray:
    live = LiveTrips.empty(net.n_trips, net.n_stops)
    offsets, nbr, w = (graph.in_offsets, graph.in_from, graph.in_w) if towards else (
        graph.out_offsets, graph.out_to, graph.out_w)
    return shortest_times(offsets, nbr, w, np.array([stop], np.int64), np.zeros(1, np.int64),
                          towards, live.offsets, live.stops, live.arr, live.dep,
                          live.sp_offsets, live.sp_inst, live.sp_pos, np.int64(bound))


def test_lower_bounds_never_exceed_the_brute_force(world) -> None:
    """From every stop, at several times of day, the earliest arrival at a destination (any
    number of trips, by the time-expanded brute force) is no sooner than the bound, both
    the bound towards the destination and the bound from the origin."""
    tt, net, ref = world
    graph = LowerBoundGraph.of(net)
    ids = tt.strings("stop_id")
    midnight = int(datetime.combine(DAY, time(0), ZoneInfo(TZ)).timestamp())
    rng = random.Random(3)
    stops = list(range(net.n_stops))
    checked = tight = 0
    for dest in rng.sample(stops, 12):
        towards = _bounds(net, graph, dest, True)
        for origin in rng.sample(stops, 12):
            if origin == dest:
                continue
            from_origin = _bounds(net, graph, origin, False)
            assert from_origin[dest] == towards[origin]  # one graph, read both ways
            for hour in (6, 9, 17, 23):
                t0 = midnight + hour * 3600
                best = ref.earliest_by_trips([(ids[origin], 0)], [(ids[dest], 0)], t0, 6,
                                             24 * 3600)[-1]
                if best >= INF:
                    continue
                checked += 1
                assert towards[origin] <= best - t0, (ids[origin], ids[dest], hour)
                tight += towards[origin] == best - t0
    assert checked >= 100
    assert tight > 0  # some journeys ride straight through at the fastest times


def test_a_bounded_search_stops_early_and_still_bounds_from_below(world) -> None:
    _tt, net, _ref = world
    graph = LowerBoundGraph.of(net)
    full = _bounds(net, graph, 0, True)
    reachable = np.sort(full[full < UNREACHABLE])
    assert len(reachable) > 10
    limit = int(reachable[len(reachable) // 2])
    cut = _bounds(net, graph, 0, True, limit)
    within = full <= limit
    assert np.array_equal(cut[within], full[within])  # exact up to the bound
    assert (cut[~within] > limit).all() and (cut[~within] <= full[~within]).all()
    assert (cut[full >= UNREACHABLE] < UNREACHABLE).all()  # left unexplored, not "unreachable"


def test_the_graph_keeps_the_fastest_hop_of_each_stop_pair(world) -> None:
    _tt, net, _ref = world
    graph = LowerBoundGraph.of(net)
    pso, stops = net.pattern_stop_offsets, net.pattern_stops
    want: dict[tuple[int, int], int] = {}
    for p in range(len(pso) - 1):
        for t in range(net.pattern_trip_offsets[p], net.pattern_trip_offsets[p + 1]):
            row = net.trip_st_start[t]
            for pos in range(pso[p + 1] - pso[p] - 1):
                u, v = int(stops[pso[p] + pos]), int(stops[pso[p] + pos + 1])
                hop = int(net.st_arr[row + pos + 1]) - int(net.st_dep[row + pos])
                if u != v:
                    want[u, v] = min(want.get((u, v), hop), hop)
    got = {(u, int(graph.out_to[e])): int(graph.out_w[e])
           for u in range(net.n_stops)
           for e in range(graph.out_offsets[u], graph.out_offsets[u + 1])}
    for pair, hop in want.items():
        assert got[pair] <= hop  # footpaths and through trips may only make it shorter
    for u in range(net.n_stops):  # each pair once, both directions agree
        tos = graph.out_to[graph.out_offsets[u]:graph.out_offsets[u + 1]]
        assert len(set(tos.tolist())) == len(tos)
        for v in tos:
            froms = graph.in_from[graph.in_offsets[v]:graph.in_offsets[v + 1]]
            assert u in froms


def test_time_columns_hold_every_stop_time_by_position(world) -> None:
    _tt, net, _ref = world
    offsets, dep, arr = indexes.time_columns(net.pattern_stop_offsets, net.pattern_trip_offsets,
                                            net.trip_st_start, net.st_arr, net.st_dep)
    assert len(dep) == len(net.st_dep)
    for p in range(len(net.pattern_stop_offsets) - 1):
        lo, hi = net.pattern_trip_offsets[p], net.pattern_trip_offsets[p + 1]
        for pos in range(net.pattern_stop_offsets[p + 1] - net.pattern_stop_offsets[p]):
            at = offsets[p] + pos * (hi - lo)
            rows = net.trip_st_start[lo:hi] + pos
            assert np.array_equal(dep[at:at + hi - lo], net.st_dep[rows])
            assert np.array_equal(arr[at:at + hi - lo], net.st_arr[rows])


def test_stop_places_leave_out_forbidden_and_pointless_ones() -> None:
    # pattern 0 serves stops 0, 1 (no pickup at 1); pattern 1 serves stops 1, x, 0 (no
    # drop-off at its last stop, 0)
    sp_offsets = np.array([0, 2, 4], np.int64)  # stop 0: (p0, 0), (p1, 2); stop 1: ...
    sp_pattern = np.array([0, 1, 0, 1], np.int64)
    sp_pos = np.array([0, 2, 1, 0], np.int64)
    pso = np.array([0, 2, 5], np.int64)
    pickup = np.array([0, 1, 0, 0, 0], np.int8)
    dropoff = np.array([0, 0, 0, 0, 1], np.int8)
    last = np.array([1, 2])
    board = indexes.stop_places(sp_offsets, sp_pattern, sp_pos, pso, pickup, last, True)
    # stop 0 boards p0 at 0 (not p1 at its last stop); stop 1 boards p1 at 0 (no pickup on p0)
    assert [a.tolist() for a in board] == [[0, 1, 2], [0, 1], [0, 0]]
    alight = indexes.stop_places(sp_offsets, sp_pattern, sp_pos, pso, dropoff,
                                np.zeros(2, np.int64), False)
    # stop 0: not p0 at its first stop, not p1 (no drop-off); stop 1: p0 at 1 only
    assert [a.tolist() for a in alight] == [[0, 0, 1], [0], [1]]
