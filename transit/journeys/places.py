"""Places a journey starts or ends at: a stop, a station, or a coordinate."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from transit.api.problems import invalid, not_found
from transit.timetable.timetable import Timetable

_COORD = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")
MAX_ACCESS_STOPS = 300


@dataclass(frozen=True)
class Place:
    """Where a search starts or ends: stops with the walk to (or from) each."""

    param: str
    stops: list[tuple[int, int, float]]  # (stop, walk seconds, walk metres)
    lat: float | None = None
    lon: float | None = None
    label: str = ""

    @property
    def is_coordinate(self) -> bool:
        return not self.label


def _boardable(tt: Timetable, members: np.ndarray) -> list[int]:
    loc = np.asarray(tt.stop_location_type)
    out: list[int] = []
    for m in members:
        m = int(m)
        if loc[m] == 0:
            out.append(m)
        else:
            out.extend(_children(tt).get(m, ()))
    return sorted(set(out))


def _children(tt: Timetable) -> dict[int, list[int]]:
    """Stop -> the stops whose parent it is, in order: made once per version (not a scan
    of every stop's parent for each station a request names)."""
    key = ("stop_children",)
    hit = tt.cache.get(key)
    if hit is None:
        parent = np.asarray(tt.stop_parent)
        hit = {}
        for c in np.flatnonzero(parent >= 0).tolist():
            hit.setdefault(int(parent[c]), []).append(c)
        tt.cache[key] = hit
    return hit  # type: ignore[return-value]


def resolve(tt: Timetable, param: str, value: str, max_walk_m: float, speed: float,
            detour: float) -> Place:
    m = _COORD.match(value)
    if m:
        lat, lon = float(m.group(1)), float(m.group(2))
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise invalid(param, f"{value!r}: latitude must be in [-90, 90] and longitude in "
                          "[-180, 180]")
        cand, dist = tt.grid.within(lat, lon, max_walk_m / detour)
        keep = np.asarray(tt.stop_location_type)[cand] == 0
        cand, dist = cand[keep][:MAX_ACCESS_STOPS], dist[keep][:MAX_ACCESS_STOPS]
        stops = [(int(s), math.ceil(d * detour / speed), float(d * detour))
                 for s, d in zip(cand, dist, strict=True)]
        return Place(param, stops, lat, lon)
    s = tt.stop_index.get(value)
    if s is None:
        raise not_found("place", value) if "," not in value else invalid(
            param, f"{value!r} is neither a stop id nor a coordinate lat,lon")
    station = int(tt.stop_station[s])
    if int(tt.station_anchor[station]) == s:  # a station id: all its members
        members = tt.members_of_station(station)
    else:
        members = np.array([s])
    stops = [(m, 0, 0.0) for m in _boardable(tt, members)]
    lat, lon = float(tt.stop_lat[s]), float(tt.stop_lon[s])
    return Place(param, stops, None if math.isnan(lat) else lat, None if math.isnan(lon) else lon,
                 label=value)
