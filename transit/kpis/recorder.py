"""The KPI recorder: observes every live-data update the realtime state applies, aggregates
in memory, and a background thread upserts what changed in batches every few seconds.

Engine side (no web imports). The observer only enqueues (the apply path pays one deque
append); the flusher thread does the arithmetic and the database writes, so the recording
cost is off the push and off the requests.

What is recorded per update of an operator's feed:
- trip updates: per trip instance its latest status and, for each stop position whose
  departure lies in the past by the service clock, the delay of the latest prediction
  (the vehicle has left: a later update may still correct it; the last one wins, and the
  stop counts once however many updates named it);
- every kind: one accepted update (count, gap since the previous one, entities applied and
  rejected by reason), on the operator's local date by the service clock;
- the trips the timetable schedules per route on each day a trip update names.
API demand is counted by `count_request` (the web layer calls it) and flushed alike.

With several processes sharing live data through Redis, each applies every update: only
the holder of a lease (`leader`) records updates, so nothing is counted twice; demand is
counted by every process for its own requests.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from transit.background import Worker
from transit.clock import Clock
from transit.kpis.definitions import (
    EARLY_LIMIT_S,
    EXPECTED_INTERVAL_S,
    GAP_FACTOR,
    LATE_LIMIT_S,
    UNSEEN,
)
from transit.kpis.scheduled import scheduled_by_route
from transit.kpis.store import Batch, KpiStore, Row
from transit.realtime.overlay import NO_TIME, STOP_SCHEDULED, FeedResult, TripLive
from transit.timetable.timetable import Timetable

log = logging.getLogger("transit.kpis")
TripKey = tuple[str, date, str]  # operator, service date, trip id


class _Trip:
    """A trip instance in memory: what its row holds, and the last observation vector seen
    (an unchanged vector in the next update costs one bytes comparison)."""

    __slots__ = ("delays", "feed_ts", "last", "route", "status")

    def __init__(self, route: str, status: str, delays: np.ndarray, feed_ts: int) -> None:
        self.route = route
        self.status = status
        self.delays = delays
        self.feed_ts = feed_ts
        self.last: bytes | None = None

    def row(self, key: TripKey) -> Row:
        d = self.delays
        seen = d != UNSEEN
        early = int(np.count_nonzero(seen & (d < EARLY_LIMIT_S)))
        late = int(np.count_nonzero(seen & (d > LATE_LIMIT_S)))
        observed = int(np.count_nonzero(seen))
        return {"operator_id": key[0], "service_date": key[1], "trip_id": key[2],
                "route_id": self.route, "status": self.status, "observed": observed,
                "on_time": observed - early - late, "early": early, "late": late,
                "delays": d.astype("<i4").tobytes(), "feed_timestamp": self.feed_ts}


class KpiRecorder:
    def __init__(self, store: KpiStore, clock: Clock, *, interval_s: float = 5.0,
                 expected_interval_s: Callable[[str, str], float] | None = None,
                 gap_factor: float = GAP_FACTOR, keep_days: int = 1,
                 leader: Callable[[], bool] | None = None) -> None:
        self.store = store
        self.clock = clock
        self.interval_s = interval_s
        self.gap_factor = gap_factor
        self.keep_days = keep_days
        self._expected = expected_interval_s or (lambda op, kind: EXPECTED_INTERVAL_S)
        self._leader = leader or (lambda: True)
        self._queue: deque[tuple[Timetable, FeedResult, int]] = deque()
        self._demand_lock = threading.Lock()
        self._demand: dict[tuple[str, date, str], int] = {}
        # owned by the flushing thread (under _flush_lock)
        self._flush_lock = threading.Lock()
        self._loaded = False
        self._trips: dict[TripKey, _Trip] = {}
        self._dirty: set[TripKey] = set()
        self._last_update: dict[tuple[str, str], int] = {}
        self._feeds: dict[tuple[str, date, str], list[int]] = {}
        self._rejections: dict[tuple[str, date, str, str], int] = {}
        self._scheduled_seen: set[tuple[str, date, str]] = set()
        self._scheduled: list[Row] = []
        self._pending_demand: dict[tuple[str, date, str], int] = {}
        self.flushes = 0
        # a flush every interval; the database away: logged, everything stays pending for
        # the next one
        self.worker = Worker("kpi-recorder", self._flush_step, interval_s, wait_first=True,
                             logger=log)

    # -- the hot side: called by the realtime state and by requests
    def observe(self, tt: Timetable, result: FeedResult, now: int) -> None:
        """The realtime observer: enqueue only."""
        self._queue.append((tt, result, now))

    def count_request(self, tt: Timetable, op: str, routes: tuple[str, ...], now: int) -> None:
        """A request named something of operator `op` (and these of its routes)."""
        d = local_date(tt, op, now)
        with self._demand_lock:
            demand = self._demand
            demand[(op, d, "")] = demand.get((op, d, ""), 0) + 1
            for route in routes:
                demand[(op, d, route)] = demand.get((op, d, route), 0) + 1

    # -- the background thread
    def start(self) -> None:
        self.worker.start()

    def _flush_step(self) -> None:
        self.flush()  # rows written or not, the next flush waits for the interval

    def stop(self) -> None:
        """Stop the thread and write what is left (shutdown loses nothing)."""
        self.worker.stop()
        try:
            self.flush()
        except Exception:  # the database away at shutdown: say what is lost, stop anyway
            log.exception("KPI flush at shutdown failed: %d trip rows and the counters of "
                          "the last %.0f s are not recorded", len(self._dirty), self.interval_s)
        release = getattr(self._leader, "release", None)
        if release is not None:  # another process may take over at once
            release()

    # -- aggregation and writing
    def flush(self) -> int:
        """Take every queued update into the aggregates and write what changed in one
        transaction. Returns the number of rows written."""
        with self._flush_lock:
            self._drain()
            with self._demand_lock:
                demand, self._demand = self._demand, {}
            for k, v in demand.items():
                self._pending_demand[k] = self._pending_demand.get(k, 0) + v
            batch = self._batch()
            if len(batch):
                self.store.write(batch)  # raises: everything stays pending for the retry
            self._dirty.clear()
            self._feeds.clear()
            self._rejections.clear()
            self._scheduled.clear()
            self._pending_demand.clear()
            self._prune()
            self.flushes += 1
            return len(batch)

    def aggregate(self) -> None:
        """Take the queued updates into the in-memory aggregates (flush does it too)."""
        with self._flush_lock:
            self._drain()

    def _drain(self) -> None:
        leader = self._leader()
        if leader and not self._loaded:
            self._load()
        elif not leader:
            self._loaded = False  # another process records; reload when we lead again
            self._trips.clear()
            self._dirty.clear()
        while self._queue:
            tt, result, now = self._queue.popleft()
            if leader:
                self._take(tt, result, now)

    @property
    def trips_in_memory(self) -> int:
        return len(self._trips)

    def _load(self) -> None:
        """Go on from the stored rows of the last days (a restart, or a new leader)."""
        since = self.clock.now().date() - timedelta(days=self.keep_days)
        for row in self.store.trips_since(since):
            delays = np.frombuffer(row.delays, dtype="<i4").astype(np.int32)
            self._trips[(row.operator_id, row.service_date, row.trip_id)] = _Trip(
                row.route_id, row.status, delays, int(row.feed_timestamp))
        self._last_update.update(self.store.last_updates())
        self._loaded = True

    def _prune(self) -> None:
        oldest = self.clock.now().date() - timedelta(days=self.keep_days)
        old = [k for k in self._trips if k[1] < oldest]
        for k in old:
            del self._trips[k]

    def _batch(self) -> Batch:
        batch = Batch()
        batch.trips = [self._trips[k].row(k) for k in self._dirty
                       if k in self._trips and _fits(k[0], k[2], self._trips[k].route)]
        batch.scheduled = list(self._scheduled)
        batch.feeds = [{"operator_id": op, "service_date": d, "kind": kind, "updates": v[0],
                        "entities": v[1], "applied": v[2], "gaps": v[3], "max_gap_s": v[4],
                        "first_update_at": v[5], "last_update_at": v[6]}
                       for (op, d, kind), v in self._feeds.items()]
        batch.rejections = [{"operator_id": op, "service_date": d, "kind": kind,
                             "reason": reason[:64], "count": n}
                            for (op, d, kind, reason), n in self._rejections.items()]
        batch.demand = [{"operator_id": op, "service_date": d, "route_id": route,
                         "requests": n} for (op, d, route), n in self._pending_demand.items()
                        if _fits(op, "", route)]
        return batch

    def _take(self, tt: Timetable, result: FeedResult, now: int) -> None:
        op, kind, status = result.operator, result.kind, result.status
        d = local_date(tt, op, now)
        last = self._last_update.get((op, kind))
        gap = now - last if last is not None and now >= last else 0
        self._last_update[(op, kind)] = now
        f = self._feeds.get((op, d, kind))
        if f is None:
            f = self._feeds[(op, d, kind)] = [0, 0, 0, 0, 0, now, now]
        f[0] += 1
        f[1] += status.entities
        f[2] += status.applied
        if gap > self.gap_factor * self._expected(op, kind):
            f[3] += 1
        f[4] = max(f[4], gap)
        f[5] = min(f[5], now)
        f[6] = max(f[6], now)
        for reason, n in status.rejected.items():
            key = (op, d, kind, reason)
            self._rejections[key] = self._rejections.get(key, 0) + n
        if kind == "trip-updates":
            self._take_trips(tt, result, now)

    def _take_trips(self, tt: Timetable, result: FeedResult, now: int) -> None:
        op = result.operator
        routes = tt.strings("route_id")
        dates: dict[int, date] = {}
        running: list[tuple[TripKey, _Trip, TripLive]] = []
        for (_, day), live in result.trips.items():
            d = dates.get(day)
            if d is None:
                d = dates[day] = tt.service_date(day)
                self._schedule(tt, op, d)
            key = (op, d, live.trip_id)
            rec = self._trips.get(key)
            n = len(live.rt_dep)
            if rec is None or len(rec.delays) != n:
                route = routes[live.route] if live.route >= 0 else ""
                rec = self._trips[key] = _Trip(route, live.status, np.full(n, UNSEEN, np.int32),
                                               live.feed_timestamp)
                self._dirty.add(key)
            elif rec.status != live.status:
                rec.status = live.status
                rec.feed_ts = live.feed_timestamp
                self._dirty.add(key)
            if live.status == "scheduled":
                running.append((key, rec, live))
        if running:
            self._departures(running, now)
        for live in result.added:
            d = dates.get(live.day)
            if d is None:
                d = dates[live.day] = tt.service_date(live.day)
            key = (op, d, live.trip_id)
            rec = self._trips.get(key)
            if rec is None or rec.status != "added":
                route = routes[live.route] if live.route >= 0 else ""
                self._trips[key] = _Trip(route, "added", np.full(len(live.stops), UNSEEN,
                                                                 np.int32), live.feed_timestamp)
                self._dirty.add(key)

    def _departures(self, running: list[tuple[TripKey, _Trip, TripLive]], now: int) -> None:
        """Merge the departed stops of the running trips of one update: the arithmetic on
        the feed's stops at once; per trip one bytes comparison, and numpy only for a trip
        whose observations changed."""
        lives = [r[2] for r in running]
        sizes = np.fromiter((len(x.rt_dep) for x in lives), np.int64, len(lives))
        offs = np.zeros(len(lives) + 1, np.int64)
        np.cumsum(sizes, out=offs[1:])
        rt = np.concatenate([x.rt_dep for x in lives])
        left = ((rt != NO_TIME) & (rt <= now)
                & (np.concatenate([x.stop_status for x in lives]) == STOP_SCHEDULED))
        left[offs[1:] - 1] = False  # a trip's last stop has no departure
        obs = np.where(left, rt - np.concatenate([x.sched_dep for x in lives]),
                       UNSEEN).astype(np.int32)
        any_left = np.logical_or.reduceat(left, offs[:-1]).tolist()
        buf = obs.tobytes()
        bounds = offs.tolist()
        for i, (key, rec, live) in enumerate(running):
            if not any_left[i]:
                continue
            lo, hi = bounds[i], bounds[i + 1]
            raw = buf[lo * 4:hi * 4]
            if raw == rec.last:
                continue
            rec.last = raw
            merged = np.where(left[lo:hi], obs[lo:hi], rec.delays)
            if not np.array_equal(merged, rec.delays):
                rec.delays = merged
                rec.feed_ts = max(rec.feed_ts, live.feed_timestamp)
                self._dirty.add(key)

    def _schedule(self, tt: Timetable, op: str, d: date) -> None:
        """Record what the timetable in service schedules on a day live data speaks of (once
        per timetable version)."""
        key = (op, d, tt.version)
        if key in self._scheduled_seen:
            return
        self._scheduled_seen.add(key)
        self._scheduled.extend({"operator_id": op, "service_date": d, "route_id": route,
                                "trips": n} for route, n in scheduled_by_route(tt, op, d).items()
                               if _fits(op, "", route))


def _fits(op: str, trip_id: str, route: str) -> bool:
    """Whether the ids fit their columns; a row that cannot be written must not block the
    others (the flush would fail again and again)."""
    if len(op) <= 32 and len(trip_id) <= 255 and len(route) <= 255:
        return True
    log.warning("KPI row of trip %.80s... not recorded: an id is over the column length",
                trip_id)
    return False


def operator_zone(tt: Timetable, op: str) -> ZoneInfo:
    """The operator's time zone (its first agency's); UTC for an operator not served."""
    key = ("kpi-tz", op)
    tz = tt.cache.get(key)
    if tz is None:
        index = tt.operator_index.get(op)
        agencies = np.flatnonzero(np.asarray(tt.agency_operator) == index)
        name = tt.timezones[int(tt.agency_tz[int(agencies[0])])] if len(agencies) else "UTC"
        tz = tt.cache[key] = ZoneInfo(name)
    assert isinstance(tz, ZoneInfo)
    return tz


def local_date(tt: Timetable, op: str, now: int) -> date:
    """The calendar date at instant `now` in the operator's time zone."""
    return datetime.fromtimestamp(now, operator_zone(tt, op)).date()
