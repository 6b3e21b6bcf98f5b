"""HTTP throughput of one worker on the Bay Area network, measured with wrk (not collected by
pytest; needs Debian's `wrk` on the PATH).

Starts `transit serve --catalog feeds/bayarea-2018.toml --clock 2018-08-29T08:00-07:00`
(one worker, rate limit off, no polling), and runs wrk (2 threads, 10 s) against, in turn:
`/healthz` (the trivial endpoint), the departures of a busy stop, the departures near a
point, at 32 and 4 connections, and journeys between seeded random busy stops at 4
connections (a Lua script cycles through them). For each it prints requests/s, the ratio
to `/healthz` of the same server in the same round, and the server's CPU per request (its
utime + stime ticks from /proc/PID/stat over the run, divided by the requests). Journeys
are compared with the in-process search time of the same queries (the engine's search,
timed inside `journeys.service.plan` in this process): HTTP seconds per request (1 /
requests/s at 4 connections on one worker) over the mean search.

With `--base PATH` (a checkout of another commit) each round runs the same against a
server of that code too, alternating, so that both see the same machine load; the table
gives medians over the rounds and each round's values (the spread is the noise).

    .venv/bin/python tests/benchmarks/bench_wrk.py [--base ../base] [--rounds 3]
        [--duration 10] [--data-dir DIR] [--env TRANSIT_ACCESS_LOG=true]
        [--catalog /work/main/feeds/bayarea-2018.toml] [--rotate 4000]

With `--rotate N` each board is also measured built afresh: the URL above is asked over and
over, which the board cache of the current second answers after the first time in each
second; the rotating mode cycles through N distinct stops (and points) at distinct times, so
that the cache never answers, and the table prints both.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.benchmarks import bench_worker  # noqa: E402
from tests.benchmarks.bench_worker import (  # noqa: E402
    CATALOG,
    CLOCK,
    ensure_compiled,
    free_port,
    network,
)
from tests.benchmarks.report import Table, wait_ready  # noqa: E402

SEED = 11
TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    rps: float
    cpu_ms: float  # server CPU per request


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def wrk(url: str, connections: int, duration: int, pid: int, script: Path | None = None
        ) -> Run:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", url]
    if script is not None:
        cmd[1:1] = ["-s", str(script)]
    c0 = cpu_ticks(pid)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    c1 = cpu_ticks(pid)
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise SystemExit(f"{url}: {non2xx.group(1)} answers were not 2xx\n{out}")
    return Run(rps, (c1 - c0) / TICK / max(total, 1) * 1e3)


def busy_stops(data_dir: Path) -> tuple[list[str], np.ndarray, np.ndarray, list[int]]:
    from transit.timetable.store import Store

    tt = Store(data_dir, network()).load_current()
    ev = np.diff(np.asarray(tt.ev_offsets))
    busy = [int(s) for s in np.argsort(-ev, kind="stable")[:200]]
    return tt.strings("stop_id").to_list(), np.asarray(tt.stop_lat), \
        np.asarray(tt.stop_lon), busy


def journey_queries(ids: list[str], busy: list[int], n: int) -> list[dict[str, str]]:
    rng = np.random.default_rng(SEED)
    out = []
    for _ in range(n):
        a, b = (int(x) for x in rng.choice(busy, 2, replace=False))
        out.append({"from": ids[a], "to": ids[b], "depart_at": CLOCK})
    return out


def lua_cycle(paths: list[str], target: Path) -> Path:
    """A wrk script asking `paths` in turn. Each wrk thread starts at its own offset (thread k
    at k/2 of the list): two threads walking the list in step would ask the same path in the
    same second, which the board cache of the current second answers."""
    body = ",\n".join(f'  "{p}"' for p in paths)
    target.write_text(f"local paths = {{\n{body}\n}}\nlocal i = 0\n"
                      "local threads = 0\n"
                      "setup = function(thread)\n  thread:set(\"offset\", threads)\n"
                      "  threads = threads + 1\nend\n"
                      "init = function(args)\n"
                      "  i = (offset or 0) * math.floor(#paths / 2)\nend\n"
                      "request = function()\n  i = i % #paths + 1\n"
                      "  return wrk.format(\"GET\", paths[i])\nend\n")
    return target


def rotating_paths(ids: list[str], lat: np.ndarray, lon: np.ndarray, busy: list[int], n: int
                   ) -> dict[str, list[str]]:
    """`n` distinct stop boards and `n` distinct near-a-point boards (busy stops and points
    a little off them, each at its own minute between 07:00 and 09:59 local time): asked in
    turn, none is asked twice within a second at the rates measured, so every board is built
    afresh (the board cache of the current second never answers)."""
    rng = np.random.default_rng(SEED)
    stop_paths, near_paths = [], []
    for k in range(n):
        s = busy[k % len(busy)]
        minute = int(rng.integers(0, 180))
        at = f"2018-08-29T{7 + minute // 60:02d}:{minute % 60:02d}:00"
        stop_paths.append(f"/v1/stops/{ids[s]}/departures?{urlencode({'at': at})}")
        dlat, dlon = (float(x) for x in rng.uniform(-0.002, 0.002, 2))
        near = urlencode({"lat": round(float(lat[s]) + dlat, 5),
                          "lon": round(float(lon[s]) + dlon, 5), "at": at})
        near_paths.append(f"/v1/departures?{near}")
    return {"stop departures": stop_paths, "departures near a point": near_paths}


def search_seconds(data_dir: Path, queries: list[dict[str, str]], repeat: int = 3
                   ) -> tuple[float, float]:
    """(mean engine search, mean whole `plan`) in CPU seconds over the queries, in process
    (CPU time: the machine may be shared)."""
    from datetime import datetime

    from transit.journeys import service
    from transit.journeys.places import resolve
    from transit.routing import search as engine
    from transit.timetable.store import Store

    tt = Store(data_dir, network()).load_current()
    service.warm_up_routing(tt)
    spent = [0.0]
    originals = {}
    for name in ("depart_at", "depart_in_range", "arrive_by"):
        originals[name] = getattr(engine.Searcher, name)

        def timed(self: object, *a: object, _f=originals[name], **k: object) -> object:
            t = time.thread_time()
            try:
                return _f(self, *a, **k)
            finally:
                spent[0] += time.thread_time() - t

        setattr(engine.Searcher, name, timed)
    opt = service.Options()
    total = 0.0
    try:
        for i in range(repeat + 1):
            if i == 1:  # the first pass warms up
                spent[0], total = 0.0, 0.0
            for q in queries:
                t = time.thread_time()
                o = resolve(tt, "from", q["from"], opt.max_walk_m, opt.walk_speed, opt.detour)
                d = resolve(tt, "to", q["to"], opt.max_walk_m, opt.walk_speed, opt.detour)
                service.plan(tt, o, d, datetime.fromisoformat(q["depart_at"]), False, opt,
                             ["en"])
                total += time.thread_time() - t
    finally:
        for name, f in originals.items():
            setattr(engine.Searcher, name, f)
    n = repeat * len(queries)
    return spent[0] / n, total / n


class Server:
    def __init__(self, code: Path, data_dir: Path, env: dict[str, str], workdir: Path
                 ) -> None:
        self.port = free_port()
        full = {k: v for k, v in os.environ.items() if not k.startswith("TRANSIT_")}
        full.update({"PYTHONPATH": str(code), "TRANSIT_RATE_LIMIT_PER_MINUTE": "0",
                     "TRANSIT_REALTIME_POLL": "false", "TRANSIT_RUN_JOBS": "false", **env})
        workdir.mkdir(parents=True, exist_ok=True)
        self.log = (workdir / "serve.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "transit", "serve", "--catalog", str(CATALOG), "--clock",
             CLOCK, "--data-dir", str(data_dir), "--port", str(self.port)],
            cwd=workdir, env=full, stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        wait_ready(self.url, self.proc, f"server of {code} (see {workdir}/serve.log)",
                   poll_s=0.1)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", type=Path)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--data-dir", type=Path)
    ap.add_argument("--env", action="append", default=[], help="NAME=VALUE for our server")
    ap.add_argument("--base-env", action="append", default=[], help="NAME=VALUE for base")
    ap.add_argument("--no-journeys", action="store_true")
    ap.add_argument("--rotate", type=int, default=0, metavar="N",
                    help="also measure boards built afresh: wrk rotates over N distinct "
                    "stops / points / times (a Lua script), printed beside the repeated ask")
    ap.add_argument("--catalog", type=Path, help="the Bay Area catalog file (default: this "
                    "checkout's); a compiled network is named after the catalog's absolute "
                    "path, so a data directory compiled from another checkout needs its file")
    args = ap.parse_args()
    if args.catalog:
        global CATALOG
        CATALOG = bench_worker.CATALOG = args.catalog.resolve()
    data_dir = (args.data_dir or Path(tempfile.mkdtemp(prefix="bench-wrk-"))).resolve()
    ensure_compiled(data_dir)
    ids, lat, lon, busy = busy_stops(data_dir)
    stop = ids[busy[0]]
    near = urlencode({"lat": round(float(lat[busy[0]]), 5),
                      "lon": round(float(lon[busy[0]]), 5)})
    queries = journey_queries(ids, busy, 20)
    targets = {"healthz": "/healthz", "stop departures": f"/v1/stops/{stop}/departures",
               "departures near a point": f"/v1/departures?{near}"}
    codes = {"this code": (ROOT, dict(e.split("=", 1) for e in args.env))}
    if args.base:
        codes = {"base": (args.base.resolve(), dict(e.split("=", 1) for e in args.base_env)),
                 **codes}
    results: dict[tuple[str, str, int], list[Run]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        script = lua_cycle([f"/v1/journeys?{urlencode(q)}" for q in queries],
                           Path(tmp) / "journeys.lua")
        rotating = {f"{label} (rotating {args.rotate})": (lua_cycle(
            paths, Path(tmp) / f"rotate-{i}.lua"), paths[0]) for i, (label, paths) in
            enumerate(rotating_paths(ids, lat, lon, busy, args.rotate).items())
        } if args.rotate else {}
        for r in range(args.rounds):
            for name, (code, env) in codes.items():
                server = Server(code, data_dir, env, Path(tmp) / f"{name}-{r}")
                try:
                    for path in (*targets.values(), *[f"/v1/journeys?{urlencode(q)}"
                                                      for q in queries]):
                        httpx.get(server.url + path, timeout=60).raise_for_status()
                    for conns in (32, 4):
                        for label, path in targets.items():
                            run = wrk(server.url + path, conns, args.duration, server.proc.pid)
                            results.setdefault((name, label, conns), []).append(run)
                            print(f"round {r + 1} {name} {label} c{conns}: {run.rps:.0f} req/s,"
                                  f" {run.cpu_ms:.2f} ms CPU/req", flush=True)
                        for label, (lua, first) in rotating.items():
                            httpx.get(server.url + first, timeout=60).raise_for_status()
                            run = wrk(server.url, conns, args.duration, server.proc.pid, lua)
                            results.setdefault((name, label, conns), []).append(run)
                            print(f"round {r + 1} {name} {label} c{conns}: {run.rps:.0f} req/s,"
                                  f" {run.cpu_ms:.2f} ms CPU/req", flush=True)
                    if not args.no_journeys:
                        run = wrk(server.url, 4, args.duration, server.proc.pid, script)
                        results.setdefault((name, "journeys", 4), []).append(run)
                        print(f"round {r + 1} {name} journeys c4: {run.rps:.1f} req/s, "
                              f"{run.cpu_ms:.2f} ms CPU/req", flush=True)
                finally:
                    server.stop()
    search_s = plan_s = None
    if not args.no_journeys:
        search_s, plan_s = search_seconds(data_dir, queries)
    labels = {**targets, **{label: "" for label in rotating}}
    report(results, codes, labels, args, search_s, plan_s)


def report(results: dict[tuple[str, str, int], list[Run]], codes: dict[str, object],
           targets: dict[str, str], args: argparse.Namespace, search_s: float | None,
           plan_s: float | None) -> None:
    t = Table(f"wrk -t2 -d{args.duration}s, one worker, Bay Area, {args.rounds} rounds "
              "(medians; ratio to /healthz of the same server and round)")
    for name in codes:
        for conns in (32, 4):
            health = results[(name, "healthz", conns)]
            for label in targets:
                runs = results[(name, label, conns)]
                rps = statistics.median(x.rps for x in runs)
                cpu = statistics.median(x.cpu_ms for x in runs)
                value = f"{rps:.0f} req/s, {cpu:.2f} ms CPU/req"
                if label == "healthz":
                    t.add(f"{name} c{conns} {label}", value)
                    continue
                ratios = [x.rps / h.rps for x, h in zip(runs, health, strict=True)]
                ratio = statistics.median(ratios)
                t.add(f"{name} c{conns} {label}", f"{value}, ratio {ratio:.2f}", ">= 0.8",
                      ratio >= 0.8)
                # CPU per request holds better than req/s on a machine others load too
                cpu_ratios = [h.cpu_ms / x.cpu_ms for x, h in zip(runs, health, strict=True)]
                t.note("rounds: " + ", ".join(f"{r:.2f}" for r in ratios)
                       + "; healthz CPU / this CPU per request: "
                       + ", ".join(f"{r:.2f}" for r in cpu_ratios))
        if (name, "journeys", 4) in results:
            runs = results[(name, "journeys", 4)]
            rps = statistics.median(x.rps for x in runs)
            cpu = statistics.median(x.cpu_ms for x in runs)
            t.add(f"{name} c4 journeys (20 queries)", f"{rps:.1f} req/s, {cpu:.2f} ms CPU/req")
            if search_s:
                ratio = (1 / rps) / search_s
                t.add(f"{name}   HTTP s/request over in-process search CPU",
                      f"{ratio:.2f}", "<= 1.3", ratio <= 1.3)
                ratio = cpu / 1e3 / search_s
                t.add(f"{name}   server CPU/request over in-process search CPU",
                      f"{ratio:.2f}", "<= 1.3", ratio <= 1.3)
    if search_s and plan_s:
        t.add("in-process search (this code), mean CPU", f"{search_s * 1e3:.2f} ms")
        t.add("in-process plan() with legs (this code), mean CPU", f"{plan_s * 1e3:.2f} ms")
    t.print()


if __name__ == "__main__":
    main()
