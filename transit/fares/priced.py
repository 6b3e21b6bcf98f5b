"""What pricing one operator's run of consecutive legs gives, and the rider's eligibility."""

from __future__ import annotations

from dataclasses import dataclass, field

from transit.fares.compiled import ProductRow
from transit.fares.model import FareLegPrice, Money, ProductPrice


@dataclass(frozen=True)
class Rider:
    """The rider category an operator prices: `category` (namespaced) or None for the
    default rider of a feed without categories; products without a category suit anyone."""

    category: str | None

    def eligible(self, row: ProductRow) -> bool:
        return row.rider_category is None or row.rider_category == self.category

    def cheapest(self, rows: list[ProductRow]) -> ProductRow | None:
        ok = [r for r in rows if self.eligible(r)]
        return min(ok, key=lambda r: (r.price.amount, r.fare_medium or "")) if ok else None


@dataclass
class Priced:
    fare_legs: list[FareLegPrice] = field(default_factory=list)
    unknown: list[int] = field(default_factory=list)
    cost: dict[str, int] = field(default_factory=dict)  # currency -> minor units
    notes: list[str] = field(default_factory=list)

    def add(self, money: Money, sign: int = 1) -> None:
        self.cost[money.currency] = self.cost.get(money.currency, 0) + sign * money.amount

    def extend(self, other: Priced) -> None:
        self.fare_legs += other.fare_legs
        self.unknown += other.unknown
        for cur, amount in other.cost.items():
            self.cost[cur] = self.cost.get(cur, 0) + amount
        self.notes += other.notes


def product_price(row: ProductRow) -> ProductPrice:
    return ProductPrice(row.product_id, row.name, row.price, row.rider_category,
                        row.fare_medium)
