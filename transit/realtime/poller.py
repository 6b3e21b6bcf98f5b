"""Polling operators' GTFS-RT URLs: one task per feed, so a dead or slow operator never
delays another; timeouts, conditional GET and exponential backoff per feed. With Redis, a
lock per feed makes one process of the fleet poll it."""

from __future__ import annotations

import asyncio
import logging
import os

from transit.catalog import Catalog, RealtimeSource
from transit.realtime.feed import KINDS, RealtimeFeedError, parse
from transit.realtime.state import LiveState
from transit.realtime.validate import FeedRefused
from transit.redaction import public_text, redact_logs, redact_url, secrets_of

log = logging.getLogger("transit.realtime.poller")
MAX_BACKOFF_S = 300.0
TIMEOUT_S, CONNECT_TIMEOUT_S = 10.0, 5.0


class Poller:
    def __init__(self, catalog: Catalog, state: LiveState, redis_client: object = None,
                 prefix: str = "transit") -> None:
        self.catalog = catalog
        self.state = state
        self.redis = redis_client
        self.prefix = prefix
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        for op in self.catalog.operators:
            for src in op.realtime:
                redact_logs(secrets_of(src.url, src.headers))
                if src.kind not in KINDS:
                    log.warning("operator %s: unknown realtime kind %r", op.id, src.kind)
                    continue
                self.tasks.append(asyncio.create_task(self._run(op.id, src)))

    async def stop(self) -> None:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def _lead(self, op: str, src: RealtimeSource) -> bool:
        if self.redis is None:
            return True
        key = f"{self.prefix}:rt:lock:{op}:{src.kind}"
        me = str(os.getpid())
        ttl = int(src.interval_s * 2000) + 1000
        try:
            if self.redis.set(key, me, nx=True, px=ttl):  # type: ignore[attr-defined]
                return True
            if self.redis.get(key) == me.encode():  # type: ignore[attr-defined]
                self.redis.pexpire(key, ttl)  # type: ignore[attr-defined]
                return True
        except Exception:  # without Redis nobody polls into it
            return False
        return False

    async def _run(self, op: str, src: RealtimeSource) -> None:
        etag: str | None = None
        modified: str | None = None
        delay = src.interval_s
        import httpx  # only a process that polls loads it

        timeout = httpx.Timeout(TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=True) as client:
            while True:
                if await asyncio.to_thread(self._lead, op, src):  # Redis may hang
                    headers = dict(src.headers)
                    if etag:
                        headers["If-None-Match"] = etag
                    if modified:
                        headers["If-Modified-Since"] = modified
                    try:
                        resp = await client.get(src.url, headers=headers)
                        if resp.status_code == 304:
                            delay = src.interval_s
                        elif resp.status_code != 200:
                            raise RuntimeError(f"the feed URL answered HTTP {resp.status_code}")
                        else:
                            msg = parse(resp.content)
                            await asyncio.to_thread(self.state.publish, op, msg, src.kind)
                            etag = resp.headers.get("etag")
                            modified = resp.headers.get("last-modified")
                            delay = src.interval_s
                    except (httpx.HTTPError, RealtimeFeedError, FeedRefused,
                            RuntimeError) as exc:
                        # the status is public: no URL, no key (logs keep host and path)
                        secrets = secrets_of(src.url, src.headers)
                        error = public_text(f"{type(exc).__name__}: {exc}", secrets)
                        await asyncio.to_thread(self.state.record_error, op, src.kind, error)
                        delay = min(max(delay * 2, src.interval_s), MAX_BACKOFF_S)
                        log.warning("operator %s %s (%s): %s (next try in %.0f s)", op,
                                    src.kind, redact_url(src.url), exc, delay)
                await asyncio.sleep(delay)
