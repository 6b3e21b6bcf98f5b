"""An independent reference for the real-data tests, computed with plain pandas from the raw
GTFS text files. Nothing here imports `transit`: it restates the GTFS rules from the
specification so that the service can be checked against them.

The departures of a stop S between two instants T0 and T1 (both included) are the stop_times
at S such that
- the trip's service runs on the service date D: calendar.txt's weekday flag is 1 and D lies in
  start_date..end_date, then calendar_dates.txt adds (exception_type 1) or removes (2) D;
- S is not the trip's last stop (by stop_sequence) and pickup_type is not 1 (no boarding);
- the instant, (local noon of D in the agency's time zone minus 12 hours) + departure_time,
  lies in [T0, T1]. Times may pass 24:00:00, so trips of D-1, D-2, ... count as well.

Untimed stop_times (both times empty, allowed between timed ones) get a time by linear
interpolation on the stop's position in the trip, from the previous timed stop's departure to
the next timed stop's arrival, rounded to the second (half to even), computed exactly here.
IDs are compared with surrounding white space removed (SNCB's stops.txt pads them).
"""

from __future__ import annotations

import random
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# (unix instant, "OP:trip_id", "OP:stop_id", "YYYY-MM-DD" service date)
Row = tuple[int, str, str, str]


def read_table(zip_path: Path, name: str) -> pd.DataFrame | None:
    """One GTFS file as text, every cell stripped; None when the zip does not have it."""
    with zipfile.ZipFile(zip_path) as zf:
        if name not in zf.namelist():
            return None
        with zf.open(name) as fh:
            df = pd.read_csv(fh, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df.columns = [c.strip() for c in df.columns]
    for c in df.columns:
        df[c] = df[c].str.strip()
    return df


def _column(df: pd.DataFrame, name: str) -> pd.Series:
    return df[name] if name in df.columns else pd.Series("", index=df.index)


def gtfs_seconds(values: pd.Series) -> pd.Series:
    """'H:MM:SS' (hours may pass 24) as float seconds; NaN where empty."""
    parts = values.str.split(":", expand=True)
    if parts.shape[1] < 3:
        return pd.Series(np.nan, index=values.index)
    h, m, s = (pd.to_numeric(parts[i], errors="coerce") for i in range(3))
    return h * 3600 + m * 60 + s


def _round_half_even(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den rounded to the nearest integer, ties to even, in exact integer arithmetic."""
    q, r = np.divmod(num, den)
    twice = 2 * r
    up = (twice > den) | ((twice == den) & (q % 2 == 1))
    return q + up


def departure_seconds(st: pd.DataFrame) -> np.ndarray:
    """Departure seconds of stop_times sorted by (trip, stop_sequence), untimed rows
    interpolated by position between the surrounding timed rows of the same trip."""
    trip = st["trip_id"]
    arr = gtfs_seconds(st["arrival_time"])
    dep = gtfs_seconds(st["departure_time"])
    arr, dep = arr.fillna(dep), dep.fillna(arr)
    timed = dep.notna()
    if timed.all():
        return dep.to_numpy(np.int64)
    pos = st.groupby("trip_id", sort=False).cumcount().astype(float)
    prev_pos = pos.where(timed).groupby(trip, sort=False).ffill()
    prev_dep = dep.groupby(trip, sort=False).ffill()
    next_pos = pos.where(timed).groupby(trip, sort=False).bfill()
    next_arr = arr.groupby(trip, sort=False).bfill()
    gap = ~timed
    if (prev_pos[gap].isna() | next_pos[gap].isna()).any():
        raise ValueError("a trip starts or ends with an untimed stop")
    p, q, i = prev_pos[gap].to_numpy(np.int64), next_pos[gap].to_numpy(np.int64), \
        pos[gap].to_numpy(np.int64)
    d0, a1 = prev_dep[gap].to_numpy(np.int64), next_arr[gap].to_numpy(np.int64)
    out = dep.copy()
    out[gap] = _round_half_even(d0 * (q - p) + (i - p) * (a1 - d0), q - p)
    return out.to_numpy(np.int64)


def day_start_utc(d: date, tz: str) -> int:
    """Unix time of the GTFS service day's origin: local noon minus 12 hours."""
    noon = datetime.combine(d, time(12), tzinfo=ZoneInfo(tz))
    return int(noon.timestamp()) - 12 * 3600


def active_services(calendar: pd.DataFrame | None, calendar_dates: pd.DataFrame | None,
                    d: date) -> set[str]:
    """Service ids running on date d: calendar.txt's weekday within its range, then
    calendar_dates.txt adding (1) or removing (2) the date."""
    ymd = d.strftime("%Y%m%d")
    active: set[str] = set()
    if calendar is not None and not calendar.empty:
        runs = (calendar[WEEKDAYS[d.weekday()]] == "1") & (calendar["start_date"] <= ymd) \
            & (calendar["end_date"] >= ymd)
        active |= set(calendar.loc[runs, "service_id"])
    if calendar_dates is not None and not calendar_dates.empty:
        today = calendar_dates[calendar_dates["date"] == ymd]
        active |= set(today.loc[today["exception_type"] == "1", "service_id"])
        active -= set(today.loc[today["exception_type"] == "2", "service_id"])
    return active


class FeedReference:
    """One operator's feed, read raw, with the departures it implies."""

    def __init__(self, operator: str, zip_path: Path) -> None:
        self.operator = operator
        self.path = zip_path
        t = {n: read_table(zip_path, f"{n}.txt") for n in (
            "agency", "stops", "routes", "trips", "stop_times", "calendar", "calendar_dates",
            "frequencies", "translations")}
        self.tables = t
        agency, stops, routes, trips, st = (t["agency"], t["stops"], t["routes"], t["trips"],
                                            t["stop_times"])
        assert agency is not None and stops is not None and routes is not None
        assert trips is not None and st is not None
        self.stops = stops.set_index("stop_id", drop=False)
        self.trips = trips
        self.routes = routes

        # time zone of each trip: its route's agency (the only agency when there is one)
        agency_tz = dict(zip(_column(agency, "agency_id"), agency["agency_timezone"],
                             strict=True))
        default_tz = agency["agency_timezone"].iloc[0]
        route_tz = {r: agency_tz.get(a, default_tz) if len(agency) > 1 else default_tz
                    for r, a in zip(routes["route_id"], _column(routes, "agency_id"),
                                    strict=True)}
        self.default_tz = default_tz
        trip_tz = trips.set_index("trip_id")["route_id"].map(route_tz)
        trip_service = trips.set_index("trip_id")["service_id"]

        # the time zone of each stop (for the UTC offset of the times shown at it)
        own = _column(self.stops, "stop_timezone")
        parent = _column(self.stops, "parent_station")
        inherited = parent.map(own).fillna("")
        self.stop_tz = own.where(own != "", inherited).where(lambda z: z != "", default_tz)

        st = st.assign(seq=st["stop_sequence"].astype(int))
        st = st.sort_values(["trip_id", "seq"], kind="stable").reset_index(drop=True)
        st["dep_s"] = departure_seconds(st)
        size = st.groupby("trip_id", sort=False)["seq"].transform("size")
        position = st.groupby("trip_id", sort=False).cumcount()
        boardable = (position < size - 1) & (_column(st, "pickup_type") != "1")
        ev = st.loc[boardable, ["stop_id", "trip_id", "dep_s"]].copy()
        ev["service_id"] = ev["trip_id"].map(trip_service)
        ev["tz"] = ev["trip_id"].map(trip_tz)
        self.events = ev.reset_index(drop=True)
        self.stop_times = st
        self.max_dep_s = int(st["dep_s"].max())
        self._events_at = {k: g for k, g in self.events.groupby("stop_id", sort=False)}
        self._active: dict[date, set[str]] = {}

    # -- counts as in the raw files
    def count_places(self) -> int:
        """stops.txt rows that are stops/platforms (0 or empty) or stations (1)."""
        return int(_column(self.stops, "location_type").isin(["", "0", "1"]).sum())

    def count(self, table: str) -> int:
        df = self.tables[table]
        return 0 if df is None else len(df)

    # -- calendar
    def services_on(self, d: date) -> set[str]:
        if d not in self._active:
            self._active[d] = active_services(self.tables["calendar"],
                                              self.tables["calendar_dates"], d)
        return self._active[d]

    # -- departures
    def departures(self, stop_ids: Iterable[str], t0: int, t1: int) -> list[Row]:
        """Departures at any of the stops (raw GTFS ids) in [t0, t1], sorted."""
        frames = [self._events_at[s] for s in stop_ids if s in self._events_at]
        if not frames:
            return []
        ev = pd.concat(frames)
        days_back = self.max_dep_s // 86400 + 1
        out: list[Row] = []
        for tz, group in ev.groupby("tz"):
            zone = ZoneInfo(str(tz))
            first = datetime.fromtimestamp(t0, zone).date() - timedelta(days=days_back)
            last = datetime.fromtimestamp(t1, zone).date()
            d = first
            while d <= last:
                instant = day_start_utc(d, str(tz)) + group["dep_s"].to_numpy(np.int64)
                keep = group["service_id"].isin(self.services_on(d)).to_numpy() \
                    & (instant >= t0) & (instant <= t1)
                out += [(int(i), f"{self.operator}:{trip}", f"{self.operator}:{stop}",
                         d.isoformat())
                        for i, trip, stop in zip(instant[keep], group["trip_id"][keep],
                                                 group["stop_id"][keep], strict=True)]
                d += timedelta(days=1)
        return sorted(out)

    def served_events(self, d: date) -> pd.DataFrame:
        """Boarding events of trips running on service date d, with their instants."""
        ev = self.events[self.events["service_id"].isin(self.services_on(d))]
        base = ev["tz"].map({z: day_start_utc(d, z) for z in ev["tz"].unique()})
        return ev.assign(instant=base + ev["dep_s"])

    def children(self, parent_id: str) -> list[str]:
        parent = _column(self.stops, "parent_station")
        return sorted(self.stops.index[parent == parent_id])

    def translations(self) -> pd.DataFrame:
        """Old-layout translations.txt as a frame indexed by trans_id, one column per lang."""
        tr = self.tables["translations"]
        assert tr is not None and {"trans_id", "lang", "translation"} <= set(tr.columns)
        return tr.pivot(index="trans_id", columns="lang", values="translation")


def fold(text: str) -> str:
    """Without accents (a search query a user might type)."""
    return "".join(c for c in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(c))


# -- choosing cases --------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """A departure-board query: one stop (raw id) of one operator, from t0, for window min."""

    operator: str
    stop_id: str
    t0: int
    window_min: int
    tz: str
    why: str

    @property
    def t1(self) -> int:
        return self.t0 + self.window_min * 60

    def at(self, naive: bool = False) -> str:
        local = datetime.fromtimestamp(self.t0, ZoneInfo(self.tz))
        return local.replace(tzinfo=None).isoformat() if naive else local.isoformat()


WINDOWS = (5, 15, 30, 60, 90, 120, 240, 480, 1440)


def fit_window(ref: FeedReference, stops: list[str], t0: int, window: int,
               below: int = 100) -> int:
    """Halve the window until the reference has fewer than `below` departures at the stops."""
    while window > 1 and len(ref.departures(stops, t0, t0 + window * 60)) >= below:
        window //= 2
    return window


def random_cases(refs: dict[str, FeedReference], d: date, tz: str, rng: random.Random,
                 n_random: int, per_operator: int = 0) -> list[Case]:
    """Random stops served on service date d, at random times of d (from local 00:00 to
    03:00 the next morning) or just before one of the stop's departures of that day."""
    served = {op: r.served_events(d) for op, r in refs.items()}
    picks: list[tuple[str, str]] = []
    for op in sorted(served):
        stops = sorted(served[op]["stop_id"].unique())
        picks += [(op, s) for s in rng.sample(stops, min(per_operator, len(stops)))]
    pool = sorted({(op, s) for op, ev in served.items() for s in ev["stop_id"].unique()})
    picks += rng.sample(pool, n_random)
    start = int(datetime.combine(d, time(0), tzinfo=ZoneInfo(tz)).timestamp())
    cases = []
    for k, (op, stop) in enumerate(picks):
        window = rng.choice(WINDOWS)
        if k % 2:
            t0 = start + 60 * rng.randrange(27 * 60)
            why = "random time"
        else:
            at_stop = served[op][served[op]["stop_id"] == stop]
            instant = int(rng.choice(sorted(at_stop["instant"])))
            t0 = instant - 60 * rng.randrange(window + 1)
            why = "just before a departure"
        window = fit_window(refs[op], [stop], t0, window)
        cases.append(Case(op, stop, t0, window, tz, why))
    return cases


def after_midnight_cases(refs: dict[str, FeedReference], d: date, tz: str,
                         rng: random.Random, n: int) -> list[Case]:
    """Stops where a trip of service date d departs at 24:00:00 or later, queried on the
    next calendar day shortly before that departure."""
    rows = []
    for op, r in refs.items():
        ev = r.served_events(d)
        late = ev[ev["dep_s"] >= 86400]
        rows += [(op, s, int(i)) for s, i in zip(late["stop_id"], late["instant"], strict=True)]
    rows = sorted(set(rows))
    cases = []
    for op, stop, instant in rng.sample(rows, min(n, len(rows))):
        window = rng.choice((10, 30, 60))
        t0 = instant - 60 * rng.randrange(window + 1)
        cases.append(Case(op, stop, t0, fit_window(refs[op], [stop], t0, window), tz,
                          f"trip of {d} after midnight"))
    return cases


# -- comparing with the service's answers (plain JSON over HTTP; no service code) -----------

def board_rows(body: dict) -> list[Row]:
    """(instant, trip_id, stop_id, service_date) of each departure of a board, in its order."""
    return [(int(datetime.fromisoformat(d["scheduled_departure"]).timestamp()), d["trip_id"],
             d["stop_id"], d["service_date"]) for d in body["departures"]]


def show(row: Row, tz: str) -> str:
    when = datetime.fromtimestamp(row[0], ZoneInfo(tz)).isoformat()
    return f"{when} {row[1]} at {row[2]} (service {row[3]})"


def board_problems(client, path: str, expected: list[Row], t0: int, window_min: int,
                   at: str, tz_of: dict[str, str], label: str,
                   params: dict[str, object] | None = None) -> list[str]:
    """Everything wrong with the service's board at `path` compared with `expected`.

    `tz_of` gives the time zone of each OPERATOR:stop_id (the offset the times must carry).
    Also asks for limit=10 when the reference has more than 10 departures. `params` are
    further query parameters.
    """
    if len(expected) >= 100:
        return [f"{label}: bad case, the reference has {len(expected)} >= 100 departures"]
    r = client.get(path, params={**(params or {}), "at": at, "window": window_min, "limit": 100})
    if r.status_code != 200:
        return [f"{label}: HTTP {r.status_code} {r.text[:300]}"]
    body = r.json()
    got = board_rows(body)
    tz = next(iter(tz_of.values()))
    out = []
    if sorted(got) != expected:
        missing = sorted((Counter(expected) - Counter(got)).elements())
        extra = sorted((Counter(got) - Counter(expected)).elements())
        out.append(f"{label}: expected {len(expected)} departures, got {len(got)}; "
                   f"missing {[show(x, tz) for x in missing[:4]]}{' ...' * (len(missing) > 4)}"
                   f" extra {[show(x, tz) for x in extra[:4]]}{' ...' * (len(extra) > 4)}")
    if [g[0] for g in got] != sorted(g[0] for g in got):
        out.append(f"{label}: departures are not in time order")
    if int(datetime.fromisoformat(body["at"]).timestamp()) != t0 or \
            int(datetime.fromisoformat(body["until"]).timestamp()) != t0 + 60 * window_min:
        out.append(f"{label}: window {body['at']} .. {body['until']} is not the one asked")
    for d in body["departures"]:
        shown = datetime.fromisoformat(d["scheduled_departure"])
        zone = ZoneInfo(tz_of.get(d["stop_id"], tz))
        if shown.utcoffset() != shown.astimezone(zone).utcoffset():
            out.append(f"{label}: {d['scheduled_departure']} at {d['stop_id']} does not carry "
                       f"the UTC offset of {zone.key}")
            break
    if len(expected) > 10:
        r10 = client.get(path, params={**(params or {}), "at": at, "window": window_min,
                                       "limit": 10})
        got10 = board_rows(r10.json()) if r10.status_code == 200 else []
        if [g[0] for g in got10] != [e[0] for e in expected[:10]] or \
                not set(got10) <= set(expected):
            out.append(f"{label}: limit=10 gave {[show(x, tz) for x in got10]}, expected the "
                       f"first 10 instants of {[show(x, tz) for x in expected[:10]]}")
    return out
