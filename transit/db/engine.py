"""The database a process talks to: one engine and one session factory per process.

The default is a SQLite file in the data directory, so a quick start needs no server;
`TRANSIT_DATABASE_URL=postgresql+psycopg://...` shares one database between every process
and host."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from transit.settings import Settings

SQLITE_FILE = "transit.db"


def default_url(data_dir: Path) -> str:
    """The embedded default: `DATA_DIR/transit.db`."""
    return f"sqlite:///{(data_dir / SQLITE_FILE).resolve()}"


def database_url(settings: Settings) -> str:
    return settings.database_url or default_url(settings.data_dir)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers go on while one process writes; foreign keys are off by default in
    SQLite; the busy timeout makes a second writer wait instead of failing at once."""
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # A server that does not answer is an error within seconds, not a hung request.
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 5})


class Database:
    """An engine and its session factory. Cheap to create: nothing connects until used."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed when the block ends, rolled back when it
        raises."""
        with self._sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def database_for(settings: Settings) -> Database:
    return Database(database_url(settings))
