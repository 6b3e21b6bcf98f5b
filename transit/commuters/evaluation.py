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

This module orchestrates; the parts live beside it: subscriptions.py (groups and their
indexes), leg_state.py (live data and the conditions of a plan), decisions.py (new,
updated, resolved; lead time, quiet hours, pauses; alert ids), replanning.py (the way out
of a broken journey on the live network).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from operator import attrgetter
from zoneinfo import ZoneInfo

from transit.background import Worker
from transit.clock import Clock
from transit.commuters.decisions import Decisions, OpenAlert, alert_id, restore_open
from transit.commuters.leg_state import LiveData
from transit.commuters.planning import Plan, Planner, zone_of
from transit.commuters.replanning import Replanner
from transit.commuters.rules import Commute, RuleError
from transit.commuters.subscriptions import Sub, Subscriptions
from transit.delivery.alert_events import AlertEvent
from transit.realtime.overlay import FeedResult
from transit.timetable.timetable import Timetable

__all__ = ["Evaluator", "OpenAlert", "alert_id"]
log = logging.getLogger("transit.commuters")


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
        self.subscriptions = Subscriptions()
        self._watched: tuple[str, int] | None = None  # (timetable version, UTC hour)
        self._planner: Planner | None = None
        self.live = LiveData(stale_after_s)  # the latest live data, by operator
        self.replanner = Replanner(self.live)
        self._queue: deque[tuple[Timetable, FeedResult, int]] = deque()
        self.worker = Worker("alert-evaluator", self._step, 1.0, wait_first=True,
                             on_start=self._watch_saved, logger=log)

    @property
    def _subs(self) -> dict[str, Sub]:
        return self.subscriptions.subs

    @property
    def replans(self) -> int:
        return self.replanner.replans

    @property
    def replan_s(self) -> float:
        return self.replanner.replan_s

    @property
    def watching(self) -> int:
        return len(self.subscriptions.subs)

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
        subs = self.subscriptions
        n = 0
        with self._lock:
            self._watched = self._stamp(tt)
            for c in commutes:
                old = subs.forget(c.id)
                subs.known[c.id] = c
                plans = self._plans(tt, planner, c, day)
                if plans is None:
                    continue
                d, tz, found = plans
                subs.add(c, d, tz, found, old)
                n += 1
        return n

    def _plans(self, tt: Timetable, planner: Planner, c: Commute, day: date | None
               ) -> tuple[date, ZoneInfo, list[Plan]] | None:
        """(local day, zone, plans) of c; None when it does not run or has no journey."""
        try:
            tz = zone_of(tt, c)
            d = day or self.clock.now().astimezone(tz).date()
            if not c.runs_on(d):
                return None
            plans = planner.plans(c, d)
        except RuleError as exc:  # a place this timetable version lost
            log.warning("commute %s not watched: %s", c.id, exc)
            return None
        return (d, tz, plans) if plans else None

    def forget(self, commute_id: str) -> None:
        with self._lock:
            self.subscriptions.forget(commute_id)

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
            known = self.subscriptions.known
            if self.loader is None:
                self.watch(tt, list(known.values()))
                return
            saved = self.loader()  # commutes saved or deleted through other processes too
            for gone in set(known) - {c.id for c in saved}:
                self.forget(gone)
            self.watch(tt, saved)

    # -- the realtime observer and its worker
    def observe(self, tt: Timetable, result: FeedResult, now: int) -> None:
        """The LiveState observer (called under its lock): enqueue only."""
        self._queue.append((tt, result, now))
        self.worker.wake()

    def start(self) -> None:
        self.worker.start()

    def stop(self) -> None:
        self.worker.stop()
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
                    restore_open(self.subscriptions, self.restore())
                except Exception:  # the database away: alerts start anew
                    log.exception("open alerts not read back")
            self.leading = ok
            return ok

    def _watch_saved(self) -> None:
        """In the worker, before its first step (off the startup path: it plans)."""
        tt = self.timetable() if self.timetable is not None else None
        if tt is not None and self.loader is not None:
            self.watch(tt, self.loader())

    def _step(self) -> None:
        """Each second or when an update comes: renew the lease (another process takes
        over when this one dies) and evaluate what is queued. The worker logs a failure
        and goes on: one bad update never stops the evaluation of the next."""
        self.lead()
        self.process()

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
            planner = self.planner(tt)
            self.replanner.new_update(planner)
            if not self.live.keep(result):
                return []
            if not self.lead():  # another process judges it: keep the live data only
                return []
            self.evaluated += 1
            replanner, live = self.replanner, self.live
            decisions = Decisions(
                self.subscriptions, planner, now,
                lambda c, p: list(live.conditions(tt, c, p, now, replanner.alternative)),
                lambda c, p: replanner.alternative(tt, c, p, now))
            events: list[AlertEvent] = []
            groups = self.subscriptions.groups
            for key in self.subscriptions.touched(tt, result):
                g = groups.get(key)
                if g is not None:
                    events.extend(decisions.group(g))
            events.sort(key=attrgetter("commute_id"))  # stable: a commute's events keep their order
        if events and self.sink is not None:
            self.sink(events)
        return events
