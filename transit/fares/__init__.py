"""Fares: GTFS Fares v1 and v2 compiled per timetable version, and the pricing of journeys.

The engine side of fares: no web imports. `transit.fares.model` is the contract the
journeys and tickets packages program against.
"""
