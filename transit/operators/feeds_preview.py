"""`?preview=VERSION` on the timetable reads: the network with a staged feed version in place
of its operator's published one, for that operator's keys only.

The merged preview is built once into a scratch version directory (Releases.preview) and
loaded here once per process; answers carry `Cache-Control: private, no-store`, so no cache
between the operator and the service keeps what is not public yet.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.security.utils import get_authorization_scheme_param
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from transit.accounts.roles import Permission
from transit.accounts.scope import allowed
from transit.api.auth import authenticate
from transit.api.problems import Problem
from transit.db.models import FeedVersionRow
from transit.timetable.timetable import Timetable

KEEP_LOADED = 2
_lock = threading.Lock()


class PreviewCache:
    """Loaded preview timetables of this process, newest few."""

    def __init__(self, prepare: object = None) -> None:
        self._loaded: OrderedDict[Path, Timetable] = OrderedDict()
        self._prepare = prepare

    def load(self, path: Path) -> Timetable:
        with _lock:
            tt = self._loaded.get(path)
            if tt is not None:
                self._loaded.move_to_end(path)
                return tt
        tt = Timetable.load(path)
        if callable(self._prepare):
            self._prepare(tt)
        with _lock:
            self._loaded[path] = tt
            while len(self._loaded) > KEEP_LOADED:
                self._loaded.popitem(last=False)
        return tt


RETRY_S = 5


def _built(request: Request, version_id: str) -> Path:
    app = request.app
    db = app.state.db
    scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
    creds = HTTPAuthorizationCredentials(scheme=scheme, credentials=token) \
        if scheme.lower() == "bearer" and token else None
    principal = authenticate(request, creds)
    with db.session() as s:
        row = s.get(FeedVersionRow, version_id)
    # another operator's version is not found, like an unknown one
    if row is None or not allowed(principal, row.operator_id, Permission.READ_REPORTS):
        raise Problem(404, f"unknown feed version {version_id[:60]!r}", parameter="preview")
    if row.part is None:
        raise Problem(409, f"feed version {version_id} is {row.status}: only a compiled "
                      "version can be previewed", parameter="preview")
    versions = app.state.feed_versions
    if not versions.releases.store.has_part(row.operator_id, row.part):
        raise Problem(409, f"feed version {version_id} is no longer kept", parameter="preview")
    built = versions.releases.built_preview(versions.operator(row.operator_id), row.part)
    if built is None:  # the served network changed since: merging is a job, not a request
        versions.request_preview(row)
        runner = getattr(app.state, "job_runner", None)
        if runner is not None:
            runner.wake()
        raise Problem(503, f"the preview of {version_id} is being built over the network "
                      f"served now; retry in a few seconds", parameter="preview",
                      headers={"Retry-After": str(RETRY_S)})
    return built


async def preview_timetable(request: Request, version_id: str) -> Timetable:
    if len(version_id) > 60:
        raise Problem(422, "preview: not a feed version id", parameter="preview")
    path = await run_in_threadpool(_built, request, version_id)
    return await run_in_threadpool(request.app.state.previews.load, path)


class PrivatePreviewMiddleware:
    """Answers to `?preview=` are private to the operator: never stored by a cache."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or b"preview=" not in scope.get("query_string", b""):
            await self.app(scope, receive, send)
            return

        async def private(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in (b"cache-control", b"etag")]
                headers.append((b"cache-control", b"private, no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, private)
