from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from transit.api.common import RouteRef

BoardingRule = Literal["regular", "none", "phone_agency", "coordinate_with_driver"]


class TripStop(BaseModel):
    stop_id: str
    stop_name: str
    platform: str | None
    stop_sequence: int
    scheduled_arrival: str = Field(description="ISO 8601 with the stop's UTC offset")
    scheduled_departure: str
    realtime_arrival: str | None = None
    realtime_departure: str | None = None
    delay_s: int | None = None
    status: Literal["scheduled", "on_time", "delayed", "canceled", "skipped", "added"] = \
        "scheduled"
    scheduled_platform: str | None = None
    pickup: BoardingRule
    drop_off: BoardingRule


class Trip(BaseModel):
    id: str
    route: RouteRef
    operator: str
    headsign: str
    short_name: str | None
    direction_id: int | None
    block_id: str | None
    service_date: str
    wheelchair_accessible: Literal["accessible", "not_accessible", "unknown"]
    status: Literal["scheduled", "canceled"] = "scheduled"
    stops: list[TripStop]
