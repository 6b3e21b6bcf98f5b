"""The live state of a planned journey's legs: the latest live data by operator, and the
conditions (delay, cancellation, platform change, missed connection, service alert,
better alternative) that a commute's rules find in it.

Engine side (no web imports)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from transit.commuters.planning import Plan, PlannedLeg
from transit.commuters.rules import Commute
from transit.realtime.matching import Target, affects, fresh
from transit.realtime.overlay import NO_TIME, STOP_SKIPPED, Alert, FeedResult, TripLive
from transit.timetable.strings import StringColumn
from transit.timetable.timetable import Timetable

Condition = tuple[str, str, int, dict]  # kind, subject, value (a delay's seconds), detail
# the best way out of a plan on the live network (described, with "_arrival"), or None
Alternative = Callable[[Timetable, Commute, Plan, int], "dict | None"]


@dataclass
class LiveData:
    """The latest trip updates and service alerts of each operator."""

    stale_after_s: int = 3600
    trips: dict[str, dict[tuple[int, int], TripLive]] = field(default_factory=dict)
    alerts: dict[str, list[Alert]] = field(default_factory=dict)

    def keep(self, result: FeedResult) -> bool:
        """Keep an update's data; False for a kind that alerts do not read."""
        if result.kind == "trip-updates":
            self.trips[result.operator] = result.trips
        elif result.kind == "alerts":
            self.alerts[result.operator] = result.alerts
        else:
            return False
        return True

    def trip(self, leg: PlannedLeg, now: int) -> TripLive | None:
        """The leg's trip instance as live data has it (None: no fresh update)."""
        lv = self.trips.get(leg.operator, {}).get((leg.trip, leg.day))
        if lv is None or not fresh(lv, now, self.stale_after_s):
            return None
        return lv

    def arrival(self, p: Plan, now: int) -> int:
        """The plan's live arrival (the timetable's without a prediction)."""
        leg = p.legs[-1]
        lv = self.trip(leg, now)
        if lv is None or lv.rt_arr[leg.alight_pos] == NO_TIME:
            return p.arrival
        return int(lv.rt_arr[leg.alight_pos])

    def conditions(self, tt: Timetable, c: Commute, p: Plan, now: int,
                   alternative: Alternative) -> Iterable[Condition]:
        """Each rule of c that the live data breaks on plan p."""
        yield from self._ride_conditions(tt, c, p, now)
        yield from self._service_alerts(tt, c, p, now)
        better = c.rule("better_alternative")
        if better is not None:
            live_arrival = self.arrival(p, now)
            if live_arrival - p.arrival >= better.min_minutes * 60:
                alt = alternative(tt, c, p, now)
                if alt is not None and live_arrival - alt["_arrival"] >= better.min_minutes * 60:
                    yield "better_alternative", alt["legs"][0]["trip_id"], 0, {
                        "saves_min": (live_arrival - alt["_arrival"]) // 60,
                        "alternative": alt}

    def _ride_conditions(self, tt: Timetable, c: Commute, p: Plan, now: int
                         ) -> Iterable[Condition]:
        """Cancellations, delays, platform changes and missed connections, leg by leg."""
        ids = tt.strings("stop_id")
        prev_arr: int | None = None
        for n, leg in enumerate(p.legs):
            lv = self.trip(leg, now)
            dep = arr = None
            if lv is not None:
                canceled = lv.status in ("canceled", "deleted")
                yield from _leg_conditions(c, leg, lv, ids, canceled)
                if canceled:
                    prev_arr = None
                    continue
                b, a = leg.board_pos, leg.alight_pos
                dep = int(lv.rt_dep[b]) if lv.rt_dep[b] != NO_TIME else None
                arr = int(lv.rt_arr[a]) if lv.rt_arr[a] != NO_TIME else None
            dep_live = dep if dep is not None else leg.departure
            if (n > 0 and prev_arr is not None and c.rule("missed_connection")
                    and prev_arr + leg.change_before_s > dep_live):
                yield "missed_connection", leg.trip_id, 0, {
                    "arrival_before": prev_arr, "needed_s": leg.change_before_s,
                    "departure": dep_live}
            prev_arr = arr if arr is not None else leg.arrival

    def _service_alerts(self, tt: Timetable, c: Commute, p: Plan, now: int
                        ) -> Iterable[Condition]:
        if c.rule("service_alert") is None:
            return
        for leg in p.legs:
            alerts = [a for a in self.alerts.get(leg.operator, []) if a.active_at(now)]
            if not alerts:
                continue
            target = target_of(tt, leg)
            for a in alerts:
                if affects(a, target):
                    yield "service_alert", a.id, 0, {
                        "effect": a.effect, "header": a.header, "trip_id": leg.trip_id}


def _leg_conditions(c: Commute, leg: PlannedLeg, lv: TripLive, ids: StringColumn,
                    canceled: bool) -> Iterable[Condition]:
    """A cancellation (of the trip or of the leg's stops); on a running trip, the delay at
    boarding or alighting and a platform moved."""
    b, a = leg.board_pos, leg.alight_pos
    skipped = [ids[int(lv.stops[x])] for x in (b, a)
               if lv.stop_status[x] == STOP_SKIPPED]
    if (canceled or skipped) and c.rule("cancellation"):
        yield "cancellation", leg.trip_id, 0, (
            {"trip_canceled": True} if canceled else {"stops_skipped": skipped})
    if canceled:
        return
    delay_rule = c.rule("delay")
    delays = [int(t) - int(s) for t, s in ((lv.rt_dep[b], lv.sched_dep[b]),
                                           (lv.rt_arr[a], lv.sched_arr[a])) if t != NO_TIME]
    worst = max(delays, default=0)
    if delay_rule and worst >= delay_rule.min_minutes * 60:
        yield "delay", leg.trip_id, worst, {"delay_s": worst, "delay_min": worst // 60}
    moved = [(ids[st], ids[int(lv.stops[x])]) for x, st in
             ((b, leg.from_stop), (a, leg.to_stop)) if int(lv.stops[x]) != st]
    if moved and c.rule("platform_change"):
        yield "platform_change", leg.trip_id, 0, {
            "changes": [{"scheduled": s, "now": m} for s, m in moved]}


def target_of(tt: Timetable, leg: PlannedLeg) -> Target:
    """What a service alert's selectors are compared with for one leg."""
    ids = tt.strings("stop_id")
    stop_ids = []
    for s in (leg.from_stop, leg.to_stop):
        stop_ids.append(ids[s])
        if tt.stop_parent[s] >= 0:
            stop_ids.append(ids[int(tt.stop_parent[s])])
    r = leg.route
    return Target(operator=leg.operator,
                  agency_id=tt.strings("agency_id")[int(tt.route_agency[r])] if r >= 0 else None,
                  route_id=tt.strings("route_id")[r] if r >= 0 else None,
                  route_type=int(tt.route_type[r]) if r >= 0 else None,
                  direction_id=int(tt.trip_direction[leg.trip]) if leg.trip >= 0 else None,
                  trip_id=leg.trip_id, stop_ids=tuple(stop_ids))
