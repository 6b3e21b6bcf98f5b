"""Journey searches over a Network: earliest arrival (Pareto on arrival and transfers),
departure ranges (rRAPTOR) and latest departure (arrive_by).

Input and output are indexes and Unix seconds; callers turn places into (stop, walk
seconds) lists and journeys into whatever they serve.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from transit.routing import kernel_args as ka
from transit.routing import network_indexes, raptor
from transit.routing.live_trips import KEY_DAYS, LiveTrips
from transit.routing.lower_bounds import LowerBoundGraph
from transit.routing.network import Network
from transit.routing.raptor import THR_BASE
from transit.timetable.departures import _departures

INF = int(raptor.INF)
# the labels' parents other than the trip ridden: days, stops, positions, timetable trips,
# rule sources (all below 2**31); half the width of the times, whose INF needs int64
PARENT = np.int32


@dataclass(frozen=True)
class Query:
    origins: list[tuple[int, int]]  # (stop, seconds to walk there from the origin)
    destinations: list[tuple[int, int]]  # (stop, seconds to walk from it to the destination)
    time: int  # Unix seconds: depart at (or, for arrive_by, arrive by)
    max_transfers: int = 5
    trip_ok: np.ndarray | None = None  # bool per trip (filters); None: all
    stop_ok: np.ndarray | None = None  # bool per stop (e.g. wheelchair); None: all
    extra_change_s: int = 0  # slack added to every change
    walk_from_origins: bool = True  # footpaths from origin stops (not from coordinates)
    walk_to_destinations: bool = True  # footpaths into destination stops (not coordinates)
    max_duration_s: int = 24 * 3600
    live: LiveTrips | None = None  # live trip instances; None: the schedule only
    # restrictions for a second look at ties (see `Footpaths.only`): change time per stop
    # (in place of the network's) and the footpaths that may be walked
    change_s: np.ndarray | None = None
    footpaths: Footpaths | None = None


@dataclass(frozen=True)
class Footpaths:
    """Footpaths as the kernels read them, outgoing and incoming (CSR, read-only)."""

    offsets: np.ndarray
    to: np.ndarray
    duration_s: np.ndarray
    in_offsets: np.ndarray
    in_from: np.ndarray
    in_duration_s: np.ndarray

    @classmethod
    def only(cls, net: Network, keep: np.ndarray) -> Footpaths:
        """The network's footpaths where `keep` (per footpath) holds."""
        src = np.repeat(np.arange(net.n_stops), np.diff(net.fp_offsets))[keep]
        return cls.of_edges(net, src, np.asarray(net.fp_to)[keep],
                            np.asarray(net.fp_duration_s)[keep])

    @classmethod
    def of_edges(cls, net: Network, src: np.ndarray, to: np.ndarray, dur: np.ndarray
                 ) -> Footpaths:
        """Footpaths src -> to of `dur` seconds, sorted by src then to (typed as the
        network's, so the kernels see the same array types)."""
        n = net.n_stops
        order = np.lexsort((to, src))
        src, to = src[order], to[order].astype(np.asarray(net.fp_to).dtype)
        dur = dur[order].astype(np.asarray(net.fp_duration_s).dtype)
        order = np.lexsort((src, to))
        arrays = (np.r_[0, np.cumsum(np.bincount(src, minlength=n))].astype(np.int64),
                  np.ascontiguousarray(to), np.ascontiguousarray(dur),
                  np.r_[0, np.cumsum(np.bincount(to, minlength=n))].astype(np.int64),
                  np.ascontiguousarray(src[order].astype(np.asarray(net.fpi_from).dtype)),
                  np.ascontiguousarray(dur[order]))
        for a in arrays:
            a.setflags(write=False)
        return cls(*arrays)


@dataclass(frozen=True)
class Seed:
    """A rider aboard a trip instance at the query time: the search starts as if the rider
    had arrived by that trip at each later stop where it lets riders off (and, seated, at
    those of its block continuations), so the change off it follows every rule a change
    off that trip does (trip- and route-specific transfers.txt rules, change times)."""

    trip: int
    day: int
    pos: int  # the last stop it left (the first leg boards there)
    arr: np.ndarray  # per position of the trip: arrival, Unix seconds (live where known)
    dep: np.ndarray


@dataclass(frozen=True)
class Leg:
    kind: str  # "trip" or "walk"
    from_stop: int
    to_stop: int
    departure: int
    arrival: int
    trip: int = -1
    day: int = -1
    board_pos: int = -1
    alight_pos: int = -1
    stay_seated: bool = False  # a block continuation of the previous trip leg
    live: int = -1  # index of the live instance ridden (LiveTrips), -1 for the schedule


@dataclass(frozen=True)
class Journey:
    """Legs between the first and the last stop; access and egress walks are the caller's."""

    legs: list[Leg]
    first_stop: int
    last_stop: int
    departure: int  # leaving the first stop (its first leg's departure; or the query time)
    arrival: int  # reaching the last stop
    trips: int = field(default=0)

    @property
    def transfers(self) -> int:
        return max(self.trips - 1, 0)


class _State:
    def __init__(self, net: Network, rounds: int) -> None:
        n = net.n_stops
        shape = (rounds, n)
        self.arr_trip = np.full(shape, INF, np.int64)
        self.arr_walk = np.full(shape, INF, np.int64)
        self.ready = np.full(shape, INF, np.int64)
        self.best_arr = np.full(n, INF, np.int64)
        self.best_trip = np.full(n, INF, np.int64)
        self.best_ready = np.full(n, INF, np.int64)
        # parents are only read where a label was set (which sets them): no fill needed;
        # PARENT (int32) holds days, stops, positions, timetable trips and sources, not
        # pt_trip (through trips are THR_BASE - i)
        self.pt_trip = np.empty(shape, np.int64)
        self.pt_day = np.empty(shape, PARENT)
        self.pt_board_stop = np.empty(shape, PARENT)
        self.pt_board_pos = np.empty(shape, PARENT)
        self.pt_alight_pos = np.empty(shape, PARENT)
        self.pt_prev_trip = np.empty(shape, PARENT)
        self.pt_prev_board_stop = np.empty(shape, PARENT)
        self.pt_prev_board_pos = np.empty(shape, PARENT)
        self.pw_from = np.empty(shape, PARENT)
        self.ready_via = np.empty(shape, np.int8)
        self.target_stop = np.full(rounds, -1, np.int64)
        self.target_via = np.full(rounds, -1, np.int8)
        # labels of arrival groups (trip-specific transfer rules, see `transfer_rules`)
        n_groups = max(len(net.rules[11]), 1)
        self.sp = np.empty((raptor.SP_FIELDS, rounds, n_groups), np.int64)
        self.sp[raptor.SP_ARR] = INF
        self.sp_best = np.full(len(net.rules[11]), INF, np.int64)
        self.pt_board_src = np.empty(shape, PARENT)
        self.target_src = np.full(rounds, -1, np.int64)
        self.result = np.full(rounds, INF, np.int64)

    def reset(self) -> _State:
        """The labels as a new state's (buffers reused across queries, see Searcher._state;
        the parents need no fill: they are only read where a label was set)."""
        for a in (self.arr_trip, self.arr_walk, self.ready, self.best_arr, self.best_trip,
                  self.best_ready, self.sp_best, self.result):
            a.fill(INF)
        self.sp[raptor.SP_ARR] = INF
        for b in (self.target_stop, self.target_via, self.target_src):
            b.fill(-1)
        return self

    def labels(self) -> ka.Labels:
        return ka.Labels(
            self.arr_trip, self.arr_walk, self.ready, self.best_arr, self.best_trip,
            self.best_ready, self.pt_trip, self.pt_day, self.pt_board_stop, self.pt_board_pos,
            self.pt_alight_pos, self.pt_prev_trip, self.pt_prev_board_stop,
            self.pt_prev_board_pos, self.pw_from, self.ready_via, self.target_stop,
            self.target_via, self.sp, self.sp_best, self.pt_board_src, self.target_src,
            self.result)


@dataclass(frozen=True)
class _Label:
    """The parents of one trip arrival label: a stop's or an arrival group's."""

    trip: int
    day: int
    board_stop: int
    board_pos: int
    alight_pos: int
    prev_trip: int
    prev_board_stop: int
    prev_board_pos: int
    src: int

    @classmethod
    def of_stop(cls, st: _State, k: int, s: int) -> _Label:
        prev = int(st.pt_prev_trip[k, s])
        return cls(int(st.pt_trip[k, s]), int(st.pt_day[k, s]), int(st.pt_board_stop[k, s]),
                   int(st.pt_board_pos[k, s]), int(st.pt_alight_pos[k, s]), prev,
                   int(st.pt_prev_board_stop[k, s]) if prev >= 0 else -1,
                   int(st.pt_prev_board_pos[k, s]) if prev >= 0 else -1,
                   int(st.pt_board_src[k, s]))

    @classmethod
    def of_group(cls, st: _State, k: int, g: int) -> _Label:
        f = [int(x) for x in st.sp[1:, k, g]]
        return cls(*f)


class Searcher:
    """Runs searches on one network. Built once per timetable version (it derives the
    indexes the kernels read) and shared by all requests. State kept between calls: each
    thread's forward label buffers (reset by each search), and the through-trip mask of
    unfiltered queries, per live snapshot, which any thread may replace with an equal one."""

    def __init__(self, net: Network) -> None:
        self.net = net
        self._no_live = LiveTrips.empty(net.n_trips, net.n_stops)
        self._thr_no_rt = np.zeros(len(net.thr_trip_first), np.bool_)
        ix = net.derived or network_indexes.build(net)  # stored with the version, mapped
        self._prev_in_block = ix["prev_in_block"]
        self.lower_bounds = LowerBoundGraph(
            *(ix[f"lb_{f}"] for f in network_indexes.LOWER_BOUNDS))
        self._cols = tuple(ix[f"cols_{f}"] for f in network_indexes.TIME_COLUMNS)
        self._thr_cols = tuple(ix[f"thr_cols_{f}"] for f in network_indexes.TIME_COLUMNS)
        self._board_at, self._alight_at, self._thr_board_at, self._thr_alight_at = (
            tuple(ix[f"{s}_{f}"] for f in network_indexes.PLACES)
            for s in ("board_at", "alight_at", "thr_board_at", "thr_alight_at"))
        # what a query without filters passes, made once (read-only, shared by all calls)
        self._all_trips = _frozen(np.ones(net.n_trips, np.bool_))
        self._all_stops = _frozen(np.ones(net.n_stops, np.bool_))
        self._change_s = ix["change_s"]
        self._trip_ids = _frozen(np.arange(net.n_trips, dtype=np.int64))
        self._thr_first = ix["thr_first"]
        self._thr_ok_unfiltered: tuple[LiveTrips, np.ndarray] | None = None
        self._no_seeds = _frozen(np.zeros((0, raptor.SEED_FIELDS), np.int64))
        self._buffers = threading.local()  # per thread: label buffers reused by its queries
        self._priors: dict[tuple[int, bool], np.ndarray] = {}
        self._static = ka.Static(net.service_days, net.tz_reference_utc,
                                 np.int64(net.max_days_back), net.rules)
        self._sets = {fwd: self._pattern_sets(fwd) for fwd in (True, False)}
        # the arrival groups' labels of a backward search (which keeps none)
        self._no_groups = (np.full((raptor.SP_FIELDS, 1, 1), INF, np.int64),
                           np.zeros(0, np.int64), np.empty((1, 1), PARENT),
                           np.empty(1, np.int64))

    def _pattern_sets(self, fwd: bool) -> tuple[ka.PatternSet, ka.PatternSet]:
        """The timetable's and the through trips' pattern sets for one direction (the
        per-query fields, `ok`, `has_rt` and `masked`, are filled in by `_run_*`)."""
        net = self.net
        no = ka.empty_like_set
        tt = ka.PatternSet(
            net.pattern_stop_offsets, net.pattern_stops, net.pattern_pickup,
            net.pattern_dropoff, net.pattern_trip_offsets, net.trip_st_start, net.st_arr,
            net.st_dep, net.trip_tz, net.trip_service, self._all_trips,
            self._no_live.trip_has_rt, self._no_live.masked, *self._cols,
            *(self._board_at if fwd else self._alight_at), self._trip_ids, net.trip_pattern,
            net.trip_next_in_block if fwd else self._prev_in_block,
            no(net.thr_pattern_join), no(net.thr_pattern_base), no(net.thr_trip_first),
            no(net.thr_trip_second), no(net.thr_pattern_next_classes),
            no(net.thr_trip_next_class))
        thr = ka.PatternSet(
            net.thr_pattern_stop_offsets, net.thr_pattern_stops, net.thr_pattern_pickup,
            net.thr_pattern_dropoff, net.thr_pattern_trip_offsets, net.thr_trip_st_start,
            net.thr_st_arr, net.thr_st_dep, net.thr_tz, net.thr_service, self._all_trips,
            self._thr_no_rt, _frozen(np.zeros(0, np.int64)), *self._thr_cols,
            *(self._thr_board_at if fwd else self._thr_alight_at), self._thr_first,
            no(net.trip_pattern), no(self._prev_in_block), net.thr_pattern_join,
            net.thr_pattern_base, net.thr_trip_first, net.thr_trip_second,
            net.thr_pattern_next_classes if fwd else net.thr_pattern_prev_classes,
            net.thr_trip_next_class if fwd else net.thr_trip_prev_class)
        return tt, thr

    def _kernel_sets(self, q: Query, fwd: bool, trip_ok: np.ndarray, live: LiveTrips,
                     live_args: tuple[np.ndarray, ...]
                     ) -> tuple[ka.PatternSet, ka.PatternSet, ka.Live, ka.Footpaths, ka.Bounds]:
        """The pattern sets, live trips, footpaths and bounds of a query's search."""
        tt, thr = self._sets[fwd]
        tt = tt._replace(ok=trip_ok, has_rt=live_args[0], masked=live_args[1])
        thr = thr._replace(ok=self._thr_ok(trip_ok, live))
        lv = ka.Live(*live_args, _frozen(np.asarray(live.trip, np.int64)))
        lb = self.lower_bounds
        bounds = ka.Bounds(lb.in_offsets, lb.in_from, lb.in_w) if fwd else ka.Bounds(
            lb.out_offsets, lb.out_to, lb.out_w)
        return tt, thr, lv, ka.Footpaths(*self._footpaths(q, fwd)), bounds

    def _state(self, rounds: int) -> _State:
        """This thread's forward labels for `rounds` rounds, reset: allocated once per thread
        and reused by its queries (a search's journeys are built before it returns)."""
        states: dict[int, _State] | None = getattr(self._buffers, "states", None)
        if states is None:
            states = self._buffers.states = {}
        st = states.get(rounds)
        if st is None:
            st = states[rounds] = _State(self.net, rounds)
            return st
        return st.reset()

    # -- public searches
    def depart_at(self, q: Query) -> list[Journey]:
        state = self._state(q.max_transfers + 2)
        return self._run_forward(q, q.time, state)

    def depart_aboard(self, q: Query, seed: Seed) -> list[Journey]:
        """Pareto-optimal journeys (arrival, trips) from aboard `seed` at q.time to
        q.destinations (q.origins are not used); the ride aboard is the first trip."""
        trip_ok, stop_ok, _ = self._masks(q)
        live = q.live or self._no_live
        rows = self._seed_rows(seed, trip_ok, stop_ok, live)
        state = self._state(q.max_transfers + 2)
        root = self._stop_at(seed.trip, seed.pos)
        state.ready_via[0, root] = 2  # the journey starts where the rider boarded
        q = replace(q, origins=[])
        return [self._aboard_times(j, seed) for j in self._run_forward(q, q.time, state, rows)]

    def _seed_rows(self, seed: Seed, trip_ok: np.ndarray, stop_ok: np.ndarray,
                   live: LiveTrips) -> np.ndarray:
        """The seed as the kernel reads it (rows of raptor.SEED_FIELDS): each stop after
        seed.pos where the rider may get off, and those of the trips the vehicle runs next
        in its block (seated, as the search follows a block: same day, while they run).
        The filters (`trip_ok`) do not apply to the trip ridden, only to those after it."""
        net = self.net
        masked = set(live.masked.tolist())
        rows: list[tuple[int, ...]] = []
        t, d, root_pos = seed.trip, seed.day, seed.pos
        root = self._stop_at(t, root_pos)
        for k in range(root_pos + 1, self._last_pos(t) + 1):
            s = self._stop_at(t, k)
            if self._drops(t, k) and stop_ok[s]:
                rows.append((s, int(seed.arr[k]), t, t, d, root, root_pos, k, -1, -1, -1))
        t2, depth = int(net.trip_next_in_block[t]), 0
        while t2 >= 0 and depth < raptor.MAX_BLOCK_CHAIN:
            depth += 1
            service = int(net.trip_service[t2])
            if not trip_ok[t2] or not (int(net.service_days[service, d >> 3]) >> (d & 7)) & 1:
                break
            if live.trip_has_rt[t2] and t2 * KEY_DAYS + d in masked:
                break
            for k in range(1, self._last_pos(t2) + 1):
                s = self._stop_at(t2, k)
                if self._drops(t2, k) and stop_ok[s]:
                    rows.append((s, self._trip_time(t2, d, k, True), t2, t2, d,
                                 self._stop_at(t2, 0), 0, k, t, root, root_pos))
            t2 = int(net.trip_next_in_block[t2])
        out = np.array(rows, np.int64).reshape(-1, raptor.SEED_FIELDS)
        return _frozen(np.ascontiguousarray(out))

    def _drops(self, trip: int, pos: int) -> bool:
        p = int(self.net.trip_pattern[trip])
        return int(self.net.pattern_dropoff[self.net.pattern_stop_offsets[p] + pos]) != 1

    def _aboard_times(self, j: Journey, seed: Seed) -> Journey:
        """The ride aboard at the seed's times (live where known), walks after it moved
        to match."""
        legs = list(j.legs)
        legs[0] = replace(legs[0], departure=int(seed.dep[seed.pos]),
                          arrival=int(seed.arr[legs[0].alight_pos]))
        legs = _settle_walks(legs)
        return replace(j, legs=legs, departure=legs[0].departure, arrival=legs[-1].arrival)

    def depart_in_range(self, q: Query, window_s: int) -> list[Journey]:
        """Pareto-optimal journeys for every departure in [q.time, q.time + window_s],
        by departure (rRAPTOR: one run per distinct departure, latest first).

        Each run has labels of its own (labels kept from a later departure would prune by
        arrival across rounds and lose journeys with fewer transfers), but it is told the
        best keys at an end the later departures reached within each number of rounds,
        which bound what it can still find (`_range_prior`)."""
        starts = self._departure_times(q, window_s)
        rounds = q.max_transfers + 2
        later = np.full(rounds, INF, np.int64)  # best key at an end within k rounds, so far
        reach = q.max_duration_s + min((e for _, e in q.destinations), default=0)
        found: list[Journey] = []
        for t in sorted(starts, reverse=True):
            st = self._state(rounds)
            found.extend(self._run_forward(q, t, st, prior=_range_prior(later, t + reach)))
            np.minimum(later, np.minimum.accumulate(st.result), out=later)
        out = [j for j in found if j.departure <= q.time + window_s]
        out = _pareto_by_departure(out)
        out.sort(key=lambda j: (j.departure, j.arrival, j.trips))
        return out

    def arrive_by(self, q: Query) -> list[Journey]:
        """Pareto-optimal journeys (latest departure, fewest transfers) arriving by q.time.
        With trip- or route-specific transfer rules, the backward search gives bounds that
        forward searches confirm (`arrive_by_rules`)."""
        if len(self.net.rules[1]):
            from transit.routing.arrive_by_rules import arrive_by_under_rules
            return arrive_by_under_rules(self, q)
        return self.backward(q)

    def backward(self, q: Query) -> list[Journey]:
        """arrive_by's backward search (trip- and route-specific rules left out)."""
        net = self.net
        rounds = q.max_transfers + 2
        trip_ok, stop_ok, change = self._masks(q)
        live, live_args = self._live(q, trip_ok)
        shape = (rounds, net.n_stops)
        dep_trip = np.full(shape, -INF, np.int64)
        dep_walk = np.full(shape, -INF, np.int64)
        latest = np.full(shape, -INF, np.int64)
        best_dep = np.full(net.n_stops, -INF, np.int64)
        best_dep_trip = np.full(net.n_stops, -INF, np.int64)
        best_latest = np.full(net.n_stops, -INF, np.int64)
        pt = {n: np.empty(shape, np.int64 if n == "trip" else PARENT) for n in (
            "trip", "day", "alight_stop", "alight_pos", "board_pos", "walk_to", "next_trip",
            "next_alight_stop", "next_alight_pos")}
        latest_via = np.empty(shape, np.int8)
        target_stop = np.full(rounds, -1, np.int64)
        target_via = np.full(rounds, -1, np.int8)
        access = np.full(net.n_stops, -1, np.int64)
        for s, a in q.origins:
            access[s] = a if access[s] < 0 else min(access[s], a)
        dests = np.array([d for d, _ in q.destinations], np.int64)
        egress = np.array([e for _, e in q.destinations], np.int64)
        tt, thr, lv, fp, bounds = self._kernel_sets(q, False, trip_ok, live, live_args)
        query = ka.Query(dests, egress, np.int64(q.time), q.walk_to_destinations,
                         q.walk_from_origins, access, np.int64(q.time - q.max_duration_s),
                         change, stop_ok, np.int64(q.extra_change_s),
                         self._no_prior(rounds, False))
        result = np.full(rounds, -INF, np.int64)
        lab = ka.Labels(dep_trip, dep_walk, latest, best_dep, best_dep_trip, best_latest,
                        pt["trip"], pt["day"], pt["alight_stop"], pt["alight_pos"],
                        pt["board_pos"], pt["next_trip"], pt["next_alight_stop"],
                        pt["next_alight_pos"], pt["walk_to"], latest_via, target_stop,
                        target_via, *self._no_groups, result)
        raptor.rounds(False, tt, thr, lv, query, fp, bounds, self._static, lab,
                      self._no_seeds)
        journeys = []
        for k in range(rounds):
            if result[k] <= -INF:
                continue
            s, via, kk = int(target_stop[k]), int(target_via[k]), k
            legs: list[Leg] = []
            first = s
            while via != 2:
                if via == 1:
                    to = int(pt["walk_to"][kk, s])
                    if to < 0:
                        break
                    start = int(dep_walk[kk, s])
                    end = int(dep_trip[kk, to]) if kk > 0 else int(dep_walk[0, to])
                    legs.append(Leg("walk", s, to, start, end))
                    s = to
                    via = 0 if kk > 0 else 2
                    continue
                t, d = int(pt["trip"][kk, s]), int(pt["day"][kk, s])
                if t <= THR_BASE:
                    legs.extend(self._through_legs(THR_BASE - t, d, int(pt["board_pos"][kk, s]),
                                                   int(pt["alight_pos"][kk, s])))
                elif t <= -2:
                    legs.append(self._live_leg(live, -2 - t, int(pt["board_pos"][kk, s]),
                                               int(pt["alight_pos"][kk, s])))
                else:
                    legs.append(self._trip_leg(t, d, int(pt["board_pos"][kk, s]),
                                               int(pt["alight_pos"][kk, s]), False))
                if t > -2 and pt["next_trip"][kk, s] >= 0:  # stayed seated along the block
                    end = int(pt["next_trip"][kk, s])
                    u = int(self.net.trip_next_in_block[t])
                    while u != end:
                        legs.append(self._trip_leg(u, d, 0, self._last_pos(u), True))
                        u = int(self.net.trip_next_in_block[u])
                    legs.append(self._trip_leg(end, d, 0, int(pt["next_alight_pos"][kk, s]),
                                               True))
                    s = int(pt["next_alight_stop"][kk, s])
                    kk -= 1
                    via = int(latest_via[kk, s])
                    continue
                s = int(pt["alight_stop"][kk, s])
                kk -= 1
                via = int(latest_via[kk, s])
            trips = sum(1 for leg in legs if leg.kind == "trip" and not leg.stay_seated)
            legs = _settle_walks(legs)
            at_dest = int(dep_walk[0, s])  # a journey without legs: at a destination stop
            departure = legs[0].departure if legs else at_dest
            arrival = legs[-1].arrival if legs else at_dest
            journeys.append(Journey(legs, first, s, departure, arrival, trips))
        return _pareto(journeys, lambda j: -j.departure)

    # -- forward
    def _masks(self, q: Query) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        net = self.net
        # every array read-only, like those of the warm-up: numba compiles a variant per
        # array type, and a writable mask would cost a compilation on its first request
        trip_ok = _read_only(q.trip_ok) if q.trip_ok is not None else self._all_trips
        stop_ok = _read_only(q.stop_ok) if q.stop_ok is not None else self._all_stops
        base = net.stop_change_s if q.change_s is None else q.change_s
        change = self._change_s if not q.extra_change_s and q.change_s is None else \
            _frozen(np.asarray(base, np.int64) + q.extra_change_s)
        return trip_ok, stop_ok, change

    def _footpaths(self, q: Query, forward: bool) -> tuple[np.ndarray, ...]:
        net, fp = self.net, q.footpaths
        if forward:
            return (net.fp_offsets, net.fp_to, net.fp_duration_s) if fp is None else (
                fp.offsets, fp.to, fp.duration_s)
        return (net.fpi_offsets, net.fpi_from, net.fpi_duration_s) if fp is None else (
            fp.in_offsets, fp.in_from, fp.in_duration_s)

    def _live(self, q: Query, trip_ok: np.ndarray) -> tuple[LiveTrips, tuple[np.ndarray, ...]]:
        live = q.live or self._no_live
        # an added trip passes the filters unless a filter is set (it has no trip to test)
        rt_ok = np.array([trip_ok[t] if t >= 0 else q.trip_ok is None for t in live.trip],
                         np.bool_)
        return live, live.kernel_args(rt_ok)

    def _thr_ok(self, trip_ok: np.ndarray, live: LiveTrips) -> np.ndarray:
        """Through trips that run: both trips pass the filters and neither is replaced by
        live data."""
        net = self.net
        first, second = net.thr_trip_first, net.thr_trip_second
        cached = self._thr_ok_unfiltered
        if trip_ok is self._all_trips and cached is not None and cached[0] is live:
            return cached[1]
        ok = _frozen(trip_ok[first] & trip_ok[second] & ~live.trip_has_rt[first] &
                     ~live.trip_has_rt[second])
        if trip_ok is self._all_trips:  # the same for every unfiltered query on `live`
            self._thr_ok_unfiltered = (live, ok)
        return ok

    def _run_forward(self, q: Query, t_start: int, st: _State,
                     seeds: np.ndarray | None = None, prior: np.ndarray | None = None
                     ) -> list[Journey]:
        """A forward search's Pareto set (one journey per round that found one, see
        `_reconstruct`); `prior` (read-only, per round): keys at an end it need not reach."""
        net = self.net
        trip_ok, stop_ok, change = self._masks(q)
        live, live_args = self._live(q, trip_ok)
        origins = np.array([o for o, _ in q.origins], np.int64)
        access = np.array([a for _, a in q.origins], np.int64)
        egress = np.full(net.n_stops, -1, np.int64)
        for s, e in q.destinations:
            egress[s] = e if egress[s] < 0 else min(egress[s], e)
        tt, thr, lv, fp, bounds = self._kernel_sets(q, True, trip_ok, live,
                                                          live_args)
        query = ka.Query(origins, access, np.int64(t_start), q.walk_from_origins,
                         q.walk_to_destinations, egress, np.int64(t_start + q.max_duration_s),
                         change, stop_ok, np.int64(q.extra_change_s),
                         self._no_prior(len(st.result), True) if prior is None else prior)
        result = raptor.rounds(True, tt, thr, lv, query, fp, bounds, self._static, st.labels(),
                               self._no_seeds if seeds is None else seeds)
        journeys = [self._reconstruct(st, k, int(st.target_stop[k]), int(st.target_via[k]),
                                      t_start, live)
                    for k in range(len(result)) if result[k] < INF]
        return _pareto(journeys, lambda j: j.arrival)

    def _no_prior(self, rounds: int, fwd: bool) -> np.ndarray:
        """The kernels' `prior` that bounds nothing (read-only, one per size and way)."""
        a = self._priors.get((rounds, fwd))
        if a is None:
            a = self._priors[rounds, fwd] = _frozen(np.full(rounds, INF if fwd else -INF,
                                                            np.int64))
        return a

    def _through_legs(self, thr: int, day: int, board: int, alight: int) -> list[Leg]:
        """A ride on a through trip as the legs of its two trips (the second seated)."""
        first = int(self.net.thr_trip_first[thr])
        second = int(self.net.thr_trip_second[thr])
        join = self._last_pos(first)
        if alight <= join:
            return [self._trip_leg(first, day, board, alight, False)]
        if board >= join:
            return [self._trip_leg(second, day, board - join, alight - join, False)]
        return [self._trip_leg(first, day, board, join, False),
                self._trip_leg(second, day, 0, alight - join, True)]

    def _last_pos(self, trip: int) -> int:
        p = int(self.net.trip_pattern[trip])
        return int(self.net.pattern_stop_offsets[p + 1] - self.net.pattern_stop_offsets[p]) - 1

    def _trip_time(self, trip: int, day: int, pos: int, arrival: bool) -> int:
        net = self.net
        base = int(net.tz_reference_utc[net.trip_tz[trip], day])
        col = net.st_arr if arrival else net.st_dep
        return base + int(col[net.trip_st_start[trip] + pos])

    def _stop_at(self, trip: int, pos: int) -> int:
        p = int(self.net.trip_pattern[trip])
        return int(self.net.pattern_stops[self.net.pattern_stop_offsets[p] + pos])

    def _live_leg(self, live: LiveTrips, inst: int, board: int, alight: int) -> Leg:
        o = int(live.offsets[inst])
        return Leg("trip", int(live.stops[o + board]), int(live.stops[o + alight]),
                   int(live.dep[o + board]), int(live.arr[o + alight]), int(live.trip[inst]),
                   int(live.day[inst]), board, alight, False, inst)

    def trip_leg(self, trip: int, day: int, board: int, alight: int) -> Leg:
        """A ride on a trip instance between two positions, at the timetable's times."""
        return self._trip_leg(trip, day, board, alight, False)

    def _trip_leg(self, trip: int, day: int, board: int, alight: int, seated: bool) -> Leg:
        return Leg("trip", self._stop_at(trip, board), self._stop_at(trip, alight),
                   self._trip_time(trip, day, board, False),
                   self._trip_time(trip, day, alight, True), trip, day, board, alight,
                   bool(seated))

    def _reconstruct(self, st: _State, k: int, s: int, via: int, t_start: int,
                     live: LiveTrips) -> Journey:
        legs: list[Leg] = []
        rules = self.net.rules
        g = -1  # via 5: the label of arrival group g (trip-specific rules)
        if via in (3, 4):
            g = int(st.target_src[k])
            if via == 4:  # walked from the group's stop to the destination stop s
                f, a = int(rules[11][g]), int(st.sp[raptor.SP_ARR, k, g])
                legs.append(Leg("walk", f, s, a, a + self._walk_s(f, s)))
            last, s, via = s, int(rules[11][g]), 5
        else:
            last = s
        while True:
            if via == 2:  # the origin
                break
            if via == 1:  # walked here from a stop reached in the same round
                f = int(st.pw_from[k, s])
                dur = int(st.arr_walk[k, s])
                if f < 0:
                    break
                start = int(st.arr_trip[k, f]) if k > 0 else int(st.arr_walk[0, f])
                legs.append(Leg("walk", f, s, start, dur))
                s = f
                via = 0 if k > 0 else 2
                continue
            lab = _Label.of_group(st, k, g) if via == 5 else _Label.of_stop(st, k, s)
            t, d = lab.trip, lab.day
            if t <= THR_BASE:
                legs.extend(reversed(self._through_legs(THR_BASE - t, d, lab.board_pos,
                                                        lab.alight_pos)))
            elif t <= -2:
                legs.append(self._live_leg(live, -2 - t, lab.board_pos, lab.alight_pos))
            else:
                legs.append(self._trip_leg(t, d, lab.board_pos, lab.alight_pos,
                                           lab.prev_trip >= 0))
            b = lab.board_stop
            if t > -2 and lab.prev_trip >= 0:  # seated from the block's first trip
                chain = [lab.prev_trip]
                while chain[-1] != t:
                    chain.append(int(self.net.trip_next_in_block[chain[-1]]))
                for i in range(len(chain) - 2, -1, -1):
                    board = lab.prev_board_pos if i == 0 else 0
                    legs.append(self._trip_leg(chain[i], d, board, self._last_pos(chain[i]),
                                               i > 0))
                b = lab.prev_board_stop
            k -= 1
            if lab.src >= 0:  # boarded from an arrival group's label (and walked, maybe)
                g = int(rules[13][lab.src])
                f, a = int(rules[11][g]), int(st.sp[raptor.SP_ARR, k, g])
                if f != b:
                    legs.append(Leg("walk", f, b, a, a + self._walk_s(f, b)))
                s, via = f, 5
                continue
            s = b
            via = int(st.ready_via[k, s])
        legs.reverse()
        trips = sum(1 for leg in legs if leg.kind == "trip" and not leg.stay_seated)
        legs = _settle_walks(legs)
        at_origin = int(st.arr_walk[0, s])  # a journey without legs: at an origin stop
        departure = legs[0].departure if legs else at_origin
        first = legs[0].from_stop if legs else s
        arrival = legs[-1].arrival if legs else at_origin
        return Journey(legs, first, last, departure, arrival, trips)

    def _walk_s(self, a: int, b: int) -> int:
        """Seconds of the footpath a -> b (0 where a rule joins two stops without one)."""
        lo, hi = int(self.net.fp_offsets[a]), int(self.net.fp_offsets[a + 1])
        hit = np.flatnonzero(np.asarray(self.net.fp_to[lo:hi]) == b)
        return int(self.net.fp_duration_s[lo + hit[0]]) if len(hit) else 0

    def _departure_times(self, q: Query, window_s: int) -> set[int]:
        """Instants at which leaving the origin catches a trip just in time: the departures
        of the origin stops (and of the stops a footpath away), less the walk there."""
        net = self.net
        walks: dict[int, int] = {}
        for stop, access in q.origins:
            walks[stop] = min(walks.get(stop, INF), access)
            if q.walk_from_origins:
                for f in range(net.fp_offsets[stop], net.fp_offsets[stop + 1]):
                    to = int(net.fp_to[f])
                    walks[to] = min(walks.get(to, INF), access + int(net.fp_duration_s[f]))
        times: set[int] = {q.time}
        for s, walk in walks.items():
            t0 = q.time + walk
            found, _, _ = _departures(
                np.array([s], np.int64), net.ev_offsets, net.ev_trip, net.ev_dep, net.ev_tz,
                net.trip_service, net.service_days, net.tz_reference_utc, np.int64(t0),
                np.int64(t0 + window_s), np.int64(net.max_days_back), np.int64(100_000))
            times.update(int(x) - walk for x in found)
        return times


def _pareto(journeys: list[Journey], cost: Callable[[Journey], int]) -> list[Journey]:
    """The journeys no other one beats on both `cost` and trips. One found in round k may
    take fewer than k trips (seated block continuations are not counted), and then equal
    a journey of an earlier round that it should not stand beside."""
    out: list[Journey] = []
    for j in sorted(journeys, key=lambda j: (j.trips, cost(j))):
        if not out or cost(j) < cost(out[-1]):
            out.append(j)
    return out


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def _read_only(a: np.ndarray) -> np.ndarray:
    """A read-only view of a caller's array (the caller's own stays writable)."""
    if not a.flags.writeable:
        return a
    v = a.view()
    v.setflags(write=False)
    return v


def _settle_walks(legs: list[Leg]) -> list[Leg]:
    """Walks before the first trip end when it leaves (leave as late as possible); walks
    after a trip start when it arrives."""
    out = list(legs)
    trip_at = [i for i, leg in enumerate(out) if leg.kind == "trip"]
    if not trip_at:
        return out
    t = out[trip_at[0]].departure
    for j in range(trip_at[0] - 1, -1, -1):
        dur = out[j].arrival - out[j].departure
        out[j] = Leg("walk", out[j].from_stop, out[j].to_stop, t - dur, t)
        t -= dur
    for j in range(trip_at[0] + 1, len(out)):
        if out[j].kind == "walk":
            start = out[j - 1].arrival
            dur = out[j].arrival - out[j].departure
            out[j] = Leg("walk", out[j].from_stop, out[j].to_stop, start, start + dur)
    return out


def _range_prior(later: np.ndarray, reach: int) -> np.ndarray:
    """What an earlier departure's search need not reach in each round k: a key at an end
    no better than `later[k - 1]`, or worse than `later[k]` (the best keys the later
    departures reached within k - 1 and k rounds; read-only).

    Whatever a later departure reaches, an earlier one reaches too, in as many rounds: a
    fresh search's round k only gives a journey beating its own rounds before (so beating
    `later[k - 1]`) and no worse than `later[k]`; it gives exactly those still. Keys
    beyond `reach` (the search's horizon, plus the shortest walk to the destination) are
    left out: journeys arriving that late are not the earlier search's to find."""
    bound = np.where(later <= reach, later, INF)
    return _frozen(np.minimum(bound + 1, np.r_[INF, bound[:-1]]))


def _pareto_by_departure(journeys: list[Journey]) -> list[Journey]:
    """Drop journeys another one dominates (leaves no earlier, arrives no later, with no
    more transfers), and duplicates."""
    keep: list[Journey] = []
    for j in journeys:
        dominated = any(
            o is not j and o.departure >= j.departure and o.arrival <= j.arrival
            and o.trips <= j.trips and (o.departure, o.arrival, o.trips) != (
                j.departure, j.arrival, j.trips)
            for o in journeys)
        if not dominated and all((o.departure, o.arrival, o.trips) != (
                j.departure, j.arrival, j.trips) for o in keep):
            keep.append(j)
    return keep
