"""Feeds by URL: conditional GET against a local HTTP server, and clear network errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.feeds import write_feed
from tests.http_server import Served, serve_file
from transit.catalog import Catalog, Operator
from transit.errors import FeedFetchError
from transit.ingest.fetch import materialize
from transit.ingest.pipeline import ingest
from transit.timetable.store import Store


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Served]:
    with serve_file("/feed.zip", write_feed(tmp_path / "served", {}).read_bytes()) as served:
        yield served


def test_download_then_conditional_get(server: Served, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    path = materialize("A", server.url, cache)
    assert path.read_bytes() == server.body
    again = materialize("A", server.url, cache)
    assert again == path
    assert server.seen == [("/feed.zip", None), ("/feed.zip", '"v1"')]


def test_ingest_from_url(server: Served, tmp_path: Path) -> None:
    r = ingest(Catalog((Operator("A", "A", server.url),)), Store(tmp_path / "d"))
    assert (r.operators_read, r.counts["trips"]) == (["A"], 1)


def test_http_error_and_unreachable_host(server: Served, tmp_path: Path) -> None:
    base = server.url.removesuffix("/feed.zip")
    with pytest.raises(FeedFetchError) as info:
        materialize("A", f"{base}/missing.zip", tmp_path)
    assert str(info.value) == f"operator A: GET {base}/missing.zip answered HTTP 404"
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(FeedFetchError) as info:
        materialize("A", f"http://127.0.0.1:{port}/feed.zip", tmp_path)
    assert f"cannot reach http://127.0.0.1:{port}/feed.zip (ConnectError" in str(info.value)
