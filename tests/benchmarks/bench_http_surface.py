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
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from fastapi import FastAPI  # noqa: E402

from tests.benchmarks.report import Table  # noqa: E402
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
Call = Callable[[str, bytes], Awaitable[int]]


def build(data: Path, surface: bool, cors: bool) -> FastAPI:
    from datetime import datetime

    settings = Settings(data_dir=data, rate_limit_per_minute=0, realtime_poll=False,
                        cors_origins=["https://app.example.org"] if cors else [],
                        database_url=f"sqlite:///{data}/bench-accounts.db")
    app = create_app(settings, clock=FixedClock(datetime.fromisoformat(NOW)))
    if not surface:
        app.user_middleware = [m for m in app.user_middleware if m.cls is not HttpSurface]
    return app


def caller(app: FastAPI) -> Call:
    async def call(path: str, query: bytes) -> int:
        scope: dict[str, Any] = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
            "query_string": query, "root_path": "", "server": ("127.0.0.1", 8000),
            "client": ("127.0.0.1", 50000),
            "headers": [(b"host", b"127.0.0.1"), (b"origin", b"https://app.example.org")]}
        status = 0

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await app(scope, receive, send)
        return status

    return call


async def measure(call: Call, path: str, query: bytes, n: int) -> list[float]:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        status = await call(path, query)
        times.append(time.perf_counter() - t)
        assert status == 200, status
    return times


async def run(data: Path, requests: int, rounds: int) -> None:
    variants = {"without HttpSurface": build(data, False, False),
                "HttpSurface (as shipped)": build(data, True, False),
                "HttpSurface + CORS origins": build(data, True, True)}
    contexts = []
    for app in variants.values():
        ctx = app.router.lifespan_context(app)
        await ctx.__aenter__()
        contexts.append(ctx)
    calls = {name: caller(app) for name, app in variants.items()}
    for call in calls.values():  # warm up: caches, compiled kernels, the middleware stack
        for path, query in PATHS.values():
            await measure(call, path, query, 200)
    samples: dict[tuple[str, str], list[float]] = {
        (v, p): [] for v in variants for p in PATHS}
    per_round = max(1, requests // rounds)
    for _ in range(rounds):
        for name, call in calls.items():
            for label, (path, query) in PATHS.items():
                samples[(name, label)] += await measure(call, path, query, per_round)
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
