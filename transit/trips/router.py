from __future__ import annotations

from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Request, Response

from transit.api.common import date_in_period
from transit.api.deps import (
    PREVIEW_PROBLEMS,
    LanguagesDep,
    LiveDep,
    NowDep,
    PreviewableTimetableDep,
)
from transit.api.problems import problems
from transit.api.responses import cached_json
from transit.trips import service
from transit.trips.schemas import Trip

TripId = Annotated[str, Path(description=(
    "`OPERATOR:gtfs_trip_id`, e.g. `RR:A-IN-0800`. A trip of frequencies.txt runs many "
    "times a day: each run is its own trip, `OPERATOR:gtfs_trip_id@HH:MM:SS` with the run's "
    "start time at its first stop as GTFS writes it (past 24:00 after midnight), e.g. "
    "`RB:10-E@08:00:00`; the ids of the runs are those of departure boards and journeys."),
    examples=["RR:A-IN-0800", "RB:10-E@08:00:00"])]

router = APIRouter(prefix="/v1", tags=["trips"], responses=problems(*PREVIEW_PROBLEMS))


@router.get("/trips/{trip_id}", response_model=Trip, summary="A trip on a service date",
            description="The stops of one trip as it runs on a service date, with live "
            "times. Frequency-based trips are asked for by run: `RB:10-E@08:00:00`.",
            responses=problems(404))
async def get_trip(request: Request, trip_id: TripId, tt: PreviewableTimetableDep, now: NowDep,
                   langs: LanguagesDep, live: LiveDep,
             date_: Annotated[date | None, Query(alias="date", description="YYYY-MM-DD; "
                                                 "default today in the trip's zone")] = None
             ) -> Response:
    t = service.trip_index(tt, trip_id)
    if date_ is None:
        date_ = now.astimezone(ZoneInfo(tt.timezones[int(tt.trip_tz[t])])).date()
    else:
        date_in_period(tt, date_, "date")
    return cached_json(request, service.trip_on(tt, t, date_, langs, live), 15)
