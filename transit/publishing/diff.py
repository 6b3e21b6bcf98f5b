"""What a new feed version changes against the published one, in terms an operator checks.

Compares two compiled parts of one operator (IDs are namespaced, as the API shows them):
routes, stops, trips and services added, removed or changed; the days with service added or
removed; the first and last service date; stops moved by more than `MOVED_M` metres.
Lists are capped at `LISTED` entries each; the counts are always complete.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from transit.timetable.calendar import from_day_number, unpack_days
from transit.timetable.geo import haversine_m
from transit.timetable.storage import Part

MOVED_M = 100.0
LISTED = 1000
_SAME_PLACE_M = 1.0


def _strings(part: Part, name: str) -> list[str]:
    return part.columns[name].to_list()  # type: ignore[union-attr]


def _changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """added / removed / changed keys between two {id: signature} maps."""
    added = sorted(new.keys() - old.keys())
    removed = sorted(old.keys() - new.keys())
    changed = sorted(k for k in new.keys() & old.keys() if new[k] != old[k])
    return {
        "counts": {"added": len(added), "removed": len(removed), "changed": len(changed),
                   "unchanged": len(new.keys() & old.keys()) - len(changed)},
        "added": added[:LISTED], "removed": removed[:LISTED], "changed": changed[:LISTED],
    }


def _routes(part: Part) -> dict[str, tuple[str, ...]]:
    cols = [_strings(part, c) for c in ("route_id", "route_short_name", "route_long_name",
                                         "route_color", "route_text_color")]
    types = np.asarray(part.columns["route_type"]).tolist()
    return {row[0]: (*row[1:], str(t)) for *row, t in zip(*cols, types, strict=True)}


def _stops(part: Part) -> dict[str, tuple[str, float, float, int]]:
    ids, names = _strings(part, "stop_id"), _strings(part, "stop_name")
    lat = np.asarray(part.columns["stop_lat"]).tolist()
    lon = np.asarray(part.columns["stop_lon"]).tolist()
    loc = np.asarray(part.columns["stop_location_type"]).tolist()
    return {i: (n, a, o, t) for i, n, a, o, t in zip(ids, names, lat, lon, loc, strict=True)}


def _service_days(part: Part) -> dict[str, frozenset[int]]:
    active = unpack_days(np.asarray(part.columns["service_days"]), part.meta["n_days"])
    first = part.meta["first_day"]
    return {sid: frozenset((np.flatnonzero(row) + first).tolist())
            for sid, row in zip(_strings(part, "service_id"), active, strict=True)}


def _trips(part: Part) -> dict[str, bytes]:
    """A digest per trip of what a rider sees: route, service, headsign, stops and times."""
    c = part.columns
    stop_ids = _strings(part, "stop_id")
    pso = np.asarray(c["pattern_stop_offsets"])
    pstops = np.asarray(c["pattern_stops"])
    pattern_key = [("\x1f".join(stop_ids[s] for s in pstops[pso[p]:pso[p + 1]])).encode()
                   for p in range(len(pso) - 1)]
    routes, services = _strings(part, "route_id"), _strings(part, "service_id")
    trip_route, trip_service = np.asarray(c["trip_route"]), np.asarray(c["trip_service"])
    trip_pattern, start = np.asarray(c["trip_pattern"]), np.asarray(c["trip_st_start"])
    arr, dep = np.asarray(c["st_arr"]), np.asarray(c["st_dep"])
    out: dict[str, bytes] = {}
    for t, (tid, head) in enumerate(zip(_strings(part, "trip_id"), _strings(part,
                                                                            "trip_headsign"),
                                        strict=True)):
        p = int(trip_pattern[t])
        lo = int(start[t])
        hi = lo + int(pso[p + 1] - pso[p])
        h = hashlib.blake2b(digest_size=16)
        h.update(f"{routes[trip_route[t]]}\x1e{services[trip_service[t]]}\x1e{head}\x1e".encode())
        h.update(pattern_key[p])
        h.update(arr[lo:hi].tobytes())
        h.update(dep[lo:hi].tobytes())
        out[tid] = h.digest()
    return out


def _days_with_service(part: Part) -> set[int]:
    active = unpack_days(np.asarray(part.columns["service_days"]), part.meta["n_days"])
    used = np.unique(np.asarray(part.columns["trip_service"]))
    days = np.flatnonzero(active[used].any(axis=0)) if len(used) else np.zeros(0, np.int64)
    return set((days + part.meta["first_day"]).tolist())


def _iso(days: list[int]) -> list[str]:
    return [from_day_number(d).isoformat() for d in days]


def service_span(part: Part) -> tuple[str | None, str | None]:
    """First and last date on which the part has a trip."""
    days = sorted(_days_with_service(part))
    return (_iso(days[:1])[0], _iso(days[-1:])[0]) if days else (None, None)


def _moved(old: dict[str, tuple], new: dict[str, tuple]) -> list[dict[str, Any]]:
    common = sorted(old.keys() & new.keys())
    if not common:
        return []
    a = np.array([old[k][1:3] for k in common], dtype=np.float64)
    b = np.array([new[k][1:3] for k in common], dtype=np.float64)
    dist = haversine_m(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    far = np.flatnonzero(np.nan_to_num(dist, nan=0.0) > MOVED_M)
    far = far[np.argsort(-dist[far], kind="stable")]
    return [{"stop_id": common[i], "distance_m": round(float(dist[i]), 1)} for i in far]


def _same_stop(a: tuple, b: tuple) -> bool:
    if a[0] != b[0] or a[3] != b[3]:
        return False
    if any(np.isnan(v) for v in (*a[1:3], *b[1:3])):
        return all(np.isnan(v) for v in (*a[1:3], *b[1:3]))
    return float(haversine_m(a[1], a[2], b[1], b[2])) <= _SAME_PLACE_M


def diff_parts(old: Part | None, new: Part) -> dict[str, Any]:
    """The changes `new` brings over `old` (everything is added when nothing is published)."""
    empty: dict[str, Any] = {}
    o_routes, n_routes = (_routes(old) if old else empty), _routes(new)
    o_stops, n_stops = (_stops(old) if old else empty), _stops(new)
    o_trips, n_trips = (_trips(old) if old else empty), _trips(new)
    o_serv, n_serv = (_service_days(old) if old else empty), _service_days(new)
    o_days, n_days = (_days_with_service(old) if old else set()), _days_with_service(new)
    stops = _changes({k: k for k in o_stops}, {k: k for k in n_stops})
    changed = sorted(k for k in o_stops.keys() & n_stops.keys()
                     if not _same_stop(o_stops[k], n_stops[k]))
    stops["counts"]["changed"] = len(changed)
    stops["counts"]["unchanged"] = len(o_stops.keys() & n_stops.keys()) - len(changed)
    stops["changed"] = changed[:LISTED]
    moved = _moved(o_stops, n_stops)
    stops["counts"]["moved"] = len(moved)
    stops["moved"] = moved[:LISTED]
    added_days, removed_days = sorted(n_days - o_days), sorted(o_days - n_days)
    first_old, last_old = service_span(old) if old else (None, None)
    first_new, last_new = service_span(new)
    return {
        "routes": _changes(o_routes, n_routes),
        "stops": stops,
        "trips": _changes(o_trips, n_trips),
        "services": _changes(o_serv, n_serv),
        "service_days": {
            "counts": {"added": len(added_days), "removed": len(removed_days)},
            "added": _iso(added_days[:LISTED]), "removed": _iso(removed_days[:LISTED]),
        },
        "first_service_date": {"published": first_old, "new": first_new},
        "last_service_date": {"published": last_old, "new": last_new},
    }
