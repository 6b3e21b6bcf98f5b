"""Operator KPIs: trip instances seen in live data, scheduled trips, feed, rejection and
request counters per day.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

OP = ("operator_id", sa.String(32))
DAY = ("service_date", sa.Date())


def _key(*extra: tuple[str, sa.types.TypeEngine]) -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column(name, type_, nullable=False) for name, type_ in (OP, DAY, *extra)]


def upgrade() -> None:
    op.create_table(
        "kpi_trips", *_key(("trip_id", sa.String(255))),
        sa.Column("route_id", sa.String(255), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("observed", sa.Integer(), nullable=False),
        sa.Column("on_time", sa.Integer(), nullable=False),
        sa.Column("early", sa.Integer(), nullable=False),
        sa.Column("late", sa.Integer(), nullable=False),
        sa.Column("delays", sa.LargeBinary(), nullable=False),
        sa.Column("feed_timestamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("operator_id", "service_date", "trip_id",
                                name=op.f("pk_kpi_trips")),
    )
    op.create_table(
        "kpi_scheduled", *_key(("route_id", sa.String(255))),
        sa.Column("trips", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("operator_id", "service_date", "route_id",
                                name=op.f("pk_kpi_scheduled")),
    )
    op.create_table(
        "kpi_feeds", *_key(("kind", sa.String(20))),
        *(sa.Column(c, sa.BigInteger(), nullable=False) for c in ("updates", "entities",
                                                                  "applied")),
        sa.Column("gaps", sa.Integer(), nullable=False),
        sa.Column("max_gap_s", sa.Integer(), nullable=False),
        sa.Column("first_update_at", sa.BigInteger(), nullable=False),
        sa.Column("last_update_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("operator_id", "service_date", "kind",
                                name=op.f("pk_kpi_feeds")),
    )
    op.create_table(
        "kpi_rejections", *_key(("kind", sa.String(20)), ("reason", sa.String(64))),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("operator_id", "service_date", "kind", "reason",
                                name=op.f("pk_kpi_rejections")),
    )
    op.create_table(
        "kpi_demand", *_key(("route_id", sa.String(255))),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("operator_id", "service_date", "route_id",
                                name=op.f("pk_kpi_demand")),
    )


def downgrade() -> None:
    for table in ("kpi_demand", "kpi_rejections", "kpi_feeds", "kpi_scheduled", "kpi_trips"):
        op.drop_table(table)
