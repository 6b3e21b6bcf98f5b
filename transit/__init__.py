"""Merged multi-operator GTFS timetable and travel information service."""

__version__ = "0.1.0"
