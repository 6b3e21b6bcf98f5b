"""The shop over operators A and B (the small test feed), on SQLite and PostgreSQL: an app
with a clock the tests move, a small pricing table standing in for the fares engine where
a test needs exact, hand-checkable prices (`TablePricing`), and helpers to buy."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests import databases
from tests.commuters_support import FAST_HASH, compile_ab
from tests.operator_support import NOW
from transit.app import create_app
from transit.db.engine import Database
from transit.fares.model import FareLeg, FareLegPrice, JourneyPrice, Money, Product, ProductPrice
from transit.settings import Settings
from transit.shop.payments import TestProvider

T0 = datetime.fromisoformat(NOW)  # 2026-06-01 08:00 +02:00; trip T1 leaves S1 at 08:00
_n = itertools.count()


class MovableClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


class UnknownCategory(ValueError):
    def __init__(self, category: str) -> None:
        super().__init__(f"unknown rider category {category!r}")
        self.category = category


class TablePricing:
    """Per leg: operator A 250 cents (rider category A:reduced 120), operator B unknown
    (its legs cannot be priced); products: a day pass per operator (700, reduced 350)."""

    UNIT: ClassVar[dict[tuple[str, str | None], int]] = {("A", None): 250,
                                                         ("A", "A:reduced"): 120}

    def price_journey(self, legs: Sequence[FareLeg], rider_category: str | None
                      ) -> JourneyPrice:
        if rider_category not in (None, "A:reduced"):
            raise UnknownCategory(rider_category)
        fare_legs, unknown = [], []
        for i, leg in enumerate(legs):
            unit = self.UNIT.get((leg.operator, rider_category))
            if unit is None:
                unknown.append(i)
                continue
            fare_legs.append(FareLegPrice((i,), (ProductPrice(
                f"{leg.operator}:single", "Single", Money(unit, "EUR"), rider_category,
                None),)))
        total = None if unknown else Money(sum(fl.products[0].price.amount
                                               for fl in fare_legs), "EUR")
        return JourneyPrice(rider_category, total, tuple(fare_legs), tuple(unknown))

    def products(self, operator: str) -> list[Product]:
        prices = (ProductPrice(f"{operator}:day", "Day pass", Money(700, "EUR"), None, None),
                  ProductPrice(f"{operator}:day", "Day pass reduced", Money(350, "EUR"),
                               "A:reduced", None))
        return [Product(f"{operator}:day", operator, "Day pass", prices, 86400)]

    def rider_categories(self) -> set[str]:
        return {"A:reduced"}

    def default_category(self, operator: str) -> str | None:
        return None

    def zones(self, legs: Sequence[FareLeg]) -> tuple[str, ...]:
        return ()  # valid in every zone of its operators


@dataclass
class Shop:
    client: TestClient
    db: Database
    clock: MovableClock
    provider: TestProvider

    def user(self) -> str:
        r = self.client.post("/v1/auth/anonymous")
        assert r.status_code == 201, r.text
        return r.json()["access_token"]

    def call(self, method: str, path: str, token: str | None = None, key: str | None = None,
             **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.client.request(method, path, headers=headers, **kwargs)

    def journey_id(self, depart_at: str = NOW, frm: str = "A:S1", to: str = "A:S3") -> str:
        r = self.client.get("/v1/journeys", params={"from": frm, "to": to,
                                                    "depart_at": depart_at})
        assert r.status_code == 200, r.text
        return r.json()["journeys"][0]["id"]

    def offer(self, token: str, **body: Any) -> dict[str, Any]:
        r = self.call("POST", "/v1/offers", token, json=body)
        assert r.status_code == 201, r.text
        return r.json()["offers"][0]

    def order(self, token: str, offer_id: str, pay: str = "tok_ok",
              key: str | None = None) -> httpx.Response:
        return self.call("POST", "/v1/orders", token, key=key or f"key-{next(_n)}",
                         json={"offer_id": offer_id, "payment": {"token": pay}})

    def bought(self, token: str, depart_at: str = NOW) -> dict[str, Any]:
        """A completed order of a journey A:S1 -> A:S3 leaving at depart_at."""
        offer = self.offer(token, journey_id=self.journey_id(depart_at))
        r = self.order(token, offer["id"])
        assert r.status_code == 201, r.text
        return r.json()

    def later(self, **delta: float) -> None:
        self.clock.at = self.clock.at + timedelta(**delta)


def shop_app(data: Path, db_url: str, clock: MovableClock, table_prices: bool = True,
             **settings: Any) -> TestClient:
    """The app over `data`; `table_prices`: TablePricing in place of the fares engine. No
    background payment settler unless `payment_settle_interval_s` is given (the tests
    settle when they choose: transit.shop.settlement.settle_due)."""
    values: dict[str, Any] = {"data_dir": data, "rate_limit_per_minute": 0,
                              "database_url": db_url, "realtime_poll": False,
                              "secret_key": "s" * 40, "payment_settle_interval_s": 0,
                              **FAST_HASH, **settings}
    app = create_app(Settings(**values), clock=clock)
    if table_prices:
        app.state.pricing_for = lambda tt: TablePricing()
    app.state.payment_provider = TestProvider()
    return TestClient(app)


@contextmanager
def module_shop(request: pytest.FixtureRequest, factory: pytest.TempPathFactory
                ) -> Iterator[Shop]:
    if request.param == "postgresql" and databases.PG_URL is None:
        pytest.skip(databases.PG_SKIP)
    root = factory.mktemp(f"shop-{request.param}")
    data = compile_ab(root)
    clock = MovableClock(T0)
    with databases.database_url(request.param, root) as url, \
            shop_app(data, url, clock) as client:
        app: Any = client.app
        yield Shop(client, app.state.db, clock, app.state.payment_provider)


def problem(r: Any) -> tuple[int, str | None, str]:
    """(status, parameter, detail) of a problem+json answer."""
    assert r.headers["content-type"] == "application/problem+json", r.text
    body = r.json()
    return body["status"], body.get("parameter"), body["detail"]


def count(shop: Shop, table: Any, **where: Any) -> int:
    """Rows of `table` in the shop's database with the given column values."""
    with shop.db.session() as s:
        q = select(func.count()).select_from(table)
        for k, v in where.items():
            q = q.where(getattr(table, k) == v)
        return int(s.scalar(q) or 0)
