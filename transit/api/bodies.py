"""A limit on request bodies, as pure ASGI middleware: FastAPI reads a JSON body whole
before any dependency runs, so the limit has to sit in front of it. Endpoints that take
large uploads (a GTFS-RT push, later feeds) are exempt and enforce their own limit while
streaming."""

from __future__ import annotations

import re

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from transit.api.problems import PROBLEM_JSON

# Paths that read their body themselves, with their own limit.
UPLOADS = re.compile(r"^/v1/operators/[^/]+/(realtime|feeds)/?$")


def _too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"request body is over the limit of {limit} bytes")


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, limit: int, exempt: re.Pattern[str] = UPLOADS) -> None:
        self.app = app
        self.limit = limit
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.exempt.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await self._refuse(scope, send)
                return
        await self.app(scope, self._counting(receive), send)

    def _counting(self, receive: Receive) -> Receive:
        """`receive` that stops a body sent without (or with a false) Content-Length once
        it passes the limit; the 413 is answered by the app's error handlers."""
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _too_large(self.limit)
            return message

        return counted

    async def _refuse(self, scope: Scope, send: Send) -> None:
        """Answer 413 without reading the body (its declared length is enough)."""
        body = orjson.dumps({"type": "about:blank", "title": "Payload Too Large",
                             "status": 413, "instance": scope["path"],
                             "detail": f"request body is over the limit of {self.limit} "
                                       "bytes"})
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", PROBLEM_JSON.encode()), (b"connection", b"close"),
            (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
