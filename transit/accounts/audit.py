"""The audit log: who (key prefix and role), what, when, to which operator, with details.
Written in the same transaction as the action it records, so neither exists without the
other."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from transit.accounts.scope import Principal
from transit.db.models import AuditRow

MAX_PAGE = 200


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    operator_id: str | None
    actor: str
    actor_role: str
    action: str
    target: str | None
    details: dict[str, Any]


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    next_before: int | None  # pass as `before` for the next (older) page; None: no more


def record(session: Session, actor: Principal, operator_id: str | None, action: str,
           target: str | None = None, details: dict[str, Any] | None = None,
           now: datetime | None = None) -> None:
    session.add(AuditRow(at=now or datetime.now(UTC), operator_id=operator_id,
                         actor=actor.prefix, actor_role=actor.role.value, action=action,
                         target=target, details=details or {}))


def _entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(id=row.id, at=row.at, operator_id=row.operator_id, actor=row.actor,
                      actor_role=row.actor_role, action=row.action, target=row.target,
                      details=dict(row.details))


def page(session: Session, operator_id: str, limit: int = 50,
         before: int | None = None) -> AuditPage:
    """Newest first; `before` continues after the last entry of the previous page (ids only
    grow, so pages stay stable while new entries arrive)."""
    limit = max(1, min(limit, MAX_PAGE))
    query = select(AuditRow).where(AuditRow.operator_id == operator_id)
    if before is not None:
        query = query.where(AuditRow.id < before)
    rows = session.scalars(query.order_by(AuditRow.id.desc()).limit(limit + 1)).all()
    entries = [_entry(r) for r in rows[:limit]]
    more = len(rows) > limit
    return AuditPage(entries=entries, next_before=entries[-1].id if more else None)
