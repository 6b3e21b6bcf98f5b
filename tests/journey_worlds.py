"""Random networks and their brute-force references (tests/routing_reference.py): the
worlds the engine is compared against in test_journeys_brute_force and test_search_indexes."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from tests.feeds import write_feed
from tests.journey_support import AGENCY, DAILY, ROUTES, ST, TZ, footpaths_of, show
from tests.routing_reference import (
    INF,
    Instance,
    RawFeed,
    Reference,
    block_continuations,
    days_around,
)
from transit.catalog import Catalog, Operator
from transit.ingest.pipeline import ingest
from transit.routing.network import Network
from transit.routing.search import Journey as EngineJourney
from transit.routing.search import Query, Searcher
from transit.timetable.store import Store
from transit.timetable.timetable import Timetable


def _hms(s: int) -> str:
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def random_feeds(rng: random.Random, directory: Path, n_ops: int = 3, rules: bool = False
                 ) -> dict[str, Path]:
    """Operators with stops around shared hubs (cross-operator footpaths), routes whose trips
    run from 04:00 to past 26:00, several calendars (weekdays, Sundays, single dates),
    pickup/drop-off restrictions, own change times (transfers.txt) and block continuations."""
    hubs = [(50.0 + rng.uniform(0, 0.03), 4.0 + rng.uniform(0, 0.04)) for _ in range(5)]
    feeds = {}
    for o in range(n_ops):
        op = "ABCDEF"[o]
        stops = []
        for i in range(rng.randint(6, 9)):
            if rng.random() < 0.5:
                lat, lon = rng.choice(hubs)
                lat, lon = lat + rng.uniform(-0.0015, 0.0015), lon + rng.uniform(-0.002, 0.002)
            else:
                lat, lon = 50.0 + rng.uniform(0, 0.03), 4.0 + rng.uniform(0, 0.04)
            stops.append((f"{op}{i}", lat, lon))
        names = [s for s, _, _ in stops]
        routes, trips, times = [], [], {}
        for r in range(rng.randint(2, 3)):
            seq = rng.sample(names, rng.randint(3, 5))
            routes.append(f"{op}R{r},{op},{r},Route {r},{rng.choice([3, 2, 0, 4])}\n")
            hops = [rng.randint(1, 8) * 60 for _ in seq[1:]]
            dwell = [rng.choice([0, 0, 60]) for _ in seq]
            for _ in range(rng.randint(4, 9)):
                t = rng.randrange(4 * 3600, 26 * 3600, 60)
                rows = []
                for i, s in enumerate(seq):
                    inner = 0 < i < len(seq) - 1
                    rows.append((s, t, t + dwell[i], "1" if inner and rng.random() < 0.1 else "",
                                 "1" if inner and rng.random() < 0.1 else ""))
                    if i < len(hops):
                        t += dwell[i] + hops[i] + rng.choice([0, 0, 60])
                trip = f"{op}T{len(trips)}"
                trips.append([f"{op}R{r}", rng.choice(["DAILY", "DAILY", "WEEK", "SUN", "ODD"]),
                              trip, ""])
                times[trip] = rows
        for b in range(rng.randint(1, 3)):  # the vehicle of a trip continues as another
            k = rng.randrange(len(trips))
            last, end = times[trips[k][2]][-1][:2]
            t = end + rng.choice([0, 120, 300])
            rows = []
            for s in [last, *rng.sample([n for n in names if n != last], 2)]:
                rows.append((s, t, t, "", ""))
                t += rng.randint(2, 6) * 60
            trips[k][3] = f"BL{b}"
            trip = f"{op}T{len(trips)}"
            trips.append([f"{op}R0", trips[k][1], trip, f"BL{b}"])
            times[trip] = rows
        feeds[op] = write_feed(directory / op, {
            "agency.txt": AGENCY.format(op=op, tz=TZ),
            "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\n" + "".join(
                f"{s},Stop {s},{la:.6f},{lo:.6f}\n" for s, la, lo in stops),
            "routes.txt": ROUTES + "".join(routes),
            "calendar.txt": DAILY + "WEEK,1,1,1,1,1,0,0,20260101,20261231\n"
                                    "SUN,0,0,0,0,0,0,1,20260101,20261231\n",
            "calendar_dates.txt": "service_id,date,exception_type\nWEEK,20260602,2\n" + "".join(
                f"ODD,{d},1\n" for d in ("20260328", "20260329", "20260330", "20261024",
                                         "20261025", "20260602", "20260603")),
            "transfers.txt": "from_stop_id,to_stop_id,transfer_type,min_transfer_time,"
            "from_route_id,to_route_id,from_trip_id,to_trip_id\n"
            + "".join(f"{s},{s},2,{rng.choice([0, 60, 300])},,,,\n" for s in rng.sample(names, 2))
            + (random_rules(rng, names, trips, times) if rules else ""),
            "trips.txt": "route_id,service_id,trip_id,block_id\n" + "".join(
                ",".join(t) + "\n" for t in trips),
            "stop_times.txt": ST.strip() + ",pickup_type,drop_off_type\n" + "".join(
                f"{t},{_hms(a)},{_hms(d)},{s},{i + 1},{pu},{do}\n"
                for t, rows in times.items() for i, (s, a, d, pu, do) in enumerate(rows))})
    return feeds


def random_rules(rng: random.Random, names: list[str], trips: list[list[str]],
                 times: dict[str, list[tuple]]) -> str:
    """transfers.txt rows for some trips or routes (types 0-3): at a stop two trips call at,
    from one to the other (or their routes, or any), at that stop or to another one."""
    calls: dict[str, list[list[str]]] = {}
    for t in trips:
        for row in times[t[2]]:
            calls.setdefault(row[0], []).append(t)
    busy = [s for s, ts in calls.items() if len(ts) >= 2]
    rows = ""
    for _ in range(rng.randint(8, 14)):
        s = rng.choice(busy)
        a, b = rng.sample(calls[s], 2)
        to = s if rng.random() < 0.7 else rng.choice(names)
        side = [rng.choice(["trip", "trip", "route", "none"]) for _ in range(2)]
        if side == ["none", "none"]:
            side[1] = "trip"
        fr, ft = (a[0], "") if side[0] == "route" else ("", a[2] if side[0] == "trip" else "")
        tr, tt_ = (b[0], "") if side[1] == "route" else ("", b[2] if side[1] == "trip" else "")
        kind = rng.choice([0, 1, 2, 2, 3, 3])
        mins = rng.choice([0, 60, 300, 900]) if kind == 2 else ""
        rows += f"{s},{to},{kind},{mins},{fr},{tr},{ft},{tt_}\n"
    return rows


def reference_of(tt: Timetable, raws: list[RawFeed], days: list[date], t_lo: int,
                 t_hi: int) -> Reference:
    """The brute force over the raw feeds' trip instances, with the timetable's footpaths and
    change times (footpath generation is tested elsewhere)."""
    instances: list[Instance] = [i for r in raws for i in r.instances(days, t_lo, t_hi)]
    fps: dict[str, list[tuple[str, int]]] = {}
    for (a, b), (secs, _m, _k) in footpaths_of(tt).items():
        fps.setdefault(a, []).append((b, secs))
    ids = tt.strings("stop_id").to_list()
    change = dict(zip(ids, np.asarray(tt.stop_change_s).tolist(), strict=True))
    routes = {f"{r.operator}:{t}": f"{r.operator}:{x}" for r in raws
              for t, x in zip(r.trip_ids, r.trip_route, strict=True)}
    return Reference(instances, fps, change, block_continuations(instances),
                     rules=[x for r in raws for x in r.rules], trip_route=routes)


@dataclass
class World:
    """A compiled network, its engine, and the brute force per query date."""

    tt: Timetable
    searcher: Searcher
    raws: list[RawFeed]
    tz: str
    refs: dict[date, Reference] = field(default_factory=dict)

    def ref(self, d: date, t_lo: int | None = None, t_hi: int | None = None) -> Reference:
        if d not in self.refs:
            midnight = int(datetime.combine(d, time(0), ZoneInfo(self.tz)).timestamp())
            self.refs[d] = reference_of(
                self.tt, self.raws, days_around(d), midnight - 86400 if t_lo is None else t_lo,
                midnight + 3 * 86400 if t_hi is None else t_hi)
        return self.refs[d]

    def query(self, origins: list[tuple[str, int]], destinations: list[tuple[str, int]],
              t: int, max_transfers: int, extra: int = 0, walk: bool = True,
              max_duration_s: int = 24 * 3600) -> Query:
        idx = self.tt.stop_index
        return Query(origins=[(idx[s], a) for s, a in origins],
                     destinations=[(idx[s], e) for s, e in destinations], time=t,
                     max_transfers=max_transfers, extra_change_s=extra,
                     walk_from_origins=walk, max_duration_s=max_duration_s)

    def describe(self, j: EngineJourney) -> str:
        ids, trips = self.tt.strings("stop_id"), self.tt.strings("trip_id")
        parts = []
        for leg in j.legs:
            if leg.kind == "walk":
                parts.append(f"walk {ids[leg.from_stop]} -> {ids[leg.to_stop]} "
                             f"{leg.arrival - leg.departure}s")
            else:
                parts.append(f"{'seated ' if leg.stay_seated else ''}{trips[leg.trip]} "
                             f"{ids[leg.from_stop]} {show(leg.departure, self.tz)[11:19]} -> "
                             f"{ids[leg.to_stop]} {show(leg.arrival, self.tz)[5:19]}")
        return f"[{j.trips} trips, arr {show(j.arrival, self.tz)}] " + "; ".join(parts)


def world_of(tt: Timetable, feeds: dict[str, Path], tz: str) -> World:
    return World(tt, Searcher(Network.of(tt)), [RawFeed(op, p) for op, p in feeds.items()], tz)


def engine_best(w: World, js: list[EngineJourney], destinations: list[tuple[str, int]],
                max_trips: int) -> list[int]:
    """Earliest arrival (egress included) with at most k trips, k = 0 .. max_trips."""
    egress = {w.tt.stop_index[s]: e for s, e in destinations}
    best = [INF] * (max_trips + 1)
    for j in js:
        for k in range(j.trips, max_trips + 1):
            best[k] = min(best[k], j.arrival + egress[j.last_stop])
    return best


def engine_journey_problems(w: World, ref: Reference, j: EngineJourney,
                            origins: list[tuple[str, int]], t0: int, extra: int,
                            aboard: bool = False) -> list[str]:
    """An engine journey checked against the raw trip instances and footpaths (`aboard`:
    the rider is on the first leg's trip from the start, boarded before)."""
    ids, trip_ids = w.tt.strings("stop_id"), w.tt.strings("trip_id")
    access = dict(origins)
    out = []
    prev = None
    alighted = None  # (trip, stop, arrival) of the last trip leg
    for i, leg in enumerate(j.legs):
        a, b = ids[leg.from_stop], ids[leg.to_stop]
        seated_on = i + 1 < len(j.legs) and j.legs[i + 1].stay_seated
        if leg.kind == "walk":
            ruled = any(r.from_stop == a and r.to_stop == b for r in ref.rules)
            if (b, leg.arrival - leg.departure) not in ref.footpaths.get(a, []) and not ruled:
                out.append(f"walk {a} -> {b} of {leg.arrival - leg.departure}s: no footpath")
            prev = ("walk", b, leg.arrival)
            continue
        key = (trip_ids[leg.trip], w.tt.service_date(leg.day).isoformat())
        inst = ref.instance(key)
        if inst is None:
            out.append(f"{key} does not run")
            continue
        st = inst.stops
        if not (0 <= leg.board_pos < leg.alight_pos < len(st)) or (
                st[leg.board_pos][0], st[leg.board_pos][2], st[leg.alight_pos][0],
                st[leg.alight_pos][1]) != (a, leg.departure, b, leg.arrival):
            out.append(f"{key}: not {a} {show(leg.departure, w.tz)} -> {b} "
                       f"{show(leg.arrival, w.tz)}")
        elif (not st[leg.alight_pos][4] and not seated_on) or (
                not st[leg.board_pos][3] and not leg.stay_seated and not (aboard and i == 0)):
            out.append(f"{key}: boards or alights where the feed forbids it")
        if prev is None:
            if leg.departure < t0 + access.get(a, 0):
                out.append(f"{key}: leaves before the origin is reached")
        elif leg.stay_seated:
            if prev[0] != "trip" or ref.continuation.get(prev[3]) != key:
                out.append(f"{key}: is not the block continuation of {prev}")
        elif ref.rules and alighted is not None:
            gap = ref.change_gap(alighted[0], alighted[1], key[0], a, extra)
            if gap is None or leg.departure < alighted[2] + gap:
                out.append(f"{key}: the change from {alighted} at {a} breaks the rules "
                           f"({gap} s needed)")
        elif prev[0] == "trip" and leg.departure < prev[2] + ref.change_s[a] + extra:
            out.append(f"{key}: change at {a} too short")
        elif prev[0] == "walk" and leg.departure < prev[2]:
            out.append(f"{key}: leaves before the walk ends")
        prev = ("trip", b, leg.arrival, key)
        alighted = (key[0], b, leg.arrival)
    return out


def random_queries(rng: random.Random, w: World, stops: list[str], dates: list[date],
                   n: int) -> Iterator[tuple]:
    """(ref, origins, destinations, t0, max_transfers, extra, walk): stop to stop, or from
    a set of stops with access walks like a coordinate (a stop and its footpath neighbours)
    to such a set or to a stop."""
    for _ in range(n):
        d = rng.choice(dates)
        ref = w.ref(d)
        midnight = int(datetime.combine(d, time(0), ZoneInfo(w.tz)).timestamp())
        t0 = midnight + rng.randrange(3 * 3600, 26 * 3600, 60)
        o, dd = rng.sample(stops, 2)
        if rng.random() < 0.7:
            origins, dests, walk = [(o, 0)], [(dd, 0)], True
        else:
            a, e = rng.randint(0, 600), rng.randint(0, 600)
            origins = [(o, a)] + [(q, a + x) for q, x in ref.footpaths.get(o, [])]
            dests = [(dd, e)] + [(q, e + x) for q, x in ref.footpaths.get(dd, [])]
            if rng.random() < 0.4:  # from a coordinate to a stop
                dests = [(dd, 0)]
            walk = False
        yield ref, origins, dests, t0, rng.randint(0, 4), rng.choice([0, 0, 0, 60, 180]), walk


RANDOM_DATES = [date(2026, 3, 29), date(2026, 10, 25), date(2026, 6, 2), date(2026, 6, 3)]


@pytest.fixture(scope="module")
def random_worlds(tmp_path_factory: pytest.TempPathFactory) -> list[World]:
    worlds = []
    for seed in range(6):
        d = tmp_path_factory.mktemp(f"random{seed}")
        feeds = random_feeds(random.Random(seed), d)
        ops = tuple(Operator(id=op, name=op, gtfs=str(p)) for op, p in feeds.items())
        ingest(Catalog(ops), Store(d / "data"))
        tt = Store(d / "data").load_current()
        assert tt is not None
        worlds.append(world_of(tt, feeds, TZ))
    return worlds


@pytest.fixture(scope="module")
def ruled_worlds(tmp_path_factory: pytest.TempPathFactory) -> list[World]:
    """Random networks with trip- and route-specific transfers.txt rules."""
    worlds = []
    for seed in range(20, 25):
        d = tmp_path_factory.mktemp(f"ruled{seed}")
        feeds = random_feeds(random.Random(seed), d, rules=True)
        ops = tuple(Operator(id=op, name=op, gtfs=str(p)) for op, p in feeds.items())
        ingest(Catalog(ops), Store(d / "data"))
        tt = Store(d / "data").load_current()
        assert tt is not None
        worlds.append(world_of(tt, feeds, TZ))
    return worlds


def _compare(w: World, label: str, best: list[int], got: list[int], cap: int, ref: Reference,
             js: list[EngineJourney]) -> list[str]:
    best = [x if x <= cap else INF for x in best]
    got = [x if x <= cap else INF for x in got]
    if best == got:
        return []
    k = next(i for i in range(len(best)) if best[i] != got[i])
    return [f"{label}: earliest arrival by number of trips {[show(x, w.tz) for x in got]}, "
            f"brute force {[show(x, w.tz) for x in best]}; at most {k} trips the brute force "
            f"has: {ref.explain(k)}; the engine: {[w.describe(j) for j in js]}"]
