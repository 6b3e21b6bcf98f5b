from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from transit.api.common import RouteRef


class Stop(BaseModel):
    id: str = Field(description="OPERATOR:gtfs_stop_id")
    name: str
    code: str | None
    platform: str | None = Field(description="platform_code, when the feed gives one")
    lat: float | None
    lon: float | None
    location_type: Literal["stop", "station"]
    parent_station: str | None
    station_id: str = Field(description="The station of the cross-operator registry")
    operator: str
    timezone: str
    wheelchair_boarding: Literal["accessible", "not_accessible", "unknown"]
    distance_m: float | None = Field(None, description="From the query point (nearby only)")
    routes: list[RouteRef] | None = Field(None, description="Routes calling here (detail only)")


class StopList(BaseModel):
    stops: list[Stop]


class StationMember(BaseModel):
    stop: Stop
    rule: str = Field(description="Why this stop belongs to the station: anchor, "
                      "parent_station, same_name, distance or similar_name")


class Station(BaseModel):
    id: str
    name: str
    lat: float | None
    lon: float | None
    operators: list[str]
    members: list[StationMember]
