"""Fares v1 on real Bay Area journeys (BART's origin-destination fares, Caltrain's zones),
checked against prices read here from the raw CSV files with the csv module."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest

from tests.conftest import DATA

FEEDS = DATA / "gtfs" / "bayarea-511-2018"
BART, CALTRAIN = FEEDS / "BA-bart.zip", FEEDS / "CT-caltrain.zip"
AT = "2018-08-29T08:00:00-07:00"

pytestmark = pytest.mark.skipif(not FEEDS.exists(), reason=f"no {FEEDS}")


def _csv(z: Path, name: str) -> list[dict[str, str]]:
    with zipfile.ZipFile(z) as zf:
        return list(csv.DictReader(io.TextIOWrapper(zf.open(name), "utf-8-sig")))


class RawFares:
    """One operator's v1 fares as the files say: the cheapest fare whose rule names the
    route (or none) and the zones of the boarding and alighting stops."""

    def __init__(self, z: Path) -> None:
        self.zone = {r["stop_id"]: r["zone_id"] for r in _csv(z, "stops.txt")}
        self.price = {r["fare_id"]: r for r in _csv(z, "fare_attributes.txt")}
        self.rules = _csv(z, "fare_rules.txt")

    def cents(self, route: str, a: str, b: str) -> int:
        found = [round(float(self.price[r["fare_id"]]["price"]) * 100) for r in self.rules
                 if r["route_id"] in ("", route) and r["origin_id"] == self.zone[a]
                 and r["destination_id"] == self.zone[b]]
        assert found, (route, a, b)
        return min(found)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from tests.conftest import catalog_of, client_for
    from transit.ingest.pipeline import ingest
    from transit.timetable.store import Store

    data = tmp_path_factory.mktemp("fares-bayarea")
    ingest(catalog_of({"BA": BART, "CT": CALTRAIN}), Store(data))
    with client_for(data, AT) as c:
        yield c


def _runs(journey: dict) -> list[list[dict]]:
    runs: list[list[dict]] = []
    for leg in journey["legs"]:
        if not leg["trip_id"]:
            continue
        if runs and runs[-1][-1]["operator"] == leg["operator"]:
            runs[-1].append(leg)
        else:
            runs.append([leg])
    return runs


def _bare(stop_id: str) -> str:
    return stop_id.split(":", 1)[1]


@pytest.mark.parametrize(("origin", "destination"), [
    ("BA:12TH", "BA:EMBR"), ("BA:EMBR", "BA:MLBR"), ("BA:RICH", "BA:DALY"),
    ("CT:70012", "CT:70172"), ("CT:70062", "CT:70012"),
    ("BA:EMBR", "CT:70172"),  # BART to Millbrae, then Caltrain: priced per operator
])
def test_v1_fares_match_the_raw_files(client, origin: str, destination: str) -> None:
    raw = {"BA": RawFares(BART), "CT": RawFares(CALTRAIN)}
    # every BART fare allows unlimited transfers without a time limit: a run of BART legs
    # is one ticket from its first boarding to its last alighting
    assert all(not r["transfers"] and not r["transfer_duration"]
               for r in raw["BA"].price.values())
    r = client.get("/v1/journeys", params={"from": origin, "to": destination,
                                           "depart_at": AT})
    journeys = r.json()["journeys"]
    assert journeys
    if origin[:2] != destination[:2]:  # BART then Caltrain, two operators' tickets
        assert any({run[0]["operator"] for run in _runs(j)} == {"BA", "CT"} for j in journeys)
    for j in journeys:
        expected = 0
        for run in _runs(j):
            op = run[0]["operator"]
            assert op == "BA" or len(run) == 1  # a Caltrain change is its own ticket here
            cents = raw[op].cents(_bare(run[0]["route"]["id"]), _bare(run[0]["from"]["stop_id"]),
                                  _bare(run[-1]["to"]["stop_id"]))
            expected += cents
            prices = {p["price"]["amount"] for leg in run for p in leg["fares"]["products"]}
            assert min(prices) == cents
            assert all(p["price"]["currency"] == "USD" and p["rider_category"] is None
                       for leg in run for p in leg["fares"]["products"])
        assert j["fare"]["total"] == {"amount": expected, "currency": "USD"}, j["fare"]
        assert j["fare"]["unknown_legs"] == []


def test_v1_products_and_rider_categories(client) -> None:
    got = client.get("/v1/fares/products", params={"operator": "CT"}).json()["products"]
    assert {(p["product_id"], p["prices"][0]["price"]["amount"]) for p in got} == {
        (f"CT:{r['fare_id']}", round(float(r["price"]) * 100))
        for r in _csv(CALTRAIN, "fare_attributes.txt")}
    # v1 feeds have no rider categories: any category asked is unknown to this network
    r = client.get("/v1/journeys", params={"from": "BA:12TH", "to": "BA:EMBR",
                                           "rider_category": "adult"})
    assert r.status_code == 422 and "none" in r.json()["detail"]
