"""Departure boards: the timetable's departures with live data laid over them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import orjson

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
from transit.realtime.overlay import Alert, Overlay
from transit.timetable.departures import DAY_KEYS, Found, first_departures, live_key
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
               exclude: Exclusions | None, live_keys: np.ndarray | None = None) -> Found:
    """The first `want` departures of routes not excluded (of the trip instances `live_keys`
    names, when given: first_departures)."""
    return first_departures(tt, stops, t0, t1, want,
                            None if exclude is None else exclude.route_ok, live_keys)


# the trip instances of the last overlay asked, as first_departures' sorted keys (an Overlay
# is read-only once built and replaced whole: one slot, compared by identity)
_LIVE_KEYS: tuple[Overlay, np.ndarray] | None = None


def _live_keys(ov: Overlay) -> np.ndarray:
    global _LIVE_KEYS
    kept = _LIVE_KEYS
    if kept is not None and kept[0] is ov:
        return kept[1]
    keys = np.array(sorted(live_key(trip, day) for trip, day in ov.trips), dtype=np.int64)
    _LIVE_KEYS = (ov, keys)
    return keys


def _each(found: Found) -> zip[tuple[int, int, int, int, int]]:
    """(instant, trip, stop, position, day) of each departure found."""
    return zip(found.time, found.trip, found.stop, found.pos, found.day, strict=True)


def _rows(tt: Timetable, stops: np.ndarray, t0: int, t1: int, limit: int,
          live: LiveContext, exclude: Exclusions | None = None) -> list[_Row]:
    ov = live.overlay
    lookback = min(ov.max_delay_s, MAX_LOOKBACK_S) if ov.trips else 0
    # with live data the order can change: ask for more than the limit
    found = [_scheduled(tt, stops, t0, t1, limit * 2 if ov.trips or ov.added else limit,
                        exclude)]
    # only trips with live data can move into the window from before or after it
    keys = _live_keys(ov) if ov.trips else None
    if lookback:  # trips scheduled before t0 that now leave inside the window
        found.append(_scheduled(tt, stops, t0 - lookback, t0 - 1, 10_000, exclude, keys))
    lookahead = min(ov.max_early_s, MAX_LOOKBACK_S) if ov.trips else 0
    if lookahead:  # trips scheduled after t1 that now leave inside the window
        found.append(_scheduled(tt, stops, t1 + 1, t1 + lookahead, 10_000, exclude, keys))
    if not ov.trips and not ov.added_by_stop:  # no live data: the schedule as it is
        return [_Row(t, t, trip, s, pos, day, "scheduled", None, None)
                for t, trip, s, pos, day in _each(found[0])][:limit]
    rows: list[_Row] = []
    for t, trip, s, pos, day in (x for f in found for x in _each(f)):
        lv = ov.trips.get((trip, day))
        if lv is not None and not fresh(lv, live.now, live.stale_after_s):
            lv = None
        if lv is None:
            if t0 <= t <= t1:
                rows.append(_Row(t, t, trip, s, pos, day, "scheduled", None, None))
            continue
        if lv.status == "deleted":
            continue
        call = call_status(lv, pos, s)
        when = call.departure if call.departure is not None else t
        if t0 <= when <= t1:
            rows.append(_Row(when, t, trip, s, pos, day, call.status, call.departure,
                             call.stop))
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
          live: LiveContext | None = None, exclude: Exclusions | None = None,
          fragments: bool = False) -> dict[str, object]:
    """The board as a JSON-ready dict in the shape of schemas.DepartureBoard (built directly:
    this is the hottest endpoint). `fragments`: each departure is an orjson.Fragment (its JSON
    text, from pieces kept per version) instead of a dict, the same bytes once dumped: what
    the HTTP answer needs, without a dict per row nor serialising the route each time."""
    live = live or LiveContext.none()
    t0 = int(start.timestamp())
    t1 = t0 + window_min * 60
    tz0 = tt.timezones[int(tt.stop_tz[int(stops[0])])] if len(stops) else "UTC"
    stops = np.asarray(stops, dtype=np.int64)
    known = tt.known_languages(langs)
    ov = live.overlay
    out: object
    if fragments and not ov.trips and not ov.added_by_stop and not ov.alerts:
        # no live data: the rows are the schedule's, written from text kept per departure
        found = _scheduled(tt, stops, t0, t1, limit, exclude)
        out = _plain_rows(tt, found, known, distances) if found.time else []
    else:
        rows = _rows(tt, stops, t0, t1, limit, live, exclude)
        fresh_alerts = live.alerts if ov.alerts else []
        has_overrides = len(tt.columns.get("override_st", ())) > 0
        row = _row_fragment if fragments else _row_dict
        out = [row(tt, r, known, langs, has_overrides, fresh_alerts, distances) for r in rows]
    board_json: dict[str, object] = {"at": iso(t0, tz0), "until": iso(t1, tz0),
                                     "reason": None, "next_departure": None}
    if not out:
        board_json.update(_why_empty(tt, stops, t0, t1, tz0, window_min))
    # fresh() of an operator's oldest trip: stale exactly when one of its trips is
    stale = sorted(op for op, ts in live.overlay.oldest_by_operator.items()
                   if live.now - ts > live.stale_after_s)
    info = {"available": live.overlay.available, "reason": live.overlay.reason,
            "stale_operators": stale}
    return {**board_json, "realtime": info, "departures": out}


def _who(tt: Timetable, r: _Row, known: tuple[str, ...]
         ) -> tuple[str, int, dict[str, object] | None, str, str, str]:
    """(trip id, route, route dict, operator, headsign, wheelchair) of a row's trip."""
    if r.trip >= 0:
        return trip_display(tt, r.trip, known)
    route = r.added_route
    return (r.added_id, route, route_dict(tt, route, known) if route >= 0 else None,
            r.added_operator, r.added_headsign, "unknown")


NP = orjson.OPT_SERIALIZE_NUMPY


def _row_dict(tt: Timetable, r: _Row, known: tuple[str, ...], langs: list[str],
              has_overrides: bool, fresh_alerts: list[Alert],
              distances: dict[int, float] | None) -> dict[str, object]:
    """One departure as a dict in the shape of schemas.Departure."""
    stop_id, stop_name, platform, tz = stop_display(tt, r.stop, known)
    if r.trip >= 0 and has_overrides:  # stop_time_overrides.txt: the call's platform
        platform = tt.call_platform(r.trip, r.pos, r.day)
    shown = platform if r.live_stop is None else stop_display(tt, r.live_stop, known)[2]
    trip_id, route, route_json, op, headsign, wheelchair = _who(tt, r, known)
    alerts = alert_refs(tt, fresh_alerts, route, r.trip, trip_id, [r.stop], r.time,
                        langs, op) if fresh_alerts else []
    return {
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
    }


MAX_PIECES = 50_000  # JSON pieces of trips, stops and days kept per version (~10 MiB)


def _pieces(tt: Timetable) -> dict[tuple[object, ...], object]:
    """This version's JSON pieces of rows, emptied when full: bounded whatever the queries
    (trips times the language sets asked)."""
    kept = tt.cache.get(("board_pieces",))
    if kept is None or len(kept) >= MAX_PIECES:  # type: ignore[arg-type]
        kept = tt.cache[("board_pieces",)] = {}
    return kept  # type: ignore[return-value]


def _trip_json(tt: Timetable, pieces: dict[tuple[object, ...], object], r: _Row,
               known: tuple[str, ...]) -> tuple[bytes, bytes]:
    """`{"trip_id":..,"route":..,"operator":..,"headsign":..,` and `"wheelchair_accessible"
    :..,` of a row's trip as JSON text, kept in `pieces` (_pieces) for timetable trips."""
    key = ("trip", r.trip, known)
    hit = pieces.get(key) if r.trip >= 0 else None
    if hit is None:
        trip_id, _, route_json, op, headsign, wheelchair = _who(tt, r, known)
        head = orjson.dumps({"trip_id": trip_id, "route": route_json, "operator": op,
                             "headsign": headsign}, option=NP)[:-1] + b","
        hit = (head, b'"wheelchair_accessible":' + orjson.dumps(wheelchair, option=NP) + b",")
        if r.trip >= 0:
            pieces[key] = hit
    return hit  # type: ignore[return-value]


def _stop_json(tt: Timetable, pieces: dict[tuple[object, ...], object], s: int,
               known: tuple[str, ...]) -> bytes:
    """`"stop_id":..,"stop_name":..,` of a stop as JSON text, kept in `pieces`."""
    key = ("stop", s, known)
    hit = pieces.get(key)
    if hit is None:
        stop_id, stop_name, _, _ = stop_display(tt, s, known)
        hit = pieces[key] = orjson.dumps({"stop_id": stop_id, "stop_name": stop_name},
                                         option=NP)[1:-1] + b","
    return hit  # type: ignore[return-value]


def _day_json(tt: Timetable, pieces: dict[tuple[object, ...], object], day: int) -> bytes:
    """`"service_date":"YYYY-MM-DD"` of a service day, kept in `pieces`."""
    hit = pieces.get(("day", day))
    if hit is None:
        text = orjson.dumps(service_date_text(tt, day), option=NP)
        hit = pieces[("day", day)] = b'"service_date":' + text
    return hit  # type: ignore[return-value]


def _row_fragment(tt: Timetable, r: _Row, known: tuple[str, ...], langs: list[str],
                  has_overrides: bool, fresh_alerts: list[Alert],
                  distances: dict[int, float] | None) -> orjson.Fragment:
    """_row_dict's departure as an orjson.Fragment (_row_text)."""
    return orjson.Fragment(_row_text(tt, r, known, langs, has_overrides, fresh_alerts,
                                     distances))


def _row_text(tt: Timetable, r: _Row, known: tuple[str, ...], langs: list[str],
              has_overrides: bool, fresh_alerts: list[Alert],
              distances: dict[int, float] | None) -> bytes:
    """_row_dict's departure as its JSON text (the same bytes as orjson.dumps of the dict),
    from pieces kept per version: the trip's, the stop's, the day's."""
    _, _, platform, tz = stop_display(tt, r.stop, known)
    if r.trip >= 0 and has_overrides:
        platform = tt.call_platform(r.trip, r.pos, r.day)
    shown = platform if r.live_stop is None else stop_display(tt, r.live_stop, known)[2]
    pieces = _pieces(tt)
    head, wheelchair = _trip_json(tt, pieces, r, known)
    if fresh_alerts:
        trip_id, route, _, op, _, _ = _who(tt, r, known)
        alerts = orjson.dumps([a.model_dump() for a in alert_refs(
            tt, fresh_alerts, route, r.trip, trip_id, [r.stop], r.time, langs, op)],
            option=NP)
    else:
        alerts = b"[]"
    live_time = r.live_time
    return b"".join((
        head, _stop_json(tt, pieces, r.stop, known),
        b'"platform":', orjson.dumps(shown, option=NP),
        b',"scheduled_platform":', orjson.dumps(platform, option=NP), b",",
        _day_json(tt, pieces, r.day),
        b',"scheduled_departure":"', iso(r.sched, tz).encode(),
        b'","realtime_departure":', b"null" if live_time is None
        else b'"' + iso(live_time, tz).encode() + b'"',
        b',"delay_s":', b"null" if live_time is None or r.trip < 0
        else str(live_time - r.sched).encode(),
        b',"status":"', r.status.encode(), b'",', wheelchair,
        b'"distance_m":', b"null" if distances is None
        else orjson.dumps(round(distances[r.stop], 1), option=NP),
        b',"alerts":', alerts, b"}"))


MAX_ROWS = 20_000  # rows of departures kept as JSON text per language set (~9 MiB)
MAX_ROW_LANGUAGES = 4  # language sets whose rows are kept at once
_NO_DISTANCE = b'null,"alerts":[]}'  # how a plain row ends without a distance
_TAIL = b',"alerts":[]}'


def _plain_rows(tt: Timetable, found: Found, known: tuple[str, ...],
                distances: dict[int, float] | None) -> orjson.Fragment:
    """The departures as the schedule has them (no live data, no alert), the JSON list that
    _row_fragment's rows make, each row from its text up to the distance kept per version by
    (languages, event, day): a departure is on many boards (every ask in the two hours before
    it, at its stop and near it), and its text depends on nothing else."""
    texts = _texts(tt, known)
    parts: list[bytes] = [b"["]
    tails: dict[int, bytes] = {}  # by stop: its distance and the end of the row
    for t, e, trip, s, pos, day in zip(*found, strict=True):
        key = e * DAY_KEYS + day
        text = texts.get(key)
        if text is None:
            text = texts[key] = _plain_text(
                tt, _Row(t, t, trip, s, pos, day, "scheduled", None, None), known)
        tail = tails.get(s)
        if tail is None:
            tail = tails[s] = _NO_DISTANCE if distances is None else (
                orjson.dumps(round(distances[s], 1), option=NP) + _TAIL)
        parts += (text, tail, b",")
    parts[-1] = b"]"
    return orjson.Fragment(b"".join(parts))


def _texts(tt: Timetable, known: tuple[str, ...]) -> dict[int, bytes]:
    """The rows kept as text for these languages (_plain_rows), by event * DAY_KEYS + day:
    at most MAX_ROWS per language set, MAX_ROW_LANGUAGES sets per version."""
    by_known = tt.cache.get(("board_rows",))
    if by_known is None:
        by_known = tt.cache[("board_rows",)] = {}
    texts = by_known.get(known)  # type: ignore[attr-defined]
    if texts is None or len(texts) >= MAX_ROWS:
        if texts is None and len(by_known) >= MAX_ROW_LANGUAGES:  # type: ignore[arg-type]
            by_known.clear()  # type: ignore[attr-defined]
        texts = by_known[known] = {}  # type: ignore[index]
    return texts  # type: ignore[no-any-return]


def _plain_text(tt: Timetable, r: _Row, known: tuple[str, ...]) -> bytes:
    """_row_text of a scheduled row without a distance, less its end (_NO_DISTANCE)."""
    has_overrides = len(tt.columns.get("override_st", ())) > 0
    whole = _row_text(tt, r, known, [], has_overrides, [], None)
    assert whole.endswith(_NO_DISTANCE)
    return whole[:-len(_NO_DISTANCE)]


NEXT_HORIZON_DAYS = 7


def _why_empty(tt: Timetable, stops: np.ndarray, t0: int, t1: int, tz: str,
               window_min: int) -> dict[str, object]:
    """`reason` and `next_departure` of an empty board (the demo at night, a stop whose
    service has ended), so that an empty list is not mistaken for a fault. Only empty boards
    pay for the look ahead."""
    if not len(stops):
        return {"reason": "no stop in the search area"}
    after = first_departures(tt, stops, t1 + 1, t1 + NEXT_HORIZON_DAYS * 86400, 1).time
    if not after:
        return {"reason": f"no departure in the {window_min} minutes from {iso(t0, tz)} nor "
                          f"in the {NEXT_HORIZON_DAYS} days after"}
    nxt = iso(after[0], tz)
    return {"reason": f"no departure in the {window_min} minutes from {iso(t0, tz)}; the next "
                      f"is at {nxt}", "next_departure": nxt}
