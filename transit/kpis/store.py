"""The KPI tables through SQLAlchemy Core: batched upserts (one statement per table per
flush, executed for many rows) and the reads of the report. SQLite and PostgreSQL share
the code; only the upsert's dialect and the name of a two-argument maximum differ."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, Table, and_, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from transit.db.engine import Database
from transit.db.models_kpis import (
    KpiDemandRow,
    KpiFeedRow,
    KpiRejectionRow,
    KpiScheduledRow,
    KpiTripRow,
)

TRIPS: Table = KpiTripRow.__table__  # type: ignore[assignment]
SCHEDULED: Table = KpiScheduledRow.__table__  # type: ignore[assignment]
FEEDS: Table = KpiFeedRow.__table__  # type: ignore[assignment]
REJECTIONS: Table = KpiRejectionRow.__table__  # type: ignore[assignment]
DEMAND: Table = KpiDemandRow.__table__  # type: ignore[assignment]
Row = dict[str, Any]


@dataclass
class Batch:
    """What one flush writes: rows keyed like their tables; counters are increments."""

    trips: list[Row] = field(default_factory=list)
    scheduled: list[Row] = field(default_factory=list)
    feeds: list[Row] = field(default_factory=list)
    rejections: list[Row] = field(default_factory=list)
    demand: list[Row] = field(default_factory=list)

    def __len__(self) -> int:
        return (len(self.trips) + len(self.scheduled) + len(self.feeds)
                + len(self.rejections) + len(self.demand))


class KpiStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._pg = db.engine.dialect.name == "postgresql"

    # -- writing
    def _upsert(self, conn: Connection, table: Table, rows: list[Row],
                update: Callable[[Any], dict[str, Any]],
                where: Callable[[Any], ColumnElement[bool]] | None = None) -> None:
        if not rows:
            return
        stmt = (postgresql.insert if self._pg else sqlite.insert)(table)
        keys = [c.name for c in table.primary_key.columns]
        stmt = stmt.on_conflict_do_update(
            index_elements=keys, set_=update(stmt.excluded),
            where=None if where is None else where(stmt.excluded))
        conn.execute(stmt, rows)

    def _greatest(self, a: Any, b: Any) -> Any:
        return func.greatest(a, b) if self._pg else func.max(a, b)

    def _least(self, a: Any, b: Any) -> Any:
        return func.least(a, b) if self._pg else func.min(a, b)

    def write(self, batch: Batch) -> None:
        """All of a flush in one transaction: a crash leaves the previous flush whole."""
        t, f, r, d = TRIPS.c, FEEDS.c, REJECTIONS.c, DEMAND.c
        trip_cols = ("route_id", "status", "observed", "on_time", "early", "late", "delays",
                     "feed_timestamp")
        with self.db.engine.begin() as conn:
            self._upsert(conn, TRIPS, batch.trips,
                         lambda ex: {c: ex[c] for c in trip_cols},
                         lambda ex: ex.feed_timestamp >= t.feed_timestamp)
            self._upsert(conn, SCHEDULED, batch.scheduled, lambda ex: {"trips": ex.trips})
            self._upsert(conn, FEEDS, batch.feeds, lambda ex: {
                "updates": f.updates + ex.updates, "entities": f.entities + ex.entities,
                "applied": f.applied + ex.applied, "gaps": f.gaps + ex.gaps,
                "max_gap_s": self._greatest(f.max_gap_s, ex.max_gap_s),
                "first_update_at": self._least(f.first_update_at, ex.first_update_at),
                "last_update_at": self._greatest(f.last_update_at, ex.last_update_at)})
            self._upsert(conn, REJECTIONS, batch.rejections,
                         lambda ex: {"count": r.count + ex.count})
            self._upsert(conn, DEMAND, batch.demand,
                         lambda ex: {"requests": d.requests + ex.requests})

    # -- what a starting recorder goes on from
    def trips_since(self, since: date) -> Sequence[Any]:
        with self.db.engine.connect() as conn:
            return conn.execute(select(TRIPS).where(TRIPS.c.service_date >= since)).all()

    def last_updates(self) -> dict[tuple[str, str], int]:
        with self.db.engine.connect() as conn:
            rows = conn.execute(select(FEEDS.c.operator_id, FEEDS.c.kind,
                                       func.max(FEEDS.c.last_update_at))
                                .group_by(FEEDS.c.operator_id, FEEDS.c.kind)).all()
        return {(op, kind): int(ts) for op, kind, ts in rows}

    # -- reading (the report)
    def _range(self, table: Table, op: str, d0: date, d1: date,
               route: str | None = None) -> ColumnElement[bool]:
        cond = and_(table.c.operator_id == op, table.c.service_date >= d0,
                    table.c.service_date <= d1)
        if route is not None:
            cond = and_(cond, table.c.route_id == route)
        return cond

    def trip_counts(self, op: str, d0: date, d1: date, route: str | None) -> Sequence[Any]:
        """(date, route, status, trips, observed, on_time, early, late) per group."""
        t = TRIPS.c
        q = (select(t.service_date, t.route_id, t.status, func.count(),
                    func.sum(t.observed), func.sum(t.on_time), func.sum(t.early),
                    func.sum(t.late))
             .where(self._range(TRIPS, op, d0, d1, route))
             .group_by(t.service_date, t.route_id, t.status))
        with self.db.engine.connect() as conn:
            return conn.execute(q).all()

    def scheduled(self, op: str, d0: date, d1: date, route: str | None) -> Sequence[Any]:
        c = SCHEDULED.c
        q = select(c.service_date, c.route_id, c.trips).where(
            self._range(SCHEDULED, op, d0, d1, route))
        with self.db.engine.connect() as conn:
            return conn.execute(q).all()

    def feeds(self, op: str, d0: date, d1: date) -> Sequence[Any]:
        with self.db.engine.connect() as conn:
            return conn.execute(select(FEEDS).where(self._range(FEEDS, op, d0, d1))).all()

    def rejections(self, op: str, d0: date, d1: date) -> Sequence[Any]:
        c = REJECTIONS.c
        with self.db.engine.connect() as conn:
            return conn.execute(select(c.service_date, c.kind, c.reason, c.count).where(
                self._range(REJECTIONS, op, d0, d1))).all()

    def demand(self, op: str, d0: date, d1: date, route: str | None) -> Sequence[Any]:
        c = DEMAND.c
        with self.db.engine.connect() as conn:
            return conn.execute(select(c.service_date, c.route_id, c.requests).where(
                self._range(DEMAND, op, d0, d1, "" if route is None else route))).all()

    def demand_by_route(self, op: str, d0: date, d1: date) -> Sequence[Any]:
        c = DEMAND.c
        with self.db.engine.connect() as conn:
            return conn.execute(select(c.service_date, c.route_id, c.requests).where(
                and_(self._range(DEMAND, op, d0, d1), c.route_id != ""))).all()

    def last_update_of(self, op: str) -> dict[str, int]:
        c = FEEDS.c
        with self.db.engine.connect() as conn:
            rows = conn.execute(select(c.kind, func.max(c.last_update_at))
                                .where(c.operator_id == op).group_by(c.kind)).all()
        return {kind: int(ts) for kind, ts in rows}

    def knows_route(self, op: str, route: str) -> bool:
        """Whether any KPI row names this route (a route since removed from the feed)."""
        with self.db.engine.connect() as conn:
            for table in (SCHEDULED, TRIPS):
                q = select(table.c.route_id).where(and_(table.c.operator_id == op,
                                                        table.c.route_id == route)).limit(1)
                if conn.execute(q).first() is not None:
                    return True
        return False
