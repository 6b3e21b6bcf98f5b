"""API demand for the operator KPIs: which operators (and routes) a request names.

A pure ASGI middleware (no per-request allocation beyond splitting the path and the query):
after a successful answer it hands the operators and routes named by the path
(/v1/stops/{id}, /v1/stations/{id}, /v1/trips/{id}) and by the query (`from`, `to`, `stop`,
`route`, `trip`, `operator`) to the KPI recorder, which counts them in memory and flushes
them with its other counters. The operators' own endpoints (/v1/operators/...) are not
demand."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from transit.timetable.timetable import Timetable

PATH_KINDS = {"stops": "stop", "stations": "stop", "trips": "trip"}
QUERY_KINDS = {"from": "stop", "to": "stop", "stop": "stop", "route": "route",
               "trip": "trip", "operator": "operator"}


def named(tt: Timetable, path: str, query: bytes) -> dict[str, set[str]]:
    """operator -> routes named (empty: the operator only) by a request's path and query."""
    found: list[tuple[str, str]] = []
    parts = path.split("/")
    if len(parts) >= 4 and parts[1] == "v1" and parts[2] in PATH_KINDS:
        found.append((PATH_KINDS[parts[2]], parts[3]))
    if query:
        for k, v in parse_qsl(query.decode("latin-1"), keep_blank_values=False):
            kind = QUERY_KINDS.get(k)
            if kind is not None:
                found.append((kind, v))
    out: dict[str, set[str]] = {}
    operators = tt.operator_index
    for kind, value in found:
        if kind == "operator":
            if value in operators:
                out.setdefault(value, set())
            continue
        op, sep, _ = value.partition(":")
        if not sep or op not in operators:
            continue
        routes = out.setdefault(op, set())
        if kind == "route":
            routes.add(value)
        elif kind == "trip":
            t = tt.trip_index.get(value)
            if t is not None:
                routes.add(tt.strings("route_id")[int(tt.trip_route[t])])
    return out


class DemandMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith("/v1/") or path.startswith("/v1/operators"):
            await self.app(scope, receive, send)
            return
        status = 500

        async def _send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, _send)
        if status >= 400:
            return
        state = scope["app"].state
        recorder = getattr(state, "kpis", None)
        holder = getattr(state, "holder", None)
        tt = holder.get() if holder is not None else None
        if recorder is None or tt is None:
            return
        names = named(tt, path, scope.get("query_string", b""))
        if names:
            now = int(state.clock.now().timestamp())
            for op, routes in names.items():
                recorder.count_request(tt, op, tuple(routes), now)
