"""Request and response bodies of the commuters' accounts API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from transit.accounts.users import IssuedTokens, User
from transit.commuters.favourites import Favourite
from transit.departures.schemas import Departure, LiveInfo


class RegisterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=1000, description="The address to sign in with")
    password: str = Field(max_length=1000, description="At least 10 characters, not the "
                          "email, mixing at least two of: lower case, upper case, digits, "
                          "other characters")


class TokenOut(BaseModel):
    """OAuth2 token response (RFC 6749 §5.1), with the account it is for."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds the access token lives")
    refresh_token: str = Field(description="Exchanged once for a new pair "
                               "(grant_type=refresh_token); presented twice, it revokes "
                               "the whole sign-in")
    user_id: str
    account: Literal["anonymous", "registered"]

    @classmethod
    def of(cls, issued: IssuedTokens) -> TokenOut:
        return cls(access_token=issued.access_token, expires_in=issued.expires_in,
                   refresh_token=issued.refresh_token, user_id=issued.user.id,
                   account="anonymous" if issued.user.anonymous else "registered")


class LogoutOut(BaseModel):
    revoked_tokens: int = Field(description="Access and refresh tokens revoked")
    everywhere: bool


class AccountOut(BaseModel):
    id: str
    account: Literal["anonymous", "registered"]
    email: str | None
    created_at: datetime
    registered_at: datetime | None

    @classmethod
    def of(cls, user: User) -> AccountOut:
        return cls(id=user.id, account="anonymous" if user.anonymous else "registered",
                   email=user.email, created_at=user.created_at,
                   registered_at=user.registered_at)


PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
Names = list[Annotated[str, Field(max_length=40)]]


class ProfileFields(BaseModel):
    """A commuter's defaults; unset fields fall back on each endpoint's own default."""

    model_config = ConfigDict(extra="forbid", strict=True)

    language: str | None = Field(None, max_length=35, description="Language tag, e.g. "
                                 "'en' or 'nl-BE'")
    walk_speed: float | None = Field(None, ge=0.3, le=3.0, description="m/s")
    max_walk_m: float | None = Field(None, ge=0, le=5000, description="metres")
    wheelchair: bool | None = None
    rider_category: str | None = Field(None, max_length=64, description="A rider category "
                                       "id as the fares data names it")
    preferred_modes: Names | None = Field(None, max_length=20)
    avoided_modes: Names | None = Field(None, max_length=20, description="Left out of "
                                        "departures and journeys")
    preferred_operators: Names | None = Field(None, max_length=20)
    avoided_operators: Names | None = Field(None, max_length=20, description="Left out of "
                                            "departures, journeys and alerts")
    min_transfer_s: int | None = Field(None, ge=0, le=1800, description="Extra seconds at "
                                       "every change")


class ProfileOut(ProfileFields):
    model_config = ConfigDict(extra="forbid")


class FavouriteIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    kind: Literal["home", "work", "stop", "station", "place", "route"]
    name: str = Field(min_length=1, max_length=100, pattern=PRINTABLE)
    stop_id: str | None = Field(None, max_length=200)
    station_id: str | None = Field(None, max_length=200)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    route_id: str | None = Field(None, max_length=200)


class FavouritePatch(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    kind: Literal["home", "work", "stop", "station", "place", "route"] | None = None
    name: str | None = Field(None, min_length=1, max_length=100, pattern=PRINTABLE)
    stop_id: str | None = Field(None, max_length=200)
    station_id: str | None = Field(None, max_length=200)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    route_id: str | None = Field(None, max_length=200)


class FavouriteOut(BaseModel):
    id: str = Field(description="Opaque")
    kind: Literal["home", "work", "stop", "station", "place", "route"]
    name: str
    stop_id: str | None = None
    station_id: str | None = None
    lat: float | None = None
    lon: float | None = None
    route_id: str | None = None
    created_at: datetime

    @classmethod
    def of(cls, fav: Favourite) -> FavouriteOut:
        return cls(id=fav.id, kind=fav.kind, name=fav.name,  # type: ignore[arg-type]
                   stop_id=fav.stop_id, station_id=fav.station_id, lat=fav.lat,
                   lon=fav.lon, route_id=fav.route_id, created_at=fav.created_at)


class FavouriteList(BaseModel):
    favourites: list[FavouriteOut]
    limit: int = Field(description="Most favourites an account may have")


class BoardStop(BaseModel):
    favourite_id: str
    name: str
    kind: str
    stop_id: str
    departures: list[Departure]
    reason: str | None = None
    next_departure: str | None = None


class BoardOut(BaseModel):
    at: str
    realtime: LiveInfo
    stops: list[BoardStop] = Field(description="Each favourite stop or station, in the "
                                   "favourites' order")
    applied_profile: dict[str, Any] | None


class ErasedOut(BaseModel):
    erased: dict[str, int] = Field(description="Rows erased, per kind of data")
    remains: list[dict[str, str]] = Field(description="What is kept, why and how long")
