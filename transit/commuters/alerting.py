"""Alerting in a process: the evaluator fed by the realtime state, its events written to
the inbox and the outbox, and the webhook deliverer woken for them. No web imports."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from transit.clock import Clock
from transit.commuters import commutes
from transit.commuters.evaluation import AlertEvent, Evaluator
from transit.commuters.rules import Commute
from transit.db.engine import Database
from transit.delivery import outbox
from transit.delivery.webhooks import Deliverer
from transit.timetable.timetable import Timetable

log = logging.getLogger("transit.commuters")


class Alerting:
    def __init__(self, db: Database, clock: Clock, timetable: Callable[[], Timetable | None],
                 deliverer: Deliverer | None = None, stale_after_s: int = 3600) -> None:
        self.db = db
        self.timetable = timetable
        self.deliverer = deliverer
        self.evaluator = Evaluator(clock, sink=self._record, loader=self._load,
                                   stale_after_s=stale_after_s)
        self.listeners: list[Callable[[list[AlertEvent]], None]] = []

    def _load(self) -> list[Commute]:
        try:
            return commutes.all_commutes(self.db)
        except Exception:  # the database away: watched from the next update on
            log.exception("saved commutes not loaded")
            return []

    def start(self) -> None:
        """Start the evaluator (its thread first plans every saved commute, or the first
        live update does if no timetable is served yet) and the deliverer."""
        self.evaluator.timetable = self.timetable
        self.evaluator.start()
        if self.deliverer is not None:
            self.deliverer.start()

    def stop(self) -> None:
        self.evaluator.stop()
        if self.deliverer is not None:
            self.deliverer.stop()

    def saved(self, c: Commute) -> None:
        tt = self.timetable()
        if tt is not None:
            self.evaluator.watch(tt, [c])

    def deleted(self, commute_id: str) -> None:
        self.evaluator.forget(commute_id)

    def _record(self, events: list[AlertEvent]) -> None:
        if outbox.record(self.db, events, time.time()) and self.deliverer is not None:
            self.deliverer.wake()
        for listener in self.listeners:
            listener(events)
