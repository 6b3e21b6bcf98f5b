"""Operators and keys: create, list, rotate, revoke, authenticate. Every change is written to
the audit log in the same transaction. Functions take the Database and open one transaction
each, so the command line and the API call them alike."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from transit.accounts import audit, keys
from transit.accounts.roles import OPERATOR_ROLES, Role
from transit.accounts.scope import Principal
from transit.db.engine import Database
from transit.db.models import ApiKeyRow, OperatorRow

OPERATOR_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
KEY_ID = re.compile(r"^key_[A-Za-z0-9_-]{1,36}$")
# A key's last use is written at most this often: authentication stays one indexed read.
LAST_USED_EVERY = timedelta(minutes=1)


class AccountsError(Exception):
    """Base of the errors below; the message says what was wrong."""


class NotFound(AccountsError):
    pass


class Conflict(AccountsError):
    pass


class Invalid(AccountsError):
    pass


@dataclass(frozen=True)
class OperatorInfo:
    id: str
    name: str
    source: str
    created_at: datetime


@dataclass(frozen=True)
class KeyInfo:
    id: str
    prefix: str
    role: str
    operator_id: str | None
    label: str
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    replaced_by: str | None

    def status(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None:
            return "expiring" if self.expires_at > now else "expired"
        return "active"


@dataclass(frozen=True)
class IssuedKey:
    """A new key: `token` is shown once and never again."""

    info: KeyInfo
    token: str


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _operator_info(row: OperatorRow) -> OperatorInfo:
    return OperatorInfo(id=row.id, name=row.name, source=row.source,
                        created_at=row.created_at)


def _key_info(row: ApiKeyRow) -> KeyInfo:
    return KeyInfo(id=row.id, prefix=row.prefix, role=row.role, operator_id=row.operator_id,
                   label=row.label, created_at=row.created_at, created_by=row.created_by,
                   last_used_at=row.last_used_at, expires_at=row.expires_at,
                   revoked_at=row.revoked_at, replaced_by=row.replaced_by)


# --- operators ---------------------------------------------------------------------------

def check_operator(op_id: str, name: str) -> None:
    if not OPERATOR_ID.match(op_id):
        raise Invalid(f"operator id {op_id[:40]!r} must be 1-32 letters, digits, '_' or '-'")
    if not name.strip() or len(name) > 200 or any(ord(c) < 32 for c in name):
        raise Invalid("operator name must be 1-200 printable characters")


def create_operator(db: Database, op_id: str, name: str, actor: Principal,
                    source: str = "api", now: datetime | None = None) -> OperatorInfo:
    check_operator(op_id, name)
    at = _now(now)
    try:
        with db.session() as s:
            if s.get(OperatorRow, op_id) is not None:
                raise Conflict(f"operator {op_id!r} exists already")
            row = OperatorRow(id=op_id, name=name.strip(), source=source, created_at=at)
            s.add(row)
            s.flush()
            audit.record(s, actor, op_id, "operator.create", op_id, {"name": row.name}, at)
    except IntegrityError:  # created by another process between the check and the insert
        raise Conflict(f"operator {op_id!r} exists already") from None
    return _operator_info(row)


def get_operator(db: Database, op_id: str) -> OperatorInfo | None:
    if not OPERATOR_ID.match(op_id):  # never a query with text PostgreSQL refuses (NUL)
        return None
    with db.session() as s:
        row = s.get(OperatorRow, op_id)
        return _operator_info(row) if row is not None else None


def list_operators(db: Database) -> list[OperatorInfo]:
    with db.session() as s:
        return [_operator_info(r) for r in s.scalars(select(OperatorRow).order_by(
            OperatorRow.id))]


def record_operators(db: Database, operators: Iterable[tuple[str, str]], source: str,
                     only_if_empty: bool = False) -> list[str]:
    """Insert the (id, name) operators the database does not know yet; never renames one
    it knows (from then on the database is the source of truth). With `only_if_empty`,
    only a database without operators takes them (a catalog on first start)."""
    wanted = {op_id: name for op_id, name in operators if OPERATOR_ID.match(op_id)}
    try:
        with db.session() as s:
            if only_if_empty and s.scalar(select(func.count()).select_from(OperatorRow)):
                return []
            known = set(s.scalars(select(OperatorRow.id).where(OperatorRow.id.in_(wanted))))
            added = sorted(set(wanted) - known)
            at = _now(None)
            s.add_all(OperatorRow(id=i, name=wanted[i][:200] or i, source=source,
                                  created_at=at) for i in added)
            system = Principal(role=Role.ADMIN, operator_id=None, prefix=source)
            for i in added:
                audit.record(s, system, i, "operator.import", i, {"name": wanted[i][:200]}, at)
    except IntegrityError:  # another worker recorded them at the same moment
        return []
    return added


# --- keys --------------------------------------------------------------------------------

def _check_role(operator_id: str | None, role: str) -> Role:
    try:
        parsed = Role(role)
    except ValueError:
        raise Invalid(f"unknown role {role[:40]!r}; roles: "
                      f"{', '.join(r.value for r in Role)}") from None
    if operator_id is None and parsed is not Role.ADMIN:
        raise Invalid(f"a {parsed.value} key belongs to an operator: give the operator")
    if operator_id is not None and parsed not in OPERATOR_ROLES:
        raise Invalid("an admin key belongs to no operator; operator roles: "
                      f"{', '.join(r.value for r in OPERATOR_ROLES)}")
    return parsed


def _insert_key(s: Session, operator_id: str | None, role: Role, label: str,
                actor: Principal, at: datetime) -> tuple[ApiKeyRow, str]:
    new = keys.generate()
    row = ApiKeyRow(id=keys.new_key_id(), prefix=new.prefix, secret_hash=new.secret_hash,
                    role=role.value, operator_id=operator_id, label=label, created_at=at,
                    created_by=actor.prefix)
    s.add(row)
    s.flush()
    return row, new.token


def create_key(db: Database, operator_id: str | None, role: str, actor: Principal,
               label: str = "", now: datetime | None = None) -> IssuedKey:
    """A new key of `role` for the operator (None and role admin: an admin key)."""
    parsed = _check_role(operator_id, role)
    if len(label) > 100 or any(ord(c) < 32 for c in label):
        raise Invalid("label must be at most 100 printable characters")
    at = _now(now)
    if operator_id is not None and get_operator(db, operator_id) is None:
        raise NotFound(f"unknown operator {operator_id[:40]!r}")
    with db.session() as s:
        if operator_id is not None and s.get(OperatorRow, operator_id) is None:
            raise NotFound(f"unknown operator {operator_id[:40]!r}")
        row, token = _insert_key(s, operator_id, parsed, label, actor, at)
        audit.record(s, actor, operator_id, "key.create", row.prefix,
                     {"key_id": row.id, "role": row.role, "label": label}, at)
        return IssuedKey(_key_info(row), token)


def list_keys(db: Database, operator_id: str | None) -> list[KeyInfo]:
    """Every key of the operator (None: the admin keys), newest first, revoked and expired
    ones included."""
    if operator_id is not None and not OPERATOR_ID.match(operator_id):
        return []
    owner = (ApiKeyRow.operator_id.is_(None) if operator_id is None
             else ApiKeyRow.operator_id == operator_id)
    with db.session() as s:
        rows = s.scalars(select(ApiKeyRow).where(owner)
                         .order_by(ApiKeyRow.created_at.desc(), ApiKeyRow.id))
        return [_key_info(r) for r in rows]


def _owned_key(s: Session, operator_id: str | None, key_id: str) -> ApiKeyRow:
    """The key only when it belongs to this operator (None: an admin key): another
    operator's key id is as unknown as one that never existed."""
    owner = (ApiKeyRow.operator_id.is_(None) if operator_id is None
             else ApiKeyRow.operator_id == operator_id)
    row = None
    if KEY_ID.match(key_id):  # never a query with text PostgreSQL refuses (NUL)
        row = s.scalar(select(ApiKeyRow).where(ApiKeyRow.id == key_id, owner))
    if row is None:
        whose = f"operator {operator_id!r}" if operator_id else "the service"
        raise NotFound(f"{whose} has no key {key_id[:60]!r}")
    return row


def _usable(row: ApiKeyRow, at: datetime) -> bool:
    return row.revoked_at is None and (row.expires_at is None or row.expires_at > at)


def _update_unless_changed(s: Session, key_id: str, rotating: bool, **values: object
                          ) -> bool:
    """Update the key only if nobody revoked (or, `rotating`, rotated) it meanwhile: of two
    requests at once one wins and the other gets a conflict."""
    unchanged = [ApiKeyRow.id == key_id, ApiKeyRow.revoked_at.is_(None)]
    if rotating:
        unchanged.append(ApiKeyRow.replaced_by.is_(None))
    result = s.execute(update(ApiKeyRow).where(*unchanged).values(**values)
                       .execution_options(synchronize_session=False))
    return result.rowcount == 1  # type: ignore[attr-defined]


def revoke_key(db: Database, operator_id: str | None, key_id: str, actor: Principal,
               now: datetime | None = None) -> KeyInfo:
    """Revoke at once (a rotated key still in its grace period too)."""
    at = _now(now)
    with db.session() as s:
        row = _owned_key(s, operator_id, key_id)
        if not _update_unless_changed(s, key_id, False, revoked_at=at):
            raise Conflict(f"key {key_id!r} was revoked already")
        audit.record(s, actor, operator_id, "key.revoke", row.prefix,
                     {"key_id": row.id, "role": row.role}, at)
        return replace(_key_info(row), revoked_at=at)


def rotate_key(db: Database, operator_id: str, key_id: str, actor: Principal,
               grace: timedelta, now: datetime | None = None) -> IssuedKey:
    """A new key of the same role and label; the old one keeps working for `grace` (so the
    systems using it can switch), then stops."""
    at = _now(now)
    conflict = Conflict(f"key {key_id!r} is revoked, expired or rotated already")
    with db.session() as s:
        row = _owned_key(s, operator_id, key_id)
        if not _usable(row, at) or row.replaced_by is not None:
            raise conflict
        new_row, token = _insert_key(s, operator_id, Role(row.role), row.label, actor, at)
        expires = at + grace
        if not _update_unless_changed(s, key_id, True, expires_at=expires,
                                      replaced_by=new_row.id):
            raise conflict  # rotated or revoked meanwhile: the new key is rolled back
        audit.record(s, actor, operator_id, "key.rotate", row.prefix,
                     {"key_id": row.id, "new_key_id": new_row.id, "new_prefix": new_row.prefix,
                      "role": row.role, "old_key_expires_at": expires.isoformat()}, at)
        return IssuedKey(_key_info(new_row), token)


def authenticate(db: Database, token: str, now: datetime | None = None) -> Principal | None:
    """The principal a key stands for; None when the key is malformed, unknown, revoked or
    expired."""
    prefix = keys.prefix_of(token)
    if prefix is None:
        return None
    at = _now(now)
    with db.session() as s:
        row = s.scalar(select(ApiKeyRow).where(ApiKeyRow.prefix == prefix))
        if row is None or not keys.matches(token, row.secret_hash) or not _usable(row, at):
            return None
        if row.last_used_at is None or at - row.last_used_at >= LAST_USED_EVERY:
            s.execute(update(ApiKeyRow).where(ApiKeyRow.id == row.id)
                      .values(last_used_at=at))
        return Principal(role=Role(row.role), operator_id=row.operator_id,
                         prefix=row.prefix, key_id=row.id)


# --- audit log ---------------------------------------------------------------------------

def audit_page(db: Database, operator_id: str, limit: int = 50,
               before: int | None = None) -> audit.AuditPage:
    if not OPERATOR_ID.match(operator_id):
        return audit.AuditPage([], None)
    with db.session() as s:
        return audit.page(s, operator_id, limit, before)
