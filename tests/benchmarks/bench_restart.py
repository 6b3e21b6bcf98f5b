"""Restart time of forked workers (not collected by pytest): `transit serve --workers 2` of
one checkout; one worker killed N times, each restart's "ready X s after its fork" read from
the log. A single restart is too noisy on a shared machine (bench_worker.py takes one per
run): run this alternately for the base and this code.

    .venv/bin/python tests/benchmarks/bench_restart.py CODE DATA_DIR CATALOG [N]
e.g.  ... ../wt-big-base /work/big-data /work/big-data/big.toml 5
"""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report import wait_ready

CLOCK = "2018-08-29T08:00:00-07:00"
READY = re.compile(r"worker (\d+) ready (\d+\.\d+) s after its fork")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_new(log: Path, seen: set[int]) -> float:
    while True:
        new = [m for m in READY.finditer(log.read_text()) if int(m.group(1)) not in seen]
        if new:
            seen.add(int(new[0].group(1)))
            return float(new[0].group(2))
        time.sleep(0.05)


def restarts(code: str, data: str, catalog: str, n: int) -> list[float]:
    port = _port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRANSIT_")}
    env.update({"PYTHONPATH": code, "TRANSIT_RATE_LIMIT_PER_MINUTE": "0",
                "TRANSIT_REALTIME_POLL": "false", "TRANSIT_RUN_JOBS": "false"})
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "serve.log"
        with log.open("w") as out:
            p = subprocess.Popen(
                [sys.executable, "-m", "transit", "serve", "--data-dir", data, "--catalog",
                 catalog, "--clock", CLOCK, "--workers", "2", "--port", str(port)],
                cwd=tmp, env=env, stdout=out, stderr=out)
        try:
            wait_ready(f"http://127.0.0.1:{port}", p, "the server", poll_s=0.1)
            time.sleep(2)
            seen = {int(m.group(1)) for m in READY.finditer(log.read_text())}
            times = []
            for _ in range(n):
                kids = Path(f"/proc/{p.pid}/task/{p.pid}/children").read_text().split()
                os.kill(int(kids[0]), 9)
                times.append(_wait_new(log, seen))
                time.sleep(1)
            return times
        finally:
            p.terminate()
            p.wait(60)


def main() -> None:
    code, data, catalog = sys.argv[1:4]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    times = restarts(code, data, catalog, n)
    print(f"{code}: restarts {times}, median {statistics.median(times):.2f} s", flush=True)


if __name__ == "__main__":
    main()
