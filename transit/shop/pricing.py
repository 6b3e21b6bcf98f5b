"""What the shop asks of the fares engine, behind one small interface: the price of a
journey's legs for a rider category, an operator's products, the rider categories known.

`FaresPricing` is the real one (transit.fares over the served timetable); tests may give
the app another (`app.state.pricing_for`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from transit.fares.model import FareLeg, JourneyPrice, Product
from transit.timetable.timetable import Timetable


class PricingUnavailable(Exception):
    """This server has no fares engine or no fares data for the timetable."""


class Pricing(Protocol):
    def price_journey(self, legs: Sequence[FareLeg], rider_category: str | None
                      ) -> JourneyPrice: ...

    def products(self, operator: str) -> list[Product]: ...

    def rider_categories(self) -> set[str]:
        """The namespaced rider categories (`OP:id`) the fares define."""
        ...

    def default_category(self, operator: str) -> str | None:
        """The category an operator prices a rider who names none (None: no category)."""
        ...

    def zones(self, legs: Sequence[FareLeg]) -> tuple[str, ...]:
        """The fare zones the legs pass (transit.fares.zones), for the ticket."""
        ...


class FaresPricing:
    """transit.fares over one timetable version (its compiled fares)."""

    def __init__(self, tt: Timetable) -> None:
        try:
            from transit.fares import pricing, store, zones  # type: ignore[attr-defined]
        except ImportError as exc:
            raise PricingUnavailable("the fares engine is not installed") from exc
        self._pricing: Any = pricing
        self._zones: Any = zones
        self._fares = store.fares_for(tt)

    def price_journey(self, legs: Sequence[FareLeg], rider_category: str | None
                      ) -> JourneyPrice:
        return self._pricing.price_journey(self._fares, legs, rider_category)

    def products(self, operator: str) -> list[Product]:
        return list(self._pricing.products(self._fares, operator))

    def rider_categories(self) -> set[str]:
        return set(self._fares.categories)

    def default_category(self, operator: str) -> str | None:
        of = self._fares.operators.get(operator)
        return of.default_category if of is not None else None

    def zones(self, legs: Sequence[FareLeg]) -> tuple[str, ...]:
        return tuple(self._zones.journey_zones(self._fares, legs))


PricingFactory = Callable[[Timetable], Pricing]


def fares_pricing(tt: Timetable) -> Pricing:
    """The pricing of a timetable version, built once per version."""
    key = ("tickets_pricing",)
    if key not in tt.cache:
        tt.cache[key] = FaresPricing(tt)
    return tt.cache[key]  # type: ignore[return-value]
