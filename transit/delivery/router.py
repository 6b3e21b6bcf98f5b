"""The alert inbox and webhooks over HTTP (/v1/me/alerts, /v1/me/webhooks): thin."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from transit.api.auth import get_db
from transit.api.problems import Problem, invalid, problems
from transit.api.users import CurrentUser
from transit.delivery import store
from transit.delivery.urls import UrlRefused

router = APIRouter(prefix="/v1/me", tags=["commutes and alerts"], responses=problems(400, 401, 413))
Db = Annotated[Any, Depends(get_db)]


def _cursor(row: Any) -> str:
    raw = f"{row.updated_at.isoformat()}|{row.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after(cursor: str | None) -> tuple[datetime, str] | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        t, i = raw.split("|", 1)
        return datetime.fromisoformat(t), i
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid("cursor", "not a cursor this API gave (next_cursor)") from None


@router.get("/alerts", summary="The alert inbox, newest change first",
            responses=problems(422))
def inbox(user: CurrentUser, db: Db, limit: Annotated[int, Query(ge=1, le=100)] = 20,
          unread: bool | None = None,
          cursor: Annotated[str | None, Query(max_length=200)] = None) -> dict[str, Any]:
    rows, n_unread = store.alerts_page(db, user.id, limit + 1, unread, _after(cursor))
    page = rows[:limit]
    return {"alerts": [_alert_out(r) for r in page],
            "unread": n_unread,
            "next_cursor": _cursor(page[-1]) if len(rows) > limit else None}


@router.post("/alerts/{alert_id}/read", status_code=204, summary="Mark an alert read",
             responses=problems(404))
def read(request: Request, alert_id: str, user: CurrentUser, db: Db) -> Response:
    if not store.mark_read(db, user.id, alert_id, request.app.state.clock.now()):
        raise Problem(404, f"unknown alert {alert_id!r}")
    return Response(status_code=204)


@router.post("/alerts/read", summary="Mark every alert read")
def read_all(request: Request, user: CurrentUser, db: Db) -> dict[str, int]:
    return {"marked": store.mark_all_read(db, user.id, request.app.state.clock.now())}


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(max_length=2000, description="https URL on a public address")


@router.post("/webhooks", status_code=201, responses=problems(409, 422),
             summary="Register a webhook; the signing secret is in this answer only")
def add(request: Request, user: CurrentUser, db: Db, body: WebhookIn) -> dict[str, Any]:
    settings = request.app.state.settings
    try:
        row = store.add_webhook(db, user.id, body.url, settings.webhook_allow_private,
                                request.app.state.clock.now(), settings.max_webhooks)
    except UrlRefused as exc:
        raise Problem(422, f"url: {exc}", parameter="url",
                      errors=[{"parameter": "url", "in": "body", "message": str(exc)}]
                      ) from None
    except store.TooMany as exc:
        raise Problem(409, str(exc)) from None
    return {**store.webhook_dict(row), "secret": row.secret}


@router.get("/webhooks", summary="The caller's webhooks (active or why disabled)")
def list_hooks(user: CurrentUser, db: Db) -> dict[str, Any]:
    return {"webhooks": [store.webhook_dict(r) for r in store.webhooks_of(db, user.id)]}


@router.delete("/webhooks/{webhook_id}", status_code=204, responses=problems(404))
def remove(webhook_id: str, user: CurrentUser, db: Db) -> Response:
    if not store.delete_webhook(db, user.id, webhook_id):
        raise Problem(404, f"unknown webhook {webhook_id!r}")
    return Response(status_code=204)


def _alert_out(r: Any) -> dict[str, Any]:
    return {**r.payload, "state": r.state, "version": r.version, "read": r.read_at is not None,
            "updated_at": r.updated_at.isoformat()}


@router.get("/events", summary="Alerts as server-sent events (event `alert`, id = alert id)",
            response_class=EventSourceResponse)
async def events(request: Request, user: CurrentUser, db: Db,
                 last_event_id: Annotated[str | None, Header(alias="Last-Event-ID",
                                                             max_length=100)] = None
                 ) -> EventSourceResponse:
    """Each alert recorded for the caller from now on (or, with `Last-Event-ID`, after that
    alert's last change: a reconnecting client misses nothing), an alert again when it is
    updated; comment heartbeats keep proxies from closing the stream."""
    settings = request.app.state.settings
    bus = request.app.state.alert_bus
    cursor = await run_in_threadpool(store.cursor_of, db, user.id, last_event_id)

    async def stream() -> AsyncIterator[dict[str, str]]:
        nonlocal cursor
        waiter = bus.subscribe(user.id)
        try:
            while True:
                rows = await run_in_threadpool(store.alerts_after, db, user.id, cursor, 100)
                for r in rows:
                    cursor = (r.updated_at, r.id)
                    yield {"event": "alert", "id": r.id, "data": json.dumps(_alert_out(r))}
                if not rows:
                    await waiter.wait(settings.sse_poll_s)
        finally:
            bus.unsubscribe(waiter)

    return EventSourceResponse(stream(), ping=settings.sse_ping_s)


class PushKeys(BaseModel):
    model_config = ConfigDict(extra="forbid")
    p256dh: str = Field(max_length=200)
    auth: str = Field(max_length=100)


class PushSubscriptionIn(BaseModel):
    """PushSubscription.toJSON() of the browser."""

    model_config = ConfigDict(extra="ignore")
    endpoint: str = Field(max_length=2000)
    keys: PushKeys


def _push_settings(request: Request) -> Any:
    settings = request.app.state.settings
    if not settings.vapid_private_key:
        raise Problem(503, "Web Push is not configured on this service "
                      "(TRANSIT_VAPID_PRIVATE_KEY)")
    return settings


@router.get("/push/vapid-key", summary="The applicationServerKey for PushManager.subscribe",
            responses=problems(503))
def vapid_key(request: Request, user: CurrentUser) -> dict[str, str]:
    from transit.delivery.vapid import public_key

    return {"public_key": public_key(_push_settings(request).vapid_private_key)}


@router.post("/push-subscriptions", status_code=201, responses=problems(409, 422, 503),
             summary="Register this browser for Web Push alerts")
def add_push(request: Request, user: CurrentUser, db: Db, body: PushSubscriptionIn
             ) -> dict[str, Any]:
    settings = _push_settings(request)
    try:
        row = store.add_push_subscription(
            db, user.id, body.endpoint, body.keys.p256dh, body.keys.auth,
            settings.webhook_allow_private, request.app.state.clock.now(),
            settings.max_webhooks)
    except UrlRefused as exc:
        raise Problem(422, f"endpoint: {exc}", parameter="endpoint",
                      errors=[{"parameter": "endpoint", "in": "body", "message": str(exc)}]
                      ) from None
    except store.KeyRefused as exc:
        field = str(exc).split(":")[0]
        raise Problem(422, str(exc), parameter=field,
                      errors=[{"parameter": field, "in": "body", "message": str(exc)}]
                      ) from None
    except store.TooMany as exc:
        raise Problem(409, str(exc)) from None
    return store.webhook_dict(row)


@router.get("/push-subscriptions", summary="The caller's Web Push subscriptions")
def list_push(user: CurrentUser, db: Db) -> dict[str, Any]:
    return {"push_subscriptions": [store.webhook_dict(r)
                                   for r in store.webhooks_of(db, user.id, "webpush")]}


@router.delete("/push-subscriptions/{subscription_id}", status_code=204,
               responses=problems(404))
def remove_push(subscription_id: str, user: CurrentUser, db: Db) -> Response:
    if not store.delete_webhook(db, user.id, subscription_id, "webpush"):
        raise Problem(404, f"unknown push subscription {subscription_id!r}")
    return Response(status_code=204)
