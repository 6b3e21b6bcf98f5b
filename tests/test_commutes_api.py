"""Saved commutes, the alert inbox and webhooks over HTTP, on SQLite and PostgreSQL, over
operators A and B of the small test feed (trip A:T1 leaves A:S1 at 08:00 and reaches A:S3
at 08:20 every day; the service clock is 2026-06-01 08:00+02:00, a Monday).

Live data goes through the realtime state of the app (LiveState.publish, as an operator's
push does); the evaluator runs in its own thread, so the inbox is polled until it fills."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from google.transit import gtfs_realtime_pb2 as pb

from tests import databases
from tests.commuters_support import Commuters, module_commuters
from tests.operator_support import NOW

STUDENT = {"name": "to school", "from": "A:S1", "to": "A:S3", "days": ["mon", "tue"],
           "depart_between": ["07:55", "08:05"]}


@pytest.fixture(scope="module", params=databases.BACKENDS)
def app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[Commuters]:
    with module_commuters(request, tmp_path_factory, max_commutes=3, max_webhooks=2) as c:
        yield c


def _user(app: Commuters) -> str:
    return app.anonymous()["access_token"]


def _create(app: Commuters, token: str, body: dict[str, Any]) -> Any:
    return app.call("POST", "/v1/me/commutes", token, json=body)


def _problem(r: Any, status: int, parameter: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    if parameter is not None:
        assert body["parameter"] == parameter, body
    return body


def test_commute_crud(app: Commuters) -> None:
    token = _user(app)
    r = _create(app, token, {**STUDENT, "rules": [{"kind": "delay", "min_minutes": 3}],
                             "quiet_hours": ["22:00", "06:30"]})
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["id"].startswith("cm_")
    assert c["depart_between"] == ["07:55", "08:05"]
    assert c["rules"] == [{"kind": "delay", "min_minutes": 3}]
    assert c["lead_minutes"] == 45 and c["quiet_hours"] == ["22:00", "06:30"]
    got = app.call("GET", f"/v1/me/commutes/{c['id']}", token)
    assert got.status_code == 200 and got.json() == c
    r = app.call("PATCH", f"/v1/me/commutes/{c['id']}", token,
                 json={"arrive_between": ["08:15", "08:30"], "paused_until": "2026-06-10"})
    assert r.status_code == 200, r.text
    assert "depart_between" not in r.json() and r.json()["arrive_between"] == ["08:15", "08:30"]
    assert r.json()["paused_until"] == "2026-06-10"
    listed = app.call("GET", "/v1/me/commutes", token).json()["commutes"]
    assert [x["id"] for x in listed] == [c["id"]]
    assert app.call("DELETE", f"/v1/me/commutes/{c['id']}", token).status_code == 204
    _problem(app.call("GET", f"/v1/me/commutes/{c['id']}", token), 404)


@pytest.mark.parametrize(("patch", "field"), [
    ({"from": "A:NOPE"}, "from"),
    ({"to": "1.0,1.0"}, "to"),  # no stop within walking distance
    ({"to": "91,4"}, "to"),
    ({"to": "A:S1"}, "to"),  # the same place
    ({"days": ["mon", "someday"]}, "days[1]"),
    ({"days": []}, "days"),
    ({"depart_between": ["8:00", "09:00"]}, "depart_between[0]"),
    ({"depart_between": ["09:00", "08:00"]}, "depart_between"),
    ({"depart_between": ["00:00", "23:00"]}, "depart_between"),
    ({"arrive_between": ["08:00", "09:00"]}, "depart_between"),  # both windows
    ({"rules": [{"kind": "teleport"}]}, "rules[0].kind"),
    ({"rules": [{"kind": "delay", "min_minutes": 0}]}, "rules[0].min_minutes"),
    ({"rules": [{"kind": "delay", "min_minutes": "5"}]}, "rules[0].min_minutes"),
    ({"rules": [{"kind": "delay"}, {"kind": "delay"}]}, "rules[1].kind"),
    ({"rules": [{"kind": "cancellation", "min_minutes": 5}]}, "rules[0].min_minutes"),
    ({"lead_minutes": 100000}, "lead_minutes"),
    ({"quiet_hours": ["22:00", "25:00"]}, "quiet_hours[1]"),
    ({"paused_until": "next week"}, "paused_until"),
    ({"name": ""}, "name"),
])
def test_bad_commutes_get_422_naming_the_field(app: Commuters, patch: dict, field: str
                                               ) -> None:
    _problem(_create(app, _user(app), {**STUDENT, **patch}), 422, field)


def test_malformed_and_oversized_bodies(app: Commuters) -> None:
    token = _user(app)
    r = app.call("POST", "/v1/me/commutes", token, content=b"{not json",
                 headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert _create(app, token, {**STUDENT, "colour": "red"}).status_code == 422
    assert _create(app, token, {**STUDENT, "name": "x" * 5000}).status_code == 422
    assert _create(app, token, {**STUDENT, "rules": [{"kind": "delay"}] * 50}
                   ).status_code == 422
    r = app.call("POST", "/v1/me/commutes", token, content=b"[" * 2_000_000,
                 headers={"content-type": "application/json"})
    assert r.status_code in (413, 422)
    assert app.call("POST", "/v1/me/commutes", None, json=STUDENT).status_code == 401


def test_limit_per_user_is_a_clear_409(app: Commuters) -> None:
    token = _user(app)
    for i in range(3):
        assert _create(app, token, {**STUDENT, "name": f"c{i}"}).status_code == 201
    body = _problem(_create(app, token, STUDENT), 409)
    assert "at most 3 saved commutes" in body["detail"]


def test_other_users_ids_are_404(app: Commuters) -> None:
    alice, bob = _user(app), _user(app)
    cid = _create(app, alice, STUDENT).json()["id"]
    for method, path, body in (("GET", f"/v1/me/commutes/{cid}", None),
                               ("PATCH", f"/v1/me/commutes/{cid}", {"name": "mine"}),
                               ("GET", f"/v1/me/commutes/{cid}/next", None),
                               ("DELETE", f"/v1/me/commutes/{cid}", None)):
        r = app.call(method, path, bob, json=body)
        assert r.status_code == 404, (method, path, r.text)
    assert app.call("GET", "/v1/me/commutes", bob).json()["commutes"] == []
    hook = app.call("POST", "/v1/me/webhooks", alice, json={"url": "https://93.184.215.14/h"})
    assert hook.status_code == 201, hook.text
    assert app.call("DELETE", f"/v1/me/webhooks/{hook.json()['id']}", bob).status_code == 404
    assert app.call("POST", "/v1/me/alerts/al_nope/read", bob).status_code == 404
    assert app.call("GET", f"/v1/me/commutes/{cid}", alice).status_code == 200


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/hook", "http://localhost/hook", "http://[::1]/hook",
    "http://10.1.2.3/hook", "http://192.168.0.10/hook", "http://172.16.0.1/hook",
    "http://169.254.169.254/latest/meta-data", "http://[fe80::1]/hook",
    "http://[::ffff:127.0.0.1]/hook", "http://0.0.0.0/hook", "ftp://example.com/hook",
    "https://user:pass@example.com/hook", "not a url", "http:///nohost",
])
def test_hostile_webhook_urls_are_refused(app: Commuters, url: str) -> None:
    _problem(app.call("POST", "/v1/me/webhooks", _user(app), json={"url": url}), 422, "url")


def test_webhook_secret_shown_once_and_limit(app: Commuters) -> None:
    token = _user(app)
    r = app.call("POST", "/v1/me/webhooks", token, json={"url": "https://93.184.215.14/a"})
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]
    assert secret.startswith("whsec_") and len(secret) == len("whsec_") + 44
    listed = app.call("GET", "/v1/me/webhooks", token).json()["webhooks"]
    assert [h["id"] for h in listed] == [r.json()["id"]]
    assert "secret" not in listed[0] and listed[0]["active"] is True
    assert app.call("POST", "/v1/me/webhooks", token,
                    json={"url": "https://93.184.215.14/b"}).status_code == 201
    _problem(app.call("POST", "/v1/me/webhooks", token, json={"url": "https://93.184.215.14/c"}),
             409)


def _delay_feed(seconds: int) -> pb.FeedMessage:
    m = pb.FeedMessage()
    m.header.gtfs_realtime_version = "2.0"
    m.header.timestamp = int(datetime.fromisoformat(NOW).timestamp()) - 10
    e = m.entity.add()
    e.id = "e1"
    tu = e.trip_update
    tu.trip.trip_id = "T1"
    tu.trip.start_date = "20260601"
    u = tu.stop_time_update.add()
    u.stop_sequence = 1
    u.departure.delay = seconds
    return m


def _inbox(app: Commuters, token: str, want: int, **params: Any) -> dict:
    deadline = time.monotonic() + 10
    while True:
        body = app.call("GET", "/v1/me/alerts", token, params=params).json()
        if len(body["alerts"]) >= want or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def test_live_delay_fills_the_inbox_of_its_riders_only(app: Commuters) -> None:
    rider, other = _user(app), _user(app)
    cid = _create(app, rider, {**STUDENT, "rules": [{"kind": "delay", "min_minutes": 5}]}
                  ).json()["id"]
    evening = _create(app, other, {**STUDENT, "depart_between": ["18:00", "18:30"]}).json()
    assert evening["id"]
    nxt = app.call("GET", f"/v1/me/commutes/{cid}/next", rider).json()
    assert nxt["service_date"] == "2026-06-01"
    assert [(leg["trip_id"], leg["status"]) for leg in nxt["journeys"][0]["legs"]] == [
        ("A:T1", "scheduled")]
    app.client.app.state.live.publish("A", _delay_feed(420))  # type: ignore[attr-defined]
    body = _inbox(app, rider, 1)
    assert body["unread"] == 1
    [a] = body["alerts"]
    assert (a["commute_id"], a["kind"], a["state"], a["subject"], a["detail"]["delay_s"],
            a["read"]) == (cid, "delay", "new", "A:T1", 420, False)
    nxt = app.call("GET", f"/v1/me/commutes/{cid}/next", rider).json()
    assert (nxt["journeys"][0]["legs"][0]["status"],
            nxt["journeys"][0]["legs"][0]["delay_s"]) == ("delayed", 420)
    assert _inbox(app, other, 0)["alerts"] == []
    # 3 minutes more: the same alert, updated and unread
    app.call("POST", f"/v1/me/alerts/{a['id']}/read", rider)
    assert app.call("GET", "/v1/me/alerts", rider, params={"unread": True}).json()[
        "alerts"] == []
    app.client.app.state.live.publish("A", _delay_feed(600))  # type: ignore[attr-defined]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        body = app.call("GET", "/v1/me/alerts", rider).json()
        if body["alerts"][0]["version"] == 2:
            break
        time.sleep(0.05)
    [b] = body["alerts"]
    assert (b["id"], b["state"], b["version"], b["detail"]["delay_s"], b["read"]) == (
        a["id"], "updated", 2, 600, False)
    app.client.app.state.live.publish("A", _delay_feed(0))  # type: ignore[attr-defined]
    app.call("DELETE", f"/v1/me/commutes/{cid}", rider)


def test_inbox_paging_and_bad_cursor(app: Commuters) -> None:
    token = _user(app)
    _problem(app.call("GET", "/v1/me/alerts", token, params={"cursor": "%%%"}), 422, "cursor")
    assert app.call("GET", "/v1/me/alerts", token, params={"limit": 0}).status_code == 422
    assert app.call("GET", "/v1/me/alerts", token, params={"limit": 101}).status_code == 422
    assert app.call("GET", "/v1/me/alerts", None).status_code == 401


def test_web_push_off_without_a_vapid_key(app: Commuters) -> None:
    token = _user(app)
    sub = {"endpoint": "https://93.184.215.14/push/1",
           "keys": {"p256dh": "B" * 87, "auth": "A" * 22}}
    for method, path, body in (("GET", "/v1/me/push/vapid-key", None),
                               ("POST", "/v1/me/push-subscriptions", sub)):
        body_ = _problem(app.call(method, path, token, json=body), 503)
        assert "TRANSIT_VAPID_PRIVATE_KEY" in body_["detail"]
        assert app.call(method, path, None, json=body).status_code == 401
    assert app.call("GET", "/v1/me/push-subscriptions", token).json() == {
        "push_subscriptions": []}
