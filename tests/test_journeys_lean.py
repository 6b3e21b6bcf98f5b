"""GET /v1/journeys' lean path (transit.api.lean): plainly valid queries skip FastAPI's
parameter handling, everything else is FastAPI's as before. Each query is asked twice of the
same app, the second time with FastAPI forced to handle it (a dependency override turns the
lean path off): status, body and headers must be the same, good answer or bad."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fastapi.routing
import pytest
from fastapi.testclient import TestClient

from tests.journey_support import via_network
from tests.lean_support import answer

J = "/v1/journeys"
Q = f"{J}?from=Q:A&to=Q:B&depart_at=2026-05-05T07:55:00%2B02:00"

OK = [
    Q, f"{Q}&window=30", f"{J}?from=Q:A&to=Q:B&arrive_by=2026-05-05T08:45:00%2B02:00",
    f"{Q}&via=Q:X&via_min_stay=10", f"{Q}&max_transfers=0", f"{Q}&lang=fr",
    f"{Q}&walk_speed=0.8&max_walk_m=200", f"{J}?from=50.0,4.0&to=Q:B",
    f"{Q}&wheelchair=true&wheelchair_unknown=true", f"{Q}&wheelchair=false",
    f"{Q}&exclude_stops=Q:X&exclude_passing=true", f"{Q}&modes=bus",
    f"{Q}&min_transfer_s=60&max_walk_m=1500.5&walk_speed=1.25", f"{Q}&unknown=1",
    f"{Q}&lang=fr-BE", f"{J}?to=Q:B&from=Q:A",
    f"{Q}&exclude_modes=&operators=",
]
REFUSED = [  # valid values the endpoint refuses (the same code on both paths)
    f"{Q}&window=30&arrive_by=2026-05-05T08:45:00%2B02:00", f"{Q}&via=Q:NOPE",
    f"{Q}&via=50.0,4.0", f"{J}?to=Q:B", f"{Q}&modes=rocket", f"{Q}&from_date=2026-05-05",
    f"{Q}&exclude_routes=NOPE", f"{Q}&rider_category=X:adult",
    f"{J}?to=Q:B&from_trip=T8&from_date=2026-05-05", f"{Q}&depart_at=yesterday",
    f"{J}?from=Q:A&to=Q:B&depart_at=yesterday",
]
VALID = OK + REFUSED
HOSTILE = [
    # missing, repeated
    J, f"{J}?from=Q:A", f"{Q}&to=Q:X", f"{Q}&window=5&window=6", f"{Q}&wheelchair=true&"
    "wheelchair=false", f"{Q}&from_date=2026-05-05&from_date=2026-05-06",
    # bool: only exactly true/false is read plainly
    f"{Q}&wheelchair=True", f"{Q}&wheelchair=1", f"{Q}&wheelchair=0", f"{Q}&wheelchair=yes",
    f"{Q}&wheelchair=on", f"{Q}&wheelchair=maybe", f"{Q}&wheelchair=", f"{Q}&wheelchair=%20true",
    f"{Q}&exclude_passing=FALSE", f"{Q}&wheelchair_unknown=t",
    # date: only YYYY-MM-DD that is a date
    f"{J}?to=Q:B&from_trip=T8&from_date=2019-02-30",
    f"{J}?to=Q:B&from_trip=T8&from_date=%202019-01-01",
    f"{J}?to=Q:B&from_trip=T8&from_date=20190101",
    f"{J}?to=Q:B&from_trip=T8&from_date=2019-1-1",
    f"{J}?to=Q:B&from_trip=T8&from_date=0000-01-01",
    f"{J}?to=Q:B&from_trip=T8&from_date=2019-01-01T00:00",
    f"{J}?to=Q:B&from_trip=T8&from_date=%D9%A2019-01-01",
    f"{J}?to=Q:B&from_trip=T8&from_date=1700000000",
    # numbers
    f"{Q}&window=181", f"{Q}&window=-1", f"{Q}&window=05", f"{Q}&window=1.0",
    f"{Q}&window=%2030", f"{Q}&walk_speed=0.3", f"{Q}&walk_speed=1e0", f"{Q}&walk_speed=.5",
    f"{Q}&max_walk_m=5000.01", f"{Q}&max_walk_m=nan", f"{Q}&max_walk_m=inf",
    f"{Q}&max_transfers={'9' * 5000}", f"{Q}&min_transfer_s=1801", f"{Q}&via_min_stay=",
    f"{Q}&from_date=",
    # strings
    f"{J}?from=Q:A&to=", f"{J}?from=Q:A&to={'x' * 81}", f"{Q}&rider_category=a%20b",
    f"{Q}&rider_category=adult%0A", f"{Q}&lang=f", f"{Q}&lang=fr_BE", f"{Q}&lang=en%0A",
    f"{Q}&modes={'b' * 201}", f"{Q}&exclude_stops=%00", f"{Q}&via=%F0%9F%9A%8C",
    # preview (a staged feed: the operator's key decides)
    f"{Q}&preview=fv_nope", f"{Q}&preview={'f' * 61}", f"{Q}&preview=",
]


@pytest.fixture
def client(tmp_path: Path, planner: Any) -> TestClient:
    return planner(via_network(tmp_path), "2026-05-05T07:00:00+02:00").client  # type: ignore[no-any-return]




def test_the_lean_path_answers_as_fastapi_does(client: TestClient) -> None:
    statuses = []
    for url in VALID + HOSTILE:
        lean = answer(client, url)
        assert lean == answer(client, url, slow=True), url
        statuses.append(lean[0])
    assert statuses[:len(OK)] == [200] * len(OK)
    assert set(statuses[len(OK):len(VALID)]) == {404, 422}
    assert set(statuses[len(VALID):]) == {200, 401, 404, 422}  # 401: a preview without key


@pytest.mark.parametrize("auth", ["Bearer ua_not-a-token", "Bearer tk_operator-key",
                                  "Basic dXNlcjpwYXNz", "Bearer", "ua_bare", ""])
def test_tokens_are_read_as_fastapi_reads_them(client: TestClient, auth: str) -> None:
    headers = {"Authorization": auth}
    for url in (Q, f"{Q}&window=181", f"{Q}&preview=fv_nope"):
        assert answer(client, url, headers=headers) == answer(client, url, True, headers)


def test_plainly_valid_queries_skip_fastapis_parameter_handling(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    solved: list[str] = []
    original = fastapi.routing.solve_dependencies

    async def counting(**kwargs: Any) -> Any:
        solved.append(kwargs["request"].url.query)
        return await original(**kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counting)
    for url in OK:
        assert client.get(url).status_code == 200, url
    assert client.get(f"{Q}&wheelchair=true&from_date=2026-05-05").status_code == 422
    assert solved == []
    slow = [f"{Q}&wheelchair=True", f"{Q}&window=5&window=6",
            f"{J}?to=Q:B&from_trip=T8&from_date=2019-02-30"]
    for url in slow:
        client.get(url)
    assert client.get(Q, headers={"Authorization": "Bearer ua_x"}).status_code == 401
    assert len(solved) == len(slow) + 1
