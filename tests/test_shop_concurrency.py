"""Fifty concurrent retries of one purchase against PostgreSQL, through a real uvicorn
server: exactly one order, one charge, one ticket."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select

from tests import databases
from tests.commuters_support import compile_ab
from tests.operator_support import NOW
from tests.shop_support import T0, MovableClock, shop_app
from transit.db.models_tickets import OrderRow, TicketRow

N = 50


@contextmanager
def served(app: Any) -> Iterator[str]:
    """`app` under uvicorn on a free port of 127.0.0.1, in a thread of this process."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                            lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            threading.Event().wait(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    if databases.PG_URL is None:
        pytest.skip(databases.PG_SKIP)
    root: Path = tmp_path_factory.mktemp("shop-race")
    data = compile_ab(root)
    with databases.pg_schema(databases.PG_URL) as url:
        client = shop_app(data, url, MovableClock(T0))
        app: Any = client.app
        app.state.payment_provider.delay_s = 0.2  # a charge takes a while: requests overlap
        with served(app) as base:
            yield base, app


def _buy_setup(base: str) -> tuple[dict[str, str], str]:
    token = httpx.post(f"{base}/v1/auth/anonymous").json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    jid = httpx.get(f"{base}/v1/journeys", params={"from": "A:S1", "to": "A:S3",
                                                    "depart_at": NOW}).json()["journeys"][0]["id"]
    offer = httpx.post(f"{base}/v1/offers", json={"journey_id": jid}, headers=auth).json()
    return auth, offer["offers"][0]["id"]


def _storm(base: str, requests: list[dict[str, Any]]) -> list[httpx.Response]:
    barrier = threading.Barrier(len(requests))

    def one(kwargs: dict[str, Any]) -> httpx.Response:
        with httpx.Client(base_url=base, timeout=60) as c:
            barrier.wait()
            return c.post("/v1/orders", **kwargs)

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(one, requests))


def _counts(app: Any, offer_id: str) -> tuple[int, int, list[str]]:
    with app.state.db.session() as s:
        orders = list(s.scalars(select(OrderRow.id).where(OrderRow.offer_id == offer_id)))
        tickets = s.scalar(select(func.count()).select_from(TicketRow).where(
            TicketRow.order_id.in_(orders))) if orders else 0
    return len(orders), int(tickets or 0), orders


def test_fifty_concurrent_retries_make_one_order_one_charge_one_ticket(
        server: tuple[str, Any]) -> None:
    base, app = server
    auth, offer_id = _buy_setup(base)
    provider = app.state.payment_provider
    before = len(provider.captured())
    body = {"offer_id": offer_id, "payment": {"token": "tok_ok"}}
    answers = _storm(base, [{"json": body, "headers": {**auth, "Idempotency-Key": "race"}}
                            for _ in range(N)])
    statuses = sorted(r.status_code for r in answers)
    assert set(statuses) <= {201, 409}, statuses
    created = [r for r in answers if r.status_code == 201]
    assert created and len({r.json()["id"] for r in created}) == 1
    assert all(r.json()["detail"].startswith("a request with this Idempotency-Key is in "
                                             "progress") for r in answers if r.status_code == 409)
    orders, tickets, ids = _counts(app, offer_id)
    assert (orders, tickets) == (1, 1)
    assert len(provider.captured()) == before + 1
    assert provider.captured()[-1].payment_id == created[0].json()["payment"]["payment_id"]
    after = httpx.post(f"{base}/v1/orders", json=body,
                       headers={**auth, "Idempotency-Key": "race"})
    assert after.status_code == 201 and after.headers["idempotent-replayed"] == "true"
    assert after.json() == created[0].json() and after.json()["id"] == ids[0]


def test_fifty_keys_for_one_offer_still_make_one_order(server: tuple[str, Any]) -> None:
    base, app = server
    auth, offer_id = _buy_setup(base)
    before = len(app.state.payment_provider.captured())
    body = {"offer_id": offer_id, "payment": {"token": "tok_ok"}}
    answers = _storm(base, [{"json": body, "headers": {**auth, "Idempotency-Key": f"k{i}"}}
                            for i in range(N)])
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [201] + [409] * (N - 1), statuses
    assert _counts(app, offer_id)[:2] == (1, 1)
    assert len(app.state.payment_provider.captured()) == before + 1
