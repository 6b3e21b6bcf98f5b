"""Departure boards over the compiled timetable."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from transit.api.common import WHEELCHAIR, iso, operator_id, route_ref
from transit.api.problems import invalid
from transit.departures.schemas import Departure, DepartureBoard
from transit.timetable.departures import next_departures
from transit.timetable.timetable import Timetable


def resolve_instant(at: str | None, now: datetime, tz: str) -> datetime:
    """`at` as an aware instant: with its offset, else in the stop's zone; default now."""
    if at is None:
        return now
    try:
        value = datetime.fromisoformat(at.strip().replace(" ", "T", 1) if " " in at.strip()
                                       else at.strip())
    except ValueError:
        raise invalid("at", f"{at!r} is not an ISO 8601 date-time such as "
                      "2018-08-29T08:00 or 2018-08-29T08:00:00-07:00") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tz))
    return value


def board(tt: Timetable, stops: np.ndarray, start: datetime, window_min: int, limit: int,
          langs: list[str], distances: dict[int, float] | None = None) -> DepartureBoard:
    t0 = int(start.timestamp())
    t1 = t0 + window_min * 60
    deps = next_departures(tt, stops, t0, t1, limit)
    tz0 = tt.timezones[int(tt.stop_tz[int(stops[0])])] if len(stops) else "UTC"
    out = []
    stop_ids, stop_platform = tt.strings("stop_id"), tt.strings("stop_platform")
    trip_ids = tt.strings("trip_id")
    routes: dict[int, object] = {}
    for d in deps:
        r = int(tt.trip_route[d.trip])
        if r not in routes:
            routes[r] = route_ref(tt, r, langs)
        tz = tt.timezones[int(tt.stop_tz[d.stop])]
        out.append(Departure(
            trip_id=trip_ids[d.trip],
            route=routes[r],  # type: ignore[arg-type]
            operator=operator_id(tt, int(tt.route_operator[r])),
            headsign=tt.translated("trip_headsign", d.trip, langs),
            stop_id=stop_ids[d.stop],
            stop_name=tt.translated("stop_name", d.stop, langs),
            platform=stop_platform[d.stop] or None,
            service_date=tt.service_date(d.day).isoformat(),
            scheduled_departure=iso(d.time_utc, tz),
            wheelchair_accessible=WHEELCHAIR.get(int(tt.trip_wheelchair[d.trip]), "unknown"),  # type: ignore[arg-type]
            distance_m=None if distances is None else round(distances[d.stop], 1),
        ))
    return DepartureBoard(at=iso(t0, tz0), until=iso(t1, tz0), departures=out)
