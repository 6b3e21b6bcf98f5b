"""The per-request cost of the HTTP path in process (not collected by pytest): /healthz,
the departures of a busy stop and the departures near it on the Bay Area network, driven
through the app's ASGI interface directly (no sockets, no HTTP client), so that what FastAPI,
the middlewares and the response building add is not drowned by I/O. Prints mean and p50
microseconds per request of CPU (thread time), and each endpoint's over /healthz.

With `--base PATH` (a checkout of another commit) the same app of that code is measured in
a subprocess, alternating rounds, so that both see the same machine load. With `--profile
OUT` it writes a cProfile of `--requests` requests to each endpoint of this code (read it
with `python -m pstats OUT`).

    .venv/bin/python tests/benchmarks/bench_http_path.py --data-dir /work/ba
        [--catalog /work/main/feeds/bayarea-2018.toml]
        [--base ../base] [--requests 2000] [--rounds 5] [--profile /tmp/http.prof]
        [--no-board-cache] [--rotate 4000]

With `--rotate N` the two boards are also asked rotating over N distinct stops (and points) at
distinct times, the URLs of bench_wrk.py's `--rotate`: every board is built afresh whatever
the board cache, and the per-version caches of pieces see the variety of real traffic.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def targets(data_dir: Path) -> dict[str, tuple[str, bytes]]:
    from urllib.parse import urlencode

    from tests.benchmarks.bench_wrk import busy_stops

    ids, lat, lon, busy = busy_stops(data_dir)
    near = urlencode({"lat": round(float(lat[busy[0]]), 5),
                      "lon": round(float(lon[busy[0]]), 5)}).encode()
    return {"healthz": ("/healthz", b""),
            "stop departures": (f"/v1/stops/{ids[busy[0]]}/departures", b""),
            "departures near a point": ("/v1/departures", near)}


def rotating_targets(data_dir: Path, n: int) -> dict[str, list[tuple[str, bytes]]]:
    """bench_wrk.py's rotating boards as (path, query) lists, labelled `... (rotating N)`."""
    from tests.benchmarks.bench_wrk import busy_stops, rotating_paths

    out = {}
    for label, paths in rotating_paths(*busy_stops(data_dir), n).items():
        split = [p.split("?", 1) for p in paths]
        out[f"{label} (rotating {n})"] = [(p, q.encode()) for p, q in split]
    return out


async def rotating_times(call: Any, paths: list[tuple[str, bytes]], start: int, n: int
                         ) -> list[float]:
    """CPU seconds of `n` requests, the paths in turn from `start`, each a 200."""
    times = []
    for i in range(n):
        path, query = paths[(start + i) % len(paths)]
        t = time.thread_time()
        status = await call(path, query)
        times.append(time.thread_time() - t)
        assert status == 200, (path, query, status)
    return times


def build(data_dir: Path, db: Path) -> Any:
    from datetime import datetime

    from tests.benchmarks.bench_worker import CATALOG, CLOCK, network
    from transit.app import create_app
    from transit.clock import FixedClock
    from transit.settings import Settings

    settings = Settings(data_dir=data_dir, catalog=CATALOG, network=network(),
                        rate_limit_per_minute=0, realtime_poll=False, run_jobs=False,
                        database_url=f"sqlite:///{db}")
    return create_app(settings, clock=FixedClock(datetime.fromisoformat(CLOCK)))


# what wrk sends
WRK_HEADERS = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"wrk"), (b"accept", b"*/*")]


async def serve_rounds(data_dir: Path, requests: int, profile: Path | None, rotate: int
                       ) -> None:
    """Worker side: reads a line per round from stdin, answers JSON {label: [seconds]}."""
    from tests.benchmarks.report import asgi_caller, asgi_times
    with tempfile.TemporaryDirectory() as tmp:
        app = build(data_dir, Path(tmp) / "accounts.db")
        paths = targets(data_dir)
        rotating = rotating_targets(data_dir, rotate) if rotate else {}
        ctx = app.router.lifespan_context(app)
        await ctx.__aenter__()
        call = asgi_caller(app, WRK_HEADERS)
        for path, query in paths.values():
            await asgi_times(call, path, query, 300, time.thread_time)
        for many in rotating.values():
            await rotating_times(call, many, 0, 300)
        start = 300
        if profile is not None:
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
            for path, query in paths.values():
                await asgi_times(call, path, query, requests, time.thread_time)
            for many in rotating.values():
                await rotating_times(call, many, start, requests)
            start += requests
            prof.disable()
            prof.dump_stats(profile)
        for line in sys.stdin:
            if not line.strip():
                break
            out = {label: await asgi_times(call, path, query, requests, time.thread_time)
                   for label, (path, query) in paths.items()}
            for label, many in rotating.items():
                out[label] = await rotating_times(call, many, start, requests)
            start += requests
            print(json.dumps(out), flush=True)
        await ctx.__aexit__(None, None, None)


def no_board_cache() -> None:
    """Turns off the cache of boards answered in the current second, in code that has one
    (the benchmark asks the same board again and again: with the cache, every ask but the
    first is a lookup)."""
    try:
        from transit.departures import router
        from transit.departures.cache import BoardCache
    except ImportError:
        return

    class NoCache(BoardCache):
        def get(self, *args: Any) -> None:
            return None

    router.BOARDS = NoCache()  # type: ignore[attr-defined]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--base", type=Path)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--profile", type=Path)
    ap.add_argument("--catalog", type=Path, help="the Bay Area catalog (default: this "
                    "checkout's; the compiled network is named after its absolute path)")
    ap.add_argument("--no-board-cache", action="store_true", help="every board built afresh "
                    "(transit.departures.cache off, where the code has it)")
    ap.add_argument("--rotate", type=int, default=0, metavar="N", help="also the boards "
                    "rotating over N stops / points / times (bench_wrk.py's --rotate)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:  # PYTHONPATH names the code measured (this checkout's or the base's)
        if args.catalog:
            from tests.benchmarks import bench_worker

            bench_worker.CATALOG = args.catalog.resolve()
        if args.no_board_cache:
            no_board_cache()
        asyncio.run(serve_rounds(args.data_dir.resolve(), args.requests, args.profile,
                                 args.rotate))
        return
    codes = {"this code": ROOT}
    if args.base:
        codes = {"base": args.base.resolve(), **codes}
    workers = {}
    for name, code in codes.items():
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", "--data-dir",
               str(args.data_dir.resolve()), "--requests", str(args.requests),
               "--rotate", str(args.rotate)]
        if args.catalog:
            cmd += ["--catalog", str(args.catalog.resolve())]
        if args.no_board_cache:
            cmd.append("--no-board-cache")
        if args.profile and name == "this code":
            cmd += ["--profile", str(args.profile)]
        workers[name] = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=code,
            env={"PYTHONPATH": str(code), "PATH": "/usr/bin:/bin"})
    samples: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for name, proc in workers.items():
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
            for label, xs in json.loads(proc.stdout.readline()).items():
                samples.setdefault((name, label), []).extend(xs)
    for proc in workers.values():
        assert proc.stdin is not None
        proc.stdin.write("\n")
        proc.stdin.close()
        proc.wait()
    sys.path.insert(0, str(ROOT))
    from tests.benchmarks.report import Table

    table = Table(f"HTTP path in process, Bay Area, {args.rounds} rounds x {args.requests} "
                  "requests (CPU µs per request: mean / p50; p50 over /healthz's)")
    for name in codes:
        health = statistics.median(samples[(name, "healthz")])
        labels = ["healthz", "stop departures", "departures near a point"]
        if args.rotate:
            labels += [f"{x} (rotating {args.rotate})" for x in labels[1:]]
        for label in labels:
            xs = samples[(name, label)]
            p50 = statistics.median(xs)
            table.add(f"{name} {label}", f"{statistics.mean(xs) * 1e6:.0f} / "
                      f"{p50 * 1e6:.0f} µs, x{p50 / health:.2f}")
    table.print()


if __name__ == "__main__":
    main()
