"""The FastAPI application: routers of every domain, errors, limits, timetable holder."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from starlette.middleware.cors import CORSMiddleware

from transit import __version__
from transit.accounts import service as accounts
from transit.api import docs, health, problems
from transit.api.bodies import BodyLimitMiddleware
from transit.api.demand import DemandMiddleware
from transit.api.ratelimit import RateLimitMiddleware
from transit.api.surface import HttpSurface, cors_options
from transit.catalog import Catalog, load_catalog, served_network
from transit.clock import Clock, clock_from_setting
from transit.commuters.alerting import Alerting
from transit.commuters.auth_router import router as commuters_auth_router
from transit.commuters.commutes_router import router as commutes_router
from transit.commuters.me_router import router as commuters_me_router
from transit.db import migrate
from transit.db.engine import Database, database_for
from transit.db.jobs import Runner
from transit.delivery.events import AlertBus
from transit.delivery.router import router as delivery_router
from transit.delivery.webhooks import Deliverer, RetryPolicy
from transit.departures.router import router as departures_router
from transit.errors import CatalogError
from transit.fare_products.router import router as fare_products_router
from transit.ingest.limits import ingest_limits
from transit.ingest.publish_lock import publish_lock
from transit.journeys.router import router as journeys_router
from transit.journeys.service import warm_up_routing
from transit.kpis.lease import RedisLease
from transit.kpis.recorder import KpiRecorder
from transit.kpis.router import router as kpis_router
from transit.kpis.store import KpiStore
from transit.live.router import router as live_router
from transit.operators.accounts_router import router as accounts_router
from transit.operators.feeds_preview import (
    PreviewCache,
    PrivatePreviewMiddleware,
    preview_timetable,
)
from transit.operators.feeds_router import router as feeds_router
from transit.operators.router import router as operators_router
from transit.publishing.release import Releases
from transit.publishing.service import FeedVersions
from transit.realtime.backends import MemoryBackend, RedisBackend
from transit.realtime.poller import Poller
from transit.realtime.state import LiveState
from transit.realtime.validate import Limits
from transit.settings import Settings, get_settings
from transit.shop.inspections_router import router as inspections_router
from transit.shop.keys_router import router as ticket_keys_router
from transit.shop.settlement import Settler
from transit.shop.shop_router import router as shop_router
from transit.shop.tickets_router import router as tickets_router
from transit.shop.wiring import shop_for
from transit.stops.router import router as stops_router
from transit.tickets.keyring import keyring_for
from transit.timetable.departures import warm_up
from transit.timetable.store import Store, TimetableHolder
from transit.timetable.timetable import Timetable
from transit.trips.router import router as trips_router

DESCRIPTION = """One timetable of several transit operators: stops, stations shared across
operators, departures and trips. IDs are `OPERATOR:gtfs_id`. Errors are RFC 9457
problem+json. Times are ISO 8601 with the stop's UTC offset."""


def prepare(tt: Timetable) -> None:
    """Build a new version's per-process lookups and compiled code before it is served, so
    no request pays for them."""
    for lookup in ("stop_index", "trip_index", "operator_index", "name_words", "grid"):
        getattr(tt, lookup)
    tt.grid.within(0.0, 0.0, 1.0)  # compiles (or loads) the nearby stops' kernels
    warm_up(tt)
    warm_up_routing(tt)


@dataclass(frozen=True)
class _CatalogFile:
    """The catalog file, read once per start: the database, publishing, the KPIs and the
    poller each read it again before (a second of a worker's start on a large network)."""

    catalog: Catalog | None  # None: no file, or an unreadable one (`error` says why)
    error: CatalogError | None = None

    @classmethod
    def read(cls, path: Path) -> _CatalogFile:
        if not path.exists():
            return cls(None)
        try:
            return cls(load_catalog(path))
        except CatalogError as exc:
            return cls(None, exc)

    def get(self, unread: str) -> Catalog | None:
        """The catalog; None (after a warning `unread: error` if it could not be read)."""
        if self.error is not None:
            logging.getLogger("transit").warning("%s: %s", unread, self.error)
        return self.catalog


def _start_poller(settings: Settings, live: LiveState, backend: MemoryBackend | RedisBackend,
                  catalog_file: _CatalogFile) -> Poller | None:
    if not settings.realtime_poll:
        return None
    catalog = catalog_file.get("realtime polling off")
    if catalog is None or not any(op.realtime for op in catalog.operators):
        return None
    poller = Poller(catalog, live, getattr(backend, "client", None), settings.redis_prefix)
    poller.start()
    return poller


def _open_database(settings: Settings, db: Database, catalog_file: _CatalogFile) -> None:
    """Migrate (TRANSIT_AUTO_MIGRATE) so that a first start needs no other step; a fresh
    database takes the catalog's operators (from then on it is the source of truth)."""
    if settings.auto_migrate:
        migrate.upgrade(db)
    catalog = catalog_file.get("operators not imported from catalog")
    if catalog is None:
        return
    accounts.record_operators(db, ((o.id, o.name) for o in catalog.operators), "catalog",
                              only_if_empty=True)


def _on_load(db: Database) -> Callable[[Timetable], None]:
    """Prepare each version, and record the operators it serves that the database does not
    know yet (a feed compiled from a catalog the database has not seen)."""

    def on_load(tt: Timetable) -> None:
        prepare(tt)
        try:
            accounts.record_operators(db, ((o["id"], o["name"])
                                           for o in tt.meta["operators"]), "timetable")
        except SQLAlchemyError as exc:  # a database outage never holds back a new version
            logging.getLogger("transit").warning("operators of %s not recorded: %s",
                                                 tt.version, exc)

    return on_load


def _start_kpis(settings: Settings, db: Database, clock: Clock,
                backend: MemoryBackend | RedisBackend, catalog: Catalog | None) -> KpiRecorder:
    """The KPI recorder, flushing in the background; with Redis, one process of the fleet
    records live-data updates (a lease), every process its own requests."""
    intervals: dict[tuple[str, str], float] = {}
    for op in catalog.operators if catalog is not None else ():
        for src in op.realtime:
            intervals[(op.id, src.kind)] = src.interval_s
    lease = None
    if isinstance(backend, RedisBackend):
        lease = RedisLease(backend.client, f"{settings.redis_prefix}:kpis:lease",
                           ttl_s=max(15.0, 3 * settings.kpi_flush_interval_s))
    recorder = KpiRecorder(
        KpiStore(db), clock, interval_s=settings.kpi_flush_interval_s,
        expected_interval_s=lambda op, kind: intervals.get(
            (op, kind), settings.kpi_expected_interval_s),
        gap_factor=settings.kpi_gap_factor, leader=lease)
    recorder.start()
    return recorder


def _start_alerting(settings: Settings, db: Database, clock: Clock, holder: TimetableHolder,
                    backend: MemoryBackend | RedisBackend, bus: AlertBus) -> Alerting:
    """Commute alerts: evaluated on every live update (with Redis, by the holder of a lease
    only: every process applies every update), written to the inbox and outbox, delivered
    to webhooks by this process when deliver_webhooks."""
    deliverer = Deliverer(db, allow_private=settings.webhook_allow_private,
                          timeout_s=settings.webhook_timeout_s,
                          policy=RetryPolicy(base_s=settings.webhook_retry_base_s),
                          vapid=(settings.vapid_private_key, settings.vapid_subject)
                          if settings.vapid_private_key else None) \
        if settings.deliver_webhooks else None
    lease = None
    if isinstance(backend, RedisBackend):
        lease = RedisLease(backend.client, f"{settings.redis_prefix}:alerts:lease",
                           ttl_s=settings.alert_lease_s)
    alerting = Alerting(db, clock, holder.get, deliverer,
                        stale_after_s=settings.realtime_stale_after_s, leader=lease,
                        announce=bus.commutes_changed if lease is not None else None)
    bus.commute_listeners.append(alerting.changed)
    alerting.start()
    return alerting


def _start_settler(app: FastAPI, settings: Settings) -> Settler | None:
    """Orders whose payment outcome nobody waited for, settled in the background."""
    if not settings.payment_settle_interval_s:
        return None
    settler = app.state.settler = Settler(lambda: shop_for(app.state),
                                          settings.payment_settle_after_s,
                                          settings.payment_settle_interval_s)
    settler.start()
    return settler


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The database went away (PostgreSQL down, SQLite file unreadable): the endpoints that
    need it answer 503 and the rest of the API keeps serving."""
    logging.getLogger("transit.api").warning("database unavailable: %s", exc)
    return problems.problem_response(request, 503, "the database is unavailable; retry later",
                                     {"Retry-After": "5"})


def _catalog_or_empty(catalog_file: _CatalogFile) -> Catalog:
    """The catalog's order and station/footpath rules for merged versions (none: defaults;
    operators that only upload are merged after the catalog's)."""
    return catalog_file.get("catalog not read for publishing") or Catalog(())


def _start_publishing(app: FastAPI, settings: Settings, clock: Clock, network: str,
                      catalog_file: _CatalogFile) -> Runner | None:
    """Feed versions: the service the feeds router uses, and the job runner of this process
    (validation and publishing never run in a request)."""
    limits = ingest_limits(settings, clock)
    store = Store(settings.data_dir, network)
    releases = Releases(store, _catalog_or_empty(catalog_file), clock,
                        keep=settings.feed_versions_kept, limits=limits,
                        lock=lambda: publish_lock(store.root, settings.redis_url,
                                                  settings.redis_prefix))
    versions = FeedVersions(app.state.db, releases, settings.data_dir / "scratch")
    app.state.ingest_limits = limits
    app.state.feed_versions = versions
    app.state.previews = PreviewCache(prepare)
    app.state.preview_timetable = preview_timetable
    if not settings.run_jobs:
        return None
    runner = Runner(app.state.db, versions.handlers(), lease_s=settings.job_lease_s,
                    on_failure=versions.fail_job)
    runner.start()
    app.state.job_runner = runner
    return runner


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or get_settings()
    clock = clock or clock_from_setting(settings.clock, settings.clock_running)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        catalog_file = _CatalogFile.read(settings.catalog)
        _open_database(settings, app.state.db, catalog_file)
        network = settings.network or served_network(settings.data_dir, settings.catalog)
        holder = TimetableHolder(Store(settings.data_dir, network), settings.reload_interval_s,
                                 on_load=_on_load(app.state.db))
        app.state.holder = holder
        runner = _start_publishing(app, settings, clock, network, catalog_file)
        backend: MemoryBackend | RedisBackend
        if settings.redis_url:
            backend = RedisBackend(settings.redis_url, settings.redis_prefix,
                                   settings.redis_timeout_s)
        else:
            backend = MemoryBackend()
        live = LiveState(backend, clock, holder.get, Limits.from_settings(settings))
        if isinstance(backend, RedisBackend):
            backend._on_down, backend._on_up = live.went_down, live.came_up
            backend.subscribe(lambda op, kind: None)  # start following the channel
        app.state.live = live
        kpis = app.state.kpis = _start_kpis(settings, app.state.db, clock, backend,
                                            catalog_file.catalog)
        live.add_observer(kpis.observe)
        bus = app.state.alert_bus = AlertBus(settings.redis_url, settings.redis_prefix)
        alerting = app.state.alerting = _start_alerting(settings, app.state.db, clock, holder,
                                                        backend, bus)
        alerting.listeners.append(lambda events: bus.notify(e.user_id for e in events))
        live.add_observer(alerting.evaluator.observe)
        poller = _start_poller(settings, live, backend, catalog_file)
        settler = _start_settler(app, settings)
        try:
            yield
        finally:
            if settler is not None:
                settler.stop()
            if poller is not None:
                await poller.stop()
            if runner is not None:
                runner.stop()
            kpis.stop()  # writes what is still in memory
            alerting.stop()
            bus.close()
            backend.close()
            app.state.db.dispose()

    app = FastAPI(title="transit", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan, docs_url=None, redoc_url=None)
    docs.install(app)
    app.state.settings = settings
    app.state.clock = clock
    app.state.db = database_for(settings)
    app.state.ticket_keys = keyring_for(settings.data_dir, settings.ticket_keys_dir)
    app.add_exception_handler(OperationalError, _database_unavailable)
    problems.install(app)
    # Starlette tries routes in order: the hot public reads first, the write side after
    # (matching /healthz against 40 routes before it cost a quarter of its time).
    for router in (departures_router, stops_router, health.router, trips_router,
                   journeys_router, live_router, operators_router, accounts_router,
                   feeds_router, kpis_router, commuters_auth_router, commuters_me_router,
                   commutes_router, delivery_router, fare_products_router,
                   ticket_keys_router, shop_router, tickets_router, inspections_router):
        app.include_router(router)
    app.add_middleware(PrivatePreviewMiddleware)
    app.add_middleware(DemandMiddleware)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_json_bytes)
    app.add_middleware(RateLimitMiddleware, per_minute=settings.rate_limit_per_minute,
                       trusted_proxies=settings.trusted_proxies, redis_url=settings.redis_url,
                       redis_prefix=settings.redis_prefix,
                       redis_timeout_s=settings.redis_timeout_s)
    app.add_middleware(health.MetricsMiddleware)
    if settings.cors_origins:  # outside the rate limit: a 429 must be readable by the page
        app.add_middleware(CORSMiddleware, **cors_options(settings.cors_origins))
    app.add_middleware(HttpSurface)
    return app


def quiet_access_log() -> None:
    """Turn uvicorn's access log off (as its `--no-access-log` does): its connections log a
    line per request while the `uvicorn.access` logger has a handler."""
    access = logging.getLogger("uvicorn.access")
    access.handlers = []
    access.propagate = False


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory transit.app:app_from_env` (one per worker); with
    TRANSIT_ACCESS_LOG off (the default), uvicorn logs no line per request."""
    settings = get_settings()
    if not settings.access_log:
        quiet_access_log()  # uvicorn configured its logging before it called this factory
    return create_app(settings)
