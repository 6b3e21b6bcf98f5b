"""The durable outbox of webhook messages and the inbox it is filled with.

`record` writes the alert events of one evaluation in one transaction: each alert upserted
into its user's inbox (one row per alert id), and one outbox row per active webhook of the
user. A deliverer `claim`s due rows for a lease (PostgreSQL: FOR UPDATE SKIP LOCKED, so
several deliverers never take the same row; SQLite: one UPDATE statement, which SQLite
serialises), and settles each: delivered, retried later, or given up. A deliverer killed
mid-batch leaves its rows claimed until the lease runs out; then another claims them again
(at-least-once, the same `webhook-id`)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from transit.db.engine import Database
from transit.db.models_alerts import AlertRow, CommuteRow, OutboxRow, WebhookRow
from transit.delivery.alert_events import AlertEvent

log = logging.getLogger("transit.delivery")


@dataclass(frozen=True)
class Message:
    id: int
    webhook_id: str
    message_id: str
    payload: str
    attempts: int
    url: str
    secret: str
    failing_since: datetime | None
    kind: str = "webhook"
    p256dh: str | None = None
    auth: str | None = None


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def record(db: Database, events: Iterable[AlertEvent], now: float) -> int:
    """Inbox + outbox for the events, atomically. Returns the outbox rows written. Events
    of commutes deleted meanwhile are dropped.

    With several processes sharing live data, each evaluates every update and records the
    same events (same alert ids and versions): the inbox keeps the highest version, and the
    outbox's unique (webhook, message id) lets one process's write win; the others' are
    dropped whole (IntegrityError), so a message is queued once."""
    try:
        return _record(db, list(events), now)
    except IntegrityError:
        log.info("alert events already recorded by another process")
        return 0


def _record(db: Database, events: list[AlertEvent], now: float) -> int:
    if not events:
        return 0
    at = _utc(now)
    written = 0
    with db.session() as s:
        live = set(s.scalars(select(CommuteRow.id).where(
            CommuteRow.id.in_({e.commute_id for e in events}))))
        users = {e.user_id for e in events if e.commute_id in live}
        hooks: dict[str, list[str]] = {}
        for h in s.scalars(select(WebhookRow).where(WebhookRow.user_id.in_(users),
                                                    WebhookRow.disabled_at.is_(None))):
            hooks.setdefault(h.user_id, []).append(h.id)
        wanted = {f"msg_{e.id}_v{e.version}" for e in events}
        queued = {(r[0], r[1]) for r in s.execute(select(
            OutboxRow.webhook_id, OutboxRow.message_id).where(
            OutboxRow.message_id.in_(wanted)))}  # recorded before (a restart)
        for e in events:
            if e.commute_id not in live:
                continue
            payload = e.as_dict()
            row = s.get(AlertRow, e.id)
            if row is None:
                s.add(AlertRow(id=e.id, user_id=e.user_id, commute_id=e.commute_id,
                               kind=e.kind, state=e.state, version=e.version, payload=payload,
                               created_at=at, updated_at=at, read_at=None))
            elif row.version < e.version:
                row.state, row.version, row.payload = e.state, e.version, payload
                row.updated_at, row.read_at = at, None  # unread again once it changed
            body = json.dumps({"type": f"alert.{e.state}", "timestamp": at.isoformat(),
                               "data": payload}, separators=(",", ":"))
            message_id = f"msg_{e.id}_v{e.version}"
            for hook in hooks.get(e.user_id, []):
                if (hook, message_id) in queued:
                    continue
                # one message per alert version and webhook: retries keep this id
                s.add(OutboxRow(webhook_id=hook, message_id=message_id,
                                payload=body, attempts=0,
                                created_at=at, next_attempt_at=at))
                written += 1
    return written


def enqueue(db: Database, webhook_id: str, message_id: str, body: str, now: float) -> None:
    """One message to one webhook (tests and benchmarks enqueue directly)."""
    at = _utc(now)
    with db.session() as s:
        s.add(OutboxRow(webhook_id=webhook_id, message_id=message_id, payload=body,
                        attempts=0, created_at=at, next_attempt_at=at))


def claim(db: Database, worker: str, limit: int, lease_s: float, now: float) -> list[Message]:
    at, until = _utc(now), _utc(now + lease_s)
    due = and_(OutboxRow.delivered_at.is_(None), OutboxRow.next_attempt_at <= at,
               or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until < at))
    with db.session() as s:
        pick = select(OutboxRow.id).where(due).order_by(OutboxRow.id).limit(limit)
        if not db.is_sqlite:
            pick = pick.with_for_update(skip_locked=True)
            ids = list(s.scalars(pick))
            if not ids:
                return []
            s.execute(update(OutboxRow).where(OutboxRow.id.in_(ids)).values(
                claimed_by=worker, claimed_until=until))
        else:  # one statement: SQLite runs it alone
            s.execute(update(OutboxRow).where(OutboxRow.id.in_(pick.scalar_subquery()))
                      .values(claimed_by=worker, claimed_until=until)
                      .execution_options(synchronize_session=False))
        rows = s.execute(select(OutboxRow, WebhookRow).join(
            WebhookRow, WebhookRow.id == OutboxRow.webhook_id).where(
            OutboxRow.claimed_by == worker, OutboxRow.claimed_until == until,
            OutboxRow.delivered_at.is_(None)).order_by(OutboxRow.id)).all()
        return [Message(o.id, o.webhook_id, o.message_id, o.payload, o.attempts, w.url,
                        w.secret, w.failing_since, w.kind, w.p256dh, w.auth) for o, w in rows]


def delivered(db: Database, m: Message, now: float, outcome: str) -> None:
    at = _utc(now)
    with db.session() as s:
        s.execute(update(OutboxRow).where(OutboxRow.id == m.id).values(
            delivered_at=at, attempts=m.attempts + 1, outcome=outcome, claimed_until=None))
        s.execute(update(WebhookRow).where(WebhookRow.id == m.webhook_id).values(
            failing_since=None, last_error=None))


def failed(db: Database, m: Message, now: float, error: str, retry_in_s: float | None,
           disable_reason: str | None) -> None:
    """An attempt failed: retry later, or (disable_reason) disable the webhook and settle
    every message still waiting for it."""
    at = _utc(now)
    with db.session() as s:
        if disable_reason is None and retry_in_s is not None:
            s.execute(update(OutboxRow).where(OutboxRow.id == m.id).values(
                attempts=m.attempts + 1, outcome=error[:300], claimed_until=None,
                next_attempt_at=at + timedelta(seconds=retry_in_s)))
            s.execute(update(WebhookRow).where(WebhookRow.id == m.webhook_id,
                                               WebhookRow.failing_since.is_(None))
                      .values(failing_since=at))
            s.execute(update(WebhookRow).where(WebhookRow.id == m.webhook_id)
                      .values(last_error=error[:300]))
            return
        reason = (disable_reason or error)[:300]
        s.execute(update(WebhookRow).where(WebhookRow.id == m.webhook_id).values(
            disabled_at=at, disabled_reason=reason, last_error=error[:300]))
        s.execute(update(OutboxRow).where(OutboxRow.webhook_id == m.webhook_id,
                                          OutboxRow.delivered_at.is_(None)).values(
            delivered_at=at, outcome=f"not sent: {reason}"[:300], claimed_until=None))
        s.execute(update(OutboxRow).where(OutboxRow.id == m.id).values(
            attempts=m.attempts + 1, outcome=f"gave up: {error}"[:300]))


def pending(db: Database) -> int:
    with db.session() as s:
        return len(list(s.scalars(select(OutboxRow.id).where(OutboxRow.delivered_at.is_(None)))))
