"""Schemas and builders shared by several domains: routes, stop summaries, times."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
from pydantic import BaseModel, Field

from transit.api.problems import invalid
from transit.realtime.alerts import pick_text
from transit.realtime.matching import Target, affects
from transit.realtime.overlay import Alert
from transit.timetable.modes import mode_of
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


def iso(unix: int, tz: str) -> str:
    return datetime.fromtimestamp(unix, ZoneInfo(tz)).isoformat()


def operator_id(tt: Timetable, op: int) -> str:
    return tt.meta["operators"][op]["id"]
