"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from transit.api.problems import Problem

router = APIRouter(tags=["health"])

REQUESTS = Counter("transit_http_requests_total", "HTTP requests", ["route", "status"])
LATENCY = Histogram("transit_http_request_seconds", "HTTP request latency", ["route"])
TIMETABLE_STOPS = Gauge("transit_timetable_stops", "Stops in the served timetable")
ALERT_LEADER = Gauge("transit_alert_evaluator_leader", "1 while this process evaluates "
                     "commute alerts (the lease holder, or alone)")
ALERT_UPDATES = Gauge("transit_alert_updates_evaluated", "Live-data updates this process "
                      "evaluated for commute alerts since it started")


@router.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", include_in_schema=False)
def readyz(request: Request) -> dict[str, object]:
    tt = request.app.state.holder.get()
    if tt is None:
        raise Problem(503, "no timetable loaded yet")
    return {"status": "ready", "timetable_version": tt.version,
            "operators": [o["id"] for o in tt.meta["operators"]]}


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    tt = request.app.state.holder.get()
    if tt is not None:
        TIMETABLE_STOPS.set(tt.meta["counts"]["stops"])
    alerting = getattr(request.app.state, "alerting", None)
    if alerting is not None:
        ALERT_LEADER.set(1 if alerting.evaluator.leading else 0)
        ALERT_UPDATES.set(alerting.evaluator.evaluated)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Counts requests by route template (not raw path, which would explode cardinality)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # (route, status) -> the metrics' children: `labels()` validates and locks on every
        # call; route templates and statuses are few
        self.children: dict[tuple[str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()

        async def _send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, _send)
        finally:
            route = scope.get("route")
            name = getattr(route, "path", "unmatched")
            children = self.children.get((name, status))
            if children is None:
                children = self.children[(name, status)] = (
                    REQUESTS.labels(name, str(status)), LATENCY.labels(name))
            children[0].inc()
            children[1].observe(time.perf_counter() - start)
