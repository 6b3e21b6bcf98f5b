"""Operators and their keys over HTTP: thin, every decision is in transit.accounts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from transit.accounts import service
from transit.accounts.roles import Permission
from transit.accounts.scope import Principal
from transit.api.auth import admin_access, get_db, operator_access
from transit.api.problems import Problem, problems
from transit.operators.accounts_schemas import (
    AuditEntryOut,
    AuditPageOut,
    KeyCreate,
    KeyList,
    KeyOut,
    KeyRotate,
    NewKeyOut,
    OperatorCreate,
    OperatorOut,
)

# Every route needs a key (401 without, 403 when it may not); a JSON body may not parse
# (400) or be too large (413).
router = APIRouter(prefix="/v1", tags=["operator accounts"], responses=problems(401, 403))
KeyIdPath = Annotated[str, Path(max_length=100, description="A key's id (key_...)")]
KeysManager = Annotated[Principal, Depends(operator_access(Permission.MANAGE_KEYS))]
AuditReader = Annotated[Principal, Depends(operator_access(Permission.READ_AUDIT))]
Admin = Annotated[Principal, Depends(admin_access(Permission.MANAGE_OPERATORS))]


def _problem(exc: service.AccountsError) -> Problem:
    status = {service.NotFound: 404, service.Conflict: 409}.get(type(exc), 422)
    return Problem(status, str(exc))


@router.post("/operators", response_model=OperatorOut, status_code=201,
             responses=problems(400, 409, 413),
             summary="Create an operator (admin key)")
def create_operator(request: Request, body: OperatorCreate, actor: Admin) -> OperatorOut:
    try:
        info = service.create_operator(get_db(request), body.id, body.name, actor)
    except service.AccountsError as exc:
        raise _problem(exc) from None
    return OperatorOut.of(info)


@router.get("/operators/{operator_id}/keys", response_model=KeyList, responses=problems(404),
            summary="The operator's keys (prefix, role, created, last used, status)")
def list_keys(request: Request, operator_id: str, actor: KeysManager) -> KeyList:
    now = datetime.now(UTC)
    return KeyList(keys=[KeyOut.of(k, now) for k in
                         service.list_keys(get_db(request), operator_id)])


@router.post("/operators/{operator_id}/keys", response_model=NewKeyOut, status_code=201,
             responses=problems(400, 404, 409, 413),
             summary="Create a key for the operator; the answer shows it once")
def create_key(request: Request, operator_id: str, body: KeyCreate,
               actor: KeysManager) -> NewKeyOut:
    try:
        issued = service.create_key(get_db(request), operator_id, body.role, actor,
                                    body.label)
    except service.AccountsError as exc:
        raise _problem(exc) from None
    return NewKeyOut(**KeyOut.of(issued.info, datetime.now(UTC)).model_dump(),
                     key=issued.token)


@router.delete("/operators/{operator_id}/keys/{key_id}", status_code=204,
               responses=problems(404, 409),
               summary="Revoke a key: it stops working at once")
def revoke_key(request: Request, operator_id: str, key_id: KeyIdPath,
               actor: KeysManager) -> Response:
    try:
        service.revoke_key(get_db(request), operator_id, key_id, actor)
    except service.AccountsError as exc:
        raise _problem(exc) from None
    return Response(status_code=204)


@router.post("/operators/{operator_id}/keys/{key_id}/rotate", response_model=NewKeyOut,
             responses=problems(400, 404, 409, 413),
             status_code=201, summary="Replace a key; the old one works for a grace period")
def rotate_key(request: Request, operator_id: str, key_id: KeyIdPath, actor: KeysManager,
               body: KeyRotate | None = None) -> NewKeyOut:
    grace_s = body.grace_s if body and body.grace_s is not None else \
        request.app.state.settings.key_rotation_grace_s
    try:
        issued = service.rotate_key(get_db(request), operator_id, key_id, actor,
                                    timedelta(seconds=grace_s))
    except service.AccountsError as exc:
        raise _problem(exc) from None
    return NewKeyOut(**KeyOut.of(issued.info, datetime.now(UTC)).model_dump(),
                     key=issued.token)


@router.get("/operators/{operator_id}/audit", response_model=AuditPageOut,
            responses=problems(404),
            summary="The operator's audit log, newest first")
def audit_log(
    request: Request, operator_id: str, actor: AuditReader,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[int | None, Query(ge=1, le=2**62, description="Entries older "
                                        "than this id (from `next`)")] = None,
) -> AuditPageOut:
    page = service.audit_page(get_db(request), operator_id, limit, before)
    nxt = None
    if page.next_before is not None:
        url = request.url.include_query_params(before=page.next_before, limit=limit)
        nxt = f"{url.path}?{url.query}"
    return AuditPageOut(entries=[AuditEntryOut.of(e) for e in page.entries], next=nxt)
