"""GTFS route_type (basic and extended) to the mode names of the public API."""

from __future__ import annotations

BASIC = {0: "tram", 1: "subway", 2: "rail", 3: "bus", 4: "ferry", 5: "cable_tram",
         6: "aerial_lift", 7: "funicular", 11: "trolleybus", 12: "monorail"}
# Extended route types (hundreds), as Google's and the European HVT lists group them.
EXTENDED = {1: "rail", 2: "coach", 4: "subway", 7: "bus", 8: "trolleybus", 9: "tram",
            10: "ferry", 11: "air", 12: "ferry", 13: "aerial_lift", 14: "funicular",
            15: "taxi", 17: "other"}
MODES = sorted(set(BASIC.values()) | set(EXTENDED.values()))


def mode_of(route_type: int) -> str:
    if route_type in BASIC:
        return BASIC[route_type]
    if route_type in (400, 401, 402, 403, 404):
        return "subway" if route_type != 403 else "rail"
    return EXTENDED.get(route_type // 100, "other")
