"""Payments settled after the client gave up (transit.shop.settlement), on SQLite and
PostgreSQL: an order left waiting for its payment is settled once it has waited
TRANSIT_PAYMENT_SETTLE_AFTER_S, by asking the provider, whose ledger (the built-in test
provider's `test_payments` table) outlives a restart: a late capture issues exactly one
ticket for one charge, a late decline fails the order with nothing charged."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests import databases
from tests.commuters_support import compile_ab
from tests.shop_support import T0, MovableClock, Shop, shop_app
from transit.db.models_tickets import OrderRow, SaleRow, TestPaymentRow, TicketRow
from transit.fares.model import Money
from transit.settings import Settings
from transit.shop import orders
from transit.shop.payments import TestProvider
from transit.shop.settlement import Settler, settle_due
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


def count(shop: Shop, table: Any, **where: Any) -> int:
    with shop.db.session() as s:
        q = select(func.count()).select_from(table)
        for k, v in where.items():
            q = q.where(getattr(table, k) == v)
        return int(s.scalar(q) or 0)


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


def test_a_pending_order_whose_request_died(setup: Setup, shop: Shop) -> None:
    """Booked, charged at the provider, then the process died before settling: completed
    in the background. Booked and never charged: left pending (nothing taken; a retry of
    its request takes it over)."""
    from transit.shop import idempotency

    app_shop = shop_for(shop.client.app.state)  # type: ignore[attr-defined]
    booked = []
    for name in ("charged", "never"):
        token = shop.user()
        offer = shop.offer(token, journey_id=shop.journey_id())
        me = shop.call("GET", "/v1/me", token).json()["id"]
        claim = idempotency.begin(shop.db, me, name, "print", lease_s=-1)
        booked.append(orders.book(app_shop, me, offer["id"], claim.row_id))
    charged, never = booked
    app_shop.provider.charge(charged.id, Money(charged.amount, charged.currency), "tok_ok",
                             "transit order")
    shop.later(seconds=AFTER_S)
    report = settle_due(restarted(shop, setup.data), AFTER_S)
    assert (report.completed, report.failed, report.waiting) == (
        [charged.id], [], [never.id])
    assert count(shop, TicketRow, order_id=charged.id) == 1
    with shop.db.session() as s:
        assert s.get(OrderRow, never.id).status == "pending"  # type: ignore[union-attr]


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
