"""Benchmark of the HTTP surface middleware (not collected by pytest): what HttpSurface
(HEAD, security headers) and CORS add per request, in process.

The demo network is compiled once; the same app is built three ways (without HttpSurface,
as shipped, as shipped with CORS origins configured) and driven through its ASGI interface
directly (no sockets, no HTTP client, so the middleware's share is not drowned by I/O):
`--requests` requests to /healthz and to a departure board, interleaved in rounds so that
machine noise falls on every variant alike. Prints mean and p50 microseconds per request.

    .venv/bin/python tests/benchmarks/bench_http_surface.py [--requests 3000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from fastapi import FastAPI  # noqa: E402

from tests.benchmarks.report import Table, asgi_caller, asgi_times  # noqa: E402
from tests.conftest import DEMO_CATALOG  # noqa: E402
from transit.api.surface import HttpSurface  # noqa: E402
from transit.app import create_app  # noqa: E402
from transit.catalog import load_catalog  # noqa: E402
from transit.clock import FixedClock  # noqa: E402
from transit.ingest.pipeline import IngestLimits, ingest  # noqa: E402
from transit.settings import Settings  # noqa: E402
from transit.timetable.calendar import ServiceHorizon  # noqa: E402
from transit.timetable.store import Store  # noqa: E402

NOW = "2026-11-26T08:00:00+01:00"
PATHS = {"healthz": ("/healthz", b""),
         "departures": ("/v1/stops/RR:CEN1/departures", b"limit=10")}
HEADERS = [(b"host", b"127.0.0.1"), (b"origin", b"https://app.example.org")]


def build(data: Path, surface: bool, cors: bool) -> FastAPI:
    from datetime import datetime

    settings = Settings(data_dir=data, rate_limit_per_minute=0, realtime_poll=False,
                        cors_origins=["https://app.example.org"] if cors else [],
                        database_url=f"sqlite:///{data}/bench-accounts.db")
    app = create_app(settings, clock=FixedClock(datetime.fromisoformat(NOW)))
    if not surface:
        app.user_middleware = [m for m in app.user_middleware if m.cls is not HttpSurface]
    return app


async def run(data: Path, requests: int, rounds: int) -> None:
    variants = {"without HttpSurface": build(data, False, False),
                "HttpSurface (as shipped)": build(data, True, False),
                "HttpSurface + CORS origins": build(data, True, True)}
    contexts = []
    for app in variants.values():
        ctx = app.router.lifespan_context(app)
        await ctx.__aenter__()
        contexts.append(ctx)
    calls = {name: asgi_caller(app, HEADERS) for name, app in variants.items()}
    for call in calls.values():  # warm up: caches, compiled kernels, the middleware stack
        for path, query in PATHS.values():
            await asgi_times(call, path, query, 200)
    samples: dict[tuple[str, str], list[float]] = {
        (v, p): [] for v in variants for p in PATHS}
    per_round = max(1, requests // rounds)
    for _ in range(rounds):
        for name, call in calls.items():
            for label, (path, query) in PATHS.items():
                samples[(name, label)] += await asgi_times(call, path, query, per_round)
    table = Table(f"HTTP surface middleware, in-process ASGI, {per_round * rounds} requests "
                  "per cell (mean / p50 µs per request, p50 difference)")
    for label in PATHS:
        base = statistics.median(samples[("without HttpSurface", label)])
        for name in variants:
            xs = samples[(name, label)]
            p50 = statistics.median(xs)
            extra = "" if name.startswith("without") else f" ({(p50 - base) * 1e6:+.1f} µs)"
            table.add(f"{label}: {name}",
                      f"{statistics.mean(xs) * 1e6:.1f} / {p50 * 1e6:.1f}{extra}")
    table.note("the difference in brackets is of the p50: the mean carries the machine's "
               "noise (other processes, GC)")
    table.print()
    for ctx in contexts:
        await ctx.__aexit__(None, None, None)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        whole = IngestLimits(horizon=ServiceHorizon(days_before=4000, days_after=4000))
        ingest(load_catalog(DEMO_CATALOG), Store(data), limits=whole)
        asyncio.run(run(data, args.requests, args.rounds))


if __name__ == "__main__":
    main()
