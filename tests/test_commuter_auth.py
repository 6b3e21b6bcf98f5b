"""Commuters' accounts over HTTP on SQLite and PostgreSQL: register (policy, constant-time
unknown emails), anonymous accounts and their upgrade, the password and refresh grants,
rotation and reuse detection, logout (this sign-in, everywhere), the sign-in limits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from tests import databases
from tests.commuters_support import PASSWORD, Commuters, commuters_client, module_commuters
from transit.accounts import users
from transit.accounts.passwords import Passwords
from transit.accounts.tokens import hash_token as tokens_hash
from transit.db.models_users import SignInFailureRow, UserRow, UserTokenRow


@pytest.fixture(scope="module", params=databases.BACKENDS)
def commuters(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[Commuters]:
    with module_commuters(request, tmp_path_factory, sign_in_max_failures_per_account=3,
                          sign_in_max_failures_per_ip=1000) as c:
        yield c


def _logout(c: Commuters, token: str, everywhere: bool = False) -> int:
    r = c.call("POST", "/v1/auth/logout", token, params={"everywhere": everywhere})
    assert r.status_code == 200, r.text
    return int(r.json()["revoked_tokens"])


def test_register_sign_in_and_the_token_answers(commuters: Commuters) -> None:
    out = commuters.register("Ada@Example.org")
    assert out["token_type"] == "bearer" and out["account"] == "registered"
    assert out["expires_in"] == 900
    assert out["access_token"].startswith("ua_") and out["refresh_token"].startswith("ur_")
    r = commuters.sign_in("  ada@example.ORG ", PASSWORD)  # emails are case-insensitive
    assert r.status_code == 200 and r.json()["user_id"] == out["user_id"]
    with commuters.db.session() as s:  # only hashes are stored
        hashes = s.scalars(select(UserTokenRow.token_hash)).all()
        stored = s.scalars(select(UserRow.password_hash)).one()
    assert out["access_token"] not in hashes and PASSWORD not in stored
    assert tokens_hash(out["access_token"]) in hashes
    assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored


def test_wrong_password_and_unknown_email_get_the_same_answer(commuters: Commuters) -> None:
    commuters.register("bob@example.org")
    wrong = commuters.sign_in("bob@example.org", "Wrong password 1")
    unknown = commuters.sign_in("nobody@example.org", PASSWORD)
    hostile = commuters.sign_in("nul\x00@example.org' OR '1'='1", "x\x00y")
    for r in (wrong, unknown, hostile):
        assert r.status_code == 400
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["error"] == "invalid_grant"
        assert r.json()["detail"] == "wrong email or password"


def test_unknown_email_is_verified_against_a_dummy_hash() -> None:
    """The time of an answer does not tell whether an account exists: an unknown email
    costs one argon2 verification like a known one (counted, not timed)."""
    pw = Passwords(time_cost=1, memory_kib=1024)
    calls: list[str] = []
    real = pw._hasher

    class Spy:
        def hash(self, password: str) -> str:
            return real.hash(password)

        def verify(self, stored: str, password: str) -> bool:
            calls.append(stored)
            return real.verify(stored, password)

    pw._hasher = Spy()  # type: ignore[assignment]
    assert pw.verify(None, PASSWORD) is False
    assert pw.verify(pw.hash(PASSWORD), PASSWORD) is True
    assert len(calls) == 2 and calls[0] == pw._dummy


@pytest.mark.parametrize(("email", "password", "field", "rule"), [
    ("not-an-email", PASSWORD, "email", "email_format"),
    ("a@b", PASSWORD, "email", "email_format"),
    ("x" * 300 + "@example.org", PASSWORD, "email", "email_format"),
    ("a\x00b@example.org", PASSWORD, "email", "email_format"),
    ("eve@example.org", "Short1!", "password", "min_length"),
    ("eve@example.org", "A1" * 200, "password", "max_length"),
    ("eve@example.org", "alllowercaseletters", "password", "character_classes"),
    ("eve@example.org", "12345678901234", "password", "character_classes"),
    ("evelyn.long@example.org", "EVELYN.LONG@example.org", "password", "not_email"),
    ("evelyn.long@example.org", "evelyn.long", "password", "not_email"),
    ("eve@example.org", "tab\there and 1", "password", "control_characters"),
])
def test_register_refuses_bad_email_and_weak_password_naming_the_rule(
        commuters: Commuters, email: str, password: str, field: str, rule: str) -> None:
    r = commuters.client.post("/v1/auth/register", json={"email": email, "password": password})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["parameter"] == field and body["rule"] == rule
    assert body["detail"].startswith(f"{field}: ")


@pytest.mark.parametrize("body", [
    {"email": "a@example.org"}, {"password": PASSWORD}, {"email": 5, "password": PASSWORD},
    {"email": "a@example.org", "password": PASSWORD, "admin": True},
    {"email": "a@example.org", "password": "x" * 5000}, [], "text",
])
def test_register_refuses_malformed_bodies(commuters: Commuters, body: object) -> None:
    r = commuters.client.post("/v1/auth/register", json=body)
    assert r.status_code == 422 and r.json()["errors"]


def test_register_oversized_body_is_413_and_taken_email_409(commuters: Commuters) -> None:
    r = commuters.client.post("/v1/auth/register", content=b'{"email": "' + b"a" * 70000
                              + b'"}', headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    commuters.register("carol@example.org")
    r = commuters.client.post("/v1/auth/register", json={"email": "CAROL@example.org",
                                                         "password": PASSWORD})
    assert r.status_code == 409


@pytest.mark.parametrize("form", [
    {}, {"grant_type": "client_credentials"}, {"grant_type": "password"},
    {"grant_type": "password", "username": "a@example.org"},
    {"grant_type": "refresh_token"},
    {"grant_type": "password", "username": "u" * 2000, "password": "p"},
])
def test_token_endpoint_refuses_malformed_forms(commuters: Commuters,
                                                form: dict[str, str]) -> None:
    r = commuters.client.post("/v1/auth/token", data=form)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("token", ["ur_" + "A" * 43, "ua_" + "A" * 43, "garbage",
                                   "ur_' OR 1=1 --", "ur_" + "é" * 43])
def test_hostile_refresh_tokens_are_invalid_grants(commuters: Commuters, token: str) -> None:
    r = commuters.refresh(token)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_refresh_rotates_and_a_reused_token_revokes_its_family(commuters: Commuters) -> None:
    first = commuters.register("dan@example.org")
    other = commuters.sign_in("dan@example.org").json()  # another device: another family
    second = commuters.refresh(first["refresh_token"])
    assert second.status_code == 200
    second_pair = second.json()
    assert second_pair["refresh_token"] != first["refresh_token"]
    # the old access token lives on until it expires; the new pair works
    assert _logout_probe(commuters, first["access_token"]) == 200
    third = commuters.refresh(second_pair["refresh_token"]).json()
    # the first refresh token, stolen and replayed: refused, and the family is revoked
    replay = commuters.refresh(first["refresh_token"])
    assert replay.status_code == 400 and "used already" in replay.json()["detail"]
    for token in (first["access_token"], second_pair["access_token"],
                  third["access_token"]):
        assert _logout_probe(commuters, token) == 401
    assert commuters.refresh(third["refresh_token"]).status_code == 400
    # the other device is untouched
    assert _logout_probe(commuters, other["access_token"]) == 200


def _logout_probe(c: Commuters, token: str) -> int:
    """Whether an access token is accepted, without revoking anything (a GET of the
    account; falls back on the logout-free token check)."""
    return c.call("GET", "/v1/me", token).status_code


def test_expired_tokens_are_refused(commuters: Commuters) -> None:
    db = commuters.db
    cfg = users.TokenPolicy(access_ttl=timedelta(minutes=15), refresh_ttl=timedelta(days=1))
    past = datetime.now(UTC) - timedelta(days=2)
    issued = users.create_anonymous(db, cfg, now=past)
    assert users.authenticate(db, issued.access_token) is None
    assert users.authenticate(db, issued.access_token, now=past) is not None
    r = commuters.refresh(issued.refresh_token)
    assert r.status_code == 400 and "expired" in r.json()["detail"]
    assert commuters.call("GET", "/v1/me", issued.access_token).status_code == 401


def test_logout_revokes_this_sign_in_or_everywhere(commuters: Commuters) -> None:
    a = commuters.register("erin@example.org")
    b = commuters.sign_in("erin@example.org").json()
    c = commuters.sign_in("erin@example.org").json()
    assert _logout(commuters, a["access_token"]) == 2  # its access and refresh token
    assert _logout_probe(commuters, a["access_token"]) == 401
    assert commuters.refresh(a["refresh_token"]).status_code == 400
    assert _logout_probe(commuters, b["access_token"]) == 200
    assert _logout(commuters, b["access_token"], everywhere=True) == 4
    for pair in (b, c):
        assert _logout_probe(commuters, pair["access_token"]) == 401
        assert commuters.refresh(pair["refresh_token"]).status_code == 400
    assert commuters.client.post("/v1/auth/logout").status_code == 401


@pytest.mark.parametrize("header", ["Bearer ua_" + "x" * 43, "Bearer ", "Basic abc",
                                    "Bearer tk_abc_def", "Bearer " + "a" * 5000])
def test_me_endpoints_need_a_valid_access_token(commuters: Commuters, header: str) -> None:
    r = commuters.client.get("/v1/me", headers={"Authorization": header})
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")


def test_anonymous_account_upgrades_keeping_its_id(commuters: Commuters) -> None:
    anon = commuters.anonymous()
    assert anon["account"] == "anonymous"
    me = commuters.call("GET", "/v1/me", anon["access_token"]).json()
    assert me == {"id": anon["user_id"], "account": "anonymous", "email": None,
                  "created_at": me["created_at"], "registered_at": None}
    up = commuters.register("fay@example.org", token=anon["access_token"])
    assert up["user_id"] == anon["user_id"] and up["account"] == "registered"
    me = commuters.call("GET", "/v1/me", up["access_token"]).json()
    assert me["email"] == "fay@example.org" and me["account"] == "registered"
    assert commuters.sign_in("fay@example.org").json()["user_id"] == anon["user_id"]
    # a registered account cannot register again with its token
    r = commuters.call("POST", "/v1/auth/register", up["access_token"],
                       json={"email": "fay2@example.org", "password": PASSWORD})
    assert r.status_code == 409
    with commuters.db.session() as s:
        assert s.get(UserRow, anon["user_id"]).kind == "registered"  # type: ignore[union-attr]


def test_sign_in_failures_are_limited_per_account_and_per_ip(
        commuters: Commuters, tmp_path: Path) -> None:
    data = Path(commuters.client.app.state.settings.data_dir)  # type: ignore[attr-defined]
    with commuters_client(data, commuters.db.url, sign_in_max_failures_per_account=3,
                          sign_in_max_failures_per_ip=5) as client:
        c = Commuters(client, client.app.state.db)  # type: ignore[attr-defined]
        with c.db.session() as s:  # the module's other tests failed from this IP too
            s.execute(delete(SignInFailureRow))
        c.register("gus@example.org")
        for _ in range(3):
            assert c.sign_in("gus@example.org", "Wrong password 1").status_code == 400
        r = c.sign_in("gus@example.org", PASSWORD)  # even the right password waits
        assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 901
        # other accounts from this IP: two more failures reach the IP's limit
        for _ in range(2):
            assert c.sign_in("hal@example.org", "Wrong password 1").status_code == 400
        c.register("ida@example.org")
        r = c.sign_in("ida@example.org", PASSWORD)
        assert r.status_code == 429 and "ip" in r.json()["detail"]
        # the window passes: in a service call at a later instant, sign-in works again
        cfg = client.app.state.users  # type: ignore[attr-defined]
        later = datetime.now(UTC) + timedelta(seconds=901)
        issued = users.sign_in(c.db, cfg.passwords, cfg.tokens, cfg.limits,
                               "gus@example.org", PASSWORD, "testclient", now=later)
        assert issued.user.email == "gus@example.org"


def test_logout_and_refresh_refuse_malformed_and_oversized_input(commuters: Commuters
                                                                 ) -> None:
    token = commuters.anonymous()["access_token"]
    r = commuters.call("POST", "/v1/auth/logout", token, params={"everywhere": "maybe"})
    assert r.status_code == 422 and r.json()["parameter"] == "everywhere"
    r = commuters.client.post("/v1/auth/token", data={"grant_type": "refresh_token",
                                                      "refresh_token": "ur_" + "a" * 500})
    assert r.status_code == 422 and r.json()["parameter"] == "refresh_token"
    r = commuters.client.post("/v1/auth/token", content=b"grant_type=password&" + b"x" * 70000,
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code in (413, 422)
    assert _logout_probe(commuters, token) == 200  # nothing above signed it out


def test_concurrent_refreshes_of_one_token_let_one_through(commuters: Commuters) -> None:
    """Two refreshes of the same token at once: exactly one gets a new pair; the other
    is a reuse, and revokes the family (the winner's new pair included)."""
    from concurrent.futures import ThreadPoolExecutor

    first = commuters.register("race@example.org")
    cfg = commuters.client.app.state.users  # type: ignore[attr-defined]

    def attempt(_: int) -> str:
        try:
            users.refresh(commuters.db, cfg.tokens, first["refresh_token"])
            return "ok"
        except users.InvalidGrant:
            return "refused"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(attempt, range(2)))
    assert outcomes == ["ok", "refused"]
    with commuters.db.session() as s:
        live = s.scalars(select(UserTokenRow).join(UserRow).where(
            UserRow.email == "race@example.org", UserTokenRow.revoked_at.is_(None))).all()
    assert live == []


def test_expired_tokens_and_old_failures_are_not_kept(commuters: Commuters) -> None:
    cfg = commuters.client.app.state.users  # type: ignore[attr-defined]
    db = commuters.db
    long_ago = datetime.now(UTC) - timedelta(days=400)
    users.register(db, cfg.passwords, cfg.tokens, "old@example.org", PASSWORD,
                   now=long_ago)
    with pytest.raises(users.InvalidGrant):
        users.sign_in(db, cfg.passwords, cfg.tokens, cfg.limits, "old@example.org",
                      "Wrong password 1", "192.0.2.7", now=long_ago)
    issued = users.sign_in(db, cfg.passwords, cfg.tokens, cfg.limits, "old@example.org",
                           PASSWORD, "192.0.2.7")
    with db.session() as s:
        kept = s.scalars(select(UserTokenRow.family).where(
            UserTokenRow.user_id == issued.user.id)).all()
        assert kept == [issued.family, issued.family]  # the expired pair is gone
    commuters.sign_in("old@example.org", "Wrong password 2")  # a new failure...
    with db.session() as s:  # ...clears every failure older than the window
        ats = s.scalars(select(SignInFailureRow.at)).all()
        assert ats and min(ats) > datetime.now(UTC) - cfg.limits.window


def test_docs_can_authorize_with_the_password_flow(commuters: Commuters) -> None:
    spec = commuters.client.get("/openapi.json").json()
    scheme = spec["components"]["securitySchemes"]["commuter"]
    assert scheme["type"] == "oauth2"
    assert scheme["flows"]["password"]["tokenUrl"] == "/v1/auth/token"
    for path in ("/v1/me", "/v1/me/board", "/v1/me/favourites", "/v1/departures",
                 "/v1/stops/{stop_id}/departures", "/v1/stations/{station_id}/departures"):
        assert spec["paths"][path]["get"]["security"] == [{"commuter": []}], path
    assert "401" in spec["paths"]["/v1/journeys"]["get"]["responses"]
