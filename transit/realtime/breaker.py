"""A circuit breaker for calls to a shared store (Redis), so that a dead or hung store costs
one bounded timeout and not one per request: after a failure every call fails at once for a
cool-down, then one trial call goes through; a success (or the store's listener reaching it
again) closes the breaker."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger("transit.realtime")


class StoreUnavailable(RuntimeError):
    """The shared store cannot be used now; the message says why."""


class CircuitBreaker:
    def __init__(self, errors: tuple[type[BaseException], ...], cooldown_s: float = 1.0,
                 max_cooldown_s: float = 8.0,
                 clock: Callable[[], float] = time.monotonic,
                 describe: Callable[[BaseException], str] = str) -> None:
        self.errors = errors
        self.describe = describe  # an error as the public reason (no addresses, no secrets)
        self.base_cooldown_s = cooldown_s
        self.max_cooldown_s = max_cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._retry_at = 0.0  # calls before this instant fail at once
        self._cooldown_s = cooldown_s
        self._hold = False  # open until reset(), without trial calls
        self.reason: str | None = None  # why it is open; None: closed

    @property
    def is_open(self) -> bool:
        return self.reason is not None

    def call(self, fn: Callable[[], T]) -> T:
        """fn(), unless the breaker is open (StoreUnavailable at once). A failure of fn
        (one of `errors`) opens it and raises StoreUnavailable."""
        with self._lock:
            if self.reason is not None:
                now = self._clock()
                if self._hold or now < self._retry_at:
                    raise StoreUnavailable(self.reason)
                # this call is the trial: the others keep failing fast while it runs
                self._retry_at = now + self._cooldown_s
        try:
            result = fn()
        except self.errors as exc:
            log.warning("store call failed: %s: %s", type(exc).__name__, exc)
            self.trip(self.describe(exc))
            raise StoreUnavailable(self.reason or "store unavailable") from exc
        if self.reason is not None:
            self.reset()
        return result

    def trip(self, reason: str, hold: bool = False) -> None:
        """Open (or keep open, with a longer cool-down) after a failure seen anywhere. With
        `hold` (the store's own watcher saw it go) no trial call is made until reset()."""
        with self._lock:
            self._hold = self._hold or hold
            if self.reason is not None:
                self._cooldown_s = min(self._cooldown_s * 2, self.max_cooldown_s)
            self.reason = reason
            self._retry_at = self._clock() + self._cooldown_s

    def reset(self) -> None:
        with self._lock:
            self.reason = None
            self._hold = False
            self._cooldown_s = self.base_cooldown_s
            self._retry_at = 0.0
