"""Re-planning a broken journey (cancelled, connection missed, or beaten by a better one)
on the live network: the best way out that an alert carries.

Engine side (no web imports). Within one update the live network is built once and
commutes sharing places, options and start share one search."""

from __future__ import annotations

import time

from transit.commuters.leg_state import LiveData
from transit.commuters.planning import Plan, Planner
from transit.commuters.rules import Commute
from transit.realtime.overlay import FeedResult, Overlay, TripLive
from transit.realtime.routing_view import live_trips
from transit.routing.live_trips import LiveTrips
from transit.timetable.timetable import Timetable

EARLY_S = 600  # an alternative may leave this long before the planned departure


class Replanner:
    def __init__(self, live: LiveData) -> None:
        self.live = live
        self.planner: Planner | None = None
        self.replans = 0  # searches on the live network
        self.replan_s = 0.0  # time spent re-planning (the benchmark separates it)
        self._view: tuple[LiveTrips, list[TripLive]] | None = None
        self._cache: dict[tuple, dict | None] = {}

    def new_update(self, planner: Planner) -> None:
        """Live data changed: forget the live network and the alternatives found on it."""
        self.planner = planner
        self._view = None
        self._cache = {}

    def alternative(self, tt: Timetable, c: Commute, p: Plan, now: int) -> dict | None:
        """The earliest arrival on the live network, leaving from 10 minutes before the
        planned departure (or now, if later), described as alerts carry it plus
        "_arrival" (taken out before it is sent); None when nothing gets there."""
        start = max(now, p.departure - EARLY_S)
        key = (c.origin, c.destination, c.max_transfers, c.min_transfer_s, start)
        if key in self._cache:  # commutes sharing a plan share its re-plan
            return self._cache[key]
        assert self.planner is not None and self.planner.tt is tt
        t0 = time.perf_counter()
        if self._view is None:  # built once per update, for all its re-plans
            overlay = Overlay([FeedResult(op, "trip-updates", None, trips)  # type: ignore
                               for op, trips in self.live.trips.items()])
            self._view = live_trips(tt, overlay, now, self.live.stale_after_s)
        network, behind = self._view
        self.replans += 1
        alt = self.planner.replan(c, start, network, behind)
        out = None
        if alt is not None:
            out = dict(self.planner.describe(alt))
            out["_arrival"] = alt.arrival
        self._cache[key] = out
        self.replan_s += time.perf_counter() - t0
        return out


def public(alt: dict | None) -> dict | None:
    """An alternative as sent: without its private keys."""
    return None if alt is None else {k: v for k, v in alt.items() if not k.startswith("_")}
