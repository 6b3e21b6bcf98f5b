"""Saved commutes in the database: create, read, change, delete, each scoped to its user
(another user's id reads as unknown), with a limit per user. No web imports: errors are
RuleError (the field that is wrong) and LimitReached."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from transit.commuters.planning import place_stops
from transit.commuters.rules import Commute, RuleError, commute_dict, parse_commute
from transit.db.engine import Database
from transit.db.models_alerts import CommuteRow
from transit.timetable.timetable import Timetable

MAX_COMMUTES = 50


class LimitReached(Exception):
    pass


def of_row(row: CommuteRow) -> Commute:
    return parse_commute(row.data, row.id, row.user_id)


def check_places(tt: Timetable | None, c: Commute) -> None:
    if tt is None:
        return
    place_stops(tt, c.origin, "from")
    place_stops(tt, c.destination, "to")
    if c.origin == c.destination:
        raise RuleError("to", "from and to are the same place")


def create(db: Database, tt: Timetable | None, user_id: str, data: dict[str, Any],
           now: datetime, limit: int = MAX_COMMUTES) -> tuple[Commute, datetime]:
    cid = "cm_" + secrets.token_urlsafe(12)
    now = now.astimezone(UTC)  # as the database gives it back
    c = parse_commute(data, cid, user_id)
    check_places(tt, c)
    with db.session() as s:
        n = s.scalar(select(func.count()).select_from(CommuteRow).where(
            CommuteRow.user_id == user_id)) or 0
        if n >= limit:
            raise LimitReached(f"at most {limit} saved commutes per user; delete one first")
        s.add(CommuteRow(id=cid, user_id=user_id, data=commute_dict(c), created_at=now,
                         updated_at=now))
    return c, now


def get(db: Database, user_id: str, cid: str) -> tuple[Commute, datetime] | None:
    with db.session() as s:
        row = s.get(CommuteRow, cid)
        if row is None or row.user_id != user_id:
            return None
        return of_row(row), row.created_at


def list_for(db: Database, user_id: str) -> list[tuple[Commute, datetime]]:
    with db.session() as s:
        rows = s.scalars(select(CommuteRow).where(CommuteRow.user_id == user_id)
                         .order_by(CommuteRow.created_at, CommuteRow.id))
        return [(of_row(r), r.created_at) for r in rows]


def all_commutes(db: Database) -> list[Commute]:
    with db.session() as s:
        return [of_row(r) for r in s.scalars(select(CommuteRow))]


def change(db: Database, tt: Timetable | None, user_id: str, cid: str,
           patch: dict[str, Any], now: datetime) -> tuple[Commute, datetime] | None:
    """Merge `patch` into the commute (a window given replaces the other kind)."""
    with db.session() as s:
        row = s.get(CommuteRow, cid)
        if row is None or row.user_id != user_id:
            return None
        data = dict(row.data)
        if "depart_between" in patch or "arrive_between" in patch:
            data.pop("depart_between", None)
            data.pop("arrive_between", None)
        data.update(patch)
        c = parse_commute(data, cid, user_id)
        check_places(tt, c)
        row.data = commute_dict(c)
        row.updated_at = now
        return c, row.created_at


def delete(db: Database, user_id: str, cid: str) -> bool:
    with db.session() as s:
        row = s.get(CommuteRow, cid)
        if row is None or row.user_id != user_id:
            return False
        s.delete(row)
        return True
