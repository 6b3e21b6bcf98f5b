"""The compiled fares of the timetable being served, built once per version."""

from __future__ import annotations

import threading

from transit.fares.compiled import Fares
from transit.timetable.timetable import Timetable

_lock = threading.Lock()


def fares_for(tt: Timetable) -> Fares:
    """The fares of `tt` (kept in the version's cache: one per version and process)."""
    key = ("fares",)
    found = tt.cache.get(key)
    if found is None:
        with _lock:
            found = tt.cache.get(key)
            if found is None:
                found = Fares.of(tt)
                tt.cache[key] = found
    return found  # type: ignore[return-value]
