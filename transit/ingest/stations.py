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


def build_registry(
    names: list[str],
    lat: np.ndarray,
    lon: np.ndarray,
    location_type: np.ndarray,
    parent: np.ndarray,
    operator: np.ndarray,
    rules: StationRules,
) -> Registry:
    n = len(names)
    top = np.flatnonzero(parent < 0)
    # a place's rank: stations (location_type 1) anchor before plain stops, then catalog order
    rank = np.lexsort((top, location_type[top] != 1))
    places = top[rank]
    pos = np.full(n, -1, dtype=np.int64)
    pos[places] = np.arange(len(places))
    plat, plon = lat[places], lon[places]
    uf = _UnionFind(len(places), plat, plon, rules.max_radius_m)
    rule_of = np.full(len(places), RULE_CODE["anchor"], dtype=np.int8)

    def join(a: int, b: int, rule: str) -> None:
        if operator[places[a]] == operator[places[b]]:
            return
        ra, rb = uf.find(a), uf.find(b)
        if uf.union(a, b):
            loser = max(ra, rb)
            # the place that joined (not the anchor) records the rule
            rule_of[loser] = RULE_CODE[rule]

    located = np.flatnonzero(np.isfinite(plat) & np.isfinite(plon))
    if len(located) > 1:
        # ingest-time libraries (gtfs-kit pulls in pandas, geopandas, shapely, pyproj):
        # imported here so that serving, which reads RULES, never loads them
        import pandas as pd
        from gtfs_kit.combiner import find_stop_matches

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
                join(min(s, c), max(s, c), "same_name")
        a, b, d = pairs_within(plat, plon, located, rules.far_m)
        keep = a < b
        a, b, d = a[keep], b[keep], d[keep]
        order = np.argsort(d, kind="stable")
        for i in order:
            x, y = int(a[i]), int(b[i])
            if d[i] <= rules.near_m:
                join(x, y, "distance")
            elif containment(names[places[x]], names[places[y]]) >= rules.min_name_share:
                join(x, y, "similar_name")

    roots = np.array([uf.find(i) for i in range(len(places))], dtype=np.int64)
    station_roots, place_station = np.unique(roots, return_inverse=True)
    anchor = places[station_roots].astype(np.int32)
    stop_station = np.full(n, -1, dtype=np.int32)
    stop_station[places] = place_station
    stop_rule = np.full(n, RULE_CODE["parent_station"], dtype=np.int8)
    stop_rule[places] = rule_of
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
