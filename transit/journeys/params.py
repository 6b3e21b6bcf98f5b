"""The query parameters of GET /v1/journeys, as four dependencies the router takes: where
and when, limits and walking, filters, and the rest (via, aboard a trip, fares).

They only read and constrain each parameter (FastAPI's validation, the OpenAPI document);
checks across parameters stay in the router. The module has no `from __future__ import
annotations`: FastAPI reads these classes' signatures, whose annotations must be objects.
"""

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, TypeVar

from fastapi import Depends, Query

from transit.api.common import DATE_TIME

PlaceParam = Annotated[str, Query(min_length=1, max_length=80,
                                  description="stop id, station id, or lat,lon")]


@dataclass
class PlaceAndTime:
    """Between which places, and when."""

    to: PlaceParam
    from_: Annotated[str | None, Query(alias="from", min_length=1, max_length=80,
                                       description="stop id, station id, or lat,lon (or "
                                       "from_trip)")] = None
    depart_at: Annotated[str | None, Query(
        max_length=40, json_schema_extra=DATE_TIME,
        description="ISO 8601; without an offset, local time at the origin; default now")
    ] = None
    arrive_by: Annotated[str | None, Query(
        max_length=40, json_schema_extra=DATE_TIME,
        description="ISO 8601; without an offset, local time at the destination")] = None
    window: Annotated[int, Query(ge=0, le=180, description="minutes: all options leaving "
                                 "in this window (with depart_at)")] = 0


@dataclass
class Limits:
    """How many changes, how much walking and how fast, and the slack at changes (None:
    the commuter's profile decides)."""

    max_transfers: Annotated[int, Query(ge=0, le=8)] = 5
    max_walk_m: Annotated[float | None, Query(ge=0, le=5000, description="walking to, from "
                          "and instead of transit; default the commuter's profile, else "
                          "1000")] = None
    walk_speed: Annotated[float | None, Query(gt=0.3, le=3.0, description="m/s; default the "
                                              "commuter's profile, else 1.2")] = None
    min_transfer_s: Annotated[int | None, Query(ge=0, le=1800, description="extra time at "
                              "every change; default the commuter's profile, else 0")
                              ] = None


@dataclass
class Filters:
    """What the journeys may use: accessibility, modes, operators, routes and stops."""

    wheelchair: Annotated[bool | None, Query(description="only trips and stops marked "
                          "accessible; default the commuter's profile, else false")] = None
    modes: Annotated[str | None, Query(max_length=200, description="comma list to use")] = None
    exclude_modes: Annotated[str | None, Query(max_length=200)] = None
    operators: Annotated[str | None, Query(max_length=400)] = None
    exclude_operators: Annotated[str | None, Query(max_length=400)] = None
    wheelchair_unknown: Annotated[bool, Query(description="with wheelchair: also stops and "
                                  "trips whose access the feed leaves unknown (flagged)")
                                  ] = False
    exclude_routes: Annotated[str | None, Query(max_length=2000, description="comma list "
                              "of route ids never to ride")] = None
    exclude_stops: Annotated[str | None, Query(max_length=2000, description="comma list of "
                             "stop or station ids: never board, alight or change there")
                             ] = None
    exclude_passing: Annotated[bool, Query(description="with exclude_stops: use no trip "
                               "that calls there at all (a closed station)")] = False


@dataclass
class ViaAboardFares:
    """A place to go through, the trip the rider is aboard, and whose fares."""

    via: Annotated[str | None, Query(min_length=1, max_length=80, description="stop or "
                                     "station id the journey goes through")] = None
    via_min_stay: Annotated[int, Query(ge=0, le=600, description="minutes at the via "
                                       "place (at least the change time between vehicles)")
                            ] = 0
    from_trip: Annotated[str | None, Query(min_length=1, max_length=200, description="trip "
                                           "id the rider is aboard at depart_at")] = None
    from_date: Annotated[date | None, Query(description="service date of from_trip (when "
                                            "it runs at depart_at on several)")] = None
    rider_category: Annotated[str | None, Query(
        min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$",
        description="the fares' rider category id (bare, or OPERATOR:id) the total is for; "
        "default the commuter's profile, else each operator's default rider")] = None


T = TypeVar("T")


def _on_the_loop(cls: type[T]) -> Callable[..., Awaitable[T]]:
    """A dependency building `cls` from the same parameters, on the event loop: FastAPI runs
    a class (a sync callable) in its threadpool, one thread hop per class per request."""

    async def build(**values: object) -> T:
        return cls(**values)

    build.__signature__ = inspect.signature(cls)  # type: ignore[attr-defined]
    build.__name__ = build.__qualname__ = cls.__name__
    build.__doc__ = cls.__doc__
    return build


PlaceAndTimeDep = Annotated[PlaceAndTime, Depends(_on_the_loop(PlaceAndTime))]
LimitsDep = Annotated[Limits, Depends(_on_the_loop(Limits))]
FiltersDep = Annotated[Filters, Depends(_on_the_loop(Filters))]
ViaAboardFaresDep = Annotated[ViaAboardFares, Depends(_on_the_loop(ViaAboardFares))]
