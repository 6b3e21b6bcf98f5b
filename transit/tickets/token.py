"""Signing tickets: claims -> COSE_Sign1 (Ed25519) -> `TX1:` text for a QR code."""

from __future__ import annotations

import cbor2

from transit.tickets.claims import TicketClaims
from transit.tickets.cose import SigningKey, sign1
from transit.tickets.keyring import KeyRing
from transit.tickets.qrtext import encode


def payload(claims: TicketClaims) -> bytes:
    return cbor2.dumps(claims.to_map())


def sign(claims: TicketClaims, key: SigningKey) -> bytes:
    """The COSE_Sign1 bytes of `claims`, signed by `key` (its kid in the protected
    header)."""
    return sign1(payload(claims), key)


def text_of(cose: bytes) -> str:
    """The QR text of signed COSE bytes."""
    return encode(cose)


def issue_text(claims: TicketClaims, keyring: KeyRing) -> str:
    """The QR text of `claims`, signed with the key ring's active key, which records that
    it signed a ticket valid until claims.valid_until (so it verifies at least that long
    after a rotation). The issue instant is claims.issued_at."""
    cose = keyring.issue(lambda key: sign(claims, key), claims.valid_until, claims.issued_at)
    return encode(cose)
