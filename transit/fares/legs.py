"""What the rules ask of a journey leg beyond the FareLeg itself, read from the timetable:
the stops it passes (area sets, v1 contains_id), a stop's station, local times."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from transit.fares.model import FareLeg
from transit.timetable.timetable import Timetable


def passed_stops(tt: Timetable, leg: FareLeg) -> list[str]:
    """Every stop the leg's trip calls at from boarding to alighting (both included); just
    the two ends when the trip or its stops are not in the timetable."""
    trip = tt.trip_index.get(leg.trip_id)
    if trip is None:
        return [leg.from_stop, leg.to_stop]
    lo, hi = tt.pattern_range(trip)
    ids = tt.strings("stop_id")
    stops = [ids[int(s)] for s in np.asarray(tt.pattern_stops[lo:hi])]
    try:
        a = stops.index(leg.from_stop)
        b = stops.index(leg.to_stop, a + 1)
    except ValueError:
        return [leg.from_stop, leg.to_stop]
    return stops[a:b + 1]


def station_of(tt: Timetable, stop: str) -> str | None:
    i = tt.stop_index.get(stop)
    if i is None:
        return None
    p = int(tt.stop_parent[i])
    return tt.strings("stop_id")[p] if p >= 0 else None


def local(ts: int, tz: ZoneInfo) -> tuple[datetime, int]:
    """The local date-time of a Unix time and its seconds after local midnight."""
    d = datetime.fromtimestamp(ts, tz)
    return d, d.hour * 3600 + d.minute * 60 + d.second


def service_runs(tt: Timetable, service: int, d: datetime) -> bool:
    day = tt.day_of(d.date())
    if service < 0 or day < 0 or day >= tt.n_days:
        return False
    return bool((tt.service_days[service, day >> 3] >> (day & 7)) & 1)


def route_agency(tt: Timetable, route_id: str) -> str:
    """The namespaced agency id of a route ("" when the route is not in the timetable)."""
    key = ("fares", "route_agency")
    table = tt.cache.get(key)
    if table is None:
        agencies = tt.strings("agency_id").to_list()
        table = {r: agencies[int(a)] for r, a in zip(tt.strings("route_id").to_list(),
                                                    np.asarray(tt.route_agency).tolist(),
                                                    strict=True)}
        tt.cache[key] = table
    return table.get(route_id, "")  # type: ignore[union-attr]
