"""First-request latency of journey options on a fresh process (not collected by pytest).

A server compiles (or loads) its search kernels before it is ready (`warm_up_routing`). An
option that hands the kernels arrays of another type (a writable mask where the warm-up
passed a read-only one) makes numba compile a new variant during the first request that
uses it: about half a minute. This script measures, in a fresh process with an empty numba
cache (as on a newly deployed release): the warm-up, then the first and a second request of
each option set.

    .venv/bin/python tests/benchmarks/bench_first_request.py [--feed ZIP]

Default feed: the Colorado Bustang feed in ../shared/data (any feed works: compile times do
not depend on its size).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_FEED = ROOT.parent / "shared" / "data" / "gtfs" / "misc" / "colorado-bustang-2023-01-08.zip"

OPTION_SETS: list[dict[str, object]] = [
    {},
    {"wheelchair": True},
    {"wheelchair": True, "wheelchair_unknown": True},
    {"modes": frozenset({"rail"})},
    {"min_transfer_s": 120},
    {"exclude_stops": "third", "exclude_passing": True},
    {"window_min": 60},
]

CHILD = r"""
import json, sys, time
from dataclasses import fields
from datetime import datetime, timezone
from pathlib import Path
import numpy as np
from transit.timetable.store import Store
from transit.journeys import service
from transit.journeys.places import Place

t0 = time.perf_counter()
tt = Store(Path(sys.argv[1])).load_current()
service.warm_up_routing(tt)
warm = time.perf_counter() - t0
# a busy stop to another one it reaches
ev = np.diff(np.asarray(tt.ev_offsets))
a, b, c = [int(x) for x in np.argsort(-ev)[:3]]
day0 = tt.service_date(int(np.flatnonzero(np.asarray(tt.service_days).any(axis=0))[0] * 8))
when = datetime(day0.year, day0.month, day0.day, 15, tzinfo=timezone.utc)
known = {f.name for f in fields(service.Options)}
out = {"warm_up_s": round(warm, 2), "requests": []}
for opts in json.loads(sys.argv[2]):
    kw = {k: (frozenset(v) if isinstance(v, list) else v) for k, v in opts.items()}
    if kw.get("exclude_stops") == "third":
        kw["exclude_stops"] = frozenset({c})
    if not set(kw) <= known:
        out["requests"].append({"options": opts, "skipped": "option not in this version"})
        continue
    times = []
    for _ in range(2):
        t = time.perf_counter()
        service.plan(tt, Place("from", [(a, 0, 0.0)], label="a"),
                     Place("to", [(b, 0, 0.0)], label="b"), when, False,
                     service.Options(**kw), [])
        times.append(round(time.perf_counter() - t, 3))
    out["requests"].append({"options": opts, "first_s": times[0], "second_s": times[1]})
print(json.dumps(out))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--feed", type=Path, default=DEFAULT_FEED)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from transit.catalog import Catalog, Operator
    from transit.ingest.pipeline import ingest
    from transit.timetable.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        ingest(Catalog((Operator(id="F", name="F", gtfs=str(args.feed.resolve())),)),
               Store(data))
        env = {**os.environ, "NUMBA_CACHE_DIR": str(Path(tmp) / "numba"),
               "PYTHONPATH": str(ROOT)}
        sets = [{k: sorted(v) if isinstance(v, frozenset) else v for k, v in o.items()}
                for o in OPTION_SETS]
        run = subprocess.run([sys.executable, "-c", CHILD, str(data), json.dumps(sets)],
                             env=env, capture_output=True, text=True, check=True)
        res = json.loads(run.stdout.strip().splitlines()[-1])
    print(f"fresh process, empty numba cache: warm-up (before ready) {res['warm_up_s']} s")
    for r in res["requests"]:
        if "skipped" in r:
            print(f"  {json.dumps(r['options']):55s} skipped ({r['skipped']})")
        else:
            print(f"  {json.dumps(r['options']):55s} first {r['first_s']:8.3f} s   "
                  f"second {r['second_s']:8.3f} s")


if __name__ == "__main__":
    main()
