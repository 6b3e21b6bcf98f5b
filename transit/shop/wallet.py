"""A commuter's tickets: list, one, refund before the validity starts (revoked)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from transit.db.models_tickets import OrderRow, RevocationRow, SaleRow, TicketRow
from transit.fares.model import Money
from transit.shop.orders import COMPLETED, REFUNDED, Shop

MAX_LISTED = 200


class TicketNotFound(Exception):
    pass


class NotRefundable(Exception):
    pass


def list_tickets(shop: Shop, user_id: str) -> list[TicketRow]:
    with shop.db.session() as s:
        return list(s.scalars(select(TicketRow).where(TicketRow.user_id == user_id)
                              .order_by(TicketRow.issued_at.desc(), TicketRow.id)
                              .limit(MAX_LISTED)))


def get(shop: Shop, user_id: str, ticket_id: str) -> TicketRow:
    with shop.db.session() as s:
        row = s.get(TicketRow, ticket_id)
    if row is None or row.user_id != user_id:
        raise TicketNotFound(ticket_id)
    return row


def _iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat() if at is not None else None


def view(t: TicketRow, now: datetime) -> dict[str, Any]:
    return {
        "id": t.id, "order_id": t.order_id,
        "status": "expired" if t.status == "valid" and now > t.valid_until else t.status,
        "product_id": t.product_id,
        "product_name": t.product_name, "rider_category": t.rider_category,
        "travellers": sum(int(x["count"]) for x in t.travellers), "operators": t.operators,
        "zones": t.zones, "valid_from": _iso(t.valid_from), "valid_until": _iso(t.valid_until),
        "issued_at": _iso(t.issued_at), "token": t.token,
        "refundable": t.status == "valid" and now < t.valid_from,
        "refunded_at": _iso(t.refunded_at)}


def refund(shop: Shop, user_id: str, ticket_id: str) -> TicketRow:
    """Refund a ticket whose validity has not started: the provider pays its line back
    (once: the key is the ticket id), it is revoked, its sales lines marked refunded."""
    now = shop.clock.now()
    with shop.db.session() as s:
        t = s.get(TicketRow, ticket_id, with_for_update=True)
        if t is None or t.user_id != user_id:
            raise TicketNotFound(ticket_id)
        if t.status == "refunded":
            return t
        if now >= t.valid_from:
            raise NotRefundable(f"ticket {ticket_id} cannot be refunded: its validity "
                                f"started at {_iso(t.valid_from)}")
        order = s.get(OrderRow, t.order_id)
        assert order is not None and order.payment_id is not None
        amount = sum(int(x["amount"]["amount"]) for x in t.travellers)
        shop.provider.refund(order.payment_id, Money(amount, order.currency),
                             f"refund:{t.id}")
        t.status, t.refunded_at = "refunded", now
        s.add(RevocationRow(ticket_id=t.id, revoked_at=now, valid_until=t.valid_until))
        s.execute(update(SaleRow).where(SaleRow.ticket_id == t.id).values(
            status="refunded", refunded_at=now))
        others = s.scalars(select(TicketRow.status).where(
            TicketRow.order_id == order.id, TicketRow.id != t.id)).all()
        if order.status == COMPLETED and all(x == "refunded" for x in others):
            order.status, order.updated_at = REFUNDED, now
        return t
