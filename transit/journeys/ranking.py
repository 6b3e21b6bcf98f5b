"""Journeys ranked for a rider with preferred modes and operators."""

from __future__ import annotations

from typing import Any

from transit.api.common import unix_of
from transit.profiles.apply import Preferred

Journey = dict[str, Any]  # a schemas.Journey's dict

# What a ride on neither a preferred mode nor a preferred operator costs when journeys are
# ranked: as if it arrived this much later (OpenTripPlanner's "other than preferred routes"
# penalty has the same default).
PREFERENCE_PENALTY_S = 300


def rank(journeys: list[Journey], prefer: Preferred, arrive_by: bool) -> list[Journey]:
    """Journeys best first for a rider with preferences: by arrival (arrive_by: by latest
    departure), each ride on neither a preferred mode nor a preferred operator counting
    PREFERENCE_PENALTY_S; ties keep the engine's order (journeys as Journey dicts). Without
    preferences: unchanged."""
    if not prefer.modes and not prefer.operators:
        return journeys

    def key(j: Journey) -> int:
        others = sum(1 for leg in j["legs"] if leg["mode"] != "walk"
                     and leg["mode"] not in prefer.modes
                     and leg["operator"] not in prefer.operators)
        t = -unix_of(j["departure"]) if arrive_by else unix_of(j["arrival"])
        return t + PREFERENCE_PENALTY_S * others

    return sorted(journeys, key=key)

