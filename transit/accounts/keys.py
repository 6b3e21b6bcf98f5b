"""Key format and hashing. A key reads `tk_<prefix>_<secret>`: the prefix is public (it
finds the stored row and names the key in lists and the audit log), the secret is shown once
and only its SHA-256 (of the whole key) is stored. Keys are 256-bit random, so a fast hash
is enough; comparison is constant-time."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

SCHEME = "tk"
KEY_FORMAT = re.compile(r"^tk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class NewKey:
    token: str  # the whole key: shown once, never stored
    prefix: str  # tk_<12 hex>: public
    secret_hash: str


def hash_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def generate() -> NewKey:
    prefix = f"{SCHEME}_{secrets.token_hex(6)}"
    token = f"{prefix}_{secrets.token_urlsafe(32)}"
    return NewKey(token=token, prefix=prefix, secret_hash=hash_key(token))


def prefix_of(token: str) -> str | None:
    """The public prefix of a well-formed key; None for anything else."""
    match = KEY_FORMAT.match(token)
    return f"{SCHEME}_{match.group(1)}" if match else None


def matches(token: str, secret_hash: str) -> bool:
    return hmac.compare_digest(hash_key(token), secret_hash)


def new_key_id() -> str:
    """The id of a key in URLs: opaque and unguessable, distinct from its prefix."""
    return f"key_{secrets.token_urlsafe(15)}"
