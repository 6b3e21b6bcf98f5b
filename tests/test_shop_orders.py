"""The commuter's own orders: GET /v1/me/orders (newest first, paged with `limit` and the
`before` cursor of `next`) and GET /v1/me/orders/{id}, on SQLite and PostgreSQL. Another
user's order is 404 like an unknown one; bad input is 422 naming the parameter."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.shop_support import T0, Shop, module_shop, problem


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Shop]:
    with module_shop(request, tmp_path_factory) as shop:
        yield shop


@pytest.fixture
def shop(module: Shop) -> Iterator[Shop]:
    module.clock.at = T0
    yield module
    module.clock.at = T0


def _three_orders(shop: Shop, token: str) -> list[dict[str, Any]]:
    """A completed, a declined and another completed order, one second apart."""
    out = []
    for pay in ("tok_ok", "tok_decline", "tok_ok"):
        offer = shop.offer(token, journey_id=shop.journey_id())
        r = shop.order(token, offer["id"], pay=pay)
        out.append(r.json() if pay == "tok_ok" else r.json()["order"])
        shop.later(seconds=1)
    return out


def test_my_orders_newest_first_with_state_amount_and_tickets(shop: Shop) -> None:
    token = shop.user()
    r = shop.call("GET", "/v1/me/orders", token)
    assert (r.status_code, r.json()) == (200, {"orders": [], "next": None})
    assert r.headers["cache-control"] == "private, no-store"
    first, declined, last = _three_orders(shop, token)
    got = shop.call("GET", "/v1/me/orders", token).json()
    assert got["next"] is None
    assert [(o["id"], o["status"], o["price"], len(o["tickets"])) for o in got["orders"]] == [
        (last["id"], "completed", {"amount": 250, "currency": "EUR"}, 1),
        (declined["id"], "failed", {"amount": 250, "currency": "EUR"}, 0),
        (first["id"], "completed", {"amount": 250, "currency": "EUR"}, 1)]
    assert got["orders"][0] == last  # the same view as the order's own answer
    assert got["orders"][2]["tickets"] == first["tickets"]
    one = shop.call("GET", f"/v1/me/orders/{first['id']}", token)
    assert (one.status_code, one.json()) == (200, first)
    assert one.json() == shop.call("GET", f"/v1/orders/{first['id']}", token).json()


def test_my_orders_are_paged(shop: Shop) -> None:
    token = shop.user()
    first, declined, last = _three_orders(shop, token)
    page = shop.call("GET", "/v1/me/orders?limit=2", token).json()
    assert [o["id"] for o in page["orders"]] == [last["id"], declined["id"]]
    assert page["next"] == f"/v1/me/orders?limit=2&before={declined['id']}"
    rest = shop.call("GET", page["next"], token).json()
    assert ([o["id"] for o in rest["orders"]], rest["next"]) == ([first["id"]], None)
    exact = shop.call("GET", "/v1/me/orders?limit=3", token).json()
    assert (len(exact["orders"]), exact["next"]) == (3, None)
    end = shop.call("GET", f"/v1/me/orders?before={first['id']}", token).json()
    assert end == {"orders": [], "next": None}


@pytest.mark.parametrize(("query", "parameter"), [
    ("limit=101", "limit"), ("limit=0", "limit"), ("limit=-1", "limit"),
    ("limit=ten", "limit"), ("limit=99999999999999999999", "limit"),
    ("before=not-an-order", "before"), ("before=ord_" + "x" * 60, "before")])
def test_bad_paging_is_422(shop: Shop, query: str, parameter: str) -> None:
    r = shop.call("GET", f"/v1/me/orders?{query}", shop.user())
    assert problem(r)[:2] == (422, parameter)


def test_a_cursor_of_another_users_order_is_422(shop: Shop) -> None:
    mine, other = shop.user(), shop.user()
    theirs = shop.bought(other)
    r = shop.call("GET", f"/v1/me/orders?before={theirs['id']}", mine)
    assert problem(r) == (422, "before", f"before: {theirs['id']!r} is not one of your "
                          "orders")


@pytest.mark.parametrize("order_id", ["x", "ord_", "ord_a.b", "ord_%20", "ORD_abc",
                                      "ord_" + "a" * 57])
def test_a_malformed_order_id_is_422(shop: Shop, order_id: str) -> None:
    r = shop.call("GET", f"/v1/me/orders/{order_id}", shop.user())
    assert problem(r)[:2] == (422, "order_id")


def test_another_users_order_is_404_like_an_unknown_one(shop: Shop) -> None:
    mine, other = shop.user(), shop.user()
    theirs = shop.bought(other)
    assert shop.call("GET", f"/v1/me/orders/{theirs['id']}", other).status_code == 200
    r = shop.call("GET", f"/v1/me/orders/{theirs['id']}", mine)
    assert problem(r) == (404, None, f"unknown order {theirs['id']!r}")
    assert problem(shop.call("GET", "/v1/me/orders/ord_nope", mine)) == (
        404, None, "unknown order 'ord_nope'")
    assert shop.call("GET", "/v1/me/orders", mine).json()["orders"] == []


def test_my_orders_need_a_commuter(shop: Shop) -> None:
    for path in ("/v1/me/orders", "/v1/me/orders/ord_x"):
        assert shop.client.get(path).status_code == 401
        assert shop.call("GET", path, "garbage").status_code == 401
