"""The 29 Bay Area operators of the 511 export (2018), merged and served as of 2018-08-29,
checked against an independent pandas reference computed from the raw GTFS files
(tests/gtfs_reference.py). Needs the shared test data folder next to the project."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import DATA, client_for
from tests.gtfs_reference import (
    Case,
    FeedReference,
    after_midnight_cases,
    board_problems,
    day_start_utc,
    fit_window,
    random_cases,
)
from transit.catalog import Catalog, Operator
from transit.ingest.pipeline import IngestReport, ingest
from transit.timetable.store import Store

FEEDS = DATA / "gtfs" / "bayarea-511-2018"
TZ = "America/Los_Angeles"
DAY = date(2018, 8, 29)  # a Wednesday on which all 29 operators run
SERVE_AT = "2018-08-29T08:00:00-07:00"

pytestmark = pytest.mark.skipif(
    not FEEDS.exists(), reason=f"shared test data folder absent ({FEEDS}); present on CI")


def _zips() -> list[Path]:
    return sorted(FEEDS.glob("*.zip"))


@pytest.fixture(scope="session")
def refs() -> dict[str, FeedReference]:
    return {z.name.split("-")[0]: FeedReference(z.name.split("-")[0], z) for z in _zips()}


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, IngestReport]:
    data_dir = tmp_path_factory.mktemp("bayarea")
    ops = tuple(Operator(id=z.name.split("-")[0], name=z.stem.split("-", 1)[1],
                         gtfs=str(z.resolve())) for z in _zips())
    return data_dir, ingest(Catalog(ops), Store(data_dir))


@pytest.fixture(scope="session")
def client(built: tuple[Path, IngestReport]) -> Iterator[TestClient]:
    with client_for(built[0], SERVE_AT) as c:
        yield c


@pytest.fixture(scope="session")
def tz_of(refs: dict[str, FeedReference]) -> dict[str, str]:
    return {f"{op}:{s}": tz for op, r in refs.items() for s, tz in r.stop_tz.items()}


def _run(client: TestClient, refs: dict[str, FeedReference], tz_of: dict[str, str],
         cases: list[Case]) -> list[str]:
    problems: list[str] = []
    for k, c in enumerate(cases):
        expected = refs[c.operator].departures([c.stop_id], c.t0, c.t1)
        at = c.at(naive=k % 5 == 4)  # some without offset: the stop's local time
        label = f"{c.operator}:{c.stop_id} at={at} window={c.window_min} ({c.why})"
        problems += board_problems(client, f"/v1/stops/{c.operator}:{c.stop_id}/departures",
                                   expected, c.t0, c.window_min, at, tz_of, label)
    return problems


def _routes_calling(ref: FeedReference, stop_id: str) -> set[str]:
    st = ref.stop_times
    trips = set(st.loc[st["stop_id"] == stop_id, "trip_id"])
    return {f"{ref.operator}:{r}" for r in ref.trips.loc[ref.trips["trip_id"].isin(trips),
                                                         "route_id"]}


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on the mean Earth sphere (IUGG radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(
        math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(min(a, 1.0)))


def _report(problems: list[str], n: int) -> str:
    return f"{len(problems)} problems over {n} cases:\n" + "\n".join(problems[:15])


def test_feeds_present() -> None:
    assert len(_zips()) == 29


def test_counts_equal_raw_files(built: tuple[Path, IngestReport],
                                refs: dict[str, FeedReference]) -> None:
    assert all(r.tables["frequencies"] is None for r in refs.values())
    counts = built[1].counts
    expected = {
        "operators": 29,
        "stops": sum(r.count_places() for r in refs.values()),
        "routes": sum(r.count("routes") for r in refs.values()),
        "trips": sum(r.count("trips") for r in refs.values()),
        "stop_times": sum(r.count("stop_times") for r in refs.values()),
        # boarding events: stop_times that are not their trip's last and allow pickup
        "events": sum(len(r.events) for r in refs.values()),
    }
    assert {k: counts[k] for k in expected} == expected


def test_operators_with_their_own_counts(client: TestClient,
                                         refs: dict[str, FeedReference]) -> None:
    r = client.get("/v1/operators")
    assert r.status_code == 200
    ops = r.json()["operators"]
    assert [o["id"] for o in ops] == sorted(refs)
    for o in ops:
        ref = refs[o["id"]]
        assert {k: o["counts"][k] for k in ("routes", "stops", "trips", "stop_times")} == {
            "routes": ref.count("routes"), "stops": ref.count_places(),
            "trips": ref.count("trips"), "stop_times": ref.count("stop_times")}, o["id"]


def test_colliding_stop_ids_are_kept_apart(client: TestClient,
                                           refs: dict[str, FeedReference]) -> None:
    owners: dict[str, list[str]] = {}
    for op, ref in refs.items():
        for s in ref.stops.index:
            owners.setdefault(s, []).append(op)
    shared = sorted(s for s, ops in owners.items() if len(ops) > 1)
    assert owners["2176"] == ["CC", "WC"]
    assert len(shared) == 604  # as the data manifest says
    sample = ["2176", *random.Random(2176).sample(shared, 30)]
    for raw in sample:
        names = set()
        for op in owners[raw]:
            row = refs[op].stops.loc[raw]
            r = client.get(f"/v1/stops/{op}:{raw}")
            assert r.status_code == 200, (op, raw, r.text)
            got = r.json()
            assert (got["id"], got["operator"], got["name"], got["code"]) == (
                f"{op}:{raw}", op, row["stop_name"], row.get("stop_code") or None), (op, raw)
            assert got["lat"] == pytest.approx(float(row["stop_lat"]), abs=1e-6)
            assert got["lon"] == pytest.approx(float(row["stop_lon"]), abs=1e-6)
            assert {x["id"] for x in got["routes"]} == _routes_calling(refs[op], raw), (op, raw)
            names.add(got["name"])
        if raw == "2176":
            assert names == {"1370 Monument Blvd", "Turquiose Dr and Jade Ct"}


def test_colliding_trip_ids_are_kept_apart(client: TestClient,
                                           refs: dict[str, FeedReference]) -> None:
    owners: dict[str, list[str]] = {}
    for op, ref in refs.items():
        running = ref.services_on(DAY)
        for t in ref.trips.loc[ref.trips["service_id"].isin(running), "trip_id"]:
            owners.setdefault(t, []).append(op)
    shared = sorted(t for t, ops in owners.items() if len(ops) > 1)
    assert shared, "no trip_id runs in two feeds on the day"
    for raw in random.Random(88).sample(shared, min(10, len(shared))):
        for op in owners[raw]:
            st = refs[op].stop_times
            rows = st[st["trip_id"] == raw]
            base = day_start_utc(DAY, refs[op].default_tz)
            r = client.get(f"/v1/trips/{op}:{raw}", params={"date": DAY.isoformat()})
            assert r.status_code == 200, (op, raw, r.text)
            got = r.json()
            assert got["operator"] == op
            assert [(s["stop_id"], int(datetime.fromisoformat(s["scheduled_departure"])
                                       .timestamp())) for s in got["stops"]] == [
                (f"{op}:{s}", base + int(d)) for s, d in zip(rows["stop_id"], rows["dep_s"],
                                                             strict=True)], (op, raw)


def test_millbrae_is_one_station_of_bart_and_caltrain(client: TestClient,
                                                      refs: dict[str, FeedReference]) -> None:
    r = client.get("/v1/stations/BA:MLBR")
    assert r.status_code == 200
    st = r.json()
    members = {m["stop"]["id"]: m for m in st["members"]}
    assert {"BA:MLBR", "CT:70061", "CT:70062"} <= set(members)
    assert {"BA", "CT"} <= set(st["operators"])
    assert set(st["operators"]) == {m["stop"]["operator"] for m in st["members"]}
    for sid, m in members.items():
        op, raw = sid.split(":", 1)
        assert m["stop"]["name"] == refs[op].stops.loc[raw, "stop_name"]
    # any member's id gives the same station
    for sid in ("CT:70061", "CT:70062"):
        other = client.get(f"/v1/stations/{sid}")
        assert other.status_code == 200
        assert other.json()["id"] == st["id"]
        assert {m["stop"]["id"] for m in other.json()["members"]} == set(members)


@pytest.mark.parametrize(("at", "window"), [
    ("2018-08-29T07:40:00-07:00", 25), ("2018-08-29T12:00:00-07:00", 45),
    ("2018-08-29T17:10:00-07:00", 20), ("2018-08-29T23:50:00-07:00", 60),
    ("2018-08-30T00:20:00-07:00", 60),
])
def test_millbrae_station_departures_are_the_union_of_its_stops(
        client: TestClient, refs: dict[str, FeedReference], tz_of: dict[str, str], at: str,
        window: int) -> None:
    members = [m["stop"]["id"] for m in client.get("/v1/stations/BA:MLBR").json()["members"]]
    t0 = int(datetime.fromisoformat(at).timestamp())
    expected = sorted(row for sid in members
                      for row in refs[sid.split(":")[0]].departures([sid.split(":", 1)[1]], t0,
                                                                     t0 + 60 * window))
    if t0 < int(datetime.fromisoformat("2018-08-29T23:00:00-07:00").timestamp()):
        assert {"BA", "CT"} <= {row[1].split(":")[0] for row in expected}
    problems = board_problems(client, "/v1/stations/BA:MLBR/departures", expected, t0, window,
                              at, tz_of, f"station BA:MLBR at={at} window={window}")
    assert not problems, "\n".join(problems)


def test_departures_at_random_stops(client: TestClient, refs: dict[str, FeedReference],
                                   tz_of: dict[str, str]) -> None:
    cases = random_cases(refs, DAY, TZ, random.Random(20180829), n_random=100, per_operator=2)
    assert len(cases) >= 150
    assert len({c.operator for c in cases}) == 29
    problems = _run(client, refs, tz_of, cases)
    assert not problems, _report(problems, len(cases))


def test_departures_after_midnight(client: TestClient, refs: dict[str, FeedReference],
                                   tz_of: dict[str, str]) -> None:
    """Trips of the 29th after 24:00 depart on the 30th; trips of the 28th (a Tuesday)
    after 24:00 depart early on the 29th."""
    rng = random.Random(2400)
    cases = after_midnight_cases(refs, DAY, TZ, rng, 30) \
        + after_midnight_cases(refs, date(2018, 8, 28), TZ, rng, 20)
    assert len(cases) == 50
    problems = _run(client, refs, tz_of, cases)
    assert not problems, _report(problems, len(cases))


def test_limit_returns_the_earliest(client: TestClient, refs: dict[str, FeedReference],
                                    tz_of: dict[str, str]) -> None:
    """The 15 busiest stops of the day, from 07:00 with a window of 11 to 99 departures:
    limit=10 gives the first 10 (board_problems asks for both)."""
    busiest = Counter(
        (op, s) for op, r in refs.items() for s in r.served_events(DAY)["stop_id"])
    t0 = int(datetime.fromisoformat("2018-08-29T07:00:00-07:00").timestamp())
    problems: list[str] = []
    for (op, stop), _ in busiest.most_common(15):
        c = Case(op, stop, t0, fit_window(refs[op], [stop], t0, 120), TZ, "busy stop")
        expected = refs[op].departures([stop], c.t0, c.t1)
        assert 10 < len(expected) < 100, c
        problems += board_problems(client, f"/v1/stops/{op}:{stop}/departures", expected,
                                   c.t0, c.window_min, c.at(), tz_of,
                                   f"{op}:{stop} window={c.window_min}")
    assert not problems, _report(problems, 15)


def test_parent_stations_of_the_feeds(client: TestClient, refs: dict[str, FeedReference],
                                      tz_of: dict[str, str]) -> None:
    """County Connection, Dumbarton Express and SF Bay Ferry have parent stations: a
    parent's departures are those of its child stops."""
    parents = [(op, s) for op, r in refs.items()
               for s in r.stops.index[r.stops.get("location_type", "") == "1"]]
    assert len(parents) == 10
    rng = random.Random(10)
    problems: list[str] = []
    n = 0
    for op, parent in parents:
        children = refs[op].children(parent)
        got = client.get(f"/v1/stops/{op}:{parent}").json()
        assert (got["location_type"], got["parent_station"]) == ("station", None)
        for child in children:
            assert client.get(f"/v1/stops/{op}:{child}").json()["parent_station"] == \
                f"{op}:{parent}"
        events = refs[op].served_events(DAY)
        instants = sorted(events.loc[events["stop_id"].isin(children), "instant"])
        if not instants:
            continue
        for _ in range(3):
            t0 = int(rng.choice(instants)) - 60 * rng.randrange(30)
            window = fit_window(refs[op], children, t0, 60)
            c = Case(op, parent, t0, window, TZ, "parent station")
            problems += board_problems(client, f"/v1/stops/{op}:{parent}/departures",
                                       refs[op].departures(children, c.t0, c.t1), c.t0, window,
                                       c.at(), tz_of, f"{op}:{parent} at={c.at()} w={window}")
            n += 1
    assert n >= 15
    assert not problems, _report(problems, n)


@pytest.mark.parametrize("anchor", ["BA:MLBR", "BA:DELN", "BA:PHIL", "BA:EMBR", "BA:SFIA"])
def test_nearby_stops_and_departures_near_a_point(
        client: TestClient, refs: dict[str, FeedReference], tz_of: dict[str, str],
        anchor: str) -> None:
    row = refs["BA"].stops.loc[anchor.split(":")[1]]
    lat, lon = float(row["stop_lat"]) + 0.0004, float(row["stop_lon"]) - 0.0003
    places = [(f"{op}:{s}", _metres(lat, lon, float(r["stop_lat"]), float(r["stop_lon"])))
              for op, ref in refs.items()
              for s, r in ref.stops[ref.stops.get("location_type", "").isin(["", "0"])].iterrows()]
    radius = 250.0
    while any(abs(d - radius) < 2 for _, d in places):  # keep clear of rounding at the edge
        radius += 7
    near = sorted((d, sid) for sid, d in places if d <= radius)
    assert 0 < len(near) < 100
    r = client.get("/v1/stops", params={"lat": lat, "lon": lon, "radius": radius,
                                        "limit": 100})
    assert r.status_code == 200
    got = r.json()["stops"]
    assert sorted(s["id"] for s in got) == sorted(sid for _, sid in near)
    assert [s["distance_m"] for s in got] == sorted(s["distance_m"] for s in got)
    for s in got:
        assert s["distance_m"] == pytest.approx(dict(places)[s["id"]], abs=0.5), s["id"]

    at = "2018-08-29T17:05:00-07:00"
    t0 = int(datetime.fromisoformat(at).timestamp())
    window = 60
    by_op: dict[str, list[str]] = {}
    for _, sid in near:
        op, raw = sid.split(":", 1)
        by_op.setdefault(op, []).append(raw)

    def expected_for(w: int) -> list:
        return sorted(x for op, raws in by_op.items()
                      for x in refs[op].departures(raws, t0, t0 + 60 * w))

    while len(expected_for(window)) >= 100:
        window //= 2
    expected = expected_for(window)
    assert expected
    problems = board_problems(client, "/v1/departures", expected, t0, window, at, tz_of,
                              f"near {anchor} r={radius}",
                              params={"lat": lat, "lon": lon, "radius": radius})
    assert not problems, "\n".join(problems)
