"""A commuter's personal data: export all of it, erase all of it.

Both walk every table that has a `user_id` referring to users, so that tables added later
(saved commutes, alerts, webhooks) are exported and erased without changes here. Secrets
and hashes (password, tokens, webhook secrets) are never exported. The only location data
kept is what the user saved as a place: queries (journeys, departures near a point) are
never stored. Tables marked with a retention (`info["retention"]`: orders and tickets,
records the operators must keep) are exported; on erasure they are detached from the
account (user_id set to NULL by the foreign key) and kept, and the answer says so."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, delete, func, select
from sqlalchemy.orm import Session

from transit.accounts.users import SignInLimits, User
from transit.db.engine import Database
from transit.db.models import Base
from transit.db.models_users import SignInFailureRow, UserRow

HIDDEN = ("hash", "secret")  # column names holding these are never exported


def _user_tables() -> list[Table]:
    """Tables with a user_id foreign key to users, in a stable order."""
    out = []
    for table in Base.metadata.sorted_tables:
        col = table.columns.get("user_id")
        if col is not None and any(fk.column.table.name == "users" for fk in col.foreign_keys):
            out.append(table)
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def export(db: Database, user: User) -> dict[str, Any]:
    """Everything stored about `user`, as JSON-ready data."""
    with db.session() as s:
        row = s.get(UserRow, user.id)
        if row is None:
            return {}
        data: dict[str, Any] = {
            "account": {"id": row.id, "account": row.kind, "email": row.email,
                        "created_at": _jsonable(row.created_at),
                        "registered_at": _jsonable(row.registered_at),
                        "has_password": row.password_hash is not None},
            "profile": dict(row.profile or {}),
        }
        for table in _user_tables():
            cols = [c for c in table.columns if not any(h in c.name for h in HIDDEN)]
            rows = s.execute(select(*cols).where(table.c.user_id == user.id)
                             .order_by(*table.primary_key.columns)).mappings()
            data[str(table.name)] = [{str(k): _jsonable(v) for k, v in r.items()}
                                     for r in rows]
        if row.email:
            data["sign_in_failures"] = [_jsonable(at) for at in s.scalars(
                select(SignInFailureRow.at).where(
                    SignInFailureRow.subject == f"email:{row.email}")
                .order_by(SignInFailureRow.at))]
    return data


def _kept(s: Session, table: Table, user_id: str, count: int) -> dict[str, str]:
    """What remains of a table the operators must keep (orders, tickets): detached from
    the account (user_id set to NULL), until its retain_until."""
    until = s.scalar(select(func.max(table.c.retain_until)).where(table.c.user_id == user_id))
    return {"what": f"{count} {table.name} (detached from the account: no name, email or "
                    "account id)",
            "why": str(table.info["retention"]),
            "retention": f"until {_jsonable(until)[:10] if until else 'the end of the sale'}"
                         " (the latest)"}


def erase(db: Database, user: User, limits: SignInLimits) -> dict[str, Any]:
    """Delete the account and everything it owns (one transaction); say what was erased
    and what remains, and why."""
    erased: dict[str, int] = {}
    with db.session() as s:
        row = s.get(UserRow, user.id)
        if row is None:
            return {"erased": {}, "remains": []}
        kept = []
        for table in _user_tables():
            count = int(s.scalar(select(func.count()).select_from(table).where(
                table.c.user_id == user.id)) or 0)
            if "retention" not in table.info:
                erased[str(table.name)] = count
            elif count:
                kept.append(_kept(s, table, user.id, count))
        if row.email:
            erased["sign_in_failures"] = int(s.execute(delete(SignInFailureRow).where(
                SignInFailureRow.subject == f"email:{row.email}")).rowcount)  # type: ignore[attr-defined]
        s.delete(row)  # ON DELETE CASCADE takes everything above with it
        erased["account"] = 1
    window = int(limits.window.total_seconds())
    remains = [{
        "what": "failed sign-in records of the client IP addresses used",
        "why": "protection against password guessing; they name an IP address, not the "
               "account",
        "retention": f"{window} seconds",
    }, *kept]
    return {"erased": erased, "remains": remains}
