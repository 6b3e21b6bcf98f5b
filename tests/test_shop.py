"""Offers, orders, payments and tickets over HTTP, on SQLite and PostgreSQL, with prices
from a small table (tests.shop_support.TablePricing) so that every amount is checked by
hand; tickets are signed with the real key ring."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from tests.operator_support import NOW
from tests.shop_support import T0, Shop, count, module_shop, problem
from transit.db.models_tickets import OrderRow, SaleRow, TicketRow
from transit.shop import idempotency


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Shop]:
    with module_shop(request, tmp_path_factory) as shop:
        yield shop


@pytest.fixture
def shop(module: Shop) -> Iterator[Shop]:
    module.clock.at = T0
    yield module
    module.clock.at = T0


# -- journey ids and offers -------------------------------------------------------------------

def test_every_journey_answer_carries_an_id(shop: Shop) -> None:
    r = shop.client.get("/v1/journeys", params={"from": "A:S1", "to": "B:S3",
                                                "depart_at": NOW})
    journeys = r.json()["journeys"]
    assert journeys and all(j["id"].startswith("j1") for j in journeys)


def test_a_journey_offer_is_priced_by_the_server(shop: Shop) -> None:
    token = shop.user()
    jid = shop.journey_id()
    r = shop.call("POST", "/v1/offers", token, json={
        "journey_id": jid, "travellers": [{"count": 2}, {"rider_category": "A:reduced"}],
        "price": {"amount": 1, "currency": "EUR"}})  # a client's price is ignored
    assert r.status_code == 201, r.text
    assert r.headers["cache-control"] == "private, no-store"
    offer = r.json()["offers"][0]
    assert offer["price"] == {"amount": 2 * 250 + 120, "currency": "EUR"}
    assert [(x["rider_category"], x["count"], x["unit_price"]["amount"], x["amount"]["amount"])
            for x in offer["travellers"]] == [(None, 2, 250, 500), ("A:reduced", 1, 120, 120)]
    assert (offer["kind"], offer["product_id"], offer["operators"], offer["orderable"]) == (
        "journey", "A:single", ["A"], True)
    # the trip leaves at 08:00 (now: a journey leaving now can be bought), arrives 08:20
    assert offer["validity"] == {"from": "2026-06-01T07:30:00+02:00",
                                 "until": "2026-06-01T08:20:00+02:00"}
    assert offer["expires_at"] == "2026-06-01T08:30:00+02:00"
    assert offer["journey_id"] == jid


def test_the_travellers_default_to_the_profile_category(shop: Shop) -> None:
    token = shop.user()
    shop.call("PATCH", "/v1/me/profile", token, json={"rider_category": "A:reduced"})
    offer = shop.offer(token, journey_id=shop.journey_id())
    assert offer["price"] == {"amount": 120, "currency": "EUR"}


def test_a_journey_the_fares_cannot_price_is_offered_without_a_price(shop: Shop) -> None:
    token = shop.user()
    offer = shop.offer(token, journey_id=shop.journey_id(frm="B:S1", to="B:S3"))
    assert (offer["price"], offer["orderable"]) == (None, False)
    assert offer["unpriced_reason"] == "the fares data cannot price leg 1 (trip B:T1)"
    r = shop.order(token, offer["id"])
    assert problem(r) == (422, "offer_id", f"offer {offer['id']} cannot be ordered: the "
                          "fares data cannot price leg 1 (trip B:T1)")
    assert count(shop, OrderRow, offer_id=offer["id"]) == 0


def test_a_product_offer_is_valid_for_its_duration_from_activation(shop: Shop) -> None:
    token = shop.user()
    offer = shop.offer(token, product={"operator": "B", "product_id": "B:day"},
                       travellers=[{"rider_category": "A:reduced", "count": 3}],
                       valid_from="2026-06-02T06:00:00+02:00")
    assert offer["price"] == {"amount": 3 * 350, "currency": "EUR"}
    assert offer["validity"] == {"from": "2026-06-02T06:00:00+02:00",
                                 "until": "2026-06-03T06:00:00+02:00"}
    assert offer["product_name"] == "Day pass"


@pytest.mark.parametrize(("body", "parameter", "detail"), [
    ({"journey_id": "JOURNEY", "travellers": [{"rider_category": "A:student"}]},
     "travellers[0].rider_category",
     "travellers[0].rider_category: unknown rider category 'A:student'; the fares know "
     "A:reduced"),
    ({"product": {"operator": "A", "product_id": "A:week"}}, "product.product_id",
     "product.product_id: unknown product 'A:week' of operator 'A' (GET "
     "/v1/fares/products?operator=A)"),
    ({"product": {"operator": "Z", "product_id": "Z:day"}}, "product.operator",
     "product.operator: unknown operator 'Z'"),
    ({"product": {"operator": "A", "product_id": "A:day"},
      "travellers": [{"rider_category": "A:senior"}]}, "travellers[0].rider_category",
     "travellers[0].rider_category: unknown rider category 'A:senior'; the fares know "
     "A:reduced"),
    ({"journey_id": "JOURNEY", "product": {"operator": "A", "product_id": "A:day"}},
     "journey_id", "journey_id: give journey_id or product, one of them"),
    ({}, "journey_id", "journey_id: give journey_id or product, one of them"),
    ({"journey_id": "JOURNEY", "travellers": [{"count": 5}, {"count": 5}]}, "travellers",
     "travellers: at most 9 travellers per offer"),
])
def test_bad_offers_are_422_naming_the_field(shop: Shop, body: dict, parameter: str,
                                             detail: str) -> None:
    if body.get("journey_id") == "JOURNEY":
        body = {**body, "journey_id": shop.journey_id()}
    r = shop.call("POST", "/v1/offers", shop.user(), json=body)
    assert problem(r) == (422, parameter, detail)


def test_a_tampered_journey_id_is_422_naming_it(shop: Shop) -> None:
    jid = shop.journey_id()
    tampered = jid[:20] + ("A" if jid[20] != "A" else "B") + jid[21:]
    r = shop.call("POST", "/v1/offers", shop.user(), json={"journey_id": tampered})
    assert problem(r) == (422, "journey_id", "journey_id: the signature does not match: the "
                          "id was changed, cut short or made by another server")


def test_a_journey_that_has_left_cannot_be_offered(shop: Shop) -> None:
    jid = shop.journey_id()
    shop.later(minutes=2)  # leaving now is fine, two minutes on still
    assert shop.call("POST", "/v1/offers", shop.user(), json={"journey_id": jid}
                     ).status_code == 201
    shop.later(seconds=1)
    r = shop.call("POST", "/v1/offers", shop.user(), json={"journey_id": jid})
    assert problem(r) == (422, "journey_id", "journey_id: the journey has left already; "
                          "plan it again")


@pytest.mark.parametrize(("content", "status"), [
    (b"{", 422), (b"[]", 422), (b'{"journey_id": 5}', 422),
    (b'{"journey_id": "' + b"j" * 5000 + b'"}', 422),
    (b'{"product": {"operator": "A", "product_id": "A:day", "evil": 1}}', 422),
    (b'{"journey_id": "j1x", "travellers": [{"count": 0}]}', 422),
    (b'{"journey_id": "j1x", "travellers": [{"rider_category": "<script>"}]}', 422),
    (b'{"journey_id": "' + b"x" * 70_000 + b'"}', 413),
])
def test_malformed_hostile_and_oversized_offer_bodies(shop: Shop, content: bytes,
                                                      status: int) -> None:
    r = shop.call("POST", "/v1/offers", shop.user(), content=content,
                  headers={"Content-Type": "application/json"})
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"


def test_offers_and_orders_need_a_commuter(shop: Shop) -> None:
    for path in ("/v1/offers", "/v1/orders"):
        for token in (None, "ua_forged"):
            r = shop.call("POST", path, token, key="k", json={})
            assert r.status_code == 401, (path, token)


# -- orders, idempotency, payments ------------------------------------------------------------

def test_an_order_issues_a_ticket_with_a_receipt(shop: Shop) -> None:
    token = shop.user()
    offer = shop.offer(token, journey_id=shop.journey_id(), travellers=[{"count": 2}])
    calls = shop.provider.calls
    r = shop.order(token, offer["id"])
    assert r.status_code == 201, r.text
    order = r.json()
    assert r.headers["location"] == f"/v1/orders/{order['id']}"
    assert (order["status"], order["price"], len(order["tickets"])) == (
        "completed", {"amount": 500, "currency": "EUR"}, 1)
    assert order["receipt"]["total"] == {"amount": 500, "currency": "EUR"}
    assert order["receipt"]["lines"] == [{"description": "Single", "rider_category": None,
                                          "count": 2, "unit_price": {"amount": 250,
                                                                     "currency": "EUR"},
                                          "amount": {"amount": 500, "currency": "EUR"}}]
    assert shop.provider.calls == calls + 1
    assert order["payment"]["payment_id"] in {p.payment_id for p in shop.provider.captured()}
    ticket = shop.call("GET", order["tickets"][0]["href"], token).json()
    assert (ticket["status"], ticket["travellers"], ticket["operators"], ticket["valid_from"],
            ticket["valid_until"], ticket["refundable"]) == (
        "valid", 2, ["A"], "2026-06-01T05:30:00+00:00", "2026-06-01T06:20:00+00:00", False)
    assert ticket["token"].startswith("TX1:")
    listed = shop.call("GET", "/v1/me/tickets", token).json()["tickets"]
    assert [t["id"] for t in listed] == [ticket["id"]]
    assert shop.call("GET", f"/v1/orders/{order['id']}", token).json() == order
    shop.later(minutes=20, seconds=1)  # past the last arrival (08:20)
    assert shop.call("GET", order["tickets"][0]["href"], token).json()["status"] == "expired"


def test_open_offers_per_account_are_limited(shop: Shop) -> None:
    from transit.shop.offers import MAX_OPEN

    token = shop.user()
    body = {"product": {"operator": "A", "product_id": "A:day"}}
    for _ in range(MAX_OPEN):
        r = shop.call("POST", "/v1/offers", token, json=body)
        assert r.status_code == 201
    r2 = shop.call("POST", "/v1/offers", token, json=body)
    assert problem(r2) == (429, None, "at most 100 open offers per account; they expire 30 "
                           "minutes after they are made")
    assert shop.order(token, r.json()["offers"][0]["id"]).status_code == 201
    assert shop.call("POST", "/v1/offers", token, json=body).status_code == 201  # one left
    assert shop.call("POST", "/v1/offers", token, json=body).status_code == 429
    assert shop.call("POST", "/v1/offers", shop.user(), json=body).status_code == 201
    shop.later(minutes=30)  # expired offers go with the next one
    assert shop.call("POST", "/v1/offers", token, json=body).status_code == 201


def test_one_ticket_per_rider_category(shop: Shop) -> None:
    token = shop.user()
    offer = shop.offer(token, journey_id=shop.journey_id(),
                       travellers=[{"count": 1}, {"rider_category": "A:reduced", "count": 2}])
    order = shop.order(token, offer["id"]).json()
    tickets = [shop.call("GET", t["href"], token).json() for t in order["tickets"]]
    assert [(t["rider_category"], t["travellers"]) for t in tickets] == [
        (None, 1), ("A:reduced", 2)]


def test_the_same_key_and_body_replay_the_answer(shop: Shop) -> None:
    token = shop.user()
    offer = shop.offer(token, journey_id=shop.journey_id())
    first = shop.order(token, offer["id"], key="same")
    again = shop.order(token, offer["id"], key="same")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert count(shop, TicketRow, order_id=first.json()["id"]) == 1


def test_the_same_key_with_another_body_is_422(shop: Shop) -> None:
    token = shop.user()
    offer = shop.offer(token, journey_id=shop.journey_id())
    assert shop.order(token, offer["id"], key="reuse").status_code == 201
    r = shop.order(token, offer["id"], pay="tok_decline", key="reuse")
    assert problem(r) == (422, "Idempotency-Key", "Idempotency-Key: this key was used with "
                          "another request body; use a new key for a new purchase")


def test_keys_are_scoped_to_the_account(shop: Shop) -> None:
    a, b = shop.user(), shop.user()
    oa = shop.offer(a, journey_id=shop.journey_id())
    ob = shop.offer(b, journey_id=shop.journey_id())
    assert shop.order(a, oa["id"], key="shared-key").status_code == 201
    r = shop.order(b, ob["id"], key="shared-key")
    assert r.status_code == 201 and "idempotent-replayed" not in r.headers


def test_a_duplicate_while_the_first_is_in_flight_is_409(shop: Shop) -> None:
    token = shop.user()
    offer = shop.offer(token, journey_id=shop.journey_id())
    body = {"offer_id": offer["id"], "payment": {"token": "tok_ok"}}
    me = shop.call("GET", "/v1/me", token).json()["id"]
    claim = idempotency.begin(shop.db, me, "flying", idempotency.fingerprint(body))
    r = shop.call("POST", "/v1/orders", token, key="flying", json=body)
    assert problem(r)[:2] == (409, "Idempotency-Key")
    assert r.headers["retry-after"] == "1"
    assert count(shop, OrderRow, offer_id=offer["id"]) == 0
    idempotency.release(shop.db, claim.row_id)
    assert shop.call("POST", "/v1/orders", token, key="flying", json=body).status_code == 201


def test_an_order_needs_an_idempotency_key(shop: Shop) -> None:
    token = shop.user()
    offer = shop.offer(token, journey_id=shop.journey_id())
    r = shop.call("POST", "/v1/orders", token,
                  json={"offer_id": offer["id"], "payment": {"token": "tok_ok"}})
    assert problem(r)[:2] == (400, "Idempotency-Key")
    r = shop.call("POST", "/v1/orders", token, key="x" * 256,
                  json={"offer_id": offer["id"], "payment": {"token": "tok_ok"}})
    assert r.status_code == 422


def test_an_expired_offer_is_410(shop: Shop) -> None:
    token = shop.user()
    offer = shop.offer(token, product={"operator": "A", "product_id": "A:day"})
    shop.later(minutes=30)
    r = shop.order(token, offer["id"])
    assert problem(r) == (410, "offer_id", f"offer {offer['id']} expired at "
                          "2026-06-01T06:30:00+00:00; ask for a new one (POST /v1/offers)")
    assert r.json()["title"] == "Gone"


def test_another_users_offer_order_and_ticket_are_404(shop: Shop) -> None:
    a, b = shop.user(), shop.user()
    order = shop.bought(a)
    offer = shop.offer(a, journey_id=shop.journey_id())
    assert problem(shop.order(b, offer["id"])) == (
        404, "offer_id", f"unknown offer {offer['id']!r}")
    tid = order["tickets"][0]["id"]
    for path in (f"/v1/orders/{order['id']}", f"/v1/me/tickets/{tid}",
                 f"/v1/me/tickets/{tid}/qr.svg", f"/v1/me/tickets/{tid}/qr.png"):
        assert shop.call("GET", path, b).status_code == 404, path
    assert shop.call("POST", f"/v1/me/tickets/{tid}/refund", b).status_code == 404
    assert shop.call("GET", "/v1/me/tickets", b).json() == {"tickets": []}


def test_a_second_order_of_one_offer_is_409(shop: Shop) -> None:
    token = shop.user()
    offer = shop.offer(token, journey_id=shop.journey_id())
    first = shop.order(token, offer["id"]).json()
    r = shop.order(token, offer["id"])
    assert problem(r) == (409, "offer_id", f"offer {offer['id']} is ordered already "
                          f"(order {first['id']})")


def test_a_declined_payment_fails_the_order_and_charges_nothing(shop: Shop) -> None:
    token = shop.user()
    offer = shop.offer(token, journey_id=shop.journey_id())
    captured = len(shop.provider.captured())
    r = shop.order(token, offer["id"], pay="tok_decline")
    assert r.status_code == 402 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["title"] == "Payment Required"
    order = r.json()["order"]
    assert (order["status"], order["tickets"], order["receipt"]) == ("failed", [], None)
    assert order["failure_reason"] == "card declined (tok_decline)"
    assert len(shop.provider.captured()) == captured
    assert count(shop, TicketRow, order_id=order["id"]) == 0


def test_a_timeout_that_charged_nothing_fails_the_order(shop: Shop) -> None:
    token = shop.user()
    offer = shop.offer(token, journey_id=shop.journey_id())
    captured = len(shop.provider.captured())
    r = shop.order(token, offer["id"], pay="tok_timeout", key="to")
    assert r.status_code == 202 and r.json()["status"] == "payment_pending"
    got = shop.call("GET", r.headers["location"], token).json()
    assert (got["status"], got["tickets"]) == ("failed", [])
    assert "nothing was charged" in got["failure_reason"]
    assert len(shop.provider.captured()) == captured


def test_a_payment_that_succeeds_after_the_client_gave_up(shop: Shop) -> None:
    """The provider captures but answers too late: the retry (same key) finds the capture
    and issues the ticket; one charge, one ticket."""
    token = shop.user()
    offer = shop.offer(token, journey_id=shop.journey_id())
    captured = len(shop.provider.captured())
    r = shop.order(token, offer["id"], pay="tok_late", key="late")
    assert (r.status_code, r.json()["status"], r.json()["tickets"]) == (
        202, "payment_pending", [])
    retry = shop.order(token, offer["id"], pay="tok_late", key="late")
    assert retry.status_code == 201 and retry.headers["idempotent-replayed"] == "true"
    order = retry.json()
    assert order["status"] == "completed" and len(order["tickets"]) == 1
    assert len(shop.provider.captured()) == captured + 1
    again = shop.order(token, offer["id"], pay="tok_late", key="late")
    assert again.json() == order
    assert count(shop, TicketRow, order_id=order["id"]) == 1


def test_an_unknown_payment_token_is_422(shop: Shop) -> None:
    token = shop.user()
    offer = shop.offer(token, journey_id=shop.journey_id())
    r = shop.order(token, offer["id"], pay="tok_free")
    assert problem(r)[:2] == (422, "payment.token")
    assert count(shop, OrderRow, offer_id=offer["id"]) == 0


@pytest.mark.parametrize(("content", "status"), [
    (b"{", 422), (b'{"offer_id": "of_x"}', 422),
    (b'{"offer_id": "' + b"o" * 100 + b'", "payment": {"token": "tok_ok"}}', 422),
    (b'{"offer_id": "of_x", "payment": {"token": "tok_ok", "cvv": "123"}}', 422),
    (b'{"offer_id": "of_x", "payment": {"token": "' + b"t" * 70_000 + b'"}}', 413),
])
def test_malformed_hostile_and_oversized_order_bodies(shop: Shop, content: bytes,
                                                      status: int) -> None:
    r = shop.call("POST", "/v1/orders", shop.user(), key="k", content=content,
                  headers={"Content-Type": "application/json"})
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"


# -- tickets: QR codes, refunds, revocation ---------------------------------------------------

def test_qr_codes_of_a_ticket(shop: Shop) -> None:
    token = shop.user()
    tid = shop.bought(token)["tickets"][0]["id"]
    svg = shop.call("GET", f"/v1/me/tickets/{tid}/qr.svg", token)
    assert svg.headers["content-type"] == "image/svg+xml" and b"<svg" in svg.content
    png = shop.call("GET", f"/v1/me/tickets/{tid}/qr.png", token)
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert png.headers["cache-control"] == "private, no-store"


def test_a_refund_before_the_validity_revokes_the_ticket(shop: Shop) -> None:
    from transit.tickets.revocation import verify_revocations

    token = shop.user()
    before = shop.client.get("/v1/tickets/revoked", params={"since": "0"})
    cursor = before.headers["x-next-cursor"]
    order = shop.bought(token, depart_at="2026-06-02T07:00:00+02:00")  # T1 tomorrow 08:00
    tid = order["tickets"][0]["id"]
    r = shop.call("POST", f"/v1/me/tickets/{tid}/refund", token)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["refunded_at"]) == (
        "refunded", "2026-06-01T06:00:00+00:00")
    assert shop.call("GET", f"/v1/orders/{order['id']}", token).json()["status"] == "refunded"
    assert [x.amount.amount for x in shop.provider.refunded()][-1] == 250
    again = shop.call("POST", f"/v1/me/tickets/{tid}/refund", token)  # idempotent
    assert again.json()["status"] == "refunded"
    assert len([x for x in shop.provider.refunded() if x.amount.amount == 250]) >= 1
    page = shop.client.get("/v1/tickets/revoked", params={"since": cursor})
    assert page.headers["content-type"] == "application/x-transit-revocations+cbor"
    keys = shop.client.app.state.ticket_keys.jwks(int(T0.timestamp()))  # type: ignore[attr-defined]
    ids, nxt = verify_revocations(page.content, keys, since=cursor)
    assert ids == [tid] and int(nxt) > int(cursor)
    with shop.db.session() as s:
        assert [x.status for x in s.scalars(select(SaleRow).where(
            SaleRow.ticket_id == tid))] == ["refunded"]


def test_no_refund_once_the_validity_started(shop: Shop) -> None:
    token = shop.user()
    tid = shop.bought(token)["tickets"][0]["id"]  # valid from 07:30, now 08:00
    r = shop.call("POST", f"/v1/me/tickets/{tid}/refund", token)
    assert problem(r) == (409, None, f"ticket {tid} cannot be refunded: its validity "
                          "started at 2026-06-01T05:30:00+00:00")


@pytest.mark.parametrize("since", ["-1", "abc", "1e9", "9" * 20])
def test_a_bad_revocation_cursor_is_422(shop: Shop, since: str) -> None:
    r = shop.client.get("/v1/tickets/revoked", params={"since": since})
    assert problem(r)[:2] == (422, "since")


# -- the account: export and erasure ----------------------------------------------------------

def test_erasure_keeps_orders_and_tickets_detached_and_says_so(shop: Shop) -> None:
    token = shop.user()
    order = shop.bought(token)
    exported = shop.call("GET", "/v1/me/export", token).json()
    assert [o["id"] for o in exported["orders"]] == [order["id"]]
    assert [t["id"] for t in exported["tickets"]] == [order["tickets"][0]["id"]]
    r = shop.call("DELETE", "/v1/me", token)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["erased"]["offers"] == 1 and body["erased"]["idempotency_keys"] == 1
    assert "orders" not in body["erased"] and "tickets" not in body["erased"]
    kept = {x["what"].split(" (")[0]: x for x in body["remains"][1:]}
    assert set(kept) == {"1 orders", "1 tickets"}
    assert kept["1 orders"]["retention"] == "until 2036-06-01 (the latest)"
    assert "operators" in kept["1 tickets"]["why"]
    with shop.db.session() as s:
        row = s.get(OrderRow, order["id"])
        assert row is not None and row.user_id is None
        assert s.get(TicketRow, order["tickets"][0]["id"]).user_id is None  # type: ignore[union-attr]


# -- inspections and sales (operator keys) ----------------------------------------------------

def _key(shop: Shop, op: str | None, role: str) -> str:
    from transit.accounts import service
    from transit.accounts.scope import CLI

    service.record_operators(shop.db, [("A", "Operator A"), ("B", "Operator B")], "cli")
    return service.create_key(shop.db, op, role, CLI).token


def _inspect(shop: Shop, key: str | None, text: str, **body: Any) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return shop.client.post("/v1/inspections", json={"text": text, **body}, headers=headers)


def test_an_inspection_answers_valid_with_no_reason(shop: Shop) -> None:
    token = shop.user()
    tid = shop.bought(token)["tickets"][0]["id"]
    text = shop.call("GET", f"/v1/me/tickets/{tid}", token).json()["token"]
    r = _inspect(shop, _key(shop, "A", "inspector"), text, vehicle_id="bus-1")
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["valid"], got["reasons"], got["ticket_id"], got["travellers"],
            got["valid_until"], got["inspected_at"]) == (
        True, [], tid, 1, "2026-06-01T06:20:00+00:00", "2026-06-01T06:00:00+00:00")


def test_inspection_reasons(shop: Shop) -> None:
    token = shop.user()
    tid = shop.bought(token)["tickets"][0]["id"]
    text = shop.call("GET", f"/v1/me/tickets/{tid}", token).json()["token"]
    a, b = _key(shop, "A", "inspector"), _key(shop, "B", "inspector")
    wrong = _inspect(shop, b, text).json()
    assert (wrong["valid"], wrong["reasons"]) == (False, ["wrong operator: valid on A, not B"])
    assert _inspect(shop, a, text, vehicle_id="bus-1").json()["valid"] is True
    shop.later(minutes=5)  # the same ticket on another vehicle five minutes later
    shared = _inspect(shop, a, text, vehicle_id="tram-7").json()
    assert (shared["valid"], shared["reasons"]) == (False, [
        "inspected on another vehicle at the same time: bus-1 at 2026-06-01T06:00:00+00:00"])
    shop.later(minutes=16)  # 08:21: after the last arrival
    late = _inspect(shop, a, text, vehicle_id="bus-1").json()
    assert late["reasons"] == ["expired: valid until 2026-06-01T06:20:00Z"]
    flipped = text[:-3] + ("A" if text[-3] != "A" else "B") + text[-2:]
    bad = _inspect(shop, a, flipped).json()
    assert bad["valid"] is False and bad["ticket_id"] is None and len(bad["reasons"]) == 1


def test_a_refunded_ticket_inspects_as_revoked(shop: Shop) -> None:
    token = shop.user()
    tid = shop.bought(token, depart_at="2026-06-02T07:00:00+02:00")["tickets"][0]["id"]
    text = shop.call("GET", f"/v1/me/tickets/{tid}", token).json()["token"]
    shop.call("POST", f"/v1/me/tickets/{tid}/refund", token)
    shop.later(hours=24)  # 2026-06-02 08:00: within its validity
    got = _inspect(shop, _key(shop, "A", "inspector"), text).json()
    assert got["reasons"] == [f"revoked: ticket {tid} was refunded or cancelled"]


def test_who_may_inspect(shop: Shop) -> None:
    token = shop.user()
    tid = shop.bought(token)["tickets"][0]["id"]
    text = shop.call("GET", f"/v1/me/tickets/{tid}", token).json()["token"]
    for key, status in ((None, 401), ("tk_garbage", 401), (_key(shop, "A", "viewer"), 403),
                        (_key(shop, "A", "realtime"), 403), (_key(shop, "A", "publisher"), 200),
                        (_key(shop, "A", "inspector"), 200), (token, 401)):
        assert _inspect(shop, key, text).status_code == status, key
    admin = _key(shop, None, "admin")
    assert problem(_inspect(shop, admin, text))[:2] == (422, "operator")
    assert _inspect(shop, admin, text, operator="A").json()["valid"] is True


def test_inspecting_needs_the_inspect_tickets_permission(shop: Shop) -> None:
    """Decided by the require_permission dependency before the body is read: a key whose
    role may not inspect is 403 naming the roles that may, whatever it sent."""
    from transit.accounts.roles import Permission
    from transit.api.auth import require_permission
    from transit.shop.inspections_router import Inspector

    assert Inspector.__metadata__[0].dependency.__qualname__ == \
        require_permission(Permission.INSPECT_TICKETS).__qualname__
    token = shop.user()
    tid = shop.bought(token)["tickets"][0]["id"]
    text = shop.call("GET", f"/v1/me/tickets/{tid}", token).json()["token"]
    for role in ("viewer", "realtime"):
        key = _key(shop, "A", role)
        for body in ({"text": text}, {"text": ""}, {"text": text, "evil": 1}):
            r = shop.client.post("/v1/inspections", json=body,
                                 headers={"Authorization": f"Bearer {key}"})
            assert problem(r) == (403, None, f"a {role} key may not inspect tickets; roles "
                                  "that may: admin, publisher, inspector"), (role, body)
    r = shop.client.post("/v1/inspections", json={"text": ""})
    assert (r.status_code, r.headers["www-authenticate"]) == (401, 'Bearer realm="transit"')
    inspector = _key(shop, "A", "inspector")
    assert _inspect(shop, inspector, "").status_code == 422  # its input is then checked
    ok = _inspect(shop, inspector, text)
    assert (ok.status_code, ok.json()["valid"], ok.json()["ticket_id"]) == (200, True, tid)


@pytest.mark.parametrize(("content", "status"), [
    (b"{", 422), (b'{"text": ""}', 422), (b'{"text": "x", "vehicle_id": 5}', 422),
    (b'{"text": "' + b"T" * 5000 + b'"}', 422), (b'{"text": "x", "evil": 1}', 422),
    (b'{"text": "' + b"T" * 70_000 + b'"}', 413)])
def test_malformed_and_oversized_inspections(shop: Shop, content: bytes, status: int) -> None:
    r = shop.client.post("/v1/inspections", content=content, headers={
        "Authorization": f"Bearer {_key(shop, 'A', 'inspector')}",
        "Content-Type": "application/json"})
    assert r.status_code == status, r.text


def test_garbage_scans_are_invalid_with_a_reason(shop: Shop) -> None:
    key = _key(shop, "A", "inspector")
    for text in ("hello", "TX1:", "TX1:%%%%", "TX1:" + "0" * 4000):
        got = _inspect(shop, key, text).json()
        assert got["valid"] is False and got["reasons"] and got["ticket_id"] is None


def test_an_operator_sees_its_own_sales_only(shop: Shop) -> None:
    token = shop.user()
    sold = shop.bought(token)
    day = shop.offer(token, product={"operator": "B", "product_id": "B:day"})
    b_order = shop.order(token, day["id"]).json()
    viewer_a, viewer_b = _key(shop, "A", "viewer"), _key(shop, "B", "viewer")
    a = shop.client.get("/v1/operators/A/sales", params={"limit": 1000},
                        headers={"Authorization": f"Bearer {viewer_a}"}).json()
    assert sold["id"] in {x["order_id"] for x in a["sales"]}
    assert b_order["id"] not in {x["order_id"] for x in a["sales"]}
    mine = next(x for x in a["sales"] if x["order_id"] == sold["id"])
    assert (mine["amount"], mine["status"], mine["product_id"]) == (
        {"amount": 250, "currency": "EUR"}, "sold", "A:single")
    b = shop.client.get("/v1/operators/B/sales", params={"limit": 1000},
                        headers={"Authorization": f"Bearer {viewer_b}"}).json()
    assert {x["order_id"] for x in b["sales"]} >= {b_order["id"]}
    assert sold["id"] not in {x["order_id"] for x in b["sales"]}
    assert sum(x["amount"]["amount"] for x in b["sales"] if x["status"] == "sold") \
        == b["totals"]["EUR"]
    other = shop.client.get("/v1/operators/A/sales",
                            headers={"Authorization": f"Bearer {viewer_b}"})
    assert other.status_code == 403
    assert shop.client.get("/v1/operators/A/sales", params={"from": "2026-06-02"}, headers={
        "Authorization": f"Bearer {viewer_a}"}).json()["sales"] == []


def test_a_request_that_died_after_booking_is_taken_over(shop: Shop) -> None:
    """The key stays in flight until its lease runs out; then a retry takes it over and
    pays the order the first attempt booked (no second order)."""
    from types import SimpleNamespace

    from transit.shop import orders
    from transit.shop.wiring import shop_of

    token = shop.user()
    offer = shop.offer(token, journey_id=shop.journey_id())
    body = {"offer_id": offer["id"], "payment": {"token": "tok_ok"}}
    me = shop.call("GET", "/v1/me", token).json()["id"]
    claim = idempotency.begin(shop.db, me, "died", idempotency.fingerprint(body), lease_s=-1)
    booked = orders.book(shop_of(SimpleNamespace(app=shop.client.app)), me, offer["id"],
                         claim.row_id)  # type: ignore[arg-type]
    r = shop.call("POST", "/v1/orders", token, key="died", json=body)
    assert r.status_code == 201, r.text
    assert (r.json()["id"], r.json()["status"]) == (booked.id, "completed")
    assert r.headers["idempotent-replayed"] == "true"
    assert count(shop, OrderRow, offer_id=offer["id"]) == 1
    assert count(shop, TicketRow, order_id=booked.id) == 1
