"""Pricing journeys and listing products from the compiled fares of a timetable version.

`price_journey` takes the transit legs of one journey (walks are not priced) and gives the
fare legs with their products, and the total for one rider category; `products` lists what
an operator sells. Both read only the compiled fares (`transit.fares.store.fares_for`).

Where operators meet: the legs are cut into runs of consecutive legs of one operator and
each run is priced by that operator's own rules (v2, or v1 when the operator has no v2).
No rule of one operator joins, discounts or transfers onto another operator's leg, since
GTFS fares describe one operator's own tickets: the journey's total is the sum of the runs'
costs. Legs of an operator without fares data, or that its rules do not price for the
rider, are `unknown_legs` and the total is None; so is a total over several currencies.
"""

from __future__ import annotations

from collections.abc import Sequence

from transit.fares.compiled import Fares, OperatorFares
from transit.fares.model import FareLeg, JourneyPrice, Money, Product, ProductPrice
from transit.fares.priced import Priced, Rider, product_price
from transit.fares.v1 import price_v1
from transit.fares.v2 import price_v2


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


def known_category(fares: Fares, category: str) -> bool:
    """Whether some operator defines `category` (namespaced `OP:id`, or a bare `id`)."""
    if category in fares.categories:
        return True
    return any(c.split(":", 1)[1] == category for c in fares.categories)


def rider_for(of: OperatorFares, category: str | None) -> Rider:
    """The rider category this operator prices for the asked one: its own category of that
    id (bare or namespaced with this operator), its default category when none is asked,
    else no category (only products for any rider suit)."""
    if not of.categories:
        return Rider(None)
    if category is None:
        return Rider(of.default_category)
    bare = category.split(":", 1)[1] if category.split(":", 1)[0] in (of.operator,) else category
    mine = f"{of.operator}:{bare}"
    return Rider(mine if mine in of.categories else "")


def _runs(legs: Sequence[FareLeg]) -> list[list[int]]:
    runs: list[list[int]] = []
    for i, leg in enumerate(legs):
        if runs and legs[runs[-1][-1]].operator == leg.operator:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def price_journey(fares: Fares, legs: Sequence[FareLeg], rider_category: str | None
                  ) -> JourneyPrice:
    """The journey's fare legs and its total for `rider_category` (None: each operator's
    default rider). UnknownRiderCategory when no operator defines the category."""
    if rider_category is not None and not known_category(fares, rider_category):
        raise UnknownRiderCategory(rider_category)
    out = Priced()
    for run in _runs(legs):
        op = legs[run[0]].operator
        of = fares.operators.get(op)
        if of is None or of.kind == "none":
            out.unknown += run
            out.notes.append(f"{op} publishes no fares")
        elif of.kind == "v2":
            out.extend(price_v2(fares, of, legs, run, rider_for(of, rider_category)))
        else:
            out.extend(price_v1(fares, of, legs, run))
    total = None
    if not out.unknown and len(out.cost) == 1:
        (cur, amount), = out.cost.items()
        total = Money(amount, cur)
    elif not out.unknown and len(out.cost) > 1:
        out.notes.append("legs priced in several currencies: no single total")
    return JourneyPrice(rider_category, total, tuple(out.fare_legs), tuple(sorted(out.unknown)),
                        tuple(dict.fromkeys(out.notes)))


def products(fares: Fares, operator: str | None) -> list[Product]:
    """What people can buy (of one operator, or all). UnknownOperator for another id."""
    if operator is not None and operator not in fares.operators:
        raise UnknownOperator(operator)
    out: list[Product] = []
    for of in fares.operators.values():
        if operator is not None and of.operator != operator:
            continue
        for pid, rows in of.products.items():
            out.append(Product(pid, of.operator, rows[0].name,
                               tuple(product_price(r) for r in rows)))
        for f in of.v1_fares:
            out.append(Product(f.fare_id, of.operator, f.fare_id.split(":", 1)[1],
                               (ProductPrice(f.fare_id, f.fare_id.split(":", 1)[1], f.price,
                                             None, None),),
                               f.duration if f.duration > 0 and f.transfers == 0 else None))
    return out
