"""Validate a GTFS feed before anything is compiled from it.

Every problem names the file, the CSV line (header = line 1) and the field, so that an
operator can fix the feed. Problems are collected (up to a cap) rather than stopping at the
first, and any problem rejects the whole feed: nothing is half-compiled.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from transit.errors import FeedError, FeedProblem
from transit.ingest.reader import GtfsFeed
from transit.ingest.times import MISSING, interpolate_missing, parse_times

MAX_PROBLEMS = 50
# A stop time beyond this is warned about: GTFS allows times past 24:00 for trips that run
# after midnight, but two days into a trip is more likely a typo (999:14:00).
MAX_PLAUSIBLE_TIME_S = 48 * 3600
_PER_CHECK = 5

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "agency": ("agency_name", "agency_timezone"),
    "stops": ("stop_id",),
    "routes": ("route_id", "route_type"),
    "trips": ("route_id", "service_id", "trip_id"),
    "stop_times": ("trip_id", "stop_id", "stop_sequence", "arrival_time", "departure_time"),
    "calendar": (
        "service_id", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
        "sunday", "start_date", "end_date",
    ),
    "calendar_dates": ("service_id", "date", "exception_type"),
    "transfers": ("transfer_type",),
    "frequencies": ("trip_id", "start_time", "end_time", "headway_secs"),
}
UNIQUE_KEYS: dict[str, tuple[str, ...]] = {
    "agency": ("agency_id",),
    "stops": ("stop_id",),
    "routes": ("route_id",),
    "trips": ("trip_id",),
    "calendar": ("service_id",),
    "stop_times": ("trip_id", "stop_sequence"),
    "calendar_dates": ("service_id", "date"),
}


@dataclass
class StopTimes:
    """stop_times sorted by (trip, stop_sequence), times parsed and interpolated."""

    frame: pd.DataFrame  # trip_id, stop_id, stop_sequence, pickup_type, drop_off_type
    arrival: np.ndarray  # int32 seconds after the service day's reference
    departure: np.ndarray


class _Collector:
    """Problems found so far, with a count per code.

    By default a few rows per check and 50 in all are kept (enough to fix a feed from the
    command line); with `per_code` the first `per_code` of each code are kept, for a report.
    Totals count every problem either way.
    """

    def __init__(self, operator: str, per_code: int | None = None,
                 severity: str = "error") -> None:
        self.operator = operator
        self.severity = severity
        self.per_code = per_code
        self.problems: list[FeedProblem] = []
        self.totals: Counter[str] = Counter()
        self._kept: Counter[str] = Counter()

    def _room(self, code: str) -> int:
        if self.per_code is None:
            return max(MAX_PROBLEMS - len(self.problems), 0)
        return max(self.per_code - self._kept[code], 0)

    def per_check(self, code: str) -> int:
        """How many more problems of one check to list."""
        return min(self._room(code), _PER_CHECK if self.per_code is None else self.per_code)

    def add(self, problem: FeedProblem) -> None:
        if self._room(problem.code):
            self.problems.append(problem)
            self._kept[problem.code] += 1
        self.totals[problem.code] += 1

    def rows(self, file: str, df: pd.DataFrame, mask: pd.Series | np.ndarray, field: str,
             message: str, code: str) -> None:
        """Report the rows where `mask` is true (row numbers are CSV lines)."""
        mask = np.asarray(mask, dtype=bool)
        hits = np.flatnonzero(mask)
        if not len(hits):
            return
        shown = hits[:self.per_check(code)]
        for pos in shown:
            value = df[field].iloc[pos] if field in df.columns else None
            self.add(FeedProblem(
                f"{file}.txt", message, int(df.index[pos]) + 2, field,
                None if value is None or pd.isna(value) else str(value), code, self.severity))
        self.totals[code] += len(hits) - len(shown)

    def raise_if_any(self) -> None:
        if self.problems:
            raise FeedError(self.operator, self.problems, dict(self.totals))


def _blank(series: pd.Series) -> pd.Series:
    return series.isna() | (series.astype("string").str.strip() == "")


def _check_columns(feed: GtfsFeed, c: _Collector) -> None:
    for table, cols in REQUIRED_COLUMNS.items():
        df = feed.table(table)
        if df is None:
            continue
        for col in cols:
            if col not in df.columns:
                c.add(FeedProblem(f"{table}.txt", "required column is missing", 1, col,
                                  code="missing_required_column"))
    for table in ("agency", "stops", "routes", "trips", "stop_times"):
        if feed.table(table) is None:
            c.add(FeedProblem(f"{table}.txt", "file has no rows", code="missing_required_file"))
    if feed.table("calendar") is None and feed.table("calendar_dates") is None:
        c.add(FeedProblem("calendar.txt", "neither calendar.txt nor calendar_dates.txt has rows",
                          code="missing_calendar_and_calendar_date_files"))


def _check_unique(feed: GtfsFeed, c: _Collector) -> None:
    for table, key in UNIQUE_KEYS.items():
        df = feed.table(table)
        if df is None or not set(key) <= set(df.columns):
            continue
        if table == "agency" and len(df) == 1:
            continue
        dup = df.duplicated(list(key), keep="first").to_numpy()
        if dup.any():
            first = df.drop_duplicates(list(key), keep="first")
            first_line = {tuple(r): i + 2 for i, r in zip(first.index, first[list(key)].itertuples(
                index=False), strict=True)}
            hits = np.flatnonzero(dup)
            shown = hits[:c.per_check("duplicate_key")]
            c.totals["duplicate_key"] += len(hits) - len(shown)
            for pos in shown:
                row = df.iloc[pos]
                k = tuple(row[list(key)])
                c.add(FeedProblem(
                    f"{table}.txt", f"duplicate {' + '.join(key)}, first defined on line "
                    f"{first_line.get(k, '?')}", int(df.index[pos]) + 2, key[-1],
                    str(row[key[-1]]), "duplicate_key"))


def _check_required_values(feed: GtfsFeed, c: _Collector) -> None:
    for table, cols in REQUIRED_COLUMNS.items():
        df = feed.table(table)
        if df is None:
            continue
        for col in cols:
            if col in df.columns and col not in ("arrival_time", "departure_time"):
                c.rows(table, df, _blank(df[col]), col, "required value is empty",
                       "missing_required_field")
    tf = feed.table("transfers")
    if tf is not None and "transfer_type" in tf.columns:
        # stops may be left out of in-seat rules (types 4 and 5) only
        need = ~tf["transfer_type"].astype("string").str.strip().isin(["4", "5"])
        for col in ("from_stop_id", "to_stop_id"):
            blank = _blank(tf[col]) if col in tf.columns else pd.Series(True, index=tf.index)
            c.rows("transfers", tf, need & blank, col, "required value is empty",
                   "missing_required_field")


def _check_refs(c: _Collector, child: str, df: pd.DataFrame | None, col: str,
                parent: str, keys: pd.Series | set[str]) -> None:
    if df is None or col not in df.columns:
        return
    values = df[col]
    present = ~_blank(values)
    known = values.isin(keys if isinstance(keys, set) else set(keys.dropna()))
    c.rows(child, df, present & ~known, col, f"refers to a {col} that is not in {parent}",
           "foreign_key_violation")


def _check_references(feed: GtfsFeed, c: _Collector) -> None:
    stops, routes, trips = feed.table("stops"), feed.table("routes"), feed.table("trips")
    agency = feed.table("agency")
    if stops is not None and "stop_id" in stops.columns:
        ids = stops["stop_id"]
        _check_refs(c, "stops", stops, "parent_station", "stops.txt", ids)
        _check_refs(c, "stop_times", feed.table("stop_times"), "stop_id", "stops.txt", ids)
        _check_refs(c, "transfers", feed.table("transfers"), "from_stop_id", "stops.txt", ids)
        _check_refs(c, "transfers", feed.table("transfers"), "to_stop_id", "stops.txt", ids)
    if trips is not None and "trip_id" in trips.columns:
        ids = trips["trip_id"]
        _check_refs(c, "stop_times", feed.table("stop_times"), "trip_id", "trips.txt", ids)
        _check_refs(c, "frequencies", feed.table("frequencies"), "trip_id", "trips.txt", ids)
    if routes is not None and "route_id" in routes.columns:
        _check_refs(c, "trips", trips, "route_id", "routes.txt", routes["route_id"])
    services: set[str] = set()
    for name in ("calendar", "calendar_dates"):
        df = feed.table(name)
        if df is not None and "service_id" in df.columns:
            services |= set(df["service_id"].dropna())
    _check_refs(c, "trips", trips, "service_id", "calendar.txt or calendar_dates.txt", services)
    if agency is not None and routes is not None and "agency_id" in agency.columns:
        if len(agency) > 1:
            _check_refs(c, "routes", routes, "agency_id", "agency.txt", agency["agency_id"])
            if "agency_id" not in routes.columns:
                c.add(FeedProblem("routes.txt", "required when agency.txt has several agencies",
                                  1, "agency_id", code="missing_required_column"))
    elif agency is not None and len(agency) > 1:
        c.add(FeedProblem("agency.txt", "required when there are several agencies", 1,
                          "agency_id", code="missing_required_column"))


def _check_values(feed: GtfsFeed, c: _Collector) -> None:
    agency = feed.table("agency")
    if agency is not None and "agency_timezone" in agency.columns:
        for pos, tz in enumerate(agency["agency_timezone"]):
            if not _valid_tz(tz):
                c.add(FeedProblem("agency.txt", "unknown time zone", int(agency.index[pos]) + 2,
                                  "agency_timezone", None if pd.isna(tz) else str(tz),
                                  "invalid_timezone"))
    stops = feed.table("stops")
    if stops is not None:
        if "stop_timezone" in stops.columns:
            tz = stops["stop_timezone"]
            bad = ~_blank(tz) & ~tz.map(lambda v: pd.isna(v) or _valid_tz(v)).astype(bool)
            c.rows("stops", stops, bad, "stop_timezone", "unknown time zone", "invalid_timezone")
        for col, lim in (("stop_lat", 90.0), ("stop_lon", 180.0)):
            if col in stops.columns:
                v = stops[col].astype("Float64")
                c.rows("stops", stops, (v.abs() > lim).fillna(False), col,
                       f"coordinate out of range [-{lim:g}, {lim:g}]", "number_out_of_range")
    for name in ("calendar",):
        df = feed.table(name)
        if df is not None:
            for col in ("start_date", "end_date"):
                if col in df.columns:
                    c.rows(name, df, ~_valid_dates(df[col]), col, "not a date YYYYMMDD",
                           "invalid_date")
    cd = feed.table("calendar_dates")
    if cd is not None and "date" in cd.columns:
        c.rows("calendar_dates", cd, ~_valid_dates(cd["date"]), "date", "not a date YYYYMMDD",
               "invalid_date")
        if "exception_type" in cd.columns:
            c.rows("calendar_dates", cd, ~cd["exception_type"].isin([1, 2]).fillna(False),
                   "exception_type", "must be 1 (added) or 2 (removed)",
                   "unexpected_enum_value")
    freq = feed.table("frequencies")
    if freq is not None:
        for col in ("start_time", "end_time"):
            if col in freq.columns:
                _, bad = parse_times(freq[col])
                c.rows("frequencies", freq, bad | _blank(freq[col]).to_numpy(), col,
                       "not a time HH:MM:SS", "invalid_time")
        if "headway_secs" in freq.columns:
            c.rows("frequencies", freq, ~(freq["headway_secs"] > 0).fillna(False),
                   "headway_secs", "must be a positive number of seconds",
                   "number_out_of_range")


def _valid_tz(name: object) -> bool:
    if not isinstance(name, str) or not name.strip():
        return False
    try:
        ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _valid_dates(series: pd.Series) -> pd.Series:
    parsed = pd.to_datetime(series.astype("string").str.strip(), format="%Y%m%d", errors="coerce")
    return parsed.notna()


def _stop_times(feed: GtfsFeed, c: _Collector) -> StopTimes | None:
    st = feed.table("stop_times")
    if st is None or not set(REQUIRED_COLUMNS["stop_times"]) <= set(st.columns):
        return None
    arr, bad_a = parse_times(st["arrival_time"])
    dep, bad_d = parse_times(st["departure_time"])
    c.rows("stop_times", st, bad_a, "arrival_time", "not a time HH:MM:SS", "invalid_time")
    c.rows("stop_times", st, bad_d, "departure_time", "not a time HH:MM:SS",
           "invalid_time")
    if c.problems:
        return None
    # One time given: the other is the same (a stop with no dwell).
    arr = np.where(arr == MISSING, dep, arr)
    dep = np.where(dep == MISSING, arr, dep)
    frame = st[["trip_id", "stop_id", "stop_sequence"]].copy()
    frame["pickup_type"] = _int_col(st, "pickup_type")
    frame["drop_off_type"] = _int_col(st, "drop_off_type")
    frame["stop_headsign"] = st["stop_headsign"] if "stop_headsign" in st.columns else pd.NA
    frame["_arr"] = arr
    frame["_dep"] = dep
    frame = frame.sort_values(["trip_id", "stop_sequence"], kind="stable")
    codes = pd.factorize(frame["trip_id"])[0]
    a = frame["_arr"].to_numpy()
    first = np.r_[True, codes[1:] != codes[:-1]]
    last = np.r_[codes[1:] != codes[:-1], True]
    untimed_end = (first | last) & (a == MISSING)
    c.rows("stop_times", frame, untimed_end, "arrival_time",
           "the first and last stop of a trip must have times", "missing_trip_edge")
    if c.problems:
        return None
    a, d = interpolate_missing(codes, a, frame["_dep"].to_numpy())
    backwards = np.r_[False, (a[1:] < d[:-1]) & (codes[1:] == codes[:-1])] | (d < a)
    c.rows("stop_times", frame, backwards, "arrival_time",
           "time runs backwards within the trip",
           "stop_time_with_arrival_before_previous_departure_time")
    frame = frame.drop(columns=["_arr", "_dep"])
    return StopTimes(frame=frame, arrival=a, departure=d)


def _int_col(df: pd.DataFrame, col: str) -> np.ndarray:
    if col not in df.columns:
        return np.zeros(len(df), dtype=np.int8)
    return df[col].fillna(0).astype(np.int8).to_numpy()


def _warn_implausible(feed: GtfsFeed, st: StopTimes) -> None:
    """Values a valid feed may hold but that are almost always mistakes: published, and
    said (the ingest prints them and they are kept with the version)."""
    w = _Collector(feed.operator, severity="warning")
    stops = feed.table("stops")
    if stops is not None and {"stop_lat", "stop_lon"} <= set(stops.columns):
        lat, lon = stops["stop_lat"].astype("Float64"), stops["stop_lon"].astype("Float64")
        null_island = ((lat.abs() < 1e-6) & (lon.abs() < 1e-6)).fillna(False)
        w.rows("stops", stops, null_island, "stop_lat",
               "stop at 0,0 (in the ocean off Africa): coordinates probably missing",
               "point_near_origin")
    latest = np.maximum(st.arrival, st.departure)
    for pos in np.flatnonzero(latest > MAX_PLAUSIBLE_TIME_S)[:_PER_CHECK]:
        w.add(FeedProblem(
            "stop_times.txt", f"time more than {MAX_PLAUSIBLE_TIME_S // 3600} h after the "
            "service day began", int(st.frame.index[pos]) + 2, "arrival_time",
            _hms(int(latest[pos])), "implausible_stop_time", "warning"))
    feed.warnings.extend(w.problems)


def _hms(t: int) -> str:
    return f"{t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d}"


def validate(feed: GtfsFeed, per_code: int | None = None) -> StopTimes:
    """Check the feed; return its parsed stop_times or raise FeedError with every problem.
    Implausible but valid values are added to `feed.warnings`.

    `per_code`: keep the first that many problems of each code (default: a short list).
    """
    c = _Collector(feed.operator, per_code)
    _check_columns(feed, c)
    c.raise_if_any()
    _check_required_values(feed, c)
    _check_unique(feed, c)
    _check_references(feed, c)
    _check_values(feed, c)
    c.raise_if_any()
    st = _stop_times(feed, c)
    c.raise_if_any()
    assert st is not None
    _warn_implausible(feed, st)
    return st
