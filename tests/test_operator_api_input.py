"""Bad input to every accounts endpoint: malformed JSON, oversized bodies, hostile strings,
unknown roles, another operator's key ids, key ids that do not exist. Each is refused
with a problem+json naming what was wrong, and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import client_for
from tests.operator_support import NOW, Api, _push_body, compiled  # noqa: F401 (fixture)
from transit.accounts import service
from transit.accounts.scope import CLI

HOSTILE = ["'; DROP TABLE api_keys; --", "\" OR \"1\"=\"1", "Ünïcødé 🚌 東京", "<script>x</script>",
           "../../etc/passwd", "%00", "x" * 100]
LIMIT = 4096


@pytest.fixture
def api(compiled: Path, db_url: str) -> Iterator[Api]:  # noqa: F811
    with client_for(compiled, NOW, database_url=db_url, realtime_poll=False,
                    max_json_bytes=LIMIT) as client:
        yield Api(client, client.app.state.db)  # type: ignore[attr-defined]


@pytest.fixture
def pub(api: Api) -> str:
    return api.key("A", "publisher")


def _problem(r, status: int, *words: str) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == status
    for word in words:
        assert word in body["detail"], (word, body["detail"])
    return body


JSON_ENDPOINTS = [("POST", "/v1/operators/A/keys"), ("POST", "/v1/operators"),
                  ("POST", "/v1/operators/A/keys/{key}/rotate")]


def _target(api: Api, path: str) -> str:
    return path.format(key=api.key_id("A"))


@pytest.mark.parametrize(("method", "path"), JSON_ENDPOINTS)
def test_malformed_json_is_a_422_naming_the_body(api: Api, method: str, path: str) -> None:
    admin = api.key(None, "admin")
    operators = [o.id for o in service.list_operators(api.db)]
    for raw in (b'{"role": ', b"{'role': 'viewer'}", b"\xff\xfe", b'{"role": "viewer"} x'):
        r = api.call(method, _target(api, path), admin, content=raw,
                     headers={"Content-Type": "application/json"})
        body = _problem(r, 422)
        assert body["errors"][0]["in"] == "body"
    for wrong in ([1, 2], "viewer", 3):
        r = api.call(method, _target(api, path), admin, json=wrong)
        _problem(r, 422)
    # nothing happened: only the keys made as rotation targets, none rotated; no operator
    keys = service.list_keys(api.db, "A")
    assert all(k.created_by == "cli" and k.replaced_by is None for k in keys)
    assert [o.id for o in service.list_operators(api.db)] == operators


def test_unknown_fields_and_missing_fields_are_refused(api: Api, pub: str) -> None:
    body = _problem(api.call("POST", "/v1/operators/A/keys", pub,
                             json={"role": "viewer", "operator": "B"}), 422)
    assert body["parameter"] == "operator"
    body = _problem(api.call("POST", "/v1/operators/A/keys", pub, json={}), 422)
    assert body["parameter"] == "role"
    admin = api.key(None, "admin")
    body = _problem(api.call("POST", "/v1/operators", admin, json={"id": "X"}), 422)
    assert body["parameter"] == "name"


@pytest.mark.parametrize(("method", "path"), JSON_ENDPOINTS)
def test_oversized_bodies_are_413_declared_or_streamed(api: Api, method: str,
                                                       path: str) -> None:
    admin = api.key(None, "admin")
    big = b'{"role": "viewer", "label": "' + b"x" * LIMIT + b'"}'
    r = api.call(method, _target(api, path), admin, content=big,
                 headers={"Content-Type": "application/json"})
    _problem(r, 413, f"limit of {LIMIT} bytes")

    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
        yield big[:1000]
        yield big[1000:]

    r = api.call(method, _target(api, path), admin, content=chunks(),
                 headers={"Content-Type": "application/json"})
    _problem(r, 413, f"limit of {LIMIT} bytes")


def test_the_push_keeps_its_own_larger_limit(api: Api) -> None:
    """The JSON limit does not apply to the GTFS-RT push (TRANSIT_MAX_PUSH_BYTES)."""
    key = api.key("A", "realtime")
    body = _push_body()
    body["content"] += b"\x00" * (LIMIT * 2)  # over the JSON limit, still one protobuf
    r = api.call("POST", "/v1/operators/A/realtime", key, **body)
    assert r.status_code in (202, 400), r.text
    assert r.status_code != 413


def test_hostile_labels_are_stored_verbatim_or_refused(api: Api, pub: str) -> None:
    for label in HOSTILE:
        r = api.call("POST", "/v1/operators/A/keys", pub, json={"role": "viewer",
                                                                 "label": label})
        assert r.status_code == 201, r.text
        assert r.json()["label"] == label
    listed = {k["label"] for k in api.call("GET", "/v1/operators/A/keys", pub).json()["keys"]}
    assert set(HOSTILE) <= listed
    for bad in ("x" * 101, "tab\tin", "nul\x00", "y" * 100_000):
        body = _problem(api.call("POST", "/v1/operators/A/keys", pub,
                                 json={"role": "viewer", "label": bad}), 413 if len(bad)
                        > LIMIT else 422)
        assert len(body["detail"]) < 500
    assert len(service.list_keys(api.db, "A")) == 1 + len(HOSTILE)


@pytest.mark.parametrize("role", ["boss", "admin", "ADMIN", "Publisher", "", "publisher; --",
                                  "🚌", "r" * 1000])
def test_unknown_or_forbidden_roles_are_422(api: Api, pub: str, role: str) -> None:
    body = _problem(api.call("POST", "/v1/operators/A/keys", pub, json={"role": role}), 422)
    assert body["parameter"] == "role" and "publisher" in body["detail"]
    assert len(service.list_keys(api.db, "A")) == 1


@pytest.mark.parametrize("op", ["' OR '1'='1", "A/../B", "Ünï", "A" * 5000, "a%00b", "B;--"])
def test_hostile_operator_ids_in_the_path(api: Api, pub: str, op: str) -> None:
    admin = api.key(None, "admin")
    path = f"/v1/operators/{quote(op, safe='')}/keys"
    if "/" in op:  # an encoded slash is a path separator: no such route
        _problem(api.call("GET", path, pub), 404)
        return
    body = _problem(api.call("GET", path, pub), 403, "belongs to operator 'A'")
    assert len(body["detail"]) < 200
    body = _problem(api.call("GET", path, admin), 404, "unknown operator")
    assert len(body["detail"]) < 200
    _problem(api.call("POST", path, admin, json={"role": "viewer"}), 404)
    _problem(api.call("GET", path.replace("/keys", "/audit"), admin), 404)


def test_hostile_operators_in_the_body(api: Api) -> None:
    admin = api.key(None, "admin")
    for ident in ("' OR 1=1 --", "Ünï", "A" * 33, "", "A B", "A/B"):
        body = _problem(api.call("POST", "/v1/operators", admin,
                                 json={"id": ident, "name": "x"}), 422)
        assert body["parameter"] == "id"
    for name in ("", "x" * 201, "line\nbreak"):
        body = _problem(api.call("POST", "/v1/operators", admin,
                                 json={"id": "N1", "name": name}), 422)
        assert body["parameter"] == "name"
    r = api.call("POST", "/v1/operators", admin,
                 json={"id": "N1", "name": "Société '; DROP TABLE operators; -- 🚌"})
    assert r.status_code == 201 and r.json()["name"] == "Société '; DROP TABLE operators; -- 🚌"
    assert service.get_operator(api.db, "A") is not None


@pytest.mark.parametrize("key_id", ["key_doesnotexist", "' OR '1'='1", "%", "Ünï", "key_\x00",
                                    "key_" + "x" * 90])
def test_key_ids_that_do_not_exist_are_404(api: Api, pub: str, key_id: str) -> None:
    quoted = quote(key_id, safe="")
    for method, path in (("DELETE", f"/v1/operators/A/keys/{quoted}"),
                         ("POST", f"/v1/operators/A/keys/{quoted}/rotate")):
        _problem(api.call(method, path, pub), 404, "has no key")
    assert [k.status for k in service.list_keys(api.db, "A")] != []


def test_key_ids_too_long_are_422(api: Api, pub: str) -> None:
    body = _problem(api.call("DELETE", "/v1/operators/A/keys/" + "k" * 101, pub), 422)
    assert body["parameter"] == "key_id"


def test_another_operators_key_id_is_404_and_untouched(api: Api, pub: str) -> None:
    b_key = service.create_key(api.db, "B", "publisher", CLI)
    for method, path in (("DELETE", f"/v1/operators/A/keys/{b_key.info.id}"),
                         ("POST", f"/v1/operators/A/keys/{b_key.info.id}/rotate")):
        _problem(api.call(method, path, pub), 404, "has no key")
    assert service.authenticate(api.db, b_key.token) is not None
    assert service.list_keys(api.db, "B")[0].revoked_at is None
    assert service.list_keys(api.db, "B")[0].replaced_by is None


@pytest.mark.parametrize("grace", [-1, 7 * 86400 + 1, "soon", 1.5, None])
def test_rotation_grace_out_of_range_is_422(api: Api, pub: str, grace: object) -> None:
    key_id = api.key_id("A")
    r = api.call("POST", f"/v1/operators/A/keys/{key_id}/rotate", pub, json={"grace_s": grace})
    if grace is None:  # null means the default
        assert r.status_code == 201
        return
    body = _problem(r, 422)
    assert body["parameter"] == "grace_s"
    assert service.list_keys(api.db, "A")[0].replaced_by is None


@pytest.mark.parametrize(("query", "param"), [
    ("limit=0", "limit"), ("limit=201", "limit"), ("limit=abc", "limit"),
    ("before=0", "before"), ("before=-5", "before"), ("before=1e3", "before"),
    ("before=" + "9" * 30, "before")])
def test_audit_paging_parameters_are_checked(api: Api, query: str, param: str) -> None:
    body = _problem(api.call("GET", f"/v1/operators/A/audit?{query}",
                             api.key("A", "viewer")), 422)
    assert body["parameter"] == param


def test_authorization_header_variants(api: Api, pub: str) -> None:
    for header in ("", "Bearer", "Bearer ", "Basic " + pub, "bearer " + pub + " extra",
                   "Token " + pub, pub, "Bearer " + "x" * 10_000):
        r = api.client.get("/v1/operators/A/keys", headers={"Authorization": header})
        _problem(r, 401)
    r = api.client.get("/v1/operators/A/keys", headers={"Authorization": "bearer " + pub})
    assert r.status_code == 200  # the scheme is case-insensitive
