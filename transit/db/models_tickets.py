"""Tables of the shop: offers, orders with their idempotency keys, tickets, the revocation
list, operators' sales lines and inspections.

Offers and idempotency keys belong to the account (erased with it). Orders and tickets are
accounting records the operators must keep: erasing the account detaches them (user_id
set to NULL) and they stay until `retain_until` (`info["retention"]` says so to privacy).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from transit.db.models import Base

BIGID = BigInteger().with_variant(Integer(), "sqlite")
RETAINED = "accounting records of a sale, kept for the operators (tax and audit law)"


class OfferRow(Base):
    """A priced offer for a journey or a product, valid to order until `expires_at`."""

    __tablename__ = "offers"
    __table_args__ = (Index("ix_offers_user_id_created_at", "user_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(40), ForeignKey("users.id",
                                                                ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # journey, product
    amount: Mapped[int | None] = mapped_column(BigInteger)  # None: cannot be priced
    currency: Mapped[str | None] = mapped_column(String(3))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime]


class IdempotencyKeyRow(Base):
    """An Idempotency-Key of an account: inserted (in a transaction of its own) before the
    request runs, so a concurrent duplicate finds it; the final answer is stored."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),)

    id: Mapped[int] = mapped_column(BIGID, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(40), ForeignKey("users.id",
                                                                ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 of the canonical body
    state: Mapped[str] = mapped_column(String(16))  # in_flight, done
    locked_until: Mapped[datetime]  # an in-flight key past this may be taken over
    order_id: Mapped[str | None] = mapped_column(String(40))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]


class OrderRow(Base):
    """A booking of one offer, and its payment. status: pending -> payment_pending ->
    completed | failed; completed -> refunded."""

    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_user_id_created_at", "user_id", "created_at"),
                      Index("ix_orders_status_updated_at", "status", "updated_at"),
                      {"info": {"retention": RETAINED}})

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str | None] = mapped_column(String(40), ForeignKey(
        "users.id", ondelete="SET NULL"))
    offer_id: Mapped[str] = mapped_column(String(40), unique=True)  # one order per offer
    status: Mapped[str] = mapped_column(String(24))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    operators: Mapped[list[str]] = mapped_column(JSON, default=list)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the offer as sold
    payment_provider: Mapped[str] = mapped_column(String(32))
    payment_id: Mapped[str | None] = mapped_column(String(100))
    failure_reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    retain_until: Mapped[datetime]


class TicketRow(Base):
    """A ticket issued on capture of an order's payment, one per rider category line of
    the order: `token` is the signed text its QR code carries. status: valid, refunded."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_user_id_issued_at", "user_id", "issued_at"),
                      UniqueConstraint("order_id", "line", name="uq_tickets_order_id_line"),
                      {"info": {"retention": RETAINED}})

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(40), ForeignKey("orders.id"))
    line: Mapped[int] = mapped_column(Integer)  # one ticket per rider category of the order
    user_id: Mapped[str | None] = mapped_column(String(40), ForeignKey(
        "users.id", ondelete="SET NULL"))
    product_id: Mapped[str] = mapped_column(String(400))
    product_name: Mapped[str] = mapped_column(String(400))
    rider_category: Mapped[str | None] = mapped_column(String(64))
    travellers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    operators: Mapped[list[str]] = mapped_column(JSON, default=list)
    zones: Mapped[list[str]] = mapped_column(JSON, default=list)
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    issued_at: Mapped[datetime]
    token: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    refunded_at: Mapped[datetime | None]
    retain_until: Mapped[datetime]


class RevocationRow(Base):
    """A revoked ticket; `seq` is the cursor verifiers sync from (`?since=`)."""

    __tablename__ = "ticket_revocations"

    seq: Mapped[int] = mapped_column(BIGID, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(String(40), unique=True)
    revoked_at: Mapped[datetime]
    valid_until: Mapped[datetime]  # after this the ticket is expired anyway


class SaleRow(Base):
    """What one operator sold in an order (its share of the amount): operators see their
    own lines only."""

    __tablename__ = "sales"
    __table_args__ = (Index("ix_sales_operator_id_sold_at", "operator_id", "sold_at"),)

    id: Mapped[int] = mapped_column(BIGID, primary_key=True, autoincrement=True)
    operator_id: Mapped[str] = mapped_column(String(32))
    order_id: Mapped[str] = mapped_column(String(40), ForeignKey("orders.id"))
    ticket_id: Mapped[str] = mapped_column(String(40))
    product_id: Mapped[str] = mapped_column(String(400))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))  # sold, refunded
    sold_at: Mapped[datetime]
    refunded_at: Mapped[datetime | None]


class InspectionRow(Base):
    """A ticket scanned by an inspector, and the answer given."""

    __tablename__ = "inspections"
    __table_args__ = (Index("ix_inspections_ticket_id_at", "ticket_id", "at"),)

    id: Mapped[int] = mapped_column(BIGID, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str | None] = mapped_column(String(40))  # None: not readable
    operator_id: Mapped[str | None] = mapped_column(String(32))
    vehicle_id: Mapped[str | None] = mapped_column(String(100))
    inspector: Mapped[str] = mapped_column(String(40))  # key prefix
    at: Mapped[datetime]
    valid: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)


class TestPaymentRow(Base):
    """The ledger of the built-in test payment provider (transit.shop.payments.TestProvider):
    one row per idempotency key of a charge (`charge`) or a refund (`refund`), so that a
    capture outlives the process that made it, as a real provider's would."""

    __tablename__ = "test_payments"
    __test__ = False  # not a pytest class

    key: Mapped[str] = mapped_column(String(120), primary_key=True)  # the idempotency key
    kind: Mapped[str] = mapped_column(String(8))  # charge, refund
    status: Mapped[str] = mapped_column(String(16))  # captured, declined, refunded
    payment_id: Mapped[str | None] = mapped_column(String(100))  # pay_... or re_...
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
