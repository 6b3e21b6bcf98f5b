"""What buying costs: POST /v1/offers (a journey priced) and POST /v1/orders (idempotency
key, order, test payment, ticket signed with Ed25519, sales lines; one request each, in
process) on PostgreSQL (TRANSIT_TEST_DATABASE_URL) and SQLite. Prices come from the tests'
small table (tests.shop_support.TablePricing): the order never prices, it takes the
offer's.

    TRANSIT_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python tests/benchmarks/bench_orders.py
"""

from __future__ import annotations

import itertools
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.benchmarks.report import Table, p50_p95_ms  # noqa: E402
from tests.commuters_support import compile_ab  # noqa: E402
from tests.databases import PG_URL, pg_schema  # noqa: E402
from tests.operator_support import NOW  # noqa: E402
from tests.shop_support import T0, MovableClock, shop_app  # noqa: E402

RUNS = 300


def bench(url: str, label: str, data: Path, table: Table) -> None:
    keys = itertools.count()
    with shop_app(data, url, MovableClock(T0)) as client:
        token = client.post("/v1/auth/anonymous").json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        jid = client.get("/v1/journeys", params={"from": "A:S1", "to": "A:S3",
                                                  "depart_at": NOW}).json()["journeys"][0]["id"]

        def offer() -> str:
            r = client.post("/v1/offers", json={"journey_id": jid}, headers=auth)
            assert r.status_code == 201, r.text
            return r.json()["offers"][0]["id"]

        offer_s, order_s = [], []
        for i in range(RUNS + 5):
            t0 = time.perf_counter()
            oid = offer()
            t1 = time.perf_counter()
            r = client.post("/v1/orders", headers={**auth, "Idempotency-Key": f"b{next(keys)}"},
                            json={"offer_id": oid, "payment": {"token": "tok_ok"}})
            t2 = time.perf_counter()
            assert r.status_code == 201 and r.json()["tickets"], r.text
            if i >= 5:  # warm-up
                offer_s.append(t1 - t0)
                order_s.append(t2 - t1)
        key = {**auth, "Idempotency-Key": "b0"}
        body = {"offer_id": r.json()["offer_id"], "payment": {"token": "tok_ok"}}
        replay = []
        for _ in range(RUNS):
            t0 = time.perf_counter()
            client.post("/v1/orders", headers=key, json=body)
            replay.append(time.perf_counter() - t0)
    table.add(f"{label}: POST /v1/offers p50 / p95 (ms)", p50_p95_ms(offer_s))
    table.add(f"{label}: POST /v1/orders p50 / p95 (ms)", p50_p95_ms(order_s))
    table.add(f"{label}: replayed order p50 / p95 (ms)", p50_p95_ms(replay))


def main() -> None:
    table = Table(f"Orders ({RUNS} purchases, one commuter, test payment provider, "
                  "tickets signed)")
    with tempfile.TemporaryDirectory() as tmp:
        data = compile_ab(Path(tmp))
        if PG_URL:
            with pg_schema(PG_URL) as url:
                bench(url, "PostgreSQL", data, table)
        else:
            table.note("PostgreSQL skipped: TRANSIT_TEST_DATABASE_URL is not set")
        bench(f"sqlite:///{tmp}/bench.db", "SQLite", data, table)
    table.print()


if __name__ == "__main__":
    main()
