from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from google.transit import gtfs_realtime_pb2 as pb
from starlette.concurrency import run_in_threadpool

from transit.accounts.roles import Permission
from transit.accounts.scope import Principal
from transit.api.auth import operator_access
from transit.api.common import optional_string_format
from transit.api.deps import LanguagesDep, NowDep, TimetableDep
from transit.api.problems import Problem, invalid, not_found, problems
from transit.api.responses import cached_json
from transit.api.users import OptionalUser
from transit.live import service
from transit.live.schemas import AlertList, AlertOut, FeatureCollection, PushResult, RealtimeStatus
from transit.profiles import apply
from transit.realtime.breaker import StoreUnavailable
from transit.realtime.feed import KINDS, RealtimeFeedError, parse, split
from transit.realtime.state import LiveState
from transit.realtime.validate import FeedRefused

# An operator key of role realtime or publisher (or a TRANSIT_PUSH_KEYS secret).
Pusher = Annotated[Principal, Depends(operator_access(Permission.PUSH_REALTIME))]
router = APIRouter(prefix="/v1", tags=["live"], responses=problems())
Kind = Literal["trip-updates", "vehicle-positions", "alerts"]


def _live(request: Request) -> LiveState:
    return request.app.state.live


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Problem(413, f"body of {declared} bytes is over the limit of {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(413, f"body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/operators/{operator_id}/realtime", response_model=PushResult, status_code=202,
             responses=problems(400, 401, 403, 404, 413),
             summary="Push GTFS-Realtime (protobuf FeedMessage) for one operator")
async def push(request: Request, operator_id: str, pusher: Pusher,
               kind: Annotated[Kind | None, Query(description="Store the body as this kind "
                                                  "only; default: the kinds it holds")] = None
               ) -> PushResult:
    tt = request.app.state.holder.get()
    if tt is None or operator_id not in tt.operator_index:
        raise not_found("operator", operator_id)
    data = await _body(request, request.app.state.settings.max_push_bytes)
    # Storing calls Redis (bounded, but up to TRANSIT_REDIS_TIMEOUT_S): in a worker thread,
    # never on the event loop that serves every other request.
    msg, kinds = await run_in_threadpool(_store, _live(request), operator_id, data, kind)
    return PushResult(operator=operator_id, kinds=kinds, entities=len(msg.entity))


def _store(live: LiveState, operator_id: str, data: bytes, kind: str | None
           ) -> tuple[pb.FeedMessage, list[str]]:
    """Parse and store a pushed body (the kinds stored), or the problem it makes; errors are
    recorded in the operator's status under the kinds they concern."""
    try:
        msg = parse(data)
    except RealtimeFeedError as exc:
        for k in [kind] if kind else live.kinds_of(operator_id):
            live.record_error(operator_id, k, str(exc))
        raise Problem(400, str(exc)) from None
    if not live.available:
        raise Problem(503, live.overlay().reason or "live data store unavailable",
                      headers={"Retry-After": "5"})
    try:
        return msg, live.publish(operator_id, msg, kind)
    except FeedRefused as exc:
        for k in [kind] if kind else sorted(split(msg)) or live.kinds_of(operator_id):
            live.record_error(operator_id, k, str(exc))
        raise Problem(422, str(exc)) from None
    except StoreUnavailable as exc:  # the store went away between the check and the write
        raise Problem(503, f"live data unavailable: {exc}",
                      headers={"Retry-After": "5"}) from None


@router.get("/operators/{operator_id}/realtime", response_model=RealtimeStatus,
            responses=problems(404),
            summary="State of an operator's live feeds: counters, age, errors")
def realtime_status(request: Request, operator_id: str, tt: TimetableDep,
                    now: NowDep) -> RealtimeStatus:
    if operator_id not in tt.operator_index:
        raise not_found("operator", operator_id)
    return service.status(_live(request), operator_id, int(now.timestamp()))


@router.get("/vehicles", response_model=FeatureCollection, summary="Vehicles on a map")
def vehicles(
    request: Request, tt: TimetableDep, now: NowDep,
    bbox: Annotated[str | None, Query(max_length=100, description="min_lon,min_lat,max_lon,"
                                      "max_lat")] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    radius: Annotated[float, Query(gt=0, le=50_000)] = 1000,
    operator: Annotated[str | None, Query(max_length=32)] = None,
    route: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    box = None
    if bbox is not None:
        try:
            parts = [float(x) for x in bbox.split(",")]
        except ValueError:
            parts = []
        if len(parts) != 4 or parts[0] > parts[2] or parts[1] > parts[3]:
            raise invalid("bbox", f"{bbox!r}: expected min_lon,min_lat,max_lon,max_lat")
        box = (parts[0], parts[1], parts[2], parts[3])
    elif (lat is None) != (lon is None):
        raise invalid("lon" if lat is not None else "lat", "lat and lon go together")
    elif lat is None:
        raise invalid("bbox", "give bbox, or lat and lon")
    near = (lat, lon, radius) if lat is not None and lon is not None else None
    live = _live(request)
    feats = service.vehicles(live.overlay(), box, near, operator, route, int(now.timestamp()),
                             live.limits.vehicle_max_age_s)
    return cached_json(request, FeatureCollection(features=feats), 5)


def _only_avoided(alert: AlertOut, operators: frozenset[str]) -> bool:
    return alert.operator in operators


@router.get("/alerts", response_model=AlertList, summary="Service alerts",
            responses=problems(401, 404))
def list_alerts(
    request: Request, tt: TimetableDep, now: NowDep, langs: LanguagesDep, user: OptionalUser,
    stop: Annotated[str | None, Query(max_length=100)] = None,
    route: Annotated[str | None, Query(max_length=100)] = None,
    operator: Annotated[str | None, Query(max_length=32)] = None,
    at: Annotated[str | None, Query(
        max_length=40, json_schema_extra=optional_string_format("date-time", 40, "any"),
        description="active at (ISO 8601 with offset); default now; 'any' for all")] = None,
) -> Response:
    from datetime import datetime

    when: int | None = int(now.timestamp())
    if at == "any":
        when = None
    elif at is not None:
        try:
            parsed = datetime.fromisoformat(at)
        except ValueError:
            raise invalid("at", f"{at!r} is not an ISO 8601 date-time") from None
        if parsed.tzinfo is None:
            raise invalid("at", "needs a UTC offset, e.g. 2019-08-07T10:00:00-07:00")
        when = int(parsed.timestamp())
    applied = apply.new_applied(user)
    langs = apply.languages(request, user, langs, applied)
    result = service.alerts(_live(request).overlay(), tt, stop, route, operator, when, langs,
                            int(now.timestamp()))
    if operator is None:  # the commuter's avoided operators: their alerts are left out
        avoid = apply.avoided(tt, user, None, None, applied)
        if avoid.operators:
            result = [a for a in result if not _only_avoided(a, avoid.operators)]
    return cached_json(request, AlertList(alerts=result, applied_profile=applied), 15,
                       private=applied is not None)


@router.get("/gtfs-rt/{kind}", summary="Merged GTFS-Realtime of all operators",
            responses={**problems(404), 200: {"content": {"application/x-protobuf": {}}}})
def gtfs_rt(request: Request, kind: str, now: NowDep,
            format: Annotated[Literal["protobuf", "json"], Query()] = "protobuf") -> Response:
    if kind not in KINDS:
        raise not_found("feed", kind)
    msg = service.merged_feed(_live(request), kind, int(now.timestamp()))
    if format == "json":
        import orjson

        return Response(orjson.dumps(service.as_json(msg)), media_type="application/json")
    return Response(msg.SerializeToString(), media_type="application/x-protobuf")
