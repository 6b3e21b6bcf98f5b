"""Alert evaluation: every live-data update applied by the realtime state is compared with
the journeys the saved commutes watch, and what changed becomes alert events.

Engine side (no web imports). Commutes that watch the same journeys with the same rules and
lead time (same places, window, day and options) form one group: the group's journeys are
judged once per update, and only the members of a group with a condition (or an open
alert) are looked at one by one. Groups are indexed by the trip instances, trips, routes,
stops and operators of their plans, so an update touches only the groups it can concern (a
set intersection over the update's trip keys). One alert per condition (a
delay, a cancellation, ...) of one planned journey, with a stable id: it is `new` once,
`updated` when a delay moves by 2 minutes or more, and `resolved` ("back to normal") when
the condition goes away. A broken journey (cancelled, connection missed) is re-planned on
the live network and the alert carries the best alternative.

Once per cluster: with a `leader` (a lease), only its holder judges updates; the others
keep the latest live data and their subscriptions, and the process that takes the lease
over reads the open alerts back (`restore`) so that it updates and resolves them instead of
sending them new.

Lead time, quiet hours and pauses hold an alert back (it goes out on a later update if the
condition still holds); they are judged by the service clock, not the wall clock.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from operator import attrgetter
from zoneinfo import ZoneInfo

from transit.clock import Clock
from transit.commuters.planning import Plan, PlannedLeg, Planner, zone_of
from transit.commuters.rules import Commute, RuleError
from transit.delivery.alert_events import AlertEvent
from transit.realtime.matching import Target, affects, fresh
from transit.realtime.overlay import NO_TIME, STOP_SKIPPED, Alert, FeedResult, Overlay, TripLive
from transit.realtime.routing_view import live_trips
from transit.routing.live_trips import LiveTrips
from transit.timetable.timetable import Timetable

log = logging.getLogger("transit.commuters")
UPDATE_DELTA_S = 120  # a delay alert is updated when the delay moves this much
AFTER_ARRIVAL_S = 3600  # conditions of a journey are watched until this long after arrival
BROKEN = ("cancellation", "missed_connection")


@dataclass
class _Sub:
    commute: Commute
    day: date
    tz: ZoneInfo
    plans: list[Plan]
    open: dict[tuple[int, str, str], tuple[int, int]] = field(default_factory=dict)  # value,
    group: tuple = ()  # version


@dataclass
class _Group:
    """Commutes sharing plans (the planner's cached list), rules and lead time."""

    key: tuple
    commute: Commute  # the first member: its places, options and rules are the group's
    day: date
    tz: ZoneInfo
    plans: list[Plan]
    ops: tuple[str, ...]
    members: set[str] = field(default_factory=set)
    open_members: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class OpenAlert:
    """An alert recorded as not resolved (the inbox): what a new lease holder goes on from."""

    id: str
    commute_id: str
    kind: str
    subject: str
    version: int
    value: int  # the delay in seconds for a delay, else 0


@dataclass
class _Shared:
    """What the members of a group share within one evaluation."""

    day: str
    planner: Planner
    plans: list[Plan]
    alts: dict[int, dict | None]
    tails: dict[tuple[int, str, str], bytes]

    def journey(self, i: int) -> dict:
        return self.planner.describe(self.plans[i])

    def tail(self, key: tuple[int, str, str]) -> bytes:
        """What follows the commute id in what an alert id hashes (see alert_id)."""
        t = self.tails.get(key)
        if t is None:
            i, kind, subject = key
            t = self.tails[key] = f"|{self.day}|{self.plans[i].departure}|{kind}|{subject}" \
                .encode()
        return t

    def alternative(self, i: int, replan: Callable[[], dict | None]) -> dict | None:
        if i not in self.alts:
            self.alts[i] = replan()
        return self.alts[i]


def alert_id(commute_id: str, day: date, departure: int, kind: str, subject: str) -> str:
    return _hashed(f"{commute_id}|{day.isoformat()}|{departure}|{kind}|{subject}".encode())


def _hashed(raw: bytes) -> str:
    return "al_" + hashlib.sha256(raw).hexdigest()[:24]


class Evaluator:
    def __init__(self, clock: Clock, sink: Callable[[list[AlertEvent]], None] | None = None,
                 stale_after_s: int = 3600,
                 loader: Callable[[], list[Commute]] | None = None,
                 leader: Callable[[], bool] | None = None,
                 restore: Callable[[], list[OpenAlert]] | None = None) -> None:
        self.clock = clock
        self.sink = sink
        self.loader = loader  # every saved commute, when none was watched yet (startup)
        self.leader = leader  # None: this process alone evaluates
        self.restore = restore  # the open alerts, read when this process takes the lead
        self.leading = False
        self.evaluated = 0  # updates judged by this process
        self.timetable: Callable[[], Timetable | None] | None = None  # for the first load
        self.stale_after_s = stale_after_s
        self._lock = threading.RLock()
        self._subs: dict[str, _Sub] = {}
        self._known: dict[str, Commute] = {}  # every commute watched, running today or not
        self._watched: tuple[str, date] | None = None  # (timetable version, UTC date)
        self._planner: Planner | None = None
        self._groups: dict[tuple, _Group] = {}
        # indexes: what an update names -> group keys
        self._by_instance: dict[tuple[int, int], set[tuple]] = {}
        self._by_trip: dict[str, set[tuple]] = {}
        self._by_route: dict[int, set[tuple]] = {}
        self._by_stop: dict[int, set[tuple]] = {}
        self._by_op: dict[str, set[tuple]] = {}
        self._open_by_op: dict[str, set[tuple]] = {}  # groups with an open alert
        # the latest live data, by operator
        self._trips: dict[str, dict[tuple[int, int], TripLive]] = {}
        self._alerts: dict[str, list[Alert]] = {}
        self._queue: deque[tuple[Timetable, FeedResult, int]] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.replans = 0
        self.replan_s = 0.0  # time spent re-planning (the benchmark separates it)
        self._live_view: tuple[LiveTrips, list[TripLive]] | None = None
        self._alt_cache: dict[tuple, dict | None] = {}
        self._memo: dict[tuple, tuple[Plan, list]] = {}

    # -- subscriptions
    def planner(self, tt: Timetable) -> Planner:
        if self._planner is None or self._planner.tt is not tt:
            self._planner = Planner(tt)
        return self._planner

    def watch(self, tt: Timetable, commutes: Iterable[Commute], day: date | None = None) -> int:
        """Plan the commutes on their local date (default: today by the service clock) and
        index them; a commute not running that day is dropped. Returns how many watch."""
        planner = self.planner(tt)
        planner.forget_before(self.clock.now().date() - timedelta(days=1))
        n = 0
        with self._lock:
            self._watched = self._stamp(tt)
            for c in commutes:
                old = self._subs.get(c.id)
                self.forget(c.id)
                self._known[c.id] = c
                try:
                    tz = zone_of(tt, c)
                    d = day or self.clock.now().astimezone(tz).date()
                    if not c.runs_on(d):
                        continue
                    plans = planner.plans(c, d)
                except RuleError as exc:  # a place this timetable version lost
                    log.warning("commute %s not watched: %s", c.id, exc)
                    continue
                if not plans:
                    continue
                g = self._group(c, d, tz, plans)
                sub = self._subs[c.id] = _Sub(c, d, tz, plans, group=g.key)
                g.members.add(c.id)
                if old is not None and old.day == d and old.plans == plans \
                        and old.commute.rules_key == c.rules_key and old.open:
                    sub.open = old.open  # the same journeys: their open alerts go on
                    self._opened(g, c.id, True)
                n += 1
        return n

    def _group(self, c: Commute, d: date, tz: ZoneInfo, plans: list[Plan]) -> _Group:
        key = (id(plans), c.rules_key, c.lead_min, d)  # the group holds plans: ids stay
        g = self._groups.get(key)
        if g is None:
            g = self._groups[key] = _Group(
                key, c, d, tz, plans,
                tuple(sorted({leg.operator for p in plans for leg in p.legs})))
            for k, index in self._keys(plans):
                index.setdefault(k, set()).add(key)
        return g

    def _opened(self, g: _Group, commute_id: str, is_open: bool) -> None:
        if is_open:
            g.open_members.add(commute_id)
            for op in g.ops:
                self._open_by_op.setdefault(op, set()).add(g.key)
        else:
            g.open_members.discard(commute_id)
            if not g.open_members:
                for op in g.ops:
                    self._open_by_op.get(op, set()).discard(g.key)

    def forget(self, commute_id: str) -> None:
        with self._lock:
            self._known.pop(commute_id, None)
            sub = self._subs.pop(commute_id, None)
            if sub is None:
                return
            g = self._groups.get(sub.group)
            if g is None:
                return
            g.members.discard(commute_id)
            self._opened(g, commute_id, False)
            if g.members:
                return
            del self._groups[g.key]
            for key, index in self._keys(g.plans):
                ids = index.get(key)
                if ids is not None:
                    ids.discard(g.key)
                    if not ids:
                        del index[key]

    def _stamp(self, tt: Timetable) -> tuple[str, int]:
        return tt.version, int(self.clock.now().timestamp()) // 3600

    def refresh(self, tt: Timetable) -> None:
        """Plan again when the timetable version changed (trip indexes are those of one
        version) or an hour passed (local dates change at every zone's midnight), reading
        the saved commutes again (other processes save and delete them too); alerts of
        unchanged journeys stay open. At startup, load every saved commute."""
        if self._watched is None:
            if self.loader is not None:
                self.watch(tt, self.loader())
        elif self._watched != self._stamp(tt):
            if self.loader is None:
                self.watch(tt, list(self._known.values()))
                return
            saved = self.loader()  # commutes saved or deleted through other processes too
            for gone in set(self._known) - {c.id for c in saved}:
                self.forget(gone)
            self.watch(tt, saved)

    def _keys(self, plans: list[Plan]) -> Iterable[tuple[object, dict]]:
        for p in plans:
            for leg in p.legs:
                yield (leg.trip, leg.day), self._by_instance
                yield leg.trip_id, self._by_trip
                yield leg.route, self._by_route
                yield leg.from_stop, self._by_stop
                yield leg.to_stop, self._by_stop
                yield leg.operator, self._by_op

    @property
    def watching(self) -> int:
        return len(self._subs)

    # -- the realtime observer and its worker
    def observe(self, tt: Timetable, result: FeedResult, now: int) -> None:
        """The LiveState observer (called under its lock): enqueue only."""
        self._queue.append((tt, result, now))
        self._wake.set()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="alert-evaluator",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        release = getattr(self.leader, "release", None)
        if release is not None:  # another process takes over now, not after the lease
            release()

    def lead(self) -> bool:
        """Take or renew the lease; True while this process evaluates. Taking the lead
        (or the first evaluation) reads the open alerts back."""
        with self._lock:
            ok = True if self.leader is None else bool(self.leader())
            if ok and self._watched is None:
                return ok  # nothing watched yet: read back once the commutes are
            if ok and not self.leading and self.restore is not None:
                try:
                    self._restore(self.restore())
                except Exception:  # the database away: alerts start anew
                    log.exception("open alerts not read back")
            self.leading = ok
            return ok

    def _restore(self, rows: list[OpenAlert]) -> None:
        for sub in self._subs.values():
            sub.open.clear()
        for g in self._groups.values():
            g.open_members.clear()
        self._open_by_op.clear()
        by_commute: dict[str, list[OpenAlert]] = {}
        for r in rows:
            by_commute.setdefault(r.commute_id, []).append(r)
        for cid, found in by_commute.items():
            sub = self._subs.get(cid)
            if sub is None:
                continue
            for i, p in enumerate(sub.plans):
                for r in found:
                    if alert_id(cid, sub.day, p.departure, r.kind, r.subject) == r.id:
                        sub.open[(i, r.kind, r.subject)] = (r.value, r.version)
            if sub.open:
                self._opened(self._groups[sub.group], cid, True)

    def _run(self) -> None:
        tt = self.timetable() if self.timetable is not None else None
        if tt is not None and self.loader is not None:  # off the startup path: it plans
            try:
                self.watch(tt, self.loader())
            except Exception:
                log.exception("saved commutes not watched at start")
        while not self._stop.is_set():
            self._wake.wait(1.0)
            self._wake.clear()
            try:
                self.lead()  # renewed while alive: another takes over when it dies
                self.process()
            except Exception:  # one bad update never stops the evaluation of the next
                log.exception("alert evaluation failed")

    def process(self) -> list[AlertEvent]:
        """Evaluate every queued update; hand the events to the sink. Returns them."""
        events: list[AlertEvent] = []
        while self._queue:
            tt, result, now = self._queue.popleft()
            events.extend(self.evaluate(tt, result, now))
        return events

    # -- evaluation
    def evaluate(self, tt: Timetable, result: FeedResult, now: int) -> list[AlertEvent]:
        with self._lock:
            self.refresh(tt)
            op = result.operator
            self._live_view = None
            self._alt_cache: dict[tuple, dict | None] = {}
            self._memo: dict[tuple, tuple[Plan, list]] = {}
            if result.kind == "trip-updates":
                self._trips[op] = result.trips
            elif result.kind == "alerts":
                self._alerts[op] = result.alerts
            else:
                return []
            if not self.lead():  # another process judges it: keep the live data only
                return []
            self.evaluated += 1
            touched = (self._touched_by_trips(result) if result.kind == "trip-updates"
                       else self._touched_by_alerts(tt, result))
            touched |= self._open_by_op.get(op, set())
            events: list[AlertEvent] = []
            for key in touched:
                g = self._groups.get(key)
                if g is not None:
                    events.extend(self._judge_group(tt, g, now))
            events.sort(key=attrgetter("commute_id"))  # stable: a commute's events keep their order
        if events and self.sink is not None:
            self.sink(events)
        return events

    def _touched_by_trips(self, result: FeedResult) -> set[str]:
        index = self._by_instance
        keys = result.trips.keys() & index.keys()
        out: set[str] = set()
        for k in keys:
            out |= index[k]
        return out

    def _touched_by_alerts(self, tt: Timetable, result: FeedResult) -> set[str]:
        out: set[str] = set()
        route_index = _route_index(tt)
        for a in result.alerts:
            for sel in a.selectors:
                if sel.trip_id is not None:
                    out |= self._by_trip.get(sel.trip_id, set())
                elif sel.route_id is not None:
                    out |= self._by_route.get(route_index.get(sel.route_id, -2), set())
                elif sel.stop_id is not None:
                    s = tt.stop_index.get(sel.stop_id)
                    if s is not None:
                        out |= self._by_stop.get(s, set())
                        for child in _children(tt, s):
                            out |= self._by_stop.get(child, set())
                else:  # agency or route type: every commute riding the operator
                    out |= self._by_op.get(sel.operator, set())
        return out

    def _judge_group(self, tt: Timetable, g: _Group, now: int) -> list[AlertEvent]:
        """The group's conditions, judged once; then each member that has one or has an
        open alert."""
        c = g.commute
        lead = c.lead_min * 60
        current: dict[tuple[int, str, str], tuple[int, dict]] = {}
        for i, p in enumerate(g.plans):
            if not (p.departure - lead <= now <= p.arrival + AFTER_ARRIVAL_S):
                continue
            memo = (id(p), c.rules_key)  # groups sharing a plan and rules share it
            found = self._memo.get(memo)
            if found is None or found[0] is not p:
                found = self._memo[memo] = (p, list(self._conditions(tt, c, p, now)))
            for kind, subject, value, detail in found[1]:
                current[(i, kind, subject)] = (value, detail)  # shared: copied if sent
        if not current and not g.open_members:
            return []
        shared = _Shared(g.day.isoformat(), self.planner(tt), g.plans, {}, {})
        items = [(key, value, {k: v for k, v in detail.items() if k != "alternative"},
                  _public(detail.get("alternative")), shared.journey(key[0]),
                  shared.tail(key)) for key, (value, detail) in current.items()]
        events: list[AlertEvent] = []
        local = datetime.fromtimestamp(now, g.tz)
        for cid in sorted(g.members if current else g.open_members):
            sub = self._subs[cid]
            was_open = bool(sub.open)
            if (current or was_open) and sub.commute.muted_at(local) is None:
                self._judge(tt, sub, items, current, shared, now, events)
                if bool(sub.open) != was_open:
                    self._opened(g, cid, not was_open)
        return events

    def _judge(self, tt: Timetable, sub: _Sub, items: list, current: dict, shared: _Shared,
               now: int, events: list[AlertEvent]) -> None:
        """One member's events: what is new or moved in `current` (as `items`, with what
        every member shares), what went away."""
        c = sub.commute
        cid = c.id.encode()
        alternative: dict | None = None
        replanned = False
        for key, value, detail, better, journey, tail in items:
            kind = key[1]
            was = sub.open.get(key)
            if was is not None and not (kind == "delay" and abs(value - was[0])
                                        >= UPDATE_DELTA_S):
                continue
            if kind in BROKEN and not replanned:
                p = sub.plans[key[0]]
                alternative = shared.alternative(key[0], lambda p=p: _public(
                    self._alternative(tt, c, p, now)))
                replanned = True
            version = 1 if was is None else was[1] + 1
            sub.open[key] = (value, version)
            events.append(AlertEvent(
                _hashed(cid + tail), c.id, c.user_id, kind, "new" if was is None else
                "updated", version, now, shared.day, journey, key[2], detail,
                alternative if kind in BROKEN else better))
        if len(sub.open) <= len(current) and all(k in current for k in sub.open):
            return
        for key in [k for k in sub.open if k not in current]:
            version = sub.open.pop(key)[1] + 1
            events.append(AlertEvent(
                _hashed(cid + shared.tail(key)), c.id, c.user_id, key[1], "resolved",
                version, now, shared.day, shared.journey(key[0]), key[2],
                {"message": "back to normal"}))

    def _live(self, leg: PlannedLeg, now: int) -> TripLive | None:
        lv = self._trips.get(leg.operator, {}).get((leg.trip, leg.day))
        if lv is None or not fresh(lv, now, self.stale_after_s):
            return None
        return lv

    def _conditions(self, tt: Timetable, c: Commute, p: Plan, now: int
                    ) -> Iterable[tuple[str, str, int, dict]]:
        """(kind, subject, value, detail) of each rule the live data breaks on plan p."""
        ids = tt.strings("stop_id")
        delay_rule, prev_arr = c.rule("delay"), None
        for n, leg in enumerate(p.legs):
            lv = self._live(leg, now)
            dep = arr = None
            if lv is not None:
                b, a = leg.board_pos, leg.alight_pos
                canceled = lv.status in ("canceled", "deleted")
                skipped = [ids[int(lv.stops[x])] for x in (b, a)
                           if lv.stop_status[x] == STOP_SKIPPED]
                if (canceled or skipped) and c.rule("cancellation"):
                    yield "cancellation", leg.trip_id, 0, (
                        {"trip_canceled": True} if canceled else {"stops_skipped": skipped})
                if canceled:
                    prev_arr = None
                    continue
                dep = int(lv.rt_dep[b]) if lv.rt_dep[b] != NO_TIME else None
                arr = int(lv.rt_arr[a]) if lv.rt_arr[a] != NO_TIME else None
                delays = [t - s for t, s in ((dep, int(lv.sched_dep[b])),
                                             (arr, int(lv.sched_arr[a]))) if t is not None]
                worst = max(delays, default=0)
                if delay_rule and worst >= delay_rule.min_minutes * 60:
                    yield "delay", leg.trip_id, worst, {"delay_s": worst,
                                                        "delay_min": worst // 60}
                moved = [(ids[st], ids[int(lv.stops[x])]) for x, st in
                         ((b, leg.from_stop), (a, leg.to_stop)) if int(lv.stops[x]) != st]
                if moved and c.rule("platform_change"):
                    yield "platform_change", leg.trip_id, 0, {
                        "changes": [{"scheduled": s, "now": m} for s, m in moved]}
            dep_live = dep if dep is not None else leg.departure
            if (n > 0 and prev_arr is not None and c.rule("missed_connection")
                    and prev_arr + leg.change_before_s > dep_live):
                yield "missed_connection", leg.trip_id, 0, {
                    "arrival_before": prev_arr, "needed_s": leg.change_before_s,
                    "departure": dep_live}
            prev_arr = arr if arr is not None else leg.arrival
        yield from self._service_alerts(tt, c, p, now)
        better = c.rule("better_alternative")
        if better is not None:
            live_arrival = self._live_arrival(p, now)
            if live_arrival - p.arrival >= better.min_minutes * 60:
                alt = self._alternative(tt, c, p, now)
                if alt is not None and live_arrival - alt["_arrival"] >= better.min_minutes * 60:
                    yield "better_alternative", alt["legs"][0]["trip_id"], 0, {
                        "saves_min": (live_arrival - alt["_arrival"]) // 60,
                        "alternative": alt}

    def _live_arrival(self, p: Plan, now: int) -> int:
        leg = p.legs[-1]
        lv = self._live(leg, now)
        if lv is None or lv.rt_arr[leg.alight_pos] == NO_TIME:
            return p.arrival
        return int(lv.rt_arr[leg.alight_pos])

    def _service_alerts(self, tt: Timetable, c: Commute, p: Plan, now: int
                        ) -> Iterable[tuple[str, str, int, dict]]:
        if c.rule("service_alert") is None:
            return
        for leg in p.legs:
            alerts = [a for a in self._alerts.get(leg.operator, []) if a.active_at(now)]
            if not alerts:
                continue
            target = _target(tt, leg)
            for a in alerts:
                if affects(a, target):
                    yield "service_alert", a.id, 0, {
                        "effect": a.effect, "header": a.header, "trip_id": leg.trip_id}

    def _alternative(self, tt: Timetable, c: Commute, p: Plan, now: int) -> dict | None:
        """The earliest arrival on the live network, leaving from 10 minutes before the
        planned departure (or now, if later): the way out of a broken journey."""
        start = max(now, p.departure - 600)
        key = (c.origin, c.destination, c.max_transfers, c.min_transfer_s, start)
        if key in self._alt_cache:  # commutes sharing a plan share its re-plan
            return self._alt_cache[key]
        t0 = time.perf_counter()
        if self._live_view is None:  # built once per update, for all its re-plans
            overlay = Overlay([FeedResult(op, "trip-updates", None, trips)  # type: ignore
                               for op, trips in self._trips.items()])
            self._live_view = live_trips(tt, overlay, now, self.stale_after_s)
        live, behind = self._live_view
        self.replans += 1
        alt = self.planner(tt).replan(c, start, live, behind)
        out = None
        if alt is not None:
            out = dict(self.planner(tt).describe(alt))
            out["_arrival"] = alt.arrival  # taken out before it is sent
        self._alt_cache[key] = out
        self.replan_s += time.perf_counter() - t0
        return out


def _public(alt: dict | None) -> dict | None:
    return None if alt is None else {k: v for k, v in alt.items() if not k.startswith("_")}


def _route_index(tt: Timetable) -> dict[str, int]:
    key = ("commuters-route-index",)
    if key not in tt.cache:
        tt.cache[key] = {r: i for i, r in enumerate(tt.strings("route_id").to_list())}
    return tt.cache[key]  # type: ignore[return-value]


def _children(tt: Timetable, s: int) -> list[int]:
    import numpy as np

    return [int(x) for x in np.flatnonzero(np.asarray(tt.stop_parent) == s)]


def _target(tt: Timetable, leg: PlannedLeg) -> Target:
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
