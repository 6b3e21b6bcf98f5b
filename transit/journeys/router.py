from __future__ import annotations

from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response

from transit.api.common import DATE_TIME, parse_modes, parse_operators
from transit.api.deps import (
    PREVIEW_PROBLEMS,
    LanguagesDep,
    LiveDep,
    NowDep,
    PreviewableTimetableDep,
)
from transit.api.problems import invalid, problems
from transit.api.responses import cached_json
from transit.api.users import OptionalUser
from transit.journeys import journey_ids, onboard, places, ranking, service
from transit.journeys.journey_ids import journey_key
from transit.journeys.schemas import JourneyList
from transit.profiles import apply

router = APIRouter(prefix="/v1", tags=["journeys"], responses=problems(*PREVIEW_PROBLEMS))

PlaceParam = Annotated[str, Query(min_length=1, max_length=80,
                                  description="stop id, station id, or lat,lon")]


@router.get("/journeys", response_model=JourneyList, summary="Journeys between two places",
            responses=problems(404))
def journeys(
    request: Request, tt: PreviewableTimetableDep, now: NowDep, langs: LanguagesDep, live: LiveDep,
    user: OptionalUser, to: PlaceParam,
    from_: Annotated[str | None, Query(alias="from", min_length=1, max_length=80,
                                       description="stop id, station id, or lat,lon (or "
                                       "from_trip)")] = None,
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
    max_walk_m: Annotated[float | None, Query(ge=0, le=5000, description="walking to, from "
                          "and instead of transit; default the commuter's profile, else "
                          "1000")] = None,
    walk_speed: Annotated[float | None, Query(gt=0.3, le=3.0, description="m/s; default the "
                                              "commuter's profile, else 1.2")] = None,
    min_transfer_s: Annotated[int | None, Query(ge=0, le=1800, description="extra time at "
                              "every change; default the commuter's profile, else 0")
                              ] = None,
    wheelchair: Annotated[bool | None, Query(description="only trips and stops marked "
                          "accessible; default the commuter's profile, else false")] = None,
    modes: Annotated[str | None, Query(max_length=200, description="comma list to use")] = None,
    exclude_modes: Annotated[str | None, Query(max_length=200)] = None,
    operators: Annotated[str | None, Query(max_length=400)] = None,
    exclude_operators: Annotated[str | None, Query(max_length=400)] = None,
    wheelchair_unknown: Annotated[bool, Query(description="with wheelchair: also stops and "
                                  "trips whose access the feed leaves unknown (flagged)")
                                  ] = False,
    exclude_routes: Annotated[str | None, Query(max_length=2000, description="comma list "
                              "of route ids never to ride")] = None,
    exclude_stops: Annotated[str | None, Query(max_length=2000, description="comma list of "
                             "stop or station ids: never board, alight or change there")
                             ] = None,
    exclude_passing: Annotated[bool, Query(description="with exclude_stops: use no trip "
                               "that calls there at all (a closed station)")] = False,
    via: Annotated[str | None, Query(min_length=1, max_length=80, description="stop or "
                                     "station id the journey goes through")] = None,
    via_min_stay: Annotated[int, Query(ge=0, le=600, description="minutes at the via "
                                       "place (at least the change time between vehicles)")
                            ] = 0,
    from_trip: Annotated[str | None, Query(min_length=1, max_length=200, description="trip "
                                           "id the rider is aboard at depart_at")] = None,
    from_date: Annotated[date | None, Query(description="service date of from_trip (when "
                                            "it runs at depart_at on several)")] = None,
    rider_category: Annotated[str | None, Query(
        min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$",
        description="the fares' rider category id (bare, or OPERATOR:id) the total is for; "
        "default the commuter's profile, else each operator's default rider")] = None,
) -> Response:
    if depart_at is not None and arrive_by is not None:
        raise invalid("arrive_by", "give depart_at or arrive_by, not both")
    if window and arrive_by is not None:
        raise invalid("window", "a window goes with depart_at")
    if (from_ is None) == (from_trip is None):
        raise invalid("from", "give from (a place) or from_trip (aboard a trip), one of them")
    if from_trip is not None and (arrive_by is not None or window or via is not None):
        raise invalid("from_trip", "from_trip goes with depart_at, without window or via")
    if from_date is not None and from_trip is None:
        raise invalid("from_date", "from_date goes with from_trip")
    if via is not None and window:
        raise invalid("via", "via goes with depart_at or arrive_by, without a window")
    given = {"max_walk_m": max_walk_m, "walk_speed": walk_speed,
             "min_transfer_s": min_transfer_s, "wheelchair": wheelchair}
    values, applied = apply.journey_values(user, given)
    max_walk_m, walk_speed = float(values["max_walk_m"]), float(values["walk_speed"])
    min_transfer_s, wheelchair = int(values["min_transfer_s"]), bool(values["wheelchair"])
    langs = apply.languages(request, user, langs, applied)
    rider = apply.rider_category(tt, user, rider_category, applied)
    avoid = apply.avoided(tt, user, exclude_modes, exclude_operators, applied)
    detour = float(tt.meta["footpaths"]["detour"])
    origin = places.resolve(tt, "from", from_, max_walk_m, walk_speed, detour) \
        if from_ is not None else places.Place("from", [], label=from_trip or "")
    destination = places.resolve(tt, "to", to, max_walk_m, walk_speed, detour)
    via_place = places.resolve(tt, "via", via, 0, walk_speed, detour) if via else None
    if via_place is not None and via_place.is_coordinate:
        raise invalid("via", "via is a stop or station id, not a coordinate")
    ref = (destination if arrive_by or from_ is None else origin).stops
    tz = tt.timezones[int(tt.stop_tz[ref[0][0]])] if ref else "UTC"
    when = service.resolve_time(tt, arrive_by if arrive_by else depart_at,
                                "arrive_by" if arrive_by else "depart_at", now, tz)
    # searched (and echoed) in whole seconds, in the zone of the place the time is at
    when = when.astimezone(ZoneInfo(tz)).replace(microsecond=0)
    opt = service.Options(
        max_transfers=max_transfers, max_walk_m=max_walk_m, walk_speed=walk_speed,
        detour=detour, min_transfer_s=min_transfer_s, wheelchair=wheelchair,
        modes=parse_modes("modes", modes),
        exclude_modes=avoid.modes,
        operators=parse_operators(tt, "operators", operators),
        exclude_operators=avoid.operators, window_min=window,
        wheelchair_unknown=wheelchair_unknown,
        exclude_routes=service.parse_routes(tt, "exclude_routes", exclude_routes),
        exclude_stops=service.parse_stops(tt, "exclude_stops", exclude_stops),
        exclude_passing=exclude_passing,
        via_stops=tuple(s for s, _, _ in via_place.stops) if via_place else (),
        via_min_stay_s=via_min_stay * 60, rider_category=rider)
    aboard = onboard.locate(tt, from_trip, from_date, int(when.timestamp()), live) \
        if from_trip is not None else None
    result = service.plan(tt, origin, destination, when, arrive_by is not None, opt, langs,
                          live, aboard)
    prefer = apply.preferred(tt, user, modes, operators, applied)
    result.journeys = ranking.rank(result.journeys, prefer, arrive_by is not None)
    result.applied_profile = applied
    journey_ids.attach(result, journey_key(request))
    return cached_json(request, result, 15 if depart_at is None and arrive_by is None else 60,
                       private=applied is not None)
