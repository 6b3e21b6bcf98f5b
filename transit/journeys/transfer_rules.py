"""transfers.txt rules for some routes or trips only (types 0-3 with `from_route_id`,
`to_route_id`, `from_trip_id` or `to_trip_id`), checked on journeys found.

The search honours these rules (`transit.routing.transfer_rules`), except for the change off
the trip a rider is aboard (`from_trip`), whose first leg is not searched: such journeys are
checked here, and one changing where a rule forbids it (type 3), or sooner than its minimum
time (type 2), is not offered. (Its valid alternatives are not searched for.) The most
specific rule applies, as the spec orders them: both trips, a trip and a route, one trip,
both routes, one route; a rule naming a stop wins over one naming its parent station.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from transit.routing import search as engine
from transit.timetable.timetable import Timetable


@dataclass(frozen=True)
class _Rule:
    from_stop: int
    to_stop: int
    from_route: int
    to_route: int
    from_trip: int
    to_trip: int
    kind: int
    min_s: int

    def specificity(self, parent: np.ndarray) -> tuple[int, int]:
        trips = (self.from_trip >= 0) + (self.to_trip >= 0)
        routes = (self.from_route >= 0) + (self.to_route >= 0)
        ranking = {(2, 0): 6, (1, 1): 5, (1, 0): 4, (0, 2): 3, (0, 1): 2}
        stops = sum(1 for s in (self.from_stop, self.to_stop) if s >= 0 and parent[s] >= 0)
        return ranking.get((trips, routes), 1), stops


def _rules(tt: Timetable) -> list[_Rule]:
    key = ("specific_transfer_rules",)
    if key not in tt.cache:
        cols = [np.asarray(tt.columns[n]) for n in (
            "transfer_from", "transfer_to", "transfer_from_route", "transfer_to_route",
            "transfer_from_trip", "transfer_to_trip", "transfer_type", "transfer_min_s")]
        rows = [_Rule(*(int(c[i]) for c in cols)) for i in range(len(cols[0]))]
        tt.cache[key] = [r for r in rows if r.kind <= 3 and (
            r.from_route >= 0 or r.to_route >= 0 or r.from_trip >= 0 or r.to_trip >= 0)]
    return tt.cache[key]  # type: ignore[return-value]


def allowed(tt: Timetable, journeys: list[engine.Journey]) -> list[engine.Journey]:
    """The journeys none of whose changes a trip- or route-specific rule rules out."""
    rules = _rules(tt)
    if not rules:
        return journeys
    parent = np.asarray(tt.stop_parent)
    return [j for j in journeys if all(_ok(tt, rules, parent, a, b)
                                       for a, b in _changes(j))]


def _changes(j: engine.Journey) -> list[tuple[engine.Leg, engine.Leg]]:
    trips = [leg for leg in j.legs if leg.kind == "trip"]
    return [(a, b) for a, b in itertools.pairwise(trips) if not b.stay_seated]


def _ok(tt: Timetable, rules: list[_Rule], parent: np.ndarray, a: engine.Leg,
        b: engine.Leg) -> bool:
    route = np.asarray(tt.trip_route)

    def at(rule_stop: int, s: int) -> bool:
        return rule_stop < 0 or rule_stop == s or rule_stop == int(parent[s])

    def same(rule_value: int, value: int) -> bool:
        return rule_value < 0 or rule_value == value

    ra = int(route[a.trip]) if a.trip >= 0 else -1
    rb = int(route[b.trip]) if b.trip >= 0 else -1
    hits = [r for r in rules if at(r.from_stop, a.to_stop) and at(r.to_stop, b.from_stop)
            and same(r.from_trip, a.trip) and same(r.to_trip, b.trip)
            and same(r.from_route, ra) and same(r.to_route, rb)]
    if not hits:
        return True
    rule = max(hits, key=lambda r: r.specificity(parent))
    if rule.kind == 3:
        return False
    return not (rule.kind == 2 and rule.min_s >= 0 and b.departure - a.arrival < rule.min_s)
