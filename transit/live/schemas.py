from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class FeedState(BaseModel):
    kind: Literal["trip-updates", "vehicle-positions", "alerts"]
    entities: int
    applied: int
    rejected: dict[str, int] = Field(description="Rejected entities by reason")
    rejected_examples: dict[str, str]
    warnings: dict[str, int] = Field(default_factory=dict, description="Applied entities "
                                     "with a correction the operator should know of, by kind")
    warning_examples: dict[str, str] = Field(default_factory=dict)
    feed_timestamp: str | None
    age_s: int | None = Field(description="Age of the feed by the service clock")
    incrementality: str
    last_success: str | None
    last_error: str | None
    last_error_at: str | None


class RealtimeStatus(BaseModel):
    operator: str
    available: bool
    reason: str | None
    feeds: list[FeedState]


class PushResult(BaseModel):
    operator: str
    kinds: list[str]
    entities: int


class AlertText(BaseModel):
    header: str | None
    description: str | None
    url: str | None
    language: str | None


class InformedEntity(BaseModel):
    agency_id: str | None
    route_id: str | None
    route_type: int | None
    direction_id: int | None
    trip_id: str | None
    stop_id: str | None


class ActivePeriod(BaseModel):
    start: str | None
    end: str | None


class AlertOut(BaseModel):
    id: str
    operator: str
    cause: str
    effect: str
    severity: str
    active_periods: list[ActivePeriod]
    text: AlertText
    translations: dict[str, dict[str, str]]
    informed_entities: list[InformedEntity]


class AlertList(BaseModel):
    alerts: list[AlertOut]
    applied_profile: dict[str, Any] | None = Field(
        None, description="The commuter's profile defaults this answer applied (fields the "
        "query did not set); null without a commuter's token")


class FeatureCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[dict[str, Any]]
