"""The NMBS/SNCB national rail feed of 2019-03-11, served as of Saturday 2019-03-16, checked
against an independent pandas reference computed from the raw GTFS files
(tests/gtfs_reference.py): departures, parent stations with platforms, translations and name
search. Needs the shared test data folder next to the project."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from tests.conftest import DATA, client_for
from tests.gtfs_reference import (
    Case,
    FeedReference,
    after_midnight_cases,
    board_problems,
    fit_window,
    fold,
    random_cases,
)
from transit.catalog import Catalog, Operator
from transit.ingest.pipeline import IngestReport, ingest
from transit.timetable.store import Store

FEED = DATA / "gtfs" / "belgium" / "sncb-nmbs-2019-03-11.zip"
OP = "SNCB"
TZ = "Europe/Brussels"
SATURDAY, MONDAY = date(2019, 3, 16), date(2019, 3, 18)
DST_DAY = date(2019, 3, 31)  # clocks go from 02:00 CET to 03:00 CEST
SERVE_AT = "2019-03-16T08:00:00+01:00"
CENTRAL = "S8813003"  # Bruxelles-Central, with platforms 8813003_1 .. 8813003_6

pytestmark = pytest.mark.skipif(
    not FEED.exists(), reason=f"shared test data folder absent ({FEED}); present on CI")


@pytest.fixture(scope="session")
def ref() -> FeedReference:
    return FeedReference(OP, FEED)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, IngestReport]:
    data_dir = tmp_path_factory.mktemp("sncb")
    catalog = Catalog((Operator(id=OP, name="NMBS/SNCB", gtfs=str(FEED.resolve())),))
    return data_dir, ingest(catalog, Store(data_dir))


@pytest.fixture(scope="session")
def client(built: tuple[Path, IngestReport]) -> Iterator[TestClient]:
    with client_for(built[0], SERVE_AT) as c:
        yield c


@pytest.fixture(scope="session")
def tz_of(ref: FeedReference) -> dict[str, str]:
    return {f"{OP}:{s}": tz for s, tz in ref.stop_tz.items()}


@pytest.fixture(scope="session")
def names(ref: FeedReference) -> pd.DataFrame:
    """Stations (location_type 1) whose name has fr, nl and de translations that all differ."""
    tr = ref.translations()
    stations = ref.stops[ref.stops["location_type"] == "1"]
    rows = stations.join(tr, on="stop_name", how="inner")
    return rows[(rows["fr"] != rows["nl"]) & (rows["nl"] != rows["de"])
                & (rows["fr"] != rows["de"])]


def _run(client: TestClient, ref: FeedReference, tz_of: dict[str, str],
         cases: list[Case]) -> list[str]:
    problems: list[str] = []
    for k, c in enumerate(cases):
        expected = ref.departures([c.stop_id], c.t0, c.t1)
        at = c.at(naive=k % 5 == 4)  # some without offset: the stop's local time
        label = f"{OP}:{c.stop_id} at={at} window={c.window_min} ({c.why})"
        problems += board_problems(client, f"/v1/stops/{OP}:{c.stop_id}/departures", expected,
                                   c.t0, c.window_min, at, tz_of, label)
    return problems


def _report(problems: list[str], n: int) -> str:
    return f"{len(problems)} problems over {n} cases:\n" + "\n".join(problems[:15])


def test_counts_equal_raw_file(built: tuple[Path, IngestReport], ref: FeedReference) -> None:
    counts = built[1].counts
    expected = {
        "operators": 1, "stops": ref.count_places(), "routes": ref.count("routes"),
        "trips": ref.count("trips"), "stop_times": ref.count("stop_times"),
        "events": len(ref.events),
    }
    assert expected["stops"] == 2650 and expected["stop_times"] == 283628
    assert {k: counts[k] for k in expected} == expected


@pytest.mark.parametrize("day", [SATURDAY, MONDAY], ids=["saturday", "monday"])
def test_departures_at_random_stops(client: TestClient, ref: FeedReference,
                                   tz_of: dict[str, str], day: date) -> None:
    rng = random.Random(day.toordinal())
    cases = random_cases({OP: ref}, day, TZ, rng, n_random=60) \
        + after_midnight_cases({OP: ref}, day, TZ, rng, 10)
    assert len(cases) == 70
    problems = _run(client, ref, tz_of, cases)
    assert not problems, _report(problems, len(cases))


def test_departures_on_the_dst_change_day(client: TestClient, ref: FeedReference,
                                         tz_of: dict[str, str]) -> None:
    """On 2019-03-31 a GTFS time counts from noon minus 12 h, i.e. 23:00 CET the evening
    before, not from midnight; trips of the 30th after 24:00 are still in CET."""
    rng = random.Random(20190331)
    cases = random_cases({OP: ref}, DST_DAY, TZ, rng, n_random=20) \
        + after_midnight_cases({OP: ref}, date(2019, 3, 30), TZ, rng, 10)
    problems = _run(client, ref, tz_of, cases)
    assert not problems, _report(problems, len(cases))


def test_boarding_is_not_offered_where_pickup_is_forbidden(ref: FeedReference) -> None:
    """A precondition of the comparisons: the feed really has such stop_times (pickup_type 1),
    so that the reference's rule is exercised."""
    st = ref.stop_times
    assert (st["pickup_type"] == "1").sum() > 100_000
    assert len(ref.events) < len(st) - (st["pickup_type"] == "1").sum()


def test_platform_with_padded_id(client: TestClient, ref: FeedReference) -> None:
    raw = ref.tables["stops"]
    assert raw is not None
    r = client.get(f"/v1/stops/{OP}:8813003_3")
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["platform"], got["parent_station"], got["location_type"], got["name"]) == (
        "3", f"{OP}:{CENTRAL}", "stop", "Bruxelles-Central")
    station = client.get(f"/v1/stops/{OP}:{CENTRAL}").json()
    assert (station["location_type"], station["parent_station"], station["platform"]) == (
        "station", None, None)


def test_stops_as_in_stops_txt(client: TestClient, ref: FeedReference) -> None:
    stops = ref.stops
    sample = random.Random(2650).sample(sorted(stops.index), 80)
    for sid in sample:
        row = stops.loc[sid]
        r = client.get(f"/v1/stops/{OP}:{sid}")
        assert r.status_code == 200, (sid, r.text)
        got = r.json()
        assert (got["name"], got["platform"], got["parent_station"], got["location_type"],
                got["operator"], got["timezone"]) == (
            row["stop_name"], row["platform_code"] or None,
            f"{OP}:{row['parent_station']}" if row["parent_station"] else None,
            "station" if row["location_type"] == "1" else "stop", OP, TZ), sid
        assert got["lat"] == pytest.approx(float(row["stop_lat"]), abs=1e-6)
        assert got["lon"] == pytest.approx(float(row["stop_lon"]), abs=1e-6)


def test_parent_station_departures_are_those_of_its_platforms(
        client: TestClient, ref: FeedReference, tz_of: dict[str, str]) -> None:
    children = ref.children(CENTRAL)
    assert {"8813003_3", "8813003"} <= set(children) and len(children) == 7
    t0 = int(datetime.fromisoformat("2019-03-18T08:00:00+01:00").timestamp())
    expected = ref.departures(children, t0, t0 + 20 * 60)
    # stop_times.txt only uses the platform-less child 8813003; the platform of each call is in
    # the non-standard stop_time_overrides.txt, so the numbered platforms have no departures
    assert len(expected) > 10 and {row[2] for row in expected} == {f"{OP}:8813003"}
    assert ref.departures(["8813003_3"], t0, t0 + 20 * 60) == []
    problems = board_problems(client, f"/v1/stops/{OP}:{CENTRAL}/departures", expected, t0, 20,
                              "2019-03-18T08:00:00+01:00", tz_of, "Bruxelles-Central")
    problems += board_problems(client, f"/v1/stops/{OP}:8813003_3/departures", [], t0, 20,
                               "2019-03-18T08:00:00+01:00", tz_of, "platform 3")
    assert not problems, "\n".join(problems)


def test_random_parent_stations(client: TestClient, ref: FeedReference,
                                tz_of: dict[str, str]) -> None:
    rng = random.Random(554)
    parents = sorted(ref.stops.index[ref.stops["location_type"] == "1"])
    problems: list[str] = []
    n = 0
    for day in (SATURDAY, MONDAY):
        served = set(ref.served_events(day)["stop_id"])
        busy = [p for p in parents if served & set(ref.children(p))]
        for parent in rng.sample(busy, 10):
            children = ref.children(parent)
            t0 = int(datetime.fromisoformat(f"{day}T05:00:00+01:00").timestamp()) \
                + 60 * rng.randrange(19 * 60)
            window = fit_window(ref, children, t0, 120)
            c = Case(OP, parent, t0, window, TZ, "parent station")
            problems += board_problems(client, f"/v1/stops/{OP}:{parent}/departures",
                                       ref.departures(children, c.t0, c.t1), c.t0, window,
                                       c.at(), tz_of, f"{OP}:{parent} at={c.at()} w={window}")
            n += 1
    assert not problems, _report(problems, n)


def _chosen(names: pd.DataFrame) -> pd.DataFrame:
    fixed = names[names["stop_name"].isin(["Bruxelles-Central", "Bruxelles-Midi",
                                           "Liège-Carré"])]
    assert len(fixed) == 3
    others = names.drop(fixed.index).sample(n=6, random_state=572)
    return pd.concat([fixed, others])


def test_translated_names(client: TestClient, names: pd.DataFrame, ref: FeedReference) -> None:
    chosen = _chosen(names)
    assert chosen.loc[CENTRAL, ["fr", "nl", "de"]].tolist() == [
        "Bruxelles-Central", "Brussel-Centraal", "Brus.-/ Brux-Centr."]
    for sid, row in chosen.iterrows():
        for lang in ("fr", "nl", "de", "en"):
            r = client.get(f"/v1/stops/{OP}:{sid}", params={"lang": lang})
            assert r.status_code == 200
            assert r.json()["name"] == row[lang], (sid, lang)
        for lang, header in (("nl", "nl-BE,nl;q=0.9"), ("de", "fr;q=0.5, de;q=0.8"),
                             ("fr", "fr-BE")):
            r = client.get(f"/v1/stops/{OP}:{sid}", headers={"Accept-Language": header})
            assert r.json()["name"] == row[lang], (sid, header)
        r = client.get(f"/v1/stops/{OP}:{sid}", params={"lang": "nl-BE"},
                       headers={"Accept-Language": "de"})
        assert r.json()["name"] == row["nl"], (sid, "lang= wins over Accept-Language")
        assert client.get(f"/v1/stops/{OP}:{sid}").json()["name"] == row["stop_name"]
        for child in ref.children(str(sid))[:2]:  # platforms carry the same name
            got = client.get(f"/v1/stops/{OP}:{child}", params={"lang": "nl"}).json()
            assert got["name"] == row["nl"], (child, "nl")


def test_departures_in_dutch(client: TestClient) -> None:
    r = client.get(f"/v1/stops/{OP}:{CENTRAL}/departures",
                   params={"at": "2019-03-18T08:00:00+01:00", "window": 15, "lang": "nl"})
    deps = r.json()["departures"]
    assert deps and {d["stop_name"] for d in deps} == {"Brussel-Centraal"}


def _query(name: str) -> str:
    """The Dutch name as a user might type it: no accents, upper case, last word cut short."""
    words = re.split(r"[\s/.\-']+", fold(name).upper())
    words = [w for w in words if w]
    last = words[-1]
    words[-1] = last[:max(3, len(last) - 2)] if len(last) > 3 else last
    return " ".join(words)


def test_search_by_dutch_name(client: TestClient, names: pd.DataFrame) -> None:
    chosen = _chosen(names)
    assert _query(chosen.loc["S8813003", "nl"]) == "BRUSSEL CENTRA"
    carre = chosen.index[chosen["stop_name"] == "Liège-Carré"][0]
    assert _query(chosen.loc[carre, "nl"]) == "LUIK CAR"  # the name is "Luik-Carré"
    for sid, row in chosen.iterrows():
        q = _query(row["nl"])
        r = client.get("/v1/stops", params={"q": q, "limit": 100})
        assert r.status_code == 200
        found = {s["id"]: s for s in r.json()["stops"]}
        assert f"{OP}:{sid}" in found, (q, row["nl"], list(found)[:10])
        assert found[f"{OP}:{sid}"]["location_type"] == "station"
        # stops with a parent are reached through their station, not listed themselves
        assert all(s["parent_station"] is None for s in found.values()), q


def test_window_includes_both_ends(client: TestClient, ref: FeedReference) -> None:
    """A departure exactly at `at` or exactly at `at + window` is on the board; one second
    outside is not."""
    events = ref.served_events(MONDAY)
    rng = random.Random(18)
    for k in rng.sample(range(len(events)), 25):
        stop, trip, instant = events.iloc[k][["stop_id", "trip_id", "instant"]]
        instant = int(instant)
        for t0, window, inside in ((instant, 1, True), (instant - 600, 10, True),
                                   (instant + 1, 10, False), (instant - 601, 10, False)):
            at = datetime.fromtimestamp(t0, ZoneInfo(TZ)).isoformat()
            r = client.get(f"/v1/stops/{OP}:{stop}/departures",
                           params={"at": at, "window": window, "limit": 100})
            trips = {d["trip_id"] for d in r.json()["departures"]
                     if datetime.fromisoformat(d["scheduled_departure"]).timestamp() == instant}
            assert (f"{OP}:{trip}" in trips) == inside, (stop, trip, at, window)
