"""The VAPID application server key browsers need to subscribe (applicationServerKey)."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization


def public_key(private_key: str) -> str:
    """base64url (no padding) of the uncompressed public point of the VAPID key."""
    from py_vapid import Vapid02

    v = Vapid02.from_file(private_key) if private_key.endswith(".pem") else \
        Vapid02.from_string(private_key)
    raw = v.public_key.public_bytes(serialization.Encoding.X962,
                                    serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
