"""GTFS Fares v2 pricing of one operator's consecutive legs.

1. Legs are joined into effective fare legs by fare_leg_join_rules.txt (both networks, and
   the transfer stops when the rule names them; a station stands for its stops).
2. Each effective leg is matched against fare_leg_rules.txt: network, from/to area (the
   first leg's boarding stop, the last leg's alighting stop), from/to timeframe (the local
   departure and arrival time and the timeframe's service day), area sets (the areas of
   every stop passed). Without a rule_priority column an empty field matches only when no
   rule names the leg's value (the spec's "matched by default"); with it, an empty field
   matches anything and only the rules of the highest rule_priority are kept.
3. Transfers between consecutive effective legs follow fare_transfer_rules.txt: leg groups
   (empty matched by default), transfer_count when both groups are the same (-1
   unlimited), duration_limit measured per duration_limit_type from the first leg of the
   transfer sub-journey, and the cost by fare_transfer_type (0: A + AB, 1: A + AB + B,
   2: AB). Of several usable rules the cheapest for the rider is taken.

The rider's cost of a leg is the cheapest product the rider category may use (any fare
medium); a leg with no such product is unknown, never guessed.
"""

from __future__ import annotations

from collections.abc import Sequence

from transit.fares.compiled import Fares, LegRule, OperatorFares, ProductRow, TransferRule
from transit.fares.legs import local, passed_stops, service_runs, station_of
from transit.fares.model import FareLeg, FareLegPrice
from transit.fares.priced import Priced, Rider, product_price


def _areas(fares: Fares, of: OperatorFares, stop: str) -> frozenset[int]:
    found = of.stop_areas.get(stop)
    if found is None:
        station = station_of(fares.tt, stop)
        found = of.stop_areas.get(station, frozenset()) if station else frozenset()
    return found


def _network(of: OperatorFares, legs: Sequence[FareLeg], eff: list[int]) -> int:
    """The effective leg's network: its legs' common one, else none (-1)."""
    nets = {of.route_net.get(legs[i].route_id, -1) for i in eff}
    return next(iter(nets)) if len(nets) == 1 else -1


def _joins(fares: Fares, of: OperatorFares, a: FareLeg, b: FareLeg) -> bool:
    na, nb = of.route_net.get(a.route_id, -1), of.route_net.get(b.route_id, -1)
    for r in of.join_rules:
        if r.from_net != na or r.to_net != nb or na < 0 or nb < 0:
            continue
        if r.from_stop and r.from_stop not in (a.to_stop, station_of(fares.tt, a.to_stop)):
            continue
        if r.to_stop and r.to_stop not in (b.from_stop, station_of(fares.tt, b.from_stop)):
            continue
        return True
    return False


def _timeframes(fares: Fares, of: OperatorFares, ts: int) -> frozenset[int]:
    d, secs = local(ts, of.tz)
    return frozenset(g for g, frames in of.timeframes.items() if any(
        start <= secs < end and (svc == -1 or service_runs(fares.tt, svc, d))
        for start, end, svc in frames))


class _Leg:
    """An effective fare leg's values, as the rules compare them."""

    def __init__(self, fares: Fares, of: OperatorFares, legs: Sequence[FareLeg],
                 eff: list[int]) -> None:
        first, last = legs[eff[0]], legs[eff[-1]]
        self.eff = eff
        self.departure, self.arrival = first.departure, last.arrival
        net = _network(of, legs, eff)
        self.values = {
            "net": frozenset({net}) if net >= 0 else frozenset(),
            "from_area": _areas(fares, of, first.from_stop),
            "to_area": _areas(fares, of, last.to_stop),
        }
        if of.timeframes:
            self.values["from_tf"] = _timeframes(fares, of, first.departure)
            self.values["to_tf"] = _timeframes(fares, of, last.arrival)
        else:
            self.values["from_tf"] = self.values["to_tf"] = frozenset()
        self.travelled: frozenset[int] = frozenset()
        if of.needs_path:
            self.travelled = frozenset(a for i in eff for s in passed_stops(fares.tt, legs[i])
                                       for a in _areas(fares, of, s))


def _field_ok(of: OperatorFares, name: str, value: int, leg: _Leg) -> bool:
    if value == -2:
        return False
    have = leg.values[name]
    if value >= 0:
        return value in have
    return of.priority or not (have & of.named[name])


def _set_ok(of: OperatorFares, any_set: int, exact_set: int, leg: _Leg) -> bool:
    if any_set == -2 or exact_set == -2:
        return False
    if any_set >= 0 and not of.area_sets.get(any_set, frozenset()) <= leg.travelled:
        return False
    return exact_set < 0 or of.area_sets.get(exact_set) == leg.travelled


def match_rules(of: OperatorFares, leg: _Leg) -> list[LegRule]:
    found = [r for r in of.leg_rules
             if _field_ok(of, "net", r.net, leg) and _field_ok(of, "from_area", r.from_area, leg)
             and _field_ok(of, "to_area", r.to_area, leg)
             and _field_ok(of, "from_tf", r.from_tf, leg) and _field_ok(of, "to_tf", r.to_tf, leg)
             and _set_ok(of, r.any_set, r.exact_set, leg)]
    if of.priority and found:
        top = max(r.priority for r in found)
        found = [r for r in found if r.priority == top]
    return found


def _group_ok(value: str, groups: frozenset[str], named: frozenset[str]) -> bool:
    return value in groups if value else not (groups & named)


def _duration(rule: TransferRule, start: _Leg, nxt: _Leg) -> int:
    begin = start.departure if rule.duration_type in (0, 1) else start.arrival
    end = nxt.arrival if rule.duration_type in (0, 3) else nxt.departure
    return end - begin


def _transfer_ok(of: OperatorFares, rule: TransferRule, a: frozenset[str], b: frozenset[str],
                 start: _Leg, nxt: _Leg, used: int) -> bool:
    if not (_group_ok(rule.from_group, a, of.groups_named[0])
            and _group_ok(rule.to_group, b, of.groups_named[1])):
        return False
    if rule.from_group == rule.to_group:
        if rule.count == -2 or (rule.count >= 0 and used >= rule.count):
            return False
    elif used:
        return False
    return rule.duration < 0 or _duration(rule, start, nxt) <= rule.duration


def _effective(fares: Fares, of: OperatorFares, legs: Sequence[FareLeg], idx: list[int]
               ) -> list[list[int]]:
    out: list[list[int]] = []
    for i in idx:
        if out and _joins(fares, of, legs[out[-1][-1]], legs[i]):
            out[-1].append(i)
        else:
            out.append([i])
    return out


def price_v2(fares: Fares, of: OperatorFares, legs: Sequence[FareLeg], idx: list[int],
             rider: Rider) -> Priced:
    out = Priced()
    prev: tuple[_Leg, frozenset[str], ProductRow | None] | None = None
    chain: tuple[_Leg, TransferRule | None, int] | None = None  # start, rule in use, count
    for eff in _effective(fares, of, legs, idx):
        leg = _Leg(fares, of, legs, eff)
        rules = match_rules(of, leg)
        rows = [row for pid in dict.fromkeys(r.product for r in rules)
                for row in of.products.get(pid, [])]
        groups = frozenset(r.group for r in rules if r.group)
        own = rider.cheapest(rows)
        transfer = None
        if prev is not None and rules and chain is not None:
            transfer = _best_transfer(of, rider, prev, groups, own, leg, chain)
        out.fare_legs.append(FareLegPrice(tuple(eff), tuple(product_price(r) for r in rows),
                                          product_price(transfer[1]) if transfer and
                                          transfer[1] else None))
        if transfer is not None:
            rule, tp, _ = transfer
            _charge_transfer(out, rule, tp, own, prev[2])
            used = chain[2] + 1 if chain[1] == rule else 1
            chain = (chain[0], rule, used)
            prev = (leg, groups, own if rule.kind == 1 else None)
        else:
            if own is None:
                out.unknown += eff
            else:
                out.add(own.price)
            chain = (leg, None, 0) if rules else None
            prev = (leg, groups, own) if rules else None
    return out


def _best_transfer(of: OperatorFares, rider: Rider,
                   prev: tuple[_Leg, frozenset[str], ProductRow | None], groups: frozenset[str],
                   own: ProductRow | None, leg: _Leg, chain: tuple[_Leg, TransferRule | None, int]
                   ) -> tuple[TransferRule, ProductRow | None, int] | None:
    """The usable transfer rule that costs the rider least (with its transfer product)."""
    best: tuple[TransferRule, ProductRow | None, int] | None = None
    for rule in of.transfer_rules:
        used = chain[2] if chain[1] == rule else 0
        if not _transfer_ok(of, rule, prev[1], groups, chain[0], leg, used):
            continue
        tp = rider.cheapest(of.products.get(rule.product, [])) if rule.product else None
        if rule.product and tp is None:
            continue  # the transfer product is not for this rider
        if rule.kind == 1 and own is None:
            continue
        if rule.kind == 2 and prev[2] is None:
            continue
        extra = (tp.price.amount if tp else 0) + (own.price.amount if rule.kind == 1 and own
                                                  else 0)
        extra -= prev[2].price.amount if rule.kind == 2 and prev[2] else 0
        if best is None or extra < best[2]:
            best = (rule, tp, extra)
    return best


def _charge_transfer(out: Priced, rule: TransferRule, tp: ProductRow | None,
                     own: ProductRow | None, prev_own: ProductRow | None) -> None:
    if tp is not None:
        out.add(tp.price)
    if rule.kind == 1 and own is not None:
        out.add(own.price)
    if rule.kind == 2 and prev_own is not None:
        out.add(prev_own.price, -1)  # AB replaces A
    if tp is None and rule.kind != 1:
        out.notes.append("free transfer (fare_transfer_rules without a product)")
