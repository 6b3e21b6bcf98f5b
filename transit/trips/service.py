"""A trip as it runs on one service date."""

from __future__ import annotations

import bisect
from datetime import date

from transit.api.common import WHEELCHAIR, iso, operator_id, route_ref
from transit.api.problems import Problem, not_found
from transit.realtime.context import LiveContext
from transit.realtime.matching import call_status, trip_live
from transit.timetable.timetable import Timetable
from transit.trips.schemas import Trip, TripStop

BOARDING = ("regular", "none", "phone_agency", "coordinate_with_driver")


def trip_index(tt: Timetable, trip_id: str) -> int:
    t = tt.trip_index.get(trip_id)
    if t is None:
        runs = frequency_runs(tt, trip_id)
        if runs:
            raise Problem(404, f"unknown trip {trip_id!r}: it runs by frequency, each run is "
                          f"its own trip {trip_id}@HH:MM:SS by its start time, e.g. "
                          f"{', '.join(runs[:3])}", runs=runs[:20])
        raise not_found("trip", trip_id)
    return t


def frequency_runs(tt: Timetable, base: str) -> list[str]:
    """Ids of the runs of the frequency-based trip `base` (`base@HH:MM:SS`, in start time
    order), from a sorted list of such ids built once per version on the first miss."""
    ids = tt.cache.get("frequency_trip_ids")
    if ids is None:
        ids = tt.cache["frequency_trip_ids"] = sorted(
            i for i in tt.trip_index if "@" in i)
    prefix = base + "@"
    lo = bisect.bisect_left(ids, prefix)
    hi = bisect.bisect_left(ids, base + chr(ord("@") + 1))
    return ids[lo:hi]


def trip_on(tt: Timetable, t: int, service_date: date, langs: list[str],
            live: LiveContext | None = None) -> Trip:
    day = tt.day_of(service_date)
    if not tt.runs_on(t, day):
        raise Problem(404, f"trip {tt.strings('trip_id')[t]!r} does not run on "
                      f"{service_date.isoformat()}", parameter="date")
    tz_trip = int(tt.trip_tz[t])
    base = int(tt.tz_reference_utc[tz_trip, day])
    lo, hi = tt.pattern_range(t)
    st0 = int(tt.trip_st_start[t])
    stop_ids, plat = tt.strings("stop_id"), tt.strings("stop_platform")
    lv = None if live is None else trip_live(live.overlay, t, day, live.now,
                                               live.stale_after_s)
    stops = []
    for k in range(hi - lo):
        s = int(tt.pattern_stops[lo + k])
        tz = tt.timezones[int(tt.stop_tz[s])]
        sched_arr, sched_dep = base + int(tt.st_arr[st0 + k]), base + int(tt.st_dep[st0 + k])
        call = call_status(lv, k, s) if lv is not None else None
        shown = call.stop if call is not None and call.stop is not None else s
        stops.append(TripStop(
            stop_id=stop_ids[s], stop_name=tt.translated("stop_name", s, langs),
            platform=plat[shown] or None if shown != s else tt.call_platform(t, k, day),
            scheduled_platform=tt.call_platform(t, k, day),
            stop_sequence=int(tt.st_seq[st0 + k]),
            scheduled_arrival=iso(sched_arr, tz), scheduled_departure=iso(sched_dep, tz),
            realtime_arrival=iso(call.arrival, tz) if call and call.arrival else None,
            realtime_departure=iso(call.departure, tz) if call and call.departure else None,
            delay_s=call.departure - sched_dep if call and call.departure else None,
            status=call.status if call else "scheduled",  # type: ignore[arg-type]
            pickup=BOARDING[int(tt.pattern_pickup[lo + k]) % 4],  # type: ignore[arg-type]
            drop_off=BOARDING[int(tt.pattern_dropoff[lo + k]) % 4],  # type: ignore[arg-type]
        ))
    r = int(tt.trip_route[t])
    direction = int(tt.trip_direction[t])
    return Trip(
        id=tt.strings("trip_id")[t], route=route_ref(tt, r, langs),
        operator=operator_id(tt, int(tt.route_operator[r])),
        headsign=tt.translated("trip_headsign", t, langs),
        short_name=tt.strings("trip_short_name")[t] or None,
        direction_id=direction if direction >= 0 else None,
        block_id=tt.strings("trip_block")[t] or None,
        service_date=service_date.isoformat(),
        wheelchair_accessible=WHEELCHAIR.get(int(tt.trip_wheelchair[t]), "unknown"),  # type: ignore[arg-type]
        status="canceled" if lv is not None and lv.status in ("canceled", "deleted")
        else "scheduled",
        stops=stops,
    )
