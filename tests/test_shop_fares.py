"""The shop on real fares: the nigiri fares case with area sets (HSL, Fares v2: joined
legs, a three-zone ticket for 4.40 EUR, 2.20 EUR for pensioners and children) priced by
transit.fares, offered, ordered and verified as an inspector would."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import PEER_CASES, build
from tests.shop_support import MovableClock, shop_app
from transit.tickets.verify import verify_text

AREA_SETS = PEER_CASES / "nigiri_fares_v2_area_sets" / "gtfs"
NOW = "2022-03-30T00:00:00+00:00"  # 02:00 in Berlin: Line 1 leaves A now
pytestmark = pytest.mark.skipif(not AREA_SETS.exists(),
                                reason=f"peer cases not found at {PEER_CASES}")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("shop-fares")
    build({"N": AREA_SETS}, root / "data")
    clock = MovableClock(datetime.fromisoformat(NOW))
    with shop_app(root / "data", f"sqlite:///{root}/shop.db", clock,
                  table_prices=False) as c:
        yield c


def _auth(c: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {c.post('/v1/auth/anonymous').json()['access_token']}"}


def _offer(c: TestClient, auth: dict[str, str], **body: Any) -> Any:
    return c.post("/v1/offers", json=body, headers=auth)


def _journey(c: TestClient) -> dict[str, Any]:
    r = c.get("/v1/journeys", params={"from": "N:A", "to": "N:C", "depart_at": NOW})
    return r.json()["journeys"][0]


def test_a_journey_offer_has_the_fares_engines_prices(client: TestClient) -> None:
    auth = _auth(client)
    j = _journey(client)
    assert j["fare"]["total"] == {"amount": 440, "currency": "EUR"}
    r = _offer(client, auth, journey_id=j["id"], travellers=[
        {"count": 1}, {"rider_category": "pensioner", "count": 2},
        {"rider_category": "N:children", "count": 1}])
    assert r.status_code == 201, r.text
    offer = r.json()["offers"][0]
    assert offer["price"] == {"amount": 440 + 2 * 220 + 220, "currency": "EUR"}
    assert [(x["rider_category"], x["count"], x["unit_price"]["amount"],
             [p["name"] for p in x["products"]]) for x in offer["travellers"]] == [
        (None, 1, 440, ["Three Zone Ticket"]),
        ("pensioner", 2, 220, ["Pensioner Three Zone Ticket"]),
        ("N:children", 1, 220, ["Children Three Zone Ticket"])]
    # Line 1 leaves A at 02:00, Line 2 reaches C at 03:00 (Berlin)
    assert offer["validity"] == {"from": "2022-03-30T01:30:00+02:00",
                                 "until": "2022-03-30T03:00:00+02:00"}
    order = client.post("/v1/orders", headers={**auth, "Idempotency-Key": "real"}, json={
        "offer_id": offer["id"], "payment": {"token": "tok_ok"}}).json()
    assert order["status"] == "completed" and len(order["tickets"]) == 3
    keys = client.get("/.well-known/ticket-keys").json()
    now = int(datetime.fromisoformat(NOW).timestamp())
    seen = []
    for link in order["tickets"]:
        t = client.get(link["href"], headers=auth).json()
        v = verify_text(t["token"], keys, now, operator="N")
        assert (v.valid, v.reasons) == (True, [])
        assert v.claims is not None
        seen.append((v.claims.product_name, v.claims.rider_category, v.claims.travellers))
    assert seen == [("Three Zone Ticket", None, 1),
                    ("Pensioner Three Zone Ticket", "pensioner", 2),
                    ("Children Three Zone Ticket", "N:children", 1)]


def test_a_category_the_fares_do_not_define_is_422(client: TestClient) -> None:
    r = _offer(client, _auth(client), journey_id=_journey(client)["id"],
               travellers=[{"rider_category": "nobody"}])
    assert r.status_code == 422
    assert r.json()["parameter"] == "travellers[0].rider_category"
    assert r.json()["detail"].startswith("travellers[0].rider_category: unknown rider "
                                         "category 'nobody'; the fares know N:adult, ")


def test_a_product_offer_of_the_operator(client: TestClient) -> None:
    auth = _auth(client)
    r = _offer(client, auth, product={"operator": "N",
                                      "product_id": "N:three_zone_single_ticket"},
               travellers=[{"rider_category": "children", "count": 2}])
    assert r.status_code == 201, r.text
    offer = r.json()["offers"][0]
    assert offer["price"] == {"amount": 440, "currency": "EUR"}
    # no duration in the data: valid to the end of the day where the operator is
    assert offer["validity"] == {"from": "2022-03-30T02:00:00+02:00",
                                 "until": "2022-03-31T00:00:00+02:00"}
    r = _offer(client, auth, product={"operator": "N", "product_id": "N:day_pass"})
    assert r.status_code == 422 and r.json()["parameter"] == "product.product_id"
