"""Authentication for the API: `Authorization: Bearer KEY` (an operator or admin key from
`transit admin create-key`, or a TRANSIT_PUSH_KEYS secret for the realtime push). Who may do
what is decided by transit.accounts.scope.authorize; the dependencies here only find the
principal and turn its refusal into 401/403/404."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from transit.accounts import service
from transit.accounts.roles import Permission, Role
from transit.accounts.scope import AccessDenied, Principal, authorize
from transit.api.problems import Problem
from transit.db.engine import Database

bearer = HTTPBearer(auto_error=False, scheme_name="key",
                    description="An operator or admin key: `tk_<prefix>_<secret>` "
                    "(`transit admin create-key`).")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="transit"'}
OperatorIdPath = Annotated[str, Path(description="Operator id, e.g. BA")]


def get_db(request: Request) -> Database:
    return request.app.state.db


def _bootstrap(request: Request, token: str) -> Principal | None:
    """A TRANSIT_PUSH_KEYS secret stands for a realtime key of its operator."""
    push_keys: dict[str, str] = request.app.state.settings.push_keys
    for op, secret in push_keys.items():
        if hmac.compare_digest(token.encode(), secret.encode()):
            return Principal(role=Role.REALTIME, operator_id=op, prefix="push-key")
    return None


def authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None
                 ) -> Principal:
    if credentials is None or not credentials.credentials:
        raise Problem(401, "this needs a key as 'Authorization: Bearer <key>'",
                      headers=CHALLENGE)
    token = credentials.credentials
    principal = service.authenticate(get_db(request), token) or _bootstrap(request, token)
    if principal is None:
        raise Problem(401, "the key is not valid (unknown, revoked or expired)",
                      headers=CHALLENGE)
    return principal


def _check(principal: Principal, operator_id: str | None, permission: Permission) -> None:
    try:
        authorize(principal, operator_id, permission)
    except AccessDenied as exc:
        raise Problem(403, str(exc)) from None


def operator_access(permission: Permission) -> Callable[..., Principal]:
    """Dependency for endpoints under /v1/operators/{operator_id}/: the caller's key must
    grant `permission` on that operator (401 without a valid key, 403 for a key of another
    operator or role, 404 for an operator the database does not know)."""

    def dependency(request: Request, operator_id: OperatorIdPath,
                   credentials: Credentials) -> Principal:
        principal = authenticate(request, credentials)
        _check(principal, operator_id, permission)
        if service.get_operator(get_db(request), operator_id) is None:
            raise Problem(404, f"unknown operator {operator_id[:40]!r}")
        return principal

    return dependency


def require_permission(permission: Permission) -> Callable[..., Principal]:
    """Dependency for endpoints that act for the key's own operator (an admin key names
    the operator in the request; the endpoint checks it): the key's role must grant
    `permission`. 401 without a valid key; 403 naming the roles that may, decided before
    the request's body is read."""

    def dependency(request: Request, credentials: Credentials) -> Principal:
        principal = authenticate(request, credentials)
        _check(principal, principal.operator_id, permission)
        return principal

    return dependency


def admin_access(permission: Permission) -> Callable[..., Principal]:
    """Dependency for actions on no single operator (only admin keys)."""

    def dependency(request: Request, credentials: Credentials) -> Principal:
        principal = authenticate(request, credentials)
        _check(principal, None, permission)
        return principal

    return dependency
