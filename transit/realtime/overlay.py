"""The live overlay: what realtime changes about the timetable, one immutable snapshot.

Queries take one Overlay reference and use it throughout; a new snapshot replaces it whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from transit.realtime.validate import INVALID_REASONS

NO_TIME = -1
STOP_SCHEDULED = 0
STOP_SKIPPED = 1
STOP_NO_DATA = 2


@dataclass
class TripLive:
    """A trip instance as live data says it runs. Times are Unix seconds, NO_TIME where
    there is no prediction. For an added trip `trip` is -1 and the schedule is its own."""

    operator: str
    trip_id: str
    trip: int
    day: int
    status: str  # "scheduled" | "canceled" | "added" | "deleted"
    stops: np.ndarray  # stop index per position (assigned platform where changed)
    sched_arr: np.ndarray
    sched_dep: np.ndarray
    rt_arr: np.ndarray
    rt_dep: np.ndarray
    stop_status: np.ndarray  # STOP_* per position
    route: int = -1
    headsign: str = ""
    feed_timestamp: int = 0

    def delay_at(self, pos: int) -> int | None:
        if self.rt_dep[pos] == NO_TIME:
            return None
        return int(self.rt_dep[pos] - self.sched_dep[pos])


@dataclass(frozen=True)
class Vehicle:
    id: str
    operator: str
    label: str | None
    trip_id: str | None
    route_id: str | None
    lat: float
    lon: float
    bearing: float | None
    speed: float | None
    occupancy: str | None
    timestamp: int | None
    stop_id: str | None
    current_status: str | None
    feed_timestamp: int = 0


@dataclass(frozen=True)
class Selector:
    """One informed_entity: its fields are ANDed (None: any)."""

    operator: str
    agency_id: str | None = None
    route_id: str | None = None
    route_type: int | None = None
    direction_id: int | None = None
    trip_id: str | None = None
    stop_id: str | None = None


@dataclass(frozen=True)
class Alert:
    id: str
    operator: str
    cause: str
    effect: str
    severity: str
    periods: tuple[tuple[int | None, int | None], ...]
    header: dict[str, str]
    description: dict[str, str]
    url: dict[str, str]
    selectors: tuple[Selector, ...]
    feed_timestamp: int = 0

    def active_at(self, t: int) -> bool:
        if not self.periods:
            return True
        return any((a is None or a <= t) and (b is None or t <= b) for a, b in self.periods)


@dataclass
class FeedStatus:
    operator: str
    kind: str
    entities: int = 0
    applied: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    rejected_examples: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)
    warning_examples: dict[str, str] = field(default_factory=dict)
    feed_timestamp: int | None = None
    incrementality: str = "FULL_DATASET"
    last_success: int | None = None
    last_error: str | None = None
    last_error_at: int | None = None

    def reject(self, reason: str, example: str) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1
        self.rejected_examples.setdefault(reason, example)

    def warn(self, reason: str, example: str) -> None:
        """Applied, with a correction the operator should know of."""
        self.warnings[reason] = self.warnings.get(reason, 0) + 1
        self.warning_examples.setdefault(reason, example)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class FeedResult:
    """What one operator's feed of one kind contributes to the overlay."""

    operator: str
    kind: str
    status: FeedStatus
    trips: dict[tuple[int, int], TripLive] = field(default_factory=dict)
    added: list[TripLive] = field(default_factory=list)
    vehicles: list[Vehicle] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    max_late_s: int = 0  # the largest delay of its trips
    max_early_s: int = 0  # the most a trip runs ahead of schedule
    invalid: set[str] = field(default_factory=set)  # entity ids of implausible values

    def reject(self, reason: str, entity: str, example: str) -> None:
        """Count a rejected entity; one of implausible values is not republished either."""
        self.status.reject(reason, example)
        if reason in INVALID_REASONS:
            self.invalid.add(entity)


class Overlay:
    """All operators' live data merged. Built from FeedResults; read-only afterwards."""

    def __init__(self, results: list[FeedResult], available: bool = True,
                 reason: str | None = None) -> None:
        self.available = available
        self.reason = reason
        self.results = {(r.operator, r.kind): r for r in results}
        self.trips: dict[tuple[int, int], TripLive] = {}
        self.added: list[TripLive] = []
        self.vehicles: list[Vehicle] = []
        self.alerts: list[Alert] = []
        for r in results:
            self.trips.update(r.trips)
            self.added.extend(r.added)
            self.vehicles.extend(r.vehicles)
            self.alerts.extend(r.alerts)
        self.added_by_stop: dict[int, list[tuple[TripLive, int]]] = {}
        for live in self.added:
            for pos, s in enumerate(live.stops):
                self.added_by_stop.setdefault(int(s), []).append((live, pos))
        # how late / early a trip runs, at most (boards look back / ahead this far)
        self.max_delay_s = max([0, *(r.max_late_s for r in results)])
        self.max_early_s = max([0, *(r.max_early_s for r in results)])

    @classmethod
    def unavailable(cls, reason: str) -> Overlay:
        return cls([], available=False, reason=reason)

    @cached_property
    def oldest_by_operator(self) -> dict[str, int]:
        """Each operator's oldest feed timestamp over its trips (scheduled and added): its
        data holds a stale trip exactly when this one is stale (boards list the operators
        with stale data on every request; this spares them a pass over every trip)."""
        oldest: dict[str, int] = {}
        for lv in (*self.trips.values(), *self.added):
            ts = oldest.get(lv.operator)
            if ts is None or lv.feed_timestamp < ts:
                oldest[lv.operator] = lv.feed_timestamp
        return oldest

    def status(self, operator: str) -> list[FeedStatus]:
        return [r.status for (op, _), r in self.results.items() if op == operator]
