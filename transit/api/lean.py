"""A route class for the hottest reads: the query string parsed by hand, FastAPI's dependency
solving skipped when the request is plainly valid.

FastAPI's per-request parameter handling costs about 10 µs per query parameter (it inspects
each parameter's annotation on every request): three times a departure board's own time.
`LeanRoute` reads the route's parameters once, when the route is built, from the same
declarations FastAPI validates (type, default, ge/gt/le/lt, max/min length, pattern), and
per request takes a fast path only when every value is certainly valid: an int or a float
written plainly within its bounds, `true` or `false`, a date as YYYY-MM-DD, a string within
its limits, each parameter at most once. Anything else (a bad, repeated, oversized or odd
value, a header or body parameter, a dependency override, an Authorization header for an
optional OAuth2 token) goes to FastAPI's own handler, so errors, their wording and their order
are FastAPI's as before. The fast path calls the same dependency functions and endpoint with
the same values; the OpenAPI document is FastAPI's, unchanged.

Supported: path parameters of type str; query parameters of type int, float, str, bool or
date, or any of them `| None`; dependencies that take only the request, such query
parameters and other such dependencies, called as FastAPI calls them (once per request
unless `use_cache=False`), an async function awaited, a class or a sync function (a cheap
constructor) called directly; and an optional OAuth2 bearer token (`auto_error=False`),
None on the fast path, which a request with an Authorization header never takes."""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable, Coroutine
from copy import deepcopy
from dataclasses import dataclass
from datetime import date
from typing import Any

import annotated_types as at
import fastapi.routing
from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import OAuth2PasswordBearer

_INT = re.compile(r"(?:0|[1-9][0-9]{0,8})")
_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]{0,8})(?:\.[0-9]{1,12})?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_BOOLS = {"true": True, "false": False}
_MISSING = object()
Parse = Callable[[str], Any]  # the value, or _MISSING when the fast path must not decide


@dataclass(frozen=True)
class _Param:
    name: str  # the endpoint's argument
    alias: str  # the name in the query string
    parse: Parse
    default: Any  # _MISSING: required
    copy_default: bool = True  # a mutable default: each request gets its own copy


@dataclass(frozen=True)
class _Call:
    """A function with its arguments: the request, path and query parameters, and the
    dependencies before it."""

    call: Callable[..., Any]
    is_async: bool  # awaited, else called directly
    cached: bool  # FastAPI's use_cache: one call per request for the same function
    request_arg: str | None
    path: tuple[str, ...]
    query: tuple[_Param, ...]
    deps: tuple[tuple[str, _Call], ...]


def _bounds(metadata: list[Any]) -> Callable[[float], bool] | None:
    checks: list[Callable[[float], bool]] = []
    for m in metadata:
        if isinstance(m, at.Ge):
            checks.append(lambda v, b=m.ge: v >= b)
        elif isinstance(m, at.Gt):
            checks.append(lambda v, b=m.gt: v > b)
        elif isinstance(m, at.Le):
            checks.append(lambda v, b=m.le: v <= b)
        elif isinstance(m, at.Lt):
            checks.append(lambda v, b=m.lt: v < b)
        else:
            return None
    return lambda v: all(ok(v) for ok in checks)


def _number(kind: type, metadata: list[Any]) -> Parse | None:
    ok = _bounds(metadata)
    if ok is None:
        return None
    plain = _INT if kind is int else _FLOAT

    def parse(text: str) -> Any:
        if not plain.fullmatch(text):
            return _MISSING
        value = kind(text)
        return value if math.isfinite(value) and ok(value) else _MISSING

    return parse


def _string(metadata: list[Any]) -> Parse | None:
    longest, shortest, pattern = math.inf, 0, None
    for m in metadata:
        if isinstance(m, at.MaxLen):
            longest = m.max_length
        elif isinstance(m, at.MinLen):
            shortest = m.min_length
        elif getattr(m, "pattern", None) is not None and set(vars(m)) == {"pattern"}:
            pattern = re.compile(m.pattern)
        else:
            return None

    def parse(text: str) -> Any:
        if not shortest <= len(text) <= longest:
            return _MISSING
        # Python's `$` also matches before a final newline, pydantic's does not
        if pattern is not None and ("\n" in text or not pattern.search(text)):
            return _MISSING
        return text

    return parse


def _bool(text: str) -> Any:
    return _BOOLS.get(text, _MISSING)


def _date(text: str) -> Any:
    if not _DATE.fullmatch(text):
        return _MISSING
    try:
        return date.fromisoformat(text)
    except ValueError:
        return _MISSING


def _param(field: Any) -> _Param | None:
    info = field.field_info
    kind = info.annotation
    plain = {int: int, float: float, str: str, bool: bool, date: date}
    kind = plain.get(kind) or {k | None: k for k in plain}.get(kind)
    parse: Parse | None
    if kind in (int, float):
        parse = _number(kind, info.metadata)
    elif kind is str:
        parse = _string(info.metadata)
    elif kind in (bool, date) and not info.metadata:
        parse = _bool if kind is bool else _date
    else:
        return None
    if parse is None:
        return None
    default = _MISSING if info.is_required() else info.default
    return _Param(field.name, field.alias, parse, default,
                  type(default) not in _IMMUTABLE)


# defaults that need no copy per request (deepcopy returns them as they are)
_IMMUTABLE = {type(None), int, float, str, bool, date}


async def _no_token() -> None:
    return None


def _plan(d: Dependant, headers: set[str]) -> _Call | None:
    """How to call `d` without FastAPI, or None when it needs what the fast path lacks;
    adds to `headers` those whose presence sends a request to FastAPI."""
    if isinstance(d.call, OAuth2PasswordBearer) and not d.call.auto_error:
        headers.add("authorization")  # without it, the token is None
        return _Call(_no_token, True, d.use_cache, None, (), (), ())
    if (d.header_params or d.cookie_params or d.body_params or d.websocket_param_name
            or d.http_connection_param_name or d.response_param_name
            or d.background_tasks_param_name or d.security_scopes_param_name
            or d.own_oauth_scopes or d.concurrency is not None or d.call is None):
        return None
    if _is_async(d.call):
        is_async = True
    elif inspect.isclass(d.call) or _is_plain_function(d.call):
        is_async = False
    else:
        return None
    if any(f.field_info.annotation is not str for f in d.path_params):
        return None
    query = [_param(f) for f in d.query_params]
    deps = [(sub.name, _plan(sub, headers)) for sub in d.dependencies]
    if any(q is None for q in query) or any(p is None or n is None for n, p in deps):
        return None
    return _Call(d.call, is_async, d.use_cache, d.request_param_name,
                 tuple(f.name for f in d.path_params),
                 tuple(q for q in query if q is not None),
                 tuple((n, p) for n, p in deps if n is not None and p is not None))


def _is_async(call: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(call) and not inspect.isasyncgenfunction(call)


def _is_plain_function(call: Callable[..., Any]) -> bool:
    return (inspect.isfunction(call) and not inspect.iscoroutinefunction(call)
            and not inspect.isgeneratorfunction(call) and not inspect.isasyncgenfunction(call))


Values = tuple[dict[str, Any], tuple[tuple[str, "_Call", "Values"], ...]]


def _values(plan: _Call, query: dict[str, str]) -> Values | None:
    """The query parameters of `plan` and of its dependencies as the fast path reads them,
    or None when FastAPI must read them."""
    out: dict[str, Any] = {}
    for p in plan.query:
        text = query.get(p.alias)
        if text is None:
            if p.default is _MISSING:
                return None
            out[p.name] = deepcopy(p.default) if p.copy_default else p.default
            continue
        value = p.parse(text)
        if value is _MISSING:
            return None
        out[p.name] = value
    subs = []
    for name, sub in plan.deps:
        values = _values(sub, query)
        if values is None:
            return None
        subs.append((name, sub, values))
    return out, tuple(subs)


async def _run(plan: _Call, values: Values, request: Request,
               cache: dict[Callable[..., Any], Any]) -> Any:
    """Calls `plan` after its dependencies, in FastAPI's order, each function once per
    request (`cache`, by function) unless its dependency says use_cache=False."""
    args, subs = values
    if plan.request_arg is not None:
        args[plan.request_arg] = request
    for name in plan.path:
        args[name] = request.path_params[name]
    for name, sub, sub_values in subs:
        if sub.cached and sub.call in cache:
            await _run_deps(sub, sub_values, request, cache)  # FastAPI solves them still
            args[name] = cache[sub.call]
            continue
        args[name] = await _run(sub, sub_values, request, cache)
        cache.setdefault(sub.call, args[name])
    return await plan.call(**args) if plan.is_async else plan.call(**args)


async def _run_deps(plan: _Call, values: Values, request: Request,
                    cache: dict[Callable[..., Any], Any]) -> None:
    for _, sub, sub_values in values[1]:
        if not (sub.cached and sub.call in cache):
            cache.setdefault(sub.call, await _run(sub, sub_values, request, cache))
        else:
            await _run_deps(sub, sub_values, request, cache)


def _query(request: Request) -> dict[str, str] | None:
    """The query string as a dict, None when a name is repeated (FastAPI decides then)."""
    items = request.query_params.multi_items()
    query = dict(items)
    return query if len(query) == len(items) else None


class LeanRoute(APIRoute):
    """An APIRoute whose plainly valid requests skip FastAPI's dependency solving (the
    module's docstring says when). The endpoint must return a Response."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        slow = super().get_route_handler()
        # An included route is built with the inclusion's dependant (router dependencies
        # added): plan from that one, as FastAPI's handler does.
        var = getattr(fastapi.routing, "_effective_route_context_var", None)
        context = var.get() if var is not None else None
        dependant = (context.dependant if context is not None
                     and getattr(context, "original_route", None) is self else self.dependant)
        headers: set[str] = set()
        plan = _plan(dependant, headers)
        if plan is None or not plan.is_async:  # a sync endpoint runs in FastAPI's threads
            return slow
        unsure = tuple(headers)

        async def handler(request: Request) -> Response:
            query = _query(request)
            values = None if query is None else _values(plan, query)
            if (values is None or getattr(request.app, "dependency_overrides", None)
                    or any(h in request.headers for h in unsure)):
                return await slow(request)
            response = await _run(plan, values, request, {})
            assert isinstance(response, Response), "a LeanRoute endpoint returns a Response"
            return response

        return handler
