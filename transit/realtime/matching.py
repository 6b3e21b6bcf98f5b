"""Which live data applies to what: trip instances and the alerts that affect them."""

from __future__ import annotations

from dataclasses import dataclass

from transit.realtime.overlay import NO_TIME, STOP_SKIPPED, Alert, Overlay, TripLive


@dataclass(frozen=True)
class LiveCall:
    """What live data says of one call (a trip at a stop position)."""

    status: str  # scheduled | on_time | delayed | canceled | skipped | added
    arrival: int | None
    departure: int | None
    stop: int | None  # the stop actually served (platform change) when it differs


ON_TIME_S = 60


def call_status(live: TripLive, pos: int, scheduled_stop: int) -> LiveCall:
    if live.status in ("canceled", "deleted"):
        return LiveCall("canceled", None, None, None)
    assigned = int(live.stops[pos])
    stop = assigned if assigned != scheduled_stop else None
    if live.stop_status[pos] == STOP_SKIPPED:
        return LiveCall("skipped", None, None, stop)
    if live.rt_dep[pos] == NO_TIME:
        return LiveCall("added" if live.status == "added" else "scheduled", None, None, stop)
    arr, dep = int(live.rt_arr[pos]), int(live.rt_dep[pos])
    if live.status == "added":
        return LiveCall("added", arr, dep, stop)
    delay = dep - int(live.sched_dep[pos])
    return LiveCall("delayed" if delay >= ON_TIME_S else "on_time", arr, dep, stop)


def fresh(live: TripLive, now: int, stale_after_s: int) -> bool:
    return now - live.feed_timestamp <= stale_after_s


def trip_live(overlay: Overlay, trip: int, day: int, now: int, stale_after_s: int
              ) -> TripLive | None:
    live = overlay.trips.get((trip, day))
    if live is None or not fresh(live, now, stale_after_s):
        return None
    return live


@dataclass(frozen=True)
class Target:
    """What an alert selector is compared with."""

    operator: str
    agency_id: str | None
    route_id: str | None
    route_type: int | None
    direction_id: int | None
    trip_id: str | None
    stop_ids: tuple[str, ...]


def affects(alert: Alert, target: Target) -> bool:
    """Fields within one informed_entity are ANDed; informed entities are ORed."""
    for sel in alert.selectors:
        if sel.operator != target.operator:
            continue
        if sel.agency_id is not None and sel.agency_id != target.agency_id:
            continue
        if sel.route_id is not None and sel.route_id != target.route_id:
            continue
        if sel.route_type is not None and sel.route_type != target.route_type:
            continue
        if sel.direction_id is not None and sel.direction_id != target.direction_id:
            continue
        if sel.trip_id is not None and sel.trip_id != target.trip_id:
            continue
        if sel.stop_id is not None and sel.stop_id not in target.stop_ids:
            continue
        return True
    return False
