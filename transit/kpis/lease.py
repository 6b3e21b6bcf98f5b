"""One KPI recorder per cluster: processes sharing live data through Redis each apply every
update, so only the holder of this lease records them (nothing is counted twice). A lease,
not a lock: when the holder dies, another process takes over after `ttl_s`."""

from __future__ import annotations

import os
import uuid
from typing import Any


class RedisLease:
    def __init__(self, client: Any, key: str, ttl_s: float = 15.0) -> None:
        self.client = client
        self.key = key
        self.ttl_ms = int(ttl_s * 1000)
        self.me = f"{os.getpid()}-{uuid.uuid4().hex[:8]}".encode()

    def __call__(self) -> bool:
        """Take or renew the lease; True while this process holds it."""
        try:
            if self.client.set(self.key, self.me, nx=True, px=self.ttl_ms):
                return True
            if self.client.get(self.key) == self.me:
                self.client.pexpire(self.key, self.ttl_ms)
                return True
        except Exception:  # Redis away: nobody records updates (no live data flows either)
            return False
        return False

    def release(self) -> None:
        try:
            if self.client.get(self.key) == self.me:
                self.client.delete(self.key)
        except Exception:
            pass


