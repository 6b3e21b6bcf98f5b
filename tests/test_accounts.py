"""Operators, keys, scope and audit log at the service level, on SQLite and PostgreSQL."""

from __future__ import annotations

import ast
import hashlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from transit.accounts import keys, service
from transit.accounts.roles import GRANTS, Permission, Role
from transit.accounts.scope import CLI, AccessDenied, Principal, allowed, authorize
from transit.db import migrate
from transit.db.engine import Database
from transit.db.models import ApiKeyRow, OperatorRow

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    migrate.upgrade(database)
    service.create_operator(database, "A", "Operator A", CLI, "cli", now=T0)
    service.create_operator(database, "B", "Operator B", CLI, "cli", now=T0)
    yield database
    database.dispose()


def test_key_format_and_only_its_hash_is_stored(db: Database) -> None:
    issued = service.create_key(db, "A", "publisher", CLI, "AVL server", now=T0)
    token = issued.token
    assert keys.KEY_FORMAT.match(token) and token.startswith(issued.info.prefix + "_")
    assert len(token) == len("tk_") + 12 + 1 + 43
    with db.session() as s:
        row = s.get(ApiKeyRow, issued.info.id)
        assert row is not None
        stored = [str(getattr(row, c.key)) for c in ApiKeyRow.__table__.columns]
        assert row.secret_hash == hashlib.sha256(token.encode()).hexdigest()
    secret = token[len(issued.info.prefix) + 1:]
    assert len(secret) == 43 and not any(secret in value for value in stored)
    assert issued.info.id != issued.info.prefix and issued.info.id.startswith("key_")


def test_authenticate_finds_the_key_and_refuses_anything_else(db: Database) -> None:
    token = service.create_key(db, "A", "realtime", CLI, now=T0).token
    p = service.authenticate(db, token, now=T0)
    assert p is not None and (p.role, p.operator_id) == (Role.REALTIME, "A")
    assert p.prefix == token[:15]
    wrong_secret = token[:16] + ("A" if token[16] != "A" else "B") + token[17:]
    for bad in (wrong_secret, token + "x", token[:-1], "", "tk_", "Bearer " + token,
                token.upper(), "tk_000000000000_" + "a" * 43, "' OR 1=1 --", "é" * 60):
        assert service.authenticate(db, bad, now=T0) is None, bad


def test_last_used_is_written_at_most_once_a_minute(db: Database) -> None:
    issued = service.create_key(db, "A", "viewer", CLI, now=T0)

    def last_used() -> datetime | None:
        return service.list_keys(db, "A")[0].last_used_at

    assert last_used() is None
    service.authenticate(db, issued.token, now=T0 + timedelta(seconds=5))
    assert last_used() == T0 + timedelta(seconds=5)
    service.authenticate(db, issued.token, now=T0 + timedelta(seconds=50))
    assert last_used() == T0 + timedelta(seconds=5)  # not rewritten within the minute
    service.authenticate(db, issued.token, now=T0 + timedelta(seconds=65))
    assert last_used() == T0 + timedelta(seconds=65)


def test_rotation_keeps_the_old_key_for_the_grace_period_only(db: Database) -> None:
    old = service.create_key(db, "A", "realtime", CLI, "feeder", now=T0)
    new = service.rotate_key(db, "A", old.info.id, CLI, timedelta(minutes=15),
                             now=T0 + timedelta(hours=1))
    assert (new.info.role, new.info.label, new.info.operator_id) == ("realtime", "feeder", "A")
    assert new.token != old.token
    at = T0 + timedelta(hours=1, minutes=14)
    assert service.authenticate(db, old.token, now=at) is not None
    assert service.authenticate(db, new.token, now=at) is not None
    after = T0 + timedelta(hours=1, minutes=15)
    assert service.authenticate(db, old.token, now=after) is None
    assert service.authenticate(db, new.token, now=after) is not None
    by_id = {k.id: k for k in service.list_keys(db, "A")}
    assert by_id[old.info.id].replaced_by == new.info.id
    assert by_id[old.info.id].status(at) == "expiring"
    assert by_id[old.info.id].status(after) == "expired"
    with pytest.raises(service.Conflict, match="rotated already"):
        service.rotate_key(db, "A", old.info.id, CLI, timedelta(0), now=at)


def test_revoked_key_stops_at_once_and_cannot_be_revoked_twice(db: Database) -> None:
    issued = service.create_key(db, "A", "publisher", CLI, now=T0)
    info = service.revoke_key(db, "A", issued.info.id, CLI, now=T0 + timedelta(seconds=1))
    assert info.status(T0 + timedelta(seconds=1)) == "revoked"
    assert service.authenticate(db, issued.token, now=T0 + timedelta(seconds=1)) is None
    with pytest.raises(service.Conflict, match="revoked already"):
        service.revoke_key(db, "A", issued.info.id, CLI)
    with pytest.raises(service.Conflict):
        service.rotate_key(db, "A", issued.info.id, CLI, timedelta(0))


def test_another_operators_key_id_is_unknown_and_left_untouched(db: Database) -> None:
    b_key = service.create_key(db, "B", "publisher", CLI, now=T0)
    with pytest.raises(service.NotFound, match="has no key"):
        service.revoke_key(db, "A", b_key.info.id, CLI)
    with pytest.raises(service.NotFound):
        service.rotate_key(db, "A", b_key.info.id, CLI, timedelta(0))
    assert service.authenticate(db, b_key.token, now=T0) is not None
    assert [k.id for k in service.list_keys(db, "A")] == []
    assert service.list_keys(db, "B")[0].status(T0) == "active"


def test_roles_belong_to_operators_and_admin_to_none(db: Database) -> None:
    with pytest.raises(service.Invalid, match="unknown role 'boss'"):
        service.create_key(db, "A", "boss", CLI)
    with pytest.raises(service.Invalid, match="admin key belongs to no operator"):
        service.create_key(db, "A", "admin", CLI)
    with pytest.raises(service.Invalid, match="belongs to an operator"):
        service.create_key(db, None, "viewer", CLI)
    with pytest.raises(service.NotFound, match="unknown operator 'Z'"):
        service.create_key(db, "Z", "viewer", CLI)
    admin = service.create_key(db, None, "admin", CLI)
    p = service.authenticate(db, admin.token)
    assert p is not None and p.is_admin and p.operator_id is None


def test_operators_are_checked_and_unique(db: Database) -> None:
    with pytest.raises(service.Conflict, match="exists already"):
        service.create_operator(db, "A", "Again", CLI)
    for bad in ("", "a b", "x" * 33, "A:B", "'; DROP TABLE operators; --", "é"):
        with pytest.raises(service.Invalid, match="operator id"):
            service.create_operator(db, bad, "Name", CLI)
    for bad_name in ("", "   ", "x" * 201, "tab\there"):
        with pytest.raises(service.Invalid, match="name"):
            service.create_operator(db, "C", bad_name, CLI)
    info = service.create_operator(db, "C", "Société des Transports ' OR 1=1", CLI)
    assert service.get_operator(db, "C") == info
    assert [o.id for o in service.list_operators(db)] == ["A", "B", "C"]


def test_catalog_import_only_into_an_empty_database(db_url: str) -> None:
    db = Database(db_url)
    migrate.upgrade(db)
    ops = [("BA", "BART"), ("CT", "Caltrain"), ("bad id", "ignored")]
    assert service.record_operators(db, ops, "catalog", only_if_empty=True) == ["BA", "CT"]
    assert service.record_operators(db, [("SF", "Muni")], "catalog", only_if_empty=True) == []
    # the served timetable's operators are recorded when missing, names never overwritten
    assert service.record_operators(db, [("BA", "Renamed"), ("SF", "Muni")],
                                    "timetable") == ["SF"]
    with db.session() as s:
        rows = {r.id: (r.name, r.source) for r in s.scalars(select(OperatorRow))}
    assert rows == {"BA": ("BART", "catalog"), "CT": ("Caltrain", "catalog"),
                    "SF": ("Muni", "timetable")}
    entry = service.audit_page(db, "SF").entries
    assert [(e.action, e.actor, e.details) for e in entry] == [
        ("operator.import", "timetable", {"name": "Muni"})]
    db.dispose()


def test_audit_log_records_every_key_action_and_pages(db: Database) -> None:
    k = service.create_key(db, "A", "publisher", CLI, "one", now=T0)
    actor = service.authenticate(db, k.token, now=T0)
    assert actor is not None
    v = service.create_key(db, "A", "viewer", actor, now=T0)
    service.rotate_key(db, "A", v.info.id, actor, timedelta(minutes=5), now=T0)
    service.revoke_key(db, "A", k.info.id, actor, now=T0)
    service.create_key(db, "B", "viewer", CLI, now=T0)  # B's entries stay B's
    page = service.audit_page(db, "A", limit=2)
    assert [e.action for e in page.entries] == ["key.revoke", "key.rotate"]
    assert page.entries[0].actor == k.info.prefix and page.entries[0].actor_role == "publisher"
    assert page.entries[0].target == k.info.prefix
    assert page.entries[1].details["key_id"] == v.info.id
    rest = service.audit_page(db, "A", limit=2, before=page.next_before)
    assert [e.action for e in rest.entries] == ["key.create", "key.create"]
    assert rest.entries[1].actor == "cli" and rest.entries[1].actor_role == "admin"
    assert rest.entries[1].details == {"key_id": k.info.id, "role": "publisher",
                                       "label": "one"}
    last = service.audit_page(db, "A", limit=2, before=rest.next_before)
    assert [e.action for e in last.entries] == ["operator.create"] and last.next_before is None
    assert [e.action for e in service.audit_page(db, "B").entries] == [
        "key.create", "operator.create"]


EXPECTED_GRANTS = {
    Role.PUBLISHER: {"manage keys", "read the audit log", "read reports and KPIs",
                     "publish feeds", "push realtime data", "inspect tickets"},
    Role.REALTIME: {"push realtime data"},
    Role.VIEWER: {"read the audit log", "read reports and KPIs"},
    Role.INSPECTOR: {"inspect tickets"},
}


@pytest.mark.parametrize("role", list(EXPECTED_GRANTS))
def test_scope_an_operator_role_acts_on_its_own_operator_only(role: Role) -> None:
    me = Principal(role=role, operator_id="A", prefix="tk_x")
    for permission in Permission:
        own = permission.value in EXPECTED_GRANTS[role]
        assert allowed(me, "A", permission) is own, permission
        assert allowed(me, "B", permission) is False
        assert allowed(me, None, permission) is False
    with pytest.raises(AccessDenied, match="belongs to operator 'A', not to 'B'"):
        authorize(me, "B", next(iter(GRANTS[role])))


def test_scope_an_admin_acts_on_every_operator() -> None:
    admin = Principal(role=Role.ADMIN, operator_id=None, prefix="tk_a")
    assert all(allowed(admin, op, p) for p in Permission for op in ("A", "B", None))
    viewer = Principal(role=Role.VIEWER, operator_id="A", prefix="tk_v")
    with pytest.raises(AccessDenied, match="a viewer key may not manage keys; roles that "
                       "may: admin, publisher"):
        authorize(viewer, "A", Permission.MANAGE_KEYS)


WEB = ("fastapi", "starlette", "uvicorn", "transit.api")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_db_and_accounts_import_nothing_from_the_web_but_their_router() -> None:
    """The command line and background work use them without a web stack."""
    root = Path(__file__).resolve().parents[1] / "transit"
    files = [p for d in ("db", "accounts") for p in (root / d).rglob("*.py")
             if p.name != "router.py"]
    assert len(files) >= 10
    for path in files:
        web = {n for n in _imports(path) if n.split(".")[0] in WEB or n.startswith(WEB)}
        assert not web, (path, web)


def _at_once(n: int, action: Callable[[], object]) -> list[object]:
    """Run `action` in n threads released together; each result or the exception raised."""
    barrier = threading.Barrier(n)

    def run() -> object:
        barrier.wait()
        try:
            return action()
        except service.AccountsError as exc:
            return exc

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _: run(), range(n)))


def test_concurrent_rotations_of_one_key_give_one_new_key(db: Database) -> None:
    old = service.create_key(db, "A", "realtime", CLI)
    results = _at_once(4, lambda: service.rotate_key(db, "A", old.info.id, CLI,
                                                     timedelta(minutes=5)))
    issued = [r for r in results if isinstance(r, service.IssuedKey)]
    assert len(issued) == 1, results
    assert all(isinstance(r, service.Conflict) for r in results if r not in issued)
    keys_of_a = service.list_keys(db, "A")
    assert len(keys_of_a) == 2  # the losers' new keys were rolled back
    assert {k.id: k.replaced_by for k in keys_of_a}[old.info.id] == issued[0].info.id


def test_concurrent_revocations_record_one(db: Database) -> None:
    key = service.create_key(db, "A", "viewer", CLI)
    results = _at_once(4, lambda: service.revoke_key(db, "A", key.info.id, CLI))
    assert sum(isinstance(r, service.KeyInfo) for r in results) == 1, results
    actions = [e.action for e in service.audit_page(db, "A").entries]
    assert actions.count("key.revoke") == 1


def test_admin_keys_are_listed_and_revoked_apart_from_operators(db: Database) -> None:
    admin = service.create_key(db, None, "admin", CLI)
    op_key = service.create_key(db, "A", "publisher", CLI)
    assert [k.id for k in service.list_keys(db, None)] == [admin.info.id]
    with pytest.raises(service.NotFound, match="the service has no key"):
        service.revoke_key(db, None, op_key.info.id, CLI)
    with pytest.raises(service.NotFound, match="operator 'A' has no key"):
        service.revoke_key(db, "A", admin.info.id, CLI)
    service.revoke_key(db, None, admin.info.id, CLI)
    assert service.authenticate(db, admin.token) is None
