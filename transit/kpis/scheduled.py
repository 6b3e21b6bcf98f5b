"""Scheduled trips per route and service day, counted from the timetable with array
operations (one pass over the trips, no Python loop per trip)."""

from __future__ import annotations

from datetime import date

import numpy as np

from transit.timetable.timetable import Timetable


def scheduled_by_route(tt: Timetable, op: str, d: date) -> dict[str, int]:
    """route id -> trips of operator `op` that run on service day `d` (expanded frequency
    runs count one each); {} when the timetable does not cover the day."""
    day = tt.day_of(d)
    op_index = tt.operator_index.get(op)
    if op_index is None or day < 0 or day >= tt.n_days:
        return {}
    key = ("kpi-op-trips", op)
    trips = tt.cache.get(key)
    if trips is None:
        route_op = np.asarray(tt.route_operator)
        trip_route = np.asarray(tt.trip_route)
        trips = tt.cache[key] = np.flatnonzero(route_op[trip_route] == op_index)
    assert isinstance(trips, np.ndarray)
    services = np.asarray(tt.trip_service)[trips]
    bits = (np.asarray(tt.service_days)[:, day >> 3] >> (day & 7)) & 1
    running = trips[bits[services].astype(bool)]
    if not len(running):
        return {}
    routes = np.asarray(tt.trip_route)[running]
    counts = np.bincount(routes)
    names = tt.strings("route_id")
    return {names[int(r)]: int(counts[r]) for r in np.flatnonzero(counts)}
