"""User token format: opaque, 256-bit random, stored only as SHA-256 (a fast hash is enough
for random secrets). `ua_` marks an access token and `ur_` a refresh token, so a token in
the wrong place is refused without a database read and never mistaken for an operator key
(`tk_`)."""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Literal

TokenKind = Literal["access", "refresh"]
PREFIX: dict[TokenKind, str] = {"access": "ua_", "refresh": "ur_"}
FORMAT = re.compile(r"^u[ar]_[A-Za-z0-9_-]{43}$")


def generate(kind: TokenKind) -> str:
    return PREFIX[kind] + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed(token: str, kind: TokenKind) -> bool:
    return bool(FORMAT.match(token)) and token.startswith(PREFIX[kind])


def new_id(prefix: str) -> str:
    """An opaque, unguessable id for URLs (`usr_...`, `fav_...`)."""
    return f"{prefix}_{secrets.token_urlsafe(15)}"
