from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from transit.api.deps import LanguagesDep, TimetableDep
from transit.api.problems import invalid, problems
from transit.api.responses import cached_json
from transit.stops import service
from transit.stops.schemas import Station, Stop, StopList

router = APIRouter(prefix="/v1", tags=["stops"], responses=problems())
STATIC_MAX_AGE = 300


@router.get("/stops", response_model=StopList, summary="Nearby stops or stops by name")
async def list_stops(
    request: Request, tt: TimetableDep, langs: LanguagesDep,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    radius: Annotated[float, Query(gt=0, le=5000, description="metres")] = 500,
    q: Annotated[str | None, Query(min_length=1, max_length=100,
                                   description="name, any language")] = None,
    operator: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    if q is not None:
        stops = service.search(tt, q, limit, langs, operator)
    elif lat is not None and lon is not None:
        stops = service.nearby(tt, lat, lon, radius, limit, langs)
    elif lat is not None or lon is not None:
        raise invalid("lon" if lat is not None else "lat", "lat and lon go together")
    else:
        raise invalid("q", "give q (name search) or lat and lon (nearby)")
    return cached_json(request, StopList(stops=stops), STATIC_MAX_AGE)


@router.get("/stops/{stop_id}", response_model=Stop, summary="One stop",
            responses=problems(404))
async def get_stop(request: Request, stop_id: str, tt: TimetableDep,
                   langs: LanguagesDep) -> Response:
    s = service.stop_index(tt, stop_id)
    return cached_json(request, service.stop(tt, s, langs, with_routes=True), STATIC_MAX_AGE)


@router.get("/stations/{station_id}", response_model=Station, responses=problems(404),
            summary="A station with its member stops of every operator")
async def get_station(request: Request, station_id: str, tt: TimetableDep,
                langs: LanguagesDep) -> Response:
    st = service.station_of(tt, station_id)
    return cached_json(request, service.station(tt, st, langs), STATIC_MAX_AGE)
