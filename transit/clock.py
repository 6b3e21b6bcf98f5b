"""The service clock.

Nothing in the service reads the wall clock directly: historical feeds are served "as of"
an instant, and tests pin time, by injecting a clock.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """Always the same instant: for tests and for serving a past feed as of a moment."""

    def __init__(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("the clock instant needs a UTC offset, e.g. 2018-08-29T08:00-07:00")
        self._instant = instant

    def now(self) -> datetime:
        return self._instant


class ShiftedClock:
    """Starts at an instant and then runs at wall-clock speed: a past day, served live."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock instant needs a UTC offset, e.g. 2018-08-29T08:00-07:00")
        self._start = start
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        from datetime import timedelta

        return self._start + timedelta(seconds=time.monotonic() - self._t0)


def clock_from_setting(value: str | None, running: bool = False) -> Clock:
    """`None` or "now" is the system clock; an ISO 8601 instant pins (or starts) the clock."""
    if value is None or value.strip().lower() in ("", "now", "system"):
        return SystemClock()
    try:
        instant = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValueError(f"clock: {value!r} is not an ISO 8601 instant") from exc
    return ShiftedClock(instant) if running else FixedClock(instant)
