"""Offline verification of a ticket's text: what an inspector's phone runs.

Standalone: imports only the standard library, cbor2, cryptography, base45 and its three
sibling modules (claims, cose, qrtext), by relative import, so an inspector app can copy
these four files into a package of its own. It needs the public keys
(`/.well-known/ticket-keys`, a JWKS) and, to refuse refunded tickets, the revocation list
(`/v1/tickets/revoked`, see revocation.py); it never calls the server.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .claims import ClaimsError, TicketClaims, from_map
from .cose import CoseError, loads_exact, parse_sign1
from .qrtext import TextError, decode


@dataclass(frozen=True, slots=True)
class TrustedKey:
    public_key: Ed25519PublicKey
    not_after: int | None = None  # None: the key still signs; else its last ticket's end


@dataclass(frozen=True, slots=True)
class Verification:
    valid: bool
    claims: TicketClaims | None  # None when the signature could not be checked
    reasons: list[str] = field(default_factory=list)  # empty when valid
    kid: str | None = None


class KeysError(ValueError):
    """A key set that cannot be used (says which key and why)."""


def _b64url(text: object, name: str) -> bytes:
    if not isinstance(text, str):
        raise KeysError(f"{name} is not a base64url text")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise KeysError(f"{name} is not base64url") from None


def key_from_jwk(jwk: Mapping[str, object]) -> tuple[str, TrustedKey]:
    """(kid, key) of one JWK: OKP, Ed25519, `x` base64url, optional `not_after`."""
    kid = jwk.get("kid")
    if not isinstance(kid, str) or not kid:
        raise KeysError("a key has no kid")
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise KeysError(f"key {kid} is not an OKP Ed25519 key")
    raw = _b64url(jwk.get("x"), f"key {kid}: x")
    if len(raw) != 32:
        raise KeysError(f"key {kid}: x is not 32 bytes")
    not_after = jwk.get("not_after")
    if not_after is not None and type(not_after) is not int:
        raise KeysError(f"key {kid}: not_after is not an integer")
    return kid, TrustedKey(Ed25519PublicKey.from_public_bytes(raw), not_after)


def trusted_keys(keys: Mapping[str, object]) -> dict[str, TrustedKey]:
    """A JWKS document ({"keys": [...]}) or a mapping of kid to a TrustedKey, an
    Ed25519PublicKey, its 32 raw bytes or a JWK, as {kid: TrustedKey}."""
    if "keys" in keys and isinstance(keys["keys"], list):  # keys of other kinds: not ours
        return dict(key_from_jwk(k) for k in keys["keys"] if isinstance(k, Mapping)
                    and (k.get("kty"), k.get("crv")) == ("OKP", "Ed25519"))
    out: dict[str, TrustedKey] = {}
    for kid, value in keys.items():
        if isinstance(value, TrustedKey):
            out[kid] = value
        elif isinstance(value, Ed25519PublicKey):
            out[kid] = TrustedKey(value)
        elif isinstance(value, bytes) and len(value) == 32:
            out[kid] = TrustedKey(Ed25519PublicKey.from_public_bytes(value))
        elif isinstance(value, Mapping):
            out[kid] = key_from_jwk({**value, "kid": kid})[1]
        else:
            raise KeysError(f"key {kid} is not an Ed25519 public key")
    return out


def _iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def _invalid(reason: str, kid: str | None = None) -> Verification:
    return Verification(False, None, [reason], kid)


def verify_text(text: str, keys: Mapping[str, object], now: int,
                revoked: set[str] | frozenset[str] = frozenset(),
                operator: str | None = None, zone: str | None = None) -> Verification:
    """Whether the ticket of a scanned text is valid at `now` (Unix seconds), on `operator`
    and in `zone` when given, with every reason it is not."""
    try:
        raw = decode(text)
    except TextError as exc:
        return _invalid(str(exc))
    return verify_cose(raw, keys, now, revoked, operator, zone)


def verify_cose(raw: bytes, keys: Mapping[str, object], now: int,
                revoked: set[str] | frozenset[str] = frozenset(),
                operator: str | None = None, zone: str | None = None) -> Verification:
    """verify_text of the COSE bytes."""
    try:
        msg = parse_sign1(raw)
    except CoseError as exc:
        return _invalid(f"not COSE_Sign1: {exc}")
    table = keys if all(isinstance(v, TrustedKey) for v in keys.values()) \
        else trusted_keys(keys)
    key = table.get(msg.kid)
    if not isinstance(key, TrustedKey):
        return _invalid(f"unknown key id {msg.kid}: not among the {len(table)} known keys",
                        msg.kid)
    if not msg.signed_by(key.public_key):
        return _invalid(f"bad signature: not signed by key {msg.kid}", msg.kid)
    try:
        claims = from_map(loads_exact(msg.payload, "the payload"))
    except (CoseError, ClaimsError) as exc:
        return _invalid(f"malformed claims: {exc}", msg.kid)
    reasons = _key_reasons(msg.kid, key, claims, now)
    reasons += check_claims(claims, now, revoked, operator, zone)
    return Verification(not reasons, claims, reasons, msg.kid)


def _key_reasons(kid: str, key: TrustedKey, claims: TicketClaims, now: int) -> list[str]:
    if key.not_after is None:
        return []
    if now > key.not_after:
        return [f"retired key {kid}: accepted until {_iso(key.not_after)}"]
    if claims.valid_until > key.not_after:
        return [f"retired key {kid}: it signs no ticket valid after {_iso(key.not_after)}"]
    return []


def check_claims(claims: TicketClaims, now: int, revoked: Iterable[str] = frozenset(),
                 operator: str | None = None, zone: str | None = None) -> list[str]:
    """The reasons authentic claims are not valid now, there, for this operator."""
    reasons = []
    if now < claims.valid_from:
        reasons.append(f"not yet valid: valid from {_iso(claims.valid_from)}")
    if now > claims.valid_until:
        reasons.append(f"expired: valid until {_iso(claims.valid_until)}")
    if operator is not None and operator not in claims.operators:
        reasons.append(f"wrong operator: valid on {', '.join(claims.operators)}, "
                       f"not {operator}")
    if zone is not None and claims.zones and zone not in claims.zones:
        reasons.append(f"wrong zone: valid in {', '.join(claims.zones)}, not {zone}")
    if claims.ticket_id in revoked:
        reasons.append(f"revoked: ticket {claims.ticket_id} was refunded or cancelled")
    return reasons
