"""An independent brute-force journey planner for the journey tests. Nothing here imports
`transit`: it restates the rules of the journey search and runs them on plain data.

The network is a list of trip instances (one trip on one service day), each a list of
(stop, arrival, departure, pickup_ok, dropoff_ok) in absolute Unix seconds, plus footpaths
{stop: [(other stop, seconds)]}, a change time per stop and the block continuations
{instance: next instance}. The search is Dijkstra over a time-expanded graph whose nodes are
departure events (trip instance, position, at the event's stop and time) and on-board events
(trip instance, position reached); labels are Pareto on (time, number of trips).

Rules (one journey):
- from the origin: reach an origin stop o at t0 + access(o) and board there any departure at
  or after that instant (no change time); for stop origins also walk one footpath o -> q first
  and board at q at or after t0 + access(o) + walk;
- wait at a stop for a later departure; board (pickup allowed; one more trip); ride to the
  next stop; alight (drop-off allowed);
- after alighting at s at instant a: board at s any departure at or after
  a + change_s[s] + extra slack, or walk one footpath s -> q of w seconds and board at q at or
  after a + w (no change time on top of the walk);
- a rider on a trip reaching its last stop may stay seated into the block continuation of
  that instance (not counted as a trip): each instance has at most one, the earliest; from
  its last stop the rider may stay seated again (one vehicle runs the whole block);
- the destination is reached by alighting at a destination stop (then its egress), or by
  alighting and walking one footpath to a destination stop (then its egress); with zero
  trips, by being at (or one origin footpath away from) a destination stop;
- trip- and route-specific transfers.txt rules (`Rule`) decide a change they match, the most
  specific one (both trips, a trip and a route, one trip, both routes, one route; a stop
  named wins over an empty one): type 3 forbids it, type 2 takes `min_s` (type 1: 0 s; at
  one stop plus the extra slack), type 0 the usual change time or footpath; a rule may join
  two stops without a footpath.

Raw feeds are read with pandas (tests/gtfs_reference.py helpers): trip instance instants are
(local noon of the service day in the agency's time zone - 12 h) + GTFS seconds.
"""

from __future__ import annotations

import heapq
import itertools
from bisect import bisect_left
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from tests.gtfs_reference import (
    _column,
    active_services,
    day_start_utc,
    departure_seconds,
    gtfs_seconds,
    read_table,
)

INF = 1 << 62

# (stop, arrival, departure, pickup allowed, drop-off allowed)
StopEvent = tuple[str, int, int, bool, bool]


@dataclass
class Instance:
    """One trip on one service day."""

    key: Hashable  # e.g. ("OP:trip_id", "YYYY-MM-DD")
    stops: list[StopEvent]
    block: Hashable | None = None  # (operator, block_id, service_id, service date) or None


def block_continuations(instances: list[Instance]) -> dict[Hashable, Hashable]:
    """The instance a rider stays seated into at the last stop of each instance: same block
    key (operator, block_id, service_id, service day), starting at that stop, first departure
    at or after the arrival there, the earliest such."""
    groups: dict[Hashable, list[Instance]] = {}
    for inst in instances:
        if inst.block is not None:
            groups.setdefault(inst.block, []).append(inst)
    out: dict[Hashable, Hashable] = {}
    for group in groups.values():
        for t in group:
            last_stop, last_arr = t.stops[-1][0], t.stops[-1][1]
            best: Instance | None = None
            for u in group:
                if u is t or u.stops[0][0] != last_stop or u.stops[0][2] < last_arr:
                    continue
                if best is None or u.stops[0][2] < best.stops[0][2]:
                    best = u
            if best is not None:
                out[t.key] = best.key
    return out


@dataclass(frozen=True)
class Rule:
    """A transfers.txt row naming a trip or a route (None: any)."""

    from_stop: str | None
    to_stop: str | None
    from_trip: str | None
    from_route: str | None
    to_trip: str | None
    to_route: str | None
    kind: int
    min_s: int | None

    def rank(self) -> tuple[int, int]:
        trips = (self.from_trip is not None) + (self.to_trip is not None)
        routes = (self.from_route is not None and self.from_trip is None) + (
            self.to_route is not None and self.to_trip is None)
        order = [(2, 0), (1, 1), (1, 0), (0, 2), (0, 1)]
        stops = (self.from_stop is not None) + (self.to_stop is not None)
        return 5 - order.index((trips, routes)), stops

    def matches(self, a: str, ra: str, s: str, b: str, rb: str, q: str) -> bool:
        def one(rule: str | None, value: str) -> bool:
            return rule is None or rule == value

        return one(self.from_stop, s) and one(self.to_stop, q) and one(self.to_trip, b) and (
            one(self.from_trip, a) and (self.from_trip is not None or one(self.from_route, ra))
        ) and (self.to_trip is not None or one(self.to_route, rb))


@dataclass
class Reference:
    instances: list[Instance]
    footpaths: dict[str, list[tuple[str, int]]]
    change_s: dict[str, int]
    continuation: dict[Hashable, Hashable] = field(default_factory=dict)
    default_change_s: int = 120
    rules: list[Rule] = field(default_factory=list)
    trip_route: dict[str, str] = field(default_factory=dict)  # "OP:trip" -> "OP:route"

    def __post_init__(self) -> None:
        self._index = {inst.key: i for i, inst in enumerate(self.instances)}
        events: dict[str, list[tuple[int, int, int]]] = {}
        for i, inst in enumerate(self.instances):
            for p, (s, _a, d, pick, _drop) in enumerate(inst.stops[:-1]):
                if pick:
                    events.setdefault(s, []).append((d, i, p))
        self._ev_time: dict[str, list[int]] = {}
        self._ev_ref: dict[str, list[tuple[int, int]]] = {}
        for s, evs in events.items():
            evs.sort()
            self._ev_time[s] = [e[0] for e in evs]
            self._ev_ref[s] = [(e[1], e[2]) for e in evs]
        self._next = {self._index[a]: self._index[b] for a, b in self.continuation.items()
                      if a in self._index and b in self._index}
        self.last_paths: list[tuple] = []  # how each best[k] of the last search was found
        self._rule_from = {r.from_stop for r in self.rules}

    def change_gap(self, a: str, s: str, b: str, q: str, extra: int) -> int | None:
        """Seconds from alighting trip a at s to boarding trip b at q (None: no such change)."""
        ra, rb = self.trip_route.get(a, ""), self.trip_route.get(b, "")
        hits = [r for r in self.rules if r.matches(a, ra, s, b, rb, q)]
        rule = max(hits, key=Rule.rank) if hits else None
        if rule is not None and rule.kind == 3:
            return None
        if rule is not None and (rule.kind == 1 or (rule.kind == 2 and rule.min_s is not None)):
            return (0 if rule.kind == 1 else rule.min_s) + (extra if s == q else 0)  # type: ignore[operator]
        if s == q:
            return self.change_s.get(s, self.default_change_s) + extra
        return next((w for x, w in self.footpaths.get(s, ()) if x == q), None)

    def instance(self, key: Hashable) -> Instance | None:
        i = self._index.get(key)
        return None if i is None else self.instances[i]

    def event_at(self, stop: str, t: int) -> tuple[int, int]:
        """(instance index, position) of a departure at `stop` at instant t."""
        return self._ev_ref[stop][bisect_left(self._ev_time[stop], t)]

    def departure_times(self, stop: str, t0: int, t1: int) -> list[int]:
        times = self._ev_time.get(stop, [])
        return times[bisect_left(times, t0):bisect_left(times, t1 + 1)]

    def earliest_by_trips(
        self, origins: Iterable[tuple[str, int]], destinations: Iterable[tuple[str, int]],
        t0: int, max_trips: int, horizon_s: int, extra_change_s: int = 0,
        walk_from_origins: bool = True, leave_by: int | None = None,
        aboard: tuple[Hashable, int] | None = None,
    ) -> list[int]:
        """For k = 0 .. max_trips, the earliest arrival at the destination with at most k
        trips (INF when none arrives; only trip events up to t0 + horizon_s are used).
        `leave_by`: only journeys leaving the origin by then (the first trip boarded at most
        the access walk, and the footpath, after it).
        `aboard` (instance key, position): the rider is on that instance at t0, having left
        the stop at that position (the origins are not used): the ride on is its first trip,
        and getting off it is alighting as from any trip."""
        dest: dict[str, int] = {}
        for s, e in destinations:
            dest[s] = min(dest.get(s, INF), e)
        best = [INF] * (max_trips + 1)  # best[k]: earliest with at most k trips
        self.last_paths = [()] * (max_trips + 1)
        horizon = t0 + horizon_s
        fps = self.footpaths
        heap: list[tuple[int, int, int, object, int, tuple]] = []
        ev_time, ev_ref, inst = self._ev_time, self._ev_ref, self.instances
        parent: dict[tuple, tuple] = {}
        tick = itertools.count()

        def found(t: int, k: int, node: tuple, how: str) -> None:
            for kk in range(k, max_trips + 1):
                if t < best[kk]:
                    best[kk] = t
                    self.last_paths[kk] = (node, how, parent)

        def wait_at(s: str, ready: int, k: int, via: tuple) -> None:
            times = ev_time.get(s)
            if times is None:
                return
            i = bisect_left(times, ready)
            if i < len(times) and times[i] <= horizon:
                heapq.heappush(heap, (times[i], k, 0, s, i, next(tick), via))

        if aboard is not None:
            i0, p0 = self._index[aboard[0]], aboard[1]
            nxt = inst[i0].stops[p0 + 1]
            if nxt[1] <= horizon:
                heapq.heappush(heap, (nxt[1], 1, 1, i0, p0 + 1, next(tick),
                                      (-1, inst[i0].stops[p0][0])))
            origins = []
        first_by: dict[str, int] = {}  # latest first boarding per stop, with leave_by
        for o, access in origins:
            r = t0 + access
            if leave_by is not None:
                first_by[o] = max(first_by.get(o, -INF), leave_by + access)
                for q, w in fps.get(o, ()) if walk_from_origins else ():
                    first_by[q] = max(first_by.get(q, -INF), leave_by + access + w)
            if o in dest:
                found(r + dest[o], 0, (-1, o), f"at {o}")
            wait_at(o, r, 0, (-1, o))
            if walk_from_origins:
                for q, w in fps.get(o, ()):
                    if q in dest:
                        found(r + w + dest[q], 0, (-1, o), f"walk {w}s to {q}")
                    wait_at(q, r + w, 0, (-1, o, "walk", q, w))

        seen_ev: dict[tuple[str, int], int] = {}
        seen_on: dict[tuple[int, int], int] = {}
        while heap:
            t, k, kind, a, b, _n, via = heapq.heappop(heap)
            if best[0] <= t:
                break  # nothing left can arrive earlier, whatever its trips
            if best[k] <= t:
                continue  # dominated: as many trips and no earlier
            if kind == 0:  # departure event b at stop a
                s = a  # type: ignore[assignment]
                if seen_ev.get((s, b), INF) <= k:
                    continue
                if k == 0 and leave_by is not None and t > first_by.get(s, -INF):
                    continue  # leaving the origin too late
                seen_ev[(s, b)] = k
                node = (0, s, b, k)
                parent[node] = via
                times = ev_time[s]
                if b + 1 < len(times) and times[b + 1] <= horizon:
                    heapq.heappush(heap, (times[b + 1], k, 0, s, b + 1, next(tick), node))
                if k < max_trips:
                    i, p = ev_ref[s][b]
                    arr = inst[i].stops[p + 1][1]
                    if arr <= horizon:
                        heapq.heappush(heap, (arr, k + 1, 1, i, p + 1, next(tick), node))
                continue
            i, j = a, b  # on board instance i, at position j
            if seen_on.get((i, j), INF) <= k:  # type: ignore[arg-type]
                continue
            seen_on[(i, j)] = k  # type: ignore[index]
            node = (1, i, j, k)
            parent[node] = via
            stops = inst[i].stops  # type: ignore[index]
            if j + 1 < len(stops) and stops[j + 1][1] <= horizon:
                heapq.heappush(heap, (stops[j + 1][1], k, 1, i, j + 1, next(tick), node))
            s, arr, _d, _pick, drop = stops[j]
            if drop:
                if s in dest:
                    found(arr + dest[s], k, node, "alight")
                for q, w in fps.get(s, ()):
                    if q in dest:
                        found(arr + w + dest[q], k, node, f"alight, walk {w}s to {q}")
                if k < max_trips and (s in self._rule_from or None in self._rule_from):
                    for q, t_b, ib, pb in self._ruled_boardings(
                            inst[i].key[0], s, arr, horizon, extra_change_s):  # type: ignore[index]
                        heapq.heappush(heap, (inst[ib].stops[pb + 1][1], k + 1, 1, ib, pb + 1,
                                              next(tick), (*node, "walk", q, t_b - arr)))
                elif k < max_trips:
                    wait_at(s, arr + self.change_s.get(s, self.default_change_s)
                            + extra_change_s, k, node)
                    for q, w in fps.get(s, ()):
                        wait_at(q, arr + w, k, (*node, "walk", q, w))
            if j == len(stops) - 1:
                u = self._next.get(i)  # type: ignore[arg-type]
                if u is not None and len(inst[u].stops) > 1:
                    nxt = inst[u].stops[1][1]
                    if nxt <= horizon:
                        heapq.heappush(heap, (nxt, k, 1, u, 1, next(tick), (*node, "seated")))
        return best

    def _ruled_boardings(self, a: str, s: str, arr: int, horizon: int, extra: int
                         ) -> list[tuple[str, int, int, int]]:
        """(stop, departure, instance, position) of every boarding a rider alighting from
        trip a at s at `arr` may make under the rules (each trip's first such departure)."""
        places = {s} | {q for q, _ in self.footpaths.get(s, ())} | {
            r.to_stop for r in self.rules if r.from_stop in (s, None) and r.to_stop}
        out = []
        for q in places:
            times = self._ev_time.get(q, [])
            seen: set[str] = set()
            for x in range(bisect_left(times, arr), len(times)):
                if times[x] > horizon:
                    break
                ib, pb = self._ev_ref[q][x]
                b = self.instances[ib].key[0]  # type: ignore[index]
                gap = self.change_gap(a, s, b, q, extra)
                if gap is not None and times[x] >= arr + gap and (b, ib) not in seen:
                    seen.add((b, ib))  # type: ignore[arg-type]
                    out.append((q, times[x], ib, pb))
        return out

    def explain(self, k: int) -> str:
        """The journey behind best[k] of the last earliest_by_trips call, as text."""
        if not self.last_paths[k]:
            return "none"
        node, how, parent = self.last_paths[k]
        chain = []
        cur: tuple = node
        while cur[0] != -1:
            via = parent[cur[:4]]
            chain.append((cur[:4], via))
            cur = via
        chain.reverse()
        steps = [f"from {cur[1]}"] + ([f"walk {cur[4]}s to {cur[3]}"] if len(cur) > 2 else [])
        ride: list = []

        def close() -> None:
            if ride:
                i, b, e, seated = ride
                st = self.instances[i].stops
                steps.append(f"{'seated into ' if seated else ''}{self.instances[i].key} "
                             f"{st[b][0]} {_t(st[b][2])} -> {st[e][0]} {_t(st[e][1])}")
                ride.clear()

        for key, via in chain:
            if key[0] == 0:  # a departure event: reached by waiting, alighting or walking
                if via[0] == 1:
                    close()
                    if len(via) > 4 and via[4] == "walk":
                        steps.append(f"walk {via[6]}s to {via[5]}")
                continue
            i, j = key[1], key[2]
            if via[0] in (0, -1):  # boarded (or aboard from the start)
                close()
                ride.extend([i, j - 1, j, False])
            elif len(via) > 4 and via[4] == "seated":
                close()
                ride.extend([i, 0, j, True])
            else:
                ride[2] = j
        close()
        steps.append(how)
        return "; ".join(steps)

    def candidate_departures(self, origins: Iterable[tuple[str, int]], t0: int, t1: int,
                             walk_from_origins: bool = True) -> list[int]:
        """Instants in [t0, t1] at which leaving the origin just catches a departure."""
        out: set[int] = set()
        for o, access in origins:
            out.update(x - access for x in self.departure_times(o, t0 + access, t1 + access))
            if walk_from_origins:
                for q, w in self.footpaths.get(o, ()):
                    out.update(x - access - w for x in self.departure_times(
                        q, t0 + access + w, t1 + access + w))
        return sorted(out)

    def latest_by_trips(
        self, origins: list[tuple[str, int]], destinations: list[tuple[str, int]],
        t_end: int, max_trips: int, horizon_s: int, extra_change_s: int = 0,
        walk_from_origins: bool = True,
    ) -> list[int]:
        """For k = 0 .. max_trips, the latest departure from the origin arriving by t_end
        with at most k trips; -INF when none. With trips, the departure is one of the instants
        that just catch a departure (from t_end - horizon_s): earliest arrival never
        decreases with the departure time, so a binary search over them finds it. Without a
        trip (an origin stop that is, or is a footpath from, a destination stop) it is t_end
        less the walks."""
        cands = self.candidate_departures(origins, t_end - horizon_s, t_end, walk_from_origins)
        dest = dict(destinations)
        walk_only = -INF  # without a trip: to a destination stop, or one footpath from it
        for o, access in origins:
            if o in dest:
                walk_only = max(walk_only, t_end - access - dest[o])
            for q, w in self.footpaths.get(o, []) if walk_from_origins else []:
                if q in dest:
                    walk_only = max(walk_only, t_end - access - w - dest[q])
        out = []
        for k in range(max_trips + 1):
            lo, hi, got = 0, len(cands) - 1, walk_only
            while lo <= hi:
                mid = (lo + hi) // 2
                ea = self.earliest_by_trips(origins, destinations, cands[mid], k,
                                            t_end - cands[mid] + 1, extra_change_s,
                                            walk_from_origins)[k]
                if ea <= t_end:
                    got, lo = max(got, cands[mid]), mid + 1
                else:
                    hi = mid - 1
            out.append(got)
        return out


def pareto_front(best: list[int]) -> list[tuple[int, int]]:
    """(arrival, trips) of the Pareto set given the earliest arrival per trip bound."""
    out = []
    prev = INF
    for k, t in enumerate(best):
        if t < prev:
            out.append((t, k))
            prev = t
    return out


# -- raw GTFS ---------------------------------------------------------------------------------

class RawFeed:
    """One operator's feed read from its GTFS text files: trips, their stop times (with
    untimed rows interpolated), calendars and time zones. Ids are given the OP: prefix."""

    def __init__(self, operator: str, path: Path) -> None:
        self.operator = operator
        t = {n: _read(path, f"{n}.txt") for n in (
            "agency", "routes", "trips", "stop_times", "calendar", "calendar_dates",
            "frequencies", "transfers")}
        assert t["frequencies"] is None or t["frequencies"].empty, "frequencies not modelled"
        agency, routes, trips, st = t["agency"], t["routes"], t["trips"], t["stop_times"]
        assert agency is not None and routes is not None and trips is not None
        assert st is not None
        self.calendar, self.calendar_dates = t["calendar"], t["calendar_dates"]
        agency_tz = dict(zip(_column(agency, "agency_id"), agency["agency_timezone"],
                             strict=True))
        default_tz = agency["agency_timezone"].iloc[0]
        route_tz = {r: agency_tz.get(a, default_tz) if len(agency) > 1 else default_tz
                    for r, a in zip(routes["route_id"], _column(routes, "agency_id"),
                                    strict=True)}
        self.trip_ids = trips["trip_id"].tolist()
        self.trip_service = trips["service_id"].tolist()
        self.trip_tz = [route_tz[r] for r in trips["route_id"]]
        self.trip_block = _column(trips, "block_id").tolist()
        self.trip_wheelchair = _column(trips, "wheelchair_accessible").tolist()
        self.trip_route = trips["route_id"].tolist()
        self.rules = _rules(operator, t["transfers"])

        st = st.assign(seq=st["stop_sequence"].astype(int))
        st = st.sort_values(["trip_id", "seq"], kind="stable").reset_index(drop=True)
        dep = departure_seconds(st)
        arr = gtfs_seconds(st["arrival_time"]).fillna(gtfs_seconds(st["departure_time"]))
        arr = arr.fillna(pd.Series(dep, index=st.index)).to_numpy(np.int64)
        pick = (_column(st, "pickup_type") != "1").to_numpy()
        drop = (_column(st, "drop_off_type") != "1").to_numpy()
        stop = (operator + ":" + st["stop_id"]).to_numpy()
        bounds = np.flatnonzero(np.r_[True, st["trip_id"].to_numpy()[1:]
                                      != st["trip_id"].to_numpy()[:-1], True])
        self.rows: dict[str, tuple[int, int]] = {
            st["trip_id"].iat[lo]: (int(lo), int(hi)) for lo, hi in itertools.pairwise(bounds)}
        self._arr, self._dep, self._pick, self._drop, self._stop = arr, dep, pick, drop, stop
        self._active: dict[date, set[str]] = {}

    def services_on(self, d: date) -> set[str]:
        if d not in self._active:
            self._active[d] = active_services(self.calendar, self.calendar_dates, d)
        return self._active[d]

    def instances(self, days: Iterable[date], t_lo: int, t_hi: int) -> list[Instance]:
        """Trip instances of the given service days with a stop time in [t_lo, t_hi]."""
        out = []
        for d in days:
            active = self.services_on(d)
            bases: dict[str, int] = {}
            for k, trip in enumerate(self.trip_ids):
                if self.trip_service[k] not in active or trip not in self.rows:
                    continue
                tz = self.trip_tz[k]
                if tz not in bases:
                    bases[tz] = day_start_utc(d, tz)
                base = bases[tz]
                lo, hi = self.rows[trip]
                if base + int(self._arr[hi - 1]) < t_lo or base + int(self._dep[lo]) > t_hi:
                    continue
                stops = [(str(self._stop[r]), base + int(self._arr[r]),
                          base + int(self._dep[r]), bool(self._pick[r]), bool(self._drop[r]))
                         for r in range(lo, hi)]
                block = self.trip_block[k]
                out.append(Instance(
                    (f"{self.operator}:{trip}", d.isoformat()), stops,
                    (self.operator, block, self.trip_service[k], d.isoformat())
                    if block else None))
        return out


def _rules(operator: str, df: pd.DataFrame | None) -> list[Rule]:
    """The transfers.txt rows of types 0-3 naming a trip or a route, ids prefixed."""
    out: list[Rule] = []
    if df is None:
        return out
    for _, row in df.iterrows():
        vals = {c: (f"{operator}:{row[c]}" if row.get(c) else None) for c in (
            "from_stop_id", "to_stop_id", "from_trip_id", "from_route_id", "to_trip_id",
            "to_route_id")}
        kind = int(row["transfer_type"] or 0)
        if kind > 3 or not any(vals[c] for c in ("from_trip_id", "from_route_id",
                                                    "to_trip_id", "to_route_id")):
            continue
        mins = row.get("min_transfer_time", "")
        out.append(Rule(vals["from_stop_id"], vals["to_stop_id"], vals["from_trip_id"],
                        vals["from_route_id"], vals["to_trip_id"], vals["to_route_id"], kind,
                        int(mins) if mins else None))
    return out


def _read(path: Path, name: str) -> pd.DataFrame | None:
    if path.is_dir():
        f = path / name
        if not f.exists():
            return None
        df = pd.read_csv(f, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        df.columns = [c.strip() for c in df.columns]
        for c in df.columns:
            df[c] = df[c].str.strip()
        return df
    return read_table(path, name)


def days_around(d: date, before: int = 3, after: int = 1) -> list[date]:
    return [d + timedelta(days=k) for k in range(-before, after + 1)]


def _t(x: int) -> str:
    return datetime.fromtimestamp(x, UTC).strftime("%m-%dT%H:%M:%SZ")
