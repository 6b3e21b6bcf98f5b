"""The fares of one timetable version, as loaded for pricing (built once per version)."""

from __future__ import annotations


class Fares:
    """Placeholder while the compiled form lands."""
