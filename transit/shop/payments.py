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
  client gave up; a lookup by the key finds the capture).
Its ledger is in memory: one process (the embedded setup and the tests)."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Literal, Protocol

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


TEST_TOKENS = ("tok_ok", "tok_decline", "tok_timeout", "tok_late")


class UnknownToken(ValueError):
    pass


class TestProvider:
    """The built-in provider: no network, outcomes chosen by the token."""

    name = "test"
    __test__ = False  # not a pytest class

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s  # how long a charge takes (the tests' races need some)
        self._lock = threading.Lock()
        self._charges: dict[str, PaymentResult] = {}  # by idempotency key
        self._refunds: dict[str, RefundResult] = {}
        self.calls = 0  # charge requests received (a test counts them)

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
            done = self._charges.get(idempotency_key)
            if done is not None:
                return done
            if token == "tok_timeout":
                raise PaymentTimeout("the test provider did not answer (tok_timeout)")
            if token == "tok_decline":
                result = PaymentResult("declined", None, amount, "card declined (tok_decline)")
            else:
                result = PaymentResult("captured", "pay_" + secrets.token_hex(10), amount)
            self._charges[idempotency_key] = result
        if token == "tok_late":
            raise PaymentTimeout("the test provider captured but answered too late (tok_late)")
        return result

    def lookup(self, idempotency_key: str) -> PaymentResult | None:
        with self._lock:
            return self._charges.get(idempotency_key)

    def refund(self, payment_id: str, amount: Money, idempotency_key: str) -> RefundResult:
        with self._lock:
            if idempotency_key not in self._refunds:
                self._refunds[idempotency_key] = RefundResult(
                    "re_" + secrets.token_hex(10), amount)
            return self._refunds[idempotency_key]

    def captured(self) -> list[PaymentResult]:
        """Every capture (money taken), for tests and the benchmark."""
        with self._lock:
            return [r for r in self._charges.values() if r.status == "captured"]

    def refunded(self) -> list[RefundResult]:
        with self._lock:
            return list(self._refunds.values())
