"""Alerting in a process: the evaluator fed by the realtime state, its events written to
the inbox and the outbox, and the webhook deliverer woken for them. No web imports.

With several processes (Redis), `leader` is a lease: its holder alone evaluates, and reads
the open alerts back from the inbox when it takes over. A commute saved or deleted through
any process is announced (`announce`, Redis pub/sub) so that every process, the holder and
those that may take over, watches it at once (`changed`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from transit.clock import Clock
from transit.commuters import commutes
from transit.commuters.decisions import OpenAlert
from transit.commuters.evaluation import Evaluator
from transit.commuters.rules import Commute
from transit.db.engine import Database
from transit.db.models_alerts import AlertRow, CommuteRow
from transit.delivery import outbox
from transit.delivery.alert_events import AlertEvent
from transit.delivery.webhooks import Deliverer
from transit.timetable.timetable import Timetable

log = logging.getLogger("transit.commuters")
RESTORE_DAYS = 2  # open alerts older than this concern journeys no longer watched


class Alerting:
    def __init__(self, db: Database, clock: Clock, timetable: Callable[[], Timetable | None],
                 deliverer: Deliverer | None = None, stale_after_s: int = 3600,
                 leader: Callable[[], bool] | None = None,
                 announce: Callable[[list[str]], None] | None = None) -> None:
        self.db = db
        self.timetable = timetable
        self.deliverer = deliverer
        self.announce = announce
        self.evaluator = Evaluator(clock, sink=self._record, loader=self._load,
                                   stale_after_s=stale_after_s, leader=leader,
                                   restore=self._open_alerts)
        self.listeners: list[Callable[[list[AlertEvent]], None]] = []

    def _open_alerts(self) -> list[OpenAlert]:
        since = datetime.now(UTC) - timedelta(days=RESTORE_DAYS)  # rows carry real time
        with self.db.session() as s:
            rows = s.scalars(select(AlertRow).where(AlertRow.state != "resolved",
                                                    AlertRow.updated_at >= since))
            return [OpenAlert(r.id, r.commute_id, r.kind, str(r.payload.get("subject", "")),
                              r.version, int(r.payload.get("detail", {}).get("delay_s", 0))
                              if r.kind == "delay" else 0) for r in rows]

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
        self._announce(c.id)

    def deleted(self, commute_id: str) -> None:
        self.evaluator.forget(commute_id)
        self._announce(commute_id)

    def _announce(self, commute_id: str) -> None:
        if self.announce is not None:
            try:
                self.announce([commute_id])
            except Exception:  # the others read it at their hourly re-plan
                log.exception("commute change not announced")

    def changed(self, commute_ids: list[str]) -> None:
        """Commutes saved or deleted through some process: watch them as stored now."""
        tt = self.timetable()
        if tt is None:
            return
        with self.db.session() as s:
            rows = {r.id: commutes.of_row(r) for r in s.scalars(
                select(CommuteRow).where(CommuteRow.id.in_(commute_ids)))}
        for cid in commute_ids:
            if cid not in rows:
                self.evaluator.forget(cid)
        if rows:
            self.evaluator.watch(tt, list(rows.values()))

    def _record(self, events: list[AlertEvent]) -> None:
        if outbox.record(self.db, events, time.time()) and self.deliverer is not None:
            self.deliverer.wake()
        for listener in self.listeners:
            listener(events)
