"""Benchmark of the KPI recording cost per realtime update (not collected by pytest).

The 29 merged Bay Area feeds of ../shared/data/gtfs/bayarea-511-2018 as of 2018-08-29
08:00; trip-updates feeds generated as in bench_realtime.py (10,000 trip instances running
that day, 3 stop_time_updates each, one FULL_DATASET FeedMessage per operator). Every
operator pushes every 30 s of the service clock for --rounds rounds (29 updates a round),
through LiveState.publish on the memory backend:

1. apply without a recorder (publish: store, apply, overlay swap), per update;
2. apply with the recorder observing (its cost in the apply path: one enqueue), per update;
3. the recorder's own work, in its thread: aggregation per update, and the flush (batched
   upserts) on SQLite (a file) and PostgreSQL (TRANSIT_TEST_DATABASE_URL), every 5 updates
   (5 s at 29 operators every 30 s), per update.
Two load cases: `stable` (the feeds repeat, as departed stops keep their times; only new
departures change) and `jitter` (every trip's delay moves each round: every trip with a
departed stop is rewritten, the worst case).

Prints per-update costs and the share of one CPU core they take at 29 operators / 30 s.

    TRANSIT_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python tests/benchmarks/bench_kpis.py [--rounds 10] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from google.transit import gtfs_realtime_pb2 as pb

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "benchmarks"))
PG_URL = os.environ.get("TRANSIT_TEST_DATABASE_URL", "").strip()

from bench_realtime import BAY_AT, bay_feeds, generate, warm  # noqa: E402

from tests.conftest import DATA, catalog_of  # noqa: E402
from tests.databases import pg_schema  # noqa: E402
from tests.realtime_support import MutableClock  # noqa: E402
from transit.db import migrate  # noqa: E402
from transit.db.engine import Database  # noqa: E402
from transit.ingest.pipeline import ingest  # noqa: E402
from transit.kpis.recorder import KpiRecorder  # noqa: E402
from transit.kpis.store import KpiStore  # noqa: E402
from transit.realtime.backends import MemoryBackend  # noqa: E402
from transit.realtime.overlay import FeedResult  # noqa: E402
from transit.realtime.state import LiveState  # noqa: E402
from transit.timetable.store import Store  # noqa: E402
from transit.timetable.timetable import Timetable  # noqa: E402

PERIOD_S = 30
FLUSH_EVERY = 5  # updates: 29 operators every 30 s is ~1 update/s, flushed every 5 s
SEED = 11


def ms(x: float) -> str:
    return f"{x * 1e3:8.2f} ms"


def line(label: str, value: str) -> None:
    print(f"  {label:<64} {value:>12}", flush=True)


def rounds_of(msgs: dict[str, pb.FeedMessage], n: int, jitter: bool, start: int
              ) -> Iterator[tuple[int, list[tuple[str, pb.FeedMessage]]]]:
    """(service-clock instant, the 29 operators' messages) per round of 30 s."""
    rng = random.Random(SEED)
    for k in range(n):
        now = start + k * PERIOD_S
        out = []
        for op, template in msgs.items():
            m = pb.FeedMessage()
            m.CopyFrom(template)
            m.header.timestamp = now - 5
            if jitter:
                for e in m.entity:
                    for u in e.trip_update.stop_time_update:
                        if u.departure.HasField("delay"):
                            u.departure.delay += rng.randint(-20, 20)
                        elif u.departure.time:
                            shift = rng.randint(-20, 20)
                            u.departure.time += shift
                            u.arrival.time += shift
            out.append((op, m))
        yield now, out


@contextmanager
def databases(work: Path) -> Iterator[list[tuple[str, Database]]]:
    dbs = [("SQLite", Database(f"sqlite:///{work / 'kpis.db'}"))]
    if not PG_URL:
        print("  (PostgreSQL skipped: TRANSIT_TEST_DATABASE_URL is not set)")
        for _, db in dbs:
            migrate.upgrade(db)
        yield dbs
        return
    with pg_schema(PG_URL) as url:
        dbs.append(("PostgreSQL", Database(url)))
        for _, db in dbs:
            migrate.upgrade(db)
        yield dbs
    for _, db in dbs:
        db.dispose()


def run_case(tt: Timetable, msgs: dict[str, pb.FeedMessage], rounds: int, jitter: bool,
             db: Database | None) -> dict[str, float]:
    """One pass over the rounds; returns per-update medians (seconds) and counters."""
    start = int(BAY_AT.timestamp())
    clock = MutableClock(BAY_AT)
    state = LiveState(MemoryBackend(), clock, lambda: tt)
    recorder = None
    observe_t: list[float] = []
    if db is not None:
        recorder = KpiRecorder(KpiStore(db), clock, interval_s=3600)

        def observe(tt: Timetable, result: FeedResult, now: int) -> None:
            t0 = time.perf_counter()
            recorder.observe(tt, result, now)  # type: ignore[union-attr]
            observe_t.append(time.perf_counter() - t0)

        state.add_observer(observe)
    apply_t: list[float] = []
    agg_t: list[float] = []
    flush_t: list[float] = []
    agg_cpu: list[float] = []  # CPU time of this thread: what other processes' load
    flush_cpu: list[float] = []  # on the machine does not inflate
    rows = 0
    n = 0
    for now, batch in rounds_of(msgs, rounds, jitter, start):
        clock.instant = BAY_AT.fromtimestamp(now, BAY_AT.tzinfo)
        for op, m in batch:
            t0 = time.perf_counter()
            state.publish(op, m, "trip-updates")
            apply_t.append(time.perf_counter() - t0)
            if recorder is None:
                continue
            t0, c0 = time.perf_counter(), time.thread_time()
            recorder.aggregate()
            agg_t.append(time.perf_counter() - t0)
            agg_cpu.append(time.thread_time() - c0)
            n += 1
            if n % FLUSH_EVERY == 0:
                t0, c0 = time.perf_counter(), time.thread_time()
                rows += recorder.flush()
                flush_t.append((time.perf_counter() - t0) / FLUSH_EVERY)
                flush_cpu.append((time.thread_time() - c0) / FLUSH_EVERY)
    out = {"apply": statistics.median(apply_t), "apply_mean": statistics.fmean(apply_t)}
    if recorder is not None:
        out |= {"observe": statistics.fmean(observe_t), "aggregate": statistics.fmean(agg_t),
                "flush": statistics.fmean(flush_t), "aggregate_cpu": statistics.fmean(agg_cpu),
                "flush_cpu": statistics.fmean(flush_cpu),
                "rows_per_flush": rows / max(1, len(flush_t)),
                "trips": recorder.trips_in_memory}
    return out


def report(name: str, base: dict[str, float], with_rec: dict[str, float], n_ops: int) -> None:
    per_update = with_rec["aggregate"] + with_rec["flush"]
    line(f"[{name}] apply per update with the recorder observing, median",
         ms(with_rec["apply"]))
    line(f"[{name}]   the observer call in the apply path (enqueue), mean",
         f"{with_rec['observe'] * 1e6:8.2f} us")
    line(f"[{name}] recorder aggregation per update (its thread), mean",
         ms(with_rec["aggregate"]))
    line(f"[{name}]   of which CPU time of the thread", ms(with_rec["aggregate_cpu"]))
    line(f"[{name}] flush (batched upsert) per update, mean", ms(with_rec["flush"]))
    line(f"[{name}]   of which CPU time of the thread (without the database server's)",
         ms(with_rec["flush_cpu"]))
    line(f"[{name}]   rows written per flush of {FLUSH_EVERY} updates",
         f"{with_rec['rows_per_flush']:10.0f}")
    line(f"[{name}] recording cost per update (aggregation + flush)", ms(per_update))
    line(f"[{name}]   = {per_update / base['apply_mean'] * 100:.1f} % of the mean apply cost; "
         f"{per_update * n_ops / PERIOD_S * 100:.2f} % of one core at {n_ops} ops / 30 s", "")
    line(f"[{name}] trip instances held in memory", f"{with_rec['trips']:10.0f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--trips", type=int, default=10_000)
    ap.add_argument("--data-dir", type=Path, default=None,
                    help="keep the compiled Bay Area timetable here (default: a temp dir)")
    args = ap.parse_args()
    if not DATA.exists():
        sys.exit(f"shared test data not found at {DATA}")
    print(f"bench_kpis  python {sys.version.split()[0]}  cpus {os.cpu_count()}  "
          f"rounds {args.rounds} x 29 operators, every {PERIOD_S} s of the service clock")
    with tempfile.TemporaryDirectory(prefix="bench-kpis-") as tmp:
        work = args.data_dir or Path(tmp)
        store = Store(work / "bay")
        if store.load_current() is None:
            t0 = time.perf_counter()
            ingest(catalog_of(bay_feeds()), store)
            print(f"  (ingest of the 29 feeds: {time.perf_counter() - t0:.1f} s)")
        tt = store.load_current()
        assert tt is not None
        warm(tt)
        msgs, n_active = generate(tt, args.trips, int(BAY_AT.timestamp()) - 5)
        n_tu = sum(len(m.entity) for m in msgs.values())
        print(f"  {n_active:,} trips run that day; {n_tu:,} trip updates in {len(msgs)} "
              "operator feeds")
        run_case(tt, msgs, 1, False, None)  # warm-up (compiled code, caches)
        with databases(Path(tmp)) as dbs:
            for jitter in (False, True):
                case = "jitter" if jitter else "stable"
                base = run_case(tt, msgs, args.rounds, jitter, None)
                print(f"\n{case}: feeds {'move every round' if jitter else 'repeat'}")
                line(f"[{case}] apply per update without a recorder, median",
                     ms(base["apply"]))
                for name, db in dbs:
                    report(f"{case}, {name}", base,
                           run_case(tt, msgs, args.rounds, jitter, db), len(msgs))
                    with db.engine.begin() as conn:  # the next case starts empty
                        for table in ("kpi_trips", "kpi_scheduled", "kpi_feeds",
                                      "kpi_rejections", "kpi_demand"):
                            conn.exec_driver_sql(f"DELETE FROM {table}")


if __name__ == "__main__":
    main()

