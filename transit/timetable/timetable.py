"""The compiled timetable of all operators, read top to bottom.

Indexes are plain integers into flat arrays (int32 unless noted). Strings are StringColumns.

Operators, agencies, routes
    meta["operators"]          list of {id, name, licence, ...} in catalog order
    agency_id/name/url         agency_tz (index into meta["timezones"]), agency_operator
    route_id/short_name/long_name/color/text_color, route_type (GTFS, extended allowed),
    route_agency, route_operator
Stops and stations
    stop_id/name/code/platform, stop_lat/lon (float64, NaN when the feed has none),
    stop_location_type (0 platform/stop, 1 station), stop_parent (-1 none), stop_wheelchair,
    stop_tz, stop_operator, stop_station, stop_change_s (minimum change time)
    station_anchor (the stop giving the station its id and name),
    station_member_offsets -> station_members (CSR), station_member_rule (stations.RULES)
    stop_name@LANG             translated names ("" when none)
Services
    service_id, service_days (uint8 bitset [service, day]; day 0 = meta["first_day"])
    tz_reference_utc (int64 [tz, day]): Unix time of noon - 12 h of each service day
Patterns and trips (trips of a pattern are contiguous and never overtake each other)
    pattern_stop_offsets -> pattern_stops, pattern_pickup, pattern_dropoff (per pattern-stop)
    pattern_trip_offsets: trips of pattern p are [offsets[p], offsets[p + 1])
    trip_id/headsign/short_name/block/shape, trip_route, trip_service, trip_direction,
    trip_wheelchair, trip_pattern, trip_tz, trip_st_start (int64, first row in st_*)
    st_arr, st_dep (seconds after the service day's reference), st_seq (stop_sequence;
    int16 when every value fits, else int32)
    override_st (int64, sorted), override_service, override_stop: stop_time_overrides.txt,
    the stop (platform) a call uses on the days of a service
Indexes
    ev_offsets -> ev_trip, ev_pos (int16), ev_dep, ev_tz (int8): boarding events per stop by
    (tz, time)
    fp_offsets -> fp_to, fp_duration_s, fp_distance_m, fp_kind: footpaths per stop;
    fp_preferred, stop_transfer_preferred (int8): transfers.txt recommended (1) or timed (2)
    transfer between two stops, or at one stop
    grid_keys, grid_offsets, grid_stops: stops per 0.01 degree cell
    name_words (sorted), name_word_offsets -> name_word_stops: word index of place names
Fares (transit/ingest/compile_fares.py; per operator, merged in operator order)
    fare_<table>_<field>, fare_<table>_op: Fares v1 and v2 tables compiled to arrays
Through trips (a trip joined with the next of its block; see timetable/through.py)
    thr_pattern_stop_offsets -> thr_pattern_stops, _pickup, _dropoff; thr_pattern_trip_offsets,
    thr_pattern_join (position of the joint), thr_pattern_base (the first trips' pattern),
    thr_trip_first, thr_trip_second, thr_trip_st_start -> thr_st_arr, thr_st_dep,
    thr_sp_offsets -> thr_sp_pattern, thr_sp_pos (stop -> through pattern positions),
    thr_pattern_next/prev_classes, thr_trip_next/prev_class: chain classes, forward and back
Journey search indexes (transit/routing/network_indexes.py; written by the ingest, mapped by
every worker; a version without them gets them computed in the process)
    rx_*: time columns by pattern position, boarding/alighting places per stop, lower-bound
    graph, compiled transfers.txt rules, previous trip in block, through trips' zone/service
"""

from __future__ import annotations

import bisect
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from transit.timetable.calendar import from_day_number
from transit.timetable.geo import Grid
from transit.timetable.storage import Column, load_columns
from transit.timetable.strings import StringColumn

FORMAT = 13  # bump when the arrays change (12: fare_* columns; 13: narrower dtypes)
# formats this release serves as they are: 12 differs only in wider integer dtypes (ev_tz,
# ev_pos, rx_lb_*, rx_prev_in_block), which the kernels read alike; older ones are refused
# (`FormatError`) and compiled again by `transit ingest`
READABLE_FORMATS = (12, 13)


class FormatError(Exception):
    """A compiled version written by another release of this code."""


class Timetable:
    def __init__(self, columns: dict[str, Column], meta: dict[str, Any], version: str = "") -> None:
        self.columns = columns
        self.meta = meta
        self.version = version
        self.first_day: int = meta["first_day"]
        self.n_days: int = meta["n_days"]
        self.timezones: list[str] = meta["timezones"]
        self.languages: list[str] = meta["languages"]
        self.max_days_back = int(meta["max_time_s"] // 86400) + 1
        # per-version memo for presentation layers (route and stop display, by language);
        # bounded by the number of routes and stops times the languages asked for
        self.cache: dict[tuple[object, ...], object] = {}
        self._known_languages: dict[tuple[str, ...], tuple[str, ...]] = {}
        # the columns as the instance's attributes too: `tt.stop_tz` is then found by the
        # ordinary lookup (tens of ns) instead of after it fails (__getattr__, about 0.9 µs:
        # more than reading the value); the class's names and the ones above come first, as
        # before (the columns are not changed once the timetable is made)
        own = set(dir(type(self))) | self.__dict__.keys()
        self.__dict__.update((k, v) for k, v in columns.items() if k not in own)

    @classmethod
    def load(cls, directory: Path) -> Timetable:
        columns, meta = load_columns(directory)
        if meta.get("format") not in READABLE_FORMATS:
            readable = " or ".join(str(f) for f in READABLE_FORMATS)
            raise FormatError(f"timetable {directory.name} has format {meta.get('format')}, "
                              f"this release reads format {readable}: run `transit ingest`")
        return cls(columns, meta, version=directory.name)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["columns"][name]
        except KeyError:
            raise AttributeError(name) from None

    def strings(self, name: str) -> StringColumn:
        col = self.columns[name]
        assert isinstance(col, StringColumn)
        return col

    # -- lookups by id (built once per process)
    @cached_property
    def stop_index(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.strings("stop_id").to_list())}

    @cached_property
    def trip_index(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.strings("trip_id").to_list())}

    @cached_property
    def operator_index(self) -> dict[str, int]:
        return {o["id"]: i for i, o in enumerate(self.meta["operators"])}

    @cached_property
    def grid(self) -> Grid:
        return Grid(self.grid_keys, self.grid_offsets, self.grid_stops, self.stop_lat,
                    self.stop_lon)

    @cached_property
    def name_words(self) -> list[str]:
        return self.strings("name_words").to_list()

    # -- small helpers
    def service_date(self, day: int) -> date:
        return from_day_number(self.first_day + day)

    def day_of(self, d: date) -> int:
        return (d - from_day_number(self.first_day)).days

    def runs_on(self, trip: int, day: int) -> bool:
        if day < 0 or day >= self.n_days:
            return False
        s = int(self.trip_service[trip])
        return bool((self.service_days[s, day >> 3] >> (day & 7)) & 1)

    def call_stop(self, trip: int, pos: int, day: int) -> int:
        """The stop a trip's call at position pos uses on service day `day`: the platform
        stop_time_overrides.txt gives for a service running that day, else the timetable's."""
        lo, _ = self.pattern_range(trip)
        s = int(self.pattern_stops[lo + pos])
        ov = self.columns.get("override_st")
        if ov is None or not len(ov):
            return s
        row = int(self.trip_st_start[trip]) + pos
        a = int(np.searchsorted(ov, row, "left"))
        b = int(np.searchsorted(ov, row, "right"))
        for i in range(a, b):
            svc = int(self.override_service[i])
            if 0 <= day < self.n_days and (self.service_days[svc, day >> 3] >> (day & 7)) & 1:
                return int(self.override_stop[i])
        return s

    def call_platform(self, trip: int, pos: int, day: int) -> str | None:
        """The platform of a call on a day (stop_time_overrides.txt, else the stop's)."""
        s = self.call_stop(trip, pos, day)
        lo, _ = self.pattern_range(trip)
        scheduled = int(self.pattern_stops[lo + pos])
        return self.strings("stop_platform")[s] or self.strings("stop_platform")[scheduled] or None

    def pattern_range(self, trip: int) -> tuple[int, int]:
        p = int(self.trip_pattern[trip])
        return int(self.pattern_stop_offsets[p]), int(self.pattern_stop_offsets[p + 1])

    def members_of_station(self, station: int) -> np.ndarray:
        lo, hi = self.station_member_offsets[station], self.station_member_offsets[station + 1]
        return np.asarray(self.columns["station_members"][lo:hi])

    def translated(self, column: str, index: int, langs: list[str]) -> str:
        """The first translation among `langs` (in order), else the feed's own text."""
        for lang in langs:
            for key in (f"{column}@{lang}", f"{column}@{lang.split('-')[0]}"):
                col = self.columns.get(key)
                if col is not None:
                    text = col[index]  # type: ignore[index]
                    if text:
                        return text
        return self.strings(column)[index]

    def routes_at(self, stop: int) -> np.ndarray:
        """Route indexes of every trip calling at a stop (a pattern may mix routes)."""
        lo, hi = int(self.sp_offsets[stop]), int(self.sp_offsets[stop + 1])
        patterns = np.unique(np.asarray(self.sp_pattern[lo:hi]))
        offs = np.asarray(self.pattern_trip_offsets)
        trips = [np.arange(offs[p], offs[p + 1]) for p in patterns]
        if not trips:
            return np.zeros(0, np.int64)
        return np.unique(np.asarray(self.trip_route)[np.concatenate(trips)])

    def known_languages(self, langs: list[str]) -> tuple[str, ...]:
        """The asked languages this timetable has translations for, in order (what caches
        may key on: any other language gives the feed's own names)."""
        key = tuple(langs)
        hit = self._known_languages.get(key)
        if hit is None:
            have = set(self.languages)
            hit = tuple(x for x in langs if x in have or x.split("-")[0] in have)
            if len(self._known_languages) < 1024:  # the Accept-Languages seen: kept, bounded
                self._known_languages[key] = hit
        return hit

    def words_with_prefix(self, prefix: str) -> range:
        words = self.name_words
        lo = bisect.bisect_left(words, prefix)
        hi = bisect.bisect_left(words, prefix + "\uffff")
        return range(lo, hi)
