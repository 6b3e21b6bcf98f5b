"""GET /v1/journeys builds its answer as plain dicts (transit.journeys.service), not as the
pydantic models its OpenAPI document declares (transit.journeys.schemas.JourneyList): each
answer must be exactly what the models would write, every field, default and type, in the
models' order. Checked byte for byte on the demo network over seeded queries of every kind
(leaving at, arriving by, a window, coordinates, French, wheelchair with unknown access)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import orjson
import pytest
from fastapi.testclient import TestClient

from tests.conftest import client_for
from transit.api.responses import large_etag_of
from transit.journeys.schemas import JourneyList

NOW = "2026-11-26T08:00:00+01:00"
DAY = "2026-11-26"


@pytest.fixture(scope="module")
def client(demo_whole: Path) -> Iterator[TestClient]:
    with client_for(demo_whole, NOW) as c:
        yield c


def _queries(c: TestClient, n: int) -> list[tuple[dict[str, str], dict[str, str]]]:
    """(query, headers) for n seeded pairs of the busiest stops, of every kind in turn."""
    tt = c.app.state.holder.get()  # type: ignore[attr-defined]
    ids = tt.strings("stop_id").to_list()
    busy = np.argsort(-np.diff(np.asarray(tt.ev_offsets)), kind="stable")[:40]
    lat, lon = np.asarray(tt.stop_lat), np.asarray(tt.stop_lon)
    rng = np.random.default_rng(5)
    out = []
    for k in range(n):
        a, b = (int(x) for x in rng.choice(busy, 2, replace=False))
        when = f"{DAY}T{int(rng.integers(6, 20)):02d}:{int(rng.integers(0, 60)):02d}:00+01:00"
        q = {"from": ids[a], "to": ids[b], "depart_at": when}
        if k % 5 == 1:
            q = {"from": ids[a], "to": ids[b], "arrive_by": when, "max_transfers": "2"}
        elif k % 5 == 2:
            q["window"] = "60"
        elif k % 5 == 3:
            q["from"] = f"{lat[a] + 0.001:.5f},{lon[a]:.5f}"
            q["to"] = f"{lat[b]:.5f},{lon[b] - 0.001:.5f}"
        elif k % 5 == 4:
            q.update(wheelchair="true", wheelchair_unknown="true")
        out.append((q, {"accept-language": "fr"} if k % 2 else {}))
    return out


def test_answers_are_what_the_declared_models_write(client: TestClient) -> None:
    legs = 0
    for query, headers in _queries(client, 60):
        r = client.get("/v1/journeys", params=query, headers=headers)
        assert r.status_code == 200, (query, r.text)
        model = JourneyList.model_validate_json(r.content)
        assert orjson.dumps(model.model_dump(by_alias=True)) == r.content, query
        legs += sum(len(j["legs"]) for j in r.json()["journeys"])
    assert legs > 60  # the queries find journeys: the check is not of empty lists


def test_the_etag_is_the_bodys_digest_and_answers_304(client: TestClient) -> None:
    """Journeys' ETag (large_etag_of: SHA-256, not the BLAKE2b of other answers) is the
    body's, so a changed answer has another; If-None-Match naming it (or among others, or
    weak) is a 304 with the same headers and no body."""
    seen: dict[str, bytes] = {}
    for query, headers in _queries(client, 10):
        r = client.get("/v1/journeys", params=query, headers=headers)
        etag = r.headers["etag"]
        assert etag == large_etag_of(r.content) and len(etag) == 26, query
        assert seen.setdefault(etag, r.content) == r.content
        for given in (etag, f'"x", W/{etag}'):
            again = client.get("/v1/journeys", params=query,
                               headers={**headers, "if-none-match": given})
            assert (again.status_code, again.content, again.headers["etag"]) == (
                304, b"", etag)
            assert again.headers["cache-control"] == r.headers["cache-control"]
        other = client.get("/v1/journeys", params=query,
                           headers={**headers, "if-none-match": '"' + "0" * 24 + '"'})
        assert (other.status_code, other.content) == (200, r.content)
    assert len(seen) == 10  # ten different answers, ten tags
