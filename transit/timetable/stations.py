"""How stations are formed: the rules and their names, read by serving (`RULES` labels why a
station holds a stop). Building the registry is ingest work: `transit.ingest.stations`."""

from __future__ import annotations

from dataclasses import dataclass

RULES = ("anchor", "parent_station", "same_name", "distance", "similar_name")
RULE_CODE = {r: i for i, r in enumerate(RULES)}


@dataclass(frozen=True)
class StationRules:
    same_name_m: float = 250.0
    near_m: float = 50.0
    far_m: float = 200.0
    min_name_share: float = 0.5
    max_radius_m: float = 300.0
