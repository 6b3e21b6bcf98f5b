"""Benchmark of commute alerts (not collected by pytest).

Network (--network merged, the default): the merged Bay Area network of feeds/bayarea-2018.toml
(29 operators of the 511 export, ../shared/data/gtfs/bayarea-511-2018) with BART ("BA")
taken from ../shared/data/gtfs/bayarea-rt-matched/bart-2019-02-11.zip instead of the 2018
BA-bart.zip: the BART realtime samples match the 2019 static (65/91 trip ids of the
2019-08-07 sample) and not the 2018 one (13/91). Served as of the BART trip-updates sample
2019-08-07T17:45Z + 5 s; on that day the 2018 feeds still running (Caltrain, Tri Delta,
SMART, Napa Vine, ...) serve too. --network bart: BART 2019 + Caltrain 2023 only.

--commutes saved commutes (default 100,000) between random station pairs with 15-minute
departure windows from 06:00 to 13:00 (plans are shared by commutes of the same places and
window: --pairs x 28 windows searches), every rule on. Merged network: half the pairs are
BART to BART, a quarter BART to a stop of another operator, a quarter between stops of
other operators (commutes whose places no trip links that day are not watched).

Times are wall / CPU time of the evaluating thread (on a loaded shared machine the wall time
includes waiting for a core; the CPU time is what the code costs).

1. planning: watching every commute (the searches, the indexes);
2. one realtime update: the real BART trip-updates feed through LiveState.publish, then the
   evaluation of what it touched: matching (index lookups and rules) and re-planning of
   the broken journeys (printed apart), and the alerts it produced;
3. push-to-webhook latency: --pushes updates, each moving one delayed trip by 3 minutes
   (one `updated` alert), from LiveState.publish to the request reaching a local receiver
   (SQLite outbox, the deliverer thread); p50 and p95.

    .venv/bin/python tests/benchmarks/bench_commutes.py [--commutes 100000] [--pairs 150]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from google.transit import gtfs_realtime_pb2 as pb

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.commute_support import LiveRig, local  # noqa: E402
from tests.conftest import DATA, catalog_of  # noqa: E402
from tests.realtime_support import StaticRef, read_pb  # noqa: E402
from transit.catalog import load_catalog  # noqa: E402
from transit.commuters.alerting import Alerting  # noqa: E402
from transit.commuters.rules import DAYS, parse_commute  # noqa: E402
from transit.db import migrate  # noqa: E402
from transit.db.engine import Database  # noqa: E402
from transit.db.models_alerts import CommuteRow  # noqa: E402
from transit.db.models_users import UserRow  # noqa: E402
from transit.delivery import store  # noqa: E402
from transit.delivery.webhooks import Deliverer  # noqa: E402
from transit.ingest.pipeline import ingest  # noqa: E402
from transit.kpis.scheduled import scheduled_by_route  # noqa: E402
from transit.timetable.store import Store  # noqa: E402
from transit.timetable.timetable import Timetable  # noqa: E402

BART_ZIP = DATA / "gtfs" / "bayarea-rt-matched" / "bart-2019-02-11.zip"
CT_ZIP = DATA / "gtfs" / "bayarea-rt-matched" / "caltrain-511-2023-09-22.zip"
BART_TU = DATA / "gtfs-rt" / "bayarea" / "bart-tripupdates-2019-08-07T1745Z.pb"
CATALOG = ROOT / "feeds" / "bayarea-2018.toml"
TZ = "America/Los_Angeles"
ALL_RULES = [{"kind": k} for k in ("cancellation", "platform_change", "missed_connection",
                                   "service_alert")] + [
    {"kind": "delay", "min_minutes": 5}, {"kind": "better_alternative", "min_minutes": 5}]


def line(label: str, value: str) -> None:
    print(f"  {label:<60} {value:>14}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--commutes", type=int, default=100_000)
    ap.add_argument("--pairs", type=int, default=150)
    ap.add_argument("--pushes", type=int, default=200)
    ap.add_argument("--profile", action="store_true", help="cProfile the evaluation")
    ap.add_argument("--network", choices=("merged", "bart"), default="merged")
    args = ap.parse_args()
    for p in (BART_ZIP, CT_ZIP, BART_TU):
        if not p.exists():
            sys.exit(f"missing {p}")
    work = Path(tempfile.mkdtemp(prefix="bench-commutes-"))
    tt, bart = build_network(args.network, work)
    msg = read_pb(BART_TU)
    now = int(msg.header.timestamp) + 5
    day = local(now, TZ).date()
    rng = random.Random(7)
    stations, others = stops_of(tt, bart, day)
    pairs: set[tuple[str, str]] = set()
    while len(pairs) < args.pairs:
        k = len(pairs) % 4 if others else 0
        a, b = (rng.sample(stations, 2) if k < 2 else
                (rng.choice(stations), rng.choice(others)) if k == 2 else
                rng.sample(others, 2))
        pairs.add((a, b) if rng.random() < 0.5 else (b, a))
    pairs_l = sorted(pairs)
    windows = [(6 * 60 + 15 * k) for k in range(28)]
    commutes = []
    for i in range(args.commutes):
        a, b = pairs_l[rng.randrange(len(pairs_l))]
        w = windows[rng.randrange(len(windows))]
        commutes.append(parse_commute({
            "name": f"c{i}", "from": a, "to": b, "days": [DAYS[day.weekday()]],
            "depart_between": [f"{w // 60:02d}:{w % 60:02d}",
                               f"{(w + 15) // 60:02d}:{(w + 15) % 60:02d}"],
            "rules": ALL_RULES}, f"c{i}", f"u{i % 5000}"))
    print(f"network {args.network}: {len(tt.meta['operators'])} operators, "
          f"{len(tt.strings('stop_id')):,} stops ({len(stations)} BART stops, {len(others):,} "
          f"of other operators running that day); {len(commutes):,} commutes over "
          f"{len(pairs_l)} place pairs x {len(windows)} windows; as of "
          f"{local(now, TZ).isoformat()}", flush=True)

    rig = LiveRig(tt, now)
    ev = rig.evaluator
    t0 = time.perf_counter()
    watching = ev.watch(tt, commutes, day)
    t_plan = time.perf_counter() - t0
    line("planning: commutes watched", f"{watching:,}")
    line("planning: searches (shared plans)", f"{ev.planner(tt).searches:,}")
    line("planning: time", f"{t_plan:.1f} s")

    t0 = time.perf_counter()
    rig.state.publish(bart, msg)
    t_apply = time.perf_counter() - t0
    replan_cpu = timed_cpu(ev.replanner, "alternative")
    t0, c0 = time.perf_counter(), time.thread_time()
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        events = prof.runcall(ev.process)
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    else:
        events = ev.process()
    t_eval, c_eval = time.perf_counter() - t0, time.thread_time() - c0
    touched = len({e.commute_id for e in events})
    kinds: dict[str, int] = {}
    for e in events:
        kinds[e.kind] = kinds.get(e.kind, 0) + 1
    line("BART feed: apply (publish, parse, overlay swap)", f"{t_apply * 1e3:.1f} ms")
    line("BART feed: evaluation, total (wall / CPU of the thread)",
         f"{t_eval * 1e3:.1f} / {c_eval * 1e3:.1f} ms")
    line("  matching (indexes + rules, without re-planning)",
         f"{(t_eval - ev.replan_s) * 1e3:.1f} / {(c_eval - replan_cpu[0]) * 1e3:.1f} ms")
    line(f"  re-planning ({ev.replans} searches on the live network)",
         f"{ev.replan_s * 1e3:.1f} / {replan_cpu[0] * 1e3:.1f} ms")
    line("alerts produced / commutes alerted", f"{len(events):,} / {touched:,}")
    line("alerts by kind", ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    latency(tt, bart, msg, now, args.pushes, work)


def timed_cpu(obj: object, method: str) -> list[float]:
    """Wrap obj.method to add up the CPU time of this thread spent in it (outermost calls):
    on a shared machine, CPU time is what the code costs, wall time what the load adds."""
    spent = [0.0]
    inner = getattr(obj, method)
    depth = [0]

    def timed(*args: object, **kwargs: object) -> object:
        t = time.thread_time()
        depth[0] += 1
        try:
            return inner(*args, **kwargs)
        finally:
            depth[0] -= 1
            if depth[0] == 0:
                spent[0] += time.thread_time() - t

    setattr(obj, method, timed)
    return spent


def build_network(kind: str, work: Path) -> tuple[Timetable, str]:
    """The timetable and the operator id of BART in it."""
    if kind == "bart":
        catalog, bart = catalog_of({"BART": BART_ZIP, "CT": CT_ZIP}), "BART"
    else:
        base = load_catalog(CATALOG)
        for op in base.operators:
            if not Path(op.gtfs).exists():
                sys.exit(f"missing {op.gtfs}")
        catalog = replace(base, operators=tuple(
            replace(op, gtfs=str(BART_ZIP)) if op.id == "BA" else op for op in base.operators))
        bart = "BA"
    t0 = time.perf_counter()
    ingest(catalog, Store(work / "data"))
    tt = Store(work / "data").load_current()
    assert tt is not None
    line("network: ingest and compile", f"{time.perf_counter() - t0:.1f} s")
    return tt, bart


def stops_of(tt: Timetable, bart: str, day: date) -> tuple[list[str], list[str]]:
    """BART's platforms, and the stops of the other operators with trips on `day`."""
    ids = tt.strings("stop_id").to_list()
    loc = tt.stop_location_type
    running = {op["id"] for op in tt.meta["operators"] if scheduled_by_route(tt, op["id"], day)}
    stations, others = [], []
    for s, sid in enumerate(ids):
        if int(loc[s]) != 0:
            continue
        op = sid.split(":", 1)[0]
        if op == bart:
            stations.append(sid)
        elif op in running:
            others.append(sid)
    return sorted(stations), sorted(others)


class _Receiver:
    def __init__(self) -> None:
        self.got: dict[str, float] = {}
        self.cond = threading.Condition()
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["content-length"]))
                with outer.cond:
                    outer.got[self.headers["webhook-id"]] = time.perf_counter()
                    outer.cond.notify_all()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *a: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def latency(tt: object, bart: str, msg: pb.FeedMessage, now: int, pushes: int,
            work: Path) -> None:
    """From LiveState.publish to the receiver, one updated alert per push."""
    db = Database(f"sqlite:///{work / 'alerts.db'}")
    migrate.upgrade(db)
    recv = _Receiver()
    at = datetime.now(UTC)
    rig = LiveRig(tt, now)  # type: ignore[arg-type]
    trip = next(e.trip_update.trip.trip_id for e in msg.entity
                if e.trip_update.trip.trip_id == "5111113WKDY")
    calls = [(stop, dep) for _, stop, _, dep in StaticRef(BART_ZIP, "BART").scheduled(
        trip, local(now, TZ).date()) if dep > now]  # where the commute boards: next stop
    first, dep = calls[0]
    c = parse_commute({"name": "bench", "from": f"{bart}:{first}",
                       "to": f"{bart}:{calls[2][0]}",
                       "days": [DAYS[local(now, TZ).weekday()]],
                       "depart_between": [local(dep - 60, TZ).strftime("%H:%M"),
                                          local(dep + 60, TZ).strftime("%H:%M")],
                       "rules": [{"kind": "delay", "min_minutes": 1}]}, "cm_bench", "u1")
    with db.session() as s:
        s.add(UserRow(id="u1", kind="anonymous", email=None, password_hash=None, profile={},
                      created_at=at, registered_at=None))
        s.flush()
        s.add(CommuteRow(id="cm_bench", user_id="u1", data={}, created_at=at, updated_at=at))
    store.add_webhook(db, "u1", recv.url, True, at, 5)
    deliverer = Deliverer(db, allow_private=True, interval_s=1.0)
    alerting = Alerting(db, rig.clock, lambda: tt, deliverer)  # type: ignore[arg-type]
    rig.state._observers.clear()
    rig.state.add_observer(alerting.evaluator.observe)
    alerting.evaluator.watch(tt, [c])  # type: ignore[arg-type]
    alerting.evaluator.start()
    deliverer.start()
    samples = []
    for k in range(pushes):
        m = pb.FeedMessage()
        m.CopyFrom(msg)
        m.header.timestamp = msg.header.timestamp + k + 1
        rig.clock.advance(1)
        shift = 180 * ((k + 1) % 2)  # +3 min, back, +3 min...: one update per push
        for e in m.entity:
            if e.trip_update.trip.trip_id == trip:
                for u in e.trip_update.stop_time_update:
                    for x in (u.arrival, u.departure):
                        if x.time:
                            x.time += shift
        t0 = time.perf_counter()
        rig.state.publish(bart, m)
        want = k + 1  # the alert's version is k + 1 (new, then updated)
        with recv.cond:
            ok = recv.cond.wait_for(lambda w=want: any(i.endswith(f"_v{w}")
                                                       for i in recv.got), timeout=10)
        if not ok:
            print(f"  push {k}: no webhook within 10 s", flush=True)
            continue
        got = next(t for i, t in recv.got.items() if i.endswith(f"_v{want}"))
        samples.append(got - t0)
    alerting.stop()
    samples.sort()
    if samples:
        line(f"push-to-webhook latency p50 ({len(samples)} pushes)",
             f"{statistics.median(samples) * 1e3:.1f} ms")
        line("push-to-webhook latency p95",
             f"{samples[int(0.95 * (len(samples) - 1))] * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
