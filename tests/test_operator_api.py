"""Operator accounts over HTTP, on SQLite and PostgreSQL: the scope rule walked over every
operator endpoint of the OpenAPI, keys (create, list, rotate, revoke), the audit log, the
realtime push with operator keys."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import build, client_for
from tests.feeds import write_feed
from tests.operator_support import NOW, Api, _push_body, compiled  # noqa: F401 (fixture)
from tests.publishing_support import feed_zip, published_twice, staged_version
from transit.accounts import service
from transit.accounts.roles import OPERATOR_ROLES
from transit.accounts.scope import CLI
from transit.db.engine import Database

PREFIX = "/v1/operators/{operator_id}/"
ROLES = [r.value for r in OPERATOR_ROLES]

# Every operator endpoint that needs a key, and the roles of the operator's own keys that
# may call it (an admin key may call them all). A new operator endpoint fails
# test_every_operator_endpoint_is_listed until it is added here and to REQUESTS.
ALLOWED: dict[tuple[str, str], set[str]] = {
    ("GET", PREFIX + "keys"): {"publisher"},
    ("POST", PREFIX + "keys"): {"publisher"},
    ("DELETE", PREFIX + "keys/{key_id}"): {"publisher"},
    ("POST", PREFIX + "keys/{key_id}/rotate"): {"publisher"},
    ("GET", PREFIX + "audit"): {"publisher", "viewer"},
    ("POST", PREFIX + "realtime"): {"publisher", "realtime"},
    ("POST", PREFIX + "feeds"): {"publisher"},
    ("GET", PREFIX + "feeds"): {"publisher", "viewer"},
    ("GET", PREFIX + "feeds/{version_id}"): {"publisher", "viewer"},
    ("POST", PREFIX + "feeds/{version_id}/publish"): {"publisher"},
    ("POST", PREFIX + "feeds/rollback"): {"publisher"},
    ("GET", PREFIX + "kpis"): {"publisher", "viewer"},
    ("GET", PREFIX + "sales"): {"publisher", "viewer"},
}
# Operator endpoints anyone may read (the live-data counters, without secrets).
PUBLIC = {("GET", PREFIX + "realtime")}


# How to call each endpoint successfully for operator `op`: (path params, request kwargs).
REQUESTS: dict[tuple[str, str], Callable[[Api, str], tuple[dict[str, str], dict[str, Any]]]] = {
    ("GET", PREFIX + "keys"): lambda api, op: ({}, {}),
    ("POST", PREFIX + "keys"): lambda api, op: ({}, {"json": {"role": "viewer"}}),
    ("DELETE", PREFIX + "keys/{key_id}"): lambda api, op: ({"key_id": api.key_id(op)}, {}),
    ("POST", PREFIX + "keys/{key_id}/rotate"): lambda api, op: (
        {"key_id": api.key_id(op)}, {}),
    ("GET", PREFIX + "audit"): lambda api, op: ({}, {"params": {"limit": 5}}),
    ("POST", PREFIX + "realtime"): lambda api, op: ({}, _push_body()),
    # the same feed as compiled (the data directory is shared by the module's tests)
    ("POST", PREFIX + "feeds"): lambda api, op: ({}, {"files": {"file": ("f.zip",
                                                                         feed_zip())}}),
    ("GET", PREFIX + "feeds"): lambda api, op: ({}, {}),
    ("GET", PREFIX + "feeds/{version_id}"): lambda api, op: (
        {"version_id": staged_version(api.client.app, op)}, {}),
    ("POST", PREFIX + "feeds/{version_id}/publish"): lambda api, op: (
        {"version_id": staged_version(api.client.app, op)}, {}),
    ("POST", PREFIX + "feeds/rollback"): lambda api, op: (
        published_twice(api.client.app, op) or {}, {}),
    ("GET", PREFIX + "kpis"): lambda api, op: ({}, {}),
    ("GET", PREFIX + "sales"): lambda api, op: ({}, {"params": {"limit": 5}}),
}


@pytest.fixture
def api(compiled: Path, db_url: str) -> Iterator[Api]:  # noqa: F811
    with client_for(compiled, NOW, database_url=db_url, realtime_poll=False,
                    push_keys={"A": "bootstrap-secret-of-A"}) as client:
        yield Api(client, client.app.state.db)  # type: ignore[attr-defined]


def _operator_endpoints(client: TestClient) -> tuple[set[tuple[str, str]],
                                                      set[tuple[str, str]]]:
    """(secured, public) operator endpoints of the OpenAPI document."""
    secured, public = set(), set()
    for path, ops in client.app.openapi()["paths"].items():  # type: ignore[attr-defined]
        if not path.startswith(PREFIX):
            continue
        for method, op in ops.items():
            (secured if op.get("security") else public).add((method.upper(), path))
    return secured, public


def test_every_operator_endpoint_is_listed(api: Api) -> None:
    secured, public = _operator_endpoints(api.client)
    assert secured == set(ALLOWED) == set(REQUESTS)
    assert public == PUBLIC
    schemes = api.client.app.openapi()["components"]["securitySchemes"]  # type: ignore[attr-defined]
    assert schemes["key"]["type"] == "http" and schemes["key"]["scheme"] == "bearer"


def _send(api: Api, endpoint: tuple[str, str], op: str, key: str | None,
          path_op: str | None = None) -> httpx.Response:
    """Call `endpoint` on operator `path_op` (default `op`) with params made for `op`."""
    method, template = endpoint
    params, kwargs = REQUESTS[endpoint](api, op)
    path = template.format(operator_id=path_op or op, **params)
    return api.call(method, path, key, **kwargs)


def test_scope_walk_over_every_operator_endpoint(api: Api) -> None:
    revoked = api.key("A", "publisher")
    service.revoke_key(api.db, "A", service.list_keys(api.db, "A")[0].id, CLI)
    b_keys = {role: api.key("B", role) for role in ROLES}
    a_keys = {role: api.key("A", role) for role in ROLES}
    admin = api.key(None, "admin")
    for endpoint in sorted(ALLOWED):
        for key, status in ((None, 401), ("tk_garbage", 401), (revoked, 401)):
            r = _send(api, endpoint, "A", key)
            assert r.status_code == status, (endpoint, key, r.text)
            assert r.headers["www-authenticate"].startswith("Bearer")
            assert r.headers["content-type"] == "application/problem+json"
        for role, key in b_keys.items():  # another operator's keys, whatever their role
            r = _send(api, endpoint, "A", key)
            assert r.status_code == 403, (endpoint, role, r.text)
        for role, key in a_keys.items():
            r = _send(api, endpoint, "A", key)
            expected_ok = role in ALLOWED[endpoint]
            assert (200 <= r.status_code < 300) is expected_ok, (endpoint, role, r.text)
            if not expected_ok:
                assert r.status_code == 403 and role in r.json()["detail"]
        r = _send(api, endpoint, "A", admin)
        assert 200 <= r.status_code < 300, (endpoint, "admin", r.text)


def test_another_operators_key_never_touches_its_resources(api: Api) -> None:
    """B's publisher aims at A's keys through A's paths and through B's own paths."""
    a_key = service.create_key(api.db, "A", "realtime", CLI)
    b_pub = api.key("B", "publisher")
    for method, path in (("DELETE", f"/v1/operators/A/keys/{a_key.info.id}"),
                         ("POST", f"/v1/operators/A/keys/{a_key.info.id}/rotate")):
        assert api.call(method, path, b_pub).status_code == 403
    for method, path in (("DELETE", f"/v1/operators/B/keys/{a_key.info.id}"),
                         ("POST", f"/v1/operators/B/keys/{a_key.info.id}/rotate")):
        r = api.call(method, path, b_pub)
        assert r.status_code == 404 and "has no key" in r.json()["detail"]
    assert service.list_keys(api.db, "A")[0].status(datetime.now().astimezone()) == "active"
    assert service.authenticate(api.db, a_key.token) is not None
    listed = api.call("GET", "/v1/operators/B/keys", b_pub).json()["keys"]
    assert a_key.info.id not in {k["id"] for k in listed}


def test_keys_lifecycle(api: Api) -> None:
    pub = api.key("A", "publisher")
    r = api.call("POST", "/v1/operators/A/keys", pub,
                 json={"role": "realtime", "label": "AVL server"})
    assert r.status_code == 201
    created = r.json()
    assert created["key"].startswith(created["prefix"] + "_")
    assert (created["role"], created["operator"], created["label"], created["status"]) == (
        "realtime", "A", "AVL server", "active")
    listed = {k["id"]: k for k in api.call("GET", "/v1/operators/A/keys", pub).json()["keys"]}
    assert "key" not in listed[created["id"]] and listed[created["id"]]["last_used_at"] is None
    assert created["key"] not in api.call("GET", "/v1/operators/A/keys", pub).text
    # using the key sets its last use
    assert api.call("POST", "/v1/operators/A/realtime", created["key"],
                    **_push_body()).status_code == 202
    listed = {k["id"]: k for k in api.call("GET", "/v1/operators/A/keys", pub).json()["keys"]}
    assert listed[created["id"]]["last_used_at"] is not None
    # rotation: both work during the grace period
    r = api.call("POST", f"/v1/operators/A/keys/{created['id']}/rotate", pub,
                 json={"grace_s": 600})
    assert r.status_code == 201
    rotated = r.json()
    assert rotated["role"] == "realtime" and rotated["label"] == "AVL server"
    for key in (created["key"], rotated["key"]):
        assert api.call("POST", "/v1/operators/A/realtime", key,
                        **_push_body()).status_code == 202
    listed = {k["id"]: k for k in api.call("GET", "/v1/operators/A/keys", pub).json()["keys"]}
    assert listed[created["id"]]["status"] == "expiring"
    assert listed[created["id"]]["replaced_by"] == rotated["id"]
    # a rotation without grace ends the old key at once; revoking ends the new one
    r = api.call("POST", f"/v1/operators/A/keys/{rotated['id']}/rotate", pub,
                 json={"grace_s": 0})
    assert r.status_code == 201
    third = r.json()
    assert api.call("POST", "/v1/operators/A/realtime", rotated["key"],
                    **_push_body()).status_code == 401
    assert api.call("DELETE", f"/v1/operators/A/keys/{third['id']}", pub).status_code == 204
    assert api.call("POST", "/v1/operators/A/realtime", third["key"],
                    **_push_body()).status_code == 401
    r = api.call("DELETE", f"/v1/operators/A/keys/{third['id']}", pub)
    assert r.status_code == 409 and "revoked already" in r.json()["detail"]


def test_a_publisher_may_revoke_its_own_key(api: Api) -> None:
    issued = service.create_key(api.db, "A", "publisher", CLI)
    r = api.call("DELETE", f"/v1/operators/A/keys/{issued.info.id}", issued.token)
    assert r.status_code == 204
    assert api.call("GET", "/v1/operators/A/keys", issued.token).status_code == 401


def test_realtime_push_takes_operator_keys_and_the_bootstrap_secret(api: Api) -> None:
    for key in (api.key("A", "realtime"), api.key("A", "publisher"), "bootstrap-secret-of-A"):
        r = api.call("POST", "/v1/operators/A/realtime", key, **_push_body())
        assert r.status_code == 202, r.text
        assert r.json() == {"operator": "A", "kinds": ["vehicle-positions"], "entities": 1}
    r = api.call("POST", "/v1/operators/B/realtime", "bootstrap-secret-of-A", **_push_body())
    assert r.status_code == 403
    status = api.call("GET", "/v1/operators/A/realtime")  # public, no key
    assert status.status_code == 200
    assert "bootstrap-secret-of-A" not in status.text and "tk_" not in status.text


def test_create_operator_is_for_admins(api: Api) -> None:
    body = {"id": "NEW", "name": "New Operator"}
    assert api.call("POST", "/v1/operators", json=body).status_code == 401
    r = api.call("POST", "/v1/operators", api.key("A", "publisher"), json=body)
    assert r.json()["detail"] == "a publisher key may not create operators; roles that may: admin"
    admin = api.key(None, "admin")
    r = api.call("POST", "/v1/operators", admin, json=body)
    assert r.status_code == 201
    assert (r.json()["id"], r.json()["name"], r.json()["source"]) == (
        "NEW", "New Operator", "api")
    r = api.call("POST", "/v1/operators", admin, json=body)
    assert r.status_code == 409 and "exists already" in r.json()["detail"]
    # the new operator can get keys, and its publisher sees only its own audit log
    r = api.call("POST", "/v1/operators/NEW/keys", admin, json={"role": "publisher"})
    assert r.status_code == 201
    entries = api.call("GET", "/v1/operators/NEW/audit", r.json()["key"]).json()["entries"]
    assert [e["action"] for e in entries] == ["key.create", "operator.create"]
    assert entries[1]["actor_role"] == "admin" and entries[1]["details"] == {
        "name": "New Operator"}


def test_audit_log_pages_and_names_who_did_what(api: Api) -> None:
    pub = service.create_key(api.db, "A", "publisher", CLI)
    for i in range(5):
        r = api.call("POST", "/v1/operators/A/keys", pub.token,
                     json={"role": "viewer", "label": f"viewer {i}"})
        assert r.status_code == 201
    viewer = r.json()["key"]
    seen: list[dict[str, Any]] = []
    url: str | None = "/v1/operators/A/audit?limit=2"
    while url is not None:
        page = api.call("GET", url, viewer).json()
        assert len(page["entries"]) <= 2
        seen += page["entries"]
        url = page["next"]
    labels = [e["details"].get("label") for e in seen if e["actor"] == pub.info.prefix]
    assert labels == [f"viewer {i}" for i in reversed(range(5))]
    assert all(e["actor_role"] == "publisher" and e["action"] == "key.create"
               and e["operator"] == "A" for e in seen[:5])
    assert [e["id"] for e in seen] == sorted((e["id"] for e in seen), reverse=True)
    # A was recorded from the served timetable
    assert (seen[-1]["action"], seen[-1]["actor"]) == ("operator.import", "timetable")
    b_audit = api.call("GET", "/v1/operators/B/audit", api.key("B", "viewer")).json()
    assert all(e["operator"] == "B" for e in b_audit["entries"])


def test_database_down_is_503_for_keys_and_the_rest_keeps_serving(api: Api) -> None:
    key = api.key("A", "publisher")
    app = api.client.app  # type: ignore[attr-defined]
    app.state.db = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")  # nothing there
    try:
        r = api.call("GET", "/v1/operators/A/keys", key)
        assert r.status_code == 503 and r.headers["retry-after"] == "5"
        assert r.json()["detail"] == "the database is unavailable; retry later"
        assert api.call("GET", "/v1/operators/A/realtime").status_code == 200
        assert api.call("GET", "/v1/stops/A:S1").status_code == 200
        # a bootstrap push key needs the database too (the operator is checked there)
        r = api.call("POST", "/v1/operators/A/realtime", "bootstrap-secret-of-A",
                     **_push_body())
        assert r.status_code == 503
    finally:
        app.state.db.dispose()
        app.state.db = api.db
    assert api.call("GET", "/v1/operators/A/keys", key).status_code == 200


def test_a_new_version_is_served_even_when_the_database_is_down(tmp_path: Path) -> None:
    data = tmp_path / "data"
    build({"A": write_feed(tmp_path / "a", {})}, data)
    down = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    with client_for(data, NOW, database_url=down, auto_migrate=False, realtime_poll=False,
                    catalog=tmp_path / "none.toml") as client:
        assert client.get("/v1/stops/A:S1").status_code == 200
        assert client.get("/v1/operators/A/keys",
                          headers={"Authorization": "Bearer x"}).status_code == 401
        assert client.get("/v1/operators/A/keys", headers={
            "Authorization": "Bearer tk_000000000000_" + "a" * 43}).status_code == 503
