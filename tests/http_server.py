"""A local HTTP server for the tests that fetch over the network: one file, served with an
ETag, answering a matching If-None-Match with 304 (what a feed host does)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ETAG = '"v1"'


@dataclass
class Served:
    url: str  # of the file
    body: bytes
    seen: list[tuple[str, str | None]] = field(default_factory=list)  # (path, If-None-Match)


@contextmanager
def serve_file(path: str, body: bytes, send_length: bool = True) -> Iterator[Served]:
    """Serve `body` at `path` on 127.0.0.1 (other paths: 404) until the block ends; without
    `send_length`, with no Content-Length (the body ends when the connection closes)."""
    served = Served("", body)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.seen.append((self.path, self.headers.get("If-None-Match")))
            if self.path != path:
                self.send_error(404)
                return
            if self.headers.get("If-None-Match") == ETAG:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("ETag", ETAG)
            if send_length:
                self.send_header("Content-Length", str(len(served.body)))
            self.end_headers()
            self.wfile.write(served.body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    served.url = f"http://127.0.0.1:{httpd.server_address[1]}{path}"
    try:
        yield served
    finally:
        httpd.shutdown()
