from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import numpy as np
import orjson
from fastapi import APIRouter, Query, Request, Response

from transit.api.common import DATE_TIME
from transit.api.deps import PREVIEW_PROBLEMS, ReadContext, ReadDep
from transit.api.lean import LeanRoute
from transit.api.problems import problems
from transit.api.responses import body_response, etag_of
from transit.api.users import COMMUTER_SECURITY
from transit.departures import service
from transit.departures.cache import BoardCache, Body
from transit.departures.schemas import DepartureBoard
from transit.profiles import apply
from transit.stops import service as stops
from transit.timetable.exclusions import Exclusions

# LeanRoute: plainly valid queries skip FastAPI's parameter handling (3x a board's time)
router = APIRouter(prefix="/v1", tags=["departures"],
                   responses=problems(*PREVIEW_PROBLEMS), route_class=LeanRoute)

At = Annotated[str | None, Query(description="ISO 8601; without an offset, the stop's local "
                                 "time; default now", max_length=40,
                                 json_schema_extra=DATE_TIME)]
Window = Annotated[int, Query(ge=1, le=1440, description="minutes after `at`")]
Limit = Annotated[int, Query(ge=1, le=100)]
ExcludeModes = Annotated[str | None, Query(
    max_length=200, description="Comma list of modes to leave out; default: the commuter's "
    "avoided modes (empty: none)")]
ExcludeOperators = Annotated[str | None, Query(
    max_length=400, description="Comma list of operators to leave out; default: the "
    "commuter's avoided operators (empty: none)")]
LIVE_MAX_AGE = 15


@dataclass(frozen=True)
class Personal:
    """The request's languages and exclusions after the commuter's profile."""

    langs: list[str]
    exclude: Exclusions | None
    applied: dict[str, object] | None


def _personal(request: Request, ctx: ReadContext,
              exclude_modes: str | None, exclude_operators: str | None) -> Personal:
    user = ctx.user
    applied = apply.new_applied(user)
    langs = apply.languages(request, user, ctx.langs, applied)
    avoid = apply.avoided(ctx.tt, user, exclude_modes, exclude_operators, applied)
    return Personal(langs, apply.exclusions(ctx.tt, avoid), applied)


# boards answered in the service clock's current second (anonymous callers only)
BOARDS = BoardCache()


def _cached(ctx: ReadContext, key: tuple[object, ...]) -> Body | None:
    """The body already answered to this query in this generation (cache.py), if any."""
    return None if ctx.user is not None else BOARDS.get(ctx.tt, ctx.live, key)


def _respond(request: Request, ctx: ReadContext, key: tuple[object, ...],
             board: dict[str, object], at: str | None, personal: Personal) -> Response:
    """The board as JSON with cached_json's headers; kept for `key` when anonymous."""
    board["applied_profile"] = personal.applied
    body = orjson.dumps(board, option=orjson.OPT_SERIALIZE_NUMPY)
    found = Body(body, etag_of(body))
    if ctx.user is None:
        BOARDS.put(ctx.tt, ctx.live, key, found)
    return _answer(request, found, at, personal.applied is not None)


def _answer(request: Request, found: Body, at: str | None, private: bool) -> Response:
    return body_response(request, found.body, found.etag, LIVE_MAX_AGE if at is None else 300,
                         private=private)


@router.get("/stops/{stop_id}/departures", response_model=DepartureBoard,
            openapi_extra=COMMUTER_SECURITY,
            responses=problems(404),
            summary="Next departures at a stop")
async def stop_departures(request: Request, stop_id: str, ctx: ReadDep,
                          at: At = None, window: Window = 120, limit: Limit = 10,
                          exclude_modes: ExcludeModes = None,
                          exclude_operators: ExcludeOperators = None) -> Response:
    key = ("stop", stop_id, at, window, limit, exclude_modes, exclude_operators, *ctx.langs)
    if (hit := _cached(ctx, key)) is not None:
        return _answer(request, hit, at, False)
    tt = ctx.tt
    me = _personal(request, ctx, exclude_modes, exclude_operators)
    s = stops.stop_index(tt, stop_id)
    members = np.array([s], dtype=np.int64)
    if tt.stop_location_type[s] == 1:  # a parent station: all its platforms
        members = np.flatnonzero(np.asarray(tt.stop_parent) == s)
    start = service.resolve_instant(tt, at, ctx.now, tt.timezones[int(tt.stop_tz[s])])
    board = service.board(tt, members, start, window, limit, me.langs, live=ctx.live,
                          exclude=me.exclude, fragments=True)
    return _respond(request, ctx, key, board, at, me)


@router.get("/stations/{station_id}/departures", response_model=DepartureBoard,
            openapi_extra=COMMUTER_SECURITY,
            responses=problems(404),
            summary="Next departures at every platform and operator of a station")
async def station_departures(request: Request, station_id: str, ctx: ReadDep,
                             at: At = None, window: Window = 120,
                             limit: Limit = 10, exclude_modes: ExcludeModes = None,
                             exclude_operators: ExcludeOperators = None) -> Response:
    key = ("station", station_id, at, window, limit, exclude_modes, exclude_operators,
           *ctx.langs)
    if (hit := _cached(ctx, key)) is not None:
        return _answer(request, hit, at, False)
    tt = ctx.tt
    me = _personal(request, ctx, exclude_modes, exclude_operators)
    st = stops.station_of(tt, station_id)
    members = tt.members_of_station(st).astype(np.int64)
    anchor = int(tt.station_anchor[st])
    start = service.resolve_instant(tt, at, ctx.now, tt.timezones[int(tt.stop_tz[anchor])])
    board = service.board(tt, members, start, window, limit, me.langs, live=ctx.live,
                          exclude=me.exclude, fragments=True)
    return _respond(request, ctx, key, board, at, me)


@router.get("/departures", response_model=DepartureBoard, summary="Departures near a point",
            openapi_extra=COMMUTER_SECURITY)
async def departures_near(request: Request, ctx: ReadDep,
                          lat: Annotated[float, Query(ge=-90, le=90)],
                          lon: Annotated[float, Query(ge=-180, le=180)],
                          radius: Annotated[float, Query(gt=0, le=2000, description="metres")
                                            ] = 500,
                          at: At = None, window: Window = 60, limit: Limit = 20,
                          exclude_modes: ExcludeModes = None,
                          exclude_operators: ExcludeOperators = None) -> Response:
    # str: -0.0 == 0.0, but the reason of an empty board writes the point as given
    key = ("near", str(lat), str(lon), str(radius), at, window, limit, exclude_modes,
           exclude_operators, *ctx.langs)
    if (hit := _cached(ctx, key)) is not None:
        return _answer(request, hit, at, False)
    tt = ctx.tt
    me = _personal(request, ctx, exclude_modes, exclude_operators)
    cand, dist = tt.grid.within(lat, lon, radius)
    keep = np.asarray(tt.stop_location_type)[cand] == 0
    cand, dist = cand[keep][:200], dist[keep][:200]
    tz = tt.timezones[int(tt.stop_tz[int(cand[0])])] if len(cand) else "UTC"
    start = service.resolve_instant(tt, at, ctx.now, tz)
    distances = dict(zip(cand.tolist(), dist.tolist(), strict=True))
    board = service.board(tt, cand.astype(np.int64), start, window, limit, me.langs,
                          distances, live=ctx.live, exclude=me.exclude, fragments=True)
    if not len(cand):
        board["reason"] = f"no stop within {radius:g} m of {lat},{lon}"
    return _respond(request, ctx, key, board, at, me)
