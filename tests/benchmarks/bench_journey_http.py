"""Benchmark of the journey HTTP path against its search (not collected by pytest): what
GET /v1/journeys costs beyond the engine's search, in process.

The Bay Area network (compiled into a temporary directory unless --data-dir has it) is
served by the app built as shipped, driven through its ASGI interface directly (no sockets,
no HTTP client). For `--pairs` random pairs of busy stops (seeded) leaving at random times
of the morning, each round times (a) the engine's depart_at alone, on the query the
endpoint builds, and (b) the whole request; rounds interleave the two so that machine noise
falls on both alike. Prints p50 of each and the ratio of medians (b / a).

    .venv/bin/python tests/benchmarks/bench_journey_http.py [--data-dir /work/ba]
        [--network NAME] [--pairs 100] [--rounds 5] [--profile] [--cpu]

--cpu: time each by the thread's CPU time (time.thread_time) instead of the wall clock: on a
shared, loaded machine the wall clock counts the time other processes hold the cores.

--profile: instead, cProfile around service.plan and the answer's JSON, and print the top
functions by cumulative time. For the whole request (FastAPI, middleware, the endpoint on
the event loop), sample the benchmark with py-spy (`py-spy record --format raw -- ...`).

--dump FILE: every answer's body (160 of them for 100 pairs: leaving at, arriving by, with a
window, from and to coordinates, in English and French), one a line; `cmp` two checkouts'
files to show a change keeps the answers byte for byte.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np
import orjson

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from fastapi import FastAPI  # noqa: E402

from tests.benchmarks.bench_worker import CLOCK, ensure_compiled, network  # noqa: E402
from tests.benchmarks.report import asgi_caller  # noqa: E402
from transit.app import create_app  # noqa: E402
from transit.clock import FixedClock  # noqa: E402
from transit.journeys import places, service  # noqa: E402
from transit.routing import search as engine  # noqa: E402
from transit.settings import Settings  # noqa: E402
from transit.timetable.store import Store  # noqa: E402
from transit.timetable.timetable import Timetable  # noqa: E402

SEED = 11
HEADERS = [(b"host", b"127.0.0.1"), (b"origin", b"https://app.example.org")]


def build(data_dir: Path, name: str, db_dir: Path) -> FastAPI:
    settings = Settings(data_dir=data_dir, network=name, rate_limit_per_minute=0,
                        realtime_poll=False, run_jobs=False,
                        database_url=f"sqlite:///{db_dir}/bench-accounts.db")
    return create_app(settings, clock=FixedClock(datetime.fromisoformat(CLOCK)))


def pairs_of(tt: Timetable, n: int) -> list[tuple[str, str, str]]:
    """(from stop id, to stop id, depart_at) for n pairs of busy stops, seeded."""
    ev = np.diff(np.asarray(tt.ev_offsets))
    busy = np.argsort(-ev, kind="stable")[:400]
    rng = np.random.default_rng(SEED)
    ids = tt.strings("stop_id").to_list()
    out = []
    for _ in range(n):
        a, b = (int(x) for x in rng.choice(busy, 2, replace=False))
        minute = int(rng.integers(6 * 60, 10 * 60))
        out.append((ids[a], ids[b], f"2018-08-29T{minute // 60:02d}:{minute % 60:02d}:00-07:00"))
    return out


def query_of(tt: Timetable, a: str, b: str, when: str) -> engine.Query:
    """The query GET /v1/journeys builds for these defaults (as service.plan does)."""
    opt = service.Options(detour=float(tt.meta["footpaths"]["detour"]))
    origin = places.resolve(tt, "from", a, opt.max_walk_m, opt.walk_speed, opt.detour)
    destination = places.resolve(tt, "to", b, opt.max_walk_m, opt.walk_speed, opt.detour)
    trip_ok, stop_ok = service._masks(tt, opt)
    footpaths_ok = opt.max_walk_m >= service._longest_footpath_m(tt)
    return engine.Query(
        origins=[(s, w) for s, w, _ in origin.stops],
        destinations=[(s, w) for s, w, _ in destination.stops],
        time=int(datetime.fromisoformat(when).timestamp()), max_transfers=opt.max_transfers,
        trip_ok=trip_ok, stop_ok=stop_ok, extra_change_s=opt.min_transfer_s,
        walk_from_origins=footpaths_ok, walk_to_destinations=footpaths_ok, live=None)


def profile(tt: Timetable, pairs: list[tuple[str, str, str]]) -> None:
    opt = service.Options(detour=float(tt.meta["footpaths"]["detour"]))
    args = []
    for a, b, when in pairs:
        origin = places.resolve(tt, "from", a, opt.max_walk_m, opt.walk_speed, opt.detour)
        destination = places.resolve(tt, "to", b, opt.max_walk_m, opt.walk_speed, opt.detour)
        args.append((origin, destination, datetime.fromisoformat(when)))
    for o, d, w in args:  # warm
        service.plan(tt, o, d, w, False, opt, [])
    prof = cProfile.Profile()
    prof.enable()
    for o, d, w in args:
        cached_json_body(service.plan(tt, o, d, w, False, opt, []))
    prof.disable()
    pstats.Stats(prof).sort_stats("cumulative").print_stats(40)


def cached_json_body(result: Any) -> bytes:
    """The answer's body as the router writes it (plan's dict; a model before that)."""
    if isinstance(result, dict):
        return orjson.dumps(result, option=orjson.OPT_SERIALIZE_NUMPY)
    return orjson.dumps(result.model_dump(by_alias=True), option=orjson.OPT_SERIALIZE_NUMPY)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", type=Path)
    ap.add_argument("--network")
    ap.add_argument("--pairs", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--cpu", action="store_true", help="thread CPU time, not wall time")
    ap.add_argument("--dump", type=Path, help="write every answer's body here (one a line, "
                    "to compare two checkouts' answers byte for byte) and stop")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir or Path(tmp) / "data"
        if args.data_dir is None:
            ensure_compiled(data_dir)
        name = args.network or network()
        tt = Store(data_dir, name).load_current()
        pairs = pairs_of(tt, args.pairs)
        if args.profile:
            profile(tt, pairs)
            return
        app = build(data_dir, name, Path(tmp))
        if args.dump:
            asyncio.run(dump(app, pairs, args.dump))
            return
        asyncio.run(run(app, pairs, args.rounds,
                        time.thread_time if args.cpu else time.perf_counter))


async def dump(app: FastAPI, pairs: list[tuple[str, str, str]], out: Path) -> None:
    """Each pair's answer (and arriving by, with a window, from and to coordinates, in
    French), one body a line."""
    ctx = app.router.lifespan_context(app)
    await ctx.__aenter__()
    tt = app.state.holder.get()
    lat, lon = np.asarray(tt.stop_lat), np.asarray(tt.stop_lon)
    queries = []
    for k, (a, b, w) in enumerate(pairs):
        queries.append({"from": a, "to": b, "depart_at": w})
        if k % 5 == 1:
            queries.append({"from": a, "to": b, "arrive_by": w, "max_transfers": 2})
        if k % 5 == 2:
            queries.append({"from": a, "to": b, "depart_at": w, "window": 30})
        if k % 5 == 3:
            sa, sb = tt.stop_index[a], tt.stop_index[b]
            queries.append({"from": f"{lat[sa] + 0.001:.5f},{lon[sa]:.5f}",
                            "to": f"{lat[sb]:.5f},{lon[sb] - 0.001:.5f}", "depart_at": w})
    with out.open("wb") as f:
        for n, q in enumerate(queries):
            status, body = await fetch(app, "/v1/journeys", urlencode(q).encode(), n % 2 == 0)
            f.write(b"%d " % status + body + b"\n")
    await ctx.__aexit__(None, None, None)


async def fetch(app: FastAPI, path: str, query: bytes, french: bool) -> tuple[int, bytes]:
    headers = [(b"host", b"127.0.0.1")] + ([(b"accept-language", b"fr")] if french else [])
    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query,
        "root_path": "", "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 50000),
        "headers": headers}
    status, body = 0, b""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, body
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body += message.get("body", b"")

    await app(scope, receive, send)
    return status, body


async def run(app: FastAPI, pairs: list[tuple[str, str, str]], rounds: int,
              clock: Callable[[], float] = time.perf_counter) -> None:
    ctx = app.router.lifespan_context(app)
    await ctx.__aenter__()
    tt = app.state.holder.get()  # the app's timetable (its caches, its searcher)
    call = asgi_caller(app, HEADERS)
    searcher = service.searcher_for(tt)
    queries = [query_of(tt, a, b, w) for a, b, w in pairs]
    paths = [urlencode({"from": a, "to": b, "depart_at": w}).encode() for a, b, w in pairs]
    for q, p in zip(queries, paths, strict=True):  # warm: kernels, caches, the app's start
        searcher.depart_at(q)
        status = await call("/v1/journeys", p)
        assert status == 200, (status, p)
    search: list[float] = []
    http: list[float] = []
    for _ in range(rounds):
        for q, p in zip(queries, paths, strict=True):
            t0 = clock()
            searcher.depart_at(q)
            t1 = clock()
            await call("/v1/journeys", p)
            t2 = clock()
            search.append(t1 - t0)
            http.append(t2 - t1)
    await ctx.__aexit__(None, None, None)
    a, b = statistics.median(search), statistics.median(http)
    print(f"pairs {len(pairs)} x rounds {rounds} ({clock.__name__})")
    print(f"search p50 {a * 1e3:.2f} ms  mean {statistics.fmean(search) * 1e3:.2f} ms")
    print(f"http   p50 {b * 1e3:.2f} ms  mean {statistics.fmean(http) * 1e3:.2f} ms")
    print(f"ratio of medians (http / search) {b / a:.2f}")


if __name__ == "__main__":
    main()
