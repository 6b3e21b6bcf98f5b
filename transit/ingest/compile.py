"""Compile one operator's validated feed into its part: columns with operator-local indexes.

A part is what re-ingesting one operator rebuilds; the merge then concatenates parts, so the
other operators' feeds are not read again. All IDs are namespaced `OPERATOR:gtfs_id` here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from transit.errors import FeedProblem
from transit.ingest.reader import GtfsFeed
from transit.ingest.service_days import feed_span, service_days
from transit.ingest.times import parse_times
from transit.ingest.validate import StopTimes
from transit.timetable.calendar import ServiceHorizon, from_day_number, pack_days
from transit.timetable.patterns import split_overtaking
from transit.timetable.storage import Column, Part
from transit.timetable.strings import StringColumn

PART_FORMAT = 5  # 5: fare_* columns (transit.ingest.compile_fares)


__all__ = ["PART_FORMAT", "compile_part", "part_is_current"]


def _s(df: pd.DataFrame | None, col: str, n: int | None = None) -> list[str]:
    """A text column as a list of str, "" for missing (or a missing column)."""
    if df is None:
        return [""] * (n or 0)
    if col not in df.columns:
        return [""] * len(df)
    return df[col].astype("string").fillna("").str.strip().tolist()


def _i(df: pd.DataFrame, col: str, default: int, dtype: type) -> np.ndarray:
    if col not in df.columns:
        return np.full(len(df), default, dtype=dtype)
    return df[col].astype("Float64").fillna(default).to_numpy(dtype=np.float64).astype(dtype)


def _ns(op: str, values: list[str]) -> list[str]:
    return [f"{op}:{v}" for v in values]


def _expand_frequencies(
    trips: pd.DataFrame, st: StopTimes, freq: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray]:
    """Replace each frequency-based trip by one trip per headway (`trip@HH:MM:SS`)."""
    frame = st.frame.assign(_arr=st.arrival, _dep=st.departure)
    if freq is None or not len(freq):
        return trips, frame, st.arrival, st.departure
    starts, _ = parse_times(freq["start_time"])
    ends, _ = parse_times(freq["end_time"])
    headways = freq["headway_secs"].to_numpy(dtype=np.int64)
    first_dep = frame.groupby("trip_id", sort=False)["_dep"].first()
    new_trips, new_frames = [], []
    templates = set(freq["trip_id"])
    by_trip = dict(tuple(frame[frame["trip_id"].isin(templates)].groupby("trip_id", sort=False)))
    trip_rows = trips.set_index("trip_id", drop=False)
    for k, tid in enumerate(freq["trip_id"]):
        tpl = by_trip[tid]
        t0 = int(first_dep[tid])
        for start in range(int(starts[k]), int(ends[k]), int(headways[k])):
            new_id = f"{tid}@{start // 3600:02d}:{start // 60 % 60:02d}:{start % 60:02d}"
            shift = start - t0
            new_frames.append(
                tpl.assign(trip_id=new_id, _arr=tpl["_arr"] + shift, _dep=tpl["_dep"] + shift)
            )
            row = trip_rows.loc[[tid]].copy()
            row["trip_id"] = new_id
            new_trips.append(row)
    trips = pd.concat([trips[~trips["trip_id"].isin(templates)], *new_trips], ignore_index=True)
    frame = pd.concat([frame[~frame["trip_id"].isin(templates)], *new_frames], ignore_index=True)
    frame = frame.sort_values(["trip_id", "stop_sequence"], kind="stable")
    return trips, frame, frame["_arr"].to_numpy(np.int32), frame["_dep"].to_numpy(np.int32)


def _overrides(ov: pd.DataFrame | None, tids: list[str], counts: np.ndarray,
               st_seq: np.ndarray, service_of: dict[str, int], stop_of: dict[str, int]
               ) -> dict[str, Column]:
    """The rows of stop_time_overrides.txt that name a known call, service and stop, as
    (stop time row, service, stop), sorted by row."""
    empty = {"override_st": np.zeros(0, np.int64), "override_service": np.zeros(0, np.int32),
             "override_stop": np.zeros(0, np.int32)}
    need = {"trip_id", "stop_sequence", "service_id", "stop_id"}
    if ov is None or not len(ov) or not need <= set(ov.columns) or not len(tids):
        return empty
    calls = pd.DataFrame({"trip_id": np.repeat(np.array(tids, dtype=object), counts),
                          "seq": st_seq.astype(np.int64)})
    calls["row"] = np.arange(len(calls), dtype=np.int64)
    seq = pd.to_numeric(ov["stop_sequence"].astype("string").str.strip(), errors="coerce")
    rows = pd.DataFrame({"trip_id": ov["trip_id"].astype(str), "seq": seq,
                         "service": ov["service_id"].astype("string").str.strip().map(service_of),
                         "stop": ov["stop_id"].astype(str).map(stop_of)}).dropna()
    rows["seq"] = rows["seq"].astype(np.int64)
    hit = rows.merge(calls, on=["trip_id", "seq"]).sort_values("row", kind="stable")
    return {"override_st": hit["row"].to_numpy(np.int64),
            "override_service": hit["service"].to_numpy(np.int32),
            "override_stop": hit["stop"].to_numpy(np.int32)}


def _shapes(shapes: pd.DataFrame | None) -> tuple[list[str], dict[str, Column]]:
    """Shape points as a CSR over shapes (float32 degrees: about 0.5 m, plenty for maps)."""
    needed = {"shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence"}
    if shapes is None or not needed <= set(shapes.columns) or not len(shapes):
        return [], {"shape_pt_offsets": np.zeros(1, np.int64),
                    "shape_pt_lat": np.zeros(0, np.float32),
                    "shape_pt_lon": np.zeros(0, np.float32)}
    df = shapes.dropna(subset=["shape_id", "shape_pt_lat", "shape_pt_lon"]).sort_values(
        ["shape_id", "shape_pt_sequence"], kind="stable")
    ids, counts = np.unique(df["shape_id"].astype(str).to_numpy(), return_counts=True)
    return [str(i) for i in ids], {
        "shape_pt_offsets": np.r_[0, np.cumsum(counts)].astype(np.int64),
        "shape_pt_lat": df["shape_pt_lat"].to_numpy(np.float32),
        "shape_pt_lon": df["shape_pt_lon"].to_numpy(np.float32),
    }


def _translations(feed: GtfsFeed, table: str, field: str, keys: list[str], values: list[str]
                  ) -> dict[str, list[str]]:
    """Per language, the translated text of each record ("" where there is none)."""
    tr = feed.translations
    if tr is None:
        return {}
    mine = (tr["table_name"] == table) & (tr["field_name"] == field)
    sel = tr[mine | (tr["table_name"] == "*")]
    out: dict[str, list[str]] = {}
    for lang, rows in sel.groupby("language"):
        by_record = {r: t for r, t in zip(rows["record_id"], rows["translation"], strict=True)
                     if r}
        by_value = {v: t for v, t in zip(rows["field_value"], rows["translation"], strict=True)
                    if v}
        texts = [by_record.get(k) or by_value.get(v, "") for k, v in zip(keys, values, strict=True)]
        if any(texts):
            out[str(lang)] = texts
    return out


Days = tuple[int, int]


def _bounded_period(feed: GtfsFeed, horizon: ServiceHorizon) -> tuple[Days | None, Days | None]:
    """The feed's period and the days to compile: a period longer than the horizon is cut,
    with a warning."""
    span = feed_span(feed.table("calendar"), feed.table("calendar_dates"))
    if span is None:
        return None, None
    window = horizon.window(*span)
    if window != span:
        d = from_day_number
        feed.warnings.append(FeedProblem(
            "calendar.txt", f"service period {d(span[0])}..{d(span[1])} is "
            f"{span[1] - span[0] + 1} days long; compiled {d(window[0])}..{d(window[1])} only "
            f"(TRANSIT_SERVICE_DAYS_BEFORE={horizon.days_before} / "
            f"TRANSIT_SERVICE_DAYS_AFTER={horizon.days_after} around the clock's date)",
            code="service_period_cut", severity="warning"))
    return span, window


def part_is_current(part: Part, horizon: ServiceHorizon) -> bool:
    """Whether a reused part still covers the days the horizon would compile now (a part
    cut by the horizon is compiled again when the clock's date moves its window)."""
    span = part.meta.get("service_span")
    if span is None:
        return True
    first, last = horizon.window(*span)
    return (first, last - first + 1) == (part.meta["first_day"], part.meta["n_days"])


@dataclass
class _Compiling:
    """What the per-table steps share: the operator, its feed, the columns built so far and
    the operator-local index of each GTFS id (filled table by table, in dependency order)."""

    feed: GtfsFeed
    cols: dict[str, Column] = field(default_factory=dict)
    timezones: list[str] = field(default_factory=list)
    agency_of: dict[str, int] = field(default_factory=dict)
    route_of: dict[str, int] = field(default_factory=dict)
    stop_of: dict[str, int] = field(default_factory=dict)
    service_of: dict[str, int] = field(default_factory=dict)
    route_agency: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    stop_names: list[str] = field(default_factory=list)
    languages: set[str] = field(default_factory=set)

    @property
    def op(self) -> str:
        return self.feed.operator


@dataclass
class _Calls:
    """stop_times.txt (frequencies expanded) in trip-index order: a CSR over trips."""

    trips: pd.DataFrame
    trip_ids: list[str]
    stop: np.ndarray
    pickup: np.ndarray
    dropoff: np.ndarray
    seq: np.ndarray
    arr: np.ndarray
    dep: np.ndarray
    counts: np.ndarray
    starts: np.ndarray


@dataclass
class _Services:
    ids: list[str]
    first_day: int
    active: np.ndarray
    span: Days | None


def _agencies(ctx: _Compiling, agency: pd.DataFrame, stops: pd.DataFrame) -> None:
    """agency.txt, and the time zones of agencies and stops."""
    op, cols = ctx.op, ctx.cols
    agency_tz = _s(agency, "agency_timezone")
    ctx.timezones = sorted(set(agency_tz) | {z for z in _s(stops, "stop_timezone") if z})
    tz_index = {z: i for i, z in enumerate(ctx.timezones)}
    agency_ids = _s(agency, "agency_id") if "agency_id" in agency.columns else [""] * len(agency)
    cols["agency_id"] = StringColumn.from_list(_ns(op, agency_ids))
    cols["agency_name"] = StringColumn.from_list(_s(agency, "agency_name"))
    cols["agency_url"] = StringColumn.from_list(_s(agency, "agency_url"))
    cols["agency_tz"] = np.array([tz_index[z] for z in agency_tz], dtype=np.int16)
    ctx.agency_of = {a: i for i, a in enumerate(agency_ids)}


def _routes(ctx: _Compiling, routes: pd.DataFrame) -> None:
    cols = ctx.cols
    route_ids = _s(routes, "route_id")
    ctx.route_agency = np.array([ctx.agency_of.get(a, 0) for a in _s(routes, "agency_id")],
                                dtype=np.int32)
    cols["route_id"] = StringColumn.from_list(_ns(ctx.op, route_ids))
    cols["route_short_name"] = StringColumn.from_list(_s(routes, "route_short_name"))
    cols["route_long_name"] = StringColumn.from_list(_s(routes, "route_long_name"))
    cols["route_type"] = _i(routes, "route_type", 3, np.int16)
    cols["route_color"] = StringColumn.from_list(_s(routes, "route_color"))
    cols["route_text_color"] = StringColumn.from_list(_s(routes, "route_text_color"))
    cols["route_agency"] = ctx.route_agency.copy()
    ctx.route_of = {r: i for i, r in enumerate(route_ids)}


def _stops(ctx: _Compiling, stops: pd.DataFrame, default_tz: str) -> pd.DataFrame:
    """stops.txt: stops and stations only (entrances, nodes and boarding areas are not
    places to board from); returns the rows kept."""
    cols = ctx.cols
    tz_index = {z: i for i, z in enumerate(ctx.timezones)}
    loc = _i(stops, "location_type", 0, np.int8)
    stops = stops[(loc == 0) | (loc == 1)].reset_index(drop=True)
    loc = _i(stops, "location_type", 0, np.int8)
    stop_ids = _s(stops, "stop_id")
    ctx.stop_of = stop_of = {s: i for i, s in enumerate(stop_ids)}
    parent = np.array([stop_of.get(p, -1) if p else -1 for p in _s(stops, "parent_station")],
                      dtype=np.int32)
    own_tz = np.array([tz_index[z] if z else -1 for z in _s(stops, "stop_timezone")],
                      dtype=np.int16)
    inherited = np.where((own_tz < 0) & (parent >= 0), own_tz[np.maximum(parent, 0)], own_tz)
    ctx.stop_names = _s(stops, "stop_name")
    cols["stop_id"] = StringColumn.from_list(_ns(ctx.op, stop_ids))
    cols["stop_name"] = StringColumn.from_list(ctx.stop_names)
    cols["stop_code"] = StringColumn.from_list(_s(stops, "stop_code"))
    cols["stop_platform"] = StringColumn.from_list(_s(stops, "platform_code"))
    for axis in ("stop_lat", "stop_lon"):
        cols[axis] = stops[axis].astype("Float64").fillna(np.nan).to_numpy(np.float64) \
            if axis in stops.columns else np.full(len(stops), np.nan)
    cols["stop_location_type"] = loc
    cols["stop_parent"] = parent
    cols["stop_wheelchair"] = _i(stops, "wheelchair_boarding", 0, np.int8)
    cols["stop_tz"] = np.where(inherited >= 0, inherited, tz_index[default_tz]).astype(np.int16)
    return stops


def _services(ctx: _Compiling, trips: pd.DataFrame, horizon: ServiceHorizon) -> _Services:
    """calendar.txt and calendar_dates.txt: the days each service runs, as packed bits.

    The trips' services come first (the search reads their rows), then those only
    stop_time_overrides.txt names (read only to show a platform) and those fares'
    timeframes.txt names (the days a timeframe applies)."""
    feed = ctx.feed
    ov = feed.table("stop_time_overrides")
    ov_services = _s(ov, "service_id") if ov is not None else []
    trip_services = set(_s(trips, "service_id"))
    extra = set(ov_services) | set(_s(feed.table("timeframes"), "service_id"))
    service_ids = sorted(trip_services) + sorted(set(filter(None, extra)) - trip_services)
    span, window = _bounded_period(feed, horizon)
    first_day, active = service_days(service_ids, feed.table("calendar"),
                                     feed.table("calendar_dates"), window)
    ctx.cols["service_id"] = StringColumn.from_list(_ns(ctx.op, service_ids))
    ctx.cols["service_days"] = pack_days(active)
    ctx.service_of = {s: i for i, s in enumerate(service_ids)}
    return _Services(service_ids, first_day, active, span)


def _stop_times(ctx: _Compiling, trips: pd.DataFrame, st: StopTimes) -> _Calls:
    """stop_times.txt and frequencies.txt (frequency trips become ordinary trips), with
    rows reordered from trip_id string order into trip-index order."""
    trips, frame, arr, dep = _expand_frequencies(trips, st, ctx.feed.table("frequencies"))
    trips = trips.reset_index(drop=True)
    trip_ids = _s(trips, "trip_id")
    trip_of = {t: i for i, t in enumerate(trip_ids)}
    st_trip = frame["trip_id"].map(trip_of).to_numpy(np.int64)
    st_stop = frame["stop_id"].map(ctx.stop_of).to_numpy(np.int64)
    pickup = frame["pickup_type"].to_numpy(np.int8)
    dropoff = frame["drop_off_type"].to_numpy(np.int8)
    seq = frame["stop_sequence"].to_numpy(np.int32)
    counts = np.bincount(st_trip, minlength=len(trip_ids))
    order = np.argsort(st_trip, kind="stable")
    starts = np.zeros(len(trip_ids) + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    return _Calls(trips, trip_ids, st_stop[order], pickup[order], dropoff[order], seq[order],
                  arr[order], dep[order], counts, starts)


def _trip_tz(ctx: _Compiling, trip_route: np.ndarray) -> np.ndarray:
    if not len(trip_route):
        return np.zeros(0, np.int16)
    return np.asarray(ctx.cols["agency_tz"])[ctx.route_agency[trip_route]]


def _group_patterns(ctx: _Compiling, c: _Calls) -> list[list[int]]:
    """Trips with the same stops, pickup/drop-off rules and time zone, split so that no
    trip overtakes another; patterns and their trips by first departure."""
    n_trips, starts = len(c.trip_ids), c.starts
    trip_tz_of = _trip_tz(ctx, np.array([ctx.route_of[r] for r in _s(c.trips, "route_id")],
                                        dtype=np.int64))
    keyed: dict[bytes, list[int]] = {}
    for t in range(n_trips):
        lo, hi = starts[t], starts[t + 1]
        key = (c.stop[lo:hi].tobytes() + c.pickup[lo:hi].tobytes()
               + c.dropoff[lo:hi].tobytes() + trip_tz_of[t].tobytes())
        keyed.setdefault(key, []).append(t)
    trip_first_dep = c.dep[np.minimum(starts[:-1], max(len(c.dep) - 1, 0))] if len(c.dep) \
        else np.zeros(n_trips, np.int32)
    t_arr = [c.arr[starts[t]:starts[t + 1]] for t in range(n_trips)]
    t_dep = [c.dep[starts[t]:starts[t + 1]] for t in range(n_trips)]
    patterns: list[list[int]] = []
    for members in keyed.values():
        members.sort(key=lambda t: (trip_first_dep[t], c.trip_ids[t]))
        patterns.extend(split_overtaking(members, t_arr, t_dep))
    patterns.sort(key=lambda g: (trip_first_dep[g[0]], c.trip_ids[g[0]]))
    return patterns


def _patterns(ctx: _Compiling, c: _Calls, patterns: list[list[int]]) -> np.ndarray:
    """pattern_* and st_* columns (stop times in pattern then trip order); returns the
    trips' order (old trip index of each new one)."""
    cols, starts = ctx.cols, c.starts
    trip_order = np.array([t for g in patterns for t in g], dtype=np.int64)
    pattern_sizes = np.array([len(g) for g in patterns], dtype=np.int64)
    pattern_len = np.array([c.counts[g[0]] for g in patterns], dtype=np.int64)
    rows = np.concatenate([np.arange(starts[t], starts[t + 1]) for t in trip_order]) \
        if len(c.trip_ids) else np.zeros(0, dtype=np.int64)
    first_rows = np.array([starts[g[0]] for g in patterns], dtype=np.int64)
    pattern_stop_rows = np.concatenate(
        [np.arange(f, f + n) for f, n in zip(first_rows, pattern_len, strict=True)]
    ) if patterns else np.zeros(0, dtype=np.int64)
    cols["pattern_stop_offsets"] = np.r_[0, np.cumsum(pattern_len)].astype(np.int64)
    cols["pattern_stops"] = c.stop[pattern_stop_rows].astype(np.int32)
    cols["pattern_pickup"] = c.pickup[pattern_stop_rows]
    cols["pattern_dropoff"] = c.dropoff[pattern_stop_rows]
    cols["pattern_trip_offsets"] = np.r_[0, np.cumsum(pattern_sizes)].astype(np.int64)
    cols["st_arr"] = c.arr[rows].astype(np.int32)
    cols["st_dep"] = c.dep[rows].astype(np.int32)
    cols["st_seq"] = c.seq[rows].astype(np.int32)
    cols["trip_pattern"] = np.repeat(np.arange(len(patterns), dtype=np.int32), pattern_sizes)
    return trip_order


def _trips(ctx: _Compiling, c: _Calls, trip_order: np.ndarray) -> tuple[list[str], list[str]]:
    """trips.txt, renumbered in pattern order; returns the trip ids and headsigns."""
    cols, n_trips = ctx.cols, len(c.trip_ids)
    tr = c.trips.iloc[trip_order].reset_index(drop=True)
    new_counts = c.counts[trip_order]
    tids = [c.trip_ids[t] for t in trip_order]
    trip_route = np.array([ctx.route_of[r] for r in _s(tr, "route_id")], dtype=np.int32)
    cols["trip_id"] = StringColumn.from_list(_ns(ctx.op, tids))
    cols["trip_route"] = trip_route
    cols["trip_service"] = np.array([ctx.service_of[s] for s in _s(tr, "service_id")],
                                    dtype=np.int32)
    last_stop = c.stop[np.maximum(c.starts[1:][trip_order] - 1, 0)] if n_trips else []
    headsigns = [h or ctx.stop_names[int(s)]
                 for h, s in zip(_s(tr, "trip_headsign"), last_stop, strict=True)]
    cols["trip_headsign"] = StringColumn.from_list(headsigns)
    cols["trip_short_name"] = StringColumn.from_list(_s(tr, "trip_short_name"))
    cols["trip_direction"] = _i(tr, "direction_id", -1, np.int8)
    cols["trip_block"] = StringColumn.from_list(_s(tr, "block_id"))
    shape_ids, shape_cols = _shapes(ctx.feed.table("shapes"))
    shape_of = {s: i for i, s in enumerate(shape_ids)}
    cols["trip_shape"] = np.array([shape_of.get(s, -1) for s in _s(tr, "shape_id")],
                                  dtype=np.int32)
    cols["shape_id"] = StringColumn.from_list(_ns(ctx.op, shape_ids))
    cols.update(shape_cols)
    cols["trip_wheelchair"] = _i(tr, "wheelchair_accessible", 0, np.int8)
    cols["trip_st_start"] = np.r_[0, np.cumsum(new_counts)[:-1]].astype(np.int64) \
        if n_trips else np.zeros(0, dtype=np.int64)
    cols["trip_tz"] = _trip_tz(ctx, trip_route)
    # stop_time_overrides.txt: the platform (a stop) of a call on some service days
    cols.update(_overrides(ctx.feed.table("stop_time_overrides"), tids, new_counts,
                           np.asarray(cols["st_seq"]), ctx.service_of, ctx.stop_of))
    return tids, headsigns


_TRANSFER_REFS = (("transfer_from", "from_stop_id"), ("transfer_to", "to_stop_id"),
                  ("transfer_from_route", "from_route_id"), ("transfer_to_route", "to_route_id"),
                  ("transfer_from_trip", "from_trip_id"), ("transfer_to_trip", "to_trip_id"))


def _transfers(ctx: _Compiling, tids: list[str]) -> None:
    """transfers.txt (footpaths, minimum change times, trip- and route-specific rules and
    in-seat transfers given by the operator); -1 where a rule leaves a field empty."""
    cols, tf = ctx.cols, ctx.feed.table("transfers")
    if tf is None or not len(tf):
        for name, _ in _TRANSFER_REFS:
            cols[name] = np.zeros(0, dtype=np.int32)
        cols["transfer_type"] = np.zeros(0, dtype=np.int8)
        cols["transfer_min_s"] = np.zeros(0, dtype=np.int32)
        return
    new_trip = {tid: i for i, tid in enumerate(tids)}
    index_of = {"stop": ctx.stop_of, "route": ctx.route_of, "trip": new_trip}
    refs = []
    for name, field_ in _TRANSFER_REFS:
        index = index_of[field_.split("_")[1]]
        values = _s(tf, field_)
        out = np.array([index.get(v, -1) if v else -1 for v in values], dtype=np.int32)
        refs.append((name, out, np.array([bool(v) for v in values]) & (out < 0)))
    # a rule naming something the feed does not have applies to nothing
    keep = ~np.any([bad for _, _, bad in refs], axis=0)
    for name, values, _ in refs:
        cols[name] = values[keep]
    cols["transfer_type"] = _i(tf, "transfer_type", 0, np.int8)[keep]
    cols["transfer_min_s"] = _i(tf, "min_transfer_time", -1, np.int32)[keep]


def _translate(ctx: _Compiling, routes: pd.DataFrame, stops: pd.DataFrame, tids: list[str],
               headsigns: list[str]) -> None:
    """translations.txt: `column@lang` beside stop names, headsigns and route names."""
    wanted = [("stops", "stop_name", _s(stops, "stop_id"), ctx.stop_names),
              ("trips", "trip_headsign", tids, headsigns)]
    route_ids = _s(routes, "route_id")
    wanted += [("routes", f, route_ids, _s(routes, f))
               for f in ("route_long_name", "route_short_name")]
    for table, column, keys, values in wanted:
        for lang, texts in _translations(ctx.feed, table, column, keys, values).items():
            ctx.cols[f"{column}@{lang}"] = StringColumn.from_list(texts)
            ctx.languages.add(lang)


def compile_part(feed: GtfsFeed, st: StopTimes, info: dict[str, Any] | None = None,
                 horizon: ServiceHorizon | None = None) -> Part:
    """One operator's columns, table by table (see docs/adding-a-gtfs-file.md)."""
    agency, stops = feed.table("agency"), feed.table("stops")
    routes, trips = feed.table("routes"), feed.table("trips")
    assert agency is not None and stops is not None and routes is not None and trips is not None
    ctx = _Compiling(feed)
    _agencies(ctx, agency, stops)
    _routes(ctx, routes)
    stops = _stops(ctx, stops, _s(agency, "agency_timezone")[0])
    services = _services(ctx, trips, horizon or ServiceHorizon())
    calls = _stop_times(ctx, trips, st)
    patterns = _group_patterns(ctx, calls)
    trip_order = _patterns(ctx, calls, patterns)
    tids, headsigns = _trips(ctx, calls, trip_order)
    _transfers(ctx, tids)
    _translate(ctx, routes, stops, tids, headsigns)
    meta = {
        "format": PART_FORMAT,
        "operator": feed.operator,
        "digest": feed.digest,
        "source": feed.source,
        "timezones": ctx.timezones,
        "first_day": services.first_day,
        "n_days": int(services.active.shape[1]),
        "service_span": list(services.span) if services.span else None,
        "languages": sorted(ctx.languages),
        "feed_lang": _s(agency, "agency_lang")[0].lower() if len(agency) else "",
        "warnings": [str(w) for w in feed.warnings],
        "counts": {
            "agencies": len(agency), "routes": len(routes), "stops": len(stops),
            "trips": len(calls.trip_ids), "stop_times": len(ctx.cols["st_arr"]),
            "patterns": len(patterns), "services": len(services.ids),
        },
        **(info or {}),
    }
    return Part(feed.operator, ctx.cols, meta)
