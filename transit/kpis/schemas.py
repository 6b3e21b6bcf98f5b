"""Response of GET /v1/operators/{id}/kpis."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class TripKpis(BaseModel):
    scheduled: int = Field(description="Trips the timetable schedules")
    with_live_data: int = Field(description="Scheduled trips a trip update named")
    live_data_share: float | None = Field(description="with_live_data / scheduled")
    canceled: int
    deleted: int
    added: int = Field(description="Added trips (not scheduled, not in the share)")


class DepartureKpis(BaseModel):
    observed: int
    on_time: int = Field(description="From 1 min early to 5 min late")
    early: int = Field(description="More than 1 min early")
    late: int = Field(description="More than 5 min late")
    punctuality: float | None = Field(description="on_time / observed; null without any")


class FeedDay(BaseModel):
    kind: str
    updates: int = Field(description="Accepted updates")
    entities: int
    applied: int
    gaps: int
    max_gap_s: int
    first_update_at: str
    last_update_at: str


class Freshness(BaseModel):
    kind: str
    last_update_at: str = Field(description="Last accepted update, any day")
    age_s: int = Field(description="Its age by the service clock")
    updates: int = Field(description="Accepted updates in the range")
    gaps: int = Field(description="Gaps in the range")
    max_gap_s: int


class RouteKpis(BaseModel):
    route: str | None = Field(description="Route id; null for added trips without one")
    trips: TripKpis
    departures: DepartureKpis
    requests: int


class DayKpis(BaseModel):
    date: date
    trips: TripKpis
    departures: DepartureKpis
    requests: int
    feeds: list[FeedDay]
    rejected: dict[str, int]
    routes: list[RouteKpis]


class Totals(BaseModel):
    trips: TripKpis
    departures: DepartureKpis
    requests: int
    rejected: dict[str, int]


class KpiReport(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    operator: str
    from_: date = Field(alias="from")
    to: date
    route: str | None
    as_of: str
    definitions: dict[str, str]
    totals: Totals
    freshness: list[Freshness]
    days: list[DayKpis]
