"""Benchmark of 60-minute range queries (`depart_in_range`) against single `depart_at`
queries on a compiled network (not collected by pytest).

For `--queries` seeded random (origin stop, destination stop, time) triples (as
bench_journeys draws them: stops with departures, local 05:00-22:59, max_transfers 5), each
round times depart_at and then depart_in_range (60 min) on every query; rounds interleave
the two so that machine noise falls on both alike. Prints p50/p95 of each (the median over
the rounds of each query's time first) and the ratio of the p50s (range / depart_at).

    .venv/bin/python tests/benchmarks/bench_range.py --data-dir /work/ba
        [--network NAME] [--queries 100] [--rounds 3] [--dump FILE]
        [--coords N] [--cpu] [--times FILE]

--cpu: time by the thread's CPU time (time.thread_time), not the wall clock, which on a
shared machine counts the time other processes hold the cores. --times FILE: save each
query's times (depart_at and range, median over the rounds; numpy .npy, 2 rows) to compare
two checkouts query by query.

--dump FILE: every range answer (and, with --coords N, N more queries from several origin
and destination stops with walks, as coordinates give), one journey list a line, written
with repr (every field of every leg); `cmp` two checkouts' files to show a change keeps the
answers field for field.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

SEED = 20180829
WINDOW_S = 3600
MAX_TRANSFERS = 5
DAY = datetime(2018, 8, 29, tzinfo=ZoneInfo("America/Los_Angeles"))


def queries_of(tt: Any, n: int, rng: np.random.Generator) -> list[tuple[int, int, int]]:
    ev = np.asarray(tt.ev_offsets)
    stops = np.flatnonzero(ev[1:] > ev[:-1])
    base = int(datetime.combine(DAY.date(), dtime(0), tzinfo=DAY.tzinfo).timestamp())
    out = []
    for _ in range(n):
        o, d = (int(x) for x in rng.choice(stops, 2, replace=False))
        out.append((o, d, base + int(rng.integers(5 * 60, 23 * 60)) * 60))
    return out


def near(net: Any, s: int, rng: np.random.Generator, same: bool) -> list[tuple[int, int]]:
    """Stop s and the stops a footpath away, each with a walk of its own (as a coordinate
    between them would give), or (`same`) all with one walk (as a station's stops)."""
    lo, hi = int(net.fp_offsets[s]), int(net.fp_offsets[s + 1])
    one = int(rng.integers(0, 300))
    out = {s: one if same else int(rng.integers(0, 300))}
    for f in range(lo, min(hi, lo + 4)):
        out.setdefault(int(net.fp_to[f]), one if same else int(net.fp_duration_s[f]) + int(
            rng.integers(0, 300)))
    return sorted(out.items())


def main() -> int:
    from transit.routing.network import Network
    from transit.routing.search import Query, Searcher
    from transit.timetable.store import Store

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--network", default="catalog-bayarea-2018-71dbfe5b")
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dump", type=Path)
    ap.add_argument("--coords", type=int, default=0)
    ap.add_argument("--cpu", action="store_true")
    ap.add_argument("--times", type=Path)
    args = ap.parse_args()
    tt = Store(args.data_dir, args.network).load_current()
    net = Network.of(tt)
    searcher = Searcher(net)
    rng = np.random.default_rng(SEED)
    qs = queries_of(tt, args.queries + 2, rng)

    def query(o: int, d: int, t: int) -> Query:
        return Query(origins=[(o, 0)], destinations=[(d, 0)], time=t,
                     max_transfers=MAX_TRANSFERS)

    for o, d, t in qs[:2]:  # numba compiles (or loads its cache) on the first calls
        searcher.depart_at(query(o, d, t))
        searcher.depart_in_range(query(o, d, t), WINDOW_S)
    qs = qs[2:]
    if args.dump:
        with args.dump.open("w") as f:
            for o, d, t in qs:
                f.write(repr(searcher.depart_in_range(query(o, d, t), WINDOW_S)) + "\n")
            crng = np.random.default_rng(SEED + 1)
            for i, (o, d, t) in enumerate(queries_of(tt, args.coords, crng)):
                cq = Query(origins=near(net, o, crng, i % 2 == 0),
                           destinations=near(net, d, crng, i % 2 == 0), time=t,
                           max_transfers=int(crng.integers(0, MAX_TRANSFERS + 1)))
                f.write(repr(searcher.depart_in_range(cq, WINDOW_S)) + "\n")
        return 0
    clock = time.thread_time if args.cpu else time.perf_counter
    at = np.zeros((args.rounds, len(qs)))
    ranged = np.zeros((args.rounds, len(qs)))
    for r in range(args.rounds):
        for i, (o, d, t) in enumerate(qs):
            q = query(o, d, t)
            t0 = clock()
            searcher.depart_at(q)
            t1 = clock()
            searcher.depart_in_range(q, WINDOW_S)
            t2 = clock()
            at[r, i], ranged[r, i] = t1 - t0, t2 - t1
    a, g = np.median(at, axis=0), np.median(ranged, axis=0)
    if args.times:
        np.save(args.times, np.stack([a, g]))
    pa, pg = np.percentile(a, 50), np.percentile(g, 50)
    print(f"depart_at  p50 {pa * 1e3:.2f} ms  p95 {np.percentile(a, 95) * 1e3:.2f} ms")
    print(f"range 60m  p50 {pg * 1e3:.2f} ms  p95 {np.percentile(g, 95) * 1e3:.2f} ms")
    print(f"ratio p50 range / depart_at {pg / pa:.2f}  (per query, median of ratios "
          f"{np.median(g / a):.2f})")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
