"""Fares on journey answers: the transit legs priced by transit.fares, shown per leg
(products per rider category and fare medium) and per journey (the rider's total)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from transit.fares.model import FareLeg, JourneyPrice, ProductPrice
from transit.fares.pricing import price_journey
from transit.fares.store import fares_for
from transit.journeys.schemas import ProductOut
from transit.timetable.timetable import Timetable


def product_out(p: ProductPrice) -> ProductOut:
    """product_dict's product as the model (the fare products catalogue answers models)."""
    return ProductOut.model_validate(product_dict(p))


@lru_cache(maxsize=4096)
def product_dict(p: ProductPrice) -> dict[str, Any]:
    """A ProductOut's dict (its fields in order), one per product price: the same products
    price leg after leg (nothing changes the dict once made)."""
    return {"product_id": p.product_id, "name": p.name, "price": p.price.as_json(),
            "rider_category": p.rider_category, "fare_medium": p.fare_medium}


def fare_legs(journey: dict[str, Any], times: list[tuple[int, int]]
              ) -> tuple[list[int], list[FareLeg]]:
    """The journey's (a Journey's dict) transit legs (positions in `legs`) as the fares
    engine takes them; `times` are their Unix departure and arrival, in order."""
    where, out = [], []
    for k, leg in enumerate(journey["legs"]):
        if leg["trip_id"] is None:
            continue
        dep, arr = times[len(out)]
        where.append(k)
        route = leg["route"]
        out.append(FareLeg(operator=leg["operator"] or "", route_id=route["id"] if route
                           else "", trip_id=leg["trip_id"],
                           from_stop=leg["from"]["stop_id"] or "",
                           to_stop=leg["to"]["stop_id"] or "", departure=dep, arrival=arr))
    return where, out


def attach(tt: Timetable, journey: dict[str, Any], times: list[tuple[int, int]],
           rider_category: str | None) -> JourneyPrice | None:
    """Price the journey (a Journey's dict) for `rider_category` (already checked as known)
    and fill in its legs' `fares` (LegFares) and its `fare` (JourneyFare). Walk-only
    journeys cost nothing and get no fare."""
    where, legs = fare_legs(journey, times)
    if not legs:
        return None
    price = price_journey(fares_for(tt), legs, rider_category)
    out = journey["legs"]
    for n, fl in enumerate(price.fare_legs):
        products = [product_dict(p) for p in fl.products]
        transfer = product_dict(fl.transfer_product) if fl.transfer_product else None
        for i in fl.legs:
            out[where[i]]["fares"] = {"fare_leg": n, "products": products,
                                      "transfer_product": transfer}
    for i in price.unknown_legs:
        out[where[i]]["fares"] = {"fare_leg": None, "products": [], "transfer_product": None}
    journey["fare"] = {
        "rider_category": rider_category,
        "total": price.total.as_json() if price.total else None,
        "unknown_legs": [where[i] for i in price.unknown_legs], "notes": list(price.notes)}
    return price
