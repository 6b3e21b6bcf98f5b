"""The database: migrations up and down on SQLite and PostgreSQL, models matching the
migrated schema, concurrent starts."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from tests.conftest import ROOT
from transit.db import migrate
from transit.db.engine import Database, database_url, default_url
from transit.db.models import Base, OperatorRow
from transit.settings import Settings

TABLES = {"operators", "api_keys", "audit_log", "feed_versions", "jobs", "kpi_trips",
          "kpi_scheduled", "kpi_feeds", "kpi_rejections", "kpi_demand", "users",
          "user_tokens", "sign_in_failures", "favourites", "commutes", "commute_alerts",
          "webhooks", "alert_outbox", "offers", "idempotency_keys", "orders", "tickets",
          "ticket_revocations", "sales", "inspections", "test_payments"}
SHOP_TABLES = {"offers", "idempotency_keys", "orders", "tickets", "ticket_revocations",
               "sales", "inspections", "test_payments"}
ALERT_TABLES = {"commutes", "commute_alerts", "webhooks", "alert_outbox"}
USER_TABLES = {"users", "user_tokens", "sign_in_failures", "favourites", *ALERT_TABLES,
               *SHOP_TABLES}


def _tables(db: Database) -> set[str]:
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_from_empty_to_head_and_back_to_base(db_url: str) -> None:
    db = Database(db_url)
    try:
        assert migrate.current(db) is None
        assert _tables(db) == set()
        migrate.upgrade(db)
        assert migrate.current(db) == migrate.head()
        assert _tables(db) == TABLES
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(ctx, Base.metadata) == []
        assert migrate.head() == "0007"
        migrate.downgrade(db, "0006")  # the test payment provider's ledger goes
        assert _tables(db) == TABLES - {"test_payments"}
        migrate.downgrade(db, "0005")  # the shop's tables go
        assert _tables(db) == TABLES - SHOP_TABLES
        migrate.downgrade(db, "0004")  # the commutes' and alerts' tables go
        assert _tables(db) == TABLES - ALERT_TABLES - SHOP_TABLES
        migrate.downgrade(db, "0003")  # the commuters' tables go
        assert _tables(db) == TABLES - USER_TABLES
        migrate.downgrade(db, "0002")  # the KPI tables go, feed versions stay
        kpi_tables = {t for t in TABLES if t.startswith("kpi_")}
        assert _tables(db) == TABLES - USER_TABLES - kpi_tables
        migrate.downgrade(db, "0001")  # feed versions and jobs go, accounts stay
        assert _tables(db) == TABLES - USER_TABLES - kpi_tables - {"feed_versions", "jobs"}
        migrate.downgrade(db, "base")
        assert migrate.current(db) is None
        assert _tables(db) == set()
        migrate.upgrade(db)  # and up again: the downgrade left nothing behind
        assert _tables(db) == TABLES
    finally:
        db.dispose()


def test_instants_come_back_in_utc_on_every_backend(db_url: str) -> None:
    db = Database(db_url)
    migrate.upgrade(db)
    at = datetime(2026, 3, 29, 2, 30, tzinfo=timezone(timedelta(hours=2)))
    with db.session() as s:
        s.add(OperatorRow(id="A", name="Operator A", source="cli", created_at=at))
    with db.session() as s:
        got = s.scalars(select(OperatorRow.created_at)).one()
    assert got == at and got.tzinfo is UTC and got.hour == 0
    with pytest.raises(Exception, match="naive datetime"), db.session() as s:
        s.add(OperatorRow(id="B", name="B", source="cli", created_at=datetime(2026, 1, 1)))
    db.dispose()


def test_several_processes_migrating_at_once_all_succeed(db_url: str) -> None:
    """Workers of `serve --workers N` all migrate on start: the lock serializes them."""
    code = ("import sys; from transit.db.engine import Database; from transit.db import "
            "migrate; db = Database(sys.argv[1]); migrate.upgrade(db); "
            "print(migrate.current(db))")
    procs = [subprocess.Popen([sys.executable, "-c", code, db_url], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in outs]
    assert [out.strip() for out, _ in outs] == [migrate.head()] * 4
    db = Database(db_url)
    assert _tables(db) == TABLES
    db.dispose()


def test_head_read_from_the_scripts_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config(Database("sqlite://")))
    assert migrate.head() == script.get_current_head()
    revisions = migrate._revisions()
    assert [r for r in sorted(revisions)] == [s.revision for s in
                                               reversed(list(script.walk_revisions()))]


def test_a_worker_finding_its_database_at_head_does_not_import_alembic(db_url: str) -> None:
    """Alembic is for migrating: a process whose database is current never loads it; one
    whose database is behind does, and migrates."""
    code = ("import sys; from transit.db.engine import Database; from transit.db import "
            "migrate; db = Database(sys.argv[1]); migrate.upgrade(db); "
            "print(migrate.current(db), 'alembic' in sys.modules)")

    def run() -> str:
        return subprocess.run([sys.executable, "-c", code, db_url], cwd=ROOT, check=True,
                              capture_output=True, text=True, timeout=120).stdout.strip()

    assert run() == f"{migrate.head()} True"  # empty: migrated with alembic
    assert run() == f"{migrate.head()} False"  # current: alembic never imported


def test_default_database_is_a_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    assert database_url(settings) == default_url(tmp_path / "var")
    db = Database(database_url(settings))
    migrate.upgrade(db)
    assert (tmp_path / "var" / "transit.db").exists()
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.dispose()
    other = Settings(data_dir=tmp_path, database_url="postgresql+psycopg://h/db")
    assert database_url(other) == "postgresql+psycopg://h/db"
