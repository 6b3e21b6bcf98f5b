from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from transit.api.common import DATE_TIME
from transit.api.deps import (
    PREVIEW_PROBLEMS,
    LanguagesDep,
    LiveDep,
    NowDep,
    PreviewableTimetableDep,
)
from transit.api.problems import invalid, problems
from transit.api.responses import cached_json
from transit.journeys import places, service
from transit.journeys.schemas import JourneyList

router = APIRouter(prefix="/v1", tags=["journeys"], responses=problems(*PREVIEW_PROBLEMS))

PlaceParam = Annotated[str, Query(min_length=1, max_length=80,
                                  description="stop id, station id, or lat,lon")]


@router.get("/journeys", response_model=JourneyList, summary="Journeys between two places",
            responses=problems(404))
def journeys(
    request: Request, tt: PreviewableTimetableDep, now: NowDep, langs: LanguagesDep, live: LiveDep,
    from_: Annotated[str, Query(alias="from", min_length=1, max_length=80,
                                description="stop id, station id, or lat,lon")],
    to: PlaceParam,
    depart_at: Annotated[str | None, Query(
        max_length=40, json_schema_extra=DATE_TIME,
        description="ISO 8601; without an offset, local time at the origin; default now")
    ] = None,
    arrive_by: Annotated[str | None, Query(
        max_length=40, json_schema_extra=DATE_TIME,
        description="ISO 8601; without an offset, local time at the destination")] = None,
    window: Annotated[int, Query(ge=0, le=180, description="minutes: all options leaving "
                                 "in this window (with depart_at)")] = 0,
    max_transfers: Annotated[int, Query(ge=0, le=8)] = 5,
    max_walk_m: Annotated[float, Query(ge=0, le=5000, description="walking to, from and "
                                       "instead of transit")] = 1000,
    walk_speed: Annotated[float, Query(gt=0.3, le=3.0, description="m/s")] = 1.2,
    min_transfer_s: Annotated[int, Query(ge=0, le=1800, description="extra time at every "
                                         "change")] = 0,
    wheelchair: Annotated[bool, Query(description="only trips and stops marked accessible")
                          ] = False,
    modes: Annotated[str | None, Query(max_length=200, description="comma list to use")] = None,
    exclude_modes: Annotated[str | None, Query(max_length=200)] = None,
    operators: Annotated[str | None, Query(max_length=400)] = None,
    exclude_operators: Annotated[str | None, Query(max_length=400)] = None,
) -> Response:
    if depart_at is not None and arrive_by is not None:
        raise invalid("arrive_by", "give depart_at or arrive_by, not both")
    if window and arrive_by is not None:
        raise invalid("window", "a window goes with depart_at")
    detour = float(tt.meta["footpaths"]["detour"])
    origin = places.resolve(tt, "from", from_, max_walk_m, walk_speed, detour)
    destination = places.resolve(tt, "to", to, max_walk_m, walk_speed, detour)
    ref = (destination if arrive_by else origin).stops
    tz = tt.timezones[int(tt.stop_tz[ref[0][0]])] if ref else "UTC"
    when = service.resolve_time(tt, arrive_by if arrive_by else depart_at,
                                "arrive_by" if arrive_by else "depart_at", now, tz)
    opt = service.Options(
        max_transfers=max_transfers, max_walk_m=max_walk_m, walk_speed=walk_speed,
        detour=detour, min_transfer_s=min_transfer_s, wheelchair=wheelchair,
        modes=service.parse_modes("modes", modes),
        exclude_modes=service.parse_modes("exclude_modes", exclude_modes) or frozenset(),
        operators=service.parse_operators(tt, "operators", operators),
        exclude_operators=service.parse_operators(tt, "exclude_operators", exclude_operators)
        or frozenset(), window_min=window)
    result = service.plan(tt, origin, destination, when, arrive_by is not None, opt, langs,
                          live)
    return cached_json(request, result, 15 if depart_at is None and arrive_by is None else 60)
