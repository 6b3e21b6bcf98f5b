"""Merge operators' parts into one timetable and build the cross-operator indexes.

The merge only concatenates arrays (shifting indexes by each part's offset) and re-bases
service days and time zones onto shared tables; then it builds what spans operators: the
station registry, footpaths, the stop -> events index, the grid and the name index.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from transit.ingest.stations import build_registry
from transit.routing import network_indexes
from transit.timetable.calendar import pack_days, reference_utc, unpack_days
from transit.timetable.events import build_events
from transit.timetable.footpaths import FootpathRules, build_footpaths
from transit.timetable.geo import build_grid
from transit.timetable.routing_indexes import build_routing_indexes
from transit.timetable.search_index import build_name_index
from transit.timetable.stations import RULES, StationRules
from transit.timetable.storage import Column, Part
from transit.timetable.strings import StringColumn
from transit.timetable.timetable import FORMAT, Timetable

# Which table each column belongs to (by prefix) and which table its values index into.
TABLES = ("agency", "route", "stop", "service", "trip", "pattern_stop", "pattern", "st",
          "transfer", "shape", "shape_pt", "override")
REFERENCES = {
    "route_agency": "agency", "stop_parent": "stop", "pattern_stops": "stop",
    "trip_route": "route", "trip_service": "service", "trip_pattern": "pattern",
    "trip_st_start": "st", "transfer_from": "stop", "transfer_to": "stop",
    "transfer_from_route": "route", "transfer_to_route": "route",
    "transfer_from_trip": "trip", "transfer_to_trip": "trip",
    "trip_shape": "shape", "override_st": "st", "override_service": "service",
    "override_stop": "stop",
}
CSR_OFFSETS = {"pattern_stop_offsets": "pattern_stop", "pattern_trip_offsets": "trip",
               "shape_pt_offsets": "shape_pt"}
TZ_COLUMNS = ("agency_tz", "stop_tz", "trip_tz")


def _sizes(cols: dict[str, Column]) -> dict[str, int]:
    return {
        "agency": len(cols["agency_id"]), "route": len(cols["route_id"]),
        "stop": len(cols["stop_id"]), "service": len(cols["service_id"]),
        "trip": len(cols["trip_id"]), "pattern": len(cols["pattern_stop_offsets"]) - 1,
        "pattern_stop": len(cols["pattern_stops"]), "st": len(cols["st_arr"]),
        "transfer": len(cols["transfer_from"]), "shape": len(cols["shape_id"]),
        "shape_pt": len(cols["shape_pt_lat"]), "override": len(cols["override_st"]),
    }


def _table_of(name: str) -> str:
    """The table a column's rows belong to, from its name (translations: `column@lang`)."""
    base = name.split("@")[0]
    if base in ("pattern_stop_offsets", "pattern_trip_offsets"):
        return "pattern"
    if base == "shape_pt_offsets":
        return "shape"
    for t in ("pattern", "shape_pt", "shape", "service", "agency", "route", "stop", "trip",
              "st", "transfer", "override"):
        if base.startswith(t + "_"):
            return "pattern_stop" if t == "pattern" else t
    raise KeyError(name)


@dataclass(frozen=True)
class _Shared:
    """The tables every part is re-based onto: time zones, days and languages."""

    timezones: list[str]
    first_day: int
    n_days: int
    languages: list[str]

    @classmethod
    def of(cls, parts: list[Part]) -> _Shared:
        first_day = min(p.meta["first_day"] for p in parts)
        last_day = max(p.meta["first_day"] + p.meta["n_days"] - 1 for p in parts)
        return cls(sorted({z for p in parts for z in p.meta["timezones"]}), first_day,
                   last_day - first_day + 1,
                   sorted({lang for p in parts for lang in p.meta["languages"]}))


def _rebased(n: str, col: Column, offsets: dict[str, int], tz_map: np.ndarray,
             op_index: int) -> Column:
    """One part's column with its indexes shifted past the parts before it."""
    if n in REFERENCES:
        arr = np.asarray(col).astype(np.int64)
        shifted = np.where(arr >= 0, arr + offsets[REFERENCES[n]], arr)
        return shifted.astype(np.asarray(col).dtype if REFERENCES[n] != "st" else np.int64)
    if n in CSR_OFFSETS:
        arr = np.asarray(col)
        if op_index:
            arr = arr[1:]
        return arr + offsets[CSR_OFFSETS[n]]
    if n in TZ_COLUMNS:
        return tz_map[np.asarray(col)]
    return col


def _placed_days(p: Part, shared: _Shared) -> np.ndarray:
    """A part's service days as booleans on the shared day range."""
    shift = p.meta["first_day"] - shared.first_day
    active = unpack_days(np.asarray(p.columns["service_days"]), p.meta["n_days"])
    placed = np.zeros((active.shape[0], shared.n_days), dtype=bool)
    placed[:, shift:shift + active.shape[1]] = active
    return placed


def _concatenate(parts: list[Part], shared: _Shared) -> dict[str, Column]:
    """The parts' columns end to end, re-based, with `*_operator` columns and the shared
    service days and time zone references."""
    tz_index = {z: i for i, z in enumerate(shared.timezones)}
    # fare_* columns are merged by transit.ingest.compile_fares.merge_fares (the ingest calls it)
    names = sorted({n for p in parts for n in p.columns
                    if n != "service_days" and not n.startswith("fare_")})
    offsets = dict.fromkeys(TABLES, 0)
    pieces: dict[str, list[Column]] = {n: [] for n in names}
    days: list[np.ndarray] = []
    operator_of: dict[str, list[np.ndarray]] = {"agency": [], "route": [], "stop": [],
                                                "trip": []}
    for op_index, p in enumerate(parts):
        sizes = _sizes(p.columns)
        tz_map = np.array([tz_index[z] for z in p.meta["timezones"]], dtype=np.int16)
        for n in names:
            col = p.columns.get(n)
            if col is None:  # a translation this operator does not have
                pieces[n].append(StringColumn.from_list([""] * sizes[_table_of(n)]))
            else:
                pieces[n].append(_rebased(n, col, offsets, tz_map, op_index))
        days.append(_placed_days(p, shared))
        for t in operator_of:
            operator_of[t].append(np.full(sizes[t], op_index, dtype=np.int16))
        for t in TABLES:
            offsets[t] += sizes[t]
    cols: dict[str, Column] = {}
    for n, chunks in pieces.items():
        if isinstance(chunks[0], StringColumn):
            cols[n] = StringColumn.concat(chunks)  # type: ignore[arg-type]
        else:
            cols[n] = np.concatenate([np.asarray(c) for c in chunks])
    cols["service_days"] = pack_days(np.concatenate(days)) if days else np.zeros((0, 1), np.uint8)
    for t, chunks in operator_of.items():
        cols[f"{t}_operator"] = np.concatenate(chunks)
    cols["tz_reference_utc"] = reference_utc(shared.timezones, shared.first_day, shared.n_days)
    return cols


def _stations(cols: dict[str, Column], rules: StationRules) -> int:
    """The station registry (stops of all operators grouped); returns the station count."""
    reg = build_registry(cols["stop_name"].to_list(),  # type: ignore[union-attr]
                         np.asarray(cols["stop_lat"]), np.asarray(cols["stop_lon"]),
                         np.asarray(cols["stop_location_type"]),
                         np.asarray(cols["stop_parent"]), np.asarray(cols["stop_operator"]),
                         rules)
    cols["stop_station"] = reg.stop_station
    cols["station_anchor"] = reg.anchor
    cols["station_member_offsets"] = reg.member_offsets
    cols["station_members"] = reg.members
    cols["station_member_rule"] = reg.member_rule
    return len(reg.anchor)


def _footpaths(cols: dict[str, Column], rules: FootpathRules) -> None:
    """Footpaths from the operators' stop-to-stop transfer rules and the walking rules
    (a rule for some routes or trips is no footpath for all of them)."""
    general = np.ones(len(cols["transfer_from"]), np.bool_)
    for name in ("transfer_from_route", "transfer_to_route", "transfer_from_trip",
                 "transfer_to_trip"):
        general &= np.asarray(cols[name]) < 0
    fp = build_footpaths(np.asarray(cols["stop_lat"]), np.asarray(cols["stop_lon"]),
                         np.asarray(cols["stop_location_type"]),
                         np.asarray(cols["stop_parent"]),
                         np.asarray(cols["transfer_from"])[general],
                         np.asarray(cols["transfer_to"])[general],
                         np.asarray(cols["transfer_type"])[general],
                         np.asarray(cols["transfer_min_s"])[general], rules)
    cols["fp_offsets"], cols["fp_to"], cols["fp_duration_s"] = fp.offsets, fp.to, fp.duration_s
    cols["fp_distance_m"], cols["fp_kind"], cols["stop_change_s"] = fp.distance_m, fp.kind, \
        fp.change_s
    cols["fp_preferred"], cols["stop_transfer_preferred"] = fp.preferred, fp.stop_preferred


def _search_indexes(cols: dict[str, Column], languages: list[str]) -> None:
    """The stop -> events index, the routing indexes, the grid and the name index."""
    stop_names = cols["stop_name"].to_list()  # type: ignore[union-attr]
    cols.update(build_events(
        len(stop_names), np.asarray(cols["pattern_stop_offsets"]),
        np.asarray(cols["pattern_stops"]), np.asarray(cols["pattern_pickup"]),
        np.asarray(cols["trip_pattern"]), np.asarray(cols["trip_st_start"]),
        np.asarray(cols["trip_tz"]), np.asarray(cols["st_dep"])))
    cols.update(build_routing_indexes(cols))
    lat = np.asarray(cols["stop_lat"])
    keys, grid_offsets, grid_stops = build_grid(lat, np.asarray(cols["stop_lon"]),
                                                np.arange(len(lat)))
    cols["grid_keys"], cols["grid_offsets"], cols["grid_stops"] = keys, grid_offsets, grid_stops
    places = np.flatnonzero(np.asarray(cols["stop_parent"]) < 0)
    translated = [cols[f"stop_name@{lang}"] for lang in languages if f"stop_name@{lang}" in cols]
    translated_lists = [c.to_list() for c in translated]  # type: ignore[union-attr]
    names_by_place = [[stop_names[i], *[t[i] for t in translated_lists if t[i]]] for i in places]
    cols.update(build_name_index(names_by_place, places))


def _narrow_sequences(seq: np.ndarray) -> np.ndarray:
    """stop_sequence as int16 where every value fits (most feeds number stops 1, 2, ...:
    2 bytes a stop time instead of 4), else as compiled (int32)."""
    if not len(seq) or (seq.min() >= 0 and seq.max() <= np.iinfo(np.int16).max):
        return seq.astype(np.int16)
    return seq


def merge_parts(
    parts: list[Part], station_rules: StationRules, footpath_rules: FootpathRules,
    operators: list[dict[str, Any]],
) -> tuple[dict[str, Column], dict[str, Any]]:
    """One version's columns and meta from the operators' parts (in that order)."""
    if not parts:
        raise ValueError("no operator feeds to merge")
    shared = _Shared.of(parts)
    cols = _concatenate(parts, shared)
    n_stations = _stations(cols, station_rules)
    _footpaths(cols, footpath_rules)
    _search_indexes(cols, shared.languages)
    cols["st_seq"] = _narrow_sequences(np.asarray(cols["st_seq"]))
    st_dep = np.asarray(cols["st_dep"])
    max_time = int(max(st_dep.max(initial=0), np.asarray(cols["st_arr"]).max(initial=0)))
    meta = {
        "format": FORMAT,
        "first_day": shared.first_day,
        "n_days": shared.n_days,
        "timezones": shared.timezones,
        "languages": shared.languages,
        "max_time_s": max_time,
        "station_rules": RULES,
        "footpaths": asdict(footpath_rules),
        "stations": asdict(station_rules),
        "operators": operators,
        "counts": {
            "operators": len(parts), "stops": len(cols["stop_id"]),
            "stations": n_stations, "routes": len(cols["route_id"]),
            "trips": len(cols["trip_id"]), "patterns": len(cols["pattern_stop_offsets"]) - 1,
            "stop_times": len(st_dep), "footpaths": len(cols["fp_to"]),
            "events": len(cols["ev_trip"]),
        },
    }
    # the journey search's indexes, derived once here rather than in every worker
    cols.update(network_indexes.columns_of(Timetable(cols, meta)))
    return cols, meta
