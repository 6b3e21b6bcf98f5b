"""Service days as bitsets and the UTC instant of every service day's reference per time zone.

A GTFS time is measured from "noon minus 12 h" of the service day in the agency's zone, which
is midnight except on DST change days. `reference_utc[tz, day]` holds that instant, so an
event's absolute time is `reference_utc[tz, day] + seconds` with DST handled exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np

if TYPE_CHECKING:  # pandas is read at ingest only: a serving worker never imports it
    import pandas as pd

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EPOCH = date(1970, 1, 1)


def day_number(d: date) -> int:
    """Days since 1970-01-01."""
    return (d - EPOCH).days


def from_day_number(n: int) -> date:
    return EPOCH + timedelta(days=int(n))


def _parse_dates(series: pd.Series) -> np.ndarray:
    import pandas as pd

    parsed = pd.to_datetime(series.astype("string").str.strip(), format="%Y%m%d")
    return ((parsed - pd.Timestamp("1970-01-01")).dt.days).to_numpy(dtype=np.int64)


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


def feed_span(calendar: pd.DataFrame | None, calendar_dates: pd.DataFrame | None
              ) -> tuple[int, int] | None:
    """First and last day number the feed's calendars mention."""
    spans: list[np.ndarray] = []
    if calendar is not None and len(calendar):
        spans += [_parse_dates(calendar["start_date"]), _parse_dates(calendar["end_date"])]
    if calendar_dates is not None and len(calendar_dates):
        spans.append(_parse_dates(calendar_dates["date"]))
    if not spans:
        return None
    return int(min(s.min() for s in spans)), int(max(s.max() for s in spans))


def service_days(
    service_ids: list[str], calendar: pd.DataFrame | None, calendar_dates: pd.DataFrame | None,
    window: tuple[int, int] | None = None,
) -> tuple[int, np.ndarray]:
    """Return (first day number, bool matrix [service, day]) over the span of the feed, or
    over `window` (first, last day number) when given."""
    index = {s: i for i, s in enumerate(service_ids)}
    span = window or feed_span(calendar, calendar_dates)
    if span is None:
        return day_number(date(2000, 1, 1)), np.zeros((len(service_ids), 1), dtype=bool)
    first, last = span
    n_days = max(last - first + 1, 1)
    active = np.zeros((len(service_ids), n_days), dtype=bool)
    # 1970-01-01 was a Thursday (weekday 3)
    weekday_of = (np.arange(first, first + n_days) + 3) % 7
    if calendar is not None and len(calendar):
        starts, ends = _parse_dates(calendar["start_date"]), _parse_dates(calendar["end_date"])
        flags = np.stack([calendar[w].fillna(0).to_numpy(dtype=np.int64) for w in WEEKDAYS], 1)
        for row, sid in enumerate(calendar["service_id"]):
            if sid not in index:
                continue
            lo, hi = max(starts[row] - first, 0), min(ends[row] - first + 1, n_days)
            if hi <= lo:
                continue
            days = np.arange(lo, hi)
            active[index[sid], days] |= flags[row][weekday_of[days]] == 1
    if calendar_dates is not None and len(calendar_dates):
        cd_days = _parse_dates(calendar_dates["date"])
        rows = np.array([index.get(s, -1) for s in calendar_dates["service_id"]])
        types = calendar_dates["exception_type"].to_numpy(dtype=np.int64)
        keep = (rows >= 0) & (cd_days >= first) & (cd_days <= last)
        add = keep & (types == 1)
        rem = keep & (types == 2)
        active[rows[add], cd_days[add] - first] = True
        active[rows[rem], cd_days[rem] - first] = False
    return first, active


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
