"""The public API over the demo network (feeds/catalog.toml), served as of a Thursday."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import DEMO_CATALOG, client_for
from transit.catalog import load_catalog
from transit.ingest.pipeline import ingest
from transit.timetable.store import Store

NOW = "2026-11-26T08:00:00+01:00"


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("demo")
    ingest(load_catalog(DEMO_CATALOG), Store(data))
    return data


@pytest.fixture(scope="module")
def client(demo_dir: Path) -> Iterator[TestClient]:
    with client_for(demo_dir, NOW) as c:
        yield c


def haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6371008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * r * math.asin(math.sqrt(a))


def board(client: TestClient, path: str, **params: object) -> list[tuple[str, str, str]]:
    r = client.get(path, params=params)
    assert r.status_code == 200, r.text
    return [(d["trip_id"], d["stop_id"], d["scheduled_departure"][11:16])
            for d in r.json()["departures"]]


def test_operators(client: TestClient) -> None:
    ops = client.get("/v1/operators").json()["operators"]
    assert [(o["id"], o["name"], o["counts"]["trips"], o["counts"]["stops"]) for o in ops] == [
        ("RR", "Riverton Rail", 74, 5), ("RB", "Riverton Buses", 104, 4),
        ("RF", "Riverton Ferries", 26, 2)]
    assert ops[0]["languages"] == ["en", "fr", "nl"]


def test_stop_detail(client: TestClient) -> None:
    s = client.get("/v1/stops/RR:CEN1").json()
    assert (s["name"], s["platform"], s["parent_station"], s["station_id"], s["operator"],
            s["timezone"], s["wheelchair_boarding"], s["location_type"]) == (
        "Central Station", "1", "RR:CEN", "RR:CEN", "RR", "Europe/Brussels", "accessible", "stop")
    assert [(r["id"], r["mode"], r["color"]) for r in s["routes"]] == [
        ("RR:A", "rail", "#0055A4")]
    assert client.get("/v1/stops/RR:AIR", params={"lang": "nl"}).json()["name"] == "Luchthaven"


def test_nearby_stops_nearest_first_with_distances(client: TestClient) -> None:
    got = client.get("/v1/stops", params={"lat": 50.45, "lon": 3.95, "radius": 100}).json()
    expected = [("RR:CEN1", haversine(50.45, 3.95, 50.45005, 3.95010)),
                ("RR:CEN2", haversine(50.45, 3.95, 50.44995, 3.94990)),
                ("RB:3", haversine(50.45, 3.95, 50.45030, 3.95040))]
    assert [(s["id"], s["distance_m"]) for s in got["stops"]] == [
        (i, round(d, 1)) for i, d in expected]
    got = client.get("/v1/stops", params={"lat": 50.45, "lon": 3.95, "radius": 100, "limit": 1})
    assert [s["id"] for s in got.json()["stops"]] == ["RR:CEN1"]
    far = client.get("/v1/stops", params={"lat": 10.0, "lon": 10.0}).json()
    assert far == {"stops": []}


@pytest.mark.parametrize(("q", "lang", "expected"), [
    ("cent", None, ["RR:CEN", "RB:3"]),
    ("Harb", None, ["RR:HAR", "RB:4", "RF:HAR"]),
    ("harbour gate", None, ["RB:4"]),
    ("station main", None, ["RB:3"]),
    ("AEROPORT", None, ["RR:AIR"]),
    ("luchth", "nl", ["RR:AIR"]),
    ("gare", "fr", ["RR:CEN"]),
    ("zzz", None, []),
])
def test_name_search(client: TestClient, q: str, lang: str | None, expected: list[str]) -> None:
    params = {"q": q} | ({"lang": lang} if lang else {})
    got = client.get("/v1/stops", params=params).json()["stops"]
    assert [s["id"] for s in got] == expected
    if lang == "nl":
        assert got[0]["name"] == "Luchthaven"


def test_departures_at_a_stop(client: TestClient) -> None:
    assert board(client, "/v1/stops/RR:CEN1/departures", limit=3) == [
        ("RR:A-OUT-0800", "RR:CEN1", "08:00"), ("RR:A-OUT-0830", "RR:CEN1", "08:30"),
        ("RR:A-OUT-0900", "RR:CEN1", "09:00")]
    d = client.get("/v1/stops/RR:CEN1/departures", params={"limit": 1, "lang": "fr"}).json()
    dep = d["departures"][0]
    assert dep == {
        "trip_id": "RR:A-OUT-0800",
        "route": {"id": "RR:A", "short_name": "A", "long_name": "Ligne de l'Aéroport",
                  "mode": "rail", "route_type": 2, "color": "#0055A4", "text_color": "#FFFFFF"},
        "operator": "RR", "headsign": "Aéroport", "stop_id": "RR:CEN1",
        "stop_name": "Gare Centrale", "platform": "1", "scheduled_platform": "1",
        "service_date": "2026-11-26",
        "scheduled_departure": "2026-11-26T08:00:00+01:00", "realtime_departure": None,
        "delay_s": None, "status": "scheduled", "wheelchair_accessible": "unknown",
        "distance_m": None, "alerts": []}
    assert d["realtime"] == {"available": True, "reason": None, "stale_operators": []}
    assert (d["at"], d["until"]) == ("2026-11-26T08:00:00+01:00", "2026-11-26T10:00:00+01:00")


def test_departures_after_midnight_and_window(client: TestClient) -> None:
    # the 24:00 train of Thursday leaves on Friday at 00:00, service date Thursday
    r = client.get("/v1/stops/RR:CEN1/departures",
                   params={"at": "2026-11-26T23:45", "window": 30}).json()
    assert [(d["trip_id"], d["scheduled_departure"], d["service_date"])
            for d in r["departures"]] == [
        ("RR:A-OUT-2400", "2026-11-27T00:00:00+01:00", "2026-11-26")]


def test_departures_at_a_station_of_two_operators(client: TestClient) -> None:
    assert board(client, "/v1/stations/RR:CEN/departures", limit=5) == [
        ("RR:A-OUT-0800", "RR:CEN1", "08:00"), ("RB:10-W@07:50:00", "RB:3", "08:00"),
        ("RB:10-E@08:00:00", "RB:3", "08:11"), ("RB:10-W@08:05:00", "RB:3", "08:15"),
        ("RB:10-E@08:15:00", "RB:3", "08:26")]
    # the station can be named by any member stop; buses do not run on Christmas Day
    assert board(client, "/v1/stations/RB:3/departures", at="2026-12-25T08:00", limit=3) == [
        ("RR:A-OUT-0800", "RR:CEN1", "08:00"), ("RR:A-OUT-0830", "RR:CEN1", "08:30"),
        ("RR:A-OUT-0900", "RR:CEN1", "09:00")]


def test_departures_near_a_point(client: TestClient) -> None:
    r = client.get("/v1/departures", params={"lat": 50.4601, "lon": 3.9805, "radius": 200,
                                              "limit": 4, "at": "2026-11-26T08:00"}).json()
    got = [(d["trip_id"], d["stop_id"], d["scheduled_departure"][11:16], d["distance_m"])
           for d in r["departures"]]
    dist = {"RR:HAR": haversine(50.4601, 3.9805, 50.46, 3.98),
            "RF:HAR": haversine(50.4601, 3.9805, 50.461, 3.9815),
            "RB:4": haversine(50.4601, 3.9805, 50.4602, 3.979)}
    assert got == [
        ("RF:F1-08", "RF:HAR", "08:00", round(dist["RF:HAR"], 1)),
        ("RB:10-W@08:05:00", "RB:4", "08:05", round(dist["RB:4"], 1)),
        ("RR:A-OUT-0800", "RR:HAR", "08:06", round(dist["RR:HAR"], 1)),
        ("RR:A-IN-0800", "RR:HAR", "08:18", round(dist["RR:HAR"], 1))]
    empty = client.get("/v1/departures", params={"lat": 10, "lon": 10}).json()
    assert empty["departures"] == []


def test_trip_detail(client: TestClient) -> None:
    t = client.get("/v1/trips/RR:A-IN-0800", params={"date": "2026-11-26"}).json()
    assert (t["headsign"], t["direction_id"], t["block_id"], t["service_date"]) == (
        "Central Station", 1, "A2", "2026-11-26")
    assert [(s["stop_id"], s["platform"], s["scheduled_arrival"][11:16]) for s in t["stops"]] \
        == [("RR:AIR", None, "08:10"), ("RR:HAR", None, "08:18"), ("RR:CEN2", "2", "08:24")]
    default_date = client.get("/v1/trips/RR:A-IN-0800").json()
    assert default_date["service_date"] == "2026-11-26"


@pytest.mark.parametrize(("path", "params", "status", "parameter", "detail"), [
    ("/v1/stops/XX:1", {}, 404, None, "unknown stop 'XX:1'"),
    ("/v1/stations/XX:1", {}, 404, None, "unknown station 'XX:1'"),
    ("/v1/trips/RR:nope", {}, 404, None, "unknown trip 'RR:nope'"),
    ("/v1/stops/XX:1/departures", {}, 404, None, "unknown stop 'XX:1'"),
    ("/v1/stops", {"lat": 91, "lon": 3}, 422, "lat",
     "lat: Input should be less than or equal to 90"),
    ("/v1/stops", {"lat": 50}, 422, "lon", "lon: lat and lon go together"),
    ("/v1/stops", {}, 422, "q", "q: give q (name search) or lat and lon (nearby)"),
    ("/v1/stops", {"lat": "north", "lon": 3}, 422, "lat",
     "lat: Input should be a valid number, unable to parse string as a number"),
    ("/v1/stops/RR:CEN1/departures", {"limit": 1000}, 422, "limit",
     "limit: Input should be less than or equal to 100"),
    ("/v1/stops/RR:CEN1/departures", {"at": "yesterday"}, 422, "at",
     "at: 'yesterday' is not an ISO 8601 date-time such as 2018-08-29T08:00 or "
     "2018-08-29T08:00:00-07:00"),
    ("/v1/stops/RR:CEN1/departures", {"window": 0}, 422, "window",
     "window: Input should be greater than or equal to 1"),
    ("/v1/trips/RR:A-IN-0800", {"date": "2026-13-01"}, 422, "date",
     "date: Input should be a valid date or datetime, month value is outside expected range "
     "of 1-12"),
    ("/v1/departures", {"lat": 50}, 422, "lon", "lon: Field required"),
])
def test_errors_are_problem_json(client: TestClient, path: str, params: dict, status: int,
                                 parameter: str | None, detail: str) -> None:
    r = client.get(path, params=params)
    assert r.status_code == status
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert (body["status"], body["detail"], body.get("parameter"), body["instance"]) == (
        status, detail, parameter, path)


def test_etag_and_cache_control(client: TestClient) -> None:
    r = client.get("/v1/stops/RR:CEN1")
    assert r.headers["cache-control"] == "public, max-age=300"
    again = client.get("/v1/stops/RR:CEN1", headers={"If-None-Match": r.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")
    live = client.get("/v1/stops/RR:CEN1/departures")
    assert live.headers["cache-control"] == "public, max-age=15"


def test_rate_limit(demo_dir: Path) -> None:
    with client_for(demo_dir, NOW, rate_limit_per_minute=60) as c:
        codes = [c.get("/v1/stops/RR:CEN1").status_code for _ in range(12)]
        assert codes == [200] * 10 + [429, 429]
        r = c.get("/v1/operators")
        assert r.headers["content-type"] == "application/problem+json"
        assert int(r.headers["retry-after"]) >= 1
        assert c.get("/healthz").status_code == 200  # health checks are not limited


def test_health_readiness_metrics_and_docs(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["operators"] == ["RR", "RB", "RF"]
    client.get("/v1/operators")
    metrics = client.get("/metrics").text
    assert 'transit_http_requests_total{route="/v1/operators",status="200"}' in metrics
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert sorted(paths) == [
        "/.well-known/ticket-keys", "/v1/alerts", "/v1/auth/anonymous", "/v1/auth/logout",
        "/v1/auth/register", "/v1/auth/token", "/v1/departures", "/v1/fares/products",
        "/v1/gtfs-rt/{kind}", "/v1/inspections", "/v1/journeys", "/v1/me", "/v1/me/alerts",
        "/v1/me/alerts/read", "/v1/me/alerts/{alert_id}/read", "/v1/me/board",
        "/v1/me/commutes", "/v1/me/commutes/{commute_id}", "/v1/me/commutes/{commute_id}/next",
        "/v1/me/events", "/v1/me/export", "/v1/me/favourites",
        "/v1/me/favourites/{favourite_id}", "/v1/me/orders", "/v1/me/orders/{order_id}",
        "/v1/me/profile", "/v1/me/push-subscriptions",
        "/v1/me/push-subscriptions/{subscription_id}", "/v1/me/push/vapid-key",
        "/v1/me/tickets", "/v1/me/tickets/{ticket_id}", "/v1/me/tickets/{ticket_id}/qr.png",
        "/v1/me/tickets/{ticket_id}/qr.svg", "/v1/me/tickets/{ticket_id}/refund",
        "/v1/me/webhooks", "/v1/me/webhooks/{webhook_id}", "/v1/offers", "/v1/operators",
        "/v1/operators/{operator_id}/audit", "/v1/operators/{operator_id}/feeds",
        "/v1/operators/{operator_id}/feeds/rollback",
        "/v1/operators/{operator_id}/feeds/{version_id}",
        "/v1/operators/{operator_id}/feeds/{version_id}/publish",
        "/v1/operators/{operator_id}/keys", "/v1/operators/{operator_id}/keys/{key_id}",
        "/v1/operators/{operator_id}/keys/{key_id}/rotate", "/v1/operators/{operator_id}/kpis",
        "/v1/operators/{operator_id}/realtime", "/v1/operators/{operator_id}/sales",
        "/v1/orders", "/v1/orders/{order_id}", "/v1/stations/{station_id}",
        "/v1/stations/{station_id}/departures", "/v1/stops", "/v1/stops/{stop_id}",
        "/v1/stops/{stop_id}/departures", "/v1/tickets/revoked", "/v1/trips/{trip_id}",
        "/v1/vehicles"]


def test_no_timetable_yet_is_503(tmp_path: Path) -> None:
    with client_for(tmp_path, NOW) as c:
        r = c.get("/v1/operators")
        assert r.status_code == 503
        assert r.json()["detail"] == "no timetable has been compiled yet; run `transit ingest`"
        assert c.get("/readyz").status_code == 503


def test_a_closed_app_lets_go_of_its_timetable(demo_dir: Path) -> None:
    """Nothing process-wide keeps an app alive: FastAPI caches endpoint callables for the life
    of the process, and a route closing over its app held every timetable ever served (each
    with its memory maps and file descriptors) until the process ran out of them."""
    import gc
    import weakref

    with client_for(demo_dir, NOW) as c:
        assert c.get("/docs").status_code == 200
        assert c.get("/redoc").status_code == 200
        app = weakref.ref(c.app)
        holder = weakref.ref(c.app.state.holder)  # type: ignore[attr-defined]
    del c
    gc.collect()
    assert (app(), holder()) == (None, None)
