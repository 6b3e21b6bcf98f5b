"""Benchmark: journeys with fares vs without on the 29 merged Bay Area feeds (not collected
by pytest). Seeded random (origin stop, destination stop) pairs at 2018-08-29 07:00-19:00;
each query is planned with pricing and without, alternately, after a warm-up; prints p50/p95
of both, the ratio of medians and the pricing share, against the target (< 10% of the
journey search time), and how many journeys got a total.

    PYTHONPATH=. .venv/bin/python tests/benchmarks/bench_fares.py [--queries N] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.benchmarks.report import Table, p50_p95_ms  # noqa: E402
from transit.catalog import Catalog, Operator  # noqa: E402
from transit.fares.pricing import price_journey  # noqa: E402
from transit.fares.store import fares_for  # noqa: E402
from transit.ingest.pipeline import ingest  # noqa: E402
from transit.journeys import places, service  # noqa: E402
from transit.journeys.fares import fare_legs  # noqa: E402
from transit.timetable.store import Store  # noqa: E402

FEEDS = ROOT.parent / "shared" / "data" / "gtfs" / "bayarea-511-2018"
TZ = ZoneInfo("America/Los_Angeles")


def _unix(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--data-dir", type=Path, default=None)
    args = ap.parse_args()
    data = args.data_dir or Path(tempfile.mkdtemp(prefix="bench-fares-"))
    store = Store(data)
    if store.load_current() is None:
        zips = sorted(FEEDS.glob("*.zip"))
        ops = tuple(Operator(id=z.name.split("-")[0], name=z.stem, gtfs=str(z)) for z in zips)
        ingest(Catalog(ops), store)
    tt = store.load_current()
    assert tt is not None
    t0 = time.perf_counter()
    fares_for(tt)
    load_s = time.perf_counter() - t0
    rng = random.Random(13)
    ids = tt.strings("stop_id").to_list()
    parents = tt.stop_parent
    stops = [s for i, s in enumerate(ids) if parents[i] < 0]
    base = service.Options()
    detour = float(tt.meta["footpaths"]["detour"])
    queries = []
    for _ in range(args.queries):
        a, b = rng.sample(stops, 2)
        when = datetime(2018, 8, 29, 7, tzinfo=TZ) + timedelta(minutes=rng.randrange(720))
        queries.append((places.resolve(tt, "from", a, base.max_walk_m, base.walk_speed, detour),
                        places.resolve(tt, "to", b, base.max_walk_m, base.walk_speed, detour),
                        when))
    with_f, without_f, alone, priced, total_set = [], [], [], 0, 0
    unpriced: Counter[str] = Counter()
    for origin, dest, when in queries[:5]:  # warm-up (kernels, caches)
        service.plan(tt, origin, dest, when, False, base, ["en"])
    for origin, dest, when in queries:
        t = time.perf_counter()
        service.plan(tt, origin, dest, when, False, replace(base, fares=False), ["en"])
        without_f.append(time.perf_counter() - t)
        t = time.perf_counter()
        res = service.plan(tt, origin, dest, when, False, base, ["en"])
        with_f.append(time.perf_counter() - t)
        # plan answers a JourneyList's dict (transit.journeys.service)
        legs = [fare_legs(j, [(_unix(x["departure"]), _unix(x["arrival"])) for x in j["legs"]
                              if x["trip_id"]])[1] for j in res["journeys"]]
        t = time.perf_counter()
        for fl in legs:
            if fl:
                price_journey(fares_for(tt), fl, None)
        alone.append(time.perf_counter() - t)
        for j in res["journeys"]:
            if j["fare"] is not None:
                priced += 1
                total_set += j["fare"]["total"] is not None
                unpriced.update(j["legs"][i]["operator"] or "" for i in j["fare"]["unknown_legs"])
    m_with, m_without = statistics.median(with_f), statistics.median(without_f)
    share = (m_with - m_without) / m_without
    table = Table(f"Journeys with fares vs without, Bay Area (29 operators), "
                  f"{len(queries)} queries")
    table.add("fares loaded for the version (s)", f"{load_s:.3f}")
    table.add("without fares p50 / p95 (ms)", p50_p95_ms(without_f))
    table.add("with fares p50 / p95 (ms)", p50_p95_ms(with_f))
    table.add("ratio of medians (with / without)", f"{m_with / m_without:.3f}")
    table.add("pricing share of search time", f"{share * 100:.1f}%", "< 10%", share < 0.10)
    share_alone = statistics.median(alone) / m_without
    table.add("pricing alone per query p50 / p95 (ms)", p50_p95_ms(alone))
    table.add("pricing alone / search without fares", f"{share_alone * 100:.1f}%", "< 10%",
              share_alone < 0.10)
    table.add("transit journeys priced / with a total", f"{priced} / {total_set}")
    table.note("unpriced legs by operator (no fares data, or rules that do not say): "
               + ", ".join(f"{op} {n}" for op, n in unpriced.most_common(8)))
    table.print()


if __name__ == "__main__":
    main()
