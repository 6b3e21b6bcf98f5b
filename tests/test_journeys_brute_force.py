"""The engine against an independent brute force (tests/routing_reference.py) on random
networks: the earliest arrival with at most k trips, for every k, must be equal (depart_at,
arrive_by, windows, trip-specific rules, starting aboard)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, time
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from tests.journey_support import show
from tests.journey_worlds import (
    RANDOM_DATES,
    World,
    _compare,
    engine_best,
    engine_journey_problems,
    random_queries,
)
from tests.routing_reference import (
    INF,
    Reference,
    pareto_front,
)
from transit.routing import raptor
from transit.routing.search import Journey, Query, Searcher, Seed, _pareto_by_departure


def test_depart_at_equals_the_brute_force_on_random_networks(random_worlds) -> None:
    _depart_at_against_the_brute_force(random_worlds, 100, 40, 200)


def test_depart_at_honours_trip_specific_rules_as_the_brute_force(ruled_worlds) -> None:
    """Trip- and route-specific transfers.txt rules: the earliest arrival per number of trips
    equals the brute force's, which applies the most specific rule to every change."""
    assert sum(len(r.rules) for w in ruled_worlds for r in w.raws) >= 100
    _depart_at_against_the_brute_force(ruled_worlds, 400, 60, 250)


def _depart_at_against_the_brute_force(worlds: list[World], seed0: int, per_world: int,
                                       at_least: int) -> None:
    problems, n = [], 0
    for seed, w in enumerate(worlds):
        rng = random.Random(seed0 + seed)
        stops = sorted(w.tt.stop_index)
        for ref, origins, dests, t0, k, extra, walk in random_queries(
                rng, w, stops, RANDOM_DATES, per_world):
            n += 1
            best = ref.earliest_by_trips(origins, dests, t0, k + 1, 24 * 3600, extra, walk)
            js = w.searcher.depart_at(w.query(origins, dests, t0, k, extra, walk))
            label = f"[net {seed}] {origins} -> {dests} at {show(t0)} max_transfers={k} " \
                    f"slack={extra}"
            cap = t0 + 23 * 3600
            found = _compare(w, label, best, engine_best(w, js, dests, k + 1), cap, ref, js)
            egress = {w.tt.stop_index[s]: e for s, e in dests}
            front = sorted((j.arrival + egress[j.last_stop], j.trips) for j in js)
            want = sorted(x for x in pareto_front(best) if x[0] <= cap)
            if not found and [x for x in front if x[0] <= cap] != want:
                found.append(f"{label}: not the Pareto set: {[w.describe(j) for j in js]}, "
                             f"brute force {[(show(a), b) for a, b in want]}")
            for j in js:
                found += [f"{label}: {m}" for m in engine_journey_problems(
                    w, ref, j, origins, t0, extra)]
            problems += found
    assert n >= at_least
    assert not problems, f"{len(problems)} problems in {n} queries:\n" + "\n".join(problems[:12])


def test_from_trip_equals_the_brute_force_on_random_networks(ruled_worlds) -> None:
    """A rider aboard a random trip instance under way (random networks with trip- and
    route-specific transfers.txt rules, blocks, several service days): the earliest arrival
    per number of trips equals the brute force's started aboard the same instance, the
    answer is its Pareto set, and every journey is valid (the change off the trip ridden
    included)."""
    problems, n, changed = [], 0, 0
    for seed, w in enumerate(ruled_worlds):
        rng = random.Random(600 + seed)
        stops = sorted(w.tt.stop_index)
        asked = 0
        while asked < 40:
            d = rng.choice(RANDOM_DATES)
            ref = w.ref(d)
            midnight = int(datetime.combine(d, time(0), ZoneInfo(w.tz)).timestamp())
            t0 = midnight + rng.randrange(4 * 3600, 26 * 3600, 60)
            running = [x for x in ref.instances if x.stops[0][2] <= t0 < x.stops[-1][1]]
            if not running:
                continue
            inst = rng.choice(running)
            pos = max(p for p, x in enumerate(inst.stops[:-1]) if x[2] <= t0)
            dd = rng.choice(stops)
            dests = [(dd, 0)] if rng.random() < 0.7 else [(dd, 60)] + [
                (q, 60 + x) for q, x in ref.footpaths.get(dd, [])]
            k, extra = rng.randint(0, 3), rng.choice([0, 0, 60, 180])
            n, asked = n + 1, asked + 1
            trip_id, day = inst.key  # type: ignore[misc]
            aboard = Seed(w.tt.trip_index[trip_id], w.tt.day_of(date.fromisoformat(day)), pos,
                          np.array([x[1] for x in inst.stops], np.int64),
                          np.array([x[2] for x in inst.stops], np.int64))
            js = w.searcher.depart_aboard(w.query([], dests, t0, k, extra), aboard)
            best = ref.earliest_by_trips([], dests, t0, k + 1, 24 * 3600, extra,
                                         aboard=(inst.key, pos))
            label = f"[net {seed}] aboard {inst.key} from {inst.stops[pos][0]} at " \
                    f"{show(t0)} -> {dests} max_transfers={k} slack={extra}"
            cap = t0 + 23 * 3600
            found = _compare(w, label, best, engine_best(w, js, dests, k + 1), cap, ref, js)
            egress = {w.tt.stop_index[s]: e for s, e in dests}
            front = sorted((j.arrival + egress[j.last_stop], j.trips) for j in js)
            want = sorted(x for x in pareto_front(best) if x[0] <= cap)
            if not found and [x for x in front if x[0] <= cap] != want:
                found.append(f"{label}: not the Pareto set: {[w.describe(j) for j in js]}, "
                             f"brute force {[(show(a), b) for a, b in want]}")
            for j in js:
                first = j.legs[0]
                if (first.trip, first.day, first.board_pos) != (aboard.trip, aboard.day, pos):
                    found.append(f"{label}: does not start aboard: {w.describe(j)}")
                found += [f"{label}: {m}" for m in engine_journey_problems(
                    w, ref, j, [], inst.stops[pos][2], extra, aboard=True)]
            changed += any(j.trips > 1 for j in js)
            problems += found
    assert changed >= 60, (n, changed)
    assert not problems, f"{len(problems)} problems in {n} queries:\n" + "\n".join(problems[:12])


def test_arrive_by_equals_the_brute_force_on_random_networks(random_worlds) -> None:
    """For each k the latest departure found by arrive_by(T) with at most k trips arrives by T
    when searched forward (brute force), and no later departure does."""
    _arrive_by_against_the_brute_force(random_worlds, 200, 12, 60)


def test_arrive_by_honours_trip_specific_rules_as_the_brute_force(ruled_worlds) -> None:
    _arrive_by_against_the_brute_force(ruled_worlds, 500, 12, 60)


def _arrive_by_against_the_brute_force(worlds: list[World], seed0: int, per_world: int,
                                       at_least: int) -> None:
    problems, n = [], 0
    for seed, w in enumerate(worlds):
        rng = random.Random(seed0 + seed)
        stops = sorted(w.tt.stop_index)
        for ref, origins, dests, t_end, k, extra, walk in random_queries(
                rng, w, stops, RANDOM_DATES, per_world):
            n += 1
            horizon = 12 * 3600
            js = w.searcher.arrive_by(w.query(origins, dests, t_end, k, extra, walk, horizon))
            access = dict(origins)
            ids = w.tt.strings("stop_id")
            got = [-INF] * (k + 2)
            for j in js:
                dep = j.departure - access[ids[j.first_stop]]
                for kk in range(j.trips, k + 2):
                    got[kk] = max(got[kk], dep)
            want = ref.latest_by_trips(origins, dests, t_end, k + 1, horizon, extra, walk)
            label = f"[net {seed}] {origins} -> {dests} by {show(t_end)} max_transfers={k} " \
                    f"slack={extra}"
            if got != want:
                problems.append(f"{label}: latest departure by number of trips "
                                f"{[show(x) for x in got]}, brute force "
                                f"{[show(x) for x in want]}; the engine: "
                                f"{[w.describe(j) for j in js]}")
            for kk, dep in enumerate(got):
                if dep > -INF and ref.earliest_by_trips(origins, dests, dep, kk, horizon, extra,
                                                        walk)[kk] > t_end:
                    problems.append(f"{label}: leaving at {show(dep)} with {kk} trips does not "
                                    f"arrive by {show(t_end)}")
    assert n >= at_least
    assert not problems, f"{len(problems)} problems in {n} queries:\n" + "\n".join(problems[:12])


def test_departure_window_equals_the_brute_force_on_random_networks(random_worlds) -> None:
    """depart_in_range(t0, window): every Pareto-optimal journey (later departure, earlier
    arrival, fewer trips) leaving in [t0, t0 + window] is listed, unless one leaving after
    the window does as well; nothing listed is dominated by a journey leaving in the window
    (journeys with trips)."""
    problems, n = [], 0
    for seed, w in enumerate(random_worlds):
        rng = random.Random(300 + seed)
        stops = sorted(w.tt.stop_index)
        for ref, origins, dests, t0, k, extra, walk in random_queries(
                rng, w, stops, RANDOM_DATES, 8):
            if not walk:
                continue
            n += 1
            window = rng.choice([30, 60, 120]) * 60
            js = w.searcher.depart_in_range(w.query(origins, dests, t0, k, extra, walk), window)
            got = sorted({(j.departure, j.arrival, j.trips) for j in js if j.trips})
            want = _window_reference(ref, origins, dests, t0, window, k + 1, extra)
            label = f"[net {seed}] {origins} -> {dests} from {show(t0)} for {window // 60} " \
                    f"min, max_transfers={k} slack={extra}"
            after = ref.earliest_by_trips(origins, dests, t0 + window + 1, k + 1, 24 * 3600,
                                          extra)
            missing = [t for t in want if not any(
                g[0] >= t[0] and g[1] <= t[1] and g[2] <= t[2] for g in got)
                and after[t[2]] > t[1]]
            dominated = [g for g in got if not t0 <= g[0] <= t0 + window or any(
                t != g and t[0] >= g[0] and t[1] <= g[1] and t[2] <= g[2] for t in want)]
            if missing or dominated:
                problems.append(f"{label}: missing {[(show(a), show(b), c) for a, b, c in missing]}"
                                f", dominated {[(show(a), show(b), c) for a, b, c in dominated]};"
                                f" the engine: {[w.describe(j) for j in js]}")
    assert n >= 30
    assert not problems, f"{len(problems)} problems in {n} queries:\n" + "\n".join(problems[:8])


def test_departure_window_equals_a_search_per_departure_afresh(random_worlds,
                                                                ruled_worlds) -> None:
    """depart_in_range passes each departure's search bounds from the later ones; its
    journeys are those of a fresh search per departure, leg for leg (stop to stop, from a
    station's stops with one walk to another's, and with walks of their own), and the
    bounds leave the searches fewer labels to set."""
    problems, n, uniform, fresh_found, found = [], 0, 0, [0], [0]
    for seed, w in enumerate([*random_worlds, *ruled_worlds]):
        rng = random.Random(700 + seed)
        stops = sorted(w.tt.stop_index)
        for ref, origins, dests, t0, k, extra, walk in random_queries(
                rng, w, stops, RANDOM_DATES, 30):
            if rng.random() < 0.3:  # a station: the stop and its neighbours, one walk
                a = rng.choice([0, 120])
                origins = [(s, a) for s in {origins[0][0], *(q for q, _ in ref.footpaths.get(
                    origins[0][0], []))}]
                dests = [(s, a) for s in {dests[0][0], *(q for q, _ in ref.footpaths.get(
                    dests[0][0], []))}]
            q = w.query(sorted(origins), sorted(dests), t0, k, extra, walk)
            window = rng.choice([30, 60, 120]) * 60
            n += 1
            uniform += len({a for _, a in q.origins}) == 1 == len({e for _, e in q.destinations})
            want = _afresh(w.searcher, q, window, fresh_found)
            got = _counted(w.searcher, found, partial(w.searcher.depart_in_range, q, window))
            if got != want:
                problems.append(f"[net {seed}] {origins} -> {dests} from {show(t0)} for "
                                f"{window // 60} min, max_transfers={k}: "
                                f"{[w.describe(j) for j in got]}, afresh "
                                f"{[w.describe(j) for j in want]}")
    assert n >= 300 and uniform >= 200
    assert not problems, f"{len(problems)} problems in {n} queries:\n" + "\n".join(problems[:8])
    assert found[0] < fresh_found[0], (found, fresh_found)


def _afresh(s: Searcher, q: Query, window_s: int, count: list[int]) -> list[Journey]:
    """depart_in_range as it was: one search per departure, latest first, nothing passed
    from one to the next; the journeys the searches found are added to count[0]."""
    found: list[Journey] = []
    for t in sorted(s._departure_times(q, window_s), reverse=True):
        found.extend(_counted(s, count, lambda t=t: s._run_forward(
            q, t, s._state(q.max_transfers + 2))))
    out = _pareto_by_departure([j for j in found if j.departure <= q.time + window_s])
    out.sort(key=lambda j: (j.departure, j.arrival, j.trips))
    return out


def _counted(s: Searcher, count: list[int], run: Callable[[], list[Journey]]
             ) -> list[Journey]:
    """run(), adding to count[0] the labels the searches it made set (reached by a trip)."""
    inner = s._run_forward

    def counting(q: Query, t: int, st: Any, *args: Any, **kw: Any) -> list[Journey]:
        out = inner(q, t, st, *args, **kw)
        count[0] += int(np.count_nonzero(st.arr_trip < raptor.INF))
        return out

    s._run_forward = counting  # type: ignore[method-assign]
    try:
        return run()
    finally:
        del s._run_forward


def _window_reference(ref: Reference, origins: list[tuple[str, int]],
                      dests: list[tuple[str, int]], t0: int, window: int, max_trips: int,
                      extra: int) -> list[tuple[int, int, int]]:
    """(departure, arrival, trips) of the Pareto set of the journeys (with trips) leaving
    in [t0, t0 + window]."""
    end = t0 + window
    cands = [t0, *(x for x in ref.candidate_departures(origins, t0, end) if x > t0)]
    triples = set()
    for i, c in enumerate(cands):
        b = ref.earliest_by_trips(origins, dests, c, max_trips, 24 * 3600, extra, True, end)
        for k in range(1, max_trips + 1):
            if b[k] >= INF or b[k] == b[k - 1]:
                continue
            # the journey leaves at the latest departure that still makes it
            dep = c
            for x in cands[i + 1:]:
                if ref.earliest_by_trips(origins, dests, x, k, 24 * 3600, extra, True,
                                         end)[k] != b[k]:
                    break
                dep = x
            triples.add((dep, b[k], k))
    return sorted(t for t in triples if not any(
        o != t and o[0] >= t[0] and o[1] <= t[1] and o[2] <= t[2] for o in triples))
