"""The commuter's own data over HTTP (/v1/me...): account, export and erase, profile,
favourites, the board. Thin: the logic is in transit.commuters and transit.accounts.users.
Another user's favourite id is 404, like an unknown one (never 403)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from transit.accounts import users
from transit.api.auth import get_db
from transit.api.deps import ReadDep, TimetableDep
from transit.api.problems import Problem, problems
from transit.api.responses import cached_json
from transit.api.users import CurrentUser, UsersConfig, users_config
from transit.commuters import favourites, privacy
from transit.commuters.board import favourite_board
from transit.commuters.schemas import (
    AccountOut,
    BoardOut,
    ErasedOut,
    FavouriteIn,
    FavouriteList,
    FavouriteOut,
    FavouritePatch,
    ProfileFields,
    ProfileOut,
)
from transit.profiles import apply
from transit.profiles import fields as profile

router = APIRouter(prefix="/v1/me", tags=["commuter accounts"], responses=problems(401))
FavouriteId = Annotated[str, Path(max_length=100, description="A favourite's id (opaque)")]
PRIVATE = {"Cache-Control": "private, no-store"}


def _config(request: Request) -> UsersConfig:
    return users_config(request)


def _profile_problem(exc: profile.ProfileError) -> Problem:
    return Problem(422, str(exc), parameter=exc.field,
                   errors=[{"parameter": exc.field, "in": "body", "message": exc.message}])


def _favourite_problem(exc: favourites.FavouriteError) -> Problem:
    if isinstance(exc, favourites.Invalid):
        return Problem(422, str(exc), parameter=exc.field,
                       errors=[{"parameter": exc.field, "in": "body",
                                "message": exc.message}])
    return Problem(404 if isinstance(exc, favourites.NotFound) else 409, str(exc))


@router.get("", response_model=AccountOut, summary="The caller's account")
def me(user: CurrentUser) -> AccountOut:
    return AccountOut.of(user)


@router.get("/export", summary="All personal data stored about the caller, as JSON",
            response_model=dict[str, Any])
def export(request: Request, user: CurrentUser) -> Response:
    return cached_json(request, privacy.export(get_db(request), user), 0, private=True)


@router.delete("", response_model=ErasedOut,
               summary="Erase the account and all its data; says what remains and why")
def erase(request: Request, user: CurrentUser) -> ErasedOut:
    out = privacy.erase(get_db(request), user, _config(request).limits)
    return ErasedOut(**out)


@router.get("/profile", response_model=ProfileOut, response_model_exclude_none=False,
            summary="The caller's personal defaults")
def get_profile(user: CurrentUser) -> ProfileOut:
    return ProfileOut(**user.profile)


@router.patch("/profile", response_model=ProfileOut, responses=problems(400, 413),
              summary="Change personal defaults (JSON merge patch: null removes a field)")
def patch_profile(request: Request, body: ProfileFields, user: CurrentUser) -> ProfileOut:
    holder = request.app.state.holder
    tt = holder.get() if holder is not None else None
    operators = set(tt.operator_index) if tt is not None else None
    try:
        new = profile.update(user.profile, body.model_dump(exclude_unset=True), operators)
    except profile.ProfileError as exc:
        raise _profile_problem(exc) from None
    return ProfileOut(**users.set_profile(get_db(request), user, new))


@router.get("/favourites", response_model=FavouriteList, summary="The caller's favourites")
def list_favourites(request: Request, user: CurrentUser) -> FavouriteList:
    return FavouriteList(favourites=[FavouriteOut.of(f) for f in favourites.list_favourites(
        get_db(request), user)], limit=_config(request).max_favourites)


@router.post("/favourites", response_model=FavouriteOut, status_code=201,
             responses=problems(400, 409, 413), summary="Save a favourite place or route")
def create_favourite(request: Request, body: FavouriteIn, user: CurrentUser,
                     tt: TimetableDep) -> FavouriteOut:
    try:
        fav = favourites.create(get_db(request), tt, user, body.kind, body.name,
                                body.model_dump(exclude={"kind", "name"}),
                                _config(request).max_favourites)
    except favourites.FavouriteError as exc:
        raise _favourite_problem(exc) from None
    return FavouriteOut.of(fav)


@router.get("/favourites/{favourite_id}", response_model=FavouriteOut,
            responses=problems(404), summary="One favourite")
def get_favourite(request: Request, favourite_id: FavouriteId, user: CurrentUser
                  ) -> FavouriteOut:
    try:
        return FavouriteOut.of(favourites.get(get_db(request), user, favourite_id))
    except favourites.FavouriteError as exc:
        raise _favourite_problem(exc) from None


@router.patch("/favourites/{favourite_id}", response_model=FavouriteOut,
              responses=problems(400, 404, 409, 413), summary="Change a favourite")
def patch_favourite(request: Request, favourite_id: FavouriteId, body: FavouritePatch,
                    user: CurrentUser, tt: TimetableDep) -> FavouriteOut:
    try:
        fav = favourites.update(get_db(request), tt, user, favourite_id,
                                body.model_dump(exclude_unset=True))
    except favourites.FavouriteError as exc:
        raise _favourite_problem(exc) from None
    return FavouriteOut.of(fav)


@router.delete("/favourites/{favourite_id}", status_code=204, responses=problems(404),
               summary="Delete a favourite")
def delete_favourite(request: Request, favourite_id: FavouriteId, user: CurrentUser
                     ) -> Response:
    try:
        favourites.delete(get_db(request), user, favourite_id)
    except favourites.FavouriteError as exc:
        raise _favourite_problem(exc) from None
    return Response(status_code=204)


@router.get("/board", response_model=BoardOut,
            summary="Next departures at every favourite stop and station, live, with alerts")
def my_board(request: Request, user: CurrentUser, ctx: ReadDep,
             window: Annotated[int, Query(ge=1, le=1440, description="minutes")] = 60,
             limit: Annotated[int, Query(ge=1, le=20, description="per stop")] = 5,
             exclude_modes: Annotated[str | None, Query(max_length=200)] = None,
             exclude_operators: Annotated[str | None, Query(max_length=400)] = None,
             ) -> Response:
    applied = apply.new_applied(user)
    langs = apply.languages(request, user, ctx.langs, applied)
    avoid = apply.avoided(ctx.tt, user, exclude_modes, exclude_operators, applied)
    favs = favourites.list_favourites(get_db(request), user)
    out = favourite_board(ctx.tt, favs, ctx.now, window, limit, langs, ctx.live,
                          apply.exclusions(ctx.tt, avoid))
    out["applied_profile"] = applied
    return cached_json(request, out, 0, private=True)
