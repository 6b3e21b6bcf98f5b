"""What pricing takes and gives: the contract between the fares engine and its users.

Money is integer minor units of an ISO 4217 currency (570 USD cents is `Money(570, "USD")`).
Identifiers are the merged, namespaced ones (`BA:12TH`, `TC:adult`).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Money:
    amount: int  # minor units
    currency: str  # ISO 4217

    def as_json(self) -> dict[str, object]:
        return {"amount": self.amount, "currency": self.currency}


@dataclass(frozen=True)
class FareLeg:
    """One transit leg of a journey as the fares engine sees it (walks are not priced)."""

    operator: str
    route_id: str  # namespaced
    trip_id: str  # namespaced
    from_stop: str  # namespaced stop id where the rider boards
    to_stop: str  # where the rider alights
    departure: int  # Unix seconds
    arrival: int  # Unix seconds


@dataclass(frozen=True)
class ProductPrice:
    """A product that covers some legs, for one rider category and fare medium."""

    product_id: str  # namespaced fare_product_id (v2) or fare_id (v1)
    name: str
    price: Money
    rider_category: str | None  # namespaced rider_category_id; None: the default rider
    fare_medium: str | None  # namespaced fare_media_id; None when the feed names none


@dataclass(frozen=True)
class FareLegPrice:
    """The products priced for one fare leg: one or more journey legs joined by the rules."""

    legs: tuple[int, ...]  # indexes into the FareLeg sequence given to price_journey
    products: tuple[ProductPrice, ...]  # every category and medium the data prices
    transfer_product: ProductPrice | None = None  # fare_transfer_rules product, if any


@dataclass(frozen=True)
class JourneyPrice:
    """A journey priced for one rider category.

    `total` is None when some leg cannot be priced (listed in `unknown_legs`): the data
    does not say, and nothing is guessed.
    """

    rider_category: str | None
    total: Money | None
    fare_legs: tuple[FareLegPrice, ...]
    unknown_legs: tuple[int, ...] = ()
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Product:
    """A product people can buy (for /v1/fares/products and product offers)."""

    product_id: str
    operator: str
    name: str
    prices: tuple[ProductPrice, ...]
    duration_s: int | None = None  # validity from activation, when the data gives it
