"""Stops and stations over the compiled timetable."""

from __future__ import annotations

import math

import numpy as np

from transit.api.common import WHEELCHAIR, RouteRef, operator_id, route_ref
from transit.api.problems import not_found
from transit.stops.schemas import Station, StationMember, Stop
from transit.timetable.names import normalize, tokens
from transit.timetable.stations import RULES
from transit.timetable.timetable import Timetable

MAX_SEARCH_CANDIDATES = 5000


def _num(x: float) -> float | None:
    return None if math.isnan(x) else round(float(x), 7)


def stop_index(tt: Timetable, stop_id: str) -> int:
    i = tt.stop_index.get(stop_id)
    if i is None:
        raise not_found("stop", stop_id)
    return i


def routes_at(tt: Timetable, s: int, langs: list[str]) -> list[RouteRef]:
    refs = [route_ref(tt, int(r), langs) for r in tt.routes_at(s)]
    return sorted(refs, key=lambda r: (r.mode, r.short_name or r.long_name or "", r.id))


def stop(tt: Timetable, s: int, langs: list[str], distance_m: float | None = None,
         with_routes: bool = False) -> Stop:
    parent = int(tt.stop_parent[s])
    station = int(tt.stop_station[s])
    return Stop(
        id=tt.strings("stop_id")[s],
        name=tt.translated("stop_name", s, langs),
        code=tt.strings("stop_code")[s] or None,
        platform=tt.strings("stop_platform")[s] or None,
        lat=_num(tt.stop_lat[s]), lon=_num(tt.stop_lon[s]),
        location_type="station" if tt.stop_location_type[s] == 1 else "stop",
        parent_station=tt.strings("stop_id")[parent] if parent >= 0 else None,
        station_id=tt.strings("stop_id")[int(tt.station_anchor[station])],
        operator=operator_id(tt, int(tt.stop_operator[s])),
        timezone=tt.timezones[int(tt.stop_tz[s])],
        wheelchair_boarding=WHEELCHAIR.get(int(tt.stop_wheelchair[s]), "unknown"),  # type: ignore[arg-type]
        distance_m=None if distance_m is None else round(float(distance_m), 1),
        routes=routes_at(tt, s, langs) if with_routes else None,
    )


def station_of(tt: Timetable, ident: str) -> int:
    """A station by its id, or the station of any member stop id."""
    s = tt.stop_index.get(ident)
    if s is None:
        raise not_found("station", ident)
    return int(tt.stop_station[s])


def station(tt: Timetable, st: int, langs: list[str]) -> Station:
    anchor = int(tt.station_anchor[st])
    lo, hi = int(tt.station_member_offsets[st]), int(tt.station_member_offsets[st + 1])
    members = [StationMember(stop=stop(tt, int(m), langs), rule=RULES[int(r)])
               for m, r in zip(tt.station_members[lo:hi], tt.station_member_rule[lo:hi],
                               strict=True)]
    operators = []
    for m in members:
        if m.stop.operator not in operators:
            operators.append(m.stop.operator)
    return Station(id=tt.strings("stop_id")[anchor], name=tt.translated("stop_name", anchor, langs),
                   lat=_num(tt.stop_lat[anchor]), lon=_num(tt.stop_lon[anchor]),
                   operators=operators, members=members)


def nearby(tt: Timetable, lat: float, lon: float, radius_m: float, limit: int,
           langs: list[str]) -> list[Stop]:
    """Boardable stops (not station entries) within the radius, nearest first."""
    cand, dist = tt.grid.within(lat, lon, radius_m)
    keep = np.asarray(tt.stop_location_type)[cand] == 0
    cand, dist = cand[keep][:limit], dist[keep][:limit]
    return [stop(tt, int(s), langs, distance_m=float(d)) for s, d in zip(cand, dist, strict=True)]


def search(tt: Timetable, q: str, limit: int, langs: list[str],
           operator: str | None = None) -> list[Stop]:
    """Places (stations and stops without a parent) whose names, in any language, contain
    every word of `q` as a word prefix. Ranked: whole name equal, name starts with the query,
    all words whole, then word prefixes; shorter names first."""
    words = tokens(q)
    if not words:
        return []
    candidates: set[int] | None = None
    offs, posting = tt.name_word_offsets, tt.name_word_stops
    for w in sorted(words, key=len, reverse=True):
        found: set[int] = set()
        for k in tt.words_with_prefix(w):
            found.update(int(x) for x in posting[offs[k]:offs[k + 1]])
            if len(found) > MAX_SEARCH_CANDIDATES * 4:
                break
        candidates = found if candidates is None else candidates & found
        if not candidates:
            return []
    assert candidates is not None
    if operator is not None:
        op = tt.operator_index.get(operator)
        candidates = {c for c in candidates if op is not None and tt.stop_operator[c] == op}
    query = normalize(q)
    qwords = set(words)
    ranked = []
    for c in list(candidates)[:MAX_SEARCH_CANDIDATES]:
        best = (9, 0)
        for name in _names(tt, c):
            norm = normalize(name)
            nwords = set(norm.split())
            if norm == query:
                rank = 0
            elif norm.startswith(query):
                rank = 1
            elif qwords <= nwords:
                rank = 2
            else:
                rank = 3
            best = min(best, (rank, len(norm)))
        ranked.append((best[0], best[1], tt.strings("stop_name")[c], c))
    ranked.sort()
    return [stop(tt, c, langs) for *_, c in ranked[:limit]]


def _names(tt: Timetable, s: int) -> list[str]:
    names = [tt.strings("stop_name")[s]]
    for lang in tt.languages:
        col = tt.columns.get(f"stop_name@{lang}")
        if col is not None and col[s]:  # type: ignore[index]
            names.append(col[s])  # type: ignore[index]
    return names
