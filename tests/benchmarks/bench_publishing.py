"""Benchmark of an operator publishing a feed into the merged 29-operator Bay Area network
(not collected by pytest).

1. upload-to-served: a real uvicorn server (2 workers) serving the merged network as of
   Wed 2018-08-29; one operator uploads its feed, waits for the report, publishes, and the
   time runs until every answer of /readyz (new connections, both workers) shows the new
   version. Printed with how it splits: upload request, queue + validation + compile + diff
   (the staging job), publish request (lock, loading the other parts, merge, write), and
   the switch of the workers after the answer. Target: < 10 s. The merge is done once, in
   the staging job (the preview network), and the publish adopts it while the served
   network is still the one it was merged over.
2. peak memory of validation: staging the operator's feed (read, validate, compile, diff)
   in a fresh child process, its VmHWM against the same child doing nothing but imports.

    .venv/bin/python tests/benchmarks/bench_publishing.py [--operator SM] [--data-dir DIR]

The merged network is compiled once into --data-dir (kept, so reruns skip it).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from report import Table

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "feeds" / "bayarea-2018.toml"
CLOCK = "2018-08-29T08:00:00-07:00"
TARGET_S = 10.0
sys.path.insert(0, str(ROOT))

from transit.accounts import service as accounts  # noqa: E402
from transit.accounts.scope import CLI  # noqa: E402
from transit.catalog import load_catalog  # noqa: E402
from transit.db import migrate  # noqa: E402
from transit.db.engine import Database, default_url  # noqa: E402
from transit.db.models import FeedVersionRow, JobRow  # noqa: E402


def step(text: str) -> None:
    print(f"... {text}", file=sys.stderr, flush=True)


def compile_network(data: Path) -> None:
    if (data / "timetables" / "CURRENT").exists():
        return
    step("compiling the 29 Bay Area operators (once)")
    subprocess.run([sys.executable, "-m", "transit", "ingest", "--catalog", str(CATALOG),
                    "--data-dir", str(data)], cwd=ROOT, check=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT), "TRANSIT_CLOCK": CLOCK})


def publisher_key(data: Path, operator: str) -> str:
    db = Database(default_url(data))
    migrate.upgrade(db)
    accounts.record_operators(db, [(o.id, o.name) for o in load_catalog(CATALOG).operators],
                              "catalog")
    key = accounts.create_key(db, operator, "publisher", CLI, label="benchmark").token
    db.dispose()
    return key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TRANSIT_DATA_DIR": str(data),
           "TRANSIT_CLOCK": CLOCK, "TRANSIT_CATALOG": str(CATALOG),
           "TRANSIT_RATE_LIMIT_PER_MINUTE": "0", "TRANSIT_REALTIME_POLL": "false"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "transit.app:app_from_env",
         "--port", str(port), "--workers", "2", "--log-level", "warning"], cwd=ROOT, env=env)
    deadline = time.monotonic() + 300
    ok = 0
    while ok < 10:
        if time.monotonic() > deadline:
            raise SystemExit("server did not start")
        try:
            ok = ok + 1 if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5
                                     ).status_code == 200 else 0
        except httpx.TransportError:
            ok = 0
        time.sleep(0.2)
    return proc


def served_version(url: str) -> str:
    with httpx.Client(timeout=10) as http:  # a new connection: any worker
        return http.get(f"{url}/readyz").json()["timetable_version"]


def upload_to_served(url: str, key: str, operator: str, feed: Path, data: Path) -> Table:
    auth = {"Authorization": f"Bearer {key}"}
    body = feed.read_bytes()
    with httpx.Client(base_url=url, headers=auth, timeout=300) as http:
        t0 = time.perf_counter()
        r = http.post(f"/v1/operators/{operator}/feeds",
                      files={"file": (feed.name, body, "application/zip")})
        t1 = time.perf_counter()
        assert r.status_code == 202, r.text
        version = r.json()["id"]
        while (v := http.get(f"/v1/operators/{operator}/feeds/{version}").json())[
                "status"] == "validating":
            time.sleep(0.05)
        t2 = time.perf_counter()
        assert v["status"] == "staged", v["report"]
        r = http.post(f"/v1/operators/{operator}/feeds/{version}/publish",
                      params={"force": "true"})
        t3 = time.perf_counter()
        assert r.status_code == 200, r.text
        new = r.json()["timetable_version"]
    streak = 0
    while streak < 10:  # ten answers in a row, from new connections, show it
        streak = streak + 1 if served_version(url) == new else 0
    t4 = time.perf_counter()
    db = Database(default_url(data))
    with db.session() as s:
        jobs = {j.kind: j for j in s.query(JobRow).filter(
            JobRow.payload["version"].as_string() == version)}
        row = s.get(FeedVersionRow, version)
    db.dispose()
    stage = jobs["feed.stage"].result["seconds"]
    pub = jobs["feed.publish"].result["seconds"]
    total = t4 - t0
    t = Table(f"1. upload-to-served: operator {operator} ({len(body) / 1e6:.1f} MB zip, "
              f"{row.counts['trips']} trips) in the merged 29-operator network")
    t.add("upload request (202)", f"{t1 - t0:.2f} s")
    t.add("staging (queue + job)", f"{t2 - t1:.2f} s")
    t.note(f"read + validate + compile {stage['compile']:.2f} s, diff + policy "
           f"{stage['diff']:.2f} s, merge of the preview network {stage['preview']:.2f} s")
    t.add("publish request (200)", f"{t3 - t2:.2f} s")
    how = "the preview taken as is" if pub["reused_preview"] else (
        f"load 28 other parts {pub['load_parts']:.2f} s, merge {pub['merge']:.2f} s")
    t.note(f"lock {pub['wait_lock']:.2f} s, {how}, switch {pub['write']:.2f} s")
    t.add("answer -> every worker serves it", f"{t4 - t3:.2f} s", "< 2 s", t4 - t3 < 2)
    t.add("upload -> served", f"{total:.2f} s", f"< {TARGET_S:.0f} s", total < TARGET_S)
    cpu = stage["cpu"] + stage["preview_cpu"]
    t.add("CPU of the staging job (compile + merge)", f"{cpu:.2f} s")
    t.note("what the job costs without other processes competing for the cores")
    t.note(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return t


PEAK_CHILD = """
import sys, time
from datetime import datetime
from pathlib import Path
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
from transit.clock import FixedClock
from transit.catalog import Catalog, Operator
from transit.publishing.release import Releases
from transit.timetable.store import Store
base = hwm()
if sys.argv[1] == "stage":
    r = Releases(Store(Path(sys.argv[3])), Catalog(()),
                 FixedClock(datetime.fromisoformat("2018-08-29T08:00:00-07:00")))
    t0 = time.perf_counter()
    staged = r.stage(Operator(sys.argv[2], sys.argv[2], ""), Path(sys.argv[4]))
    print(base, hwm(), time.perf_counter() - t0, staged.status, flush=True)
else:
    print(base, hwm(), 0.0, "-", flush=True)
"""


def validation_memory(operator: str, feed: Path) -> Table:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([sys.executable, "-c", PEAK_CHILD, "stage", operator, tmp,
                              str(feed)], cwd=ROOT, capture_output=True, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    base, peak, seconds, status = out.stdout.split()
    t = Table(f"2. peak memory of validation: staging {operator} in a child process")
    t.add("imports only (VmHWM)", f"{float(base):.0f} MiB")
    t.add("read + validate + compile + diff", f"{float(peak):.0f} MiB")
    t.add("of which for the feed", f"{float(peak) - float(base):.0f} MiB")
    t.note(f"{feed.stat().st_size / 1e6:.1f} MB zip, {status} in {float(seconds):.2f} s")
    return t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--operator", default="SM", help="a Bay Area operator id (default: "
                    "SM, SamTrans, the largest feed)")
    ap.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir())
                    / "transit-bench-publishing")
    args = ap.parse_args()
    catalog = load_catalog(CATALOG)
    op = next((o for o in catalog.operators if o.id == args.operator), None)
    if op is None:
        raise SystemExit(f"unknown operator {args.operator}")
    feed = Path(op.gtfs)
    if not feed.exists():
        raise SystemExit(f"shared test data not found: {feed}")
    compile_network(args.data_dir)
    key = publisher_key(args.data_dir, op.id)
    port = free_port()
    step("starting uvicorn with 2 workers")
    proc = start_server(args.data_dir, port)
    try:
        step(f"{op.id}: upload, report, publish, served")
        first = upload_to_served(f"http://127.0.0.1:{port}", key, op.id, feed, args.data_dir)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    step("peak memory of validation")
    memory = validation_memory(op.id, feed)
    first.print()
    memory.print()


if __name__ == "__main__":
    main()
