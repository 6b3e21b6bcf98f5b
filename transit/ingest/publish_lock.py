"""One ingest at a time per data directory (and per Redis, when the service shares one).

An ingest reads the parts of the operators it does not re-read, merges them with the ones
it compiled and publishes the result. Two ingests running at once would each merge the
other's old part, and the later publish would silently drop the earlier one's change. So
an ingest holds an exclusive lock from before it reads the current parts until it has
published: an flock on DATA_DIR/.publish.lock (released by the kernel if the process
dies), and, when TRANSIT_REDIS_URL is set, a lock key in Redis for servers whose data
directories are shared between machines (kept alive while held, expiring if the holder
dies).
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from pathlib import Path

LOCK_FILE = ".publish.lock"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end"
_EXTEND = ("if redis.call('get', KEYS[1]) == ARGV[1] then "
           "return redis.call('pexpire', KEYS[1], ARGV[2]) end")


class PublishLockError(Exception):
    """The publish lock could not be taken (Redis unreachable, or held too long)."""


@contextmanager
def _flock(data_dir: Path, say: Callable[[str], None]) -> Iterator[None]:
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"waiting for another ingest of {data_dir} to finish")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


@contextmanager
def _redis_lock(url: str, key: str, say: Callable[[str], None], ttl_s: float,
                wait_s: float) -> Iterator[None]:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    token = uuid.uuid4().hex
    ttl_ms = int(ttl_s * 1000)
    deadline = time.monotonic() + wait_s
    said = False
    try:
        while not client.set(key, token, nx=True, px=ttl_ms):
            if not said:
                say(f"waiting for another ingest holding the publish lock in Redis ({key})")
                said = True
            if time.monotonic() > deadline:
                raise PublishLockError(f"the publish lock in Redis ({key}) was held by another "
                                       f"ingest for more than {wait_s:.0f} s")
            time.sleep(0.2)
    except redis.RedisError as exc:
        client.close()
        raise PublishLockError(f"cannot take the publish lock in Redis: {exc}") from exc
    stop = threading.Event()

    def keep_alive() -> None:
        while not stop.wait(ttl_s / 3):
            # on failure the key expires on its own; the publish goes on under the flock
            with suppress(redis.RedisError):
                client.eval(_EXTEND, 1, key, token, ttl_ms)

    thread = threading.Thread(target=keep_alive, name="publish-lock", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        with suppress(redis.RedisError):  # else it expires after ttl_s
            client.eval(_RELEASE, 1, key, token)
        client.close()


@contextmanager
def publish_lock(data_dir: Path, redis_url: str | None = None, redis_prefix: str = "transit",
                 say: Callable[[str], None] | None = None, ttl_s: float = 30.0,
                 wait_s: float = 6 * 3600) -> Iterator[None]:
    """Hold the data directory's publish lock (and Redis's, given a URL) in this block."""
    tell = say or (lambda _: None)
    shared: AbstractContextManager[None] = nullcontext()
    if redis_url:
        shared = _redis_lock(redis_url, f"{redis_prefix}:publish-lock", tell, ttl_s, wait_s)
    with _flock(data_dir, tell), shared:
        yield
