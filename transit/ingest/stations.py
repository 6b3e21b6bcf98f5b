"""The station registry: stops of one or several operators that are the same place.

Rules, applied in this order, each recorded per member so a station says why it holds a stop:
1. `parent_station`: the feed's own grouping of platforms under a station.
2. `same_name`: places of different operators with the same normalized name within
   `same_name_m` (gtfs-kit's `find_stop_matches`).
3. `distance`: places of different operators within `near_m`, whatever their names.
4. `similar_name`: places of different operators within `far_m` whose names share at least
   `min_name_share` of the shorter name's words ("Millbrae" and "Millbrae Caltrain").
A group never grows wider than `max_radius_m` from its anchor, so chains of bus stops along a
street shared by two operators do not fuse into one long "station".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from transit.timetable.geo import haversine_m, pairs_within
from transit.timetable.names import containment
from transit.timetable.stations import RULE_CODE, StationRules


@dataclass
class Registry:
    stop_station: np.ndarray  # int32 per stop
    anchor: np.ndarray  # int32 per station: the stop whose id and name the station takes
    member_offsets: np.ndarray  # int64 CSR over stations
    members: np.ndarray  # int32 stop indexes
    member_rule: np.ndarray  # int8 index into RULES


class _UnionFind:
    def __init__(self, n: int, lat: np.ndarray, lon: np.ndarray, radius: float) -> None:
        self.parent = np.arange(n)
        self.lat, self.lon, self.radius = lat, lon, radius

    def find(self, a: int) -> int:
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return int(a)

    def union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        if haversine_m(self.lat[ra], self.lon[ra], self.lat[rb], self.lon[rb]) > self.radius:
            return False
        self.parent[max(ra, rb)] = min(ra, rb)  # the earlier place (catalog order) anchors
        return True


class _Joiner:
    """Places joined into stations across operators: a union-find bounded by the radius,
    and the rule that joined each place (the anchor keeps `anchor`)."""

    def __init__(self, places: np.ndarray, plat: np.ndarray, plon: np.ndarray,
                 operator: np.ndarray, radius: float) -> None:
        self.places, self.operator = places, operator
        self.uf = _UnionFind(len(places), plat, plon, radius)
        self.rule_of = np.full(len(places), RULE_CODE["anchor"], dtype=np.int8)

    def join(self, a: int, b: int, rule: str) -> None:
        """Places a and b (positions in `places`) into one station by `rule`, unless they
        are of one operator (its own grouping is parent_station's business) or the group
        would grow too wide."""
        if self.operator[self.places[a]] == self.operator[self.places[b]]:
            return
        ra, rb = self.uf.find(a), self.uf.find(b)
        if self.uf.union(a, b):
            # the place that joined (not the anchor) records the rule
            self.rule_of[max(ra, rb)] = RULE_CODE[rule]


def _ranked_places(location_type: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """The top-level stops (no parent) in the order they may anchor a station: stations
    (location_type 1) before plain stops, then catalog order; the earlier place anchors."""
    top = np.flatnonzero(parent < 0)
    return top[np.lexsort((top, location_type[top] != 1))]


def _join_same_names(j: _Joiner, names: list[str], plat: np.ndarray, plon: np.ndarray,
                     located: np.ndarray, rules: StationRules) -> None:
    """Rule 2 (same_name) through gtfs-kit's `find_stop_matches`, first, so a same-named
    place wins over a merely near one."""
    # ingest-time libraries (gtfs-kit pulls in pandas, geopandas, shapely, pyproj):
    # imported here so that serving, which reads RULES, never loads them
    import pandas as pd
    from gtfs_kit.combiner import find_stop_matches

    places = j.places
    frame = pd.DataFrame(
        {
            "stop_id": [str(i) for i in located],
            "stop_name": [names[places[i]] for i in located],
            "stop_lat": plat[located],
            "stop_lon": plon[located],
        }
    )
    matches = find_stop_matches(frame, frame, largest_stop_distance=rules.same_name_m)
    for s, c in zip(
        matches["source_id"].astype(int), matches["canonical_id"].astype(int), strict=True
    ):
        if s != c:
            j.join(min(s, c), max(s, c), "same_name")


def _join_near(j: _Joiner, names: list[str], plat: np.ndarray, plon: np.ndarray,
               located: np.ndarray, rules: StationRules) -> None:
    """Rules 3 and 4 over the pairs within `far_m`, nearest first (so a group is anchored
    by its closest places before its radius fills): `distance` within `near_m`, else
    `similar_name` when the names share enough words."""
    places = j.places
    a, b, d = pairs_within(plat, plon, located, rules.far_m)
    keep = a < b
    a, b, d = a[keep], b[keep], d[keep]
    for i in np.argsort(d, kind="stable"):
        x, y = int(a[i]), int(b[i])
        if d[i] <= rules.near_m:
            j.join(x, y, "distance")
        elif containment(names[places[x]], names[places[y]]) >= rules.min_name_share:
            j.join(x, y, "similar_name")


def _registry(n: int, j: _Joiner, parent: np.ndarray) -> Registry:
    """The stations of the joined places, numbered by anchor, with the platforms of each
    place following it (rule parent_station)."""
    places = j.places
    roots = np.array([j.uf.find(i) for i in range(len(places))], dtype=np.int64)
    station_roots, place_station = np.unique(roots, return_inverse=True)
    anchor = places[station_roots].astype(np.int32)
    stop_station = np.full(n, -1, dtype=np.int32)
    stop_station[places] = place_station
    stop_rule = np.full(n, RULE_CODE["parent_station"], dtype=np.int8)
    stop_rule[places] = j.rule_of
    child = np.flatnonzero(parent >= 0)
    # platforms follow their parent (parents of parents are not allowed by GTFS)
    top_of = parent[child]
    stop_station[child] = stop_station[top_of]
    unplaced = stop_station < 0
    if unplaced.any():  # a parent that is itself a child: treat as its own place
        stop_station[unplaced] = stop_station[parent[unplaced]]
    order = np.lexsort((np.arange(n), stop_station))
    counts = np.bincount(stop_station, minlength=len(anchor))
    return Registry(
        stop_station=stop_station,
        anchor=anchor,
        member_offsets=np.r_[0, np.cumsum(counts)].astype(np.int64),
        members=order.astype(np.int32),
        member_rule=stop_rule[order],
    )


def build_registry(
    names: list[str],
    lat: np.ndarray,
    lon: np.ndarray,
    location_type: np.ndarray,
    parent: np.ndarray,
    operator: np.ndarray,
    rules: StationRules,
) -> Registry:
    """The stations of the stops (the rules above, in their order), per stop arrays."""
    places = _ranked_places(location_type, parent)
    plat, plon = lat[places], lon[places]
    j = _Joiner(places, plat, plon, operator, rules.max_radius_m)
    located = np.flatnonzero(np.isfinite(plat) & np.isfinite(plon))
    if len(located) > 1:
        _join_same_names(j, names, plat, plon, located, rules)
        _join_near(j, names, plat, plon, located, rules)
    return _registry(len(names), j, parent)
