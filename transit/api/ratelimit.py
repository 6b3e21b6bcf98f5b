"""Per-client request rate limit (token bucket per IP), as pure ASGI middleware.

In-process by default; a deployment with several processes behind a proxy limits at the
proxy or, later, in Redis. Health and metrics endpoints are not limited.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from starlette.types import ASGIApp, Receive, Scope, Send

EXEMPT = ("/healthz", "/readyz", "/metrics")
MAX_CLIENTS = 100_000


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, per_minute: int) -> None:
        self.app = app
        self.rate = per_minute / 60.0
        self.burst = max(per_minute / 6.0, 10.0)
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.rate <= 0 or scope["path"].startswith(EXEMPT):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("?", 0))[0]
        now = time.monotonic()
        tokens, last = self.buckets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self.buckets[client] = (tokens, now)
            retry = max(1, int((1.0 - tokens) / self.rate) + 1)
            body = (b'{"type":"about:blank","title":"Too Many Requests","status":429,'
                    b'"detail":"rate limit exceeded; retry later"}')
            await send({"type": "http.response.start", "status": 429, "headers": [
                (b"content-type", b"application/problem+json"),
                (b"retry-after", str(retry).encode()),
                (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        self.buckets[client] = (tokens - 1.0, now)
        if len(self.buckets) > MAX_CLIENTS:
            self.buckets.popitem(last=False)
        await self.app(scope, receive, send)
