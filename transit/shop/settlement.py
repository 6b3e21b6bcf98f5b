"""Settling payments nobody waits for any more: a payment that succeeds (or fails) after
the client gave up must not lose its ticket, whether or not anyone looks at the order
again.

`settle_due` takes the orders still waiting `after_s` seconds (service clock) after their
last change and asks the provider what became of their charge (the order id is its
idempotency key): an order `payment_pending` (the charge timed out) is completed with its
tickets on a capture and failed on a decline or when the provider has no charge (nothing
taken); an order still `pending` (the request charging it died) is settled the same way
when the provider has a charge for it; without one it is left as it is while its offer can
still be ordered (no money was taken, and a retry of its request takes it over), then
failed with nothing charged and its idempotency key released, so the client may retry with
a new order (transit.shop.orders.expire: within one round after its offer's expiry, 30
minutes of the service clock after the offer was made, and `after_s` after its last change;
later only while a live request still holds its key). Settling locks the order row and
changes only a waiting order (transit.shop.orders.settle), so settlers in several
processes, a retry and a look at the order settle it once: one charge, one set of tickets.

`Settler` runs `settle_due` every `interval_s` seconds on a daemon thread of the API
process (TRANSIT_PAYMENT_SETTLE_AFTER_S, TRANSIT_PAYMENT_SETTLE_INTERVAL_S).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from transit.db.models_tickets import OrderRow
from transit.shop.orders import (
    COMPLETED,
    FAILED,
    PAYMENT_PENDING,
    PENDING,
    Shop,
    expire,
    reconcile,
    settle,
)

logger = logging.getLogger("transit.shop.settlement")
BATCH = 200  # orders per round (the oldest first); the next round takes the rest


@dataclass(frozen=True)
class SettleReport:
    completed: list[str]  # order ids
    failed: list[str]
    waiting: list[str]  # still pending: no charge at the provider, the offer still orderable
    # (or a request holding the key)


def due(shop: Shop, after_s: float) -> list[tuple[str, str]]:
    """(order id, status) of the orders waiting for their payment since `after_s` seconds
    or more, the longest waiting first."""
    cutoff = shop.clock.now() - timedelta(seconds=after_s)
    with shop.db.session() as s:
        rows = s.execute(select(OrderRow.id, OrderRow.status).where(
            OrderRow.status.in_((PENDING, PAYMENT_PENDING)), OrderRow.updated_at <= cutoff)
            .order_by(OrderRow.updated_at, OrderRow.id).limit(BATCH)).all()
    return [(i, st) for i, st in rows]


def settle_due(shop: Shop, after_s: float) -> SettleReport:
    report = SettleReport([], [], [])
    for order_id, status in due(shop, after_s):
        if status == PAYMENT_PENDING:
            order, _ = reconcile(shop, order_id)
        else:
            result = shop.provider.lookup(order_id)
            settled = settle(shop, order_id, result) if result is not None else \
                expire(shop, order_id)
            if settled is None:
                report.waiting.append(order_id)
                continue
            order, _ = settled
        if order.status == COMPLETED:
            report.completed.append(order_id)
        elif order.status == FAILED:
            report.failed.append(order_id)
    if report.completed or report.failed:
        logger.info("payments settled: %d completed, %d failed", len(report.completed),
                    len(report.failed))
    return report


class Settler:
    """`settle_due` every `interval_s` seconds on a daemon thread, until stop()."""

    def __init__(self, shop: Callable[[], Shop], after_s: float, interval_s: float) -> None:
        self._shop = shop
        self.after_s = after_s
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.rounds = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="payment-settler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                settle_due(self._shop(), self.after_s)
            except Exception:  # the database may be down: try again next round
                logger.exception("settling payments failed")
            self.rounds += 1

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
