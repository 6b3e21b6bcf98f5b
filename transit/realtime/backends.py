"""Where the latest feed of each operator and kind is kept: process memory, or Redis shared by
every API process (with pub/sub telling the others within milliseconds).

Feeds are stored as entities by id plus the header, so a DIFFERENTIAL message merges into
what is there and a FULL_DATASET replaces it (an empty one clears it).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from google.transit import gtfs_realtime_pb2 as pb

from transit.realtime.feed import is_full_dataset

Listener = Callable[[str, str], None]
log = logging.getLogger("transit.realtime")


def _assemble(header: bytes | None, entities: dict[str, bytes]) -> pb.FeedMessage | None:
    if header is None:
        return None
    msg = pb.FeedMessage()
    msg.header.ParseFromString(header)
    for key in sorted(entities):
        msg.entity.add().ParseFromString(entities[key])
    return msg


class Backend(Protocol):
    def put(self, op: str, kind: str, msg: pb.FeedMessage) -> None: ...
    def get(self, op: str, kind: str) -> pb.FeedMessage | None: ...
    def stored(self) -> list[tuple[str, str]]: ...
    def set_status(self, op: str, kind: str, fields: dict[str, Any]) -> None: ...
    def get_status(self, op: str, kind: str) -> dict[str, Any]: ...
    def subscribe(self, listener: Listener) -> None: ...
    def close(self) -> None: ...


class MemoryBackend:
    """One process: a dict, and listeners called synchronously."""

    def __init__(self) -> None:
        self._feeds: dict[tuple[str, str], tuple[bytes, dict[str, bytes]]] = {}
        self._status: dict[tuple[str, str], dict[str, Any]] = {}
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def put(self, op: str, kind: str, msg: pb.FeedMessage) -> None:
        with self._lock:
            _, entities = self._feeds.get((op, kind), (b"", {}))
            entities = {} if is_full_dataset(msg) else dict(entities)
            for e in msg.entity:
                if e.is_deleted:
                    entities.pop(e.id, None)
                else:
                    entities[e.id] = e.SerializeToString()
            self._feeds[(op, kind)] = (msg.header.SerializeToString(), entities)
        for listener in self._listeners:
            listener(op, kind)

    def get(self, op: str, kind: str) -> pb.FeedMessage | None:
        with self._lock:
            stored = self._feeds.get((op, kind))
        return None if stored is None else _assemble(*stored)

    def stored(self) -> list[tuple[str, str]]:
        return list(self._feeds)

    def set_status(self, op: str, kind: str, fields: dict[str, Any]) -> None:
        self._status.setdefault((op, kind), {}).update(fields)

    def get_status(self, op: str, kind: str) -> dict[str, Any]:
        return dict(self._status.get((op, kind), {}))

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def close(self) -> None:
        self._listeners.clear()


class RedisBackend:
    """Shared by all processes. A listener thread follows the pub/sub channel and reconnects
    by itself; `on_down` / `on_up` tell the live state when Redis goes away and returns."""

    def __init__(self, url: str, prefix: str = "transit",
                 on_down: Callable[[str], None] | None = None,
                 on_up: Callable[[], None] | None = None) -> None:
        import redis

        self._redis_mod = redis
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2,
                                           health_check_interval=1)
        self.prefix = prefix
        self.channel = f"{prefix}:rt:events"
        self._on_down = on_down
        self._on_up = on_up
        self._listeners: list[Listener] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _key(self, op: str, kind: str, part: str) -> str:
        return f"{self.prefix}:rt:{op}:{kind}:{part}"

    def put(self, op: str, kind: str, msg: pb.FeedMessage) -> None:
        pipe = self.client.pipeline(transaction=True)
        ents = self._key(op, kind, "entities")
        if is_full_dataset(msg):
            pipe.delete(ents)
        mapping = {e.id: e.SerializeToString() for e in msg.entity if not e.is_deleted}
        if mapping:
            pipe.hset(ents, mapping=mapping)
        gone = [e.id for e in msg.entity if e.is_deleted]
        if gone:
            pipe.hdel(ents, *gone)
        pipe.set(self._key(op, kind, "header"), msg.header.SerializeToString())
        pipe.sadd(f"{self.prefix}:rt:feeds", f"{op}|{kind}")
        pipe.publish(self.channel, f"{op}|{kind}")
        pipe.execute()

    def get(self, op: str, kind: str) -> pb.FeedMessage | None:
        pipe = self.client.pipeline(transaction=True)
        pipe.get(self._key(op, kind, "header"))
        pipe.hgetall(self._key(op, kind, "entities"))
        header, entities = pipe.execute()
        return _assemble(header, {k.decode(): v for k, v in entities.items()})

    def stored(self) -> list[tuple[str, str]]:
        raw = self.client.smembers(f"{self.prefix}:rt:feeds")
        return [tuple(m.decode().split("|", 1)) for m in raw]  # type: ignore[misc]

    def set_status(self, op: str, kind: str, fields: dict[str, Any]) -> None:
        self.client.hset(self._key(op, kind, "status"),
                         mapping={k: json.dumps(v) for k, v in fields.items()})

    def get_status(self, op: str, kind: str) -> dict[str, Any]:
        raw = self.client.hgetall(self._key(op, kind, "status"))
        return {k.decode(): json.loads(v) for k, v in raw.items()}

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)
        if self._thread is None:
            self._thread = threading.Thread(target=self._follow, name="redis-realtime",
                                            daemon=True)
            self._thread.start()

    def _follow(self) -> None:
        errors = self._redis_mod.exceptions.RedisError, OSError
        backoff = 0.2
        while not self._stop.is_set():
            try:
                pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                if self._on_up:
                    self._on_up()
                backoff = 0.2
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message is None:
                        pubsub.ping()
                        continue
                    if message.get("type") != "message":
                        continue
                    op, _, kind = message["data"].decode().partition("|")
                    for listener in self._listeners:
                        try:
                            listener(op, kind)
                        except Exception:
                            log.exception("realtime listener failed on %s %s", op, kind)
            except errors as exc:
                if self._on_down:
                    self._on_down(f"live data unavailable: Redis unreachable ({exc})")
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=3)
        self.client.close()
