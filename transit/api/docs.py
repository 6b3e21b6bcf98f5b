"""/docs (Swagger UI) and /redoc served with their scripts and styles from the installed
`fastapi-offline` package, not a CDN: the pages work offline and behind a strict CSP."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/docs-assets"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
# Swagger UI and ReDoc set inline styles from their scripts; nothing else is loosened.
_CSP_COMMON = ("default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
               "font-src 'self' data:; connect-src 'self'; base-uri 'none'; "
               "form-action 'none'; frame-ancestors 'none'")


def page_csp(html: str, extra: str = "") -> str:
    """A CSP allowing this package's scripts and exactly the page's own inline scripts (by
    hash), so an injected script cannot run."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _INLINE_SCRIPT.findall(html))
    script = f"script-src 'self' {hashes}".rstrip()
    return f"{_CSP_COMMON}; {script}" + (f"; {extra}" if extra else "")


def _page(response: HTMLResponse, extra: str = "") -> HTMLResponse:
    html = bytes(response.body).decode()
    return HTMLResponse(html, headers={"Content-Security-Policy": page_csp(html, extra)})


async def swagger_ui(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    app: FastAPI = request.app
    return _page(get_swagger_ui_html(
        openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} - Swagger UI",
        swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
        oauth2_redirect_url=None))


async def redoc(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    app: FastAPI = request.app
    return _page(get_redoc_html(
        openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} - ReDoc",
        redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
        redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png", with_google_fonts=False),
        extra="worker-src blob:")


def install(app: FastAPI) -> None:
    """Mount the assets and the two pages (the app is made with docs_url=redoc_url=None).

    The pages are module functions reading `request.app`, never closures over `app`:
    FastAPI caches every endpoint callable for the life of the process, and a closure would
    keep each app (with its timetable's memory maps) alive with it."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
    app.add_api_route("/docs", swagger_ui, methods=["GET"], include_in_schema=False)
    app.add_api_route("/redoc", redoc, methods=["GET"], include_in_schema=False)
