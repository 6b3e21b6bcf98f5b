"""Feed versions over HTTP: upload, list, report, publish, rollback. Thin: the decisions
are in transit.publishing, the scope in transit.accounts (via operator_access)."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from transit.accounts.roles import Permission
from transit.accounts.scope import Principal
from transit.api.auth import operator_access
from transit.api.problems import Problem, problems
from transit.ingest.limits import IngestLimits
from transit.operators import uploads
from transit.operators.feeds_schemas import (
    FeedFromUrl,
    FeedVersionDetail,
    FeedVersionList,
    FeedVersionOut,
)
from transit.publishing import service
from transit.publishing.service import FeedVersions

# Every route needs a key (401), of the operator and a role allowed (403), of an operator
# the service knows (404).
router = APIRouter(prefix="/v1", tags=["operator feeds"], responses=problems(401, 403, 404))
Publisher = Annotated[Principal, Depends(operator_access(Permission.PUBLISH_FEEDS))]
Reader = Annotated[Principal, Depends(operator_access(Permission.READ_REPORTS))]
VersionPath = Annotated[str, Path(max_length=60, description="A feed version's id (fv_...)")]
MAX_URL_BODY = 8 * 1024


def _versions(request: Request) -> FeedVersions:
    return request.app.state.feed_versions


def _limits(request: Request) -> IngestLimits:
    return request.app.state.ingest_limits


def _wake(request: Request) -> None:
    runner = getattr(request.app.state, "job_runner", None)
    if runner is not None:
        runner.wake()


def _problem(exc: service.PublishingError) -> Problem:
    return Problem(404 if isinstance(exc, service.NotFound) else 409, str(exc))


async def _url_body(request: Request) -> FeedFromUrl:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_URL_BODY:
            raise Problem(413, f"a JSON body is at most {MAX_URL_BODY} bytes")
    try:
        return FeedFromUrl.model_validate(orjson.loads(body))
    except orjson.JSONDecodeError as exc:
        raise Problem(422, f"the body is not JSON: {exc}") from None
    except ValueError as exc:  # pydantic's ValidationError
        raise Problem(422, f"expected {{\"url\": \"https://...\"}}: {exc}",
                      parameter="url") from None


def _accepted(row: object, status: int = 202) -> JSONResponse:
    out = FeedVersionOut.of(row)  # type: ignore[arg-type]
    return JSONResponse(out.model_dump(mode="json"), status_code=status,
                        headers={"Location": out.links["self"]})


@router.post("/operators/{operator_id}/feeds", status_code=202, response_model=FeedVersionOut,
             summary="Upload a GTFS zip (multipart field `file`) or have it fetched "
             "(JSON {\"url\": ...}); validated and compiled in the background",
             responses=problems(413, 415))
async def upload_feed(request: Request, operator_id: str, actor: Publisher) -> Response:
    settings = request.app.state.settings
    limit = settings.max_feed_bytes
    scratch = settings.data_dir / "scratch"
    versions = _versions(request)
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        uploads.check_declared_length(request, limit)
        upload = await uploads.receive_multipart(request, scratch, limit)
    elif ctype == "application/json":
        body = await _url_body(request)
        last = await run_in_threadpool(versions.latest_from_url, operator_id, body.url)
        fetched = await run_in_threadpool(
            uploads.fetch, body.url, scratch, limit, last.etag if last else None,
            last.last_modified if last else None, getattr(request.app.state, "http", None))
        if fetched is None:
            assert last is not None
            return _accepted(last, 200)  # unchanged since that version
        upload = fetched
    else:
        raise Problem(415, "send the feed as multipart/form-data (field `file`) or JSON "
                      "{\"url\": ...}", parameter="Content-Type")
    try:
        await run_in_threadpool(uploads.check_zip, operator_id, upload, _limits(request).archive)
        row = await run_in_threadpool(versions.create, operator_id, upload, actor)
    finally:
        upload.path.unlink(missing_ok=True)
    _wake(request)
    return _accepted(row)


@router.get("/operators/{operator_id}/feeds", response_model=FeedVersionList,
            summary="The operator's feed versions, newest first")
def list_feeds(request: Request, operator_id: str, actor: Reader) -> FeedVersionList:
    return FeedVersionList(versions=[FeedVersionOut.of(r)
                                     for r in _versions(request).list(operator_id)])


@router.get("/operators/{operator_id}/feeds/{version_id}", response_model=FeedVersionDetail,
            summary="A feed version: progress, validation report, diff against the "
            "published version")
def get_feed(request: Request, operator_id: str, version_id: VersionPath,
             actor: Reader) -> FeedVersionDetail:
    try:
        row = _versions(request).get(operator_id, version_id)
    except service.PublishingError as exc:
        raise _problem(exc) from None
    return FeedVersionDetail.of(row)


async def _run_publish(request: Request, operator_id: str, version_id: str,
                       job: int) -> Response:
    _wake(request)
    versions = _versions(request)
    done = await run_in_threadpool(versions.wait, job, request.app.state.settings.publish_wait_s)
    row = await run_in_threadpool(versions.get, operator_id, version_id)
    if done is None:
        return _accepted(row)  # still running: poll the version
    if done.status == "failed":
        raise Problem(409, f"the publish failed: {done.error}")
    return _accepted(row, 200)


@router.post("/operators/{operator_id}/feeds/{version_id}/publish",
             response_model=FeedVersionOut, status_code=200,
             responses={**problems(409), 202: {"description": "Still publishing after "
                                                "TRANSIT_PUBLISH_WAIT_S: poll the version",
                                                "model": FeedVersionOut}},
             summary="Make a staged version live (answers once it is being served)")
async def publish_feed(
    request: Request, operator_id: str, version_id: VersionPath, actor: Publisher,
    force: Annotated[bool, Query(description="Publish despite blocking notices")] = False,
) -> Response:
    try:
        job = await run_in_threadpool(_versions(request).request_publish, operator_id,
                                      version_id, actor, force)
    except service.PublishingError as exc:
        raise _problem(exc) from None
    return await _run_publish(request, operator_id, version_id, job)


@router.post("/operators/{operator_id}/feeds/rollback", response_model=FeedVersionOut,
             responses={**problems(409), 202: {"description": "Still switching after "
                                                "TRANSIT_PUBLISH_WAIT_S: poll the version",
                                                "model": FeedVersionOut}},
             summary="Go back to the version published before the current one")
async def rollback_feed(request: Request, operator_id: str, actor: Publisher) -> Response:
    try:
        job, target = await run_in_threadpool(_versions(request).request_rollback,
                                              operator_id, actor)
    except service.PublishingError as exc:
        raise _problem(exc) from None
    return await _run_publish(request, operator_id, target, job)


