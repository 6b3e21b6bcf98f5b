"""Per-client request rate limit (token bucket per client address), as pure ASGI middleware.

The client address is the peer's, or the forwarded one from trusted proxies only (see
forwarded.py). With Redis (TRANSIT_REDIS_URL) the buckets are shared by every process, so
two workers do not double the limit: a process takes tokens from the shared bucket in small
batches (one atomic Lua call per batch), and remembers a refusal until the bucket refills,
so a client costs Redis about one call per batch of requests. While Redis is unavailable
each process limits on its own. Health and metrics endpoints are not limited.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from typing import Any

import anyio.to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from transit.api.forwarded import client_address
from transit.realtime.breaker import CircuitBreaker, StoreUnavailable
from transit.settings import parse_networks

EXEMPT = ("/healthz", "/readyz", "/metrics")
MAX_CLIENTS = 100_000

# KEYS[1]: the client's bucket. ARGV: rate (tokens/s), burst, tokens wanted. Refills by the
# time elapsed on Redis's clock (one clock for every process), then grants what is there up
# to the wanted count. Returns {granted, tokens left as a string}.
TAKE_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local granted = math.min(tonumber(ARGV[3]), math.floor(tokens))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {granted, tostring(tokens)}
"""


def _remember(cache: OrderedDict[str, Any], key: str, value: Any) -> None:
    cache[key] = value
    cache.move_to_end(key)
    if len(cache) > MAX_CLIENTS:
        cache.popitem(last=False)


class LocalBuckets:
    """This process's buckets."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str) -> float | None:
        """None when allowed, else the seconds until a token is there."""
        now = time.monotonic()
        tokens, last = self.buckets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1.0:
            _remember(self.buckets, client, (tokens, now))
            return (1.0 - tokens) / self.rate
        _remember(self.buckets, client, (tokens - 1.0, now))
        return None


class SharedBuckets:
    """Buckets in Redis, taken from in batches."""

    def __init__(self, url: str, prefix: str, rate: float, burst: float,
                 timeout_s: float) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.rate, self.burst = rate, burst
        self.batch = max(1, min(20, int(burst // 20)))
        self.prefix = f"{prefix}:rl:"
        self.client = redis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
            retry=Retry(NoBackoff(), 1, supported_errors=(redis.exceptions.ConnectionError,)))
        self.breaker = CircuitBreaker((redis.exceptions.RedisError, OSError),
                                      cooldown_s=2.0, max_cooldown_s=10.0)
        self._script = self.client.register_script(TAKE_LUA)
        self.leases: OrderedDict[str, int] = OrderedDict()  # tokens taken, not yet spent
        self.refused: OrderedDict[str, float] = OrderedDict()  # until (monotonic)

    def _take(self, client: str) -> tuple[int, float]:
        granted, tokens = self.breaker.call(lambda: self._script(
            keys=[self.prefix + client], args=[self.rate, self.burst, self.batch]))
        return int(granted), float(tokens)

    async def take(self, client: str) -> float | None:
        """None when allowed, else the seconds until a token is there. StoreUnavailable
        when Redis cannot be asked (the caller limits locally)."""
        now = time.monotonic()
        until = self.refused.get(client)
        if until is not None:
            if now < until:
                return until - now
            del self.refused[client]
        left = self.leases.get(client, 0)
        if left > 0:
            _remember(self.leases, client, left - 1)
            return None
        granted, tokens = await anyio.to_thread.run_sync(self._take, client)
        if granted >= 1:
            _remember(self.leases, client, granted - 1)
            return None
        wait = (1.0 - tokens) / self.rate
        _remember(self.refused, client, time.monotonic() + wait)
        return wait


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, per_minute: int, trusted_proxies: str = "",
                 redis_url: str | None = None, redis_prefix: str = "transit",
                 redis_timeout_s: float = 0.5) -> None:
        self.app = app
        self.rate = per_minute / 60.0
        burst = max(per_minute / 6.0, 10.0)
        self.trusted = parse_networks(trusted_proxies)
        self.local = LocalBuckets(self.rate, burst)
        self.shared = (SharedBuckets(redis_url, redis_prefix, self.rate, burst,
                                     redis_timeout_s)
                       if redis_url and self.rate > 0 else None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.rate <= 0 or scope["path"].startswith(EXEMPT):
            await self.app(scope, receive, send)
            return
        client = client_address(scope, self.trusted)
        wait: float | None
        if self.shared is not None:
            try:
                wait = await self.shared.take(client)
            except StoreUnavailable:
                wait = self.local.take(client)
        else:
            wait = self.local.take(client)
        if wait is None:
            await self.app(scope, receive, send)
            return
        retry = max(1, math.ceil(wait))
        body = (b'{"type":"about:blank","title":"Too Many Requests","status":429,'
                b'"detail":"rate limit exceeded; retry later"}')
        await send({"type": "http.response.start", "status": 429, "headers": [
            (b"content-type", b"application/problem+json"),
            (b"retry-after", str(retry).encode()),
            (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
