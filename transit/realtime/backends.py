"""Where the latest feed of each operator and kind is kept: process memory, or Redis shared by
every API process (with pub/sub telling the others within milliseconds).

Feeds are stored as entities by id plus the header, so a DIFFERENTIAL message merges into
what is there and a FULL_DATASET replaces it (an empty one clears it).

Every Redis call is bounded (socket timeouts, no retry loops) and goes through a circuit
breaker: while Redis is down or hung, calls raise StoreUnavailable at once instead of each
waiting for a timeout, so no request waits on a dead store.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from google.transit import gtfs_realtime_pb2 as pb

from transit.realtime.breaker import CircuitBreaker, StoreUnavailable
from transit.realtime.feed import is_full_dataset

Listener = Callable[[str, str], None]
T = TypeVar("T")
log = logging.getLogger("transit.realtime")


def _assemble(header: bytes | None, entities: dict[str, bytes]) -> pb.FeedMessage | None:
    if header is None:
        return None
    msg = pb.FeedMessage()
    msg.header.ParseFromString(header)
    for key in sorted(entities):
        msg.entity.add().ParseFromString(entities[key])
    return msg


def describe(exc: BaseException) -> str:
    """What went wrong with the store, for the public status: never its address (a URL may
    carry a password), which goes to the log only."""
    if isinstance(exc, StoreUnavailable):
        return str(exc)
    name = type(exc).__name__
    if "Timeout" in name or isinstance(exc, TimeoutError):
        return "the live data store (Redis) does not answer in time"
    return "the live data store (Redis) cannot be reached"


class Backend(Protocol):
    def put(self, op: str, kind: str, msg: pb.FeedMessage,
            status: dict[str, Any] | None = None) -> None: ...
    def restore(self, op: str, kind: str, msg: pb.FeedMessage) -> bool: ...
    def get(self, op: str, kind: str) -> pb.FeedMessage | None: ...
    def stored(self) -> list[tuple[str, str]]: ...
    def set_status(self, op: str, kind: str, fields: dict[str, Any]) -> None: ...
    def get_status(self, op: str, kind: str) -> dict[str, Any]: ...
    def fill_status(self, op: str, kind: str, fields: dict[str, Any]) -> None: ...
    def subscribe(self, listener: Listener) -> None: ...
    def close(self) -> None: ...


class MemoryBackend:
    """One process: a dict, and listeners called synchronously."""

    def __init__(self) -> None:
        self._feeds: dict[tuple[str, str], tuple[bytes, dict[str, bytes]]] = {}
        self._status: dict[tuple[str, str], dict[str, Any]] = {}
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def put(self, op: str, kind: str, msg: pb.FeedMessage,
            status: dict[str, Any] | None = None) -> None:
        with self._lock:
            _, entities = self._feeds.get((op, kind), (b"", {}))
            entities = {} if is_full_dataset(msg) else dict(entities)
            for e in msg.entity:
                if e.is_deleted:
                    entities.pop(e.id, None)
                else:
                    entities[e.id] = e.SerializeToString()
            self._feeds[(op, kind)] = (msg.header.SerializeToString(), entities)
            if status:
                self._status.setdefault((op, kind), {}).update(status)
        for listener in self._listeners:
            listener(op, kind)

    def restore(self, op: str, kind: str, msg: pb.FeedMessage) -> bool:
        """Nothing is ever lost from process memory: nothing to restore."""
        return False

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

    def fill_status(self, op: str, kind: str, fields: dict[str, Any]) -> None:
        status = self._status.setdefault((op, kind), {})
        for k, v in fields.items():
            status.setdefault(k, v)

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def close(self) -> None:
        self._listeners.clear()


# Writes a feed's whole state (a FULL_DATASET held by a process) unless Redis holds a newer
# one: absent, or older by header timestamp. Atomic, so two processes restoring after a
# Redis restart, or a push racing a restore, never lose the newer state.
# KEYS: header, entities, timestamp, feeds set. ARGV: timestamp, header, "op|kind",
# channel, then entity id and bytes pairs.
RESTORE_LUA = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  local have = tonumber(redis.call('GET', KEYS[3]))
  if have == nil or have >= tonumber(ARGV[1]) then return 0 end
end
redis.call('DEL', KEYS[2])
for i = 5, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[3], ARGV[1])
redis.call('SADD', KEYS[4], ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[3])
return 1
"""


class RedisBackend:
    """Shared by all processes. A listener thread follows the pub/sub channel, notices a
    dead or hung Redis (pings it), and reconnects by itself; `on_down` / `on_up` tell the
    live state when Redis goes away and returns."""

    def __init__(self, url: str, prefix: str = "transit", timeout_s: float = 0.5,
                 on_down: Callable[[str], None] | None = None,
                 on_up: Callable[[], None] | None = None) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self._redis_mod = redis
        self.timeout_s = timeout_s
        # One immediate retry on a broken connection (a pooled socket to a Redis that
        # restarted), none on a timeout: a call costs at most about timeout_s.
        self.client = redis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
            retry=Retry(NoBackoff(), 1, supported_errors=(redis.exceptions.ConnectionError,)))
        self.breaker = CircuitBreaker((redis.exceptions.RedisError, OSError), describe=describe)
        self.prefix = prefix
        self.channel = f"{prefix}:rt:events"
        self._on_down = on_down
        self._on_up = on_up
        self._listeners: list[Listener] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._restore = self.client.register_script(RESTORE_LUA)

    def _key(self, op: str, kind: str, part: str) -> str:
        return f"{self.prefix}:rt:{op}:{kind}:{part}"

    def _call(self, fn: Callable[[], T]) -> T:
        return self.breaker.call(fn)

    def put(self, op: str, kind: str, msg: pb.FeedMessage,
            status: dict[str, Any] | None = None) -> None:
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
        pipe.set(self._key(op, kind, "timestamp"), int(msg.header.timestamp))
        if status:
            pipe.hset(self._key(op, kind, "status"),
                      mapping={k: json.dumps(v) for k, v in status.items()})
        pipe.sadd(f"{self.prefix}:rt:feeds", f"{op}|{kind}")
        pipe.publish(self.channel, f"{op}|{kind}")
        self._call(pipe.execute)

    def restore(self, op: str, kind: str, msg: pb.FeedMessage) -> bool:
        """Write `msg` (a feed's whole state) unless Redis holds this feed as new or newer;
        True when written (and announced to every process)."""
        args: list[Any] = [int(msg.header.timestamp), msg.header.SerializeToString(),
                           f"{op}|{kind}", self.channel]
        for e in msg.entity:
            args += [e.id, e.SerializeToString()]
        keys = [self._key(op, kind, "header"), self._key(op, kind, "entities"),
                self._key(op, kind, "timestamp"), f"{self.prefix}:rt:feeds"]
        return bool(self._call(lambda: self._restore(keys=keys, args=args)))

    def get(self, op: str, kind: str) -> pb.FeedMessage | None:
        pipe = self.client.pipeline(transaction=True)
        pipe.get(self._key(op, kind, "header"))
        pipe.hgetall(self._key(op, kind, "entities"))
        header, entities = self._call(pipe.execute)
        return _assemble(header, {k.decode(): v for k, v in entities.items()})

    def stored(self) -> list[tuple[str, str]]:
        raw = self._call(lambda: self.client.smembers(f"{self.prefix}:rt:feeds"))
        return [tuple(m.decode().split("|", 1)) for m in raw]  # type: ignore[misc]

    def set_status(self, op: str, kind: str, fields: dict[str, Any]) -> None:
        self._call(lambda: self.client.hset(
            self._key(op, kind, "status"),
            mapping={k: json.dumps(v) for k, v in fields.items()}))

    def get_status(self, op: str, kind: str) -> dict[str, Any]:
        raw = self._call(lambda: self.client.hgetall(self._key(op, kind, "status")))
        return {k.decode(): json.loads(v) for k, v in raw.items()}

    def fill_status(self, op: str, kind: str, fields: dict[str, Any]) -> None:
        """Set the status fields Redis lacks (after a restart), keeping those it has."""
        pipe = self.client.pipeline(transaction=True)
        for k, v in fields.items():
            pipe.hsetnx(self._key(op, kind, "status"), k, json.dumps(v))
        self._call(pipe.execute)

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)
        if self._thread is None:
            self._thread = threading.Thread(target=self._follow, name="redis-realtime",
                                            daemon=True)
            self._thread.start()

    def _follow(self) -> None:
        errors = self._redis_mod.exceptions.RedisError, OSError, StoreUnavailable
        backoff = 0.2
        while not self._stop.is_set():
            pubsub = self.client.pubsub()
            try:
                self._subscribe(pubsub)
                self.breaker.reset()
                if self._on_up:
                    self._on_up()
                backoff = 0.2
                self._listen(pubsub)
            except errors as exc:
                log.warning("Redis listener: %s: %s", type(exc).__name__, exc)
                self.breaker.trip(describe(exc), hold=True)
                if self._on_down:
                    self._on_down(f"live data unavailable: {describe(exc)}")
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 2.0)
            finally:
                with contextlib.suppress(errors):
                    pubsub.close()

    def _subscribe(self, pubsub: Any) -> None:
        """Subscribe, and wait for Redis to confirm it (a hung Redis accepts connections)."""
        pubsub.subscribe(self.channel)
        deadline = time.monotonic() + 2 * self.timeout_s
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=self.timeout_s)
            if message is not None and message.get("type") == "subscribe":
                return
        raise self._redis_mod.exceptions.TimeoutError("no answer to SUBSCRIBE")

    def _listen(self, pubsub: Any) -> None:
        """Hand messages to the listeners; ping when idle, and give up on Redis when
        nothing (not even a pong) came back for a few timeouts: it is hung."""
        heard = pinged = time.monotonic()
        silent_limit = max(1.0, 3 * self.timeout_s)
        while not self._stop.is_set():
            message = pubsub.get_message(timeout=min(0.5, self.timeout_s))
            now = time.monotonic()
            if message is None:
                if now - heard > silent_limit:
                    raise self._redis_mod.exceptions.TimeoutError(
                        f"no answer for {now - heard:.1f} s (Redis hung?)")
                if now - pinged >= min(0.5, self.timeout_s):
                    pubsub.ping()
                    pinged = now
                continue
            heard = now
            if message.get("type") != "message":
                continue
            op, _, kind = message["data"].decode().partition("|")
            for listener in self._listeners:
                try:
                    listener(op, kind)
                except StoreUnavailable as exc:
                    log.warning("realtime listener on %s %s: %s", op, kind, exc)
                except Exception:
                    log.exception("realtime listener failed on %s %s", op, kind)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=3)
        self.client.close()
