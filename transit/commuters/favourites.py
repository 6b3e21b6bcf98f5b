"""Favourites: places (home, work, a stop, a station, a named coordinate) and routes.

Ids are opaque and random; a favourite of another user is "not found" exactly like one
that does not exist, so ids cannot be probed. Stops, stations and routes are checked
against the timetable served when saved (a later feed may drop them: the board then says
so instead of failing)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from transit.accounts import tokens
from transit.accounts.users import User
from transit.api.problems import Problem
from transit.db.engine import Database
from transit.db.models_users import FavouriteRow
from transit.journeys.service import parse_routes
from transit.timetable.timetable import Timetable

KINDS = ("home", "work", "stop", "station", "place", "route")
LOCATION = ("stop_id", "station_id", "lat", "lon", "route_id")
SINGLE = ("home", "work")  # at most one of each per user
FAVOURITE_ID = re.compile(r"^fav_[A-Za-z0-9_-]{1,36}$")


class FavouriteError(Exception):
    """Base of the errors below."""


class Invalid(FavouriteError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NotFound(FavouriteError):
    pass


class Conflict(FavouriteError):
    pass


@dataclass(frozen=True)
class Favourite:
    id: str
    kind: str
    name: str
    created_at: datetime
    stop_id: str | None = None
    station_id: str | None = None
    lat: float | None = None
    lon: float | None = None
    route_id: str | None = None


def _of(row: FavouriteRow) -> Favourite:
    d = row.data or {}
    return Favourite(id=row.id, kind=row.kind, name=row.name, created_at=row.created_at,
                     **{k: d.get(k) for k in LOCATION})


def _check_name(name: str) -> str:
    clean = name.strip()
    if not clean or len(clean) > 100 or any(ord(c) < 32 or ord(c) == 127 for c in clean):
        raise Invalid("name", "must be 1-100 printable characters")
    return clean


def validate(tt: Timetable, kind: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The stored data of a favourite of `kind`: exactly the location fields the kind
    takes, each checked against the timetable; Invalid naming the field otherwise."""
    given = {k: v for k, v in fields.items() if k in LOCATION and v is not None}
    if kind == "stop":
        need: tuple[str, ...] = ("stop_id",)
    elif kind == "station":
        need = ("station_id",)
    elif kind == "route":
        need = ("route_id",)
    elif kind == "place":
        need = ("lat", "lon")
    elif kind in SINGLE:
        options = [k for k in ("stop_id", "station_id") if k in given]
        need = tuple(options) if options else ("lat", "lon")
        if len(options) > 1 or (options and ({"lat", "lon"} & set(given))):
            raise Invalid(options[-1] if options else "lat", f"a {kind} is one of: a stop_id, "
                          "a station_id, or lat and lon")
    else:
        raise Invalid("kind", f"must be one of {', '.join(KINDS)}")
    for field in need:
        if field not in given:
            raise Invalid(field, f"required for a favourite of kind {kind!r}")
    for field in given:
        if field not in need:
            raise Invalid(field, f"not taken by a favourite of kind {kind!r}")
    out: dict[str, Any] = {}
    if "stop_id" in given:
        if given["stop_id"] not in tt.stop_index:
            raise Invalid("stop_id", f"unknown stop {str(given['stop_id'])[:80]!r}")
        out["stop_id"] = given["stop_id"]
    if "station_id" in given:
        if given["station_id"] not in tt.stop_index:
            raise Invalid("station_id", f"unknown station {str(given['station_id'])[:80]!r}")
        out["station_id"] = given["station_id"]
    if "route_id" in given:
        if "," in given["route_id"]:
            raise Invalid("route_id", "one route id")
        try:
            parse_routes(tt, "route_id", given["route_id"])
        except Problem:
            raise Invalid("route_id", f"unknown route {str(given['route_id'])[:80]!r} "
                          "(route ids are OPERATOR:route_id)") from None
        out["route_id"] = given["route_id"]
    for field, bound in (("lat", 90.0), ("lon", 180.0)):
        if field in given:
            value = given[field]
            if isinstance(value, bool) or not isinstance(value, int | float) or \
                    not math.isfinite(value) or abs(value) > bound:
                raise Invalid(field, f"must be a number between -{bound:g} and {bound:g}")
            out[field] = round(float(value), 6)
    return out


def list_favourites(db: Database, user: User) -> list[Favourite]:
    with db.session() as s:
        rows = s.scalars(select(FavouriteRow).where(FavouriteRow.user_id == user.id)
                         .order_by(FavouriteRow.created_at, FavouriteRow.id))
        return [_of(r) for r in rows]


def get(db: Database, user: User, fav_id: str) -> Favourite:
    with db.session() as s:
        return _of(_own(s, user, fav_id))


def _own(s: Any, user: User, fav_id: str) -> FavouriteRow:
    row = s.get(FavouriteRow, fav_id) if FAVOURITE_ID.match(fav_id) else None
    if row is None or row.user_id != user.id:  # another user's: the same answer
        raise NotFound(f"unknown favourite {fav_id[:40]!r}")
    return row  # type: ignore[no-any-return]


def _single_taken(s: Any, user: User, kind: str, other_than: str | None = None) -> None:
    if kind not in SINGLE:
        return
    query = select(FavouriteRow.id).where(FavouriteRow.user_id == user.id,
                                          FavouriteRow.kind == kind)
    if other_than is not None:
        query = query.where(FavouriteRow.id != other_than)
    if s.scalar(query) is not None:
        raise Conflict(f"there is a {kind} already; change it (PATCH) or delete it first")


def create(db: Database, tt: Timetable, user: User, kind: str, name: str,
           fields: dict[str, Any], limit: int, now: datetime | None = None) -> Favourite:
    clean = _check_name(name)
    data = validate(tt, kind, fields)
    with db.session() as s:
        count = s.scalar(select(func.count()).select_from(FavouriteRow).where(
            FavouriteRow.user_id == user.id)) or 0
        if count >= limit:
            raise Conflict(f"limit reached: at most {limit} favourites per account; delete "
                           "some first")
        _single_taken(s, user, kind)
        row = FavouriteRow(id=tokens.new_id("fav"), user_id=user.id, kind=kind, name=clean,
                           data=data, created_at=now or datetime.now(UTC))
        s.add(row)
        s.flush()
        return _of(row)


def update(db: Database, tt: Timetable, user: User, fav_id: str, patch: dict[str, Any]
           ) -> Favourite:
    """Change a favourite: `patch` may set name, kind and location fields; the result is
    validated whole (a location field set to null is removed)."""
    with db.session() as s:
        row = _own(s, user, fav_id)
        kind = patch.get("kind") or row.kind
        given = {k: v for k, v in patch.items() if k in LOCATION}
        # the same kind: a change of some fields; a new kind: a new location altogether
        fields = {**(row.data or {}), **given} if kind == row.kind else given
        data = validate(tt, kind, fields)
        name = _check_name(patch["name"]) if patch.get("name") is not None else row.name
        _single_taken(s, user, kind, other_than=row.id)
        row.kind, row.name, row.data = kind, name, data
        s.flush()
        return _of(row)


def delete(db: Database, user: User, fav_id: str) -> None:
    with db.session() as s:
        s.delete(_own(s, user, fav_id))
