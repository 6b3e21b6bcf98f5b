"""Tables of saved commutes and their alerts: the commutes (their JSON form), the inbox of
alerts (one row per alert id, updated in place), webhooks, and the delivery outbox.

The outbox is the durable half of delivery: an alert is written to the inbox and to one
outbox row per active webhook in the same transaction, and a row leaves the outbox only
once the receiver answered 2xx (or gave up for good). A crashed deliverer's claimed rows are
claimed again when their lease runs out, with the same message id (at-least-once)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from transit.db.models import Base


def _user_fk() -> Any:
    return ForeignKey("users.id", ondelete="CASCADE")


class CommuteRow(Base):
    __tablename__ = "commutes"
    __table_args__ = (Index("ix_commutes_user_id_created_at", "user_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(40), _user_fk())
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AlertRow(Base):
    """An alert in a user's inbox; `version` and `state` follow its updates."""

    __tablename__ = "commute_alerts"
    __table_args__ = (Index("ix_commute_alerts_user_id_updated_at", "user_id", "updated_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(40), _user_fk())
    commute_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("commutes.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    read_at: Mapped[datetime | None]


class WebhookRow(Base):
    """A place alerts are pushed to: a webhook (`kind` webhook: `url`, signing `secret`) or
    a browser's Web Push subscription (`kind` webpush: `url` is the push service endpoint,
    `p256dh` and `auth` the browser's keys)."""

    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(40), _user_fk(), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="webhook")
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(100))
    p256dh: Mapped[str | None] = mapped_column(String(200))
    auth: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]
    failing_since: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(String(300))


class OutboxRow(Base):
    """One message to one webhook. `message_id` is the `webhook-id` of every attempt."""

    __tablename__ = "alert_outbox"
    __table_args__ = (Index("ix_alert_outbox_due", "delivered_at", "next_attempt_at"),
                      UniqueConstraint("webhook_id", "message_id",
                                       name="uq_alert_outbox_webhook_id_message_id"))

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True)
    webhook_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("webhooks.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(40))
    claimed_until: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(300))
