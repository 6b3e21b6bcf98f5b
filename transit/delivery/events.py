"""Wake-ups for server-sent event streams: when alerts of a user are recorded, every open
stream of that user (in this process, and with Redis in every process, by pub/sub) reads
the inbox after its cursor. The inbox is the source of truth, so a missed or duplicated
wake-up costs at most a poll interval, never an alert.

The same bus carries the ids of commutes saved or deleted (`commutes_changed`) to every
process's `commute_listeners`, so that the one evaluating alerts watches them at once."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterable

log = logging.getLogger("transit.delivery")


class Waiter:
    def __init__(self, user_id: str, loop: asyncio.AbstractEventLoop) -> None:
        self.user_id = user_id
        self.loop = loop
        self.event = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.event.wait(), timeout)
        self.event.clear()


class AlertBus:
    def __init__(self, redis_url: str | None = None, prefix: str = "transit") -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, set[Waiter]] = {}
        self.channel = f"{prefix}:alerts:users"
        self.commutes_channel = f"{prefix}:alerts:commutes"
        self.commute_listeners: list[Callable[[list[str]], None]] = []
        self._redis = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url, socket_timeout=5,
                                               socket_connect_timeout=5)
            self._thread = threading.Thread(target=self._listen, name="alert-bus",
                                            daemon=True)
            self._thread.start()

    def subscribe(self, user_id: str) -> Waiter:
        w = Waiter(user_id, asyncio.get_running_loop())
        with self._lock:
            self._waiters.setdefault(user_id, set()).add(w)
        return w

    def unsubscribe(self, w: Waiter) -> None:
        with self._lock:
            ws = self._waiters.get(w.user_id)
            if ws is not None:
                ws.discard(w)
                if not ws:
                    del self._waiters[w.user_id]

    def notify(self, user_ids: Iterable[str]) -> None:
        """Alerts of these users were recorded (called from any thread)."""
        users = sorted(set(user_ids))
        self._wake(users)
        if self._redis is not None and users:
            try:
                self._redis.publish(self.channel, json.dumps(users))
            except Exception as exc:  # streams of other processes poll meanwhile
                log.warning("alert wake-up not published: %s", exc)

    def commutes_changed(self, commute_ids: list[str]) -> None:
        """Commutes saved or deleted here: tell the other processes (with Redis)."""
        if self._redis is not None and commute_ids:
            self._redis.publish(self.commutes_channel, json.dumps(commute_ids))

    def _dispatch(self, channel: bytes, data: bytes) -> None:
        ids = json.loads(data)
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            return
        if channel.decode() == self.commutes_channel:
            for listener in self.commute_listeners:
                try:
                    listener(ids)
                except Exception:
                    log.exception("commute change not applied")
        else:
            self._wake(ids)

    def _wake(self, users: Iterable[str]) -> None:
        with self._lock:
            waiters = [w for u in users for w in self._waiters.get(u, ())]
        for w in waiters:
            try:
                w.loop.call_soon_threadsafe(w.event.set)
            except RuntimeError:  # its loop is closed: the stream is gone
                self.unsubscribe(w)

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                assert self._redis is not None
                pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel, self.commutes_channel)
                while not self._stop.is_set():
                    msg = pubsub.get_message(timeout=1.0)
                    if msg and msg.get("type") == "message":
                        self._dispatch(msg["channel"], msg["data"])
            except Exception as exc:  # Redis away: streams poll; subscribe again later
                log.warning("alert bus not following Redis: %s", exc)
                self._stop.wait(2.0)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
