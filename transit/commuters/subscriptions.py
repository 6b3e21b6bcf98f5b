"""What the evaluator watches: one subscription per commute running today (its plans and
open alerts), the groups of commutes that share plans, rules and lead time, and the
indexes from what a live update names (trip instances, trips, routes, stops, operators)
to the groups it can concern.

Engine side (no web imports)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

import numpy as np

from transit.commuters.planning import Plan
from transit.commuters.rules import Commute
from transit.realtime.overlay import FeedResult
from transit.timetable.timetable import Timetable

OpenKey = tuple[int, str, str]  # (plan index, kind, subject)


@dataclass
class Sub:
    """A commute watched on its local day: its plans and its open alerts."""

    commute: Commute
    day: date
    tz: ZoneInfo
    plans: list[Plan]
    open: dict[OpenKey, tuple[int, int]] = field(default_factory=dict)  # value, version
    group: tuple = ()


@dataclass
class Group:
    """Commutes sharing plans (the planner's cached list), rules and lead time."""

    key: tuple
    commute: Commute  # the first member: its places, options and rules are the group's
    day: date
    tz: ZoneInfo
    plans: list[Plan]
    ops: tuple[str, ...]
    members: set[str] = field(default_factory=set)
    open_members: set[str] = field(default_factory=set)


class Subscriptions:
    """Subscriptions, their groups and the indexes of the groups (not thread-safe: the
    evaluator holds its lock around every call)."""

    def __init__(self) -> None:
        self.subs: dict[str, Sub] = {}
        self.known: dict[str, Commute] = {}  # every commute watched, running today or not
        self.groups: dict[tuple, Group] = {}
        self.by_instance: dict[tuple[int, int], set[tuple]] = {}
        self.by_trip: dict[str, set[tuple]] = {}
        self.by_route: dict[int, set[tuple]] = {}
        self.by_stop: dict[int, set[tuple]] = {}
        self.by_op: dict[str, set[tuple]] = {}
        self.open_by_op: dict[str, set[tuple]] = {}  # groups with an open alert

    def add(self, c: Commute, d: date, tz: ZoneInfo, plans: list[Plan],
            old: Sub | None) -> Sub:
        """Watch c (forgotten before) with its plans; the open alerts of `old` go on when
        its journeys and rules are the same."""
        g = self.group(c, d, tz, plans)
        sub = self.subs[c.id] = Sub(c, d, tz, plans, group=g.key)
        g.members.add(c.id)
        if old is not None and old.day == d and old.plans == plans \
                and old.commute.rules_key == c.rules_key and old.open:
            sub.open = old.open
            self.opened(g, c.id, True)
        return sub

    def group(self, c: Commute, d: date, tz: ZoneInfo, plans: list[Plan]) -> Group:
        key = (id(plans), c.rules_key, c.lead_min, d)  # the group holds plans: ids stay
        g = self.groups.get(key)
        if g is None:
            g = self.groups[key] = Group(
                key, c, d, tz, plans,
                tuple(sorted({leg.operator for p in plans for leg in p.legs})))
            for k, index in self._keys(plans):
                index.setdefault(k, set()).add(key)
        return g

    def opened(self, g: Group, commute_id: str, is_open: bool) -> None:
        """Mark a member as having an open alert (or none any more)."""
        if is_open:
            g.open_members.add(commute_id)
            for op in g.ops:
                self.open_by_op.setdefault(op, set()).add(g.key)
        else:
            g.open_members.discard(commute_id)
            if not g.open_members:
                for op in g.ops:
                    self.open_by_op.get(op, set()).discard(g.key)

    def forget(self, commute_id: str) -> Sub | None:
        """Stop watching a commute; its group goes when it was the last member."""
        self.known.pop(commute_id, None)
        sub = self.subs.pop(commute_id, None)
        if sub is None:
            return None
        g = self.groups.get(sub.group)
        if g is None:
            return sub
        g.members.discard(commute_id)
        self.opened(g, commute_id, False)
        if g.members:
            return sub
        del self.groups[g.key]
        for key, index in self._keys(g.plans):
            ids = index.get(key)
            if ids is not None:
                ids.discard(g.key)
                if not ids:
                    del index[key]
        return sub

    def clear_open(self) -> None:
        for sub in self.subs.values():
            sub.open.clear()
        for g in self.groups.values():
            g.open_members.clear()
        self.open_by_op.clear()

    def _keys(self, plans: list[Plan]) -> Iterable[tuple[object, dict]]:
        for p in plans:
            for leg in p.legs:
                yield (leg.trip, leg.day), self.by_instance
                yield leg.trip_id, self.by_trip
                yield leg.route, self.by_route
                yield leg.from_stop, self.by_stop
                yield leg.to_stop, self.by_stop
                yield leg.operator, self.by_op

    # -- what an update touches
    def touched(self, tt: Timetable, result: FeedResult) -> set[tuple]:
        """Keys of the groups an update can concern, those with an open alert on its
        operator included (they may resolve)."""
        out = (self._touched_by_trips(result) if result.kind == "trip-updates"
               else self._touched_by_alerts(tt, result))
        return out | self.open_by_op.get(result.operator, set())

    def _touched_by_trips(self, result: FeedResult) -> set[tuple]:
        index = self.by_instance
        out: set[tuple] = set()
        for k in result.trips.keys() & index.keys():
            out |= index[k]
        return out

    def _touched_by_alerts(self, tt: Timetable, result: FeedResult) -> set[tuple]:
        out: set[tuple] = set()
        route_index = _route_index(tt)
        for a in result.alerts:
            for sel in a.selectors:
                if sel.trip_id is not None:
                    out |= self.by_trip.get(sel.trip_id, set())
                elif sel.route_id is not None:
                    out |= self.by_route.get(route_index.get(sel.route_id, -2), set())
                elif sel.stop_id is not None:
                    s = tt.stop_index.get(sel.stop_id)
                    if s is not None:
                        out |= self.by_stop.get(s, set())
                        for child in _children(tt, s):
                            out |= self.by_stop.get(child, set())
                else:  # agency or route type: every commute riding the operator
                    out |= self.by_op.get(sel.operator, set())
        return out


def _route_index(tt: Timetable) -> dict[str, int]:
    key = ("commuters-route-index",)
    if key not in tt.cache:
        tt.cache[key] = {r: i for i, r in enumerate(tt.strings("route_id").to_list())}
    return tt.cache[key]  # type: ignore[return-value]


def _children(tt: Timetable, s: int) -> list[int]:
    return [int(x) for x in np.flatnonzero(np.asarray(tt.stop_parent) == s)]
