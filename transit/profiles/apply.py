"""The commuter's profile applied to the public read endpoints (departures, journeys,
alerts): explicit query parameters win, then the profile, then the endpoint's defaults.
Answers list what came from the profile in `applied_profile` (null for requests without a
commuter's token), and are private (never shared by caches) when a profile applied."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request

from transit.accounts.users import User
from transit.api.common import parse_modes, parse_operators
from transit.api.problems import invalid
from transit.fares.pricing import known_category
from transit.fares.store import fares_for
from transit.profiles.fields import resolve
from transit.timetable.exclusions import Exclusions
from transit.timetable.timetable import Timetable

# The journeys endpoint's defaults for the fields a profile can set.
JOURNEY_DEFAULTS: dict[str, Any] = {"walk_speed": 1.2, "max_walk_m": 1000.0,
                                    "min_transfer_s": 0, "wheelchair": False}


def profile_of(user: User | None) -> dict[str, Any] | None:
    return None if user is None else user.profile


def languages(request: Request, user: User | None, langs: list[str],
              applied: dict[str, Any] | None) -> list[str]:
    """The profile's language unless the query names one (`lang`); Accept-Language is a
    browser's default, the profile the rider's choice, so the profile wins over it."""
    language = (user.profile.get("language") if user is not None else None)
    if language is None or "lang" in request.query_params:
        return langs
    if applied is not None:
        applied["language"] = language
    return [language]


@dataclass(frozen=True)
class Avoided:
    modes: frozenset[str]
    operators: frozenset[str]


def avoided(tt: Timetable, user: User | None, exclude_modes: str | None,
            exclude_operators: str | None, applied: dict[str, Any] | None) -> Avoided:
    """Modes and operators to leave out: the query's `exclude_modes`/`exclude_operators`
    (an empty value means none, overriding the profile), else the profile's avoided ones
    (operators no longer served are ignored)."""
    profile = profile_of(user) or {}
    if exclude_modes is not None:
        modes = parse_modes("exclude_modes", exclude_modes) or frozenset()
    else:
        modes = frozenset(profile.get("avoided_modes", ()))
        if modes and applied is not None:
            applied["avoided_modes"] = sorted(modes)
    if exclude_operators is not None:
        ops = parse_operators(tt, "exclude_operators", exclude_operators) or frozenset()
    else:
        ops = frozenset(o for o in profile.get("avoided_operators", ())
                        if o in tt.operator_index)
        if ops and applied is not None:
            applied["avoided_operators"] = sorted(ops)
    return Avoided(modes, ops)


@dataclass(frozen=True)
class Preferred:
    modes: frozenset[str]
    operators: frozenset[str]


def preferred(tt: Timetable, user: User | None, modes: str | None, operators: str | None,
              applied: dict[str, Any] | None) -> Preferred:
    """The profile's preferred modes and operators, unless the query restricts them itself
    (`modes`, `operators`); operators no longer served are ignored."""
    profile = profile_of(user) or {}
    pm = frozenset(profile.get("preferred_modes", ())) if modes is None else frozenset()
    po = frozenset(o for o in profile.get("preferred_operators", ())
                   if o in tt.operator_index) if operators is None else frozenset()
    if applied is not None:
        if pm:
            applied["preferred_modes"] = sorted(pm)
        if po:
            applied["preferred_operators"] = sorted(po)
    return Preferred(pm, po)


def exclusions(tt: Timetable, avoid: Avoided) -> Exclusions | None:
    return Exclusions.of(tt, avoid.modes, avoid.operators)


def journey_values(user: User | None, given: dict[str, Any]
                   ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The journeys options a profile can set, resolved; and what the profile supplied."""
    r = resolve(profile_of(user), given, JOURNEY_DEFAULTS)
    return r.values, (dict(r.applied) if r.applied is not None else None)


def new_applied(user: User | None) -> dict[str, Any] | None:
    return {} if user is not None else None


def rider_category(tt: Timetable, user: User | None, given: str | None,
                   applied: dict[str, Any] | None) -> str | None:
    """The rider category journeys are priced for: the query's (422 when no operator of
    the network defines it), else the profile's when the network knows it, else None (each
    operator's default rider)."""
    fares = fares_for(tt)
    if given is not None:
        if not known_category(fares, given):
            known = sorted(fares.categories)
            raise invalid("rider_category", f"unknown rider category {given!r}; this "
                          "network's are: " + (", ".join(known[:20]) or "none (its fares "
                                                "have no rider categories)"))
        return given
    stored = (profile_of(user) or {}).get("rider_category")
    if stored and known_category(fares, stored):
        if applied is not None:
            applied["rider_category"] = stored
        return stored
    return None
