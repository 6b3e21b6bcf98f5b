"""Checks on a valid feed that would still hurt riders if it went live unnoticed.

Each gives an error-level `blocking` notice: the version is staged (the operator can read the
report and preview it) but publishing it needs an explicit force.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from transit.publishing.report import Notice
from transit.timetable.calendar import day_number, unpack_days
from transit.timetable.storage import Part

AHEAD_DAYS = 7
MAX_REMOVED_SHARE = 0.5


def _local_today(part: Part, now: datetime) -> date:
    """The operator's date now (its first agency's time zone)."""
    agency_tz = np.asarray(part.columns["agency_tz"])
    tz = part.meta["timezones"][int(agency_tz[0])] if len(agency_tz) else "UTC"
    return now.astimezone(ZoneInfo(tz)).date()


def trips_in_days(part: Part, first: int, days: int) -> int:
    """Trips running on any of `days` service days from day number `first`."""
    active = unpack_days(np.asarray(part.columns["service_days"]), part.meta["n_days"])
    lo = first - part.meta["first_day"]
    window = active[:, max(lo, 0):max(lo + days, 0)]
    running = window.any(axis=1) if window.shape[1] else np.zeros(len(active), bool)
    return int(running[np.asarray(part.columns["trip_service"])].sum())


def policy_notices(part: Part, diff: dict[str, Any], published_trips: int | None,
                   now: datetime) -> list[Notice]:
    notices = []
    today = _local_today(part, now)
    if trips_in_days(part, day_number(today), AHEAD_DAYS) == 0:
        until = (today + timedelta(days=AHEAD_DAYS - 1)).isoformat()
        notices.append(Notice(
            "no_service_next_7_days", "error",
            f"no trip runs from {today.isoformat()} to {until} (the next {AHEAD_DAYS} "
            "days): riders would see no departures. Check calendar.txt and "
            "calendar_dates.txt; publish with force=true if this is intended",
            "calendar.txt", blocking=True))
    removed = diff["trips"]["counts"]["removed"]
    if published_trips and removed > MAX_REMOVED_SHARE * published_trips:
        notices.append(Notice(
            "trips_removed_over_half", "error",
            f"this version removes {removed} of the {published_trips} trips now published "
            f"({removed / published_trips:.0%}); publish with force=true if this is intended",
            "trips.txt", value=str(removed), blocking=True))
    return notices
