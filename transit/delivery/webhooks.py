"""The webhook deliverer: claims due outbox messages, POSTs them signed, settles them.

Retries: exponential backoff from `base_s` doubling per attempt up to `max_s`, with full
jitter (a random delay up to the step, so receivers coming back are not hit by a
thundering herd). A receiver failing for `give_up_after_s` (a day) is disabled with the
reason; one answering 410 Gone is disabled at once. A receiver that hangs times out
(`timeout_s`) and is retried. Timestamps are real time (receivers check them), not the
service clock."""

from __future__ import annotations

import json
import logging
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from transit.background import Worker
from transit.db.engine import Database
from transit.delivery import outbox
from transit.delivery.signing import headers
from transit.delivery.urls import UrlRefused, check_url

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("transit.delivery")


def _http_error() -> type[Exception]:
    """httpx's base error, imported when a send fails (httpx is loaded by then)."""
    import httpx

    return httpx.HTTPError


class WebPushUnavailable(Exception):
    """The push service could not be reached (or Web Push is not configured)."""


@dataclass(frozen=True)
class RetryPolicy:
    base_s: float = 5.0
    max_s: float = 3600.0
    give_up_after_s: float = 24 * 3600.0

    def delay(self, attempts: int, rng: random.Random) -> float:
        step = min(self.max_s, self.base_s * (2 ** max(attempts - 1, 0)))
        return step / 2 + rng.uniform(0, step / 2)


class Deliverer:
    def __init__(self, db: Database, *, allow_private: bool = False, timeout_s: float = 5.0,
                 batch: int = 50, lease_s: float = 60.0, policy: RetryPolicy = RetryPolicy(),
                 now: Callable[[], float] = time.time, interval_s: float = 0.2,
                 vapid: tuple[str, str] | None = None) -> None:
        self.db = db
        self.vapid = vapid  # (private key, subject) for Web Push
        self.timeout_s = timeout_s
        self.allow_private = allow_private
        self.batch = batch
        self.lease_s = lease_s
        self.policy = policy
        self.now = now
        self.interval_s = interval_s
        self.worker = f"w_{secrets.token_hex(6)}"
        self._client: httpx.Client | None = None  # made on first send (`client`)
        self._rng = random.Random()
        self.sent = 0
        # a batch found: the next one at once; none: wait for the interval or a wake. The
        # database away: logged, tried again after the interval
        self.background = Worker("webhook-deliverer", self.run_once, interval_s, logger=log)

    @property
    def client(self) -> httpx.Client:
        """The HTTP client, made on first use: an API worker that never sends a webhook keeps
        httpx (and the CLI libraries it drags in) out of its memory."""
        if self._client is None:
            import httpx

            self._client = httpx.Client(timeout=self.timeout_s, follow_redirects=False)
        return self._client

    def run_once(self) -> int:
        """Claim one batch and attempt each message. Returns how many were attempted."""
        msgs = outbox.claim(self.db, self.worker, self.batch, self.lease_s, self.now())
        for m in msgs:
            self._attempt(m)
        return len(msgs)

    def _attempt(self, m: outbox.Message) -> None:
        body = m.payload.encode()
        try:
            check_url(m.url, self.allow_private)
            if m.kind == "webpush":
                status = self._push(m)
            else:
                status = self.client.post(m.url, content=body, headers=headers(
                    m.secret, m.message_id, int(time.time()), body)).status_code
        except UrlRefused as exc:
            outbox.failed(self.db, m, self.now(), f"refused: {exc}", None, f"refused: {exc}")
            return
        except (_http_error(), OSError, WebPushUnavailable) as exc:
            self._failed(m, f"{type(exc).__name__}: {exc}"[:300])
            return
        if 200 <= status < 300:
            outbox.delivered(self.db, m, self.now(), f"HTTP {status}")
            self.sent += 1
        elif status == 410 or (status == 404 and m.kind == "webpush"):
            outbox.failed(self.db, m, self.now(), f"HTTP {status}", None,
                          f"the receiver answered {status} "
                          f"{'Gone' if status == 410 else 'Not Found'}")
        else:
            self._failed(m, f"HTTP {status}")

    def _push(self, m: outbox.Message) -> int:
        """One Web Push message (RFC 8030, payload encrypted per RFC 8291 aes128gcm, VAPID
        per RFC 8292): the alert's id, kind, state and headline fit the 4 kB limit; the
        page fetches the rest from the inbox."""
        if self.vapid is None:
            raise WebPushUnavailable("no VAPID key configured (TRANSIT_VAPID_PRIVATE_KEY)")
        from pywebpush import WebPushException, webpush

        full = json.loads(m.payload)
        data = full.get("data", {})
        small = {"type": full.get("type"), "id": data.get("id"),
                 "commute_id": data.get("commute_id"), "kind": data.get("kind"),
                 "state": data.get("state"), "version": data.get("version"),
                 "subject": data.get("subject")}
        try:
            r = webpush({"endpoint": m.url, "keys": {"p256dh": m.p256dh, "auth": m.auth}},
                        json.dumps(small), vapid_private_key=self.vapid[0],
                        vapid_claims={"sub": self.vapid[1]}, timeout=self.timeout_s,
                        ttl=3600, headers={"Topic": (data.get("id") or "alert")[:32]})
        except WebPushException as exc:
            if exc.response is None:
                raise WebPushUnavailable(str(exc)) from None
            return int(exc.response.status_code)
        return int(r.status_code)  # type: ignore[union-attr]

    def _failed(self, m: outbox.Message, error: str) -> None:
        now = self.now()
        since = m.failing_since.timestamp() if m.failing_since is not None else now
        if now - since >= self.policy.give_up_after_s:
            outbox.failed(self.db, m, now, error, None,
                          f"failing for {(now - since) / 3600:.0f} h; last error: {error}")
            return
        outbox.failed(self.db, m, now, error, self.policy.delay(m.attempts + 1, self._rng),
                      None)

    # -- background thread
    def start(self) -> None:
        self.background.start()

    def wake(self) -> None:
        self.background.wake()

    def stop(self) -> None:
        self.background.stop()
        if self._client is not None:
            self._client.close()
