from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from transit.api.common import AlertRef, RouteRef

Status = Literal["scheduled", "on_time", "delayed", "canceled", "skipped", "added"]


class Departure(BaseModel):
    trip_id: str = Field(description="For /v1/trips/{trip_id}. A run of a frequency-based "
                         "trip is `OPERATOR:gtfs_trip_id@HH:MM:SS` (its start time)")
    route: RouteRef | None
    operator: str
    headsign: str
    stop_id: str
    stop_name: str
    platform: str | None = Field(description="Where it leaves now (live platform changes)")
    scheduled_platform: str | None
    service_date: str = Field(description="YYYY-MM-DD, the trip's service day")
    scheduled_departure: str = Field(description="ISO 8601 with the stop's UTC offset")
    realtime_departure: str | None = None
    delay_s: int | None = None
    status: Status = "scheduled"
    wheelchair_accessible: Literal["accessible", "not_accessible", "unknown"]
    distance_m: float | None = Field(None, description="From the query point (near a point)")
    alerts: list[AlertRef] = Field(default_factory=list)


class LiveInfo(BaseModel):
    available: bool = Field(description="False when live data cannot be read (the answer "
                            "is then the schedule)")
    reason: str | None = None
    stale_operators: list[str] = Field(default_factory=list, description="Operators whose "
                                       "latest trip updates are too old to use")


class DepartureBoard(BaseModel):
    at: str = Field(description="Start of the window, ISO 8601")
    until: str = Field(description="End of the window, ISO 8601")
    reason: str | None = Field(None, description="Why the list is empty, when it is (e.g. "
                               "no service at night, with the next departure's time)")
    next_departure: str | None = Field(None, description="When the list is empty: the "
                                       "scheduled time of the next departure at these stops "
                                       "after the window (within 7 days), ISO 8601")
    realtime: LiveInfo
    departures: list[Departure]
    applied_profile: dict[str, Any] | None = Field(
        None, description="The commuter's profile defaults this answer applied (fields the "
        "query did not set); null without a commuter's token")

