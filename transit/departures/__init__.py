"""Departure boards at a stop, a station, or near a point."""
