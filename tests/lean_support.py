"""Asking a LeanRoute twice (transit.api.lean): on its fast path, and with FastAPI forced to
handle the request (any dependency override turns the fast path off)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import DEMO_CATALOG, client_for
from transit.catalog import load_catalog
from transit.ingest.pipeline import ingest
from transit.timetable.store import Store

# the headers a client acts on, compared beside status and body
KEPT = ("content-type", "etag", "cache-control", "vary", "www-authenticate", "retry-after")


def _never() -> None:  # pragma: no cover - only its override is looked at
    raise AssertionError


def answer(client: TestClient, url: str, slow: bool = False,
           headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """(status, the KEPT headers, body) of GET url; `slow`: through FastAPI's handler."""
    app: Any = client.app
    if slow:
        app.dependency_overrides[_never] = _never
    try:
        r = client.get(url, headers=headers)
    finally:
        app.dependency_overrides.clear()
    return r.status_code, {k: r.headers[k] for k in KEPT if k in r.headers}, r.content


NOW = "2026-11-26T08:00:00+01:00"
STOP = "/v1/stops/RR:CEN1/departures"
NEAR = "/v1/departures"
STATION = "/v1/stations/RR:CEN/departures"


def demo_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A client of the demo network compiled once in a fresh folder, served at NOW."""
    data = tmp_path_factory.mktemp("demo")
    ingest(load_catalog(DEMO_CATALOG), Store(data))
    with client_for(data, NOW) as c:
        yield c




VALID = [
    STOP, f"{STOP}?limit=3", f"{STOP}?limit=1&window=1440&lang=fr",
    f"{STOP}?at=2026-11-26T09:00", f"{STOP}?at=2026-11-26T09:00%2B01:00",
    f"{STOP}?at=2026-11-26T09:00+01:00", f"{STOP}?exclude_modes=bus,tram",
    f"{STOP}?exclude_operators=&exclude_modes=", f"{STOP}?unknown=1&limit=2",
    f"{STATION}?limit=5", f"{NEAR}?lat=50.4601&lon=3.9805&radius=200",
    f"{NEAR}?lat=50&lon=3.98", f"{NEAR}?lat=-0&lon=-0.0", f"{NEAR}?lat=10&lon=10",
    f"{NEAR}?lat=50.46&lon=3.98&radius=2000&limit=100&window=1",
    f"{NEAR}?lat=90&lon=180&radius=0.001",
]
