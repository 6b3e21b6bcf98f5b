"""The engine against the brute force on the real feeds (29 Bay Area operators, SNCB), and
the journeys of the API on them checked for validity."""

from __future__ import annotations

import random
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import DATA, client_for
from tests.gtfs_reference import read_table
from tests.journey_support import TZ, Planner, show
from tests.journey_worlds import World, _compare, engine_best, engine_journey_problems, world_of
from tests.routing_reference import (
    INF,
    Reference,
)
from transit.catalog import Catalog, Operator
from transit.ingest.pipeline import ingest
from transit.timetable.store import Store

# -- c. the engine against the brute force on real feeds --------------------------------------

HORIZON_S = 4 * 3600


def real_queries(w: World, ref: Reference, day: date, seed: int, n: int
                 ) -> list[tuple[str, str, int]]:
    """Stop-to-stop queries between 06:00 and 10:00 whose destination is reachable: the origin
    has a departure within 30 min; the destination is found by riding 1 to 3 random trips
    (with a random footpath now and then)."""
    rng = random.Random(seed)
    midnight = int(datetime.combine(day, time(0), ZoneInfo(w.tz)).timestamp())
    served = sorted(s for s in ref.footpaths.keys() | {e[0] for i in ref.instances
                                                       for e in i.stops})
    out = []
    while len(out) < n:
        t0 = midnight + rng.randrange(6 * 3600, 10 * 3600, 60)
        origin = rng.choice(served)
        if not ref.departure_times(origin, t0, t0 + 1800):
            continue
        stop, t = origin, t0
        for _ in range(rng.randint(1, 3)):
            deps = ref.departure_times(stop, t, t + 3600)
            if not deps:
                break
            inst, pos = ref.event_at(stop, rng.choice(deps))
            st = ref.instances[inst].stops
            j = rng.randrange(pos + 1, len(st))
            stop, t = st[j][0], st[j][1] + 180
            if rng.random() < 0.4 and ref.footpaths.get(stop):
                stop, secs = rng.choice(ref.footpaths[stop])
                t += secs
        if stop != origin:
            out.append((origin, stop, t0))
    return out


def real_problems(w: World, ref: Reference, queries: list[tuple[str, str, int]],
                  arrive_by: int = 40) -> list[str]:
    """Depart at: the earliest arrival per number of trips equals the brute force's, and the
    engine's journeys are made of the raw trips. Arrive by the earliest arrival (the first
    `arrive_by` queries): the latest departure per number of trips equals the brute force's
    (both counted from t0 on: the brute force has the trips from 06:00)."""
    problems = []
    for n, (origin, dest, t0) in enumerate(queries):
        best = ref.earliest_by_trips([(origin, 0)], [(dest, 0)], t0, 6, HORIZON_S)
        js = w.searcher.depart_at(w.query([(origin, 0)], [(dest, 0)], t0, 5))
        label = f"{origin} -> {dest} at {show(t0, w.tz)}"
        problems += _compare(w, label, best, engine_best(w, js, [(dest, 0)], 6),
                             t0 + HORIZON_S, ref, js)
        for j in js:
            if j.arrival <= t0 + HORIZON_S:  # the brute force has the trips of the horizon
                problems += [f"{label}: {m}" for m in engine_journey_problems(
                    w, ref, j, [(origin, 0)], t0, 0)]
        t_end = best[6]
        if n >= arrive_by or t_end > t0 + HORIZON_S:
            continue
        back = w.searcher.arrive_by(w.query([(origin, 0)], [(dest, 0)], t_end, 5, 0, True,
                                            HORIZON_S))
        got = [-INF] * 7
        for j in back:
            for k in range(j.trips, 7):
                got[k] = max(got[k], j.departure)
        want = ref.latest_by_trips([(origin, 0)], [(dest, 0)], t_end, 6, HORIZON_S)
        got, want = ([x if x >= t0 else -INF for x in v] for v in (got, want))
        if got != want:
            problems.append(f"{origin} -> {dest} by {show(t_end, w.tz)}: latest departure by "
                            f"number of trips {[show(x, w.tz) for x in got]}, brute force "
                            f"{[show(x, w.tz) for x in want]}; the engine: "
                            f"{[w.describe(j) for j in back]}")
    return problems


def _real_world(tmp_path_factory: pytest.TempPathFactory, name: str, feeds: dict[str, Path],
                tz: str, day: date) -> tuple[World, Reference, Path]:
    data = tmp_path_factory.mktemp(name)
    ops = tuple(Operator(id=op, name=op, gtfs=str(p.resolve())) for op, p in feeds.items())
    ingest(Catalog(ops), Store(data))
    tt = Store(data).load_current()
    assert tt is not None
    w = world_of(tt, feeds, tz)
    midnight = int(datetime.combine(day, time(0), ZoneInfo(tz)).timestamp())
    ref = w.ref(day, midnight + 6 * 3600, midnight + 10 * 3600 + HORIZON_S + 3600)
    return w, ref, data


BAYAREA = DATA / "gtfs" / "bayarea-511-2018"
SNCB = DATA / "gtfs" / "belgium" / "sncb-nmbs-2019-03-11.zip"
BA_DAY, SNCB_DAY = date(2018, 8, 29), date(2019, 3, 18)


@pytest.fixture(scope="module")
def bayarea(tmp_path_factory: pytest.TempPathFactory) -> tuple[World, Reference, Path]:
    if not BAYAREA.exists():
        pytest.skip(f"shared test data folder absent ({BAYAREA}); present on CI")
    feeds = {z.name.split("-")[0]: z for z in sorted(BAYAREA.glob("*.zip"))}
    return _real_world(tmp_path_factory, "ba_journeys", feeds, "America/Los_Angeles", BA_DAY)


@pytest.fixture(scope="module")
def sncb(tmp_path_factory: pytest.TempPathFactory) -> tuple[World, Reference, Path]:
    if not SNCB.exists():
        pytest.skip(f"shared test data absent ({SNCB}); present on CI")
    return _real_world(tmp_path_factory, "sncb_journeys", {"SNCB": SNCB}, TZ, SNCB_DAY)


def test_bayarea_earliest_arrivals_equal_the_brute_force(bayarea) -> None:
    w, ref, _ = bayarea
    queries = real_queries(w, ref, BA_DAY, seed=2018, n=600)
    problems = real_problems(w, ref, queries)
    assert not problems, f"{len(problems)} problems in {len(queries)} queries:\n" + "\n".join(
        problems[:8])


def test_sncb_earliest_arrivals_equal_the_brute_force(sncb) -> None:
    w, ref, _ = sncb
    queries = real_queries(w, ref, SNCB_DAY, seed=2019, n=300)
    problems = real_problems(w, ref, queries)
    assert not problems, f"{len(problems)} problems in {len(queries)} queries:\n" + "\n".join(
        problems[:8])


@pytest.mark.parametrize("which", ["bayarea", "sncb"])
def test_real_journeys_of_the_api_are_valid(which: str, request) -> None:
    w, ref, data = request.getfixturevalue(which)
    day = BA_DAY if which == "bayarea" else SNCB_DAY
    queries = real_queries(w, ref, day, seed=7, n=12)
    at = datetime.fromtimestamp(queries[0][2], ZoneInfo(w.tz)).isoformat()
    with client_for(data, at) as client:
        p = Planner(client, w.tt, w.tz)
        n = 0
        for origin, dest, t0 in queries:
            js = p.plan(**{"from": origin, "to": dest, "depart_at": show(t0, w.tz)})
            n += len(js)
        assert n >= len(queries) // 2


def test_sncb_platforms_come_from_stop_time_overrides(sncb) -> None:
    """The 2019 SNCB feed gives platforms only in stop_time_overrides.txt: every call of 40
    trips running on the test day shows the platform_code of the stop the override active
    that day names (read here with pandas from the raw zip)."""
    w, _, data = sncb
    raw = w.raws[0]
    active = raw.services_on(SNCB_DAY)
    ov = read_table(SNCB, "stop_time_overrides.txt")
    stops = read_table(SNCB, "stops.txt")
    assert ov is not None and stops is not None
    code = dict(zip(stops["stop_id"], stops["platform_code"], strict=True))
    ov = ov[ov["service_id"].isin(active)]
    want: dict[str, dict[int, str]] = {}
    for trip, seq, stop in zip(ov["trip_id"], ov["stop_sequence"], ov["stop_id"], strict=True):
        want.setdefault(trip, {})[int(seq)] = code[stop]
    running = [t for k, t in enumerate(raw.trip_ids) if raw.trip_service[k] in active
               and t in want]
    assert len(running) > 1000
    checked = 0
    with client_for(data, f"{SNCB_DAY.isoformat()}T06:00:00+01:00") as client:
        for trip in random.Random(9).sample(running, 40):
            body = client.get(f"/v1/trips/SNCB:{trip}", params={"date": SNCB_DAY.isoformat()})
            assert body.status_code == 200, body.text
            got = {x["stop_sequence"]: x["platform"] for x in body.json()["stops"]}
            assert got == {q: want[trip].get(q) or None for q in got}, trip
            checked += sum(1 for v in got.values() if v)
    assert checked > 200


# -- d. peer cases (nigiri) -------------------------------------------------------------------
