"""The departures endpoints' lean path (transit.api.lean): plainly valid queries skip
FastAPI's parameter handling, everything else is FastAPI's as before. Each query here is
asked twice of the same app, the second time with FastAPI forced to handle it (a dependency
override turns the lean path off): the answers must be the same, byte for byte."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import fastapi.routing
import pytest
from fastapi.testclient import TestClient

from tests.lean_support import NEAR, STATION, STOP, VALID, answer, demo_client


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    yield from demo_client(tmp_path_factory)


HOSTILE = [
    # malformed
    f"{STOP}?limit=", f"{STOP}?limit=ten", f"{STOP}?limit=1.0", f"{STOP}?limit=%2B3",
    f"{STOP}?limit=03", f"{STOP}?limit=-1", f"{STOP}?limit=1e2", f"{STOP}?limit=%203",
    f"{STOP}?window=0x10", f"{STOP}?at=", f"{STOP}?at=yesterday", f"{STOP}?lang=",
    f"{STOP}?lang=en%0A", f"{STOP}?lang=e", f"{STOP}?lang=en_GB", f"{STOP}?at=%00",
    f"{NEAR}?lat=50", f"{NEAR}?lon=3", NEAR, f"{NEAR}?lat=&lon=", f"{NEAR}?lat=north&lon=3",
    f"{NEAR}?lat=50.&lon=3", f"{NEAR}?lat=.5&lon=3", f"{NEAR}?lat=50,4&lon=3",
    f"{NEAR}?lat=nan&lon=3", f"{NEAR}?lat=inf&lon=3", f"{NEAR}?lat=-inf&lon=3",
    f"{NEAR}?lat=50&lon=3&radius=0", f"{NEAR}?lat=50&lon=3&radius=-5",
    f"{NEAR}?lat=1_0&lon=3", f"{NEAR}?lat=%EF%BC%95%EF%BC%90&lon=3",
    # out of range, huge
    f"{STOP}?limit=101", f"{STOP}?limit=99999999999999999999999999",
    f"{STOP}?window=1441", f"{STOP}?window={'9' * 5000}", f"{NEAR}?lat=90.0000001&lon=3",
    f"{NEAR}?lat=1e400&lon=3", f"{NEAR}?lat=50&lon={'1' * 400}.5",
    f"{NEAR}?lat=50&lon=3&radius=2000.000001", f"{NEAR}?lat=-90.5&lon=-180.5",
    # oversized
    f"{STOP}?at={'2' * 41}", f"{STOP}?exclude_modes={'b' * 201}",
    f"{STOP}?exclude_operators={'R' * 401}", f"{STOP}?lang={'a' * 36}",
    f"{STOP}?preview={'f' * 61}",
    # repeated
    f"{STOP}?limit=3&limit=4", f"{STOP}?limit=3&limit=0", f"{STOP}?lang=fr&lang=nl",
    f"{NEAR}?lat=50&lat=50.46&lon=3.98", f"{NEAR}?lat=50.46&lon=3.98&lon=3.98",
    # unicode junk, odd encodings
    f"{STOP}?at=%E2%80%AE2026-11-26", f"{STOP}?lang=%C3%A9n", f"{STOP}?lang=%FF%FE",
    f"{STOP}?exclude_modes=%F0%9F%9A%8C", f"{STOP}?exclude_operators=%ED%A0%80",
    f"{STOP}?at=2026-11-26T09:00%EF%BC%8B01:00", f"{NEAR}?lat=%D9%A5%D9%A0&lon=3",
    f"{NEAR}?lat=50%00&lon=3", f"{STOP}?limit=%D9%A3", f"{STOP}?%FF=1&limit=2",
    f"{STOP}?limit", f"{STOP}?&&&=&limit=2", f"{STOP}?limit=2;window=5",
    # well-formed but refused by the endpoint (same code on both paths)
    "/v1/stops/XX:1/departures", f"{STOP}?at=1999-01-01T00:00",
    f"{STOP}?exclude_modes=hovercraft", f"{STOP}?exclude_operators=ZZ",
    f"{STOP}?preview=fv_nope", "/v1/stations/XX:1/departures",
]


@pytest.mark.parametrize("url", VALID + HOSTILE)
def test_the_lean_path_answers_as_fastapi_does(client: TestClient, url: str) -> None:
    assert answer(client, url) == answer(client, url, slow=True)


@pytest.mark.parametrize("auth", ["Bearer ua_not-a-token", "Bearer tk_operator-key",
                                  "Basic dXNlcjpwYXNz", "Bearer", "ua_bare"])
def test_the_lean_path_reads_tokens_as_fastapi_does(client: TestClient, auth: str) -> None:
    for url in (f"{STOP}?limit=2", f"{NEAR}?lat=50.4601&lon=3.9805", f"{STOP}?limit=0"):
        headers = {"Authorization": auth}
        assert answer(client, url, headers=headers) == answer(client, url, True, headers)


def test_the_lean_path_answers_if_none_match(client: TestClient) -> None:
    status, headers, _ = answer(client, f"{STOP}?limit=2")
    assert status == 200
    again = client.get(f"{STOP}?limit=2", headers={"If-None-Match": headers["etag"]})
    assert (again.status_code, again.content, again.headers["etag"]) == (
        304, b"", headers["etag"])


def test_plainly_valid_queries_skip_fastapis_parameter_handling(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    solved: list[str] = []
    original = fastapi.routing.solve_dependencies

    async def counting(**kwargs: Any) -> Any:
        solved.append(kwargs["request"].url.path)
        return await original(**kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counting)
    assert client.get(f"{STOP}?limit=2&lang=fr").status_code == 200
    assert client.get(f"{NEAR}?lat=50.4601&lon=3.9805&radius=200").status_code == 200
    assert client.get(f"{STATION}?window=30").status_code == 200
    assert solved == []
    assert client.get(f"{STOP}?limit=2&limit=3").status_code == 200  # repeated: FastAPI's
    assert client.get(f"{STOP}?limit=0").status_code == 422
    assert solved == [STOP, STOP]


@pytest.mark.parametrize(("url", "parameter", "detail"), [
    (f"{STOP}?limit=99999999999999999999999999", "limit",
     "limit: Input should be less than or equal to 100"),
    (f"{STOP}?limit=ten", "limit",
     "limit: Input should be a valid integer, unable to parse string as an integer"),
    (f"{STOP}?window={'9' * 5000}", "window",
     "window: Unable to parse input string as an integer, exceeded maximum size"),
    (f"{NEAR}?lat=1e400&lon=3", "lat", "lat: Input should be less than or equal to 90"),
    (f"{NEAR}?lat=nan&lon=3", "lat", "lat: Input should be less than or equal to 90"),
    (f"{NEAR}?lat=50&lon=3&radius=0", "radius", "radius: Input should be greater than 0"),
    (f"{STOP}?lang=en%0A", "lang",
     "lang: String should match pattern '^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$'"),
    (f"{STOP}?at={'2' * 41}", "at", "at: String should have at most 40 characters"),
    (f"{STOP}?limit=3&limit=0", "limit", "limit: Input should be greater than or equal to 1"),
    (f"{NEAR}", "lat", "lat: Field required; lon: Field required"),
])
def test_hostile_values_get_the_errors_they_got_before(client: TestClient, url: str,
                                                       parameter: str, detail: str) -> None:
    r = client.get(url)
    assert (r.status_code, r.headers["content-type"]) == (422, "application/problem+json")
    body = r.json()
    assert (body["parameter"], body["detail"], body["instance"]) == (
        parameter, detail, url.split("?")[0])
