"""Fares: the nigiri fares cases (../shared/peer-cases, CASES.md: every product and amount),
Fares v2 of Transcollines and Nelson, and Bad input. Bay Area v1 is in test_fares_bayarea.py.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import DATA, PEER_CASES, build
from transit.fares.model import FareLeg
from transit.fares.pricing import UnknownOperator, UnknownRiderCategory, price_journey, products
from transit.fares.store import fares_for
from transit.timetable.store import Store

AREA_SETS = PEER_CASES / "nigiri_fares_v2_area_sets" / "gtfs"
TIMEFRAMES = PEER_CASES / "nigiri_fares_v2_timeframes_transfer" / "gtfs"
FARES_V2 = DATA / "gtfs" / "fares-v2"

needs_peers = pytest.mark.skipif(not PEER_CASES.exists(),
                                 reason=f"peer cases not found at {PEER_CASES}")
needs_v2 = pytest.mark.skipif(not FARES_V2.exists(), reason=f"no {FARES_V2}")


def _products(leg: dict) -> set[tuple[str, int, str | None, str | None]]:
    return {(p["name"], p["price"]["amount"], p["rider_category"], p["fare_medium"])
            for p in leg["fares"]["products"]}


def _trips(j: dict) -> list[dict]:
    return [leg for leg in j["legs"] if leg["trip_id"]]


@needs_peers
def test_area_sets_join_hsl_legs_into_a_three_zone_ticket(network) -> None:
    c = network({"N": AREA_SETS}, "2022-03-30T00:00:00Z")
    r = c.get("/v1/journeys", params={"from": "N:A", "to": "N:C",
                                      "depart_at": "2022-03-30T00:00:00Z"})
    j = r.json()["journeys"][0]
    legs = _trips(j)
    assert [(x["route"]["short_name"], x["departure"][11:16], x["arrival"][11:16])
            for x in legs] == [("Line 1", "02:00", "02:30"), ("Line 2", "02:35", "03:00")]
    assert [x["fares"]["fare_leg"] for x in legs] == [0, 0]  # joined HSL -> HSL
    assert _products(legs[0]) == _products(legs[1]) == {
        ("Three Zone Ticket", 440, None, "N:HSL_ticket"),
        ("Three Zone Ticket", 440, None, "N:HSL_card"),
        ("Three Zone Ticket", 440, None, "N:HSL_app"),
        ("Three Zone Contactless", 470, None, "N:contactless"),
        ("Pensioner Three Zone Ticket", 220, "N:pensioner", "N:HSL_card"),
        ("Reduced Mobility Three Zone Ticket", 220, "N:reduced_mobility", "N:HSL_card"),
        ("Children Three Zone Ticket", 220, "N:children", "N:HSL_card"),
        ("Children Three Zone Ticket", 220, "N:children", "N:HSL_app")}
    assert {p["product_id"] for p in legs[0]["fares"]["products"]} == {
        "N:three_zone_single_ticket"}
    assert j["fare"] == {"rider_category": None, "total": {"amount": 440, "currency": "EUR"},
                         "unknown_legs": [], "notes": []}
    for cat, amount in (("pensioner", 220), ("N:children", 220), ("adult", 440)):
        r = c.get("/v1/journeys", params={"from": "N:A", "to": "N:C", "rider_category": cat,
                                          "depart_at": "2022-03-30T00:00:00Z"})
        assert r.json()["journeys"][0]["fare"]["total"] == {"amount": amount, "currency": "EUR"}
    # a category the feed defines but no product is for: products for any rider still are
    r = c.get("/v1/journeys", params={"from": "N:A", "to": "N:C", "rider_category": "student",
                                      "depart_at": "2022-03-30T00:00:00Z"})
    assert r.json()["journeys"][0]["fare"]["total"] == {"amount": 440, "currency": "EUR"}


FULL = {"offpeak": {"adult": [("Full App", 350, "app"), ("Full Paper Card", 400, "paper-card"),
                              ("Full Daypass", 500, "app"), ("Full Weekpass", 1200, "app")],
                    "reduced": [("Full App", 250, "app"), ("Full Paper Card", 300, "paper-card"),
                                ("Full Daypass", 350, "app"), ("Full Weekpass", 800, "app")]},
        "peak": {"adult": [("Peak Full App", 700, "app"), ("Peak Full Paper Card", 800,
                                                           "paper-card"),
                           ("Peak Full Daypass", 1000, "app"),
                           ("Peak Full Weekpass", 2400, "app")],
                 "reduced": [("Peak Full App", 550, "app"), ("Peak Full Paper Card", 600,
                                                             "paper-card"),
                             ("Peak Full Daypass", 700, "app"),
                             ("Peak Full Weekpass", 1600, "app")]}}
BLUE = {"adult": [("Blue App", 250, "app"), ("Blue Paper Card", 300, "paper-card"),
                  ("Blue Daypass", 400, "app"), ("Blue Weekpass", 1000, "app")],
        "reduced": [("Blue App", 150, "app"), ("Blue Paper Card", 200, "paper-card"),
                    ("Blue Daypass", 250, "app"), ("Blue Weekpass", 600, "app")]}


def _expected(table: dict[str, list[tuple[str, int, str]]]) -> set:
    return {(name, amount, f"N:{cat}", f"N:{medium}") for cat, rows in table.items()
            for name, amount, medium in rows}


AIRPORT = {("Airport Card", 1000, "N:adult", "N:paper-card")}
EXTENSION = {"product_id": "N:peak-full-airport-ext", "name": "Full Airport Extension Card",
             "price": {"amount": 1200, "currency": "EUR"}, "rider_category": "N:adult",
             "fare_medium": "N:paper-card"}


@needs_peers
@pytest.mark.parametrize(("start", "depart", "arrive", "first", "first_total"), [
    ("A", "2022-03-30T00:00:00Z", "04:30", FULL["offpeak"], 350),  # (a) offpeak
    ("A", "2022-03-30T06:00:00Z", "10:30", FULL["peak"], 700),  # (b) peak
    ("C", "2022-03-30T00:00:00Z", "03:30", BLUE, 250),  # (c) rule_priority 1: Blue
])
def test_timeframes_priorities_and_the_airport_transfer(network, start, depart, arrive, first,
                                                        first_total) -> None:
    c = network({"N": TIMEFRAMES}, "2022-03-30T00:00:00Z")
    r = c.get("/v1/journeys", params={"from": f"N:{start}", "to": "N:E", "depart_at": depart})
    j = r.json()["journeys"][0]
    legs = _trips(j)
    assert j["arrival"][11:16] == arrive
    core, air = legs[:-1], legs[-1]
    assert {x["fares"]["fare_leg"] for x in core} == {0} and air["fares"]["fare_leg"] == 1
    assert len(core) == (3 if start == "A" else 1)  # Line 1 + 2 + 3 joined (pink, blue)
    assert _products(core[0]) == _expected(first)
    assert _products(air) == AIRPORT
    assert air["fares"]["transfer_product"] == EXTENSION
    # fare_transfer_type 0 (A + AB): the first fare leg and the transfer product
    assert j["fare"]["total"] == {"amount": first_total + 1200, "currency": "EUR"}
    # the airport card and its extension are adult products: a reduced rider's airport leg
    # is not priced, and the total is not guessed
    r = c.get("/v1/journeys", params={"from": f"N:{start}", "to": "N:E", "depart_at": depart,
                                      "rider_category": "reduced"})
    fare = r.json()["journeys"][0]["fare"]
    assert fare["total"] is None and fare["unknown_legs"] == [len(j["legs"]) - 1]


@needs_peers
def test_bad_rider_category_and_operator(network) -> None:
    c = network({"N": TIMEFRAMES}, "2022-03-30T00:00:00Z")
    r = c.get("/v1/journeys", params={"from": "N:A", "to": "N:E", "rider_category": "senior"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["parameter"] == "rider_category" and "'senior'" in r.json()["detail"]
    for bad in ("x" * 65, "a b", "<script>", ""):
        r = c.get("/v1/journeys", params={"from": "N:A", "to": "N:E", "rider_category": bad})
        assert r.status_code == 422, bad
    r = c.get("/v1/fares/products", params={"operator": "ZZ"})
    assert r.status_code == 422 and "'ZZ'" in r.json()["detail"]
    for bad in ("x" * 33, "N:1", "../N", "' OR 1=1"):
        assert c.get("/v1/fares/products", params={"operator": bad}).status_code == 422
    got = c.get("/v1/fares/products", params={"operator": "N"}).json()["products"]
    assert len(got) == 50 and {p["operator"] for p in got} == {"N"}
    ext = next(p for p in got if p["product_id"] == "N:peak-full-airport-ext")
    assert ext["prices"] == [EXTENSION]
    assert c.get("/v1/fares/products").json()["products"] == got


@needs_peers
def test_engine_entry_points(tmp_path: Path) -> None:
    build({"N": TIMEFRAMES}, tmp_path)
    fares = fares_for(Store(tmp_path).load_current())  # type: ignore[arg-type]
    with pytest.raises(UnknownRiderCategory):
        price_journey(fares, [], "nobody")
    with pytest.raises(UnknownOperator):
        products(fares, "ZZ")
    t = int(datetime.fromisoformat("2022-03-30T04:05:00+02:00").timestamp())
    leg = FareLeg("N", "N:air", "N:T4@04:05:00", "N:D", "N:E", t, t + 1500)
    price = price_journey(fares, [leg], None)
    assert price.total is not None and price.total.amount == 1000
    ghost = FareLeg("Q", "Q:r", "Q:t", "Q:a", "Q:b", t, t + 60)
    price = price_journey(fares, [leg, ghost], None)
    assert price.total is None and price.unknown_legs == (1,)


def _csv(z: Path, name: str) -> list[dict[str, str]]:
    with zipfile.ZipFile(z) as zf:
        return list(csv.DictReader(io.TextIOWrapper(zf.open(name), "utf-8-sig")))


@needs_v2
def test_transcollines_area_pairs(tmp_path: Path) -> None:
    z = FARES_V2 / "transcollines-qc-2026-fares.zip"
    build({"TC": z}, tmp_path)
    fares = fares_for(Store(tmp_path).load_current())  # type: ignore[arg-type]
    area = {r["stop_id"]: r["area_id"] for r in _csv(z, "stop_areas.txt")}
    price_of = {(r["from_area_id"], r["to_area_id"]): r["fare_product_id"]
                for r in _csv(z, "fare_leg_rules.txt")}
    amount = {r["fare_product_id"]: round(float(r["amount"]) * 100)
              for r in _csv(z, "fare_products.txt")}
    route_of = {r["trip_id"]: r["route_id"] for r in _csv(z, "trips.txt")}
    calls: dict[str, list[str]] = {}
    for r in _csv(z, "stop_times.txt"):
        calls.setdefault(r["trip_id"], []).append(r["stop_id"])
    t = int(datetime.fromisoformat("2026-03-04T07:00:00-05:00").timestamp())
    checked = set()
    for trip, stops in calls.items():
        pair = (area.get(stops[0]), area.get(stops[-1]))
        if pair in checked or pair not in price_of:
            continue
        checked.add(pair)
        leg = FareLeg("TC", f"TC:{route_of[trip]}", f"TC:{trip}", f"TC:{stops[0]}",
                      f"TC:{stops[-1]}", t, t + 3600)
        price = price_journey(fares, [leg], None)
        assert price.total is not None, pair
        assert price.total.amount == amount[price_of[pair]], pair
        assert price.total.currency == "CAD"
    assert len(checked) >= 3
    assert {p.product_id for p in products(fares, "TC")} == {"TC:PS-500", "TC:PS-2000",
                                                              "TC:PS-0"}


@needs_v2
def test_nelson_transfers_are_free_for_a_day(tmp_path: Path) -> None:
    build({"NS": FARES_V2 / "nelson-streetcar-2026.zip"}, tmp_path)
    fares = fares_for(Store(tmp_path).load_current())  # type: ignore[arg-type]
    t = int(datetime.fromisoformat("2026-06-01T11:10:00-07:00").timestamp())
    ride = FareLeg("NS", "NS:SC", "NS:EB01", "NS:S6", "NS:S1", t, t + 600)
    back = FareLeg("NS", "NS:SC", "NS:WB01", "NS:S1", "NS:S6", t + 1200, t + 1800)
    late = FareLeg("NS", "NS:SC", "NS:EB04", "NS:S6", "NS:S1", t + 90000, t + 90600)
    one = price_journey(fares, [ride], None)
    assert one.total is not None and one.total.amount == 500 and one.total.currency == "CAD"
    two = price_journey(fares, [ride, back, ride], None)
    # lg-default -> lg-default, transfer_count -1, type 0 (A + AB), AB = 0.00 CAD
    assert two.total is not None and two.total.amount == 500
    assert [fl.transfer_product.product_id if fl.transfer_product else None
            for fl in two.fare_legs] == [None, "NS:transfer", "NS:transfer"]
    # past the 86400 s duration limit (departure to departure) a new fare is due
    three = price_journey(fares, [ride, late], None)
    assert three.total is not None and three.total.amount == 1000


@needs_peers
def test_the_profiles_rider_category_prices_journeys(tmp_path: Path) -> None:
    from tests import databases
    from tests.commuters_support import commuters_client

    build({"N": AREA_SETS}, tmp_path / "data")
    with databases.database_url("sqlite", tmp_path) as url, \
            commuters_client(tmp_path / "data", url) as c:
        token = c.post("/v1/auth/anonymous").json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        q = {"from": "N:A", "to": "N:C", "depart_at": "2022-03-30T00:00:00Z"}
        assert c.patch("/v1/me/profile", headers=auth,
                       json={"rider_category": "N:pensioner"}).status_code == 200
        r = c.get("/v1/journeys", params=q, headers=auth).json()
        assert r["applied_profile"] == {"rider_category": "N:pensioner"}
        assert r["journeys"][0]["fare"]["total"] == {"amount": 220, "currency": "EUR"}
        assert r["journeys"][0]["fare"]["rider_category"] == "N:pensioner"
        # the query's category wins over the profile's
        r = c.get("/v1/journeys", params={**q, "rider_category": "adult"}, headers=auth).json()
        assert r["journeys"][0]["fare"]["total"]["amount"] == 440
        assert "rider_category" not in r["applied_profile"]
        # a stored category this network does not define is not applied (no 422 for it)
        c.patch("/v1/me/profile", headers=auth, json={"rider_category": "nobody"})
        r = c.get("/v1/journeys", params=q, headers=auth)
        assert r.status_code == 200 and r.json()["applied_profile"] == {}
        assert r.json()["journeys"][0]["fare"]["total"]["amount"] == 440


def test_rules_naming_what_the_feed_lacks_apply_to_nothing_and_are_reported(
        tmp_path: Path) -> None:
    from tests.feeds import write_feed

    feed = write_feed(tmp_path / "a", {
        "fare_products.txt": "fare_product_id,fare_product_name,amount,currency\n"
                             "P,Single,2.10,EUR\nBAD,Bad,two,EUR\nJPY,Yen,150,JPY\n",
        "areas.txt": "area_id\nZ1\n",
        "stop_areas.txt": "area_id,stop_id\nZ1,S1\nZ1,S2\nNOPE,S3\n",
        "fare_leg_rules.txt": "leg_group_id,network_id,from_area_id,to_area_id,"
                              "fare_product_id\n"
                              "g,,Z1,Z1,P\ng,,Z1,Z9,P\ng,,,,MISSING\n",
        # v1 tables beside v2 are not used
        "fare_attributes.txt": "fare_id,price,currency_type,payment_method,transfers\n"
                               "F,9.99,EUR,0,\n",
    })
    report = build({"A": feed}, tmp_path / "data")
    warnings = " | ".join(report.warnings["A"])
    for text in ("'BAD'", "'MISSING'", "'NOPE'", "Fares v2"):
        assert text in warnings, text
    fares = fares_for(Store(tmp_path / "data").load_current())  # type: ignore[arg-type]
    assert {(p.product_id, p.prices[0].price.amount, p.prices[0].price.currency)
            for p in products(fares, "A")} == {("A:P", 210, "EUR"), ("A:JPY", 150, "JPY")}
    t = int(datetime.fromisoformat("2026-06-01T08:00:00+02:00").timestamp())
    inside = FareLeg("A", "A:R1", "A:T1", "A:S1", "A:S2", t, t + 600)
    outside = FareLeg("A", "A:R1", "A:T1", "A:S2", "A:S3", t + 660, t + 1200)
    assert price_journey(fares, [inside], None).total.amount == 210  # type: ignore[union-attr]
    # S3 is in no area: Z1 -> (none) matches no rule (the one naming Z9 applies to nothing)
    got = price_journey(fares, [inside, outside], None)
    assert got.total is None and got.unknown_legs == (1,)


def test_v1_fares_of_two_agencies_in_one_feed(tmp_path: Path) -> None:
    from tests.feeds import write_feed

    feed = write_feed(tmp_path / "a", {
        "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\n"
                      "A,Agency A,https://a.example,Europe/Brussels\n"
                      "B,Agency B,https://b.example,Europe/Brussels\n",
        "routes.txt": "route_id,agency_id,route_short_name,route_long_name,route_type\n"
                      "R1,A,1,Line One,3\nR2,B,2,Line Two,3\n",
        "trips.txt": "route_id,service_id,trip_id,trip_headsign\nR1,DAILY,T1,Third\n"
                     "R2,DAILY,T2,First\n",
        "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                          "T1,08:00:00,08:00:00,S1,1\nT1,08:10:00,08:11:00,S2,2\n"
                          "T1,08:20:00,08:20:00,S3,3\nT2,09:00:00,09:00:00,S3,1\n"
                          "T2,09:30:00,09:30:00,S1,2\n",
        # no fare_rules: each fare is its agency's only one
        "fare_attributes.txt": "fare_id,price,currency_type,payment_method,transfers,"
                               "agency_id,transfer_duration\n"
                               "FA,2.50,EUR,0,0,A,\nFB,3.00,EUR,0,1,B,3600\n",
    })
    build({"X": feed}, tmp_path / "data")
    fares = fares_for(Store(tmp_path / "data").load_current())  # type: ignore[arg-type]
    t = int(datetime.fromisoformat("2026-06-01T08:00:00+02:00").timestamp())
    a = FareLeg("X", "X:R1", "X:T1", "X:S1", "X:S3", t, t + 1200)
    b = FareLeg("X", "X:R2", "X:T2", "X:S3", "X:S1", t + 3600, t + 5400)
    got = price_journey(fares, [a, b], None)
    assert got.total is not None and got.total.amount == 550
    assert [(fl.legs, [p.product_id for p in fl.products]) for fl in got.fare_legs] == [
        ((0,), ["X:FA"]), ((1,), ["X:FB"])]
    # FB allows one transfer within an hour, but only on its own agency's routes
    again = FareLeg("X", "X:R2", "X:T2", "X:S3", "X:S1", t + 5000, t + 6000)
    got = price_journey(fares, [b, again], None)
    assert got.total is not None and got.total.amount == 300
    assert [fl.legs for fl in got.fare_legs] == [(0, 1)]
