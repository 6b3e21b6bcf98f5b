"""Feeds by URL: conditional GET against a local HTTP server, and clear network errors."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from tests.feeds import write_feed
from transit.errors import FeedFetchError
from transit.ingest.catalog import Catalog, Operator
from transit.ingest.fetch import materialize
from transit.ingest.pipeline import ingest
from transit.timetable.store import Store


class _Handler(BaseHTTPRequestHandler):
    body = b""
    seen: ClassVar[list[tuple[str, str | None]]] = []

    def do_GET(self) -> None:
        _Handler.seen.append((self.path, self.headers.get("If-None-Match")))
        if self.path != "/feed.zip":
            self.send_error(404)
            return
        if self.headers.get("If-None-Match") == '"v1"':
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("ETag", '"v1"')
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    _Handler.body = write_feed(tmp_path / "served", {}).read_bytes()
    _Handler.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_download_then_conditional_get(server: str, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    path = materialize("A", f"{server}/feed.zip", cache)
    assert path.read_bytes() == _Handler.body
    again = materialize("A", f"{server}/feed.zip", cache)
    assert again == path
    assert _Handler.seen == [("/feed.zip", None), ("/feed.zip", '"v1"')]


def test_ingest_from_url(server: str, tmp_path: Path) -> None:
    r = ingest(Catalog((Operator("A", "A", f"{server}/feed.zip"),)), Store(tmp_path / "d"))
    assert (r.operators_read, r.counts["trips"]) == (["A"], 1)


def test_http_error_and_unreachable_host(server: str, tmp_path: Path) -> None:
    with pytest.raises(FeedFetchError) as info:
        materialize("A", f"{server}/missing.zip", tmp_path)
    assert str(info.value) == f"operator A: GET {server}/missing.zip answered HTTP 404"
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(FeedFetchError) as info:
        materialize("A", f"http://127.0.0.1:{port}/feed.zip", tmp_path)
    assert f"cannot reach http://127.0.0.1:{port}/feed.zip (ConnectError" in str(info.value)
