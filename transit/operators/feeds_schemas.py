"""Feed versions over HTTP: the request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from transit.db.models import FeedVersionRow

Status = Literal["validating", "rejected", "staged", "published", "superseded"]


class FeedFromUrl(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000, pattern=r"^https?://[^\s]+$",
                     description="Where the service fetches the GTFS zip (conditional GET: "
                     "an unchanged feed is not uploaded again)")


class FeedVersionOut(BaseModel):
    id: str = Field(description="Opaque id of the version")
    operator: str
    sha256: str
    size: int = Field(description="Bytes of the zip")
    source_url: str | None
    uploaded_by: str = Field(description="Prefix of the key that uploaded it")
    uploaded_at: datetime
    status: Status
    progress: str = Field(description="What the background work is doing (queued, "
                          "validating and compiling, done, failed)")
    counts: dict[str, int] = Field(description="agencies, routes, stops, trips, stop_times, "
                                   "patterns, services (once compiled)")
    notices: dict[str, int] = Field(description="Notices by severity (error, warning, info)")
    blocking: int = Field(description="Error notices that stop a publish without force=true")
    published_at: datetime | None
    timetable_version: str | None = Field(description="The merged version it was published in")
    links: dict[str, str]

    @classmethod
    def of(cls, row: FeedVersionRow) -> FeedVersionOut:
        base = f"/v1/operators/{row.operator_id}/feeds/{row.id}"
        return cls(
            id=row.id, operator=row.operator_id, sha256=row.sha256, size=row.size,
            source_url=row.source_url, uploaded_by=row.uploaded_by,
            uploaded_at=row.uploaded_at, status=row.status,  # type: ignore[arg-type]
            progress=row.progress, counts=row.counts or {},
            notices=(row.report or {}).get("counts", {}), blocking=row.blocking,
            published_at=row.published_at, timetable_version=row.merged_version,
            links={"self": base, "publish": f"{base}/publish"})


class Notice(BaseModel):
    code: str = Field(description="Named after the MobilityData GTFS validator's notices "
                      "where one fits")
    severity: Literal["error", "warning", "info"]
    message: str
    file: str | None
    line: int | None = Field(description="CSV line (the header is line 1)")
    field: str | None
    value: str | None
    blocking: bool = Field(description="Stops a publish unless force=true")


class CodeCount(BaseModel):
    code: str
    severity: str
    total: int = Field(description="How many there are")
    listed: int = Field(description="How many `notices` lists (the first 1,000 of a code)")


class Report(BaseModel):
    counts: dict[str, int]
    codes: list[CodeCount]
    notices: list[Notice]


class FeedVersionDetail(FeedVersionOut):
    report: Report | None = Field(description="The validation report (once validated)")
    diff: dict[str, Any] | None = Field(
        description="Against the version published when this one was staged: routes, "
        "stops, trips, services (added/removed/changed), service_days, first and last "
        "service date, stops moved more than 100 m")

    @classmethod
    def of(cls, row: FeedVersionRow) -> FeedVersionDetail:
        return cls(**FeedVersionOut.of(row).model_dump(), report=row.report, diff=row.diff)


class FeedVersionList(BaseModel):
    versions: list[FeedVersionOut]
