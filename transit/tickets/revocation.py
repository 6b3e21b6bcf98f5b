"""Signed revocation lists: the refunded or cancelled ticket ids that verifiers sync
(`GET /v1/tickets/revoked?since=`), signed with the ticket keys.

A list is a COSE_Sign1 with content type `application/x-transit-revocations+cbor` in its
protected header (so a ticket is never taken for a list, nor a list for a ticket) over the
map {0: 1 (version), 1: since, 2: next_cursor, 3: [ticket ids]}. A verifier asks with its
cursor, checks that the list answers that cursor, adds the ids and keeps next_cursor.

The verifying half (verify_revocations) is standalone like verify.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import cbor2

from .cose import CoseError, loads_exact, parse_sign1, sign1
from .verify import KeysError, TrustedKey, trusted_keys

if TYPE_CHECKING:  # the signing half runs on the server; a verifier never imports it
    from .keyring import KeyRing

CONTENT_TYPE = "application/x-transit-revocations+cbor"
VERSION, SINCE, NEXT_CURSOR, IDS = 0, 1, 2, 3
MAX_CURSOR = 200
MAX_ID = 200


class RevocationError(ValueError):
    """Not a revocation list signed by a known key (says why)."""


def sign_revocations(ids: list[str], since: str, next_cursor: str, keyring: KeyRing,
                     now: int = 0) -> bytes:
    """The signed list of `ids` revoked after cursor `since`, up to `next_cursor`, signed
    with the key ring's active key (`now`: when a key is made, if the ring has none)."""
    _check(ids, since, next_cursor)
    payload = cbor2.dumps({VERSION: 1, SINCE: since, NEXT_CURSOR: next_cursor,
                           IDS: list(ids)})
    return keyring.issue(lambda key: sign1(payload, key, CONTENT_TYPE), None, now)


def _check(ids: object, since: object, next_cursor: object) -> None:
    for name, cursor in (("since", since), ("next_cursor", next_cursor)):
        if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR:
            raise RevocationError(f"{name} must be a text of at most {MAX_CURSOR} characters")
    if not isinstance(ids, list | tuple) or not all(
            isinstance(i, str) and 0 < len(i) <= MAX_ID for i in ids):
        raise RevocationError(f"ids must be texts of 1 to {MAX_ID} characters")


def verify_revocations(blob: bytes, keys: Mapping[str, object], since: str | None = None
                       ) -> tuple[list[str], str]:
    """(ids, next_cursor) of a signed list; RevocationError unless it is signed by one of
    `keys` (a JWKS or {kid: key}, as verify_text takes) and, when `since` is given,
    answers that cursor (an older page replayed for a newer cursor is refused)."""
    try:
        msg = parse_sign1(blob, CONTENT_TYPE)
    except CoseError as exc:
        raise RevocationError(f"not a revocation list: {exc}") from None
    try:
        table = trusted_keys(keys)
    except KeysError as exc:
        raise RevocationError(f"keys: {exc}") from None
    key = table.get(msg.kid)
    if not isinstance(key, TrustedKey):
        raise RevocationError(f"unknown key id {msg.kid}")
    if not msg.signed_by(key.public_key):
        raise RevocationError(f"bad signature: not signed by key {msg.kid}")
    try:
        m = loads_exact(msg.payload, "the payload")
    except CoseError as exc:
        raise RevocationError(f"malformed list: {exc}") from None
    if not isinstance(m, Mapping) or set(m) != {VERSION, SINCE, NEXT_CURSOR, IDS} \
            or m[VERSION] != 1:
        raise RevocationError("malformed list: not {version 1, since, next_cursor, ids}")
    _check(m[IDS], m[SINCE], m[NEXT_CURSOR])
    if since is not None and m[SINCE] != since:
        raise RevocationError(f"the list answers cursor {m[SINCE]!r}, not {since!r}")
    return list(m[IDS]), m[NEXT_CURSOR]
