"""Service days from a feed's calendar tables (pandas frames, ingest only): which days each
service runs, as the bool matrix that `transit.timetable.calendar.pack_days` packs."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from transit.timetable.calendar import WEEKDAYS, day_number


def _parse_dates(series: pd.Series) -> np.ndarray:
    parsed = pd.to_datetime(series.astype("string").str.strip(), format="%Y%m%d")
    return ((parsed - pd.Timestamp("1970-01-01")).dt.days).to_numpy(dtype=np.int64)


def feed_span(
    calendar: pd.DataFrame | None, calendar_dates: pd.DataFrame | None
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
    service_ids: list[str],
    calendar: pd.DataFrame | None,
    calendar_dates: pd.DataFrame | None,
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
