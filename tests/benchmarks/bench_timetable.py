"""Benchmark of the compiled timetable on real feeds (not collected by pytest).

For the 29 merged Bay Area feeds (as of Wed 2018-08-29) and for SNCB (as of Mon 2019-03-18):

1. ingest + compile in a child process: wall time, peak RSS (the child's VmHWM: its
   ru_maxrss would include this process's RSS at fork), artifact size, bytes/stop_time;
2. worker load in fresh child processes: Timetable.load + id indexes + numba warm_up (and,
   separately, transit.app.prepare as a server worker does);
3. "next 10 departures at stop X after T" in-process: the engine call and the service call
   (response models included), p50/p95 over seeded random (stop, time) pairs;
4. the same queries answered by DuckDB SQL over the raw GTFS tables and by gtfs-kit, with
   medians, ratios (other / ours) and an agreement check on the departure times;
5. HTTP throughput of a real uvicorn server: departures endpoint vs the trivial /healthz,
   in alternating rounds, so that machine noise hits both; plus the server's CPU per request
   (from /proc) and the same requests through the ASGI app in-process (no client at all).

    .venv/bin/python tests/benchmarks/bench_timetable.py [--network bayarea|sncb|all]
                                                         [--quick] [--data-dir DIR]

Every ratio is measured within one run; on a shared machine, compare ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

import numpy as np
import orjson
import pandas as pd
from report import Table, verdict

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
SEED = 20180829
DAY_S = 86400

# --------------------------------------------------------------------------- networks


@dataclass(frozen=True)
class Network:
    key: str
    title: str
    feeds: tuple[tuple[str, Path], ...]  # (operator id, GTFS zip)
    day: date
    tz: str
    compile_target_s: float | None = None


def networks() -> dict[str, Network]:
    bay = sorted((DATA / "gtfs" / "bayarea-511-2018").glob("*.zip"))
    return {
        "bayarea": Network(
            "bayarea", f"Bay Area 511 ({len(bay)} operators merged)",
            tuple((p.name.split("-")[0], p) for p in bay), date(2018, 8, 29),
            "America/Los_Angeles", compile_target_s=60.0),
        "sncb": Network(
            "sncb", "SNCB/NMBS national rail",
            (("SNCB", DATA / "gtfs" / "belgium" / "sncb-nmbs-2019-03-11.zip"),),
            date(2019, 3, 18), "Europe/Brussels"),
    }


@dataclass(frozen=True)
class Sizes:
    ingest_runs: int
    load_runs: int
    queries: int
    duckdb_queries: int
    gtfskit_queries: int
    http_per_endpoint: int
    http_rounds: int
    http_concurrency: int


FULL = Sizes(3, 7, 2000, 200, 30, 3000, 6, 8)
QUICK = Sizes(1, 5, 1000, 50, 10, 900, 3, 8)

# --------------------------------------------------------------------------- output


def fmt_s(x: float) -> str:
    return f"{x:.2f} s" if x >= 1 else f"{x * 1e3:.0f} ms"


def fmt_ms(x: float) -> str:
    return f"{x * 1e3:.3f} ms" if x < 0.01 else f"{x * 1e3:.1f} ms"


def mib(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:.1f} MiB"


def step(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def pctl(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


# --------------------------------------------------------------------------- child processes

INGEST_CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
def peak_kib():  # VmHWM of this process image (ru_maxrss would include the parent's at fork)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
from pathlib import Path
from transit.catalog import Catalog, Operator
from transit.ingest.pipeline import ingest
from transit.timetable.store import Store
rss_imports = peak_kib()
t1 = time.perf_counter()
feeds = json.loads(sys.argv[1])
catalog = Catalog(tuple(Operator(id=i, name=i, gtfs=p) for i, p in feeds))
report = ingest(catalog, Store(Path(sys.argv[2])))
t2 = time.perf_counter()
print(json.dumps({"version": report.version, "counts": report.counts,
                  "seconds": report.seconds, "read": report.operators_read,
                  "reused": report.operators_reused, "import_s": t1 - t0, "ingest_s": t2 - t1,
                  "rss_imports_kib": rss_imports,
                  "rss_peak_kib": peak_kib()}))
"""

LOAD_CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
def peak_kib():  # VmHWM of this process image (ru_maxrss would include the parent's at fork)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
from pathlib import Path
from transit.timetable.departures import warm_up
from transit.timetable.timetable import Timetable
if sys.argv[2] == "server":  # what a server worker does: transit.app.prepare(tt)
    from transit.app import prepare
t1 = time.perf_counter()
tt = Timetable.load(Path(sys.argv[1]))
t2 = time.perf_counter()
if sys.argv[2] == "server":
    prepare(tt)
    t3 = t4 = time.perf_counter()
else:
    n = len(tt.stop_index) + len(tt.trip_index)
    t3 = time.perf_counter()
    warm_up(tt)
    t4 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "index_s": t3 - t2,
                  "warm_s": t4 - t3, "total_s": t4 - t1, "rss_kib": peak_kib()}))
"""


def run_child(code: str, *args: str, timeout: float = 600) -> tuple[dict[str, Any], float]:
    """Run a python snippet in a fresh interpreter; return its JSON line and the wall time."""
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, check=False)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise RuntimeError(f"child process failed with exit code {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1]), wall


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# --------------------------------------------------------------------------- 1. ingest


@dataclass
class IngestResult:
    data_dir: Path
    version_dir: Path
    counts: dict[str, int]
    table: Table
    summary: dict[str, Any] = field(default_factory=dict)


def bench_ingest(net: Network, base: Path, sz: Sizes) -> IngestResult:
    feeds = json.dumps([[op, str(p)] for op, p in net.feeds])
    runs: list[tuple[dict[str, Any], float]] = []
    dirs: list[Path] = []
    for i in range(sz.ingest_runs):
        d = base / net.key / f"ingest-{i}"
        shutil.rmtree(d, ignore_errors=True)
        step(f"{net.key}: ingest {i + 1}/{sz.ingest_runs} (fresh data dir)")
        runs.append(run_child(INGEST_CHILD, feeds, str(d)))
        dirs.append(d)
    data_dir = dirs[0]
    for d in dirs[1:]:
        shutil.rmtree(d, ignore_errors=True)
    first = runs[0][0]
    counts = first["counts"]
    version_dir = data_dir / "timetables" / first["version"]
    size = dir_size(version_dir)
    parts = dir_size(data_dir / "parts")
    walls = [w for _, w in runs]
    totals = [r["seconds"]["total"] for r, _ in runs]
    peak = max(r["rss_peak_kib"] for r, _ in runs) * 1024
    imports = statistics.median(r["rss_imports_kib"] for r, _ in runs) * 1024
    phase = {k: statistics.median(r["seconds"][k] for r, _ in runs)
             for k in ("read_compile", "merge", "write")}

    # re-ingest with every part unchanged (each feed is only hashed), into the same store
    step(f"{net.key}: re-ingest with unchanged feeds (parts reused)")
    again, again_wall = run_child(INGEST_CHILD, feeds, str(data_dir))

    t = Table(f"[{net.key}] 1. ingest + compile (child process, median of {len(runs)})")
    t.add("operators / stops / trips", f"{counts['operators']} / {counts['stops']} / "
          f"{counts['trips']}")
    t.add("stop_times / patterns / events", f"{counts['stop_times']} / {counts['patterns']} / "
          f"{counts['events']}")
    tgt = net.compile_target_s
    t.add("ingest+compile (report.seconds.total)", fmt_s(statistics.median(totals)),
          f"< {tgt:.0f} s" if tgt else "", statistics.median(totals) < tgt if tgt else None)
    t.add("  read+validate+compile parts", fmt_s(phase["read_compile"]))
    t.add("  merge (stations, footpaths, events, indexes)", fmt_s(phase["merge"]))
    t.add("  write + publish", fmt_s(phase["write"]))
    t.add("child process wall (incl. interpreter+imports)", fmt_s(statistics.median(walls)))
    t.add("runs (report.seconds.total)", ", ".join(f"{x:.2f}" for x in totals))
    t.add("peak RSS of the ingest process (VmHWM)", mib(peak))
    t.add("  of which interpreter + imports", mib(imports))
    t.add("published version directory", f"{mib(size)} ({size:,} B)")
    t.add("  bytes per stop_time", f"{size / max(counts['stop_times'], 1):.1f} B")
    t.add("per-operator parts on disk (parts/)", mib(parts))
    t.add("re-ingest, unchanged feeds (reused parts)",
          f"{fmt_s(again['seconds']['total'])} (wall {fmt_s(again_wall)})")
    t.note(f"re-ingest read {len(again['read'])} feeds, reused {len(again['reused'])} parts")
    version_dir = data_dir / "timetables" / again["version"]
    return IngestResult(data_dir, version_dir, counts, t, {
        "compile_s": statistics.median(totals), "peak_rss": peak, "size": size,
        "b_per_st": size / max(counts["stop_times"], 1)})


# --------------------------------------------------------------------------- 2. worker load


def has_prepare() -> bool:
    try:
        from transit.app import prepare  # noqa: F401
    except ImportError:
        return False
    return True


def bench_worker_load(net: Network, version_dir: Path, sz: Sizes
                      ) -> tuple[Table, float, float | None]:
    step(f"{net.key}: worker load, 1 throwaway + {sz.load_runs} fresh processes")
    run_child(LOAD_CHILD, str(version_dir), "engine")  # makes numba's on-disk cache warm
    runs = [run_child(LOAD_CHILD, str(version_dir), "engine") for _ in range(sz.load_runs)]
    med = {k: statistics.median(r[k] for r, _ in runs)
           for k in ("import_s", "load_s", "index_s", "warm_s", "total_s")}
    t = Table(f"[{net.key}] 2. worker load (fresh process, median of {len(runs)}, numba cache "
              "warm)")
    t.add("load + id indexes + warm_up", fmt_ms(med["total_s"]), "< 1 s", med["total_s"] < 1.0)
    t.add("  Timetable.load (mmap)", fmt_ms(med["load_s"]))
    t.add("  stop_index + trip_index", fmt_ms(med["index_s"]))
    t.add("  departures.warm_up (numba cache load)", fmt_ms(med["warm_s"]))
    t.add("imports (numpy, numba, transit) before that", fmt_ms(med["import_s"]))
    t.add("child process wall (incl. interpreter)",
          fmt_ms(statistics.median(w for _, w in runs)))
    t.add("runs (load+index+warm_up)", ", ".join(f"{r['total_s'] * 1e3:.0f}" for r, _ in runs)
          + " ms")
    t.add("peak RSS of a loaded worker (VmHWM)",
          mib(max(r["rss_kib"] for r, _ in runs) * 1024))
    total = None
    if has_prepare():
        step(f"{net.key}: server-style worker load (transit.app.prepare), "
             f"1 throwaway + {sz.load_runs}")
        run_child(LOAD_CHILD, str(version_dir), "server")
        srv = [run_child(LOAD_CHILD, str(version_dir), "server") for _ in range(sz.load_runs)]
        total = statistics.median(r["total_s"] for r, _ in srv)
        t.add("server worker: load + api.app.prepare(tt)", fmt_ms(total), "< 1 s", total < 1.0)
        t.add("  imports incl. FastAPI app", fmt_ms(statistics.median(r["import_s"]
                                                                     for r, _ in srv)))
        t.add("  child process wall (incl. interpreter)",
              fmt_ms(statistics.median(w for _, w in srv)))
        t.add("  peak RSS (VmHWM)", mib(max(r["rss_kib"] for r, _ in srv) * 1024))
    return t, med["total_s"], total


# --------------------------------------------------------------------------- 3. in-process


@dataclass(frozen=True)
class Query:
    stop: int  # index into the compiled timetable
    t0: int  # Unix seconds
    qdate: date  # local calendar date of t0
    tod: int  # seconds of t0 after local midnight of qdate
    midnight: int  # Unix seconds of local midnight of qdate


def make_queries(tt: Any, net: Network, n: int) -> list[Query]:
    rng = np.random.default_rng(SEED)
    off = np.asarray(tt.ev_offsets)
    candidates = np.flatnonzero(off[1:] > off[:-1])
    stops = rng.choice(candidates, size=n)
    tz = ZoneInfo(net.tz)
    lo = int(datetime.combine(net.day, dtime(4), tzinfo=tz).timestamp())
    hi = int(datetime.combine(net.day + timedelta(days=1), dtime(3), tzinfo=tz).timestamp())
    out = []
    for s, t0 in zip(stops, rng.integers(lo, hi, size=n, endpoint=True), strict=True):
        qdate = datetime.fromtimestamp(int(t0), tz).date()
        midnight = int(datetime.combine(qdate, dtime(0), tzinfo=tz).timestamp())
        out.append(Query(int(s), int(t0), qdate, int(t0) - midnight, midnight))
    return out


@dataclass
class InProcess:
    engine_s: list[float]
    board_s: list[float]
    json_s: list[float]
    answers: list[list[int]]  # departure times, seconds after local midnight of qdate
    table: Table


def bench_in_process(tt: Any, net: Network, queries: list[Query]) -> InProcess:
    from transit.departures.service import board
    from transit.timetable.departures import next_departures

    tz = ZoneInfo(net.tz)
    step(f"{net.key}: {len(queries)} in-process departure queries")
    arrays = [np.array([q.stop], dtype=np.int64) for q in queries]
    starts = [datetime.fromtimestamp(q.t0, tz) for q in queries]
    for a, q, st in list(zip(arrays, queries, starts, strict=True))[:200]:  # warm caches
        next_departures(tt, a, q.t0, q.t0 + DAY_S, 10)
        orjson.dumps(board(tt, a, st, 1440, 10, []))
    engine, boards, dumps, answers = [], [], [], []
    pc = time.perf_counter
    for a, q, st in zip(arrays, queries, starts, strict=True):
        t = pc()
        deps = next_departures(tt, a, q.t0, q.t0 + DAY_S, 10)
        t1 = pc()
        b = board(tt, a, st, 1440, 10, [])
        t2 = pc()
        orjson.dumps(b)
        t3 = pc()
        engine.append(t1 - t)
        boards.append(t2 - t1)
        dumps.append(t3 - t1)
        answers.append([d.time_utc - q.midnight for d in deps])
    n_found = [len(a) for a in answers]
    t = Table(f"[{net.key}] 3. next 10 departures in-process ({len(queries)} random (stop, time) "
              "pairs, 24 h window)")
    t.add("engine next_departures p50", fmt_ms(pctl(engine, 50)), "< 0.2 ms",
          pctl(engine, 50) < 0.0002)
    t.add("engine next_departures p95", fmt_ms(pctl(engine, 95)))
    t.add("engine next_departures p99 / max",
          f"{fmt_ms(pctl(engine, 99))} / {fmt_ms(max(engine))}")
    t.add("service board() p50 (dicts built)", fmt_ms(pctl(boards, 50)))
    t.add("service board() p95", fmt_ms(pctl(boards, 95)))
    t.add("board() + orjson.dumps p50 / p95",
          f"{fmt_ms(pctl(dumps, 50))} / {fmt_ms(pctl(dumps, 95))}")
    t.add("board() p50 / engine p50", f"{pctl(boards, 50) / pctl(engine, 50):.1f}x")
    t.add("queries with 10 / 1-9 / 0 departures",
          f"{sum(x == 10 for x in n_found)} / {sum(0 < x < 10 for x in n_found)} / "
          f"{sum(x == 0 for x in n_found)}")
    return InProcess(engine, boards, dumps, answers, t)


# --------------------------------------------------------------------------- 4. references

ST_COLS = ["trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence", "pickup_type"]


def _read_csv(zf: zipfile.ZipFile, name: str) -> pd.DataFrame | None:
    if name not in zf.namelist():
        return None
    df = pd.read_csv(io.BytesIO(zf.read(name)), dtype=str, keep_default_na=False,
                     encoding="utf-8-sig")
    df.columns = [c.strip() for c in df.columns]
    return df


def _clock_seconds(col: pd.Series) -> np.ndarray:
    parts = col.str.strip().str.extract(r"^(\d+):(\d\d):(\d\d)$").astype(np.float64)
    return (parts[0] * 3600 + parts[1] * 60 + parts[2]).to_numpy(np.float64)


def raw_stop_times(zf: zipfile.ZipFile) -> pd.DataFrame:
    """stop_times.txt as read, sorted by (trip, stop_sequence), with `dep_s` (float seconds;
    untimed rows interpolated linearly by stop index between the previous timed departure
    and the next timed arrival, the GTFS convention) and `boardable` (pickup allowed and not
    the trip's last stop)."""
    st = _read_csv(zf, "stop_times.txt")
    assert st is not None
    st = st.reindex(columns=ST_COLS, fill_value="")
    for c in ("trip_id", "stop_id"):
        st[c] = st[c].str.strip()
    st["stop_sequence"] = pd.to_numeric(st["stop_sequence"]).astype(np.int64)
    st = st.sort_values(["trip_id", "stop_sequence"], kind="stable").reset_index(drop=True)
    arr, dep = _clock_seconds(st["arrival_time"]), _clock_seconds(st["departure_time"])
    dep = np.where(np.isnan(dep), arr, dep)
    arr = np.where(np.isnan(arr), dep, arr)
    pos = np.arange(len(st), dtype=np.float64)
    timed = pd.Series(np.where(np.isnan(dep), np.nan, pos))
    prev = timed.groupby(st["trip_id"]).ffill().to_numpy()
    nxt = timed.groupby(st["trip_id"]).bfill().to_numpy()
    fill = np.isnan(dep) & ~np.isnan(prev) & ~np.isnan(nxt)
    p, q = prev[fill].astype(np.int64), nxt[fill].astype(np.int64)
    frac = (pos[fill] - p) / (q - p)
    dep[fill] = np.round(dep[p] + frac * (arr[q] - dep[p]))
    st["dep_s"] = dep
    trip = st["trip_id"].to_numpy()
    last = np.r_[trip[1:] != trip[:-1], True]
    pickup = pd.to_numeric(st["pickup_type"].str.strip().replace("", "0")).to_numpy()
    st["boardable"] = (pickup != 1) & ~last
    return st


def _hms(seconds: np.ndarray) -> list[str | None]:
    return [None if np.isnan(s) else f"{int(s) // 3600:02d}:{int(s) // 60 % 60:02d}:"
            f"{int(s) % 60:02d}" for s in seconds]


DUCKDB_SQL = """
WITH days AS (
    SELECT o, CAST($qdate AS DATE) + o AS d FROM (VALUES (-1), (0), (1)) AS v(o)
), added AS (
    SELECT days.o, c.service_id
    FROM calendar c JOIN days ON days.d BETWEEN c.start_date AND c.end_date
    WHERE c.feed = $feed AND CASE isodow(days.d)
        WHEN 1 THEN c.monday WHEN 2 THEN c.tuesday WHEN 3 THEN c.wednesday
        WHEN 4 THEN c.thursday WHEN 5 THEN c.friday WHEN 6 THEN c.saturday
        ELSE c.sunday END = 1
    UNION
    SELECT days.o, cd.service_id FROM calendar_dates cd JOIN days ON cd.date = days.d
    WHERE cd.feed = $feed AND cd.exception_type = 1
), removed AS (
    SELECT days.o, cd.service_id FROM calendar_dates cd JOIN days ON cd.date = days.d
    WHERE cd.feed = $feed AND cd.exception_type = 2
), active AS (
    SELECT * FROM added EXCEPT SELECT * FROM removed
)
SELECT st.dep_s + 86400 * a.o AS t
FROM stop_times st
JOIN trips tr ON tr.feed = st.feed AND tr.trip_id = st.trip_id
JOIN active a ON a.service_id = tr.service_id
WHERE st.feed = $feed AND st.stop_id = $stop AND st.boardable
  AND st.dep_s + 86400 * a.o BETWEEN $tod AND $tod + 86400
ORDER BY t
LIMIT 10
"""

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def load_duckdb(net: Network, raw: dict[str, pd.DataFrame]) -> Any:
    """Raw GTFS tables of every feed in one DuckDB database (in memory), ids namespaced by a
    `feed` column; stop_times stored sorted by (feed, stop_id, dep_s) so that zone maps
    prune the scan (the best layout DuckDB offers for this query without our compiler)."""
    import duckdb

    con = duckdb.connect(":memory:")
    st_parts, trips, cals, cds = [], [], [], []
    for op, path in net.feeds:
        with zipfile.ZipFile(path) as zf:
            st = raw[op]
            st_parts.append(pd.DataFrame({
                "feed": op, "trip_id": st["trip_id"], "stop_id": st["stop_id"],
                "dep_s": st["dep_s"], "boardable": st["boardable"]}))
            tr = _read_csv(zf, "trips.txt")
            assert tr is not None
            trips.append(pd.DataFrame({"feed": op, "trip_id": tr["trip_id"].str.strip(),
                                       "service_id": tr["service_id"].str.strip()}))
            cal = _read_csv(zf, "calendar.txt")
            if cal is not None and len(cal):
                cal = cal[["service_id", *WEEKDAYS, "start_date", "end_date"]].copy()
                cal["service_id"] = cal["service_id"].str.strip()
                cals.append(cal.assign(feed=op))
            cd = _read_csv(zf, "calendar_dates.txt")
            if cd is not None and len(cd):
                cd = cd[["service_id", "date", "exception_type"]].copy()
                cd["service_id"] = cd["service_id"].str.strip()
                cds.append(cd.assign(feed=op))
    con.register("st_all", pd.concat(st_parts, ignore_index=True))
    con.register("tr_all", pd.concat(trips, ignore_index=True))
    con.register("cal_all", pd.concat(cals, ignore_index=True) if cals else pd.DataFrame(
        columns=["feed", "service_id", *WEEKDAYS, "start_date", "end_date"], dtype=str))
    con.register("cd_all", pd.concat(cds, ignore_index=True) if cds else pd.DataFrame(
        columns=["feed", "service_id", "date", "exception_type"], dtype=str))
    con.execute("""CREATE TABLE stop_times AS
        SELECT feed, trip_id, stop_id, CAST(dep_s AS INTEGER) AS dep_s, boardable
        FROM st_all WHERE dep_s IS NOT NULL AND NOT isnan(dep_s)
        ORDER BY feed, stop_id, dep_s""")
    con.execute("CREATE TABLE trips AS SELECT * FROM tr_all")
    wd = ", ".join(f"CAST(trim({w}) AS INTEGER) AS {w}" for w in WEEKDAYS)
    con.execute(f"""CREATE TABLE calendar AS SELECT feed, service_id, {wd},
        CAST(strptime(trim(start_date), '%Y%m%d') AS DATE) AS start_date,
        CAST(strptime(trim(end_date), '%Y%m%d') AS DATE) AS end_date FROM cal_all""")
    con.execute("""CREATE TABLE calendar_dates AS SELECT feed, service_id,
        CAST(strptime(trim(date), '%Y%m%d') AS DATE) AS date,
        CAST(trim(exception_type) AS INTEGER) AS exception_type FROM cd_all""")
    for name in ("st_all", "tr_all", "cal_all", "cd_all"):
        con.unregister(name)
    return con


def duckdb_query(con: Any, feed: str, stop: str, q: Query) -> list[int]:
    rows = con.execute(DUCKDB_SQL, {"feed": feed, "stop": stop, "qdate": q.qdate,
                                    "tod": q.tod}).fetchall()
    return [int(r[0]) for r in rows]


def load_gtfskit(path: Path, st: pd.DataFrame) -> Any:
    """gtfs-kit's own reading of the feed, with stop_times replaced by the same interpolated
    times as DuckDB gets (gtfs-kit does not interpolate untimed stops) plus `boardable`."""
    import gtfs_kit
    import gtfs_kit.constants as gk_constants

    # gtfs-kit types some columns as Int16, which real feeds overflow (Marin Transit's
    # fare_attributes.transfer_duration = 86400): widen them, as transit.ingest.reader does.
    for dtypes in gk_constants.DTYPES.values():
        for col, dtype in dtypes.items():
            if dtype == "Int16":
                dtypes[col] = "Int32"
    feed = gtfs_kit.read_feed(path, dist_units="km")
    feed.stop_times = pd.DataFrame({
        "trip_id": st["trip_id"], "arrival_time": _hms(st["dep_s"].to_numpy()),
        "departure_time": _hms(st["dep_s"].to_numpy()), "stop_id": st["stop_id"],
        "stop_sequence": st["stop_sequence"], "boardable": st["boardable"]})
    return feed


def gtfskit_query(feed: Any, stop: str, q: Query) -> list[int]:
    from gtfs_kit.helpers import timestr_to_seconds

    days = [q.qdate + timedelta(days=o) for o in (-1, 0, 1)]
    df = feed.build_stop_timetable(stop, [d.strftime("%Y%m%d") for d in days])
    if df.empty:
        return []
    sec = df["departure_time"].map(timestr_to_seconds).to_numpy(np.float64)
    offset = {d.strftime("%Y%m%d"): (d - q.qdate).days * DAY_S for d in days}
    t = sec + df["date"].map(offset).to_numpy(np.float64)
    keep = df["boardable"].to_numpy(bool) & (t >= q.tod) & (t <= q.tod + DAY_S)
    return [int(x) for x in np.sort(t[keep])[:10]]


def raw_id(tt: Any, s: int) -> tuple[str, str]:
    op, _, rid = tt.strings("stop_id")[s].partition(":")
    return op, rid


@dataclass
class Comparison:
    name: str
    times: list[float]
    ours: list[float]
    ours_board: list[float]
    agree: int
    mismatches: list[str]

    @property
    def ratio(self) -> float:
        return statistics.median(self.times) / statistics.median(self.ours)


def compare(name: str, queries: list[Query], inproc: InProcess, tt: Any, net: Network,
            answer: Any, block: int = 10) -> Comparison:
    """Alternate blocks of `block` queries: ours (an untimed pass, then a timed pass of the
    engine and of board()), then the other engine on the same queries. Machine noise thus
    hits both alike, and each side is timed in its own steady state."""
    from transit.departures.service import board
    from transit.timetable.departures import next_departures

    tz = ZoneInfo(net.tz)
    pc = time.perf_counter
    times, ours, ours_board, agree, mismatches = [], [], [], 0, []
    for lo in range(0, len(queries), block):
        chunk = list(enumerate(queries))[lo:lo + block]
        args = [(np.array([q.stop], dtype=np.int64), datetime.fromtimestamp(q.t0, tz), q)
                for _, q in chunk]
        for timed in (False, True):
            for stops, start, q in args:
                t0 = pc()
                next_departures(tt, stops, q.t0, q.t0 + DAY_S, 10)
                t1 = pc()
                board(tt, stops, start, 1440, 10, [])
                t2 = pc()
                if timed:
                    ours.append(t1 - t0)
                    ours_board.append(t2 - t1)
        for i, q in chunk:
            op, rid = raw_id(tt, q.stop)
            t0 = pc()
            got = answer(op, rid, q)
            times.append(pc() - t0)
            if got == inproc.answers[i]:
                agree += 1
            elif len(mismatches) < 3:
                mismatches.append(f"{tt.strings('stop_id')[q.stop]} at {q.qdate} +{q.tod}s: "
                                  f"ours {inproc.answers[i]} vs {name} {got}")
    return Comparison(name, times, ours, ours_board, agree, mismatches)


def bench_references(net: Network, tt: Any, queries: list[Query], inproc: InProcess,
                     sz: Sizes) -> tuple[Table, dict[str, float]]:
    step(f"{net.key}: reading raw stop_times of {len(net.feeds)} feed(s)")
    t = time.perf_counter()
    raw = {}
    for op, path in net.feeds:
        with zipfile.ZipFile(path) as zf:
            raw[op] = raw_stop_times(zf)
    prep_s = time.perf_counter() - t
    step(f"{net.key}: loading DuckDB")
    t = time.perf_counter()
    con = load_duckdb(net, raw)
    duck_load_s = time.perf_counter() - t
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    dq = queries[:sz.duckdb_queries]
    for q in dq[:10]:  # warm-up
        op, rid = raw_id(tt, q.stop)
        duckdb_query(con, op, rid, q)
    step(f"{net.key}: {len(dq)} DuckDB queries")
    duck = compare("duckdb", dq, inproc, tt, net,
                   lambda op, rid, q: duckdb_query(con, op, rid, q))
    con.close()

    gq = queries[:sz.gtfskit_queries]
    needed = sorted({raw_id(tt, q.stop)[0] for q in gq})
    paths = dict(net.feeds)
    step(f"{net.key}: gtfs-kit read_feed of {len(needed)} feed(s)")
    t = time.perf_counter()
    feeds = {op: load_gtfskit(paths[op], raw[op]) for op in needed}
    gk_load_s = time.perf_counter() - t
    step(f"{net.key}: {len(gq)} gtfs-kit queries")
    gk = compare("gtfs-kit", gq, inproc, tt, net,
                 lambda op, rid, q: gtfskit_query(feeds[op], rid, q))
    feeds.clear()
    raw.clear()
    gc.collect()

    tab = Table(f"[{net.key}] 4. same queries, other engines (ratio = other / ours, same "
                "queries, same run)")
    for c in (duck, gk):
        ours, ours_b = statistics.median(c.ours), statistics.median(c.ours_board)
        other = statistics.median(c.times)
        tab.add(f"{c.name}: queries", f"{len(c.times)}")
        tab.add(f"{c.name}: median per query", fmt_ms(other))
        tab.add(f"{c.name}: p95 per query", fmt_ms(pctl(c.times, 95)))
        tab.add("  ours, same queries (alternating blocks): engine / board()",
                f"{fmt_ms(ours)} / {fmt_ms(ours_b)}")
        target = c.name == "duckdb"
        tab.add(f"  ratio {c.name} / our engine", f"{other / ours:,.0f}x",
                ">= 10x" if target else "", other / ours >= 10 if target else None)
        tab.add(f"  ratio {c.name} / our board()", f"{other / ours_b:,.0f}x")
        tab.add("  same departure times as ours", f"{c.agree}/{len(c.times)}",
                "all", c.agree == len(c.times))
        for m in c.mismatches:
            tab.note("MISMATCH " + m)
    tab.note(f"raw stop_times read + interpolated in {fmt_s(prep_s)}; DuckDB tables built in "
             f"{fmt_s(duck_load_s)} (threads={threads}); gtfs-kit read_feed in "
             f"{fmt_s(gk_load_s)}: all outside timing")
    tab.note("ours and the other engine alternate in blocks of 10 queries (ours: a warm pass, "
             "then the timed pass)")
    tab.note("both look at service days D-1, D, D+1 (times past 24:00, 24 h window like ours);"
             " boardable = pickup allowed, not last stop")
    return tab, {"duckdb": duck.ratio, "gtfs-kit": gk.ratio,
                 "duckdb_agree": duck.agree / len(duck.times),
                 "gtfskit_agree": gk.agree / len(gk.times)}


# --------------------------------------------------------------------------- 5. HTTP


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def start_server(data_dir: Path, clock: str, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    uvicorn = Path(sys.executable).parent / "uvicorn"
    cmd = [str(uvicorn)] if uvicorn.exists() else [sys.executable, "-m", "uvicorn"]
    env = {**os.environ, "TRANSIT_DATA_DIR": str(data_dir), "TRANSIT_RATE_LIMIT_PER_MINUTE": "0",
           "TRANSIT_CLOCK": clock}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*cmd, "--factory", "transit.app:app_from_env", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    return proc, f"http://127.0.0.1:{port}"


def wait_ready(proc: subprocess.Popen, base: str, log: Path, timeout: float = 90) -> float:
    import httpx

    t = time.perf_counter()
    while time.perf_counter() - t < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                return time.perf_counter() - t
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"server not ready after {timeout} s:\n{log.read_text()[-3000:]}")


@dataclass
class Round:
    seconds: float
    server_cpu: float
    client_cpu: float
    errors: int
    empty: int


def run_round(clients: list[Any], urls: list[tuple[str, dict[str, Any] | None]],
              pid: int) -> Round:
    k = len(clients)
    chunks = [urls[i::k] for i in range(k)]
    errors, empty = [0] * k, [0] * k

    def work(i: int) -> None:
        client = clients[i]
        for path, params in chunks[i]:
            try:
                r = client.get(path, params=params)
            except Exception:
                errors[i] += 1
                continue
            if r.status_code != 200:
                errors[i] += 1
            elif params is not None and b'"departures":[]' in r.content:
                empty[i] += 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(k)]
    cpu0, ccpu0, t0 = proc_cpu_s(pid), time.process_time(), time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t0
    return Round(elapsed, proc_cpu_s(pid) - cpu0, time.process_time() - ccpu0, sum(errors),
                 sum(empty))


def asgi_cpu_per_request(data_dir: Path, clock: str,
                         dep_urls: list[tuple[str, dict[str, Any]]],
                         rounds: int) -> tuple[float, float]:
    """Server CPU per request with no sockets and no client: the app called as ASGI in this
    process (FastAPI's thread pool included), alternating healthz and departures rounds."""
    import asyncio
    from urllib.parse import urlencode

    from transit.app import create_app
    from transit.settings import Settings

    app = create_app(Settings(data_dir=data_dir, rate_limit_per_minute=0, clock=clock))
    reqs = [(path, urlencode(params).encode()) for path, params in dep_urls]

    async def call(path: str, qs: bytes) -> None:
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "GET", "scheme": "http", "path": unquote(path),
                 "raw_path": path.encode(),
                 "query_string": qs, "root_path": "", "headers": [(b"host", b"bench")],
                 "client": ("127.0.0.1", 1), "server": ("bench", 80)}
        status: list[int] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])

        await app(scope, receive, send)
        if status != [200]:
            raise RuntimeError(f"ASGI {path}?{qs.decode()} answered {status}")

    async def run() -> tuple[float, float]:
        async with app.router.lifespan_context(app):
            for path, qs in reqs[:200]:
                await call(path, qs)
                await call("/healthz", b"")
            per = len(reqs) // rounds
            cpu = {"dep": 0.0, "health": 0.0}
            for r in range(rounds):
                for kind in ("dep", "health") if r % 2 == 0 else ("health", "dep"):
                    c0 = time.process_time()
                    for path, qs in reqs[r * per:(r + 1) * per]:
                        await (call(path, qs) if kind == "dep" else call("/healthz", b""))
                    cpu[kind] += time.process_time() - c0
            n = per * rounds
            return cpu["dep"] / n, cpu["health"] / n

    return asyncio.run(run())


def bench_http(net: Network, tt: Any, data_dir: Path, queries: list[Query],
               sz: Sizes) -> tuple[Table, float]:
    import httpx

    from transit.departures.service import board

    tz = ZoneInfo(net.tz)
    clock = datetime.combine(net.day, dtime(8), tzinfo=tz).isoformat()
    log = data_dir / "server.log"
    step(f"{net.key}: starting uvicorn (1 worker)")
    proc, base = start_server(data_dir, clock, log)
    try:
        ready_s = wait_ready(proc, base, log)
        stop_ids = tt.strings("stop_id")

        def dep_url(q: Query, **extra: Any) -> tuple[str, dict[str, Any]]:
            path = f"/v1/stops/{quote(stop_ids[q.stop], safe=':')}/departures"
            at = datetime.fromtimestamp(q.t0, tz).isoformat()
            return path, {"at": at, "limit": 10, **extra}

        n = sz.http_per_endpoint
        dep_urls = [dep_url(queries[i % len(queries)]) for i in range(n)]
        health_urls: list[tuple[str, dict[str, Any] | None]] = [("/healthz", None)] * n
        clients = [httpx.Client(base_url=base, timeout=30) for _ in range(sz.http_concurrency)]
        try:
            # answers over HTTP (24 h window) must equal the in-process service call
            same = 0
            check = queries[:20]
            for q in check:
                path, params = dep_url(q, window=1440)
                got = clients[0].get(path, params=params).json()["departures"]
                want = board(tt, np.array([q.stop], dtype=np.int64),
                             datetime.fromtimestamp(q.t0, tz), 1440, 10, [])["departures"]
                same += [d["scheduled_departure"] for d in got] == \
                    [d["scheduled_departure"] for d in want]
            step(f"{net.key}: HTTP warm-up, then {sz.http_rounds} alternating rounds of "
                 f"{n // sz.http_rounds} requests per endpoint, concurrency "
                 f"{sz.http_concurrency}")
            run_round(clients, dep_urls[:300], proc.pid)
            run_round(clients, health_urls[:300], proc.pid)
            per = n // sz.http_rounds
            dep_rounds: list[Round] = []
            health_rounds: list[Round] = []
            for r in range(sz.http_rounds):
                chunk = dep_urls[r * per:(r + 1) * per]
                order = [("dep", chunk), ("health", health_urls[:per])]
                for kind, urls in order if r % 2 == 0 else order[::-1]:
                    res = run_round(clients, urls, proc.pid)
                    (dep_rounds if kind == "dep" else health_rounds).append(res)
            rss = proc_rss(proc.pid)
        finally:
            for c in clients:
                c.close()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)

    step(f"{net.key}: same requests through the ASGI app in-process (no sockets)")
    asgi_dep, asgi_health = asgi_cpu_per_request(data_dir, clock, dep_urls, sz.http_rounds)

    def total_rps(rounds: list[Round]) -> float:
        return per * len(rounds) / sum(r.seconds for r in rounds)

    dep_rps, health_rps = total_rps(dep_rounds), total_rps(health_rounds)
    paired = [per / d.seconds / (per / h.seconds)
              for d, h in zip(dep_rounds, health_rounds, strict=True)]
    ratio = statistics.median(paired)
    cpu_dep = sum(r.server_cpu for r in dep_rounds) / (per * len(dep_rounds))
    cpu_health = sum(r.server_cpu for r in health_rounds) / (per * len(health_rounds))
    util = [r.server_cpu / r.seconds for r in dep_rounds + health_rounds]
    cutil = [r.client_cpu / r.seconds for r in dep_rounds + health_rounds]

    t = Table(f"[{net.key}] 5. HTTP, uvicorn 1 worker, {sz.http_concurrency} client threads "
              f"(httpx keep-alive), {sz.http_rounds} alternating rounds x {per} req/endpoint")
    t.add("GET /v1/stops/{id}/departures?at=..&limit=10", f"{dep_rps:,.0f} req/s")
    t.add("GET /healthz (trivial)", f"{health_rps:,.0f} req/s")
    t.add("ratio departures / trivial (median of rounds)", f"{ratio:.2f}", ">= 0.8",
          ratio >= 0.8)
    t.add("ratio departures / trivial (totals)", f"{dep_rps / health_rps:.2f}")
    t.add("  per-round ratios", ", ".join(f"{x:.2f}" for x in paired))
    t.add("server CPU per request: departures / healthz",
          f"{fmt_ms(cpu_dep)} / {fmt_ms(cpu_health)}")
    t.add("  server CPU ratio healthz / departures", f"{cpu_health / cpu_dep:.2f}")
    t.add("ASGI in-process CPU/request: departures / healthz",
          f"{fmt_ms(asgi_dep)} / {fmt_ms(asgi_health)}")
    t.add("  ASGI CPU ratio healthz / departures (no client)", f"{asgi_health / asgi_dep:.2f}")
    t.add("server / client CPU utilisation (median)",
          f"{statistics.median(util):.0%} / {statistics.median(cutil):.0%}")
    t.add("non-200 responses (departures / healthz)",
          f"{sum(r.errors for r in dep_rounds)} / {sum(r.errors for r in health_rounds)}",
          "0", sum(r.errors for r in dep_rounds + health_rounds) == 0)
    t.add("empty boards (API default window 120 min)",
          f"{sum(r.empty for r in dep_rounds)}/{per * len(dep_rounds)}")
    t.add("HTTP answers == in-process board() (24 h)", f"{same}/{len(check)}", "all",
          same == len(check))
    t.add("server start -> /readyz 200", fmt_s(ready_s))
    t.add("server RSS after the run", mib(rss))
    if statistics.median(cutil) > 0.8:
        t.note("client CPU is high: with 2 cores the load generator competes with the server")
    return t, ratio


# --------------------------------------------------------------------------- main


def bench_network(net: Network, base: Path, sz: Sizes) -> dict[str, Any]:
    from transit.timetable.departures import warm_up
    from transit.timetable.timetable import Timetable

    missing = [str(p) for _, p in net.feeds if not p.exists()]
    if missing or not net.feeds:
        raise SystemExit(f"{net.key}: feeds not found: {missing or 'none'} (see {DATA})")
    print(f"\n=== {net.title}: {len(net.feeds)} feed(s), as of {net.day} ({net.tz}) ===",
          flush=True)
    ing = bench_ingest(net, base, sz)
    ing.table.print()
    load_table, load_s, prepare_s = bench_worker_load(net, ing.version_dir, sz)
    load_table.print()

    tt = Timetable.load(ing.version_dir)
    warm_up(tt)
    queries = make_queries(tt, net, sz.queries)
    inproc = bench_in_process(tt, net, queries)
    inproc.table.print()
    ref_table, ratios = bench_references(net, tt, queries, inproc, sz)
    ref_table.print()
    http_table, http_ratio = bench_http(net, tt, ing.data_dir, queries, sz)
    http_table.print()
    return {**ing.summary, "load_s": load_s, "prepare_s": prepare_s,
            "p50": pctl(inproc.engine_s, 50), "p95": pctl(inproc.engine_s, 95),
            "board_p50": pctl(inproc.board_s, 50), "board_p95": pctl(inproc.board_s, 95),
            **ratios, "http": http_ratio, "compile_target": net.compile_target_s}


def print_summary(results: dict[str, dict[str, Any]]) -> None:
    keys = list(results)
    rows: list[tuple[str, str, list[tuple[str, bool | None]]]] = []

    def row(label: str, target: str, fn: Any) -> None:
        rows.append((label, target, [fn(results[k]) for k in keys]))

    row("ingest+compile", "< 60 s (Bay Area)", lambda r: (
        fmt_s(r["compile_s"]),
        r["compile_s"] < r["compile_target"] if r["compile_target"] else None))
    row("peak RSS of ingest", "", lambda r: (mib(r["peak_rss"]), None))
    row("artifact size", "", lambda r: (mib(r["size"]), None))
    row("bytes per stop_time", "", lambda r: (f"{r['b_per_st']:.1f} B", None))
    row("worker load+index+warm_up", "< 1 s", lambda r: (fmt_ms(r["load_s"]), r["load_s"] < 1))
    row("server worker load (prepare)", "< 1 s", lambda r: (
        "n/a", None) if r["prepare_s"] is None else (fmt_ms(r["prepare_s"]), r["prepare_s"] < 1))
    row("engine p50", "< 0.2 ms", lambda r: (fmt_ms(r["p50"]), r["p50"] < 0.0002))
    row("engine p95", "", lambda r: (fmt_ms(r["p95"]), None))
    row("board() p50 / p95", "", lambda r: (
        f"{fmt_ms(r['board_p50'])} / {fmt_ms(r['board_p95'])}", None))
    row("DuckDB / engine", ">= 10x", lambda r: (f"{r['duckdb']:,.0f}x", r["duckdb"] >= 10))
    row("gtfs-kit / engine", "", lambda r: (f"{r['gtfs-kit']:,.0f}x", None))
    row("agreement DuckDB / gtfs-kit", "100%", lambda r: (
        f"{r['duckdb_agree']:.0%} / {r['gtfskit_agree']:.0%}",
        r["duckdb_agree"] == 1 and r["gtfskit_agree"] == 1))
    row("HTTP departures / healthz", ">= 0.8", lambda r: (f"{r['http']:.2f}", r["http"] >= 0.8))

    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    cells = [[f"{v} {verdict(ok)}".strip() for v, ok in r[2]] for r in rows]
    wc = [max([len(k)] + [len(c[i]) for c in cells]) for i, k in enumerate(keys)]
    line = "=" * (w0 + w1 + sum(wc) + 3 * len(keys) + 4)
    print(f"\nSUMMARY (medians; ratios measured in the same run)\n{line}")
    print(f"{'metric':<{w0}}  {'target':<{w1}}  " + "   ".join(
        f"{k:>{wc[i]}}" for i, k in enumerate(keys)))
    print(line)
    for (label, target, _), c in zip(rows, cells, strict=True):
        print(f"{label:<{w0}}  {target:<{w1}}  " + "   ".join(
            f"{x:>{wc[i]}}" for i, x in enumerate(c)))
    print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--network", choices=["bayarea", "sncb", "all"], default="all")
    ap.add_argument("--quick", action="store_true", help="fewer runs and queries")
    ap.add_argument("--data-dir", type=Path, default=None,
                    help="where to compile (default: a temporary directory, removed after)")
    args = ap.parse_args(argv)
    sz = QUICK if args.quick else FULL
    nets = networks()
    chosen = list(nets) if args.network == "all" else [args.network]
    base = args.data_dir.resolve() if args.data_dir else Path(
        tempfile.mkdtemp(prefix="bench-timetable-"))
    base.mkdir(parents=True, exist_ok=True)
    print(f"bench_timetable: python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"data dir {base}, {'quick' if args.quick else 'full'} run, seed {SEED}", flush=True)
    t = time.perf_counter()
    try:
        results = {k: bench_network(nets[k], base, sz) for k in chosen}
    finally:
        if args.data_dir is None:
            shutil.rmtree(base, ignore_errors=True)
    print_summary(results)
    print(f"total benchmark time {time.perf_counter() - t:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
