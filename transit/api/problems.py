"""RFC 9457 problem details: every error says what was wrong and where."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger("transit.api")
PROBLEM_JSON = "application/problem+json"
TITLES = {400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
          404: "Not Found", 409: "Conflict", 410: "Gone", 500: "Internal Server Error",
          413: "Payload Too Large", 422: "Unprocessable Content",
          429: "Too Many Requests", 503: "Service Unavailable"}


COMMON = (422, 429, 503)  # any route: a bad parameter, the rate limit, nothing compiled yet
_HEADERS = {
    429: {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
    503: {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
    401: {"WWW-Authenticate": {"description": "the scheme expected", "schema": {
        "type": "string"}}},
}
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem", "type": "object",
    "description": "RFC 9457 problem details; `parameter` names the input that was wrong.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"},
        "status": {"type": "integer"}, "detail": {"type": "string"},
        "instance": {"type": "string", "description": "the path asked for"},
        "parameter": {"type": ["string", "null"]},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["parameter", "message"],
            "properties": {"parameter": {"type": "string"}, "in": {"type": "string"},
                           "message": {"type": "string"}}}},
    },
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for a route: each of `statuses`, and the COMMON ones every route
    can answer, as application/problem+json (with Retry-After or WWW-Authenticate where it
    is sent)."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in sorted({*statuses, *COMMON}):
        out[status] = {"description": TITLES.get(status, "Error"), "content": {
            PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        if status in _HEADERS:
            out[status]["headers"] = _HEADERS[status]
    return out


class Problem(Exception):
    def __init__(self, status: int, detail: str, *, parameter: str | None = None,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.parameter = parameter
        self.headers = headers
        self.extra = extra


def not_found(what: str, ident: str) -> Problem:
    return Problem(404, f"unknown {what} {ident!r}")


def invalid(parameter: str, detail: str) -> Problem:
    return Problem(422, f"{parameter}: {detail}", parameter=parameter,
                   errors=[{"parameter": parameter, "message": detail}])


def problem_response(request: Request, status: int, detail: str,
                     headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": TITLES.get(status, "Error"), "status": status,
            "detail": detail, "instance": request.url.path, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        """FastAPI's schema with the Problem schema the routes' `problems()` refer to."""
        if app.openapi_schema is None:
            schema = generate()
            schema.setdefault("components", {}).setdefault("schemas", {})[
                "Problem"] = PROBLEM_SCHEMA
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        extra = dict(exc.extra)
        if exc.parameter:
            extra.setdefault("parameter", exc.parameter)
        return problem_response(request, exc.status, exc.detail, exc.headers, **extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ())]
            where = loc[0] if loc else "request"
            name = ".".join(loc[1:]) or where
            errors.append({"parameter": name, "in": where, "message": err.get("msg", "")})
        detail = "; ".join(f"{e['parameter']}: {e['message']}" for e in errors)
        return problem_response(request, 422, detail, errors=errors,
                                parameter=errors[0]["parameter"] if errors else None)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s", request.url.path, exc_info=exc)
        return problem_response(request, 500, "internal error; it has been logged")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(request, exc.status_code, str(exc.detail),
                                getattr(exc, "headers", None))
