"""What a ticket token says: the claims, and their compact CBOR map.

Standalone (stdlib only): the offline verifier embeds this module.

The payload is a CBOR map with small integer keys (one byte each), so that a typical
ticket fits a QR code a phone camera reads at arm's length:

    0 schema version (1)     1 ticket_id       2 product_id      3 product_name
    4 rider_category (absent when the ticket is for the default rider)
    5 travellers             6 valid_from      7 valid_until     (Unix seconds)
    8 operators (array)      9 zones (array)  10 issued_at        (Unix seconds)

A map with another version, a missing or unknown key, or a value of the wrong type is
refused: a verifier never guesses what a ticket means.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SCHEMA_VERSION = 1
VERSION, TICKET_ID, PRODUCT_ID, PRODUCT_NAME, RIDER_CATEGORY = 0, 1, 2, 3, 4
TRAVELLERS, VALID_FROM, VALID_UNTIL, OPERATORS, ZONES, ISSUED_AT = 5, 6, 7, 8, 9, 10
_REQUIRED = {VERSION, TICKET_ID, PRODUCT_ID, PRODUCT_NAME, TRAVELLERS, VALID_FROM,
             VALID_UNTIL, OPERATORS, ZONES, ISSUED_AT}
_KNOWN = _REQUIRED | {RIDER_CATEGORY}
MAX_TEXT = 200  # longest id or name carried (a QR code holds a few hundred characters)
MAX_ITEMS = 64  # most operators or zones on one ticket
MAX_TRAVELLERS = 99


class ClaimsError(ValueError):
    """The payload is not a ticket's claims (says which field and why)."""


@dataclass(frozen=True, slots=True)
class TicketClaims:
    ticket_id: str
    product_id: str
    product_name: str
    rider_category: str | None
    travellers: int
    valid_from: int  # Unix seconds
    valid_until: int  # Unix seconds, inclusive
    operators: tuple[str, ...]
    zones: tuple[str, ...]  # empty: valid in every zone of its operators
    issued_at: int  # Unix seconds

    def __post_init__(self) -> None:
        for name in ("operators", "zones"):  # a list given: kept as the tuple it stands for
            if isinstance(getattr(self, name), list):
                object.__setattr__(self, name, tuple(getattr(self, name)))
        check(to_map(self))

    def to_map(self) -> dict[int, Any]:
        return to_map(self)


def to_map(c: TicketClaims) -> dict[int, Any]:
    """The compact map (keys in ascending order: the CBOR bytes are deterministic)."""
    out: dict[int, Any] = {VERSION: SCHEMA_VERSION, TICKET_ID: c.ticket_id,
                           PRODUCT_ID: c.product_id, PRODUCT_NAME: c.product_name}
    if c.rider_category is not None:
        out[RIDER_CATEGORY] = c.rider_category
    out.update({TRAVELLERS: c.travellers, VALID_FROM: c.valid_from,
                VALID_UNTIL: c.valid_until, OPERATORS: list(c.operators),
                ZONES: list(c.zones), ISSUED_AT: c.issued_at})
    return out


def _text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_TEXT:
        raise ClaimsError(f"{name} must be a text of 1 to {MAX_TEXT} characters")
    return value


def _int(value: object, name: str, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise ClaimsError(f"{name} must be an integer from {low} to {high}")
    return value


def _texts(value: object, name: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or len(value) > MAX_ITEMS:
        raise ClaimsError(f"{name} must be an array of at most {MAX_ITEMS} texts")
    return tuple(_text(v, name) for v in value)


def check(m: Mapping[int, Any]) -> None:
    """Raise ClaimsError unless `m` is a well-formed claims map."""
    from_map(m)


def from_map(m: object) -> TicketClaims:
    """The claims of a decoded payload map; ClaimsError naming what is wrong."""
    if not isinstance(m, Mapping):
        raise ClaimsError("the payload is not a map")
    if any(type(k) is not int for k in m):
        raise ClaimsError("the payload has a key that is not a small integer")
    if missing := _REQUIRED - m.keys():
        raise ClaimsError(f"the payload lacks claim(s) {sorted(missing)}")
    if unknown := m.keys() - _KNOWN:
        raise ClaimsError(f"the payload has unknown claim(s) {sorted(unknown)}")
    if m[VERSION] != SCHEMA_VERSION or type(m[VERSION]) is not int:
        raise ClaimsError(f"claims version {m[VERSION]!r} is not {SCHEMA_VERSION}")
    seconds = 2**40  # well past any ticket; refuses floats, negatives and huge numbers
    valid_from = _int(m[VALID_FROM], "valid_from", 0, seconds)
    valid_until = _int(m[VALID_UNTIL], "valid_until", 0, seconds)
    if valid_until < valid_from:
        raise ClaimsError("valid_until is before valid_from")
    category = m.get(RIDER_CATEGORY)
    claims = object.__new__(TicketClaims)  # checked here: skip __post_init__'s second check
    for name, value in (
            ("ticket_id", _text(m[TICKET_ID], "ticket_id")),
            ("product_id", _text(m[PRODUCT_ID], "product_id")),
            ("product_name", _text(m[PRODUCT_NAME], "product_name")),
            ("rider_category", None if category is None and RIDER_CATEGORY not in m
             else _text(category, "rider_category")),
            ("travellers", _int(m[TRAVELLERS], "travellers", 1, MAX_TRAVELLERS)),
            ("valid_from", valid_from), ("valid_until", valid_until),
            ("operators", _nonempty(_texts(m[OPERATORS], "operators"), "operators")),
            ("zones", _texts(m[ZONES], "zones")),
            ("issued_at", _int(m[ISSUED_AT], "issued_at", 0, seconds))):
        object.__setattr__(claims, name, value)
    return claims


def _nonempty(items: tuple[str, ...], name: str) -> tuple[str, ...]:
    if not items:
        raise ClaimsError(f"{name} must name at least one")
    return items
