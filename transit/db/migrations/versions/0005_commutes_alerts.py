"""Saved commutes, the alert inbox, webhooks and the delivery outbox.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

TS = sa.DateTime(timezone=True)


def _fk(table: str, col: str, ref: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([col], [f"{ref}.id"], ondelete="CASCADE",
                                   name=op.f(f"fk_{table}_{col}_{ref}"))


def upgrade() -> None:
    op.create_table(
        "commutes",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("user_id", sa.String(40), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        _fk("commutes", "user_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commutes")),
    )
    op.create_index("ix_commutes_user_id_created_at", "commutes", ["user_id", "created_at"])
    op.create_table(
        "commute_alerts",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("user_id", sa.String(40), nullable=False),
        sa.Column("commute_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("read_at", TS, nullable=True),
        _fk("commute_alerts", "user_id", "users"),
        _fk("commute_alerts", "commute_id", "commutes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commute_alerts")),
    )
    op.create_index("ix_commute_alerts_user_id_updated_at", "commute_alerts",
                    ["user_id", "updated_at"])
    op.create_table(
        "webhooks",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("user_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("p256dh", sa.String(200), nullable=True),
        sa.Column("auth", sa.String(100), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("failing_since", TS, nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.Column("disabled_at", TS, nullable=True),
        sa.Column("disabled_reason", sa.String(300), nullable=True),
        _fk("webhooks", "user_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    op.create_index(op.f("ix_webhooks_user_id"), "webhooks", ["user_id"])
    op.create_table(
        "alert_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=True, nullable=False),
        sa.Column("webhook_id", sa.String(40), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("claimed_by", sa.String(40), nullable=True),
        sa.Column("claimed_until", TS, nullable=True),
        sa.Column("delivered_at", TS, nullable=True),
        sa.Column("outcome", sa.String(300), nullable=True),
        _fk("alert_outbox", "webhook_id", "webhooks"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_outbox")),
        sa.UniqueConstraint("webhook_id", "message_id",
                            name="uq_alert_outbox_webhook_id_message_id"),
    )
    op.create_index(op.f("ix_alert_outbox_webhook_id"), "alert_outbox", ["webhook_id"])
    op.create_index("ix_alert_outbox_due", "alert_outbox", ["delivered_at", "next_attempt_at"])


def downgrade() -> None:
    for table in ("alert_outbox", "webhooks", "commute_alerts", "commutes"):
        op.drop_table(table)
