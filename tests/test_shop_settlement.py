"""Payments settled after the client gave up (transit.shop.settlement), on SQLite and
PostgreSQL: an order left waiting for its payment is settled once it has waited
TRANSIT_PAYMENT_SETTLE_AFTER_S, by asking the provider, whose ledger (the built-in test
provider's `test_payments` table) outlives a restart: a late capture issues exactly one
ticket for one charge, a late decline fails the order with nothing charged."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from tests import databases
from tests.commuters_support import compile_ab
from tests.shop_support import T0, MovableClock, Shop, count, shop_app
from transit.db.models_tickets import (
    IdempotencyKeyRow,
    OrderRow,
    SaleRow,
    TestPaymentRow,
    TicketRow,
)
from transit.fares.model import Money
from transit.settings import Settings
from transit.shop import idempotency, orders
from transit.shop.payments import TestProvider
from transit.shop.settlement import Settler, SettleReport, settle_due
from transit.shop.wiring import shop_for
from transit.tickets.issuing import KeyRingIssuer
from transit.tickets.keyring import keyring_for
from transit.tickets.verify import verify_text

AFTER_S = Settings().payment_settle_after_s


@dataclass
class Setup:
    shop: Shop
    data: Path
    url: str


@pytest.fixture(scope="module", params=databases.BACKENDS)
def setup(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Setup]:
    if request.param == "postgresql" and databases.PG_URL is None:
        pytest.skip(databases.PG_SKIP)
    root = tmp_path_factory.mktemp(f"settle-{request.param}")
    data = compile_ab(root)
    clock = MovableClock(T0)
    with databases.database_url(request.param, root) as url, \
            shop_app(data, url, clock) as client:
        app: Any = client.app
        yield Setup(Shop(client, app.state.db, clock, app.state.payment_provider), data, url)


@pytest.fixture
def shop(setup: Setup) -> Iterator[Shop]:
    setup.shop.clock.at = T0
    yield setup.shop
    setup.shop.clock.at = T0


def restarted(shop: Shop, data: Path) -> orders.Shop:
    """Another process's shop on the same database and key directory: a new provider
    object with nothing in memory."""
    return orders.Shop(shop.db, shop.clock, TestProvider(db=shop.db),
                       KeyRingIssuer(keyring_for(data)), timedelta(days=3653))


def _waiting_order(shop: Shop, pay: str) -> tuple[str, dict[str, Any], str]:
    token = shop.user()
    offer = shop.offer(token, journey_id=shop.journey_id())
    r = shop.order(token, offer["id"], pay=pay, key=f"k-{offer['id']}")
    assert (r.status_code, r.json()["status"], r.json()["tickets"]) == (
        202, "payment_pending", [])
    return token, r.json(), f"k-{offer['id']}"


def test_settings_defaults() -> None:
    s = Settings()
    assert (s.payment_settle_after_s, s.payment_settle_interval_s) == (60, 15.0)


def test_a_late_capture_is_settled_after_a_restart_with_one_ticket(setup: Setup,
                                                                    shop: Shop) -> None:
    captured = count(shop, TestPaymentRow, kind="charge", status="captured")
    token, order, key = _waiting_order(shop, "tok_late")
    assert count(shop, TestPaymentRow, key=order["id"], status="captured") == 1
    other = restarted(shop, setup.data)
    shop.later(seconds=AFTER_S - 1)  # not yet: the client may still retry
    assert settle_due(other, AFTER_S).completed == []
    assert count(shop, TicketRow, order_id=order["id"]) == 0
    shop.later(seconds=1)
    report = settle_due(other, AFTER_S)
    assert (report.completed, report.failed, report.waiting) == ([order["id"]], [], [])
    assert settle_due(other, AFTER_S).completed == []  # settled once
    assert settle_due(shop_for(shop.client.app.state), AFTER_S).completed == []  # type: ignore[attr-defined]
    assert count(shop, TicketRow, order_id=order["id"]) == 1
    assert count(shop, SaleRow, order_id=order["id"]) == 1
    assert len(other.provider.captured()) == captured + 1  # type: ignore[attr-defined]
    got = shop.call("GET", f"/v1/me/orders/{order['id']}", token).json()
    assert (got["status"], len(got["tickets"])) == ("completed", 1)
    assert got["payment"]["payment_id"].startswith("pay_")
    retry = shop.order(token, order["offer_id"], pay="tok_late", key=key)
    assert (retry.status_code, retry.json()) == (201, got)
    ticket = shop.call("GET", got["tickets"][0]["href"], token).json()
    keys = shop.client.get("/.well-known/ticket-keys").json()
    v = verify_text(ticket["token"], keys, int(shop.clock.now().timestamp()), operator="A")
    assert (v.valid, v.reasons) == (True, [])
    assert count(shop, TestPaymentRow, kind="charge", status="captured") == captured + 1


def test_a_late_decline_fails_the_order_and_charges_nothing(setup: Setup, shop: Shop
                                                            ) -> None:
    captured = count(shop, TestPaymentRow, kind="charge", status="captured")
    token, order, _ = _waiting_order(shop, "tok_late_decline")
    shop.later(seconds=AFTER_S)
    report = settle_due(restarted(shop, setup.data), AFTER_S)
    assert (report.completed, report.failed) == ([], [order["id"]])
    got = shop.call("GET", f"/v1/me/orders/{order['id']}", token).json()
    assert (got["status"], got["tickets"], got["failure_reason"]) == (
        "failed", [], "card declined (tok_late_decline)")
    assert count(shop, TicketRow, order_id=order["id"]) == 0
    assert count(shop, TestPaymentRow, kind="charge", status="captured") == captured


def test_a_timeout_that_charged_nothing_fails_in_the_background(setup: Setup, shop: Shop
                                                                 ) -> None:
    token, order, _ = _waiting_order(shop, "tok_timeout")
    shop.later(seconds=AFTER_S)
    assert settle_due(restarted(shop, setup.data), AFTER_S).failed == [order["id"]]
    got = shop.call("GET", f"/v1/me/orders/{order['id']}", token).json()
    assert got["status"] == "failed"
    assert got["failure_reason"] == ("the payment did not go through (the provider has no "
                                     "charge for this order); nothing was charged")


def _booked(shop: Shop, key: str, lease_s: float = -1
            ) -> tuple[str, orders.OrderRow, orders.Shop]:
    """(access token, order) of an order booked under `key` whose request then died
    (its key's lease `lease_s` from now: run out by default), never charged."""
    app_shop = shop_for(shop.client.app.state)  # type: ignore[attr-defined]
    token = shop.user()
    offer = shop.offer(token, journey_id=shop.journey_id())
    me = shop.call("GET", "/v1/me", token).json()["id"]
    claim = idempotency.begin(shop.db, me, key, "print", lease_s=lease_s)
    return token, orders.book(app_shop, me, offer["id"], claim.row_id), app_shop


def test_a_pending_order_whose_request_died(setup: Setup, shop: Shop) -> None:
    """Booked, charged at the provider, then the process died before settling: completed
    in the background. Booked and never charged: left pending while its offer can be
    ordered (nothing taken; a retry of its request takes it over), then failed with
    nothing charged and its key released: the same key orders a new offer."""
    _, charged, app_shop = _booked(shop, "charged")
    token, never, _ = _booked(shop, "never")
    app_shop.provider.charge(charged.id, Money(charged.amount, charged.currency), "tok_ok",
                             "transit order")
    shop.later(seconds=AFTER_S)
    other = restarted(shop, setup.data)
    report = settle_due(other, AFTER_S)
    assert (report.completed, report.failed, report.waiting) == (
        [charged.id], [], [never.id])
    assert count(shop, TicketRow, order_id=charged.id) == 1
    with shop.db.session() as s:
        assert s.get(OrderRow, never.id).status == "pending"  # type: ignore[union-attr]
    shop.later(minutes=30, seconds=-AFTER_S - 1)  # the offer expires 30 min after T0
    assert settle_due(other, AFTER_S).waiting == [never.id]
    shop.later(seconds=1)
    report = settle_due(other, AFTER_S)
    assert (report.completed, report.failed, report.waiting) == ([], [never.id], [])
    assert settle_due(other, AFTER_S) == SettleReport([], [], [])
    assert count(shop, IdempotencyKeyRow, order_id=never.id) == 0
    assert count(shop, TestPaymentRow, key=never.id) == 0  # nothing charged
    assert count(shop, TicketRow, order_id=never.id) == 0
    listed = shop.call("GET", "/v1/me/orders", token).json()["orders"]
    assert [(o["id"], o["status"], o["tickets"], o["failure_reason"], o["payment"])
            for o in listed] == [(never.id, "failed", [], orders.NEVER_CHARGED,
                                  {"provider": "test", "payment_id": None})]
    assert orders.NEVER_CHARGED == ("the order was never charged and its offer has "
                                    "expired; nothing was charged: order again from a new "
                                    "offer")
    offer = shop.offer(token, product={"operator": "A", "product_id": "A:day"})
    again = shop.order(token, offer["id"], key="never")
    assert (again.status_code, again.json()["status"], len(again.json()["tickets"])) == (
        201, "completed", 1)
    assert again.json()["id"] != never.id


def test_an_expired_order_whose_key_is_held_is_left_pending(setup: Setup, shop: Shop
                                                             ) -> None:
    """A request holding the key (in flight within its lease) may be charging the order:
    the settler leaves it and its key alone, also past the offer's expiry; once the lease
    has run out (the request died), the order is failed."""
    _, held, _ = _booked(shop, "held", lease_s=600)
    shop.later(minutes=30)
    other = restarted(shop, setup.data)
    report = settle_due(other, AFTER_S)
    assert (report.completed, report.failed, report.waiting) == ([], [], [held.id])
    assert count(shop, IdempotencyKeyRow, order_id=held.id) == 1
    with shop.db.session() as s:
        assert s.get(OrderRow, held.id).status == "pending"  # type: ignore[union-attr]
        s.execute(update(IdempotencyKeyRow).where(IdempotencyKeyRow.order_id == held.id)
                  .values(locked_until=datetime.now(UTC) - timedelta(seconds=1)))
    report = settle_due(other, AFTER_S)
    assert (report.completed, report.failed, report.waiting) == ([], [held.id], [])
    assert count(shop, IdempotencyKeyRow, order_id=held.id) == 0


def test_the_list_settles_waiting_payments_as_a_look_does(setup: Setup, shop: Shop,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    """GET /v1/me/orders settles the waiting orders of its page like GET of one order,
    at most orders.LIST_SETTLE of them (the first listed, newest first)."""
    monkeypatch.setattr(orders, "LIST_SETTLE", 2)
    token = shop.user()
    made = []
    for pay in ("tok_late", "tok_late_decline", "tok_late"):
        offer = shop.offer(token, journey_id=shop.journey_id())
        r = shop.order(token, offer["id"], pay=pay)
        assert (r.status_code, r.json()["status"]) == (202, "payment_pending")
        made.append(r.json()["id"])
        shop.later(seconds=1)  # created_at orders the list
    listed = shop.call("GET", "/v1/me/orders", token).json()["orders"]
    assert [(o["id"], o["status"], len(o["tickets"])) for o in listed] == [
        (made[2], "completed", 1), (made[1], "failed", 0), (made[0], "payment_pending", 0)]
    assert count(shop, TicketRow, order_id=made[2]) == 1
    listed = shop.call("GET", "/v1/me/orders", token).json()["orders"]
    assert [(o["id"], o["status"], len(o["tickets"])) for o in listed] == [
        (made[2], "completed", 1), (made[1], "failed", 0), (made[0], "completed", 1)]
    assert [count(shop, TicketRow, order_id=i) for i in made] == [1, 0, 1]
    one = shop.call("GET", f"/v1/me/orders/{made[0]}", token).json()
    assert one == listed[2]


def test_the_settler_thread_of_a_restarted_app_issues_the_ticket(setup: Setup, shop: Shop
                                                                 ) -> None:
    token, order, _ = _waiting_order(shop, "tok_late")
    clock = MovableClock(shop.clock.at + timedelta(seconds=AFTER_S))
    with shop_app(setup.data, setup.url, clock, payment_settle_interval_s=0.05) as again:
        app: Any = again.app
        settler: Settler = app.state.settler
        deadline = time.monotonic() + 10
        while (settler.rounds == 0 or count(shop, TicketRow, order_id=order["id"]) == 0) \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        assert settler.rounds >= 1 and settler.after_s == AFTER_S
    assert count(shop, TicketRow, order_id=order["id"]) == 1
    got = shop.call("GET", f"/v1/me/orders/{order['id']}", token).json()
    assert (got["status"], len(got["tickets"])) == ("completed", 1)
