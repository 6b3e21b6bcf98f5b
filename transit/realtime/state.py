"""The live state of one process: feeds from a backend applied to the current timetable,
published as one Overlay snapshot swapped whole."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from google.transit import gtfs_realtime_pb2 as pb

from transit.clock import Clock
from transit.realtime.alerts import apply_alerts
from transit.realtime.backends import Backend
from transit.realtime.feed import split
from transit.realtime.overlay import FeedResult, FeedStatus, Overlay
from transit.realtime.trip_updates import apply_trip_updates
from transit.realtime.vehicles import apply_vehicles
from transit.timetable.timetable import Timetable

log = logging.getLogger("transit.realtime")
APPLY = {"trip-updates": apply_trip_updates, "vehicle-positions": apply_vehicles,
         "alerts": apply_alerts}
# Told of every feed update applied in this process: (timetable, result, service-clock now).
# Called under the state's lock, so it must be cheap (the KPI recorder only enqueues).
Observer = Callable[[Timetable, FeedResult, int], None]


class LiveState:
    def __init__(self, backend: Backend, clock: Clock,
                 timetable: Callable[[], Timetable | None]) -> None:
        self.backend = backend
        self.clock = clock
        self._timetable = timetable
        self._lock = threading.RLock()
        self._results: dict[tuple[str, str], FeedResult] = {}
        self._version: str | None = None
        self._overlay = Overlay([])
        self._down_reason: str | None = None
        self._observers: list[Observer] = []
        backend.subscribe(self._changed)

    def add_observer(self, observer: Observer) -> None:
        """Have `observer` called with each newly applied feed update (not on reloads, which
        re-apply updates already observed)."""
        self._observers.append(observer)

    # -- reading
    def overlay(self) -> Overlay:
        tt = self._timetable()
        if tt is not None and tt.version != self._version and self._down_reason is None:
            self.reload_all()
        return self._overlay

    # -- writing (push and poll)
    def publish(self, op: str, msg: pb.FeedMessage, kind: str | None = None) -> list[str]:
        """Store a feed (split by kind); every process applies it. Returns the kinds."""
        parts = split(msg)
        if kind is not None:
            part = parts.get(kind)
            if part is None:
                part = pb.FeedMessage()
                part.header.CopyFrom(msg.header)
            parts = {kind: part}
        if not parts:  # an empty FULL_DATASET clears every kind of this operator
            for k in APPLY:
                empty = pb.FeedMessage()
                empty.header.CopyFrom(msg.header)
                parts[k] = empty
        now = int(self.clock.now().timestamp())
        for k, part in parts.items():
            self.backend.put(op, k, part)
            self.backend.set_status(op, k, {"last_success": now})
        return list(parts)

    def record_error(self, op: str, kind: str, error: str) -> None:
        now = int(self.clock.now().timestamp())
        self.backend.set_status(op, kind, {"last_error": error, "last_error_at": now})

    def status(self, op: str) -> list[FeedStatus]:
        out = []
        for kind in APPLY:
            r = self._results.get((op, kind))
            st = FeedStatus(op, kind) if r is None else FeedStatus(**r.status.as_dict())
            try:
                shared = self.backend.get_status(op, kind)
            except Exception:  # status must answer while Redis is away
                shared = {}
            for key in ("last_success", "last_error", "last_error_at"):
                if key in shared:
                    setattr(st, key, shared[key])
            if r is not None or shared:
                out.append(st)
        return out

    # -- applying
    def _apply(self, tt: Timetable, op: str, kind: str) -> tuple[FeedResult, int] | None:
        msg = self.backend.get(op, kind)
        if msg is None:
            self._results.pop((op, kind), None)
            return None
        if op not in tt.operator_index:
            return None
        status = FeedStatus(op, kind, feed_timestamp=int(msg.header.timestamp) or None,
                            incrementality=pb.FeedHeader.Incrementality.Name(
                                msg.header.incrementality))
        now = int(self.clock.now().timestamp())
        result = self._results[(op, kind)] = APPLY[kind](tt, op, msg, now, status)
        return result, now

    def _notify(self, tt: Timetable, applied: tuple[FeedResult, int] | None) -> None:
        if applied is None:
            return
        for observer in self._observers:
            try:
                observer(tt, applied[0], applied[1])
            except Exception:  # an observer never stops live data
                log.exception("realtime observer failed on %s %s", applied[0].operator,
                              applied[0].kind)

    def _swap(self) -> None:
        self._overlay = Overlay(list(self._results.values()))

    def _changed(self, op: str, kind: str) -> None:
        tt = self._timetable()
        if tt is None:
            return
        with self._lock:
            if tt.version != self._version:
                self._reload(tt)
                result = self._results.get((op, kind))
                self._notify(tt, None if result is None else
                             (result, int(self.clock.now().timestamp())))
            else:
                try:
                    self._notify(tt, self._apply(tt, op, kind))
                except Exception:
                    log.exception("applying %s %s failed", op, kind)
            self._swap()

    def reload_all(self) -> None:
        tt = self._timetable()
        if tt is None:
            return
        with self._lock:
            self._reload(tt)
            self._swap()

    def _reload(self, tt: Timetable) -> None:
        self._results.clear()
        for op, kind in self.backend.stored():
            if kind in APPLY:
                self._apply(tt, op, kind)
        self._version = tt.version

    # -- backend health
    def went_down(self, reason: str) -> None:
        if self._down_reason is None:
            log.warning("%s", reason)
        self._down_reason = reason
        self._overlay = Overlay.unavailable(reason)

    def came_up(self) -> None:
        was_down = self._down_reason is not None
        self._down_reason = None
        if was_down or self._version is None:
            try:
                self.reload_all()
            except Exception as exc:
                self.went_down(f"live data unavailable: {exc}")

    @property
    def available(self) -> bool:
        return self._down_reason is None
