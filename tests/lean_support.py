"""Asking a LeanRoute twice (transit.api.lean): on its fast path, and with FastAPI forced to
handle the request (any dependency override turns the fast path off)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

# the headers a client acts on, compared beside status and body
KEPT = ("content-type", "etag", "cache-control", "vary", "www-authenticate", "retry-after")


def _never() -> None:  # pragma: no cover - only its override is looked at
    raise AssertionError


def answer(client: TestClient, url: str, slow: bool = False,
           headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """(status, the KEPT headers, body) of GET url; `slow`: through FastAPI's handler."""
    app: Any = client.app
    if slow:
        app.dependency_overrides[_never] = _never
    try:
        r = client.get(url, headers=headers)
    finally:
        app.dependency_overrides.clear()
    return r.status_code, {k: r.headers[k] for k in KEPT if k in r.headers}, r.content
