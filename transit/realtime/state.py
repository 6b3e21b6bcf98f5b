"""The live state of one process: feeds from a backend applied to the current timetable,
published as one Overlay snapshot swapped whole.

The process also holds the last state of each feed it applied, and the last status it read:
while the shared store (Redis) is unavailable they answer the export and the status, and
when Redis comes back empty (a restart) they are written back, so the last accepted live
data is served again without waiting for operators to push."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable

from google.transit import gtfs_realtime_pb2 as pb

from transit.clock import Clock
from transit.realtime.alerts import apply_alerts
from transit.realtime.backends import Backend, describe
from transit.realtime.breaker import StoreUnavailable
from transit.realtime.feed import KINDS, kind_of, split
from transit.realtime.overlay import FeedResult, FeedStatus, Overlay
from transit.realtime.trip_updates import apply_trip_updates
from transit.realtime.validate import FeedRefused, Limits, check_header
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
                 timetable: Callable[[], Timetable | None], limits: Limits = Limits()) -> None:
        self.backend = backend
        self.clock = clock
        self.limits = limits
        self._timetable = timetable
        self._lock = threading.RLock()
        self._results: dict[tuple[str, str], FeedResult] = {}
        self._held: dict[tuple[str, str], pb.FeedMessage] = {}  # last state applied
        self._shared: dict[tuple[str, str], dict[str, object]] = {}  # last status read
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
            try:
                self.reload_all()
            except StoreUnavailable as exc:  # the next request tries again (breaker-bound)
                log.warning("live data not reloaded for version %s: %s", tt.version, exc)
        return self._overlay

    # -- writing (push and poll)
    def publish(self, op: str, msg: pb.FeedMessage, kind: str | None = None) -> list[str]:
        """Store a feed (split by kind); every process applies it. Returns the kinds.
        FeedRefused (nothing stored): a header dated ahead of the service clock, or a body
        declared as one kind that holds only others."""
        now = int(self.clock.now().timestamp())
        check_header(msg, now, self.limits)
        parts = split(msg)
        if kind is not None:
            part = parts.get(kind)
            if part is None:
                if len(msg.entity):  # would clear the declared kind by mistake
                    raise FeedRefused(f"declared as {kind}, the body holds {_holds(msg)}")
                part = pb.FeedMessage()
                part.header.CopyFrom(msg.header)
            parts = {kind: part}
        if not parts:  # an empty FULL_DATASET clears every kind of this operator
            for k in APPLY:
                empty = pb.FeedMessage()
                empty.header.CopyFrom(msg.header)
                parts[k] = empty
        now = int(self.clock.now().timestamp())
        for k, part in parts.items():  # StoreUnavailable: the caller answers 503
            self.backend.put(op, k, part, status={"last_success": now})
            self._shared.setdefault((op, k), {})["last_success"] = now
        return list(parts)

    def record_error(self, op: str, kind: str, error: str) -> None:
        """Record a feed's error in the shared status; while the store is unavailable, in
        this process's copy only (recording never fails the request that saw the error)."""
        now = int(self.clock.now().timestamp())
        fields = {"last_error": error, "last_error_at": now}
        self._shared.setdefault((op, kind), {}).update(fields)
        try:
            self.backend.set_status(op, kind, fields)
        except StoreUnavailable as exc:
            log.warning("error of %s %s not shared (%s): %s", op, kind, exc, error)

    def _shared_status(self, op: str, kind: str) -> dict[str, object]:
        """The shared status of a feed; the last one read while the store is unavailable."""
        if self.available:
            with contextlib.suppress(StoreUnavailable):
                self._shared[(op, kind)] = self.backend.get_status(op, kind)
        return self._shared.get((op, kind), {})

    def kinds_of(self, op: str) -> list[str]:
        """The kinds an operator has stored (where a failed push of no declared kind
        belongs); every kind when it has none."""
        try:
            stored = sorted({k for o, k in self.backend.stored() if o == op and k in APPLY})
        except Exception:  # the store is away: the error still has to go somewhere
            stored = []
        return stored or list(KINDS)

    def invalid_ids(self, op: str, kind: str) -> set[str]:
        """Ids of the entities of implausible values in the feed last applied (also while
        the store is unavailable): not republished."""
        r = self._results.get((op, kind))
        return set(r.invalid) if r is not None else set()

    def status(self, op: str) -> list[FeedStatus]:
        out = []
        for kind in APPLY:
            r = self._results.get((op, kind))
            st = FeedStatus(op, kind) if r is None else FeedStatus(**r.status.as_dict())
            shared = self._shared_status(op, kind)
            for key in ("last_success", "last_error", "last_error_at"):
                if key in shared:
                    setattr(st, key, shared[key])
            if r is not None or shared:
                out.append(st)
        return out

    def latest(self, kind: str) -> tuple[list[tuple[str, pb.FeedMessage]], bool]:
        """Every operator's latest feed of this kind, by operator, and whether it came from
        the shared store (False: the store is unavailable, these are the feeds this process
        last applied)."""
        if self.available:
            try:
                feeds = []
                for op, k in sorted(self.backend.stored()):
                    msg = self.backend.get(op, k) if k == kind else None
                    if msg is not None:
                        feeds.append((op, msg))
                return feeds, True
            except StoreUnavailable:
                pass
        with self._lock:
            held = sorted((op, msg) for (op, k), msg in self._held.items() if k == kind)
        return held, False

    # -- applying
    def _apply(self, tt: Timetable, op: str, kind: str) -> tuple[FeedResult, int] | None:
        msg = self.backend.get(op, kind)
        if msg is None:
            self._results.pop((op, kind), None)
            self._held.pop((op, kind), None)
            return None
        self._held[(op, kind)] = msg
        if op not in tt.operator_index:
            return None
        now = int(self.clock.now().timestamp())
        try:  # refused on the way in; this guards what was stored before (or elsewhere)
            check_header(msg, now, self.limits)
        except FeedRefused as exc:
            log.warning("operator %s %s: %s", op, kind, exc)
            self._results.pop((op, kind), None)
            return None
        status = FeedStatus(op, kind, feed_timestamp=int(msg.header.timestamp) or None,
                            incrementality=pb.FeedHeader.Incrementality.Name(
                                msg.header.incrementality))
        result = self._results[(op, kind)] = APPLY[kind](tt, op, msg, now, status, self.limits)
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
        stored = self.backend.stored()
        self._results.clear()
        for op, kind in stored:
            if kind in APPLY:
                self._apply(tt, op, kind)
        for gone in set(self._held) - set(stored):  # held only once the store was read
            del self._held[gone]
        self._version = tt.version

    # -- backend health
    def went_down(self, reason: str) -> None:
        if self._down_reason is None:
            log.warning("%s", reason)
        self._down_reason = reason
        self._overlay = Overlay.unavailable(reason)

    def came_up(self) -> None:
        """The store is reachable (again) and followed: write back what it lost, then read
        it all (changes published before the subscription was made were not heard)."""
        try:
            self.restore_held()
            self._down_reason = None
            self.reload_all()
            with self._lock:
                self._swap()
        except Exception as exc:
            log.warning("live data not restored: %s: %s", type(exc).__name__, exc)
            self.went_down(f"live data unavailable: {describe(exc)}")
            return
        self._down_reason = None

    def restore_held(self) -> int:
        """Write each feed this process last applied back to the store unless the store
        holds it as new or newer (after a Redis restart it holds nothing). Returns how many
        were written."""
        with self._lock:
            held = list(self._held.items())
        written = 0
        for (op, kind), msg in held:
            written += self.backend.restore(op, kind, msg)
            status = self._shared.get((op, kind))
            if status:  # whichever process knows a field fills it in
                self.backend.fill_status(op, kind, status)
        if written:
            log.warning("restored %d live feed(s) the store had lost", written)
        return written

    @property
    def available(self) -> bool:
        return self._down_reason is None


def _holds(msg: pb.FeedMessage) -> str:
    counts: dict[str, int] = {}
    for e in msg.entity:
        k = kind_of(e) or ("deletions" if e.is_deleted else "entities of no kind")
        counts[k] = counts.get(k, 0) + 1
    return ", ".join(f"{k} ({n} {'entity' if n == 1 else 'entities'})"
                     for k, n in sorted(counts.items()))
