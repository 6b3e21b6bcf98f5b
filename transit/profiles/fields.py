"""A commuter's profile: personal defaults that the read endpoints apply when a request
carries the commuter's token and does not say otherwise.

The profile is stored as JSON on the user row; only the fields set are stored, and unset
fields fall back on the endpoints' own defaults. `resolve` merges a request's explicit
parameters over the profile and says which values came from the profile (`applied`), so
that every answer can list them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from transit.timetable.modes import MODES

LANGUAGE = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")
RIDER_CATEGORY = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
OPERATOR = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
MAX_LIST = 20

# What every field holds and where it applies (documentation and validation in one place).
FIELDS: dict[str, str] = {
    "language": "names and alerts in this language (departures, journeys, alerts)",
    "walk_speed": "m/s, 0.3-3.0 (journeys)",
    "max_walk_m": "metres, 0-5000 (journeys)",
    "wheelchair": "only accessible trips and stops (journeys)",
    "rider_category": "the fares data's rider category id (stored for fares)",
    "preferred_modes": "modes to favour: journeys are ranked as if each ride on another "
                       "mode (and no preferred operator) arrived 5 minutes later (journeys)",
    "avoided_modes": "modes never used (departures, journeys)",
    "preferred_operators": "operators to favour, ranked like preferred_modes (journeys)",
    "avoided_operators": "operators never used (departures, journeys, alerts)",
    "min_transfer_s": "seconds of extra slack at every change, 0-1800 (journeys)",
}


class ProfileError(ValueError):
    """A field of a profile update that is not valid: `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _number(field: str, value: object, low: float, high: float, integer: bool = False
            ) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float) or (
            integer and not isinstance(value, int)):
        raise ProfileError(field, "must be an integer" if integer else "must be a number")
    if not low <= value <= high or value != value:  # NaN is never in range
        raise ProfileError(field, f"must be between {low:g} and {high:g}")
    return value


def _names(field: str, value: object, allowed: set[str] | None, pattern: re.Pattern[str]
           ) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ProfileError(field, "must be a list of strings")
    if len(value) > MAX_LIST:
        raise ProfileError(field, f"at most {MAX_LIST} entries")
    out: list[str] = []
    for v in value:
        name = v.strip().lower() if pattern is None else v.strip()
        if not pattern.match(name):
            raise ProfileError(field, f"{v[:40]!r} is not a valid name")
        if allowed is not None and name not in allowed:
            raise ProfileError(field, f"unknown {field.split('_')[-1][:-1]} {name!r}; "
                               f"known: {', '.join(sorted(allowed))}")
        if name not in out:
            out.append(name)
    return out


MODE = re.compile(r"^[a-z_]{1,20}$")


def validate(field: str, value: object, operators: set[str] | None) -> object:
    """The stored form of `value` for `field`; ProfileError naming the field otherwise.
    `operators` are the served network's (None: not checked, no timetable yet)."""
    if field == "language":
        if not isinstance(value, str) or len(value) > 35 or not LANGUAGE.match(value):
            raise ProfileError(field, "must be a language tag such as 'en' or 'nl-BE'")
        return value.lower()
    if field == "walk_speed":
        return float(_number(field, value, 0.3, 3.0))
    if field == "max_walk_m":
        return float(_number(field, value, 0, 5000))
    if field == "min_transfer_s":
        return int(_number(field, value, 0, 1800, integer=True))
    if field == "wheelchair":
        if not isinstance(value, bool):
            raise ProfileError(field, "must be true or false")
        return value
    if field == "rider_category":
        if not isinstance(value, str) or not RIDER_CATEGORY.match(value):
            raise ProfileError(field, "must be a rider category id (1-64 letters, digits, "
                               "'_', '.', ':' or '-')")
        return value
    if field in ("preferred_modes", "avoided_modes"):
        return _names(field, [v.lower() if isinstance(v, str) else v for v in value]
                      if isinstance(value, list) else value, set(MODES), MODE)
    if field in ("preferred_operators", "avoided_operators"):
        return _names(field, value, operators, OPERATOR)
    raise ProfileError(field, f"unknown field; fields are {', '.join(FIELDS)}")


def update(profile: dict[str, Any], patch: dict[str, Any], operators: set[str] | None
           ) -> dict[str, Any]:
    """`profile` with a JSON merge patch applied (null removes a field), validated whole:
    a mode or operator both preferred and avoided is an error."""
    out = dict(profile)
    for field, value in patch.items():
        if value is None:
            out.pop(field, None)
        else:
            out[field] = validate(field, value, operators)
    for kind in ("modes", "operators"):
        both = set(out.get(f"preferred_{kind}", [])) & set(out.get(f"avoided_{kind}", []))
        if both:
            field = f"avoided_{kind}" if f"avoided_{kind}" in patch else f"preferred_{kind}"
            raise ProfileError(field, f"{sorted(both)[0]!r} is both preferred and avoided")
    return out


@dataclass(frozen=True)
class Resolved:
    """The values a request uses, and those of them that came from the profile."""

    values: dict[str, Any]
    applied: dict[str, Any] | None  # None: no commuter's token with the request


def resolve(profile: dict[str, Any] | None, given: dict[str, Any],
            defaults: dict[str, Any]) -> Resolved:
    """For each field of `defaults`: the request's value when given (not None), else the
    profile's, else the default. Without a profile (an anonymous request), `applied` is
    None."""
    values: dict[str, Any] = {}
    applied: dict[str, Any] = {}
    for field, default in defaults.items():
        if given.get(field) is not None:
            values[field] = given[field]
        elif profile is not None and profile.get(field) is not None:
            values[field] = applied[field] = profile[field]
        else:
            values[field] = default
    return Resolved(values, applied if profile is not None else None)
