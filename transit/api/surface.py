"""What every HTTP answer shares, as pure ASGI middleware (no request object is built, the
body is passed through untouched): HEAD served for every GET, security headers, and CORS for
the origins an operator allows."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# JSON is not a page: nothing may load, frame or run from it.
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'"
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)
_CSP = b"content-security-policy"
_DEFAULT_CSP = (_CSP, DEFAULT_CSP.encode())


class HttpSurface:
    """HEAD is answered as the GET of the same URL without its body (FastAPI routes answer
    only the methods they declare, so HEAD was a 405); every answer gets `nosniff`, a
    `Referrer-Policy` and, unless a page set its own, a CSP that allows nothing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}

        async def _send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                headers.extend(SECURITY_HEADERS)
                if not any(name.lower() == _CSP for name, _ in headers):
                    headers.append(_DEFAULT_CSP)
                message = {**message, "headers": headers}
            elif head and message["type"] == "http.response.body":
                message = {"type": "http.response.body", "body": b"",
                           "more_body": message.get("more_body", False)}
            await send(message)

        await self.app(scope, receive, _send)


def cors_options(origins: list[str]) -> dict[str, object]:
    """Starlette CORSMiddleware options answering cross-origin reads (and their preflights)
    from `origins` ("*": any). Reads only: pushing is for servers, not browsers."""
    return {"allow_origins": origins, "allow_methods": ["GET", "HEAD"],
            "allow_headers": ["Accept-Language", "If-None-Match"],
            "expose_headers": ["ETag", "Retry-After"], "max_age": 600}
