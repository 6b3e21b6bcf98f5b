"""Departure boards: the timetable's departures with live data laid over them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from transit.api.common import (
    alert_refs,
    instant_in_period,
    iso,
    route_dict,
    service_date_text,
    stop_display,
    trip_display,
)
from transit.realtime.context import LiveContext
from transit.realtime.matching import call_status, fresh
from transit.timetable.departures import Departure, next_departures
from transit.timetable.exclusions import Exclusions
from transit.timetable.timetable import Timetable

MAX_LOOKBACK_S = 3 * 3600


def resolve_instant(tt: Timetable, at: str | None, now: datetime, tz: str) -> datetime:
    """`at` as an aware instant: with its offset, else in the stop's zone; default now.
    An `at` outside the service period (a day either side) is a 422."""
    return now if at is None else instant_in_period(tt, at, "at", tz)


@dataclass
class _Row:
    time: int  # effective instant (live when known)
    sched: int
    trip: int  # -1: an added trip
    stop: int
    pos: int
    day: int
    status: str
    live_time: int | None
    live_stop: int | None
    added_id: str = ""
    added_route: int = -1
    added_headsign: str = ""
    added_operator: str = ""


def _scheduled(tt: Timetable, stops: np.ndarray, t0: int, t1: int, want: int,
               exclude: Exclusions | None) -> list[Departure]:
    """The first `want` departures of routes not excluded: with exclusions, asks for more
    until enough remain or the window has no more."""
    ask = want
    while True:
        found = next_departures(tt, stops, t0, t1, ask)
        if exclude is None:
            return found
        kept = [d for d in found if exclude.route_ok[tt.trip_route[d.trip]]]
        if len(kept) >= want or len(found) < ask:
            return kept[:want]
        ask *= 4


def _rows(tt: Timetable, stops: np.ndarray, t0: int, t1: int, limit: int,
          live: LiveContext, exclude: Exclusions | None = None) -> list[_Row]:
    ov = live.overlay
    lookback = min(ov.max_delay_s, MAX_LOOKBACK_S) if ov.trips else 0
    # with live data the order can change: ask for more than the limit
    found = _scheduled(tt, stops, t0, t1, limit * 2 if ov.trips or ov.added else limit,
                       exclude)
    if lookback:  # trips scheduled before t0 that now leave inside the window
        found += _scheduled(tt, stops, t0 - lookback, t0 - 1, 10_000, exclude)
    lookahead = min(ov.max_early_s, MAX_LOOKBACK_S) if ov.trips else 0
    if lookahead:  # trips scheduled after t1 that now leave inside the window
        found += _scheduled(tt, stops, t1 + 1, t1 + lookahead, 10_000, exclude)
    rows: list[_Row] = []
    for d in found:
        lv = ov.trips.get((d.trip, d.day))
        if lv is not None and not fresh(lv, live.now, live.stale_after_s):
            lv = None
        if lv is None:
            if t0 <= d.time_utc <= t1:
                rows.append(_Row(d.time_utc, d.time_utc, d.trip, d.stop, d.pos, d.day,
                                 "scheduled", None, None))
            continue
        if lv.status == "deleted":
            continue
        call = call_status(lv, d.pos, d.stop)
        when = call.departure if call.departure is not None else d.time_utc
        if t0 <= when <= t1:
            rows.append(_Row(when, d.time_utc, d.trip, d.stop, d.pos, d.day, call.status,
                             call.departure, call.stop))
    for s in stops:
        for lv, pos in ov.added_by_stop.get(int(s), []):
            if pos == len(lv.stops) - 1 or not fresh(lv, live.now, live.stale_after_s):
                continue
            if exclude is not None and (lv.operator in exclude.operators or (
                    lv.route >= 0 and not exclude.route_ok[lv.route])):
                continue
            when = int(lv.rt_dep[pos])
            if t0 <= when <= t1:
                rows.append(_Row(when, int(lv.sched_dep[pos]), -1, int(s), pos, lv.day,
                                 "added", when, None, lv.trip_id, lv.route, lv.headsign,
                                 lv.operator))
    rows.sort(key=lambda r: (r.time, r.sched))
    return rows[:limit]


def board(tt: Timetable, stops: np.ndarray, start: datetime, window_min: int, limit: int,
          langs: list[str], distances: dict[int, float] | None = None,
          live: LiveContext | None = None, exclude: Exclusions | None = None
          ) -> dict[str, object]:
    """The board as a JSON-ready dict in the shape of schemas.DepartureBoard (built directly:
    this is the hottest endpoint)."""
    live = live or LiveContext.none()
    t0 = int(start.timestamp())
    t1 = t0 + window_min * 60
    tz0 = tt.timezones[int(tt.stop_tz[int(stops[0])])] if len(stops) else "UTC"
    rows = _rows(tt, np.asarray(stops, dtype=np.int64), t0, t1, limit, live, exclude)
    known = tt.known_languages(langs)
    fresh_alerts = live.alerts if live.overlay.alerts else []
    has_overrides = len(tt.columns.get("override_st", ())) > 0
    out = []
    for r in rows:
        stop_id, stop_name, platform, tz = stop_display(tt, r.stop, known)
        if r.trip >= 0 and has_overrides:  # stop_time_overrides.txt: the call's platform
            platform = tt.call_platform(r.trip, r.pos, r.day)
        shown = platform if r.live_stop is None else stop_display(tt, r.live_stop, known)[2]
        if r.trip >= 0:
            trip_id, route, route_json, op, headsign, wheelchair = trip_display(
                tt, r.trip, known)
        else:
            trip_id, route, op, headsign, wheelchair = (
                r.added_id, r.added_route, r.added_operator, r.added_headsign, "unknown")
            route_json = route_dict(tt, route, known) if route >= 0 else None
        alerts = alert_refs(tt, fresh_alerts, route, r.trip, trip_id, [r.stop], r.time,
                            langs, op) if fresh_alerts else []
        out.append({
            "trip_id": trip_id,
            "route": route_json,
            "operator": op,
            "headsign": headsign,
            "stop_id": stop_id,
            "stop_name": stop_name,
            "platform": shown,
            "scheduled_platform": platform,
            "service_date": service_date_text(tt, r.day),
            "scheduled_departure": iso(r.sched, tz),
            "realtime_departure": None if r.live_time is None else iso(r.live_time, tz),
            "delay_s": None if r.live_time is None or r.trip < 0 else r.live_time - r.sched,
            "status": r.status,
            "wheelchair_accessible": wheelchair,
            "distance_m": None if distances is None else round(distances[r.stop], 1),
            "alerts": [a.model_dump() for a in alerts],
        })
    board_json: dict[str, object] = {"at": iso(t0, tz0), "until": iso(t1, tz0),
                                     "reason": None, "next_departure": None}
    if not out:
        board_json.update(_why_empty(tt, np.asarray(stops, dtype=np.int64), t0, t1, tz0,
                                     window_min))
    # fresh() of an operator's oldest trip: stale exactly when one of its trips is
    stale = sorted(op for op, ts in live.overlay.oldest_by_operator.items()
                   if live.now - ts > live.stale_after_s)
    info = {"available": live.overlay.available, "reason": live.overlay.reason,
            "stale_operators": stale}
    return {**board_json, "realtime": info, "departures": out}


NEXT_HORIZON_DAYS = 7


def _why_empty(tt: Timetable, stops: np.ndarray, t0: int, t1: int, tz: str,
               window_min: int) -> dict[str, object]:
    """`reason` and `next_departure` of an empty board (the demo at night, a stop whose
    service has ended), so that an empty list is not mistaken for a fault. Only empty boards
    pay for the look ahead."""
    if not len(stops):
        return {"reason": "no stop in the search area"}
    after = next_departures(tt, stops, t1 + 1, t1 + NEXT_HORIZON_DAYS * 86400, 1)
    if not after:
        return {"reason": f"no departure in the {window_min} minutes from {iso(t0, tz)} nor "
                          f"in the {NEXT_HORIZON_DAYS} days after"}
    nxt = iso(after[0].time_utc, tz)
    return {"reason": f"no departure in the {window_min} minutes from {iso(t0, tz)}; the next "
                      f"is at {nxt}", "next_departure": nxt}
