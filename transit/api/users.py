"""Commuters' authentication for the API: `Authorization: Bearer ua_...`, an access token
from `POST /v1/auth/token` (OAuth2 password grant, so that /docs can authorize). The
operators' keys (`tk_...`) are a different scheme (transit.api.auth)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordBearer

from transit.accounts import users
from transit.accounts.passwords import Passwords
from transit.accounts.users import SignInLimits, TokenPolicy, User
from transit.api.auth import get_db
from transit.api.problems import Problem
from transit.settings import Settings

oauth2 = OAuth2PasswordBearer(
    tokenUrl="/v1/auth/token", auto_error=False, scheme_name="commuter",
    description="A commuter's access token (`ua_...`) from POST /v1/auth/token or "
    "POST /v1/auth/anonymous.")
Token = Annotated[str | None, Depends(oauth2)]
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="transit"'}


@dataclass(frozen=True)
class UsersConfig:
    """What the accounts service needs from the settings, built once per app."""

    passwords: Passwords
    tokens: TokenPolicy
    limits: SignInLimits
    max_favourites: int

    @classmethod
    def from_settings(cls, settings: Settings) -> UsersConfig:
        return cls(
            passwords=Passwords(settings.argon2_time_cost, settings.argon2_memory_kib),
            tokens=TokenPolicy(access_ttl=timedelta(seconds=settings.access_token_ttl_s),
                               refresh_ttl=timedelta(seconds=settings.refresh_token_ttl_s)),
            limits=SignInLimits(per_account=settings.sign_in_max_failures_per_account,
                                per_ip=settings.sign_in_max_failures_per_ip,
                                window=timedelta(seconds=settings.sign_in_window_s)),
            max_favourites=settings.max_favourites)


def users_config(request: Request) -> UsersConfig:
    config: UsersConfig | None = getattr(request.app.state, "users", None)
    if config is None:
        config = request.app.state.users = UsersConfig.from_settings(
            request.app.state.settings)
    return config


def _bearer_user(request: Request, token: str | None) -> User | None:
    """The user of a commuter's access token (`ua_...`); None without one or for another
    kind of bearer token (an operator's key for a preview); 401 for an access token that
    is not valid (expired, revoked, unknown)."""
    if not token or not token.startswith("ua_"):
        return None
    user = users.authenticate(get_db(request), token)
    if user is None:
        raise Problem(401, "the access token is not valid (unknown, revoked or expired); "
                      "refresh it or sign in again", headers=CHALLENGE)
    return user


def current_user(request: Request, token: Token) -> User:
    """Dependency of every /v1/me endpoint: 401 without a valid commuter's access token."""
    user = _bearer_user(request, token)
    if user is None:  # no token, or not a commuter's
        raise Problem(401, "this needs a commuter's access token as 'Authorization: Bearer "
                      "<token>' (POST /v1/auth/token or /v1/auth/anonymous)",
                      headers=CHALLENGE)
    return user


async def optional_user(request: Request, token: Token) -> User | None:
    """Dependency of the public read endpoints: the caller when a commuter's token comes
    with the request (its profile applies), None for anonymous requests; an invalid token
    is still 401, so that a client never silently loses its profile.

    Async on purpose: a sync dependency costs every anonymous request a hop through the
    thread pool (it halved the departures endpoint's throughput); only a request with a
    commuter's token goes to a thread, for its database lookup."""
    if not token or not token.startswith("ua_"):
        return None
    return await run_in_threadpool(_bearer_user, request, token)


async def user_from_header(request: Request) -> User | None:
    """optional_user without a dependency of its own, for read_context (the departures
    endpoints resolve everything in that one dependency): the same answers, read from the
    Authorization header as OAuth2PasswordBearer reads it."""
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.startswith("ua_"):
        return None
    return await run_in_threadpool(_bearer_user, request, token)


# For routes taking the commuter's token through read_context: what OptionalUser declares.
COMMUTER_SECURITY = {"security": [{"commuter": []}]}

CurrentUser = Annotated[User, Depends(current_user)]
OptionalUser = Annotated[User | None, Depends(optional_user)]
