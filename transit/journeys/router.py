from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response

from transit.api.common import parse_modes, parse_operators
from transit.api.deps import (
    PREVIEW_PROBLEMS,
    LanguagesDep,
    LiveDep,
    NowDep,
    PreviewableTimetableDep,
)
from transit.api.lean import LeanRoute
from transit.api.problems import invalid, problems
from transit.api.responses import cached_json, large_etag_of
from transit.api.users import OptionalUser
from transit.journeys import journey_ids, onboard, places, ranking, service
from transit.journeys.journey_ids import journey_key
from transit.journeys.params import (
    FiltersDep,
    LimitsDep,
    PlaceAndTime,
    PlaceAndTimeDep,
    ViaAboardFares,
    ViaAboardFaresDep,
)
from transit.journeys.schemas import JourneyList
from transit.profiles import apply

router = APIRouter(prefix="/v1", tags=["journeys"], responses=problems(*PREVIEW_PROBLEMS),
                   route_class=LeanRoute)


@router.get("/journeys", response_model=JourneyList, summary="Journeys between two places",
            responses=problems(404))
async def journeys(
    at: PlaceAndTimeDep, limits: LimitsDep, filters: FiltersDep, more: ViaAboardFaresDep,
    request: Request, tt: PreviewableTimetableDep, now: NowDep, langs: LanguagesDep,
    live: LiveDep, user: OptionalUser,
) -> Response:
    # (the parameters' dependencies come first: the OpenAPI document lists them in order)
    # on the event loop, as the departures endpoints: a thread hop costs more than it gives
    # (the search is a few milliseconds of a nogil kernel)
    _check_together(at, more)
    given = {"max_walk_m": limits.max_walk_m, "walk_speed": limits.walk_speed,
             "min_transfer_s": limits.min_transfer_s, "wheelchair": filters.wheelchair}
    values, applied = apply.journey_values(user, given)
    max_walk_m, walk_speed = float(values["max_walk_m"]), float(values["walk_speed"])
    min_transfer_s, wheelchair = int(values["min_transfer_s"]), bool(values["wheelchair"])
    langs = apply.languages(request, user, langs, applied)
    rider = apply.rider_category(tt, user, more.rider_category, applied)
    avoid = apply.avoided(tt, user, filters.exclude_modes, filters.exclude_operators, applied)
    detour = float(tt.meta["footpaths"]["detour"])
    origin = places.resolve(tt, "from", at.from_, max_walk_m, walk_speed, detour) \
        if at.from_ is not None else places.Place("from", [], label=more.from_trip or "")
    destination = places.resolve(tt, "to", at.to, max_walk_m, walk_speed, detour)
    via_place = places.resolve(tt, "via", more.via, 0, walk_speed, detour) if more.via else None
    if via_place is not None and via_place.is_coordinate:
        raise invalid("via", "via is a stop or station id, not a coordinate")
    ref = (destination if at.arrive_by or at.from_ is None else origin).stops
    tz = tt.timezones[int(tt.stop_tz[ref[0][0]])] if ref else "UTC"
    when = service.resolve_time(tt, at.arrive_by if at.arrive_by else at.depart_at,
                                "arrive_by" if at.arrive_by else "depart_at", now, tz)
    # searched (and echoed) in whole seconds, in the zone of the place the time is at
    when = when.astimezone(ZoneInfo(tz)).replace(microsecond=0)
    opt = service.Options(
        max_transfers=limits.max_transfers, max_walk_m=max_walk_m, walk_speed=walk_speed,
        detour=detour, min_transfer_s=min_transfer_s, wheelchair=wheelchair,
        modes=parse_modes("modes", filters.modes),
        exclude_modes=avoid.modes,
        operators=parse_operators(tt, "operators", filters.operators),
        exclude_operators=avoid.operators, window_min=at.window,
        wheelchair_unknown=filters.wheelchair_unknown,
        exclude_routes=service.parse_routes(tt, "exclude_routes", filters.exclude_routes),
        exclude_stops=service.parse_stops(tt, "exclude_stops", filters.exclude_stops),
        exclude_passing=filters.exclude_passing,
        via_stops=tuple(s for s, _, _ in via_place.stops) if via_place else (),
        via_min_stay_s=more.via_min_stay * 60, rider_category=rider)
    aboard = onboard.locate(tt, more.from_trip, more.from_date, int(when.timestamp()), live) \
        if more.from_trip is not None else None
    result = service.plan(tt, origin, destination, when, at.arrive_by is not None, opt, langs,
                          live, aboard)
    prefer = apply.preferred(tt, user, filters.modes, filters.operators, applied)
    result["journeys"] = ranking.rank(result["journeys"], prefer, at.arrive_by is not None)
    result["applied_profile"] = applied
    journey_ids.attach(result, journey_key(request))
    fixed = at.depart_at is not None or at.arrive_by is not None
    # a JourneyList's dict (service.plan builds no model), written by orjson: the legs'
    # shapes are JSON text (orjson.Fragment), written as is
    return cached_json(request, result, 60 if fixed else 15, private=applied is not None,
                       etag=large_etag_of)


def _check_together(at: PlaceAndTime, more: ViaAboardFares) -> None:
    """The parameters that go together, or not."""
    if at.depart_at is not None and at.arrive_by is not None:
        raise invalid("arrive_by", "give depart_at or arrive_by, not both")
    if at.window and at.arrive_by is not None:
        raise invalid("window", "a window goes with depart_at")
    if (at.from_ is None) == (more.from_trip is None):
        raise invalid("from", "give from (a place) or from_trip (aboard a trip), one of them")
    if more.from_trip is not None and (at.arrive_by is not None or at.window
                                       or more.via is not None):
        raise invalid("from_trip", "from_trip goes with depart_at, without window or via")
    if more.from_date is not None and more.from_trip is None:
        raise invalid("from_date", "from_date goes with from_trip")
    if more.via is not None and at.window:
        raise invalid("via", "via goes with depart_at or arrive_by, without a window")
