"""The HTTP surface over the demo network: times outside the service period, CORS, HEAD,
security headers, the OpenAPI contract, offline docs, empty boards, echoed times."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import DEMO_CATALOG, client_for
from transit.ingest.catalog import load_catalog
from transit.ingest.pipeline import ingest
from transit.timetable.store import Store

NOW = "2026-11-26T08:00:00+01:00"  # a Thursday morning
PERIOD = "the timetable's service period 2025-01-01 to 2030-12-31 (a day either side is " \
         "accepted)"


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("demo")
    ingest(load_catalog(DEMO_CATALOG), Store(data))
    return data


@pytest.fixture(scope="module")
def client(demo_dir: Path) -> Iterator[TestClient]:
    with client_for(demo_dir, NOW) as c:
        yield c


def problem(r: object) -> tuple[int, str, str | None]:
    body = r.json()  # type: ignore[attr-defined]
    assert r.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    return body["status"], body["detail"], body.get("parameter")


# -- times outside the service period ---------------------------------------------------------

@pytest.mark.parametrize("at", [
    "9999-12-31T23:59:59-12:00", "9999-12-31T23:59:59", "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00", "2024-12-30T23:59:59+01:00", "2031-01-02T00:00:00+01:00"])
@pytest.mark.parametrize(("path", "params"), [
    ("/v1/stops/RR:CEN1/departures", {}), ("/v1/stations/RR:CEN/departures", {}),
    ("/v1/departures", {"lat": 50.45, "lon": 3.95})])
def test_departures_outside_the_service_period_are_422(client: TestClient, path: str,
                                                       params: dict, at: str) -> None:
    r = client.get(path, params={**params, "at": at})
    assert r.status_code == 422
    assert problem(r) == (422, f"at: {at!r} is outside {PERIOD}", "at")


@pytest.mark.parametrize("at", ["2024-12-31T00:00:00+01:00", "2031-01-01T23:59:59+01:00"])
def test_a_day_either_side_of_the_period_is_accepted(client: TestClient, at: str) -> None:
    r = client.get("/v1/stops/RR:CEN1/departures", params={"at": at})
    assert r.status_code == 200, r.text


def test_departures_near_nothing_outside_the_period_are_422(client: TestClient) -> None:
    r = client.get("/v1/departures", params={"lat": 10, "lon": 10,
                                             "at": "9999-12-31T23:59:59-12:00"})
    assert problem(r)[2] == "at"


@pytest.mark.parametrize(("day", "status"), [
    ("9999-12-31", 422), ("0001-01-01", 422), ("2024-12-30", 422), ("2031-01-02", 422),
    ("2031-01-01", 404), ("2024-12-31", 404), ("2026-11-26", 200)])
def test_trip_dates_outside_the_period_are_422(client: TestClient, day: str,
                                               status: int) -> None:
    r = client.get("/v1/trips/RR:A-IN-0800", params={"date": day})
    assert r.status_code == status
    if status == 422:
        assert problem(r) == (422, f"date: {day!r} is outside {PERIOD}", "date")
    elif status == 404:
        assert problem(r) == (404, f"trip 'RR:A-IN-0800' does not run on {day}", "date")


@pytest.mark.parametrize("param", ["depart_at", "arrive_by"])
@pytest.mark.parametrize("when", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00",
                                  "2031-01-03T08:00"])
def test_journey_times_outside_the_period_are_422(client: TestClient, param: str,
                                                  when: str) -> None:
    r = client.get("/v1/journeys", params={"from": "RR:CEN", "to": "RR:AIR", param: when})
    assert r.status_code == 422
    assert problem(r) == (422, f"{param}: {when!r} is outside {PERIOD}", param)
