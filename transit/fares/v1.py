"""GTFS Fares v1 pricing of one operator's consecutive legs (rides).

A fare covers one ride (on a route of its agency_id, when it names one) when one of its
fare_rules rows matches it: route_id, origin_id (the boarding stop's zone_id),
destination_id (the alighting stop's zone), each when given; and, when the fare has
contains_id rows, the zones the ride passes are exactly those. A fare
covers several consecutive rides on one ticket (a transfer) when its `transfers` allows
that many (empty: unlimited), the last ride boards within `transfer_duration` of the first
boarding, every route is among the fare's route_id rows (if it has any), the first
boarding and last alighting zones are one of its origin/destination pairs (if it has any)
and the zones passed are its contains_id zones (if it has any). A fare without fare_rules
applies to every ride of its agency_id when it is that agency's only fare (naming no agency:
when it is the operator's only fare); otherwise which one applies is not said. The split of
the rides into tickets that leaves fewest rides unpriced, then costs least, is taken; every
fare covering a fare leg is listed, cheapest first.
"""

from __future__ import annotations

from collections.abc import Sequence

from transit.fares.compiled import Fares, OperatorFares, V1Fare
from transit.fares.legs import passed_stops, route_agency, station_of
from transit.fares.model import FareLeg, FareLegPrice, ProductPrice
from transit.fares.priced import Priced


def _zone(fares: Fares, of: OperatorFares, stop: str) -> str:
    z = of.zones.get(stop)
    if z is None:
        station = station_of(fares.tt, stop)
        z = of.zones.get(station, "") if station else ""
    return z


class _Ride:
    def __init__(self, fares: Fares, of: OperatorFares, leg: FareLeg) -> None:
        self.leg = leg
        self.agency = route_agency(fares.tt, leg.route_id)
        self.origin = _zone(fares, of, leg.from_stop)
        self.dest = _zone(fares, of, leg.to_stop)
        self.zones: frozenset[str] = frozenset()
        if of.needs_path:
            self.zones = frozenset(z for s in passed_stops(fares.tt, leg)
                                   if (z := _zone(fares, of, s)))


def _candidates(of: OperatorFares, rides: list[_Ride]) -> list[int]:
    origin, dest = rides[0].origin, rides[-1].dest
    out: set[int] = set()
    for key in ((origin, dest), (origin, ""), ("", dest), ("", "")):
        out.update(of.v1_by_pair.get(key, ()))
    for agency in ("", *(r.agency for r in rides)):
        if agency in of.ruleless:
            out.add(of.ruleless[agency])
    return sorted(out)


def _row_ok(f: V1Fare, ride: _Ride) -> bool:
    """Whether one of the fare's rows matches the ride: its route, origin and destination
    each the ride's or empty."""
    t = f.triples
    for route in ("", ride.leg.route_id):
        for origin in ("", ride.origin):
            for dest in ("", ride.dest):
                if (route, origin, dest) in t:
                    return True
    return False


def _covers(f: V1Fare, rides: list[_Ride]) -> bool:
    if f.agency and any(r.agency and r.agency != f.agency for r in rides):
        return False  # fare_attributes.agency_id: the fare is another agency's
    if f.transfers >= 0 and len(rides) - 1 > f.transfers:
        return False
    if len(rides) > 1 and f.duration >= 0 and \
            rides[-1].leg.departure - rides[0].leg.departure > f.duration:
        return False
    zones = frozenset().union(*(r.zones for r in rides))
    if f.contains and zones != f.contains:
        return False
    if not f.rows:
        return True
    if len(rides) == 1:
        return _row_ok(f, rides[0])
    if f.routes and not all(r.leg.route_id in f.routes for r in rides):
        return False
    pair = (rides[0].origin, rides[-1].dest)
    return not f.pairs or any((o in ("", pair[0])) and (d in ("", pair[1])) for o, d in f.pairs)


def _fares_for(of: OperatorFares, rides: list[_Ride]) -> list[V1Fare]:
    if len(rides) == 1:
        return _single(of, rides[0])
    found = [of.v1_fares[k] for k in _candidates(of, rides)
             if _covers(of.v1_fares[k], rides)]
    return sorted(found, key=lambda f: (f.price.amount, f.fare_id))


def _single(of: OperatorFares, ride: _Ride) -> list[V1Fare]:
    """The fares covering one ride, cheapest first: they depend only on its agency, route,
    zones and the zones it passes (no time, no transfer), so they are kept per operator and
    version (journeys ride the same routes between the same zones again and again)."""
    key = (ride.agency, ride.leg.route_id, ride.origin, ride.dest, ride.zones)
    found = of.v1_single.get(key)
    if found is None:
        found = [of.v1_fares[k] for k in _candidates(of, [ride])
                 if _covers(of.v1_fares[k], [ride])]
        found.sort(key=lambda f: (f.price.amount, f.fare_id))
        of.v1_single[key] = found
    return found


def price_v1(fares: Fares, of: OperatorFares, legs: Sequence[FareLeg], idx: list[int]) -> Priced:
    rides = [_Ride(fares, of, legs[i]) for i in idx]
    n = len(rides)
    inf = (n + 1, 0)
    best: list[tuple[int, int]] = [(0, 0)] + [inf] * n
    step: list[tuple[int, list[V1Fare]]] = [(0, [])] * (n + 1)
    for i in range(n):
        if best[i] == inf:
            continue
        alone = (best[i][0] + 1, best[i][1])  # ride i unpriced
        if alone < best[i + 1]:
            best[i + 1], step[i + 1] = alone, (i, [])
        for j in range(i + 1, n + 1):
            found = _fares_for(of, rides[i:j])
            if not found:
                continue
            cost = (best[i][0], best[i][1] + found[0].price.amount)
            if cost < best[j]:
                best[j], step[j] = cost, (i, found)
    out = Priced()
    j = n
    while j > 0:
        i, found = step[j]
        if not found:
            out.unknown.append(idx[i])
        else:
            out.fare_legs.append(FareLegPrice(tuple(idx[i:j]), tuple(
                ProductPrice(f.fare_id, f.fare_id.split(":", 1)[1], f.price, None, None)
                for f in found)))
            out.add(found[0].price)
        j = i
    out.fare_legs.reverse()
    out.unknown.sort()
    return out
