"""Commuters' sign-up and sign-in (OAuth2-style tokens) over HTTP: thin, every decision is
in transit.accounts.users."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Query, Request

from transit.accounts import users
from transit.accounts.passwords import PolicyError
from transit.api.auth import get_db
from transit.api.forwarded import client_address
from transit.api.problems import Problem, problems
from transit.api.users import CurrentUser, OptionalUser, UsersConfig, users_config
from transit.commuters.schemas import LogoutOut, RegisterIn, TokenOut
from transit.settings import parse_networks

router = APIRouter(prefix="/v1/auth", tags=["commuter accounts"])
Config = Annotated[UsersConfig, Depends(users_config)]


def policy_problem(exc: PolicyError) -> Problem:
    return Problem(422, str(exc), parameter=exc.field, rule=exc.rule,
                   errors=[{"parameter": exc.field, "in": "body", "message": exc.message}])


def _grant_problem(exc: users.UsersError) -> Problem:
    """RFC 6749 §5.2 names the error; the body is still problem+json."""
    if isinstance(exc, users.RateLimited):
        return Problem(429, str(exc), headers={"Retry-After": str(exc.retry_after_s)})
    return Problem(400, str(exc), error="invalid_grant")


@router.post("/anonymous", response_model=TokenOut, status_code=201,
             responses=problems(),
             summary="Create an anonymous device account (upgrade it later by registering)")
def anonymous(request: Request, config: Config) -> TokenOut:
    return TokenOut.of(users.create_anonymous(get_db(request), config.tokens))


@router.post("/register", response_model=TokenOut, status_code=201,
             responses=problems(400, 401, 409, 413),
             summary="Register with email and password; with an anonymous account's token, "
             "upgrade that account (keeping its data)")
def register(request: Request, body: RegisterIn, config: Config,
             caller: OptionalUser) -> TokenOut:
    try:
        issued = users.register(get_db(request), config.passwords, config.tokens,
                                body.email, body.password, upgrading=caller)
    except PolicyError as exc:
        raise policy_problem(exc) from None
    except users.Conflict as exc:
        raise Problem(409, str(exc)) from None
    return TokenOut.of(issued)


@router.post("/token", response_model=TokenOut, responses=problems(400),
             summary="Sign in (grant_type=password) or refresh (grant_type=refresh_token)")
def token(
    request: Request, config: Config,
    grant_type: Annotated[Literal["password", "refresh_token"], Form()],
    username: Annotated[str | None, Form(max_length=1000, description="The email")] = None,
    password: Annotated[str | None, Form(max_length=1000)] = None,
    refresh_token: Annotated[str | None, Form(max_length=200)] = None,
    scope: Annotated[str, Form(max_length=200)] = "",
) -> TokenOut:
    db = get_db(request)
    try:
        if grant_type == "refresh_token":
            if not refresh_token:
                raise Problem(422, "refresh_token: required with grant_type=refresh_token",
                              parameter="refresh_token")
            return TokenOut.of(users.refresh(db, config.tokens, refresh_token))
        if not username or password is None:
            missing = "username" if not username else "password"
            raise Problem(422, f"{missing}: required with grant_type=password",
                          parameter=missing)
        trusted = parse_networks(request.app.state.settings.trusted_proxies)
        ip = client_address(request.scope, trusted)
        return TokenOut.of(users.sign_in(db, config.passwords, config.tokens,
                                         config.limits, username, password, ip))
    except users.UsersError as exc:
        raise _grant_problem(exc) from None


@router.post("/logout", response_model=LogoutOut, responses=problems(401),
             summary="Revoke this sign-in's tokens, or every token of the account")
def logout(request: Request, user: CurrentUser,
           everywhere: Annotated[bool, Query(description="Sign out of every device")] = False
           ) -> LogoutOut:
    revoked = users.logout(get_db(request), user, everywhere)
    return LogoutOut(revoked_tokens=revoked, everywhere=everywhere)
