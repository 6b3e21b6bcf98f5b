"""Schema migrations, run from code: `transit db upgrade`, or on start when
TRANSIT_AUTO_MIGRATE is on. Several workers starting at once are safe: the upgrade runs
under a lock (a PostgreSQL advisory lock, or a file lock next to the SQLite file), and a
database already at head is left alone without taking it, and without importing alembic:
an API worker that finds its database current keeps alembic (30 MiB, half a second) out of
its memory."""

from __future__ import annotations

import ast
import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import make_url

from transit.db.engine import Database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# pg_advisory_lock key: any constant the service's other locks do not use.
PG_LOCK_KEY = 7_311_202_611


def alembic_config(db: Database) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # configparser interpolates '%': double it (URLs carry %-escapes, e.g. search_path).
    url = db.engine.url.render_as_string(hide_password=False).replace("%", "%%")
    config.set_main_option("sqlalchemy.url", url)
    return config


def _revisions() -> dict[str, str | None]:
    """revision -> down_revision of every script, read from their source."""
    out: dict[str, str | None] = {}
    for path in sorted((MIGRATIONS / "versions").glob("[0-9]*.py")):
        values: dict[str, object] = {}
        for node in ast.parse(path.read_text(), str(path)).body:
            if isinstance(node, ast.AnnAssign | ast.Assign) and node.value is not None:
                targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
                for t in targets:
                    if isinstance(t, ast.Name) and t.id in ("revision", "down_revision"):
                        values[t.id] = ast.literal_eval(node.value)
        out[str(values["revision"])] = values.get("down_revision")  # type: ignore[assignment]
    return out


def head() -> str:
    """The newest revision this code knows: the one no other script follows."""
    revisions = _revisions()
    heads = set(revisions) - {d for d in revisions.values() if d is not None}
    if len(heads) != 1:
        raise RuntimeError(f"migrations must form one chain; heads: {sorted(heads)}")
    return heads.pop()


def current(db: Database) -> str | None:
    """The revision the database is at; None for an empty database."""
    with db.engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


@contextmanager
def _file_lock(db: Database) -> Iterator[None]:
    path = make_url(db.url).database
    if not path or path == ":memory:":
        yield
        return
    with open(f"{path}.migrate-lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _locked_connection(db: Database) -> Iterator[Connection]:
    """A connection holding the migration lock for as long as the block runs."""
    with db.engine.connect() as conn:
        if db.is_sqlite:
            with _file_lock(db):
                yield conn
            return
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": PG_LOCK_KEY})
        conn.commit()
        try:
            yield conn
        finally:
            conn.rollback()
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PG_LOCK_KEY})
            conn.commit()


def _run(db: Database, action: str, revision: str) -> None:
    from alembic import command

    config = alembic_config(db)
    with _locked_connection(db) as conn:
        config.attributes["connection"] = conn
        getattr(command, action)(config, revision)
        conn.commit()


def upgrade(db: Database, revision: str = "head") -> None:
    """Migrate up to `revision`; a no-op (and no lock) when already at head."""
    if revision == "head" and current(db) == head():
        return
    _run(db, "upgrade", revision)


def downgrade(db: Database, revision: str) -> None:
    """Migrate down to `revision` ("base" empties the schema, "-1" goes one step back)."""
    _run(db, "downgrade", revision)
