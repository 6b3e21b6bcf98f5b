"""Schemas and builders shared by several domains: routes, stop summaries, times."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from pydantic import BaseModel, Field

from transit.api.problems import Problem, invalid
from transit.realtime.alerts import pick_text
from transit.realtime.matching import Target, affects
from transit.realtime.overlay import Alert
from transit.timetable.modes import MODES, mode_of
from transit.timetable.timetable import Timetable

WHEELCHAIR = {0: "unknown", 1: "accessible", 2: "not_accessible"}


class RouteRef(BaseModel):
    id: str
    short_name: str | None
    long_name: str | None
    mode: str = Field(description="tram, subway, rail, bus, ferry, coach, ... from route_type")
    route_type: int
    color: str | None = Field(description="#RRGGBB, when the feed gives one")
    text_color: str | None


class AlertRef(BaseModel):
    """A service alert that affects a departure or a leg (details at /v1/alerts)."""

    id: str
    effect: str
    severity: str
    header: str | None


def alert_refs(tt: Timetable, alerts: list[Alert], route: int, trip: int, trip_id: str,
               stops: list[int], at: int, langs: list[str], operator: str) -> list[AlertRef]:
    """Of `alerts` (the fresh ones), those active at `at` whose informed entities match the
    route, trip or stops (a platform matches through its parent station too)."""
    if not alerts:
        return []
    ids = tt.strings("stop_id")
    stop_ids: list[str] = []
    for s in stops:
        stop_ids.append(ids[s])
        if tt.stop_parent[s] >= 0:
            stop_ids.append(ids[int(tt.stop_parent[s])])
    if route >= 0:
        agency = tt.strings("agency_id")[int(tt.route_agency[route])]
    else:  # an added trip without a route: the operator's agency, when it has only one
        agencies = np.flatnonzero(np.asarray(tt.agency_operator)
                                  == tt.operator_index.get(operator, -1))
        agency = tt.strings("agency_id")[int(agencies[0])] if len(agencies) == 1 else None
    target = Target(
        operator=operator,
        agency_id=agency,
        route_id=tt.strings("route_id")[route] if route >= 0 else None,
        route_type=int(tt.route_type[route]) if route >= 0 else None,
        direction_id=int(tt.trip_direction[trip]) if trip >= 0 else None,
        trip_id=trip_id, stop_ids=tuple(stop_ids))
    return [AlertRef(id=a.id, effect=a.effect, severity=a.severity,
                     header=pick_text(a.header, langs))
            for a in alerts if a.active_at(at) and affects(a, target)]


def route_ref(tt: Timetable, r: int, langs: list[str]) -> RouteRef:
    known = tt.known_languages(langs)
    key = ("route_ref", r, known)
    hit = tt.cache.get(key)
    if hit is None:
        hit = tt.cache[key] = _route_ref(tt, r, known)
    return hit  # type: ignore[no-any-return]


def route_dict(tt: Timetable, r: int, known: tuple[str, ...]) -> dict[str, object]:
    """The route as a JSON-ready dict, built once per version, route and languages
    (`known`: tt.known_languages of the request)."""
    key = ("route_dict", r, known)
    hit = tt.cache.get(key)
    if hit is None:
        hit = tt.cache[key] = route_ref(tt, r, list(known)).model_dump()
    return hit  # type: ignore[no-any-return]


def stop_display(tt: Timetable, s: int, known: tuple[str, ...]
                 ) -> tuple[str, str, str | None, str]:
    """(id, name in the languages asked, platform, time zone) of a stop, cached per version
    (`known`: tt.known_languages of the request)."""
    key = ("stop", s, known)
    hit = tt.cache.get(key)
    if hit is None:
        hit = tt.cache[key] = (
            tt.strings("stop_id")[s], tt.translated("stop_name", s, list(known)),
            tt.strings("stop_platform")[s] or None, tt.timezones[int(tt.stop_tz[s])])
    return hit  # type: ignore[no-any-return]


def trip_display(tt: Timetable, t: int, known: tuple[str, ...]
                 ) -> tuple[str, int, dict[str, object], str, str, str]:
    """(trip id, route, route dict, operator id, headsign, wheelchair) of a trip, cached."""
    key = ("trip", t, known)
    hit = tt.cache.get(key)
    if hit is None:
        r = int(tt.trip_route[t])
        hit = tt.cache[key] = (
            tt.strings("trip_id")[t], r, route_dict(tt, r, known),
            operator_id(tt, int(tt.route_operator[r])),
            tt.translated("trip_headsign", t, list(known)),
            WHEELCHAIR.get(int(tt.trip_wheelchair[t]), "unknown"))
    return hit  # type: ignore[no-any-return]


def service_date_text(tt: Timetable, day: int) -> str:
    key = ("day", day)
    hit = tt.cache.get(key)
    if hit is None:
        hit = tt.cache[key] = tt.service_date(day).isoformat()
    return hit  # type: ignore[no-any-return]


def _route_ref(tt: Timetable, r: int, langs: tuple[str, ...]) -> RouteRef:
    color = tt.strings("route_color")[r]
    text = tt.strings("route_text_color")[r]
    rt = int(tt.route_type[r])
    return RouteRef(
        id=tt.strings("route_id")[r],
        short_name=tt.translated("route_short_name", r, list(langs)) or None,
        long_name=tt.translated("route_long_name", r, list(langs)) or None,
        mode=mode_of(rt), route_type=rt,
        color=f"#{color.upper()}" if color else None,
        text_color=f"#{text.upper()}" if text else None,
    )


def optional_string_format(fmt: str, max_length: int = 40, *values: str) -> dict[str, Any]:
    """`json_schema_extra` for an optional string query parameter in format `fmt` (or one of
    `values`): FastAPI would put the format beside the anyOf it makes for `str | None`, where
    clients and generators do not look for it."""
    branches: list[dict[str, Any]] = [
        {"type": "string", "format": fmt, "maxLength": max_length}]
    if values:
        branches.append({"type": "string", "enum": list(values)})
    return {"anyOf": [*branches, {"type": "null"}]}


DATE_TIME = optional_string_format("date-time")

_SPACE_FOR_PLUS = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")


def parse_instant(value: str, param: str, tz: str) -> datetime:
    """An ISO 8601 date-time; without an offset it is local time in `tz`. A '+' sent
    unencoded in a query string arrives as a space: it is read as the '+' it was."""
    text = _SPACE_FOR_PLUS.sub(r"\1+\2", value.strip())
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise invalid(param, f"{value!r} is not an ISO 8601 date-time such as "
                      "2018-08-29T08:00 or 2018-08-29T08:00:00-07:00") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(tz))


def service_period(tt: Timetable) -> tuple[date, date]:
    """First and last service date compiled (the last is the day before the first when the
    timetable has no days)."""
    return tt.service_date(0), tt.service_date(tt.n_days - 1)


def _shift(d: date, days: int) -> date:
    """`d` moved by `days`, held within the calendar (a feed may run to 9999-12-31)."""
    try:
        return d + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def _period_bounds(tt: Timetable, tz: str) -> tuple[float, float]:
    """Instants from the local midnight starting the day before the service period to the one
    ending the day after it: what a query may ask about (cached per version and zone)."""
    key = ("period", tz)
    hit = tt.cache.get(key)
    if hit is None:
        first, last = service_period(tt)
        zone = ZoneInfo(tz)
        hit = tt.cache[key] = (
            datetime.combine(_shift(first, -1), time(0), zone).timestamp(),
            datetime.combine(_shift(last, 2), time(0), zone).timestamp())
    return hit  # type: ignore[no-any-return]


def _outside_period(tt: Timetable, param: str, value: str) -> Problem:
    first, last = service_period(tt)
    return invalid(param, f"{value!r} is outside the timetable's service period "
                   f"{first.isoformat()} to {last.isoformat()} (a day either side is "
                   "accepted)")


def instant_in_period(tt: Timetable, value: str, param: str, tz: str) -> datetime:
    """`value` parsed as by parse_instant, refused (422 naming `param`) when it is outside the
    compiled service period plus a day either side: nothing runs then, and instants near the
    ends of the calendar (year 1, year 9999) cannot even be formatted in every zone.
    Instants accepted are kept per version (MAX_INSTANTS): boards ask the same few again."""
    kept = tt.cache.get(("instants",))
    if kept is None or len(kept) >= MAX_INSTANTS:  # type: ignore[arg-type]
        kept = tt.cache[("instants",)] = {}
    hit = kept.get((value, tz))  # type: ignore[union-attr]
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    when = parse_instant(value, param, tz)
    lo, hi = _period_bounds(tt, tz)
    try:
        t = when.timestamp()
    except (ValueError, OverflowError):  # year 0 or 10000 once moved to UTC
        raise _outside_period(tt, param, value) from None
    if not lo <= t < hi:
        raise _outside_period(tt, param, value)
    kept[(value, tz)] = when  # type: ignore[index]
    return when


MAX_INSTANTS = 4096  # instants parsed and kept per version (instant_in_period)


def date_in_period(tt: Timetable, value: date, param: str) -> date:
    """`value` when it is within the service period plus a day either side, else 422."""
    first, last = service_period(tt)
    if not _shift(first, -1) <= value <= _shift(last, 1):
        raise _outside_period(tt, param, value.isoformat())
    return value


@lru_cache(maxsize=8192)
def iso(unix: int, tz: str) -> str:
    """Unix seconds as ISO 8601 at the zone's offset. Cached: boards and journeys name the
    same departures again and again, and this was a fifth of a departure board's time (8192
    entries are about 1 MiB)."""
    return datetime.fromtimestamp(unix, ZoneInfo(tz)).isoformat()


@lru_cache(maxsize=8192)
def unix_of(text: str) -> int:
    """iso's text (ISO 8601 with its offset) back to Unix seconds: cached, as iso is (the
    journeys answer reads its own times back to sort, filter and sign them)."""
    return int(datetime.fromisoformat(text).timestamp())


def operator_id(tt: Timetable, op: int) -> str:
    return tt.meta["operators"][op]["id"]


def parse_modes(param: str, value: str | None) -> frozenset[str] | None:
    if value is None:
        return None
    modes = frozenset(m.strip().lower() for m in value.split(",") if m.strip())
    unknown = sorted(modes - set(MODES))
    if unknown:
        raise invalid(param, f"unknown mode {unknown[0]!r}; modes are {', '.join(MODES)}")
    return modes


def parse_operators(tt: Timetable, param: str, value: str | None) -> frozenset[str] | None:
    if value is None:
        return None
    ops = frozenset(o.strip() for o in value.split(",") if o.strip())
    unknown = sorted(ops - set(tt.operator_index))
    if unknown:
        raise invalid(param, f"unknown operator {unknown[0]!r}; operators are "
                      f"{', '.join(tt.operator_index)}")
    return ops
