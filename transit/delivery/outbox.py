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
from typing import Any

from sqlalchemy import Select, and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from transit.db.engine import Database
from transit.db.models_alerts import AlertRow, CommuteRow, OutboxRow, WebhookRow
from transit.delivery.alert_events import AlertEvent

log = logging.getLogger("transit.delivery")
IN_CHUNK = 900  # values of one IN list (SQLite builds before 3.32 allow 999 variables)


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
    """A batch in a handful of statements whatever its size: the lookups (commutes, webhooks,
    inbox versions, queued messages) with IN lists, then one bulk insert of new inbox rows,
    one bulk update of changed ones and one bulk insert of outbox rows."""
    if not events:
        return 0
    at = _utc(now)
    with db.session() as s:
        live = set(_in(s, select(CommuteRow.id), CommuteRow.id, {e.commute_id for e in events}))
        events = [e for e in events if e.commute_id in live]
        if not events:
            return 0
        hooks: dict[str, list[str]] = {}
        for h_id, user in _in_rows(s, select(WebhookRow.id, WebhookRow.user_id).where(
                WebhookRow.disabled_at.is_(None)), WebhookRow.user_id,
                {e.user_id for e in events}):
            hooks.setdefault(user, []).append(h_id)
        latest: dict[str, AlertEvent] = {}  # the highest version of each alert
        for e in events:
            if e.id not in latest or latest[e.id].version < e.version:
                latest[e.id] = e
        versions = dict(_in_rows(s, select(AlertRow.id, AlertRow.version), AlertRow.id,
                                 set(latest)))
        payloads = {id(e): e.as_dict() for e in events}
        _write_inbox(s, latest, versions, payloads, at)
        queued = set(_in_rows(s, select(OutboxRow.webhook_id, OutboxRow.message_id),
                              OutboxRow.message_id,
                              {f"msg_{e.id}_v{e.version}" for e in events}))
        rows = []
        for e in events:
            message_id = f"msg_{e.id}_v{e.version}"  # every attempt of a message keeps it
            body: str | None = None
            for hook in hooks.get(e.user_id, []):
                if (hook, message_id) in queued:
                    continue
                queued.add((hook, message_id))  # the same event twice in a batch: once
                if body is None:
                    body = json.dumps({"type": f"alert.{e.state}",
                                       "timestamp": at.isoformat(),
                                       "data": payloads[id(e)]}, separators=(",", ":"))
                rows.append({"webhook_id": hook, "message_id": message_id, "payload": body,
                             "attempts": 0, "created_at": at, "next_attempt_at": at})
        if rows:
            s.execute(insert(OutboxRow), rows)
    return len(rows)


def _write_inbox(s: Session, latest: dict[str, AlertEvent], versions: dict[str, int],
                 payloads: dict[int, dict], at: datetime) -> None:
    """Insert the alerts not in the inbox; update those recorded at a lower version (unread
    again once changed)."""
    new = [{"id": e.id, "user_id": e.user_id, "commute_id": e.commute_id, "kind": e.kind,
            "state": e.state, "version": e.version, "payload": payloads[id(e)],
            "created_at": at, "updated_at": at, "read_at": None}
           for e in latest.values() if e.id not in versions]
    changed = [{"id": e.id, "state": e.state, "version": e.version,
                "payload": payloads[id(e)], "updated_at": at, "read_at": None}
               for e in latest.values() if e.id in versions and versions[e.id] < e.version]
    if new:
        s.execute(insert(AlertRow), new)
    if changed:
        s.execute(update(AlertRow), changed)  # by primary key: one executemany


def _in_rows(s: Session, query: Select, column: Any, values: set[str]) -> list[tuple]:
    """Rows of `query` where `column` is one of `values`, in chunks of IN_CHUNK values."""
    ordered = sorted(values)
    out: list[tuple] = []
    for k in range(0, len(ordered), IN_CHUNK):
        out.extend(tuple(r) for r in s.execute(
            query.where(column.in_(ordered[k:k + IN_CHUNK]))))
    return out


def _in(s: Session, query: Select, column: Any, values: set[str]) -> list[Any]:
    return [r[0] for r in _in_rows(s, query, column, values)]


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
