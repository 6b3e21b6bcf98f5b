from __future__ import annotations

from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response

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

router = APIRouter(prefix="/v1", tags=["trips"], responses=problems(*PREVIEW_PROBLEMS))


@router.get("/trips/{trip_id}", response_model=Trip, summary="A trip on a service date",
            responses=problems(404))
async def get_trip(request: Request, trip_id: str, tt: PreviewableTimetableDep, now: NowDep,
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
