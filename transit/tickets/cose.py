"""COSE_Sign1 (RFC 9052) with Ed25519, as tickets and revocation lists use it.

Standalone (stdlib, cbor2, cryptography): the offline verifier embeds this module.

A message is the tagged array `18([protected, {}, payload, signature])`. The protected
header holds the algorithm (1: EdDSA, -8), an optional content type (3) and the key id
(4, the kid's ASCII bytes); the unprotected header is empty. The signature covers
`["Signature1", protected, h'', payload]`.

Parsing is strict: a message must be exactly the shortest encoding of what it decodes to
(no trailing bytes, no indefinite lengths, no longer-than-needed integers), and its headers
exactly the ones above. So a changed byte anywhere either breaks the structure or the
signature; nothing is malleable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

TAG_SIGN1 = 18
HDR_ALG, HDR_CONTENT_TYPE, HDR_KID = 1, 3, 4
ALG_EDDSA = -8
MAX_KID = 64


class CoseError(ValueError):
    """Not a COSE_Sign1 message this service writes (says what is wrong)."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey


@dataclass(frozen=True, slots=True)
class Sign1:
    protected: bytes
    kid: str
    content_type: str | None
    payload: bytes
    signature: bytes

    def signed_by(self, public_key: Ed25519PublicKey) -> bool:
        try:
            public_key.verify(self.signature, sig_structure(self.protected, self.payload))
        except InvalidSignature:
            return False
        return True


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    return cbor2.dumps(["Signature1", protected, b"", payload])


def sign1(payload: bytes, key: SigningKey, content_type: str | None = None) -> bytes:
    header: dict[int, Any] = {HDR_ALG: ALG_EDDSA}
    if content_type is not None:
        header[HDR_CONTENT_TYPE] = content_type
    header[HDR_KID] = key.kid.encode("ascii")
    protected = cbor2.dumps(header)
    signature = key.private_key.sign(sig_structure(protected, payload))
    return cbor2.dumps(cbor2.CBORTag(TAG_SIGN1, [protected, {}, payload, signature]))


def loads_exact(raw: bytes, what: str) -> object:
    """Decode CBOR that must be exactly the shortest encoding of its value."""
    try:
        value = cbor2.loads(raw)
        exact = cbor2.dumps(value) == raw
    except Exception as exc:  # cbor2 raises several types on hostile input
        raise CoseError(f"{what} is not CBOR ({exc})") from None
    if not exact:
        raise CoseError(f"{what} is not in its shortest CBOR encoding, or has trailing bytes")
    return value


def parse_sign1(raw: bytes, content_type: str | None = None) -> Sign1:
    """The parts of a message; CoseError unless it is a COSE_Sign1 of the expected
    `content_type` (None: a message without one, as tickets are)."""
    obj = loads_exact(raw, "the message")
    if not isinstance(obj, cbor2.CBORTag) or obj.tag != TAG_SIGN1:
        raise CoseError("the message is not tagged COSE_Sign1 (18)")
    parts = obj.value
    if not (isinstance(parts, list | tuple) and len(parts) == 4 and isinstance(parts[0], bytes)
            and isinstance(parts[2], bytes) and isinstance(parts[3], bytes)):
        raise CoseError("the message is not [protected, unprotected, payload, signature]")
    protected, unprotected, payload, signature = parts
    if not isinstance(unprotected, Mapping) or unprotected:
        raise CoseError("the unprotected header is not empty")
    if len(signature) != 64:
        raise CoseError("the signature is not 64 bytes (Ed25519)")
    header = loads_exact(protected, "the protected header")
    expected = {HDR_ALG, HDR_KID} | ({HDR_CONTENT_TYPE} if content_type is not None else set())
    if not isinstance(header, dict) or set(header) != expected:
        raise CoseError("the protected header is not {alg, kid}" if content_type is None
                        else "the protected header is not {alg, content type, kid}")
    if header[HDR_ALG] != ALG_EDDSA:
        raise CoseError(f"algorithm {header[HDR_ALG]!r} is not EdDSA (-8)")
    if content_type is not None and header[HDR_CONTENT_TYPE] != content_type:
        raise CoseError(f"content type is not {content_type}")
    kid = header[HDR_KID]
    if not isinstance(kid, bytes) or not 0 < len(kid) <= MAX_KID or not kid.isascii():
        raise CoseError("the key id is not 1 to 64 ASCII bytes")
    return Sign1(protected, kid.decode("ascii"), content_type, payload, signature)
