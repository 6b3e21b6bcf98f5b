"""Operators A and B compiled once, and a client calling the API with their keys (shared
by the operator API tests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import build
from tests.feeds import write_feed
from tests.realtime_support import feed, vehicle
from transit.accounts import service
from transit.accounts.scope import CLI
from transit.db.engine import Database

NOW = "2026-06-01T08:00:00+02:00"


@dataclass
class Api:
    client: TestClient
    db: Database

    def key(self, op: str | None, role: str) -> str:
        return service.create_key(self.db, op, role, CLI).token

    def key_id(self, op: str, role: str = "viewer") -> str:
        return service.create_key(self.db, op, role, CLI).info.id

    def call(self, method: str, path: str, key: str | None = None,
             **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        return self.client.request(method, path, headers=headers, **kwargs)


def _push_body() -> dict[str, Any]:
    ts = int(datetime.fromisoformat(NOW).timestamp())
    return {"content": feed(vehicle("v1", 50.0, 4.0), ts=ts).SerializeToString(),
            "headers": {"Content-Type": "application/x-protobuf"}}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Operators A and B compiled once; each test gets its own database over them."""
    root = tmp_path_factory.mktemp("operators")
    feeds = {op: write_feed(root / op.lower(), {}) for op in ("A", "B")}
    build(feeds, root / "data")
    return root / "data"
