"""Schemas and builders shared by several domains: routes, stop summaries, times."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

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
