"""Boards already answered in this second, as response bodies.

A board is a pure function of the timetable, the live overlay snapshot, the service clock's
second (the window starts there when `at` is not given, and live data is judged fresh or
stale by it), the realtime staleness setting, the query and the languages. A busy stop asked
many times a second is answered once: later asks in the same second, with the same timetable
and overlay objects, get the same bytes. The cache holds one generation (timetable, overlay,
second, staleness); any change of those empties it, so a realtime update (a new Overlay: it
is read-only once built) or a reloaded timetable is seen by the next request. Answers that
depend on the caller (a commuter's profile) are never kept.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from transit.realtime.context import LiveContext
from transit.timetable.timetable import Timetable

MAX_ENTRIES = 1024


@dataclass(frozen=True)
class Body:
    """A board's response body and its ETag."""

    body: bytes
    etag: str


class BoardCache:
    """The boards of one generation, by query key. Holds the generation's timetable and
    overlay themselves (compared by identity), so neither can be replaced by another object
    at the same address while entries refer to it."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._max = max_entries
        self._tt: Timetable | None = None
        self._live: LiveContext | None = None
        self._entries: dict[Hashable, Body] = {}

    def _same_generation(self, tt: Timetable, live: LiveContext) -> bool:
        old = self._live
        return (self._tt is tt and old is not None and old.overlay is live.overlay
                and old.now == live.now and old.stale_after_s == live.stale_after_s)

    def get(self, tt: Timetable, live: LiveContext, key: Hashable) -> Body | None:
        if not self._same_generation(tt, live):
            return None
        return self._entries.get(key)

    def put(self, tt: Timetable, live: LiveContext, key: Hashable, value: Body) -> None:
        if not self._same_generation(tt, live):
            self._tt, self._live, self._entries = tt, live, {}
        if len(self._entries) >= self._max:
            self._entries.clear()
        self._entries[key] = value
