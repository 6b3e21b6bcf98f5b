from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from transit.api.common import RouteRef

Status = Literal["scheduled", "on_time", "delayed", "canceled", "skipped", "added"]


class Departure(BaseModel):
    trip_id: str
    route: RouteRef
    operator: str
    headsign: str
    stop_id: str
    stop_name: str
    platform: str | None
    service_date: str = Field(description="YYYY-MM-DD, the trip's service day")
    scheduled_departure: str = Field(description="ISO 8601 with the stop's UTC offset")
    realtime_departure: str | None = None
    delay_s: int | None = None
    status: Status = "scheduled"
    wheelchair_accessible: Literal["accessible", "not_accessible", "unknown"]
    distance_m: float | None = Field(None, description="From the query point (near a point)")


class DepartureBoard(BaseModel):
    at: str = Field(description="Start of the window, ISO 8601")
    until: str = Field(description="End of the window, ISO 8601")
    departures: list[Departure]
