"""Orders: booking an offer, charging it once, and settling what the payment became.

The provider's idempotency key is the order id: a retry, a crashed request taken over or a
reconciliation never charges twice. An order is `pending` until charged, then `completed`
(tickets issued), `failed` (declined: nothing charged, no ticket) or `payment_pending`
(the provider did not answer: the next look at the order asks the provider what became of
the charge, and completes or fails it). A `pending` order whose request died before any
charge reached the provider is failed by the settler once its offer has expired
(`expire`): there is no `expired` state, a failure with nothing charged says it all."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from transit.clock import Clock
from transit.db.engine import Database
from transit.db.models_tickets import IdempotencyKeyRow, OfferRow, OrderRow, TicketRow
from transit.fares.model import Money
from transit.shop.fulfilment import fulfil
from transit.shop.idempotency import release_abandoned
from transit.shop.payments import PaymentProvider, PaymentResult, PaymentTimeout
from transit.tickets.issuing import Issuer

PENDING, PAYMENT_PENDING = "pending", "payment_pending"
COMPLETED, FAILED, REFUNDED = "completed", "failed", "refunded"
FINAL = (COMPLETED, FAILED, REFUNDED)
NEVER_CHARGED = ("the order was never charged and its offer has expired; nothing was "
                 "charged: order again from a new offer")
LIST_SETTLE = 5  # waiting orders settled per page of a list (each asks the provider)


class OrderError(Exception):
    def __init__(self, status: int, detail: str, parameter: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.parameter = parameter


@dataclass
class Shop:
    """What the order flow needs, built once per app."""

    db: Database
    clock: Clock
    provider: PaymentProvider
    issuer: Issuer
    retention: timedelta


def _offer_for_order(s: Any, user_id: str, offer_id: str, now: datetime) -> OfferRow:
    offer = s.get(OfferRow, offer_id)
    if offer is None or offer.user_id != user_id:
        raise OrderError(404, f"unknown offer {offer_id[:60]!r}", "offer_id")
    if now >= offer.expires_at:
        raise OrderError(410, f"offer {offer_id} expired at {offer.expires_at.isoformat()}; "
                         "ask for a new one (POST /v1/offers)", "offer_id")
    if offer.amount is None or offer.currency is None:
        raise OrderError(422, f"offer {offer_id} cannot be ordered: "
                         f"{offer.data.get('unpriced_reason')}", "offer_id")
    return offer


def book(shop: Shop, user_id: str, offer_id: str, key_row: int) -> OrderRow:
    """A pending order of the offer, tied to the request's idempotency key (one
    transaction); 409 when the offer was ordered already."""
    now = shop.clock.now()
    try:
        with shop.db.session() as s:
            offer = _offer_for_order(s, user_id, offer_id, now)
            other = s.scalar(select(OrderRow.id).where(OrderRow.offer_id == offer_id))
            if other is not None:
                raise OrderError(409, f"offer {offer_id} is ordered already (order {other})",
                                 "offer_id")
            data = {**offer.data, "offer_kind": offer.kind,
                    "valid_from": int(offer.valid_from.timestamp()),
                    "valid_until": int(offer.valid_until.timestamp())}
            order = OrderRow(
                id="ord_" + secrets.token_urlsafe(15), user_id=user_id, offer_id=offer_id,
                status=PENDING, amount=offer.amount, currency=offer.currency,
                operators=list(offer.data["operators"]), data=data,
                payment_provider=shop.provider.name, payment_id=None, failure_reason=None,
                created_at=now, updated_at=now, completed_at=None,
                retain_until=now + shop.retention)
            s.add(order)
            s.flush()
            s.get(IdempotencyKeyRow, key_row).order_id = order.id  # type: ignore[union-attr]
    except IntegrityError:  # a concurrent order of the same offer won
        raise OrderError(409, f"offer {offer_id} is ordered already", "offer_id") from None
    return order


Settled = tuple[OrderRow, list[TicketRow]]


def charge(shop: Shop, order: OrderRow, token: str) -> Settled:
    """Charge a pending order (again, safely: the provider knows the key) and settle it."""
    if order.status != PENDING:
        return reconcile(shop, order.id)
    try:
        result = shop.provider.charge(order.id, Money(order.amount, order.currency), token,
                                      f"transit order {order.id}")
    except PaymentTimeout:
        return _set_status(shop, order.id, PAYMENT_PENDING, None)
    return settle(shop, order.id, result)


def reconcile(shop: Shop, order_id: str) -> Settled:
    """An order waiting for its payment settled by what the provider says of its key;
    other orders as they are."""
    order = get(shop.db, order_id)
    if order.status != PAYMENT_PENDING:
        return order, tickets_of(shop.db, order_id)
    result = shop.provider.lookup(order.id)
    if result is None:  # the charge never reached the provider: nothing was taken
        return _set_status(shop, order_id, FAILED, "the payment did not go through (the "
                           "provider has no charge for this order); nothing was charged")
    return settle(shop, order_id, result)


def _tickets(s: Session, order_id: str) -> list[TicketRow]:
    return list(s.scalars(select(TicketRow).where(TicketRow.order_id == order_id)
                          .order_by(TicketRow.line)))


def settle(shop: Shop, order_id: str, result: PaymentResult) -> Settled:
    """Complete (tickets issued) or fail the order by the payment's result, once: the
    order row is locked, and only a pending order changes."""
    now = shop.clock.now()
    with shop.db.session() as s:
        order = s.get(OrderRow, order_id, with_for_update=True)
        assert order is not None
        if order.status not in (PENDING, PAYMENT_PENDING):
            return order, _tickets(s, order_id)
        order.payment_id = result.payment_id
        order.updated_at = now
        if result.status == "captured":
            order.status, order.completed_at = COMPLETED, now
            return order, fulfil(s, order, shop.issuer, now, shop.retention)
        order.status = FAILED
        order.failure_reason = (result.reason or "declined")[:300]
        return order, []


def offer_expired(shop: Shop, order_id: str) -> bool:
    """Whether the order's offer can no longer be ordered (expired, or removed after it
    expired: `offers.save` prunes expired offers)."""
    with shop.db.session() as s:
        offer_id = s.scalar(select(OrderRow.offer_id).where(OrderRow.id == order_id))
        expires_at = s.scalar(select(OfferRow.expires_at).where(OfferRow.id == offer_id))
    return expires_at is None or shop.clock.now() >= expires_at


def expire(shop: Shop, order_id: str) -> Settled | None:
    """A `pending` order whose request died, failed with nothing charged once its offer
    has expired (a retry could no longer book it anew either), its idempotency key
    released so the client may use it for a new order. The key is released first: from
    then on no request can take the order over and charge it, so the provider's answer
    asked next is final (a charge that did land settles the order as usual). None (left
    pending) while the offer is orderable or a request holds the key."""
    if not offer_expired(shop, order_id) or not release_abandoned(shop.db, order_id):
        return None
    result = shop.provider.lookup(order_id)
    if result is not None:
        return settle(shop, order_id, result)
    return _set_status(shop, order_id, FAILED, NEVER_CHARGED)


def _set_status(shop: Shop, order_id: str, status: str, reason: str | None) -> Settled:
    with shop.db.session() as s:
        order = s.get(OrderRow, order_id, with_for_update=True)
        assert order is not None
        if order.status in (PENDING, PAYMENT_PENDING):
            order.status, order.failure_reason = status, reason
            order.updated_at = shop.clock.now()
        return order, _tickets(s, order_id)


def get(db: Database, order_id: str, user_id: str | None = None) -> OrderRow:
    with db.session() as s:
        order = s.get(OrderRow, order_id)
    if order is None or (user_id is not None and order.user_id != user_id):
        raise OrderError(404, f"unknown order {order_id[:60]!r}")
    return order


def tickets_of(db: Database, order_id: str) -> list[TicketRow]:
    with db.session() as s:
        return _tickets(s, order_id)


class BadCursor(ValueError):
    """A `before` cursor that is not an order of the caller."""


def list_orders(db: Database, user_id: str, limit: int, before: str | None = None
                ) -> tuple[list[Settled], bool]:
    """The user's orders, newest first (created_at, then id), with their tickets: at most
    `limit`, those after the order `before` in that order; and whether more follow."""
    q = select(OrderRow).where(OrderRow.user_id == user_id)
    with db.session() as s:
        if before is not None:
            cursor = s.get(OrderRow, before)
            if cursor is None or cursor.user_id != user_id:
                raise BadCursor(f"{before[:60]!r} is not one of your orders")
            q = q.where((OrderRow.created_at < cursor.created_at)
                        | ((OrderRow.created_at == cursor.created_at)
                           & (OrderRow.id < cursor.id)))
        rows = list(s.scalars(q.order_by(OrderRow.created_at.desc(), OrderRow.id.desc())
                              .limit(limit + 1)))
        page = rows[:limit]
        by_order: dict[str, list[TicketRow]] = {o.id: [] for o in page}
        if page:
            for t in s.scalars(select(TicketRow).where(TicketRow.order_id.in_(list(by_order)))
                               .order_by(TicketRow.order_id, TicketRow.line)):
                by_order[t.order_id].append(t)
    return [(o, by_order[o.id]) for o in page], len(rows) > limit


def settle_listed(shop: Shop, page: list[Settled]) -> list[Settled]:
    """A page of a list with its orders waiting for their payment (`payment_pending`)
    settled as a look at one order settles them (`reconcile`), so the list and the order
    agree. At most LIST_SETTLE of them, the first in the page: each asks the provider, and
    a page of 100 waiting orders must not make 100 provider calls in one request; the
    others are shown as they are until the settler or a look at them settles them.
    `pending` orders (no charge was made) are shown as they are, as by a look."""
    out, budget = [], LIST_SETTLE
    for order, tickets in page:
        if order.status == PAYMENT_PENDING and budget > 0:
            budget -= 1
            order, tickets = reconcile(shop, order.id)
        out.append((order, tickets))
    return out


def _iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat() if at is not None else None


def view(order: OrderRow, tickets: list[TicketRow]) -> dict[str, Any]:
    """An order as the API shows it, with its receipt once completed."""
    d = order.data
    total = {"amount": order.amount, "currency": order.currency}
    receipt = None
    if order.status in (COMPLETED, REFUNDED):
        receipt = {
            "number": order.id, "issued_at": _iso(order.completed_at),
            "sellers": order.operators, "total": total,
            "lines": [{"description": d["product_name"], "rider_category": x["rider_category"],
                       "count": x["count"], "unit_price": x["unit_price"],
                       "amount": x["amount"]} for x in d["lines"]],
            "payment": {"provider": order.payment_provider, "payment_id": order.payment_id},
        }
    return {
        "id": order.id, "status": order.status, "offer_id": order.offer_id,
        "product_id": d["product_id"], "product_name": d["product_name"],
        "operators": order.operators, "price": total,
        "payment": {"provider": order.payment_provider, "payment_id": order.payment_id},
        "failure_reason": order.failure_reason,
        "tickets": [{"id": t.id, "href": f"/v1/me/tickets/{t.id}"} for t in tickets],
        "receipt": receipt, "created_at": _iso(order.created_at),
        "completed_at": _iso(order.completed_at),
    }
