"""Reading and settling what delivery keeps per user: the inbox of alerts (paged by the
last change, read/unread) and the webhooks (the secret is shown once, at creation)."""

from __future__ import annotations

import base64
import binascii
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update

from transit.db.engine import Database
from transit.db.models_alerts import AlertRow, WebhookRow
from transit.delivery.signing import new_secret
from transit.delivery.urls import check_url


class TooMany(Exception):
    pass


class KeyRefused(ValueError):
    pass


def alerts_page(db: Database, user_id: str, limit: int, unread: bool | None,
                after: tuple[datetime, str] | None) -> tuple[list[AlertRow], int]:
    """Newest change first; `after` (updated_at, id) of the last row of the previous page.
    Returns the rows and the user's unread count."""
    with db.session() as s:
        q = select(AlertRow).where(AlertRow.user_id == user_id)
        if unread is True:
            q = q.where(AlertRow.read_at.is_(None))
        elif unread is False:
            q = q.where(AlertRow.read_at.is_not(None))
        if after is not None:
            t, i = after
            q = q.where(or_(AlertRow.updated_at < t,
                            and_(AlertRow.updated_at == t, AlertRow.id < i)))
        rows = list(s.scalars(q.order_by(AlertRow.updated_at.desc(), AlertRow.id.desc())
                              .limit(limit)))
        n = s.scalar(select(func.count()).select_from(AlertRow).where(
            AlertRow.user_id == user_id, AlertRow.read_at.is_(None))) or 0
        return rows, n


def mark_read(db: Database, user_id: str, alert_id: str, now: datetime) -> bool:
    with db.session() as s:
        row = s.get(AlertRow, alert_id)
        if row is None or row.user_id != user_id:
            return False
        if row.read_at is None:
            row.read_at = now
        return True


def mark_all_read(db: Database, user_id: str, now: datetime) -> int:
    with db.session() as s:
        return s.execute(update(AlertRow).where(AlertRow.user_id == user_id,
                                                AlertRow.read_at.is_(None))
                         .values(read_at=now)).rowcount or 0


def add_webhook(db: Database, user_id: str, url: str, allow_private: bool, now: datetime,
                limit: int) -> WebhookRow:
    check_url(url, allow_private)  # UrlRefused
    with db.session() as s:
        n = s.scalar(select(func.count()).select_from(WebhookRow).where(
            WebhookRow.user_id == user_id)) or 0
        if n >= limit:
            raise TooMany(f"at most {limit} webhooks per user; delete one first")
        row = WebhookRow(id="wh_" + secrets.token_urlsafe(12), user_id=user_id,
                         kind="webhook", url=url, secret=new_secret(), p256dh=None,
                         auth=None, created_at=now, failing_since=None,
                         last_error=None, disabled_at=None, disabled_reason=None)
        s.add(row)
        return row


def add_push_subscription(db: Database, user_id: str, endpoint: str, p256dh: str,
                          auth: str, allow_private: bool, now: datetime, limit: int
                          ) -> WebhookRow:
    """A browser's Web Push subscription (PushSubscription.toJSON()); keys checked."""
    check_url(endpoint, allow_private)  # UrlRefused
    try:
        key = base64.urlsafe_b64decode(p256dh + "=" * (-len(p256dh) % 4))
        secret = base64.urlsafe_b64decode(auth + "=" * (-len(auth) % 4))
    except (binascii.Error, ValueError):
        raise KeyRefused("keys: p256dh and auth must be base64url") from None
    if len(key) != 65 or key[0] != 4:
        raise KeyRefused("keys.p256dh: an uncompressed P-256 point (65 bytes) is expected")
    if len(secret) != 16:
        raise KeyRefused("keys.auth: 16 bytes are expected")
    with db.session() as s:
        n = s.scalar(select(func.count()).select_from(WebhookRow).where(
            WebhookRow.user_id == user_id)) or 0
        if n >= limit:
            raise TooMany(f"at most {limit} webhooks and push subscriptions per user")
        row = WebhookRow(id="wp_" + secrets.token_urlsafe(12), user_id=user_id,
                         kind="webpush", url=endpoint, secret="", p256dh=p256dh, auth=auth,
                         created_at=now, failing_since=None, last_error=None,
                         disabled_at=None, disabled_reason=None)
        s.add(row)
        return row


def webhooks_of(db: Database, user_id: str, kind: str = "webhook") -> list[WebhookRow]:
    with db.session() as s:
        return list(s.scalars(select(WebhookRow).where(WebhookRow.user_id == user_id,
                                                       WebhookRow.kind == kind)
                              .order_by(WebhookRow.created_at, WebhookRow.id)))


def delete_webhook(db: Database, user_id: str, hook_id: str, kind: str = "webhook") -> bool:
    with db.session() as s:
        row = s.get(WebhookRow, hook_id)
        if row is None or row.user_id != user_id or row.kind != kind:
            return False
        s.delete(row)
        return True


def webhook_dict(row: WebhookRow) -> dict[str, Any]:
    def iso(t: datetime | None) -> str | None:
        return None if t is None else t.isoformat()

    return {"id": row.id, "url": row.url, "created_at": iso(row.created_at),
            "active": row.disabled_at is None, "disabled_at": iso(row.disabled_at),
            "disabled_reason": row.disabled_reason, "failing_since": iso(row.failing_since),
            "last_error": row.last_error}


def cursor_of(db: Database, user_id: str, alert_id: str | None) -> tuple[datetime, str]:
    """Where a stream starts. With Last-Event-ID naming one of the user's alerts: at the
    instant that alert was raised, so every alert changed since (that one included, if it
    was updated after the client saw it) is sent again: at-least-once, clients keep the
    highest version of each id. Else after the user's latest alert (only what comes next)."""
    with db.session() as s:
        if alert_id:
            row = s.get(AlertRow, alert_id)
            if row is not None and row.user_id == user_id:
                return row.created_at, ""
        last = s.execute(select(AlertRow.updated_at, AlertRow.id).where(
            AlertRow.user_id == user_id).order_by(AlertRow.updated_at.desc(),
                                                  AlertRow.id.desc()).limit(1)).first()
        if last is None:
            return datetime.min.replace(tzinfo=UTC), ""
        return last[0], last[1]


def alerts_after(db: Database, user_id: str, cursor: tuple[datetime, str], limit: int
                 ) -> list[AlertRow]:
    t, i = cursor
    with db.session() as s:
        return list(s.scalars(select(AlertRow).where(
            AlertRow.user_id == user_id,
            or_(AlertRow.updated_at > t, and_(AlertRow.updated_at == t, AlertRow.id > i)))
            .order_by(AlertRow.updated_at, AlertRow.id).limit(limit)))
