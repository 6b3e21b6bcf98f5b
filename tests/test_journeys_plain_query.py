"""GET /v1/journeys read plainly (transit.journeys.plain_query): the values it takes, the
ones it leaves to FastAPI, and answers identical to FastAPI's whole way, good or bad."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

import pytest
from starlette.datastructures import QueryParams

from tests.journey_support import via_network
from transit.journeys import router
from transit.journeys.params import Filters, Limits, PlaceAndTime, ViaAboardFares

Q = {"from": "Q:A", "to": "Q:B", "depart_at": "2026-05-05T07:55:00+02:00"}


def _read(query: str) -> tuple[list[object], dict[str, object]] | None:
    return router._PLAIN.read(QueryParams(query))


def test_a_plain_query_is_read_as_fastapi_reads_it() -> None:
    read = _read("to=Q%3AB&from=50.1,4.2&depart_at=2026-05-05T07:55:00%2B02:00&window=30"
                 "&max_transfers=0&max_walk_m=1500.5&walk_speed=1.25&min_transfer_s=60"
                 "&wheelchair=true&wheelchair_unknown=false&modes=rail,bus&via_min_stay=600"
                 "&from_date=2026-05-05&rider_category=X:adult&lang=fr-BE")
    assert read is not None
    (at, limits, filters, more), extra = read
    assert at == PlaceAndTime(to="Q:B", from_="50.1,4.2",
                              depart_at="2026-05-05T07:55:00+02:00", window=30)
    assert limits == Limits(max_transfers=0, max_walk_m=1500.5, walk_speed=1.25,
                            min_transfer_s=60)
    assert filters == Filters(wheelchair=True, modes="rail,bus")
    assert more == ViaAboardFares(via_min_stay=600, from_date=date(2026, 5, 5),
                                  rider_category="X:adult")
    assert extra == {"lang": "fr-BE", "preview": None}
    # the defaults, as the dataclasses (FastAPI reads the same ones)
    (at, limits, filters, more), extra = _read("to=S1")  # type: ignore[misc]
    assert (at, limits, filters, more) == (PlaceAndTime(to="S1"), Limits(), Filters(),
                                           ViaAboardFares())
    assert isinstance(limits.max_transfers, int) and extra == {"lang": None, "preview": None}


@pytest.mark.parametrize("query", [
    "", "from=S1",  # `to` is required
    "to=S1&to=S2", "to=S1&bogus=1",  # repeated, unknown
    "to=", "to=S1&exclude_modes=",  # empty values (meaningful: FastAPI judges them)
    "to=" + "x" * 81, "to=S1&window=181", "to=S1&window=-1", "to=S1&window=05",
    "to=S1&window=1.0", "to=S1&window=%2030", "to=S1&walk_speed=0.3", "to=S1&walk_speed=1e0",
    "to=S1&walk_speed=.5", "to=S1&max_walk_m=5000.01", "to=S1&wheelchair=1",
    "to=S1&wheelchair=True", "to=S1&from_date=20260505", "to=S1&from_date=2026-02-30",
    "to=S1&rider_category=a%20b", "to=S1&rider_category=adult%0A", "to=S1&lang=f",
    "to=S1&lang=fr_BE",
])
def test_anything_else_is_left_to_fastapi(query: str) -> None:
    assert _read(query) is None


CASES: list[dict[str, str | None]] = [
    Q, {**Q, "window": "30"}, {**Q, "arrive_by": Q["depart_at"], "depart_at": None},
    {**Q, "via": "Q:X", "via_min_stay": "10"}, {**Q, "max_transfers": "0"},
    {**Q, "lang": "fr"}, {**Q, "walk_speed": "0.8", "max_walk_m": "200"},
    {**Q, "from": "50.0,4.0"}, {**Q, "wheelchair": "true", "wheelchair_unknown": "true"},
    {**Q, "exclude_stops": "Q:X", "exclude_passing": "true"}, {**Q, "modes": "bus"},
    # bad ones: FastAPI's 422s, the endpoint's own (read plainly), 404s
    {**Q, "window": "181"}, {**Q, "window": "30", "arrive_by": Q["depart_at"]},
    {**Q, "via": "Q:NOPE"}, {**Q, "via": "50.0,4.0"}, {**Q, "from": None}, {**Q, "to": None},
    {**Q, "depart_at": "yesterday"}, {**Q, "wheelchair": "maybe"}, {**Q, "modes": "rocket"},
    {**Q, "from_date": "2026-05-05"}, {**Q, "exclude_routes": "NOPE"},
]


def test_the_answers_are_fastapis(tmp_path: Path, planner,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    p = planner(via_network(tmp_path), "2026-05-05T07:00:00+02:00")
    queries = [{k: v for k, v in c.items() if v is not None} for c in CASES]
    plain = [p.client.get("/v1/journeys", params=q) for q in queries]
    assert sum(_read(urlencode(q)) is not None for q in queries) == 19
    monkeypatch.setattr(router._PLAIN, "read", lambda _: None)
    whole = [p.client.get("/v1/journeys", params=q) for q in queries]
    for q, a, b in zip(queries, plain, whole, strict=True):
        assert (a.status_code, a.content) == (b.status_code, b.content), q
        assert _headers(a.headers) == _headers(b.headers), q
    assert [a.status_code for a in plain] == [200] * 11 + [422, 422, 404] + [422] * 8


def _headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k not in ("date", "x-request-id")}
