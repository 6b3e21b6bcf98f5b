"""The shop's API shapes (names after OSDM: offers, orders/bookings, fulfilments)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

CATEGORY = r"^[A-Za-z0-9][A-Za-z0-9:._-]{0,63}$"


class TravellerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rider_category: str | None = Field(None, max_length=64, pattern=CATEGORY, description=
                                       "A rider category id of the fares (e.g. TC:senior); "
                                       "null: the default rider")
    count: int = Field(1, ge=1, le=9)


class ProductRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operator: str = Field(min_length=1, max_length=32)
    product_id: str = Field(min_length=1, max_length=200, description="As GET "
                            "/v1/fares/products lists it")


class OfferRequest(BaseModel):
    """A journey (its id from GET /v1/journeys) or a product, for some travellers. Any
    price sent is ignored: prices are the server's."""

    model_config = ConfigDict(extra="ignore")

    journey_id: str | None = Field(None, min_length=3, max_length=4096)
    product: ProductRef | None = None
    travellers: list[TravellerIn] | None = Field(
        None, min_length=1, max_length=9, description="Default: one traveller of the "
        "commuter's profile rider category (else the default rider)")
    valid_from: datetime | None = Field(None, description="Products: when the ticket "
                                        "starts (default now, at most 30 days ahead)")


class Price(BaseModel):
    amount: int = Field(description="Minor units (cents)")
    currency: str = Field(description="ISO 4217")


class ProductUsed(BaseModel):
    product_id: str
    name: str
    price: Price


class OfferLine(BaseModel):
    rider_category: str | None
    count: int
    unit_price: Price | None
    amount: Price | None
    products: list[ProductUsed]
    notes: list[str] = Field(default_factory=list)


class Validity(BaseModel):
    from_: str = Field(alias="from")
    until: str

    model_config = ConfigDict(populate_by_name=True)


class OfferOut(BaseModel):
    id: str
    kind: str = Field(description="journey or product")
    journey_id: str | None
    product_id: str
    product_name: str
    operators: list[str]
    price: Price | None = Field(description="null: the fares cannot price it (see "
                                "unpriced_reason); such an offer cannot be ordered")
    orderable: bool
    unpriced_reason: str | None
    travellers: list[OfferLine]
    conditions: dict[str, Any]
    validity: Validity
    expires_at: str
    created_at: str


class OfferList(BaseModel):
    offers: list[OfferOut]


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: str = Field("test", max_length=32)
    token: str = Field(min_length=1, max_length=200, description="The payment method "
                       "token from the provider's client SDK (test: tok_ok, tok_decline, "
                       "tok_timeout, tok_late, tok_late_decline)")


class OrderRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    offer_id: str = Field(min_length=1, max_length=60)
    payment: PaymentIn


class TicketLink(BaseModel):
    id: str
    href: str


class PaymentOut(BaseModel):
    provider: str
    payment_id: str | None


class OrderOut(BaseModel):
    id: str
    status: str = Field(description="pending, payment_pending, completed, failed, refunded")
    offer_id: str
    product_id: str
    product_name: str
    operators: list[str]
    price: Price
    payment: PaymentOut
    failure_reason: str | None
    tickets: list[TicketLink]
    receipt: dict[str, Any] | None = Field(description="Once completed: number, date, "
                                           "sellers, lines, total, payment")
    created_at: str | None
    completed_at: str | None


class OrderList(BaseModel):
    orders: list[OrderOut]
    next: str | None = Field(description="The next page, None on the last")


class TicketOut(BaseModel):
    id: str
    order_id: str
    status: str = Field(description="valid, expired (past valid_until), refunded")
    product_id: str
    product_name: str
    rider_category: str | None
    travellers: int
    operators: list[str]
    zones: list[str]
    valid_from: str
    valid_until: str
    issued_at: str
    token: str = Field(description="The signed text the QR code carries (TX1:...)")
    refundable: bool
    refunded_at: str | None


class TicketList(BaseModel):
    tickets: list[TicketOut]


class InspectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4096, description="The scanned QR text")
    vehicle_id: str | None = Field(None, max_length=100)
    zone: str | None = Field(None, max_length=100)
    operator: str | None = Field(None, max_length=32, description="Admin keys: the "
                                 "operator inspecting (an inspector's key names its own)")


class InspectionOut(BaseModel):
    valid: bool
    reasons: list[str]
    ticket_id: str | None
    product_name: str | None
    rider_category: str | None
    travellers: int | None
    valid_from: str | None
    valid_until: str | None
    inspected_at: str


class SaleOut(BaseModel):
    order_id: str
    ticket_id: str
    product_id: str
    amount: Price
    status: str
    sold_at: str
    refunded_at: str | None


class SalesOut(BaseModel):
    operator: str
    sales: list[SaleOut]
    totals: dict[str, int] = Field(description="Sold minus refunded, per currency")
