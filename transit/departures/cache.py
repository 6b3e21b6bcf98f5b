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
    at the same address while entries refer to it. The generation and its entries are one
    tuple, replaced whole: a put racing a change of generation (two threads serving one app)
    writes into the entries of its own generation, never into another's."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._max = max_entries
        self._gen: tuple[Timetable, LiveContext, dict[Hashable, Body]] | None = None

    def _entries(self, tt: Timetable, live: LiveContext) -> dict[Hashable, Body] | None:
        """This generation's entries, None when the cache holds another generation."""
        gen = self._gen
        if gen is None:
            return None
        old_tt, old, entries = gen
        if (old_tt is tt and old.overlay is live.overlay and old.now == live.now
                and old.stale_after_s == live.stale_after_s):
            return entries
        return None

    def get(self, tt: Timetable, live: LiveContext, key: Hashable) -> Body | None:
        entries = self._entries(tt, live)
        return None if entries is None else entries.get(key)

    def put(self, tt: Timetable, live: LiveContext, key: Hashable, value: Body) -> None:
        entries = self._entries(tt, live)
        if entries is None or len(entries) >= self._max:
            entries = {}
            self._gen = (tt, live, entries)
        entries[key] = value
