"""What a live value may be. One implausible value (a time in year 36812, a vehicle at
latitude 1e9, a delay of days) must never reach an answer: it rejects its own entity, counted
by reason, and the rest of the feed applies. A feed dated ahead of the service clock is
refused whole: it would never be judged stale."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from google.transit import gtfs_realtime_pb2 as pb

# the last instant an ISO 8601 date-time can say (9999-12-31T23:59:59Z)
MAX_TIMESTAMP = 253_402_300_799
MAX_SPEED_M_S = 200.0  # faster than any vehicle a transit feed describes (720 km/h)

# reasons of implausible values: entities rejected for these are not republished either
TIME_OUTSIDE_DAY = "time outside the service day"
DELAY_OUT_OF_BOUNDS = "delay out of bounds"
DATE_OUTSIDE_PERIOD = "start_date outside the service period"
FUTURE_TIMESTAMP = "timestamp in the future"
INVALID_POSITION = "invalid position"
INVALID_BEARING = "invalid bearing"
INVALID_SPEED = "invalid speed"
INVALID_PERIOD = "invalid active period"
INVALID_REASONS = frozenset({TIME_OUTSIDE_DAY, DELAY_OUT_OF_BOUNDS, DATE_OUTSIDE_PERIOD,
                             FUTURE_TIMESTAMP, INVALID_POSITION, INVALID_BEARING,
                             INVALID_SPEED, INVALID_PERIOD})


class _LimitSettings(Protocol):
    realtime_max_delay_s: int
    realtime_future_tolerance_s: int
    realtime_vehicle_max_age_s: int


@dataclass(frozen=True)
class Limits:
    """Bounds of plausible live data (settings `TRANSIT_REALTIME_*`)."""

    max_delay_s: int = 6 * 3600  # late or early, at any stop
    future_tolerance_s: int = 300  # clocks of producers drift a little, not more
    vehicle_max_age_s: int = 300  # a vehicle not heard of for this long leaves the map

    @classmethod
    def from_settings(cls, settings: _LimitSettings) -> Limits:
        return cls(max_delay_s=settings.realtime_max_delay_s,
                   future_tolerance_s=settings.realtime_future_tolerance_s,
                   vehicle_max_age_s=settings.realtime_vehicle_max_age_s)


class FeedRefused(ValueError):
    """A parsed feed that is not applied at all; the message says why (shown to the pusher
    and in the operator's status)."""


def check_header(msg: pb.FeedMessage, now: int, limits: Limits) -> None:
    ts = int(msg.header.timestamp)
    if ts > now + limits.future_tolerance_s:
        ahead = f"{ts - now} s" if ts <= MAX_TIMESTAMP else "beyond year 9999"
        raise FeedRefused(f"header.timestamp {ts} is {ahead} ahead of the service clock "
                          f"(tolerance {limits.future_tolerance_s} s): not applied")


def in_future(ts: int, now: int, limits: Limits) -> bool:
    return ts > now + limits.future_tolerance_s


def vehicle_problem(p: pb.Position) -> str | None:
    """The reason a position is implausible, or None."""
    lat, lon = p.latitude, p.longitude
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90
            and -180 <= lon <= 180):
        return INVALID_POSITION
    if p.HasField("bearing") and not (math.isfinite(p.bearing) and 0 <= p.bearing <= 360):
        return INVALID_BEARING
    if p.HasField("speed") and not (math.isfinite(p.speed) and 0 <= p.speed <= MAX_SPEED_M_S):
        return INVALID_SPEED
    return None


def period_ok(period: pb.TimeRange) -> bool:
    start, end = int(period.start), int(period.end)
    if start > MAX_TIMESTAMP or end > MAX_TIMESTAMP:
        return False
    return not (start and end and start > end)
