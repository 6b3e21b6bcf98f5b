"""Benchmark of live data (not collected by pytest).

1. The largest real TripUpdates sample (SNCB 2019-06-04 with cancellations, 453 trips) on
   its static feed: parse (protobuf) + apply (transit.realtime.trip_updates) + overlay.
2. A generated TripUpdates load on the 29 merged Bay Area feeds as of 2018-08-29: 10,000
   trip instances running that day, 3 stop_time_updates each (delays, some `time`), one
   FeedMessage per operator as an operator would push it; parse + apply + overlay, and the
   same through LiveState.publish on the memory backend.
3. Push -> visible in another process: two uvicorn processes on the Bay Area timetable
   sharing Redis (TRANSIT_REDIS_URL, a prefix of the run's own); each push goes to one,
   the other's departure board is polled until the new delay shows. p50 / p95 over
   --pushes pushes, for a 1-trip feed and for BART's whole generated feed.

Medians over --runs runs. Targets printed beside: 10,000 trips applied < 200 ms; visible
in another process < 1 s.

    TRANSIT_REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python tests/benchmarks/bench_realtime.py [--runs 7] [--pushes 60]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import numpy as np
from google.transit import gtfs_realtime_pb2 as pb

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
# read before tests.conftest is imported: it takes TRANSIT_REDIS_URL out of the environment
REDIS_URL = os.environ.get("TRANSIT_REDIS_URL", "").strip()

from tests.conftest import DATA, catalog_of  # noqa: E402
from tests.realtime_support import (  # noqa: E402
    api_servers,
    drop_prefix,
    eventually,
    unique_prefix,
)
from transit.clock import FixedClock  # noqa: E402
from transit.ingest.pipeline import ingest  # noqa: E402
from transit.realtime.backends import MemoryBackend  # noqa: E402
from transit.realtime.overlay import FeedStatus, Overlay  # noqa: E402
from transit.realtime.state import LiveState  # noqa: E402
from transit.realtime.trip_updates import apply_trip_updates  # noqa: E402
from transit.timetable.store import Store  # noqa: E402
from transit.timetable.timetable import Timetable  # noqa: E402

SEED = 20180829
BAY_DAY = date(2018, 8, 29)
BAY_TZ = "America/Los_Angeles"
BAY_AT = datetime(2018, 8, 29, 8, 0, tzinfo=ZoneInfo(BAY_TZ))
SNCB_ZIP = DATA / "gtfs" / "belgium" / "sncb-nmbs-2019-05-29.zip"
SNCB_PB = DATA / "gtfs-rt" / "belgium" / "sncb-tripupdates-2019-06-04T1514Z-cancellations.pb"
APPLY_TARGET_S = 0.200
VISIBLE_TARGET_S = 1.0


def ms(x: float) -> str:
    return f"{x * 1e3:8.1f} ms"


def line(label: str, value: str, target: str = "", ok: bool | None = None) -> None:
    verdict = "" if ok is None else ("PASS" if ok else "FAIL")
    print(f"  {label:<58} {value:>12}  {target:<10} {verdict}", flush=True)


def median_of(fn, runs: int) -> tuple[float, list[float]]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def warm(tt: Timetable) -> None:
    for lookup in ("stop_index", "trip_index", "operator_index"):
        getattr(tt, lookup)
    tt.strings("route_id").to_list()


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs), q))


# --------------------------------------------------------------------------- 1. SNCB


def bench_sncb(work: Path, runs: int) -> None:
    print("\n1. Largest real TripUpdates sample: SNCB 2019-06-04 (cancellations) on "
          "sncb-nmbs-2019-05-29")
    t0 = time.perf_counter()
    ingest(catalog_of({"SNCB": SNCB_ZIP}), Store(work / "sncb"))
    print(f"  (ingest of the static feed: {time.perf_counter() - t0:.1f} s)")
    tt = Store(work / "sncb").load_current()
    assert tt is not None
    warm(tt)
    data = SNCB_PB.read_bytes()
    msg = pb.FeedMessage()
    msg.ParseFromString(data)
    now = int(msg.header.timestamp) + 5

    def parse() -> pb.FeedMessage:
        m = pb.FeedMessage()
        m.ParseFromString(data)
        return m

    def apply() -> object:
        return apply_trip_updates(tt, "SNCB", msg, now, FeedStatus("SNCB", "trip-updates"))

    def everything() -> Overlay:
        m = parse()
        r = apply_trip_updates(tt, "SNCB", m, now, FeedStatus("SNCB", "trip-updates"))
        return Overlay([r])

    everything()  # warm-up
    st = FeedStatus("SNCB", "trip-updates")
    apply_trip_updates(tt, "SNCB", msg, now, st)
    print(f"  {len(data):,} bytes, {st.entities} entities, {st.applied} applied, "
          f"rejected {st.rejected}, "
          f"{sum(len(e.trip_update.stop_time_update) for e in msg.entity):,} stop_time_updates")
    p, _ = median_of(parse, runs)
    a, _ = median_of(apply, runs)
    e, all_runs = median_of(everything, runs)
    line("parse (FeedMessage.ParseFromString), median", ms(p))
    line("  (upb decodes lazily: reading the fields costs in apply)", "")
    line("apply_trip_updates on a parsed and read message, median", ms(a))
    line("parse + apply + Overlay, median", ms(e))
    line(f"  runs: {', '.join(f'{x * 1e3:.1f}' for x in all_runs)} ms", "")


# --------------------------------------------------------------------------- 2. Bay Area


def bay_feeds() -> dict[str, Path]:
    zips = sorted((DATA / "gtfs" / "bayarea-511-2018").glob("*.zip"))
    return {p.name.split("-")[0]: p for p in zips}


def generate(tt: Timetable, n: int, ts: int) -> tuple[dict[str, pb.FeedMessage], int]:
    """One FULL_DATASET FeedMessage per operator: n trip instances running on BAY_DAY, three
    stop_time_updates each (stop_sequence + stop_id; departure delay, or arrival+departure
    `time` for every third trip). Returns the messages and the number of active trips."""
    rng = random.Random(SEED)
    day = tt.day_of(BAY_DAY)
    trip_ids = tt.strings("trip_id").to_list()
    stop_ids = tt.strings("stop_id").to_list()
    ops = [o["id"] for o in tt.meta["operators"]]
    active = [t for t in range(len(trip_ids)) if tt.runs_on(t, day)]
    chosen = sorted(rng.sample(active, min(n, len(active))))
    base_of = tt.tz_reference_utc
    msgs: dict[str, pb.FeedMessage] = {}
    for t in chosen:
        op = ops[int(tt.route_operator[int(tt.trip_route[t])])]
        m = msgs.get(op)
        if m is None:
            m = msgs[op] = pb.FeedMessage()
            m.header.gtfs_realtime_version = "2.0"
            m.header.incrementality = pb.FeedHeader.FULL_DATASET
            m.header.timestamp = ts
        raw = trip_ids[t].split(":", 1)[1]
        e = m.entity.add()
        e.id = raw
        d = e.trip_update.trip
        if "@" in raw:  # an expanded frequency trip: trip_id + start_time
            d.trip_id, d.start_time = raw.split("@", 1)
        else:
            d.trip_id = raw
        d.start_date = BAY_DAY.strftime("%Y%m%d")
        lo, hi = tt.pattern_range(t)
        k = hi - lo
        st0 = int(tt.trip_st_start[t])
        base = int(base_of[int(tt.trip_tz[t]), day])
        positions = sorted(rng.sample(range(k), min(3, k)))
        delay = rng.randint(-60, 600)
        for pos in positions:
            u = e.trip_update.stop_time_update.add()
            u.stop_sequence = int(tt.st_seq[st0 + pos])
            u.stop_id = stop_ids[int(tt.pattern_stops[lo + pos])].split(":", 1)[1]
            delay += rng.randint(-30, 120)
            if t % 3 == 0:
                u.arrival.time = base + int(tt.st_arr[st0 + pos]) + delay
                u.departure.time = base + int(tt.st_dep[st0 + pos]) + delay
            else:
                u.departure.delay = delay
    return msgs, len(active)


def bench_bay(work: Path, runs: int, n: int) -> tuple[Path, dict[str, pb.FeedMessage]]:
    print(f"\n2. Generated TripUpdates on the 29 merged Bay Area feeds, {BAY_DAY}: "
          f"{n:,} trip instances")
    t0 = time.perf_counter()
    ingest(catalog_of(bay_feeds()), Store(work / "bay"))
    print(f"  (ingest of the 29 feeds: {time.perf_counter() - t0:.1f} s)")
    tt = Store(work / "bay").load_current()
    assert tt is not None
    warm(tt)
    now = int(BAY_AT.timestamp())
    msgs, n_active = generate(tt, n, now - 5)
    blobs = {op: m.SerializeToString() for op, m in msgs.items()}
    n_tu = sum(len(m.entity) for m in msgs.values())
    n_stu = sum(len(e.trip_update.stop_time_update) for m in msgs.values() for e in m.entity)
    print(f"  {n_active:,} trip instances active that day; generated {n_tu:,} trip updates "
          f"({n_stu:,} stop_time_updates) in {len(msgs)} operator feeds, "
          f"{sum(map(len, blobs.values())):,} bytes")

    def parse_all() -> dict[str, pb.FeedMessage]:
        out = {}
        for op, b in blobs.items():
            m = pb.FeedMessage()
            m.ParseFromString(b)
            out[op] = m
        return out

    def apply_all() -> list:  # type: ignore[type-arg]
        return [apply_trip_updates(tt, op, m, now, FeedStatus(op, "trip-updates"))
                for op, m in msgs.items()]

    results = apply_all()

    def overlay() -> Overlay:
        return Overlay(results)

    def everything() -> Overlay:
        parsed = parse_all()
        return Overlay([apply_trip_updates(tt, op, m, now, FeedStatus(op, "trip-updates"))
                        for op, m in parsed.items()])

    applied = sum(r.status.applied for r in results)
    rejected: dict[str, int] = {}
    for r in results:
        for k, v in r.status.rejected.items():
            rejected[k] = rejected.get(k, 0) + v
    print(f"  applied {applied:,}, rejected {rejected or 0}")
    everything()  # warm-up
    p, _ = median_of(parse_all, runs)
    a, _ = median_of(apply_all, runs)
    o, _ = median_of(overlay, runs)
    e, all_runs = median_of(everything, runs)
    line("parse 29 FeedMessages, median", ms(p))
    line("apply_trip_updates x 29 operators, median", ms(a))
    line("Overlay of the results, median", ms(o))
    line(f"parse + apply + Overlay ({n_tu:,} trips), median", ms(e), "< 200 ms",
         e < APPLY_TARGET_S)
    line(f"  runs: {', '.join(f'{x * 1e3:.0f}' for x in all_runs)} ms", "")

    def via_state() -> None:
        state = LiveState(MemoryBackend(), FixedClock(BAY_AT), lambda: tt)
        for op, b in blobs.items():
            m = pb.FeedMessage()
            m.ParseFromString(b)
            state.publish(op, m, "trip-updates")
        assert len(state.overlay().trips) == applied - sum(
            1 for r in results for _ in r.added)

    s, _ = median_of(via_state, max(3, runs // 2))
    line("LiveState.publish x 29 (memory backend; overlay swapped", ms(s))
    line("  after each operator: 29 rebuilds), median", "")
    return work / "bay", msgs


# --------------------------------------------------------------------------- 3. processes


def bench_visible(data_dir: Path, msgs: dict[str, pb.FeedMessage], pushes: int,
                  workdir: Path) -> None:
    url = REDIS_URL
    print(f"\n3. Push -> visible in another process (2 uvicorn processes, Redis), {pushes} "
          "pushes per case")
    if not url:
        print("  skipped: TRANSIT_REDIS_URL is not set")
        return
    tt = Store(data_dir).load_current()
    assert tt is not None
    ba = msgs["BA"]
    # the probe: a BART trip of the feed leaving a stop (not its last) between 08:10 and 09:00
    now = int(BAY_AT.timestamp())
    probe = None
    trip_index = tt.trip_index
    day = tt.day_of(BAY_DAY)
    for i, e in enumerate(ba.entity):
        t = trip_index[f"BA:{e.trip_update.trip.trip_id}"]
        lo, hi = tt.pattern_range(t)
        st0 = int(tt.trip_st_start[t])
        base = int(tt.tz_reference_utc[int(tt.trip_tz[t]), day])
        for pos in range(hi - lo - 1):
            dep = base + int(tt.st_dep[st0 + pos])
            if now + 600 <= dep <= now + 3600:
                probe = (i, int(tt.st_seq[st0 + pos]),
                         tt.strings("stop_id")[int(tt.pattern_stops[lo + pos])], dep)
                break
        if probe:
            break
    assert probe is not None
    idx, seq, stop, dep = probe
    probe_trip = f"BA:{ba.entity[idx].trip_update.trip.trip_id}"
    at = datetime.fromtimestamp(dep - 300, ZoneInfo(BAY_TZ)).isoformat()

    def with_delay(template: pb.FeedMessage, delay: int) -> bytes:
        m = pb.FeedMessage()
        m.CopyFrom(template)
        tu = m.entity[idx if len(m.entity) > 1 else 0].trip_update
        del tu.stop_time_update[:]
        u = tu.stop_time_update.add()
        u.stop_sequence, u.stop_id = seq, stop.split(":", 1)[1]
        u.departure.delay = delay
        return m.SerializeToString()

    single = pb.FeedMessage()
    single.header.CopyFrom(ba.header)
    single.entity.add().CopyFrom(ba.entity[idx])
    prefix = unique_prefix("bench")
    env = {"TRANSIT_REDIS_URL": url, "TRANSIT_REDIS_PREFIX": prefix,
           "TRANSIT_PUSH_KEYS": '{"BA": "bench"}', "TRANSIT_CLOCK": BAY_AT.isoformat(),
           "TRANSIT_REALTIME_POLL": "false", "TRANSIT_RATE_LIMIT_PER_MINUTE": "0"}
    try:
        with api_servers(2, data_dir, workdir, env, timeout=180) as (one, two), \
                httpx.Client(timeout=10.0) as http:
            for s in (one, two):
                eventually(lambda s=s: http.get(f"{s.url}/v1/operators/BA/realtime")
                           .json()["available"], 20, what="live data up")

            def seen(delay: int) -> bool:
                r = http.get(f"{two.url}/v1/stops/{stop}/departures",
                             params={"at": at, "window": 120, "limit": 100})
                return any(d["trip_id"] == probe_trip and d["delay_s"] == delay
                           for d in r.json()["departures"])

            for name, template in (("1 trip update", single),
                                   (f"BART feed, {len(ba.entity)} trip updates", ba)):
                visible, post = [], []
                for i in range(pushes + 3):
                    delay = 60 + (i % 900) + (1000 if template is ba else 0)
                    body = with_delay(template, delay)
                    t0 = time.perf_counter()
                    r = http.post(f"{one.url}/v1/operators/BA/realtime", content=body,
                                  headers={"Authorization": "Bearer bench"})
                    t1 = time.perf_counter()
                    assert r.status_code == 202, r.text
                    deadline = t0 + 10
                    while not seen(delay):
                        if time.perf_counter() > deadline:
                            raise RuntimeError(f"push {i} not visible after 10 s")
                        time.sleep(0.002)
                    t2 = time.perf_counter()
                    if i >= 3:  # the first pushes warm both processes up
                        visible.append(t2 - t0)
                        post.append(t1 - t0)
                print(f"  {name} ({len(body):,} bytes), stop {stop}, trip {probe_trip}:")
                line("    POST answered (202), p50", ms(pct(post, 50)))
                line("    visible in the other process, p50", ms(pct(visible, 50)),
                     "< 1 s", pct(visible, 50) < VISIBLE_TARGET_S)
                line("    visible in the other process, p95", ms(pct(visible, 95)),
                     "< 1 s", pct(visible, 95) < VISIBLE_TARGET_S)
                line("    visible in the other process, max", ms(max(visible)))
    finally:
        drop_prefix(url, prefix)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--pushes", type=int, default=60)
    ap.add_argument("--trips", type=int, default=10_000)
    ap.add_argument("--data-dir", type=Path, default=None,
                    help="keep the compiled timetables here (default: a temp dir)")
    args = ap.parse_args()
    if not DATA.exists():
        sys.exit(f"shared test data not found at {DATA}")
    print(f"bench_realtime  python {sys.version.split()[0]}  cpus {os.cpu_count()}  "
          f"runs {args.runs}  pushes {args.pushes}")
    with tempfile.TemporaryDirectory(prefix="bench-rt-") as tmp:
        work = args.data_dir or Path(tmp)
        bench_sncb(work, args.runs)
        bay_dir, msgs = bench_bay(work, args.runs, args.trips)
        bench_visible(bay_dir, msgs, args.pushes, Path(tmp) / "servers")


if __name__ == "__main__":
    main()
