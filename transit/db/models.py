"""Tables of the service. Alembic migrations in `transit/db/migrations` create them; a test
checks that the migrated schema and these models agree."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Instants in UTC on every backend: SQLite keeps no offset, so values are stored as
    naive UTC and come back aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: give instants with a UTC offset")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect
                             ) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: dict[Any, Any] = {datetime: UTCDateTime()}  # noqa: RUF012


class OperatorRow(Base):
    """An operator that may publish: its id prefixes every id of its feed."""

    __tablename__ = "operators"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16))  # catalog, cli, api
    created_at: Mapped[datetime]


class ApiKeyRow(Base):
    """A key, stored only as the SHA-256 of the whole key; `prefix` finds it. No operator
    means an admin key."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    operator_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("operators.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(40), default="")
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    replaced_by: Mapped[str | None] = mapped_column(String(40))


class AuditRow(Base):
    """Who did what, when, to which operator: every publishing and key action."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_operator_id_id", "operator_id", "id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    operator_id: Mapped[str | None] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(40))  # key prefix, or "cli"
    actor_role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class FeedVersionRow(Base):
    """One upload of an operator's feed and what became of it (see transit.publishing).

    status: validating -> rejected | staged -> published -> superseded. `part` names the
    compiled part in the store (kept for rollback); `upload_path` the scratch copy of the
    upload until it is compiled.
    """

    __tablename__ = "feed_versions"
    __table_args__ = (Index("ix_feed_versions_operator_id_uploaded_at", "operator_id",
                            "uploaded_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    operator_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("operators.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    source_url: Mapped[str | None] = mapped_column(String(2000))
    etag: Mapped[str | None] = mapped_column(String(200))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    uploaded_by: Mapped[str] = mapped_column(String(40))
    uploaded_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    progress: Mapped[str] = mapped_column(String(32))
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    diff: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    blocking: Mapped[int] = mapped_column(Integer, default=0)
    part: Mapped[str | None] = mapped_column(String(64))
    upload_path: Mapped[str | None] = mapped_column(String(1000))
    published_at: Mapped[datetime | None]
    published_by: Mapped[str | None] = mapped_column(String(40))
    merged_version: Mapped[str | None] = mapped_column(String(64))


class JobRow(Base):
    """A durable background job. A runner claims it with a lease it keeps renewing; a job
    whose runner died (lease expired) is claimed again. Jobs with the same `key` run one at
    a time, oldest first."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_id", "status", "id"),
                      Index("ix_jobs_key_id", "key", "id"))

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16))  # queued, running, done, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    locked_by: Mapped[str | None] = mapped_column(String(64))
    finished_at: Mapped[datetime | None]
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(String(2000))
# The KPI and commuters' tables live in their own modules; imported here so that
# Base.metadata is whole.
from transit.db import (  # noqa: E402,F401
    models_alerts,
    models_kpis,
    models_tickets,
    models_users,
)
