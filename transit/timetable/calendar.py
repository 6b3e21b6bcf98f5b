"""Service days as bitsets and the UTC instant of every service day's reference per time zone.

A GTFS time is measured from "noon minus 12 h" of the service day in the agency's zone, which
is midnight except on DST change days. `reference_utc[tz, day]` holds that instant, so an
event's absolute time is `reference_utc[tz, day] + seconds` with DST handled exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EPOCH = date(1970, 1, 1)


def day_number(d: date) -> int:
    """Days since 1970-01-01."""
    return (d - EPOCH).days


def from_day_number(n: int) -> date:
    return EPOCH + timedelta(days=int(n))


@dataclass(frozen=True)
class ServiceHorizon:
    """How much of a feed's service period is compiled (TRANSIT_SERVICE_DAYS_BEFORE/AFTER).

    Every compiled day costs a bit per service and 8 bytes per time zone, and a calendar
    written as 19000101-99991231 would make thousands of years of them (a 25 MB version
    from a 0.5 MB feed). A feed whose period is longer than the horizon is compiled from
    `days_before` the clock's date to `days_after` it (slid into the feed's own period); a
    shorter feed is compiled whole, wherever it lies in time.
    """

    days_before: int = 1096
    days_after: int = 1096
    today: date | None = None  # the service clock's date; None: the system's

    def window(self, first: int, last: int) -> tuple[int, int]:
        """The days to compile: the whole span when it fits, else a horizon-long window
        around the clock's date, slid to lie within the span (a feed that ended before the
        clock's date keeps its last days)."""
        length = self.days_before + self.days_after + 1
        if last - first + 1 <= length:
            return first, last
        lo = day_number(self.today or date.today()) - self.days_before
        lo = min(max(lo, first), last - length + 1)
        return lo, lo + length - 1


def pack_days(active: np.ndarray) -> np.ndarray:
    """bool [service, day] -> uint8 bitset, bit d of a row at byte d >> 3, bit d & 7."""
    return np.packbits(active, axis=1, bitorder="little")


def unpack_days(bits: np.ndarray, n_days: int) -> np.ndarray:
    return np.unpackbits(bits, axis=1, count=n_days, bitorder="little").astype(bool)


def reference_utc(timezones: list[str], first_day: int, n_days: int) -> np.ndarray:
    """int64 [tz, day]: Unix time of noon - 12 h local on each service day."""
    out = np.zeros((len(timezones), n_days), dtype=np.int64)
    for z, name in enumerate(timezones):
        tz = ZoneInfo(name)
        for d in range(n_days):
            day = from_day_number(first_day + d)
            noon = datetime.combine(day, time(12), tzinfo=tz)
            out[z, d] = int(noon.timestamp()) - 12 * 3600
    return out
