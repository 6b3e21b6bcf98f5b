"""Payments: the provider interface the shop charges through, and a built-in test provider.

The shop charges an order with the order id as the provider's idempotency key: asking
twice never charges twice, and after a timeout the shop asks the provider what became of
that key (`lookup`) instead of guessing. A real provider fits the same interface with a
webhook confirming capture (docs/payments.md).

The test provider takes the card-like tokens of `TEST_TOKENS`:
- `tok_ok`: captured at once;
- `tok_decline`: declined, nothing charged;
- `tok_timeout`: the provider does not answer in time and charges nothing;
- `tok_late`: the provider does not answer in time but captures the payment anyway (the
  client gave up; a lookup by the key finds the capture);
- `tok_late_decline`: the provider does not answer in time and declines (a lookup finds
  the decline; nothing charged).
Its ledger is the database's `test_payments` table once given the app's database (as the
shop does), so a capture outlives the process that made it, as a real provider's would;
without one, it is in memory."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from transit.db.engine import Database
from transit.db.models_tickets import TestPaymentRow
from transit.fares.model import Money

Status = Literal["captured", "declined"]


class PaymentTimeout(Exception):
    """The provider did not answer in time: the outcome is unknown until a lookup."""


@dataclass(frozen=True)
class PaymentResult:
    status: Status
    payment_id: str | None  # the provider's id (None when nothing was created)
    amount: Money
    reason: str | None = None  # why declined


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    amount: Money


class PaymentProvider(Protocol):
    name: str

    def check_token(self, token: str) -> str | None:
        """Why the payment token cannot be used (None: it can be tried)."""
        ...

    def charge(self, idempotency_key: str, amount: Money, token: str,
               description: str) -> PaymentResult:
        """Charge `amount` once per `idempotency_key` (a second call answers the first's
        result); PaymentTimeout when the outcome is unknown."""
        ...

    def lookup(self, idempotency_key: str) -> PaymentResult | None:
        """What the charge with this key became; None when the provider has none."""
        ...

    def refund(self, payment_id: str, amount: Money, idempotency_key: str) -> RefundResult:
        ...


TEST_TOKENS = ("tok_ok", "tok_decline", "tok_timeout", "tok_late", "tok_late_decline")
LATE = ("tok_late", "tok_late_decline")  # decided by the provider, answered too late


class UnknownToken(ValueError):
    pass


@dataclass(frozen=True)
class _Entry:
    kind: str  # charge, refund
    status: str  # captured, declined, refunded
    payment_id: str | None
    amount: Money
    reason: str | None


class TestProvider:
    """The built-in provider: no network, outcomes chosen by the token."""

    name = "test"
    __test__ = False  # not a pytest class

    def __init__(self, delay_s: float = 0.0, db: Database | None = None) -> None:
        self.delay_s = delay_s  # how long a charge takes (the tests' races need some)
        self.db = db  # None: the ledger is in memory (one process)
        self._lock = threading.Lock()
        self._memory: dict[str, _Entry] = {}  # by idempotency key
        self.calls = 0  # charge requests this object received (a test counts them)

    def use_database(self, db: Database) -> None:
        """Keep the ledger in `db` (the shop gives its own) unless it has one already."""
        if self.db is None:
            self.db = db

    # -- the ledger: first entry per key wins --------------------------------------------
    def _get(self, key: str) -> _Entry | None:
        if self.db is None:
            with self._lock:
                return self._memory.get(key)
        with self.db.session() as s:
            row = s.get(TestPaymentRow, key)
            return _entry(row) if row is not None else None

    def _put_first(self, key: str, entry: _Entry) -> _Entry:
        """Record `entry` under `key` unless an entry is there already; the one kept."""
        if self.db is None:
            with self._lock:
                return self._memory.setdefault(key, entry)
        try:
            with self.db.session() as s:
                s.add(TestPaymentRow(
                    key=key, kind=entry.kind, status=entry.status,
                    payment_id=entry.payment_id, amount=entry.amount.amount,
                    currency=entry.amount.currency, reason=entry.reason,
                    created_at=datetime.now(UTC)))
        except IntegrityError:  # a concurrent call with the same key won
            found = self._get(key)
            assert found is not None
            return found
        return entry

    def _entries(self, kind: str, status: str) -> list[_Entry]:
        if self.db is None:
            with self._lock:
                return [e for e in self._memory.values()
                        if (e.kind, e.status) == (kind, status)]
        with self.db.session() as s:
            rows = s.scalars(select(TestPaymentRow).where(
                TestPaymentRow.kind == kind, TestPaymentRow.status == status)
                .order_by(TestPaymentRow.created_at, TestPaymentRow.key))
            return [_entry(r) for r in rows]

    # -- the provider interface ----------------------------------------------------------
    def check_token(self, token: str) -> str | None:
        if token in TEST_TOKENS:
            return None
        return f"unknown test payment token {token[:40]!r}; use one of {', '.join(TEST_TOKENS)}"

    def charge(self, idempotency_key: str, amount: Money, token: str,
               description: str) -> PaymentResult:
        wrong = self.check_token(token)
        if wrong:
            raise UnknownToken(wrong)
        if self.delay_s:
            time.sleep(self.delay_s)
        with self._lock:
            self.calls += 1
        if token == "tok_timeout":
            done = self._get(idempotency_key)
            if done is not None:  # a retry of a key charged already answers that charge
                return _result(done)
            raise PaymentTimeout("the test provider did not answer (tok_timeout)")
        # first entry per key wins: a retry (or a concurrent call) answers the first's result
        if token in ("tok_decline", "tok_late_decline"):
            entry = _Entry("charge", "declined", None, amount, f"card declined ({token})")
        else:
            entry = _Entry("charge", "captured", "pay_" + secrets.token_hex(10), amount, None)
        kept = self._put_first(idempotency_key, entry)
        if token in LATE and kept is entry:
            raise PaymentTimeout(f"the test provider decided but answered too late ({token})")
        return _result(kept)

    def lookup(self, idempotency_key: str) -> PaymentResult | None:
        found = self._get(idempotency_key)
        return _result(found) if found is not None and found.kind == "charge" else None

    def refund(self, payment_id: str, amount: Money, idempotency_key: str) -> RefundResult:
        entry = _Entry("refund", "refunded", "re_" + secrets.token_hex(10), amount, None)
        kept = self._put_first(idempotency_key, entry)
        assert kept.payment_id is not None
        return RefundResult(kept.payment_id, kept.amount)

    def captured(self) -> list[PaymentResult]:
        """Every capture (money taken), for tests and the benchmark."""
        return [_result(e) for e in self._entries("charge", "captured")]

    def refunded(self) -> list[RefundResult]:
        return [RefundResult(e.payment_id or "", e.amount)
                for e in self._entries("refund", "refunded")]


def _entry(row: TestPaymentRow) -> _Entry:
    return _Entry(row.kind, row.status, row.payment_id, Money(row.amount, row.currency),
                  row.reason)


def _result(e: _Entry) -> PaymentResult:
    status: Status = "captured" if e.status == "captured" else "declined"
    return PaymentResult(status, e.payment_id, e.amount, e.reason)
