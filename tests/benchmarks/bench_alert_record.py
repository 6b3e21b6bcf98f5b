"""Benchmark of recording alert events into the inbox and the outbox (not collected by
pytest): transit.delivery.outbox.record, as the evaluator's sink calls it once per
evaluated update.

--users users, each with one saved commute and one webhook; --events alert events (one
per user in turn, so every event writes one inbox row and one outbox row) recorded in
batches of --batch, on SQLite (a file) and on PostgreSQL (TRANSIT_TEST_DATABASE_URL, a
fresh schema dropped after). Three passes over the same alerts: `new` (inbox inserts),
`updated` (a higher version of every alert: inbox updates, new outbox rows), and `again`
(the same events a second time, as a second process sharing live data records them:
nothing written). Prints ms per batch (p50 / max) and the total per pass.

    TRANSIT_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python tests/benchmarks/bench_alert_record.py [--events 10000] [--batch 500]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
PG_URL = os.environ.get("TRANSIT_TEST_DATABASE_URL", "").strip()

from tests.databases import pg_schema  # noqa: E402
from transit.db import migrate  # noqa: E402
from transit.db.engine import Database  # noqa: E402
from transit.db.models_alerts import CommuteRow, WebhookRow  # noqa: E402
from transit.db.models_users import UserRow  # noqa: E402
from transit.delivery import outbox  # noqa: E402
from transit.delivery.alert_events import AlertEvent  # noqa: E402

JOURNEY = {"departure": "2019-08-07T10:50:00-07:00", "arrival": "2019-08-07T11:20:00-07:00",
           "legs": [{"trip_id": "BART:1234567", "operator": "BART", "from": "BART:MONT",
                     "to": "BART:DUBL", "departure": "2019-08-07T10:50:00-07:00",
                     "arrival": "2019-08-07T11:20:00-07:00"}]}


def _seed(db: Database, users: int) -> None:
    at = datetime.now(UTC)
    with db.session() as s:
        s.add_all(UserRow(id=f"u{i}", kind="anonymous", email=None, password_hash=None,
                          profile={}, created_at=at, registered_at=None) for i in range(users))
        s.flush()
        s.add_all(CommuteRow(id=f"cm{i}", user_id=f"u{i}", data={}, created_at=at,
                             updated_at=at) for i in range(users))
        s.add_all(WebhookRow(id=f"wh{i}", user_id=f"u{i}", kind="webhook",
                             url="https://example.com/hook", secret="whsec_x", p256dh=None,
                             auth=None, created_at=at, failing_since=None, last_error=None,
                             disabled_at=None, disabled_reason=None) for i in range(users))


def _events(n: int, users: int, version: int) -> list[AlertEvent]:
    state = "new" if version == 1 else "updated"
    return [AlertEvent(f"al_{i:08d}", f"cm{i % users}", f"u{i % users}", "delay", state,
                       version, 1565200000, "2019-08-07", JOURNEY, "BART:1234567",
                       {"delay_s": 300 + 120 * version, "delay_min": (300 + 120 * version) // 60})
            for i in range(n)]


def _pass(db: Database, events: list[AlertEvent], batch: int) -> tuple[list[float], int]:
    times, written = [], 0
    for k in range(0, len(events), batch):
        t0 = time.perf_counter()
        written += outbox.record(db, events[k:k + batch], time.time())
        times.append(time.perf_counter() - t0)
    return times, written


def run(name: str, url: str, args: argparse.Namespace) -> None:
    db = Database(url)
    migrate.upgrade(db)
    _seed(db, args.users)
    print(f"\n{name}: {args.events:,} events in batches of {args.batch} "
          f"({args.users:,} users, one webhook each)")
    print(f"  {'pass':<8} {'ms/batch p50':>13} {'max':>9} {'total ms':>10} {'rows':>7}")
    for label, version in (("new", 1), ("updated", 2), ("again", 2)):
        times, written = _pass(db, _events(args.events, args.users, version), args.batch)
        print(f"  {label:<8} {statistics.median(times) * 1e3:13.1f} {max(times) * 1e3:9.1f} "
              f"{sum(times) * 1e3:10.0f} {written:7,}", flush=True)
    db.dispose()


@contextmanager
def _sqlite() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{Path(tmp) / 'transit.db'}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=10_000)
    p.add_argument("--batch", type=int, default=500)
    p.add_argument("--users", type=int, default=2_000)
    args = p.parse_args()
    with _sqlite() as url:
        run("SQLite", url, args)
    if not PG_URL:
        print("\nPostgreSQL skipped: TRANSIT_TEST_DATABASE_URL is not set")
        return
    with pg_schema(PG_URL) as url:
        run("PostgreSQL", url, args)


if __name__ == "__main__":
    main()
