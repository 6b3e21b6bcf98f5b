"""The commuter's own account over HTTP (/v1/me...): thin, the logic is in
transit.commuters services and transit.accounts.users."""

from __future__ import annotations

from fastapi import APIRouter

from transit.api.problems import problems
from transit.api.users import CurrentUser
from transit.commuters.schemas import AccountOut

router = APIRouter(prefix="/v1/me", tags=["commuter accounts"], responses=problems(401))


@router.get("", response_model=AccountOut, summary="The caller's account")
def me(user: CurrentUser) -> AccountOut:
    return AccountOut.of(user)
