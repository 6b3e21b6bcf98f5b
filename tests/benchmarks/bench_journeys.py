"""Benchmark of journey planning on real feeds (not collected by pytest).

For the 29 merged Bay Area feeds (as of Wed 2018-08-29) and for SNCB (as of Mon 2019-03-18):

1. the compiled network's size (stops, patterns, trips, stop_times, footpaths);
2. query time, p50/p95/max over seeded random (origin stop, destination stop, time) triples,
   after a warm-up, for `depart_at`, `arrive_by` and 60-minute `depart_in_range` queries;
3. the same `depart_at` queries answered by nigiri (pynigiri, the C++ router of MOTIS), in
   rotation with ours, on inputs aligned as far as nigiri can represent them (see below):
   ratio of medians (ours / nigiri) and how many answers agree (earliest arrival at minute
   resolution, transfers of the fastest journey, whole Pareto set); for each disagreement,
   nigiri's fastest journey is looked up leg by leg in our network, and a few are listed;
4. the same again with no footpath on either side (change times kept), which isolates the
   trip-riding part of both engines. (`[footpaths] radius_m = 0` would not do: stops at
   identical coordinates stay linked by 0 s footpaths.)

    .venv/bin/python tests/benchmarks/bench_journeys.py [--network bayarea|sncb|all]
                                 [--quick] [--data-dir DIR] [--shared-data DIR]

Needs ../shared/data (or --shared-data) and, for sections 3 and 4, `pip install pynigiri`
(0.1.5 when written); without it those sections are skipped.

What nigiri is given (one GTFS folder per network, written from the operators' zips):
- all operators merged into one feed with our ids (`OP:raw_id` for stops, trips, routes,
  services, agencies, blocks), so that footpaths between operators can be listed: nigiri reads
  several sources, but a transfers.txt row can only name stops of its own source;
- only the trips our timetable has; untimed stop_times filled with our interpolated times;
- stops without parent_station and with unique names (`name [OP:id]`), and
  `link_stop_distance = 0`, `adjust_footpaths = False`: nigiri then invents no footpath (it
  links same-name stops and parent/children by itself);
- transfers.txt replaced by our footpaths and change times, made representable in nigiri
  (which rounds up to minutes, makes every footpath at least as long as the change time at
  both of its ends, symmetric (shorter direction) and transitively closed below
  `max_footpath_length`); the same transformed footpaths and change times go into the
  network our engine answers the compared queries on, whose stop times are also cut to whole
  minutes as nigiri reads `HH:MM:SS` (it drops the seconds). Query times are whole minutes.
  The timings and the p50/p95 targets of section 2 use our unmodified network;
- nigiri queries: one start and one destination stop (EXACT match, no walk at either end
  beyond the footpaths), use_start_footpaths (ours walks from the origin too),
  max_transfers 5, max_travel_time 24 h (ours: max_duration_s 24 h). nigiri returns no
  walking-only journey, so those of ours are left out of the comparison.

Every ratio is measured within one run; on a shared machine, compare ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import heapq
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from report import Table, verdict

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
SEED = 20180829
MAX_TRANSFERS = 5
RANGE_WINDOW_S = 3600
FIRST_MIN, LAST_MIN = 5 * 60, 23 * 60  # query times: local 05:00 to 22:59, whole minutes
NIGIRI_PIN = "pynigiri==0.1.5"

# --------------------------------------------------------------------------- networks


@dataclass(frozen=True)
class Net:
    key: str
    title: str
    feeds: tuple[tuple[str, Path], ...]  # (operator id, GTFS zip)
    day: date
    tz: str
    targets: bool = False  # the p50/p95 targets apply


def networks(data: Path) -> dict[str, Net]:
    bay = sorted((data / "gtfs" / "bayarea-511-2018").glob("*.zip"))
    return {
        "bayarea": Net("bayarea", f"Bay Area 511 ({len(bay)} operators merged)",
                       tuple((p.name.split("-")[0], p) for p in bay), date(2018, 8, 29),
                       "America/Los_Angeles", targets=True),
        "sncb": Net("sncb", "SNCB/NMBS national rail",
                    (("SNCB", data / "gtfs" / "belgium" / "sncb-nmbs-2019-03-11.zip"),),
                    date(2019, 3, 18), "Europe/Brussels"),
    }


@dataclass(frozen=True)
class Sizes:
    depart: int
    arrive: int
    ranged: int
    nigiri: int
    warm: int
    show: int  # disagreements listed


FULL = Sizes(1000, 1000, 300, 1000, 5, 4)
QUICK = Sizes(60, 40, 15, 60, 2, 4)

# --------------------------------------------------------------------------- output


def step(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def ms(x: float) -> str:
    return f"{x * 1e3:.2f} ms" if x < 0.1 else f"{x * 1e3:.0f} ms"


def pctl(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if values else 0.0


def pstats(values: list[float]) -> str:
    return f"{ms(pctl(values, 50))} / {ms(pctl(values, 95))} / {ms(max(values, default=0))}"


# --------------------------------------------------------------------------- compile


def compile_network(net: Net, data_dir: Path) -> Any:
    from transit.catalog import Catalog, Operator
    from transit.ingest.pipeline import ingest
    from transit.timetable.store import Store

    ops = tuple(Operator(id=op, name=op, gtfs=str(p)) for op, p in net.feeds)
    ingest(Catalog(ops), Store(data_dir))
    return Store(data_dir).load_current()


# --------------------------------------------------------------------------- queries


@dataclass(frozen=True)
class Q:
    origin: int
    dest: int
    time: int  # Unix seconds, a whole minute


def local_midnight(net: Net) -> int:
    return int(datetime.combine(net.day, dtime(0), tzinfo=ZoneInfo(net.tz)).timestamp())


def make_queries(tt: Any, net: Net, n: int, rng: np.random.Generator) -> list[Q]:
    ev = np.asarray(tt.ev_offsets)
    stops = np.flatnonzero(ev[1:] > ev[:-1])
    base = local_midnight(net)
    out: list[Q] = []
    while len(out) < n:
        o, d = (int(x) for x in rng.choice(stops, 2, replace=False))
        minute = int(rng.integers(FIRST_MIN, LAST_MIN))
        # local wall clock -> Unix (the day has no DST change in either network)
        out.append(Q(o, d, base + minute * 60))
    return out


def engine_query(q: Q) -> Any:
    from transit.routing.search import Query

    return Query(origins=[(q.origin, 0)], destinations=[(q.dest, 0)], time=q.time,
                 max_transfers=MAX_TRANSFERS)


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


@dataclass
class KindResult:
    times: list[float]
    answered: int
    answers: list[list[Any]]


def bench_kind(searcher: Any, kind: str, queries: list[Q], warm: int) -> KindResult:
    def call(q: Q) -> list[Any]:
        eq = engine_query(q)
        if kind == "depart_at":
            return searcher.depart_at(eq)
        if kind == "arrive_by":
            return searcher.arrive_by(eq)
        return searcher.depart_in_range(eq, RANGE_WINDOW_S)

    for q in queries[:warm]:  # numba compiles (or loads its cache) on the first call
        call(q)
    times: list[float] = []
    answers: list[list[Any]] = []
    for q in queries[warm:]:
        js, dt = timed(lambda q=q: call(q))
        times.append(dt)
        answers.append(js)
    return KindResult(times, sum(bool(js) for js in answers), answers)


# --------------------------------------------------------------------------- aligned inputs


@dataclass
class Aligned:
    change_min: np.ndarray  # per stop, whole minutes
    fp_offsets: np.ndarray
    fp_to: np.ndarray
    fp_min: np.ndarray  # whole minutes
    max_footpath_length: int  # nigiri keeps closed footpaths shorter than this (minutes)
    raw_edges: int
    raised: int  # footpaths our engine has that are shorter than a change time at an end


def align_footpaths(tt: Any, walk: bool = True) -> Aligned:
    """Our footpaths and change times as nigiri will hold them (see the module doc):
    minutes rounded up; each footpath at least the change time at both ends; symmetric
    (shorter direction); transitively closed (shortest walks) below the bound. Without
    `walk`, no footpath at all (the change times stay)."""
    n = len(tt.stop_change_s)
    ch = -(-np.asarray(tt.stop_change_s, dtype=np.int64) // 60)
    off = np.asarray(tt.fp_offsets)
    to = np.asarray(tt.fp_to, dtype=np.int64)
    dur = np.asarray(tt.fp_duration_s, dtype=np.int64)
    frm = np.repeat(np.arange(n), np.diff(off))
    change_s = np.asarray(tt.stop_change_s, dtype=np.int64)
    raised = int(((dur < change_s[frm]) | (dur < change_s[to])).sum())
    edges: dict[tuple[int, int], int] = {}
    for a, b, d in zip(frm.tolist(), to.tolist(), dur.tolist(), strict=True):
        if a == b or not walk:
            continue
        m = max(-(-d // 60), int(ch[a]), int(ch[b]))
        key = (a, b) if a < b else (b, a)
        if m < edges.get(key, 1 << 30):
            edges[key] = m
    bound = max(edges.values(), default=1) + 1
    adj: dict[int, list[tuple[int, int]]] = {}
    for (a, b), m in edges.items():
        adj.setdefault(a, []).append((b, m))
        adj.setdefault(b, []).append((a, m))
    rows: list[tuple[int, int, int]] = []
    for s in sorted(adj):
        dist = {s: 0}
        heap = [(0, s)]
        while heap:
            d, u = heapq.heappop(heap)
            if d > dist[u]:
                continue
            for v, m in adj[u]:
                nd = d + m
                if nd < bound and nd < dist.get(v, 1 << 30):
                    dist[v] = nd
                    heapq.heappush(heap, (nd, v))
        rows.extend((s, v, max(d, int(ch[s]), int(ch[v]))) for v, d in dist.items() if v != s)
    rows.sort()
    src = np.array([r[0] for r in rows], dtype=np.int64)
    return Aligned(
        change_min=ch,
        fp_offsets=np.r_[0, np.cumsum(np.bincount(src, minlength=n))].astype(np.int64),
        fp_to=np.array([r[1] for r in rows], dtype=np.int32),
        fp_min=np.array([r[2] for r in rows], dtype=np.int32),
        max_footpath_length=bound, raw_edges=len(dur), raised=raised)


def aligned_network(net: Any, al: Aligned) -> Any:
    """Our network with the aligned footpaths and change times, stop times cut to minutes."""
    n = len(al.change_min)
    fp_from = np.repeat(np.arange(n), np.diff(al.fp_offsets))
    to = al.fp_to.astype(np.int64)
    order = np.lexsort((fp_from, to))
    dur_s = al.fp_min.astype(np.int32) * 60
    return dataclasses.replace(
        net,
        st_arr=(np.asarray(net.st_arr) // 60 * 60).astype(net.st_arr.dtype),
        st_dep=(np.asarray(net.st_dep) // 60 * 60).astype(net.st_dep.dtype),
        stop_change_s=(al.change_min * 60).astype(np.asarray(net.stop_change_s).dtype),
        fp_offsets=al.fp_offsets, fp_to=al.fp_to, fp_duration_s=dur_s,
        fpi_offsets=np.r_[0, np.cumsum(np.bincount(to, minlength=n))].astype(np.int64),
        fpi_from=fp_from[order].astype(np.int32), fpi_duration_s=dur_s[order])


# --------------------------------------------------------------------------- nigiri feed


def read_csv(zf: zipfile.ZipFile, name: str) -> Iterator[dict[str, str]]:
    if name not in zf.namelist():
        return iter(())
    return csv.DictReader(io.TextIOWrapper(zf.open(name), encoding="utf-8-sig", newline=""))


class Writer:
    """One merged GTFS file; columns are the union over the operators, in first-seen order."""

    def __init__(self) -> None:
        self.rows: list[dict[str, str]] = []
        self.fields: dict[str, None] = {}

    def add(self, row: dict[str, str]) -> None:
        for k in row:
            if k is not None:
                self.fields.setdefault(k, None)
        self.rows.append(row)

    def write(self, path: Path) -> None:
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=list(self.fields), extrasaction="ignore")
            w.writeheader()
            w.writerows(self.rows)


def hms(seconds: int) -> str:
    h, rem = divmod(int(seconds), 3600)
    m, s = divmod(rem, 60)
    return f"{h:02d}:{m:02d}:{s:02d}"


@dataclass
class FeedInfo:
    trips_written: int
    trips_skipped: int  # in the zips but not in our timetable
    filled: int  # untimed stop_times given our interpolated times
    transfers: int
    self_transfers: int


def write_nigiri_feed(net: Net, tt: Any, al: Aligned, out: Path) -> FeedInfo:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    trip_index = tt.trip_index
    trip_pattern = np.asarray(tt.trip_pattern)
    pso = np.asarray(tt.pattern_stop_offsets)
    st0 = np.asarray(tt.trip_st_start)
    st_seq = np.asarray(tt.st_seq)
    st_arr, st_dep = np.asarray(tt.st_arr), np.asarray(tt.st_dep)
    files = {n: Writer() for n in ("agency", "stops", "routes", "trips", "stop_times",
                                    "calendar", "calendar_dates", "frequencies")}
    skipped = filled = 0
    for op, zpath in net.feeds:
        def ns(v: str | None, op: str = op) -> str:
            v = (v or "").strip()
            return f"{op}:{v}" if v else ""

        with zipfile.ZipFile(zpath) as zf:
            agencies = list(read_csv(zf, "agency.txt"))
            default_agency = f"{op}:"
            if agencies:
                default_agency = ns(agencies[0].get("agency_id")) or default_agency
            for r in agencies:
                r["agency_id"] = ns(r.get("agency_id")) or f"{op}:"
                files["agency"].add(r)
            for r in read_csv(zf, "stops.txt"):
                r["stop_id"] = ns(r["stop_id"])
                r["stop_name"] = f"{r.get('stop_name', '')} [{r['stop_id']}]"
                r["parent_station"] = ""
                files["stops"].add(r)
            for r in read_csv(zf, "routes.txt"):
                r["route_id"] = ns(r["route_id"])
                r["agency_id"] = ns(r.get("agency_id")) or default_agency
                files["routes"].add(r)
            kept: set[str] = set()
            for r in read_csv(zf, "trips.txt"):
                tid = ns(r["trip_id"])
                if tid not in trip_index:
                    skipped += 1
                    continue
                kept.add(tid)
                r.update(trip_id=tid, route_id=ns(r["route_id"]), service_id=ns(r["service_id"]),
                         block_id=ns(r.get("block_id")), shape_id="")
                files["trips"].add(r)
            ours: dict[str, dict[int, tuple[int, int]]] = {}
            for r in read_csv(zf, "stop_times.txt"):
                tid = ns(r["trip_id"])
                if tid not in kept:
                    continue
                r["trip_id"], r["stop_id"] = tid, ns(r["stop_id"])
                if not r.get("arrival_time", "").strip() or \
                        not r.get("departure_time", "").strip():
                    if tid not in ours:
                        t = trip_index[tid]
                        p = int(trip_pattern[t])
                        lo = int(st0[t])
                        ours[tid] = {int(st_seq[lo + i]): (int(st_arr[lo + i]),
                                                           int(st_dep[lo + i]))
                                     for i in range(int(pso[p + 1] - pso[p]))}
                    a, d = ours[tid][int(r["stop_sequence"])]
                    if not r.get("arrival_time", "").strip():
                        r["arrival_time"] = hms(a)
                    if not r.get("departure_time", "").strip():
                        r["departure_time"] = hms(d)
                    filled += 1
                files["stop_times"].add(r)
            for name in ("calendar", "calendar_dates"):
                for r in read_csv(zf, f"{name}.txt"):
                    r["service_id"] = ns(r["service_id"])
                    files[name].add(r)
            for r in read_csv(zf, "frequencies.txt"):
                r["trip_id"] = ns(r["trip_id"])
                if r["trip_id"] in kept:
                    files["frequencies"].add(r)
    for name, w in files.items():
        if w.rows:
            w.write(out / f"{name}.txt")
    stop_ids = tt.strings("stop_id").to_list()
    n_self = 0
    with (out / "transfers.txt").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["from_stop_id", "to_stop_id", "transfer_type", "min_transfer_time"])
        for s in np.flatnonzero(al.change_min != 2):  # nigiri's default change time: 2 min
            w.writerow([stop_ids[s], stop_ids[s], 2, int(al.change_min[s]) * 60])
            n_self += 1
        for s in range(len(stop_ids)):
            for e in range(int(al.fp_offsets[s]), int(al.fp_offsets[s + 1])):
                w.writerow([stop_ids[s], stop_ids[int(al.fp_to[e])], 2, int(al.fp_min[e]) * 60])
    return FeedInfo(len(files["trips"].rows), skipped, filled, len(al.fp_to), n_self)


@contextlib.contextmanager
def quiet(log: Path) -> Iterator[None]:
    """nigiri logs to stdout and stderr from C++: send both file descriptors to a file."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with log.open("ab") as f:
        os.dup2(f.fileno(), 1)
        os.dup2(f.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def load_nigiri(ng: Any, net: Net, feed: Path, max_fp: int, log: Path) -> Any:
    cfg = ng.LoaderConfig()
    cfg.link_stop_distance = 0
    fo = ng.FinalizeOptions()
    fo.adjust_footpaths = False
    fo.merge_dupes_intra_src = False
    fo.merge_dupes_inter_src = False
    fo.max_footpath_length = max_fp
    first = (net.day - timedelta(days=1)).isoformat()
    last = (net.day + timedelta(days=2)).isoformat()
    with quiet(log):
        return ng.load_timetable([ng.TimetableSource("merged", str(feed), cfg)], first, last,
                                 fo)


# --------------------------------------------------------------------------- comparison


@dataclass(frozen=True)
class Answer:
    arrival_min: int | None  # earliest arrival (minutes since the epoch)
    transfers: int | None  # of the fastest journey (fewest among the earliest)
    pareto: frozenset[tuple[int, int]]  # (arrival minute, transfers)
    detail: Any
    walk_only: bool = False  # ours had a journey without a trip (left out)


def ours_answer(journeys: list[Any]) -> Answer:
    """Journeys without a trip (walking only) are left out: nigiri returns none."""
    riding = [j for j in journeys if j.trips > 0]
    walk_only = len(riding) < len(journeys)
    if not riding:
        return Answer(None, None, frozenset(), riding, walk_only)
    pareto = frozenset((j.arrival // 60, j.transfers) for j in riding)
    best = min(pareto)
    return Answer(best[0], best[1], pareto, riding, walk_only)


def nigiri_answer(journeys: list[Any]) -> Answer:
    if not journeys:
        return Answer(None, None, frozenset(), journeys)
    pareto = frozenset((int(j.arrival_time()), int(j.transfers)) for j in journeys)
    best = min(pareto)
    return Answer(best[0], best[1], pareto, journeys)


@dataclass
class Comparison:
    ours_s: list[float]  # on the aligned network
    real_s: list[float]  # on the unmodified network (if given)
    nigiri_s: list[float]
    pairs: list[tuple[Q, Answer, Answer]]
    unknown: int  # queries with a stop nigiri does not know


def compare(ng: Any, ntt: Any, searcher: Any, tt: Any, queries: list[Q], warm: int,
            real: Any = None) -> Comparison:
    """The queries on nigiri, on our aligned network and (timing only) on our unmodified
    network, one after the other per query, in an order that rotates."""
    stop_ids = tt.strings("stop_id")
    loc: dict[int, Any] = {}

    def location(s: int) -> Any:
        if s not in loc:
            loc[s] = ntt.find_location(stop_ids[s])
        return loc[s]

    def nq(q: Q) -> Any:
        x = ng.Query()
        x.start_time = q.time // 60
        x.start = [ng.Offset(location(q.origin), 0, 0)]
        x.destination = [ng.Offset(location(q.dest), 0, 0)]
        x.max_transfers = MAX_TRANSFERS
        x.max_travel_time = 24 * 60
        x.use_start_footpaths = True
        x.start_match_mode = ng.LocationMatchMode.EXACT
        x.dest_match_mode = ng.LocationMatchMode.EXACT
        return x

    usable = [q for q in queries if location(q.origin) is not None
              and location(q.dest) is not None]
    for q in usable[:warm]:
        ng.route(ntt, nq(q))
        searcher.depart_at(engine_query(q))
        if real is not None:
            real.depart_at(engine_query(q))
    c = Comparison([], [], [], [], len(queries) - len(usable))
    for i, q in enumerate(usable[warm:]):
        nquery, equery = nq(q), engine_query(q)
        calls: list[tuple[str, Callable[[], Any]]] = [
            ("ours", lambda e=equery: searcher.depart_at(e)),
            ("nigiri", lambda x=nquery: ng.route(ntt, x))]
        if real is not None:
            calls.append(("real", lambda e=equery: real.depart_at(e)))
        k = i % len(calls)  # rotate who goes first, so that noise hits all alike
        got: dict[str, tuple[Any, float]] = {}
        for name, fn in calls[k:] + calls[:k]:
            got[name] = timed(fn)
        c.ours_s.append(got["ours"][1])
        c.nigiri_s.append(got["nigiri"][1])
        if real is not None:
            c.real_s.append(got["real"][1])
        c.pairs.append((q, ours_answer(got["ours"][0]), nigiri_answer(got["nigiri"][0])))
    return c


def fmt_min(minute: int | None, tz: ZoneInfo) -> str:
    if minute is None:
        return "none"
    return datetime.fromtimestamp(minute * 60, tz).strftime("%a %H:%M")


def describe_ours(tt: Any, journeys: list[Any], tz: ZoneInfo) -> list[str]:
    sid = tt.strings("stop_id")
    tid = tt.strings("trip_id")
    out = []
    for j in sorted(journeys, key=lambda j: (j.arrival, j.trips)):
        legs = []
        for leg in j.legs:
            a = datetime.fromtimestamp(leg.departure, tz).strftime("%H:%M:%S")
            b = datetime.fromtimestamp(leg.arrival, tz).strftime("%H:%M:%S")
            if leg.kind == "walk":
                legs.append(f"walk {sid[leg.from_stop]}->{sid[leg.to_stop]} "
                            f"{leg.arrival - leg.departure}s")
            else:
                seat = " (stay seated)" if leg.stay_seated else ""
                legs.append(f"{tid[leg.trip]}{seat} {sid[leg.from_stop]} {a} -> "
                            f"{sid[leg.to_stop]} {b}")
        out.append(f"arr {fmt_min(j.arrival // 60, tz)}, {j.transfers} tr: " + "; ".join(legs))
    return out


def nigiri_stop(ntt: Any, x: Any) -> str:
    text = ntt.get_location_name(x)  # "name [OP:id]" (see write_nigiri_feed)
    return text[text.rfind("[") + 1:-1] if text.endswith("]") else text


def describe_nigiri(ntt: Any, journeys: list[Any], tz: ZoneInfo) -> list[str]:
    out = []
    for j in sorted(journeys, key=lambda j: (j.arrival_time(), j.transfers)):
        legs = []
        for leg in j.legs:
            f, t = getattr(leg, "from"), leg.to
            legs.append(f"{nigiri_stop(ntt, f)} {fmt_min(leg.dep_time, tz)[4:]} -> "
                        f"{nigiri_stop(ntt, t)} {fmt_min(leg.arr_time, tz)[4:]}")
        out.append(f"arr {fmt_min(j.arrival_time(), tz)}, {j.transfers} tr: "
                   + "; ".join(legs))
    return out


class Replay:
    """Finds each leg of a nigiri journey in our network: a footpath, one trip, or trips of
    one block ridden through (by our continuations, or by block_id only)."""

    def __init__(self, tt: Any, net: Any, al: Aligned, day: date) -> None:
        self.tt, self.net, self.al = tt, net, al
        self.idx = tt.stop_index
        self.pso = np.asarray(net.pattern_stop_offsets)
        self.pstops = np.asarray(net.pattern_stops)
        self.pto = np.asarray(net.pattern_trip_offsets)
        self.st0 = np.asarray(net.trip_st_start)
        self.tz = np.asarray(net.trip_tz)
        self.svc = np.asarray(net.trip_service)
        self.days = np.asarray(net.service_days)
        self.ref = np.asarray(net.tz_reference_utc)
        self.arr, self.dep = np.asarray(net.st_arr), np.asarray(net.st_dep)
        self.nxt = np.asarray(net.trip_next_in_block)
        self.pick = np.asarray(net.pattern_pickup)
        self.drop = np.asarray(net.pattern_dropoff)
        self.pattern = np.asarray(tt.trip_pattern)
        d0 = tt.day_of(day)
        self.day_range = [d for d in range(d0 - 3, d0 + 3) if 0 <= d < tt.n_days]
        names = tt.strings("trip_block").to_list()
        ops = np.asarray(tt.trip_operator)
        self.block: dict[tuple[int, str], list[int]] = {}
        for t, b in enumerate(names):
            if b:
                self.block.setdefault((int(ops[t]), b), []).append(t)
        self.block_of = {t: k for k, ts in self.block.items() for t in ts}

    def active(self, t: int, d: int) -> bool:
        s = int(self.svc[t])
        return bool((self.days[s, d >> 3] >> (d & 7)) & 1)

    def when(self, t: int, d: int, pos: int, arrival: bool) -> int:
        col = self.arr if arrival else self.dep
        return (int(self.ref[self.tz[t], d]) + int(col[self.st0[t] + pos])) // 60

    def n_pos(self, t: int) -> int:
        p = int(self.pattern[t])
        return int(self.pso[p + 1] - self.pso[p])

    def stop(self, t: int, pos: int) -> int:
        return int(self.pstops[self.pso[int(self.pattern[t])] + pos])

    def can_alight(self, t: int, pos: int) -> bool:
        return int(self.drop[self.pso[int(self.pattern[t])] + pos]) != 1

    def footpath(self, f: int, t: int) -> int | None:
        lo, hi = int(self.al.fp_offsets[f]), int(self.al.fp_offsets[f + 1])
        for e in range(lo, hi):
            if int(self.al.fp_to[e]) == t:
                return int(self.al.fp_min[e])
        return None

    def _block_next(self, t: int, d: int) -> int:
        """The next trip of t's block by block_id alone: starts where t ends, soonest."""
        key = self.block_of.get(t)
        if key is None:
            return -1
        end_stop = self.stop(t, self.n_pos(t) - 1)
        end = self.when(t, d, self.n_pos(t) - 1, True)
        best, best_dep = -1, 1 << 62
        for u in self.block[key]:
            if u == t or not self.active(u, d) or self.stop(u, 0) != end_stop:
                continue
            dep = self.when(u, d, 0, False)
            if end <= dep < best_dep:
                best, best_dep = u, dep
        return best

    def trip_leg(self, f: int, t: int, dep: int, arr: int) -> tuple[str, int]:
        """("trip", 1) | ("ours-block", n) | ("block_id", n) | ("missing", 0)."""
        found: tuple[str, int] = ("missing", 0)
        for e in range(int(self.net.sp_offsets[f]), int(self.net.sp_offsets[f + 1])):
            p, pos = int(self.net.sp_pattern[e]), int(self.net.sp_pos[e])
            if int(self.pick[self.pso[p] + pos]) == 1:
                continue  # no boarding there
            for u in range(int(self.pto[p]), int(self.pto[p + 1])):
                for d in self.day_range:
                    if not self.active(u, d) or self.when(u, d, pos, False) != dep:
                        continue
                    for rule in ("ours", "block_id"):
                        cur, start, n = u, pos + 1, 1
                        while cur >= 0 and n <= 12:
                            for j in range(start, self.n_pos(cur)):
                                if self.stop(cur, j) == t and self.can_alight(cur, j) and \
                                        self.when(cur, d, j, True) == arr:
                                    kind = "trip" if n == 1 else (
                                        "ours-block" if rule == "ours" else "block_id")
                                    if kind == "trip":
                                        return kind, 1
                                    if found[0] == "missing" or (
                                            kind == "ours-block" and found[0] == "block_id"):
                                        found = (kind, n)
                            nxt = int(self.nxt[cur]) if rule == "ours" else self._block_next(
                                cur, d)
                            if nxt >= 0 and not self.active(nxt, d):
                                nxt = -1
                            cur, start, n = nxt, 1, n + 1
        return found

    def classify(self, ntt: Any, journey: Any) -> str:
        notes: list[str] = []
        for leg in journey.legs:
            f = self.idx.get(nigiri_stop(ntt, getattr(leg, "from")), -1)
            t = self.idx.get(nigiri_stop(ntt, leg.to), -1)
            if f < 0 or t < 0:
                return "a nigiri stop is not ours"
            if f == t:
                continue  # nigiri's change at a stop
            dur = int(leg.arr_time) - int(leg.dep_time)
            m = self.footpath(f, t)
            if m is not None and m <= dur:
                continue
            kind, n = self.trip_leg(f, t, int(leg.dep_time), int(leg.arr_time))
            if kind == "missing":
                return (f"leg {nigiri_stop(ntt, getattr(leg, 'from'))}->"
                        f"{nigiri_stop(ntt, leg.to)} is not one of our trips or footpaths")
            if kind == "ours-block":
                notes.append(f"rides through {n} trips of a block (our continuations)")
            elif kind == "block_id":
                notes.append(f"rides through {n} trips of a block_id (not our continuation)")
        if notes:
            return "every leg exists in our network; " + "; ".join(sorted(set(notes)))
        return "every leg is one of our trips or footpaths (ours misses a feasible journey)"


def quick_changes(tt: Any, journeys: list[list[Any]]) -> tuple[int, int, int]:
    """Changes between trips (of all answers) by a footpath, with less time between the
    arrival and the next departure than the change time at the arrival stop; of those,
    through a 0 s footpath; and all changes by a footpath."""
    change = np.asarray(tt.stop_change_s)
    quick = zero = walked = 0
    for js in journeys:
        for j in js:
            trips = [i for i, leg in enumerate(j.legs) if leg.kind == "trip"]
            for a, b in pairwise(trips):
                walks = [leg for leg in j.legs[a + 1:b] if leg.kind == "walk"]
                if not walks or j.legs[b].stay_seated:
                    continue
                walked += 1
                prev, nxt = j.legs[a], j.legs[b]
                if nxt.departure - prev.arrival < change[prev.to_stop]:
                    quick += 1
                    zero += any(w.arrival == w.departure for w in walks)
    return quick, zero, walked


@dataclass
class NigiriRun:
    table: Table
    comparison: Comparison
    ratio: float
    agree_arr: float
    agree_tr: float
    listed: frozenset[Q]


def nigiri_section(ng: Any, net: Net, tt: Any, base_dir: Path, title: str,
                   queries: list[Q], sz: Sizes, real: Any = None, walk: bool = True,
                   show: int = 4, show_pareto: int = 1, skip: frozenset[Q] = frozenset()
                   ) -> NigiriRun:
    """`show` disagreements (and `show_pareto` on the Pareto set only) are listed, leaving
    out the queries in `skip` (listed before)."""
    from transit.routing.network import Network
    from transit.routing.search import Searcher

    tz = ZoneInfo(net.tz)
    step(f"{net.key}: {title}: aligning footpaths, writing the GTFS folder for nigiri")
    al, align_s = timed(lambda: align_footpaths(tt, walk))
    feed_dir = base_dir / "nigiri-gtfs"
    info, write_s = timed(lambda: write_nigiri_feed(net, tt, al, feed_dir))
    step(f"{net.key}: {title}: nigiri load_timetable")
    ntt, load_s = timed(lambda: load_nigiri(ng, net, feed_dir, al.max_footpath_length,
                                            base_dir / "nigiri.log"))
    anet = aligned_network(Network.of(tt), al)
    step(f"{net.key}: {title}: {len(queries) - sz.warm} depart_at queries, ours and nigiri "
         "in rotation")
    c = compare(ng, ntt, Searcher(anet), tt, queries, sz.warm, real)

    n = len(c.pairs)
    same_arr = sum(a.arrival_min == b.arrival_min for _, a, b in c.pairs)
    both = [(a, b) for _, a, b in c.pairs if a.arrival_min is not None
            and a.arrival_min == b.arrival_min]
    same_tr = sum(a.transfers == b.transfers for a, b in both)
    same_all = sum(a.arrival_min == b.arrival_min and a.transfers == b.transfers
                   for _, a, b in c.pairs)
    same_pareto = sum(a.pareto == b.pareto for _, a, b in c.pairs)
    ours_earlier = sum(1 for _, a, b in c.pairs if a.arrival_min is not None and (
        b.arrival_min is None or a.arrival_min < b.arrival_min))
    nigiri_earlier = sum(1 for _, a, b in c.pairs if b.arrival_min is not None and (
        a.arrival_min is None or b.arrival_min < a.arrival_min))
    fewer_tr = sum(1 for a, b in both if b.transfers is not None and a.transfers is not None
                   and b.transfers < a.transfers)
    answered = sum(a.arrival_min is not None for _, a, _ in c.pairs)
    m_ours, m_ng = pctl(c.ours_s, 50), pctl(c.nigiri_s, 50)
    ratio = m_ours / m_ng if m_ng else float("inf")
    per_query = statistics.median(
        x / y for x, y in zip(c.ours_s, c.nigiri_s, strict=True) if y > 0) if n else 0.0

    t = Table(f"[{net.key}] {title}")
    t.add("footpaths given to both (directed) / ours before",
          f"{len(al.fp_to):,} / {al.raw_edges:,}")
    if al.raised and walk:
        t.note(f"{al.raised:,} of our footpaths are shorter than the change time at one of "
               "their ends; nigiri raises them to it")
    t.add("change-time rows (not 2 min) / max_footpath_length",
          f"{info.self_transfers} / {al.max_footpath_length} min")
    t.add("GTFS folder: trips / untimed stop_times given our times",
          f"{info.trips_written:,} / {info.filled:,}")
    if info.trips_skipped:
        t.note(f"{info.trips_skipped} trips of the zips are not in our timetable: left out")
    t.add("align + write folder / nigiri load_timetable",
          f"{align_s + write_s:.1f} s / {load_s:.1f} s")
    t.add("nigiri locations / transports", f"{ntt.n_locations():,} / {ntt.n_transports():,}")
    if c.unknown:
        t.note(f"{c.unknown} queries skipped: a stop nigiri does not know")
    t.add("ours (aligned network) p50 / p95 / max", pstats(c.ours_s))
    t.add("nigiri p50 / p95 / max", pstats(c.nigiri_s))
    t.add("ratio of medians ours / nigiri", f"{ratio:.2f}", "<= 2", ratio <= 2.0)
    t.add("  median of per-query ratios", f"{per_query:.2f}")
    if c.real_s:
        t.add("  ours on the unmodified network, p50 / ratio",
              f"{ms(pctl(c.real_s, 50))} / {pctl(c.real_s, 50) / m_ng:.2f}")
    t.add("queries compared (answered by ours / by nigiri)",
          f"{n} ({answered} / {sum(b.arrival_min is not None for _, _, b in c.pairs)})")
    walk_only = sum(a.walk_only for _, a, _ in c.pairs)
    if walk_only:
        t.note(f"{walk_only} of ours had a walking-only journey, left out (nigiri gives none)")
    t.add("same earliest arrival (minute)", f"{same_arr}/{n} ({same_arr / max(n, 1):.1%})",
          "all", same_arr == n)
    t.add("  same transfers of the fastest (when same arrival)",
          f"{same_tr}/{len(both)}", "all", same_tr == len(both))
    t.add("  both agree", f"{same_all}/{n}")
    t.add("  same Pareto set (arrival, transfers)", f"{same_pareto}/{n}")
    t.add("  ours earlier / nigiri earlier", f"{ours_earlier} / {nigiri_earlier}")
    t.add("  same arrival, nigiri with fewer transfers", f"{fewer_tr}")

    # why: find nigiri's fastest journey leg by leg in our network
    replay = Replay(tt, anet, al, net.day)
    bad = [(q, a, b) for q, a, b in c.pairs
           if a.arrival_min != b.arrival_min or a.transfers != b.transfers]
    pareto_only = [(q, a, b) for q, a, b in c.pairs
                   if (q, a, b) not in bad and a.pareto != b.pareto]
    causes: dict[str, int] = {}
    cause_of: dict[int, str] = {}
    for i, (_, a, b) in enumerate(bad):
        better = (a.arrival_min is not None and (
            b.arrival_min is None or a.arrival_min < b.arrival_min or (
                a.arrival_min == b.arrival_min and (a.transfers or 0) < (b.transfers or 0))))
        if better or not b.detail:
            cause = "ours is better (earlier or fewer transfers)"
        else:
            fastest = min(b.detail, key=lambda j: (j.arrival_time(), j.transfers))
            cause = replay.classify(ntt, fastest)
        cause_of[i] = cause
        causes[cause] = causes.get(cause, 0) + 1
    if bad:
        t.note("nigiri's fastest journey of each disagreement, leg by leg in our network:")
        for cause, k in sorted(causes.items(), key=lambda x: -x[1]):
            t.note(f"  {k:4d}  {cause}")
    t.print()

    listing: list[str] = []
    sid = tt.strings("stop_id")
    order = sorted(range(len(bad)), key=lambda i: (
        bad[i][1].arrival_min == bad[i][2].arrival_min, cause_of[i], bad[i][0].time))
    shown: list[tuple[Q, Answer, Answer, str]] = [
        (*bad[i], cause_of[i]) for i in order if bad[i][0] not in skip][:show]
    shown += [(q, a, b, "same fastest, other Pareto set")
              for q, a, b in pareto_only if q not in skip][:show_pareto]
    for q, a, b, cause in shown:
        when = datetime.fromtimestamp(q.time, tz).strftime("%a %Y-%m-%d %H:%M")
        listing.append(f"- {sid[q.origin]} -> {sid[q.dest]} depart_at {when}: ours "
                       f"{fmt_min(a.arrival_min, tz)} / {a.transfers} tr, nigiri "
                       f"{fmt_min(b.arrival_min, tz)} / {b.transfers} tr  [{cause}]")
        listing += [f"    ours   {line}" for line in describe_ours(tt, a.detail, tz)]
        listing += [f"    nigiri {line}" for line in describe_nigiri(ntt, b.detail, tz)]
    if listing:
        print(f"\n[{net.key}] {title}: {len(bad)} disagreements on the fastest journey and "
              f"{len(pareto_only)} on the Pareto set only; listed: {len(shown)}"
              f"{' not listed above' if skip else ''} (ours on the aligned network)")
        print("\n".join(listing), flush=True)
    return NigiriRun(t, c, ratio, same_arr / max(n, 1), same_tr / max(len(both), 1),
                     frozenset(x[0] for x in shown))


# --------------------------------------------------------------------------- one network


def bench_network(net: Net, base: Path, sz: Sizes, ng: Any) -> dict[str, Any]:
    from transit.routing.network import Network
    from transit.routing.search import Searcher

    missing = [str(p) for _, p in net.feeds if not p.exists()]
    if missing or not net.feeds:
        raise SystemExit(f"{net.key}: feeds not found: {missing or 'none'}")
    print(f"\n=== {net.title}: {len(net.feeds)} feed(s), as of {net.day} ({net.tz}) ===",
          flush=True)
    step(f"{net.key}: ingest + compile")
    tt, compile_s = timed(lambda: compile_network(net, base / net.key / "store"))
    counts = tt.meta["counts"]
    t = Table(f"[{net.key}] 1. network (compiled timetable; ingest took {compile_s:.1f} s)")
    t.add("operators", f"{counts['operators']}")
    for k in ("stops", "patterns", "trips", "stop_times", "footpaths"):
        t.add(k, f"{counts[k]:,}")
    ev = np.asarray(tt.ev_offsets)
    t.add("stops with departures (query endpoints)", f"{int((ev[1:] > ev[:-1]).sum()):,}")
    t.print()

    rng = np.random.default_rng(SEED)
    searcher = Searcher(Network.of(tt))
    depart_q = make_queries(tt, net, sz.depart + sz.warm, rng)
    arrive_q = make_queries(tt, net, sz.arrive + sz.warm, rng)
    range_q = make_queries(tt, net, sz.ranged + sz.warm, rng)
    res: dict[str, KindResult] = {}
    for kind, qs in (("depart_at", depart_q), ("arrive_by", arrive_q),
                     ("depart_in_range", range_q)):
        step(f"{net.key}: {kind}, {sz.warm} warm-up + {len(qs) - sz.warm} queries")
        res[kind] = bench_kind(searcher, kind, qs, sz.warm)

    t = Table(f"[{net.key}] 2. our engine (Searcher, in-process) on the compiled network: "
              f"seed {SEED}, random stop pairs, local 05:00-22:59, max_transfers "
              f"{MAX_TRANSFERS}, after {sz.warm} warm-up calls of each kind")
    for kind, r in res.items():
        label = kind if kind != "depart_in_range" else "depart_in_range (60 min)"
        t.add(f"{label}: p50 / p95 / max", pstats(r.times))
        t.add("  queries / answered / journeys",
              f"{len(r.times)} / {r.answered} / {sum(len(js) for js in r.answers)}")
    d = res["depart_at"].times
    if net.targets:
        t.add("depart_at p50", ms(pctl(d, 50)), "< 10 ms", pctl(d, 50) < 0.010)
        t.add("depart_at p95", ms(pctl(d, 95)), "< 50 ms", pctl(d, 95) < 0.050)
    quick, zero, walked = quick_changes(tt, res["depart_at"].answers)
    t.add("depart_at changes on foot quicker than the change time", f"{quick} of {walked}")
    t.note("next departure - arrival < change time of the arrival stop (through a 0 s "
           f"footpath: {zero}); a change at one stop takes at least its change time")
    t.print()
    summary: dict[str, Any] = {
        "p50": pctl(d, 50), "p95": pctl(d, 95), "targets": net.targets,
        "arr_p50": pctl(res["arrive_by"].times, 50),
        "range_p50": pctl(res["depart_in_range"].times, 50)}

    if ng is None:
        print(f"\n[{net.key}] 3. nigiri: pynigiri is not installed (pip install {NIGIRI_PIN})"
              "; comparison skipped", flush=True)
        return summary
    cmp_q = depart_q[: sz.nigiri + sz.warm]
    main_run = nigiri_section(
        ng, net, tt, base / net.key, "3. same depart_at queries vs nigiri, our footpaths "
        "aligned", cmp_q, sz, real=searcher, show=sz.show)
    summary.update(ratio=main_run.ratio, agree_arr=main_run.agree_arr,
                   agree_tr=main_run.agree_tr, nigiri_p50=pctl(main_run.comparison.nigiri_s, 50),
                   real_ratio=pctl(main_run.comparison.real_s, 50) / pctl(
                       main_run.comparison.nigiri_s, 50))

    nofp = nigiri_section(
        ng, net, tt, base / net.key / "nofp", "4. same queries, no footpath on either side "
        "(change times kept)", cmp_q, sz, walk=False, show=sz.show // 2, show_pareto=0,
        skip=main_run.listed)
    summary.update(nofp_agree_arr=nofp.agree_arr, nofp_agree_tr=nofp.agree_tr,
                   nofp_ratio=nofp.ratio)
    return summary


# --------------------------------------------------------------------------- main


def print_summary(results: dict[str, dict[str, Any]]) -> None:
    keys = list(results)
    rows: list[tuple[str, str, list[str]]] = []

    def cell(r: dict[str, Any], key: str, fmt: Callable[[Any], str],
             ok: Callable[[Any], bool] | None = None, need_targets: bool = False) -> str:
        if key not in r:
            return "-"
        passed = None if ok is None or (need_targets and not r["targets"]) else ok(r[key])
        return f"{fmt(r[key])} {verdict(passed)}".strip()

    rows.append(("depart_at p50", "< 10 ms (Bay Area)",
                 [cell(results[k], "p50", ms, lambda x: x < 0.010, True) for k in keys]))
    rows.append(("depart_at p95", "< 50 ms (Bay Area)",
                 [cell(results[k], "p95", ms, lambda x: x < 0.050, True) for k in keys]))
    rows.append(("arrive_by p50", "", [cell(results[k], "arr_p50", ms) for k in keys]))
    rows.append(("depart_in_range 60 min p50", "",
                 [cell(results[k], "range_p50", ms) for k in keys]))
    rows.append(("nigiri depart_at p50", "",
                 [cell(results[k], "nigiri_p50", ms) for k in keys]))
    rows.append(("ratio of medians ours / nigiri", "<= 2",
                 [cell(results[k], "ratio", lambda x: f"{x:.2f}", lambda x: x <= 2)
                  for k in keys]))
    rows.append(("same earliest arrival as nigiri", "100%",
                 [cell(results[k], "agree_arr", lambda x: f"{x:.1%}", lambda x: x == 1)
                  for k in keys]))
    rows.append(("same transfers (same arrival)", "100%",
                 [cell(results[k], "agree_tr", lambda x: f"{x:.1%}", lambda x: x == 1)
                  for k in keys]))
    rows.append(("  ours unmodified / nigiri (medians)", "",
                 [cell(results[k], "real_ratio", lambda x: f"{x:.2f}") for k in keys]))
    rows.append(("no footpaths: ratio ours / nigiri", "<= 2",
                 [cell(results[k], "nofp_ratio", lambda x: f"{x:.2f}", lambda x: x <= 2)
                  for k in keys]))
    rows.append(("no footpaths: same earliest arrival", "100%",
                 [cell(results[k], "nofp_agree_arr", lambda x: f"{x:.1%}", lambda x: x == 1)
                  for k in keys]))
    rows.append(("no footpaths: same transfers", "100%",
                 [cell(results[k], "nofp_agree_tr", lambda x: f"{x:.1%}", lambda x: x == 1)
                  for k in keys]))
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    wc = [max([len(k)] + [len(r[2][i]) for r in rows]) for i, k in enumerate(keys)]
    line = "=" * (w0 + w1 + sum(wc) + 3 * len(keys) + 4)
    print(f"\nSUMMARY (medians; ratios measured in the same run)\n{line}")
    print(f"{'metric':<{w0}}  {'target':<{w1}}  " + "   ".join(
        f"{k:>{wc[i]}}" for i, k in enumerate(keys)))
    print(line)
    for label, target, cells in rows:
        print(f"{label:<{w0}}  {target:<{w1}}  " + "   ".join(
            f"{x:>{wc[i]}}" for i, x in enumerate(cells)))
    print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--network", choices=["bayarea", "sncb", "all"], default="all")
    ap.add_argument("--quick", action="store_true", help="fewer queries")
    ap.add_argument("--data-dir", type=Path, default=None,
                    help="where to compile and write nigiri's GTFS folders (default: a "
                         "temporary directory, removed after)")
    ap.add_argument("--shared-data", type=Path, default=DATA,
                    help=f"the shared test data (default {DATA})")
    args = ap.parse_args(argv)
    sz = QUICK if args.quick else FULL
    try:
        import pynigiri as ng
    except ImportError:
        ng = None
    nets = networks(args.shared_data)
    chosen = list(nets) if args.network == "all" else [args.network]
    base = args.data_dir.resolve() if args.data_dir else Path(
        tempfile.mkdtemp(prefix="bench-journeys-"))
    base.mkdir(parents=True, exist_ok=True)
    print(f"bench_journeys: python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"data dir {base}, {'quick' if args.quick else 'full'} run, seed {SEED}, "
          f"nigiri {'yes' if ng else 'not installed'}", flush=True)
    t = time.perf_counter()
    try:
        results = {k: bench_network(nets[k], base, sz, ng) for k in chosen}
    finally:
        if args.data_dir is None:
            shutil.rmtree(base, ignore_errors=True)
    print_summary(results)
    print(f"total benchmark time {time.perf_counter() - t:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
