"""One API worker on the Bay Area network: private memory after warm-up, and start time
(not collected by pytest).

Starts `uvicorn --factory transit.app:app_from_env` (one worker) on a compiled network,
times it from spawn to its first 200 on /readyz, warms it up with departures, journeys and
live-data requests, and reads /proc/PID/smaps: the private memory (Private_Clean +
Private_Dirty) of every mapping that is not a file of the timetable (those pages are the
page cache's, shared by all workers), of which anonymous (heap, numba's code, arrays built
in the worker), and the timetable's resident pages beside it. With `--base PATH` (a checkout
of another commit, e.g. `git worktree add --detach ../base main`) the same is measured for
that code, alternating runs of the two, so both see the same machine load. With `--forked`,
the workers of `transit serve --workers 2` (forked from a parent that loaded the code and the
timetable, `transit.serving`) are measured the same way in the same runs, their start being
a restarted worker's, from fork to ready (for the base too, with --base).

    .venv/bin/python tests/benchmarks/bench_worker.py [--base ../base] [--runs 3] [--forked]
        [--data-dir DIR]   (a data directory where the catalog is compiled;
                            default: compiled into a temporary one first)
        [--catalog PATH]   (default feeds/bayarea-2018.toml)
        [--network big]    (the ~5 million stop times of tests/benchmarks/big_network.py:
                            the catalog DIR/big.toml, compiled there by that script)
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

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.benchmarks.report import Table, wait_ready  # noqa: E402

CATALOG = ROOT / "feeds" / "bayarea-2018.toml"
CLOCK = "2018-08-29T08:00:00-07:00"
SEED = 7


@dataclass
class Sample:
    start_s: float
    private_mib: float  # besides the timetable's files
    anonymous_mib: float
    timetable_rss_mib: float


def network() -> str:
    from transit.catalog import load_catalog

    return load_catalog(CATALOG).network


def ensure_compiled(data_dir: Path) -> None:
    from transit.catalog import load_catalog
    from transit.timetable.store import Store

    catalog = load_catalog(CATALOG)
    store = Store(data_dir, catalog.network)
    if store.current_version() is None:
        os.environ["TRANSIT_CLOCK"] = CLOCK
        subprocess.run([sys.executable, "-m", "transit", "ingest", "--catalog", str(CATALOG),
                        "--data-dir", str(data_dir)], check=True, cwd=ROOT)


def requests_of(data_dir: Path, n: int = 20) -> list[tuple[str, dict[str, object]]]:
    """Warm-up requests: departures at n busy stops and near them, n journeys between them
    (seeded), and the live-data reads."""
    from transit.timetable.store import Store

    tt = Store(data_dir, network()).load_current()
    ev = np.diff(np.asarray(tt.ev_offsets))
    busy = np.argsort(-ev, kind="stable")[:200]
    rng = np.random.default_rng(SEED)
    ids = tt.strings("stop_id").to_list()
    lat, lon = np.asarray(tt.stop_lat), np.asarray(tt.stop_lon)
    out: list[tuple[str, dict[str, object]]] = []
    for s in rng.choice(busy, n, replace=False):
        out.append((f"/v1/stops/{ids[int(s)]}/departures", {}))
        out.append(("/v1/departures", {"lat": float(lat[s]), "lon": float(lon[s])}))
    for _ in range(n):
        a, b = (int(x) for x in rng.choice(busy, 2, replace=False))
        out.append(("/v1/journeys", {"from": ids[a], "to": ids[b], "depart_at": CLOCK}))
    out += [("/v1/vehicles", {"lat": float(lat[busy[0]]), "lon": float(lon[busy[0]]),
                              "radius": 2000}),
            ("/v1/alerts", {}), ("/v1/gtfs-rt/trip-updates", {"format": "json"})]
    return out


def smaps(pid: int, data_dir: Path) -> tuple[float, float, float]:
    """(private MiB outside the timetable's files, of which anonymous, timetable RSS MiB)."""
    tt_root = str(data_dir.resolve())
    private = anon = tt_rss = 0
    path = ""
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head, _, rest = line.partition(":")
            if " " in head:
                # a mapping header: "start-end perms offset dev inode [path]"
                parts = line.split(None, 5)
                path = parts[5].strip() if len(parts) > 5 else ""
                continue
            if head not in ("Private_Clean", "Private_Dirty", "Rss"):
                continue
            kib = int(rest.split()[0])
            if path.startswith(tt_root):
                if head == "Rss":
                    tt_rss += kib
            elif head != "Rss":
                private += kib
                if not path.startswith("/"):
                    anon += kib
    return private / 1024, anon / 1024, tt_rss / 1024


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure(code: Path, data_dir: Path, requests: list[tuple[str, dict[str, object]]],
            workdir: Path) -> Sample:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRANSIT_")}
    env.update({"PYTHONPATH": str(code), "TRANSIT_DATA_DIR": str(data_dir),
                "TRANSIT_NETWORK": network(), "TRANSIT_CATALOG": str(CATALOG),
                "TRANSIT_CLOCK": CLOCK, "TRANSIT_RATE_LIMIT_PER_MINUTE": "0",
                "TRANSIT_REALTIME_POLL": "false", "TRANSIT_RUN_JOBS": "false"})
    workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "transit.app:app_from_env",
         "--port", str(port), "--log-level", "warning", "--no-access-log"],
        cwd=workdir, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc, f"the server of {code}")
        start_s = time.perf_counter() - t0
        with httpx.Client(base_url=url, timeout=60) as client:
            for _ in range(2):
                for path, params in requests:
                    r = client.get(path, params=params)
                    if r.status_code != 200:
                        raise SystemExit(f"{code}: {path} {params}: {r.status_code} {r.text}")
        return Sample(start_s, *smaps(proc.pid, data_dir))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _children(pid: int) -> list[int]:
    return sorted(int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())


def measure_forked(code: Path, data_dir: Path, requests: list[tuple[str, dict[str, object]]],
                   workdir: Path) -> Sample:
    """`transit serve --workers 2`: the private memory of each forked worker (median of the
    two) after the warm-up requests, and the start of a worker as the parent restarts one
    killed with SIGKILL (fork to ready, from its log line)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRANSIT_")}
    env.update({"PYTHONPATH": str(code), "TRANSIT_RATE_LIMIT_PER_MINUTE": "0",
                "TRANSIT_REALTIME_POLL": "false", "TRANSIT_RUN_JOBS": "false"})
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "transit", "serve", "--data-dir", str(data_dir),
             "--catalog", str(CATALOG), "--clock", CLOCK, "--workers", "2", "--port",
             str(port)], cwd=workdir, env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc, f"the forked server of {code}")
        for _ in range(4):  # a new connection each: the kernel spreads them over both workers
            for path, params in requests:
                r = httpx.get(url + path, params=params, timeout=60)
                if r.status_code != 200:
                    raise SystemExit(f"{code}: {path} {params}: {r.status_code} {r.text}")
        workers = _children(proc.pid)
        mems = [smaps(pid, data_dir) for pid in workers]
        os.kill(workers[0], 9)
        deadline = time.monotonic() + 120
        pattern = re.compile(r"worker (\d+) ready (\d+\.\d+) s after its fork")
        while True:
            late = [m for m in pattern.finditer(log.read_text())
                    if int(m.group(1)) not in workers]
            if late:
                start_s = float(late[0].group(2))
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"no worker restarted: {log.read_text()[-2000:]}")
            time.sleep(0.05)
        return Sample(start_s, statistics.median(m[0] for m in mems),
                      statistics.median(m[1] for m in mems), statistics.median(m[2] for m in mems))
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def main() -> None:
    global CATALOG
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", type=Path, help="a checkout of the code to compare with")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--data-dir", type=Path)
    ap.add_argument("--forked", action="store_true",
                    help="also measure the workers of `transit serve --workers 2`")
    ap.add_argument("--catalog", type=Path, help="the catalog served (default: Bay Area)")
    ap.add_argument("--network", choices=("bayarea", "big"), default="bayarea",
                    help="big: DATA_DIR/big.toml (tests/benchmarks/big_network.py)")
    args = ap.parse_args()
    data_dir = (args.data_dir or Path(tempfile.mkdtemp(prefix="bench-worker-"))).resolve()
    if args.network == "big":
        if not (data_dir / "big.toml").exists():
            raise SystemExit(f"no {data_dir / 'big.toml'}: run tests/benchmarks/big_network.py "
                             f"--out {data_dir} first")
        CATALOG = data_dir / "big.toml"
    elif args.catalog:
        CATALOG = args.catalog.resolve()
    ensure_compiled(data_dir)
    requests = requests_of(data_dir)
    codes = {"this code": ROOT}
    if args.base:
        codes = {"base": args.base.resolve(), **codes}
    ways = {name: (code, measure) for name, code in codes.items()}
    if args.forked:
        ways.update({f"{name}, forked": (code, measure_forked) for name, code in codes.items()})
    with tempfile.TemporaryDirectory() as tmp:
        for name, code in codes.items():  # a first start fills numba's cache of each
            measure(code, data_dir, requests[:3], Path(tmp) / "warm")
            print(f"{name}: numba cache warm", flush=True)
        samples: dict[str, list[Sample]] = {name: [] for name in ways}
        for i in range(args.runs):
            for name, (code, how) in ways.items():
                s = how(code, data_dir, requests, Path(tmp) / f"{name}-{i}")
                samples[name].append(s)
                print(f"run {i + 1} {name}: start {s.start_s:.2f} s, private "
                      f"{s.private_mib:.0f} MiB (anonymous {s.anonymous_mib:.0f}), timetable "
                      f"resident {s.timetable_rss_mib:.0f} MiB", flush=True)
    t = Table(f"One worker, {CATALOG.name} ({network()}), after {2 * len(requests)} "
              f"warm-up requests; medians of {args.runs} runs")
    for name, ss in samples.items():
        med = {f: statistics.median(getattr(s, f) for s in ss)
               for f in ("start_s", "private_mib", "anonymous_mib", "timetable_rss_mib")}
        t.add(f"{name}: private MiB besides the timetable", f"{med['private_mib']:.0f}",
              "< 100", med["private_mib"] < 100)
        t.add(f"{name}:   of which anonymous MiB", f"{med['anonymous_mib']:.0f}")
        t.add(f"{name}: timetable resident MiB (shared)", f"{med['timetable_rss_mib']:.0f}")
        what = "fork to ready, a restarted worker" if "forked" in name else "spawn to ready"
        t.add(f"{name}: start, {what} (s)", f"{med['start_s']:.2f}", "< 1",
              med["start_s"] < 1)
        t.note(f"{name}: starts " + ", ".join(f"{s.start_s:.2f}" for s in ss) + "; private "
               + ", ".join(f"{s.private_mib:.0f}" for s in ss))
    t.print()


if __name__ == "__main__":
    main()
