"""The fare zones a journey travels through, for its ticket (an inspector checks the zone
the vehicle is in against them).

Per leg, from its operator's fares data: Fares v2, the areas (`areas.txt` via
`stop_areas.txt`) of every stop the leg passes, boarding and alighting included; Fares v1,
the `zone_id` of those stops. A stop in no area or zone, and a leg of an operator without
fares data, adds nothing (a ticket without zones is valid in every zone of its operators).
A stop not in the fares data stands for its station's, as in pricing. Zones are the merged,
namespaced ids (`N:A`), in the order the journey first reaches them; a stop in several
areas gives them sorted.
"""

from __future__ import annotations

from collections.abc import Sequence

from transit.fares.compiled import Fares, OperatorFares
from transit.fares.legs import passed_stops, station_of
from transit.fares.model import FareLeg


def _area_ids(fares: Fares) -> list[str]:
    key = ("fares", "area_ids")
    found = fares.tt.cache.get(key)
    if found is None:
        col = fares.tt.columns.get("fare_area_id")
        found = fares.tt.strings("fare_area_id").to_list() if col is not None else []
        fares.tt.cache[key] = found
    return found  # type: ignore[return-value]


def stop_zones(fares: Fares, of: OperatorFares, stop: str) -> list[str]:
    """The zones of one stop in its operator's fares data (its station's if it has none)."""
    for s in (stop, station_of(fares.tt, stop)):
        if s is None:
            continue
        if of.kind == "v2" and s in of.stop_areas:
            ids = _area_ids(fares)
            return sorted(ids[a] for a in of.stop_areas[s] if 0 <= a < len(ids))
        if of.kind == "v1" and of.zones.get(s):
            return [of.zones[s]]
    return []


def journey_zones(fares: Fares, legs: Sequence[FareLeg]) -> tuple[str, ...]:
    """Every zone the legs pass, in the order first reached, each once."""
    out: dict[str, None] = {}
    for leg in legs:
        of = fares.operators.get(leg.operator)
        if of is None or of.kind not in ("v1", "v2"):
            continue
        for stop in passed_stops(fares.tt, leg):
            out.update(dict.fromkeys(stop_zones(fares, of, stop)))
    return tuple(out)
