"""What keys cost: authenticating one key (the read every keyed request does; its last use
written at most once a minute), and a keyed request end to end against an unkeyed one, on
SQLite and (when TRANSIT_TEST_DATABASE_URL is set) PostgreSQL.

    .venv/bin/python tests/benchmarks/bench_accounts.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.benchmarks.report import Table, p50_p95_ms, timed  # noqa: E402
from tests.conftest import build, client_for  # noqa: E402
from tests.databases import PG_URL, pg_schema  # noqa: E402
from tests.feeds import write_feed  # noqa: E402
from transit.accounts import service  # noqa: E402
from transit.accounts.scope import CLI  # noqa: E402
from transit.db import migrate  # noqa: E402
from transit.db.engine import Database, default_url  # noqa: E402

RUNS = 2000
NOW = "2026-06-01T08:00:00+02:00"


def bench(url: str, label: str, data: Path, table: Table) -> None:
    db = Database(url)
    migrate.upgrade(db)
    service.record_operators(db, [("A", "A")], "cli")
    token = service.create_key(db, "A", "viewer", CLI).token
    table.add(f"{label}: authenticate p50 / p95 (ms)",
              p50_p95_ms(timed(lambda: service.authenticate(db, token), RUNS)))
    db.dispose()
    with client_for(data, NOW, database_url=url, realtime_poll=False) as client:
        headers = {"Authorization": f"Bearer {token}"}
        keyed = timed(lambda: client.get("/v1/operators/A/audit?limit=1", headers=headers),
                      RUNS // 4)
        public = timed(lambda: client.get("/v1/operators/A/realtime"), RUNS // 4, 1)
    table.add(f"{label}: GET audit (keyed) p50 / p95 (ms)", p50_p95_ms(keyed))
    table.add(f"{label}: GET realtime status (no key) p50 / p95 (ms)", p50_p95_ms(public))


def main() -> None:
    table = Table("Keys: authentication cost (in process, TestClient)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build({"A": write_feed(root / "a", {})}, root / "data")
        bench(default_url(root / "sqlite"), "SQLite", root / "data", table)
        if PG_URL:
            with pg_schema(PG_URL) as url:
                bench(url, "PostgreSQL", root / "data", table)
        else:
            table.note("PostgreSQL skipped: TRANSIT_TEST_DATABASE_URL is not set")
    table.print()


if __name__ == "__main__":
    main()
