"""Schemas and builders shared by several domains: routes, stop summaries, times."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from transit.realtime.alerts import pick_text
from transit.realtime.matching import Target, alerts_for
from transit.realtime.overlay import Overlay
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


def alert_refs(tt: Timetable, overlay: Overlay, route: int, trip: int, trip_id: str,
               stops: list[int], at: int, langs: list[str], operator: str) -> list[AlertRef]:
    """Alerts active at `at` whose informed entities match the route, trip or stops (a
    platform matches through its parent station too)."""
    if not overlay.alerts:
        return []
    ids = tt.strings("stop_id")
    stop_ids: list[str] = []
    for s in stops:
        stop_ids.append(ids[s])
        if tt.stop_parent[s] >= 0:
            stop_ids.append(ids[int(tt.stop_parent[s])])
    target = Target(
        operator=operator,
        agency_id=tt.strings("agency_id")[int(tt.route_agency[route])] if route >= 0 else None,
        route_id=tt.strings("route_id")[route] if route >= 0 else None,
        route_type=int(tt.route_type[route]) if route >= 0 else None,
        direction_id=int(tt.trip_direction[trip]) if trip >= 0 else None,
        trip_id=trip_id, stop_ids=tuple(stop_ids))
    return [AlertRef(id=a.id, effect=a.effect, severity=a.severity,
                     header=pick_text(a.header, langs))
            for a in alerts_for(overlay, target, at)]


def route_ref(tt: Timetable, r: int, langs: list[str]) -> RouteRef:
    color = tt.strings("route_color")[r]
    text = tt.strings("route_text_color")[r]
    rt = int(tt.route_type[r])
    return RouteRef(
        id=tt.strings("route_id")[r],
        short_name=tt.translated("route_short_name", r, langs) or None,
        long_name=tt.translated("route_long_name", r, langs) or None,
        mode=mode_of(rt), route_type=rt,
        color=f"#{color.upper()}" if color else None,
        text_color=f"#{text.upper()}" if text else None,
    )


def iso(unix: int, tz: str) -> str:
    return datetime.fromtimestamp(unix, ZoneInfo(tz)).isoformat()


def operator_id(tt: Timetable, op: int) -> str:
    return tt.meta["operators"][op]["id"]
