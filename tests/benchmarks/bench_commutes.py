"""Benchmark of commute alerts (not collected by pytest).

Network: BART + Caltrain as matched to the real-time samples
(../shared/data/gtfs/bayarea-rt-matched), served as of the BART trip-updates sample
2019-08-07T17:45Z + 5 s. --commutes saved commutes (default 100,000) between random BART
stations with 15-minute departure windows from 06:00 to 13:00 (plans are shared by
commutes of the same places and window: --pairs x 28 windows searches), every rule on.

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
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from google.transit import gtfs_realtime_pb2 as pb

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.commute_support import LiveRig, local  # noqa: E402
from tests.conftest import DATA, catalog_of  # noqa: E402
from tests.realtime_support import StaticRef, read_pb  # noqa: E402
from transit.commuters.alerting import Alerting  # noqa: E402
from transit.commuters.rules import DAYS, parse_commute  # noqa: E402
from transit.db import migrate  # noqa: E402
from transit.db.engine import Database  # noqa: E402
from transit.db.models_alerts import CommuteRow  # noqa: E402
from transit.db.models_users import UserRow  # noqa: E402
from transit.delivery import store  # noqa: E402
from transit.delivery.webhooks import Deliverer  # noqa: E402
from transit.ingest.pipeline import ingest  # noqa: E402
from transit.timetable.store import Store  # noqa: E402

BART_ZIP = DATA / "gtfs" / "bayarea-rt-matched" / "bart-2019-02-11.zip"
CT_ZIP = DATA / "gtfs" / "bayarea-rt-matched" / "caltrain-511-2023-09-22.zip"
BART_TU = DATA / "gtfs-rt" / "bayarea" / "bart-tripupdates-2019-08-07T1745Z.pb"
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
    args = ap.parse_args()
    for p in (BART_ZIP, CT_ZIP, BART_TU):
        if not p.exists():
            sys.exit(f"missing {p}")
    work = Path(tempfile.mkdtemp(prefix="bench-commutes-"))
    ingest(catalog_of({"BART": BART_ZIP, "CT": CT_ZIP}), Store(work / "data"))
    tt = Store(work / "data").load_current()
    assert tt is not None
    msg = read_pb(BART_TU)
    now = int(msg.header.timestamp) + 5
    day = local(now, TZ).date()
    rng = random.Random(7)
    ids = tt.strings("stop_id")
    stations = sorted({ids[int(s)] for s in range(len(ids)) if ids[int(s)].startswith("BART:")
                       and int(tt.stop_location_type[int(s)]) == 0})
    pairs = set()
    while len(pairs) < args.pairs:
        a, b = rng.sample(stations, 2)
        pairs.add((a, b))
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
    print(f"network BART + Caltrain, {len(stations)} BART stops; {len(commutes):,} commutes "
          f"over {len(pairs_l)} station pairs x {len(windows)} windows; as of "
          f"{local(now, TZ).isoformat()}")

    rig = LiveRig(tt, now)
    ev = rig.evaluator
    t0 = time.perf_counter()
    watching = ev.watch(tt, commutes, day)
    t_plan = time.perf_counter() - t0
    line("planning: commutes watched", f"{watching:,}")
    line("planning: searches (shared plans)", f"{ev.planner(tt).searches:,}")
    line("planning: time", f"{t_plan:.1f} s")

    t0 = time.perf_counter()
    rig.state.publish("BART", msg)
    t_apply = time.perf_counter() - t0
    t0 = time.perf_counter()
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        events = prof.runcall(ev.process)
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
    else:
        events = ev.process()
    t_eval = time.perf_counter() - t0
    touched = len({e.commute_id for e in events})
    kinds: dict[str, int] = {}
    for e in events:
        kinds[e.kind] = kinds.get(e.kind, 0) + 1
    line("BART feed: apply (publish, parse, overlay swap)", f"{t_apply * 1e3:.1f} ms")
    line("BART feed: evaluation, total", f"{t_eval * 1e3:.1f} ms")
    line("  matching (indexes + rules, without re-planning)",
         f"{(t_eval - ev.replan_s) * 1e3:.1f} ms")
    line(f"  re-planning ({ev.replans} searches on the live network)",
         f"{ev.replan_s * 1e3:.1f} ms")
    line("alerts produced / commutes alerted", f"{len(events):,} / {touched:,}")
    line("alerts by kind", ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    latency(tt, msg, now, args.pushes, work)


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


def latency(tt: object, msg: pb.FeedMessage, now: int, pushes: int, work: Path) -> None:
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
    c = parse_commute({"name": "bench", "from": f"BART:{first}", "to": f"BART:{calls[2][0]}",
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
        rig.state.publish("BART", m)
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
