"""Pricing journeys and listing products from the compiled fares of a timetable version.

`price_journey` takes the transit legs of one journey (walks are not priced) and gives the
fare legs with their products, and the total for one rider category; `products` lists what
an operator sells. Both read only the compiled fares (`transit.fares.store.fares_for`).
"""

from __future__ import annotations

from collections.abc import Sequence

from transit.fares.compiled import Fares
from transit.fares.model import FareLeg, JourneyPrice, Product


class UnknownRiderCategory(ValueError):
    """A rider category no operator of the network defines."""

    def __init__(self, category: str) -> None:
        super().__init__(f"unknown rider category {category!r}")
        self.category = category


class UnknownOperator(ValueError):
    """An operator the network does not have."""

    def __init__(self, operator: str) -> None:
        super().__init__(f"unknown operator {operator!r}")
        self.operator = operator


def price_journey(fares: Fares, legs: Sequence[FareLeg], rider_category: str | None
                  ) -> JourneyPrice:
    """The journey's fare legs and its total for `rider_category` (None: each operator's
    default rider). UnknownRiderCategory when no operator defines the category."""
    raise NotImplementedError


def products(fares: Fares, operator: str | None) -> list[Product]:
    """What people can buy (of one operator, or all). UnknownOperator for another id."""
    raise NotImplementedError
