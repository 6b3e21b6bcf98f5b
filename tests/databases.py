"""Databases for the persistence tests: a SQLite file, and the machine's PostgreSQL when
TRANSIT_TEST_DATABASE_URL names it. Each PostgreSQL test gets its own fresh schema,
dropped afterwards, so runs never see each other's rows."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

# Taken out of the environment so that no other test picks it up by accident.
PG_URL = os.environ.pop("TRANSIT_TEST_DATABASE_URL", None)
PG_SKIP = ("TRANSIT_TEST_DATABASE_URL is not set (e.g. "
           "postgresql+psycopg://postgres@127.0.0.1:5432/test; .ci/run sets it)")
BACKENDS = ("sqlite", "postgresql")


@contextmanager
def pg_schema(base_url: str) -> Iterator[str]:
    """A URL whose connections work in a new empty schema; the schema is dropped after."""
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'transit.db'}"
        return
    assert PG_URL is not None
    with pg_schema(PG_URL) as url:
        yield url
