"""Quotes: what a journey or a product costs for some travellers, and how long the ticket
is valid. Prices come only from the fares (transit.shop.pricing), never from a client.

A journey ticket is valid from 30 minutes before its first departure to its last arrival
plus the longest duration of the products that price it; a product is valid for its own
duration from activation (a product without one, to the end of that day in the
operator's time zone)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from transit.fares.model import FareLeg, JourneyPrice, Money, Product, ProductPrice
from transit.journeys.ids import JourneyRef
from transit.shop.pricing import Pricing
from transit.timetable.timetable import Timetable

BEFORE_DEPARTURE_S = 1800  # a journey ticket is valid this long before the first departure
DEPARTED_GRACE_S = 120  # a journey that left this long ago can still be bought


class QuoteError(ValueError):
    """Input the quote cannot take: `field` names it (422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Traveller:
    rider_category: str | None  # None: the default rider
    count: int


@dataclass
class Quote:
    kind: str  # journey, product
    operators: list[str]
    product_id: str
    product_name: str
    lines: list[dict[str, Any]]  # per rider category: count, unit price, amount, products
    total: Money | None  # None: the fares cannot price it
    unpriced_reason: str | None
    valid_from: int  # Unix seconds
    valid_until: int
    zones: list[str] = field(default_factory=list)
    legs: list[dict[str, Any]] = field(default_factory=list)


def known(category: str, categories: set[str]) -> bool:
    """A category the fares define, namespaced (`TC:senior`) or bare (`senior`)."""
    return category in categories or any(c.split(":", 1)[-1] == category for c in categories)


def check_categories(pricing: Pricing, travellers: list[Traveller]) -> None:
    known_ = pricing.rider_categories()
    for i, t in enumerate(travellers):
        if t.rider_category is not None and not known(t.rider_category, known_):
            names = ", ".join(sorted(known_)[:20]) or "none (only the default rider)"
            raise QuoteError(f"travellers[{i}].rider_category",
                             f"unknown rider category {t.rider_category[:64]!r}; the fares "
                             f"know {names}")


def fare_legs(tt: Timetable, ref: JourneyRef) -> list[FareLeg]:
    out = []
    route_ids = tt.strings("route_id")
    for i, leg in enumerate(ref.legs):
        t = tt.trip_index.get(leg.trip_id)
        if t is None:
            raise QuoteError("journey_id", f"leg {i + 1}: trip {leg.trip_id[:80]!r} is not "
                             "in the timetable served now; plan the journey again")
        r = int(tt.trip_route[t])
        op = tt.meta["operators"][int(tt.route_operator[r])]["id"]
        out.append(FareLeg(op, route_ids[r], leg.trip_id, leg.from_stop, leg.to_stop,
                           leg.departure, leg.arrival))
    return out


def _chosen(products: tuple[ProductPrice, ...], category: str | None, pricing: Pricing
            ) -> ProductPrice | None:
    """The cheapest price of `products` for the rider: of the category (namespaced or bare;
    none asked: the operator's default category), else of a product for any rider."""

    def wanted(p: ProductPrice) -> str | None:
        op = p.product_id.split(":", 1)[0]
        if category is None:
            return pricing.default_category(op)
        return category if ":" in category else f"{op}:{category}"

    for ok in (lambda p: p.rider_category is not None and p.rider_category == wanted(p),
               lambda p: p.rider_category is None):
        mine = [p for p in products if ok(p)]
        if mine:
            return min(mine, key=lambda p: p.price.amount)
    return None


def _durations(pricing: Pricing, operators: list[str]) -> dict[str, int]:
    return {p.product_id: p.duration_s for op in operators for p in pricing.products(op)
            if p.duration_s}


def _line(t: Traveller, jp: JourneyPrice, pricing: Pricing) -> dict[str, Any]:
    used = [c for c in (_chosen(fl.products, t.rider_category, pricing)
                        for fl in jp.fare_legs) if c]
    used += [fl.transfer_product for fl in jp.fare_legs if fl.transfer_product is not None]
    unit = jp.total
    return {"rider_category": t.rider_category, "count": t.count,
            "unit_price": unit.as_json() if unit else None,
            "amount": Money(unit.amount * t.count, unit.currency).as_json() if unit else None,
            "products": [{"product_id": p.product_id, "name": p.name,
                          "price": p.price.as_json()} for p in used],
            "notes": list(jp.notes)}


def _total(lines: list[dict[str, Any]]) -> tuple[Money | None, str | None]:
    if any(line["amount"] is None for line in lines):
        return None, "the fares data cannot price every leg of this journey"
    currencies = {line["amount"]["currency"] for line in lines}
    if len(currencies) != 1:
        return None, f"the legs are priced in several currencies ({', '.join(currencies)})"
    return Money(sum(line["amount"]["amount"] for line in lines), currencies.pop()), None


def quote_journey(tt: Timetable, pricing: Pricing | None, ref: JourneyRef,
                  travellers: list[Traveller], now: int, why_unpriced: str = "") -> Quote:
    """A journey priced for the travellers; unpriced (with the reason) when the fares
    cannot price it. `pricing` None: this server has no fares (`why_unpriced`)."""
    if not ref.legs:
        raise QuoteError("journey_id", "the journey has no transit leg: there is nothing to "
                         "buy for a walk")
    if ref.first_departure < now - DEPARTED_GRACE_S:
        raise QuoteError("journey_id", "the journey has left already; plan it again")
    legs = fare_legs(tt, ref)
    operators = sorted({leg.operator for leg in legs})
    lines: list[dict[str, Any]] = []
    unknown: set[int] = set()
    if pricing is not None:
        check_categories(pricing, travellers)
        for t in travellers:
            jp = pricing.price_journey(legs, t.rider_category)
            unknown.update(jp.unknown_legs)
            lines.append(_line(t, jp, pricing))
        total, reason = _total(lines)
        if unknown:
            reason = "the fares data cannot price " + ", ".join(
                f"leg {i + 1} (trip {legs[i].trip_id})" for i in sorted(unknown))
    else:
        total, reason = None, why_unpriced or "this server has no fares"
    used = {p["product_id"]: p["name"] for line in lines for p in line["products"]}
    durations = _durations(pricing, operators) if pricing is not None and used else {}
    extra = max((durations.get(p, 0) for p in used), default=0)
    return Quote(
        kind="journey", operators=operators, product_id="+".join(used) or "journey",
        product_name=" + ".join(dict.fromkeys(used.values())) or "journey", lines=lines,
        total=total, unpriced_reason=reason,
        valid_from=ref.first_departure - BEFORE_DEPARTURE_S,
        valid_until=ref.last_arrival + extra,
        zones=list(pricing.zones(legs)) if pricing is not None else [],
        legs=[{"trip_id": leg.trip_id, "operator": leg.operator, "route_id": leg.route_id,
               "from": leg.from_stop, "to": leg.to_stop, "departure": leg.departure,
               "arrival": leg.arrival} for leg in legs])


def operator_zone(tt: Timetable, operator: str) -> ZoneInfo:
    op = tt.operator_index[operator]
    agencies = np.flatnonzero(np.asarray(tt.agency_operator) == op)
    tz = tt.timezones[int(tt.agency_tz[int(agencies[0])])] if len(agencies) else "UTC"
    return ZoneInfo(tz)


def _product(pricing: Pricing, operator: str, product_id: str) -> Product:
    for p in pricing.products(operator):
        if p.product_id == product_id:
            return p
    raise QuoteError("product.product_id", f"unknown product {product_id[:100]!r} of "
                     f"operator {operator!r} (GET /v1/fares/products?operator={operator})")


def quote_product(tt: Timetable, pricing: Pricing, operator: str, product_id: str,
                  travellers: list[Traveller], start: int) -> Quote:
    """An operator's product for the travellers, valid from `start` (activation)."""
    if operator not in tt.operator_index:
        raise QuoteError("product.operator", f"unknown operator {operator[:40]!r}")
    product = _product(pricing, operator, product_id)
    check_categories(pricing, travellers)
    lines = []
    for i, t in enumerate(travellers):
        price = _chosen(product.prices, t.rider_category, pricing)
        if price is None:
            raise QuoteError(f"travellers[{i}].rider_category",
                             f"product {product_id!r} has no price for rider category "
                             f"{t.rider_category or 'default'!r}")
        lines.append({"rider_category": t.rider_category, "count": t.count,
                      "unit_price": price.price.as_json(),
                      "amount": Money(price.price.amount * t.count,
                                      price.price.currency).as_json(),
                      "products": [{"product_id": product.product_id, "name": price.name,
                                    "price": price.price.as_json()}], "notes": []})
    total, reason = _total(lines)
    if product.duration_s:
        until = start + product.duration_s
    else:  # to the end of the activation day, where the operator is
        tz = operator_zone(tt, operator)
        day = datetime.fromtimestamp(start, tz).date() + timedelta(days=1)
        until = int(datetime.combine(day, time(0), tz).timestamp())
    return Quote(kind="product", operators=[operator], product_id=product.product_id,
                 product_name=product.name, lines=lines, total=total,
                 unpriced_reason=reason, valid_from=start, valid_until=until)
