from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests import databases
from transit.app import create_app
from transit.catalog import Catalog, Operator
from transit.clock import FixedClock
from transit.ingest.pipeline import IngestReport, ingest
from transit.settings import Settings
from transit.timetable.store import Store

# fixtures of the journey tests (a planner over feeds written in a test; random worlds)
pytest_plugins = ["tests.journey_support", "tests.journey_worlds"]

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
PEER_CASES = ROOT.parent / "shared" / "peer-cases"
DEMO_CATALOG = ROOT / "feeds" / "catalog.toml"

# Tests that need Redis take its URL from TRANSIT_REDIS_URL when it is set (.ci/run sets
# it); else, when redis-server is on the PATH, from a redis-server of the test session's
# own on a free port (see session_redis_url). TRANSIT_REDIS_URL is taken out of the
# environment here, so that every other test runs on the embedded defaults.
REDIS_URL = os.environ.pop("TRANSIT_REDIS_URL", None)
needs_redis = pytest.mark.skipif(
    REDIS_URL is None and shutil.which("redis-server") is None,
    reason="neither TRANSIT_REDIS_URL is set nor redis-server on the PATH")


class _SessionRedis:
    """The redis-server this test session started (at most one, on first use)."""

    proc: subprocess.Popen[bytes] | None = None
    workdir: Path | None = None
    url: str | None = None


def session_redis_url() -> str | None:
    """TRANSIT_REDIS_URL, else the URL of a redis-server of this session's own (no
    persistence, 127.0.0.1, a free port; stopped when the session ends), else None when
    redis-server is not on the PATH. Tests use their own key prefix on it."""
    if REDIS_URL:
        return REDIS_URL
    if _SessionRedis.url is None and shutil.which("redis-server") is not None:
        from tests.realtime_support import free_port, start_redis_server

        port = free_port()
        _SessionRedis.workdir = Path(tempfile.mkdtemp(prefix="transit-tests-redis-"))
        _SessionRedis.proc = start_redis_server(port, _SessionRedis.workdir)
        _SessionRedis.url = f"redis://127.0.0.1:{port}/0"
    return _SessionRedis.url


@pytest.fixture(scope="session")
def redis_service() -> str:
    """The Redis URL for this session (see session_redis_url); skips without one."""
    url = session_redis_url()
    if url is None:
        pytest.skip("Redis tests need TRANSIT_REDIS_URL or redis-server on the PATH")
    return url


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _SessionRedis.proc is not None:
        from tests.realtime_support import stop_process

        stop_process(_SessionRedis.proc)
        _SessionRedis.proc = None
    if _SessionRedis.workdir is not None:
        shutil.rmtree(_SessionRedis.workdir, ignore_errors=True)

# A database URL in the environment would make every test app share it: only the
# `db_url` fixture below chooses databases.
os.environ.pop("TRANSIT_DATABASE_URL", None)


@pytest.fixture(params=databases.BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh empty database on each backend: SQLite, and PostgreSQL when
    TRANSIT_TEST_DATABASE_URL is set (a schema of its own, dropped afterwards)."""
    if request.param == "postgresql" and databases.PG_URL is None:
        pytest.skip(databases.PG_SKIP)
    with databases.database_url(request.param, tmp_path) as url:
        yield url


needs_data = pytest.mark.skipif(
    not DATA.exists(), reason=f"shared test data not found at {DATA} (present on CI)")


def catalog_of(feeds: dict[str, Path]) -> Catalog:
    return Catalog(tuple(Operator(id=op, name=f"Operator {op}", gtfs=str(p.resolve()))
                         for op, p in feeds.items()))


def client_for(data_dir: Path, at: str, **settings: object) -> TestClient:
    values: dict[str, object] = {"data_dir": data_dir, "rate_limit_per_minute": 0, **settings}
    app = create_app(Settings(**values),  # type: ignore[arg-type]
                     clock=FixedClock(datetime.fromisoformat(at)))
    return TestClient(app)


@pytest.fixture
def network(tmp_path: Path) -> Callable[..., Iterator[TestClient]]:
    """network({"A": path, ...}, at="2026-...") -> a started TestClient over those feeds."""
    clients: list[TestClient] = []

    def make(feeds: dict[str, Path], at: str) -> TestClient:
        data = tmp_path / f"data{len(clients)}"
        ingest(catalog_of(feeds), Store(data))
        client = client_for(data, at)
        client.__enter__()
        clients.append(client)
        return client

    yield make  # type: ignore[misc]
    for c in clients:
        c.__exit__(None, None, None)


def build(feeds: dict[str, Path], data_dir: Path) -> IngestReport:
    return ingest(catalog_of(feeds), Store(data_dir))


def compile_demo_whole(data: Path) -> Path:
    """The demo network compiled into `data` whole (its six years, whatever today's date: the
    default horizon would cut it around the day the tests run)."""
    from transit.catalog import load_catalog
    from transit.ingest.limits import IngestLimits
    from transit.timetable.calendar import ServiceHorizon

    whole = IngestLimits(horizon=ServiceHorizon(days_before=4000, days_after=4000))
    ingest(load_catalog(DEMO_CATALOG), Store(data), limits=whole)
    return data


@pytest.fixture(scope="module")
def demo_whole(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with the demo network compiled whole, one per test module."""
    return compile_demo_whole(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="session", autouse=True)
def compiled_kernels(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Compile the numba kernels into their on-disk cache once, before any test runs.

    A server process that a test starts compiles them too when the cache is cold (a fresh
    clone, as on CI, or a changed kernel): minutes on a busy machine, past every test's
    readiness deadline. Compiled here once, every later process loads them from the cache.
    """
    from transit.app import prepare

    data = compile_demo_whole(tmp_path_factory.mktemp("kernels"))
    tt = Store(data).load_current()
    assert tt is not None, "the demo network did not compile"
    prepare(tt)
