from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from transit.api.common import AlertRef, RouteRef


class LegPlace(BaseModel):
    stop_id: str | None = Field(description="null for a coordinate")
    name: str
    platform: str | None
    lat: float | None
    lon: float | None


class IntermediateStop(BaseModel):
    stop_id: str
    name: str
    platform: str | None
    arrival: str
    departure: str


class Amount(BaseModel):
    amount: int = Field(description="minor units of the currency (cents): 570 is 5.70")
    currency: str = Field(description="ISO 4217")


class ProductOut(BaseModel):
    product_id: str
    name: str
    price: Amount
    rider_category: str | None = Field(description="null: any rider (or the feed has no "
                                       "categories)")
    fare_medium: str | None = Field(description="null when the feed names none")


class LegFares(BaseModel):
    fare_leg: int | None = Field(description="legs joined into one fare leg share this "
                                 "number; null when the fares data cannot price the leg")
    products: list[ProductOut] = Field(description="every rider category and fare medium")
    transfer_product: ProductOut | None = Field(None, description="the product of the "
                                                "transfer onto this leg, for the journey's "
                                                "rider category (fare_transfer_rules)")


class JourneyFare(BaseModel):
    rider_category: str | None = Field(description="as asked (rider_category, else the "
                                       "profile's); null: each operator's default rider")
    total: Amount | None = Field(description="null when some leg cannot be priced")
    unknown_legs: list[int] = Field(description="positions in legs of the transit legs "
                                    "the fares data cannot price for this rider")
    notes: list[str] = Field(default_factory=list)


class Leg(BaseModel):
    mode: str = Field(description="walk, or the transit mode (rail, bus, ferry, ...)")
    from_: LegPlace = Field(alias="from")
    to: LegPlace
    departure: str
    arrival: str
    scheduled_departure: str | None = Field(None, description="when live times differ")
    scheduled_arrival: str | None = None
    realtime: bool = Field(False, description="times are live predictions")
    duration_s: int
    distance_m: float | None = Field(None, description="walk legs: estimated walking metres")
    trip_id: str | None = None
    route: RouteRef | None = None
    operator: str | None = None
    headsign: str | None = None
    service_date: str | None = None
    stay_seated: bool = Field(False, description="continues the previous trip's vehicle "
                              "(same block): not a transfer")
    intermediate_stops: list[IntermediateStop] | None = None
    alerts: list[AlertRef] = Field(default_factory=list)
    wheelchair_unknown: list[str] = Field(
        default_factory=list, description="with wheelchair_unknown=true: ids of this leg's "
        "trip and boarding/alighting stops whose wheelchair access the feed leaves unknown")
    geometry: dict[str, Any] = Field(description="GeoJSON LineString")
    fares: LegFares | None = Field(None, description="transit legs: the fare products "
                                   "covering this leg")

    model_config = {"populate_by_name": True}


class Journey(BaseModel):
    id: str | None = Field(None, description="A signed reference to this journey's legs "
                           "(trips, service dates, stops, times): POST /v1/offers takes it")
    departure: str
    arrival: str
    duration_s: int
    transfers: int
    walk_m: float
    wheelchair_unknown: bool = Field(False, description="some leg's wheelchair access is "
                                     "unknown (see the legs)")
    legs: list[Leg]
    fare: JourneyFare | None = Field(None, description="the rider's total (null for a walk)")


class JourneyList(BaseModel):
    journeys: list[Journey]
    reason: str | None = Field(None, description="Why the list is empty, when it is")
    search: dict[str, Any] = Field(description="The search as understood: times, bounds")
    applied_profile: dict[str, Any] | None = Field(
        None, description="The commuter's profile defaults this answer applied (fields the "
        "query did not set); null without a commuter's token")

    model_config = {"json_schema_extra": {"example": None}}


Direction = Literal["depart_at", "arrive_by"]
