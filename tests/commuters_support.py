"""A client of the commuters' API over operators A and B (compiled once per module), on
SQLite and PostgreSQL, with cheap password hashing; helpers to sign up and call as a user."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests import databases
from tests.conftest import build, client_for
from tests.feeds import write_feed
from tests.operator_support import NOW
from transit.db.engine import Database

PASSWORD = "correct horse 42"
FAST_HASH = {"argon2_time_cost": 1, "argon2_memory_kib": 1024}


@dataclass
class Commuters:
    client: TestClient
    db: Database

    def anonymous(self) -> dict[str, Any]:
        r = self.client.post("/v1/auth/anonymous")
        assert r.status_code == 201, r.text
        return r.json()

    def register(self, email: str, password: str = PASSWORD, token: str | None = None
                 ) -> dict[str, Any]:
        r = self.call("POST", "/v1/auth/register", token,
                      json={"email": email, "password": password})
        assert r.status_code == 201, r.text
        return r.json()

    def sign_in(self, email: str, password: str = PASSWORD) -> httpx.Response:
        return self.client.post("/v1/auth/token", data={
            "grant_type": "password", "username": email, "password": password})

    def refresh(self, refresh_token: str) -> httpx.Response:
        return self.client.post("/v1/auth/token", data={
            "grant_type": "refresh_token", "refresh_token": refresh_token})

    def call(self, method: str, path: str, token: str | None = None,
             **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.client.request(method, path, headers=headers, **kwargs)


def commuters_client(data_dir: Path, db_url: str, **settings: Any) -> TestClient:
    return client_for(data_dir, NOW, database_url=db_url, realtime_poll=False,
                      **{**FAST_HASH, **settings})


def compile_ab(root: Path, files: dict[str, dict[str, str]] | None = None) -> Path:
    """Operators A and B (the small test feed, each bent by `files[op]`) compiled under
    `root`."""
    feeds = {op: write_feed(root / op.lower(), (files or {}).get(op, {}))
             for op in ("A", "B")}
    build(feeds, root / "data")
    return root / "data"


@contextmanager
def module_commuters(request: pytest.FixtureRequest, factory: pytest.TempPathFactory,
                     files: dict[str, dict[str, str]] | None = None, **settings: Any
                     ) -> Iterator[Commuters]:
    """One app per test module and backend (`request.param`): tests use their own emails,
    so they share it; starting an app per test would cost seconds each."""
    if request.param == "postgresql" and databases.PG_URL is None:
        pytest.skip(databases.PG_SKIP)
    root = factory.mktemp(f"commuters-{request.param}")
    data = compile_ab(root, files)
    with databases.database_url(request.param, root) as url, \
            commuters_client(data, url, **settings) as client:
        yield Commuters(client, client.app.state.db)  # type: ignore[attr-defined]
