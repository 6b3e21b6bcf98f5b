"""Journey answers with their ids (transit.journeys.ids): the legs of the API's shape as a
JourneyRef, and the key the server signs them with."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from fastapi import Request

from transit.api.common import unix_of
from transit.journeys import ids
from transit.secrets import derived_key, server_secret


def journey_key(request: Request) -> bytes:
    """The key of journey ids, derived once per app from the server's secret."""
    key: bytes | None = getattr(request.app.state, "journey_key", None)
    if key is None:
        key = request.app.state.journey_key = derived_key(
            server_secret(request.app.state.settings), "journey-id")
    return key


@lru_cache(maxsize=1024)
def _date(text: str) -> date:
    return date.fromisoformat(text)


def ref_of(journey: dict[str, Any]) -> ids.JourneyRef:
    """The reference of a journey (a schemas.Journey's dict)."""
    legs = tuple(
        ids.LegRef(leg["trip_id"], _date(leg["service_date"] or "1970-01-01"),
                   leg["from"]["stop_id"] or "", leg["to"]["stop_id"] or "",
                   unix_of(leg["departure"]), unix_of(leg["arrival"]))
        for leg in journey["legs"] if leg["trip_id"] is not None)
    return ids.JourneyRef(legs, unix_of(journey["departure"]), unix_of(journey["arrival"]))


def attach(result: dict[str, Any], key: bytes) -> None:
    """Each journey of a JourneyList's dict gets its id."""
    for journey in result["journeys"]:
        journey["id"] = ids.encode(ref_of(journey), key)
