"""The compiled fares of the timetable being served, built once per version."""

from __future__ import annotations

from transit.fares.compiled import Fares
from transit.timetable.timetable import Timetable


def fares_for(tt: Timetable) -> Fares:
    """The fares of `tt` (cached on the timetable: one per version and process)."""
    raise NotImplementedError
