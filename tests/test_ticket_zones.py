"""Zones on tickets: the fare zones a journey passes (Fares v2 areas, v1 zone_id) computed by
transit.fares.zones, carried in the ticket's claims, and checked by an inspector who gives
the zone the vehicle is in (offline with verify_text, and POST /v1/inspections)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import PEER_CASES, build
from tests.feeds import write_feed
from tests.shop_support import MovableClock, shop_app
from transit.fares.model import FareLeg
from transit.fares.store import fares_for
from transit.fares.zones import journey_zones
from transit.tickets.verify import verify_text
from transit.timetable.store import Store

AREA_SETS = PEER_CASES / "nigiri_fares_v2_area_sets" / "gtfs"
NOW = "2022-03-30T00:00:00+00:00"  # 02:00 in Berlin: Line 1 leaves N:A now
needs_peers = pytest.mark.skipif(not AREA_SETS.exists(),
                                 reason=f"peer cases not found at {PEER_CASES}")


def _trip(tt: Any, prefix: str) -> str:
    return next(t for t in tt.trip_index if t.startswith(prefix))


@needs_peers
def test_v2_zones_are_the_areas_of_every_stop_passed(tmp_path: Path) -> None:
    build({"N": AREA_SETS}, tmp_path)
    tt = Store(tmp_path).load_current()
    fares = fares_for(tt)  # type: ignore[arg-type]
    t = int(datetime.fromisoformat(NOW).timestamp())
    one = FareLeg("N", "N:line1", _trip(tt, "N:T1"), "N:A", "N:B", t, t + 1800)
    two = FareLeg("N", "N:line2", _trip(tt, "N:T2"), "N:B", "N:C", t + 2100, t + 3600)
    assert journey_zones(fares, [one, two]) == ("N:A", "N:B", "N:C")
    assert journey_zones(fares, [two]) == ("N:B", "N:C")
    assert journey_zones(fares, []) == ()


def test_v1_zones_are_the_zone_ids_of_every_stop_passed(tmp_path: Path) -> None:
    feed = write_feed(tmp_path / "a", {
        "stops.txt": "stop_id,stop_name,stop_lat,stop_lon,zone_id\n"
                     "S1,First,50.0000,4.0000,Z2\nS2,Second,50.0100,4.0000,\n"
                     "S3,Third,50.0200,4.0000,Z1\n",
        "fare_attributes.txt": "fare_id,price,currency_type,payment_method,transfers\n"
                               "F,2.10,EUR,0,\n",
        "fare_rules.txt": "fare_id,origin_id,destination_id\nF,Z2,Z1\n",
    })
    other = write_feed(tmp_path / "b", {})  # operator B: no fares data
    build({"A": feed, "B": other}, tmp_path / "data")
    tt = Store(tmp_path / "data").load_current()
    fares = fares_for(tt)  # type: ignore[arg-type]
    t = int(datetime.fromisoformat("2026-06-01T08:00:00+02:00").timestamp())
    whole = FareLeg("A", "A:R1", "A:T1", "A:S1", "A:S3", t, t + 1200)
    # S2 has no zone_id: it adds nothing; the zones come in the order reached
    assert journey_zones(fares, [whole]) == ("A:Z2", "A:Z1")
    middle = FareLeg("A", "A:R1", "A:T1", "A:S2", "A:S3", t + 660, t + 1200)
    assert journey_zones(fares, [middle]) == ("A:Z1",)
    b_leg = FareLeg("B", "B:R1", "B:T1", "B:S1", "B:S3", t, t + 1200)
    assert journey_zones(fares, [b_leg, whole]) == ("A:Z2", "A:Z1")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    if not AREA_SETS.exists():
        pytest.skip(f"peer cases not found at {PEER_CASES}")
    root = tmp_path_factory.mktemp("ticket-zones")
    build({"N": AREA_SETS}, root / "data")
    clock = MovableClock(datetime.fromisoformat(NOW))
    with shop_app(root / "data", f"sqlite:///{root}/shop.db", clock,
                  table_prices=False) as c:
        yield c


def _bought_ticket(c: TestClient) -> tuple[dict[str, str], dict[str, Any]]:
    auth = {"Authorization": f"Bearer {c.post('/v1/auth/anonymous').json()['access_token']}"}
    j = c.get("/v1/journeys", params={"from": "N:A", "to": "N:C", "depart_at": NOW}).json()
    r = c.post("/v1/offers", json={"journey_id": j["journeys"][0]["id"]}, headers=auth)
    assert r.status_code == 201, r.text
    order = c.post("/v1/orders", headers={**auth, "Idempotency-Key": r.json()["offers"][0]["id"]},
                   json={"offer_id": r.json()["offers"][0]["id"],
                         "payment": {"token": "tok_ok"}}).json()
    assert order["status"] == "completed", order
    return auth, c.get(order["tickets"][0]["href"], headers=auth).json()


def _inspector(c: TestClient) -> dict[str, str]:
    from transit.accounts import service
    from transit.accounts.scope import CLI

    db = c.app.state.db  # type: ignore[attr-defined]
    service.record_operators(db, [("N", "Operator N")], "cli")
    return {"Authorization": f"Bearer {service.create_key(db, 'N', 'inspector', CLI).token}"}


def test_the_ticket_carries_the_zones_of_its_journey(client: TestClient) -> None:
    _, ticket = _bought_ticket(client)
    assert ticket["zones"] == ["N:A", "N:B", "N:C"]
    keys = client.get("/.well-known/ticket-keys").json()
    now = int(datetime.fromisoformat(NOW).timestamp())
    v = verify_text(ticket["token"], keys, now, operator="N")
    assert v.claims is not None and v.claims.zones == ("N:A", "N:B", "N:C")
    assert (v.valid, v.reasons) == (True, [])
    assert verify_text(ticket["token"], keys, now, operator="N", zone="N:B").valid is True
    wrong = verify_text(ticket["token"], keys, now, operator="N", zone="N:D")
    assert (wrong.valid, wrong.reasons) == (False, ["wrong zone: valid in N:A, N:B, N:C, "
                                                    "not N:D"])
    both = verify_text(ticket["token"], keys, now, operator="X", zone="N:D")
    assert both.reasons == ["wrong operator: valid on N, not X",
                            "wrong zone: valid in N:A, N:B, N:C, not N:D"]


def test_an_inspection_in_another_zone_is_refused_naming_the_zones(client: TestClient
                                                                    ) -> None:
    _, ticket = _bought_ticket(client)
    headers = _inspector(client)

    def inspect(**body: Any) -> dict[str, Any]:
        r = client.post("/v1/inspections", json={"text": ticket["token"], **body},
                        headers=headers)
        assert r.status_code == 200, r.text
        return r.json()

    assert (inspect(zone="N:C")["valid"], inspect(zone="N:C")["reasons"]) == (True, [])
    assert inspect()["valid"] is True  # no zone given: not checked
    for zone in ("N:D", "D"):  # a bare zone id is the inspecting operator's
        got = inspect(zone=zone)
        assert (got["valid"], got["reasons"]) == (
            False, ["wrong zone: valid in N:A, N:B, N:C, not N:D"]), zone
    assert inspect(zone="B")["valid"] is True
