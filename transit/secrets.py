"""The server's secret, and keys derived from it for each purpose.

`TRANSIT_SECRET_KEY` names it (the same on every process and host); unset, a random one is
created once in `DATA_DIR/secret.key` (readable by its owner only), which serves a single
host."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

from transit.settings import Settings

SECRET_FILE = "secret.key"


def _file_secret(data_dir: Path) -> bytes:
    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:  # O_EXCL: of several processes starting at once, one writes it
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    text = ""
    for _ in range(50):  # the writer may still be writing
        text = path.read_text().strip()
        if len(text) == 64:
            break
        time.sleep(0.01)
    if len(text) < 32:
        raise RuntimeError(f"{path} holds no secret; delete it or set TRANSIT_SECRET_KEY")
    return text.encode()


def server_secret(settings: Settings) -> bytes:
    if settings.secret_key:
        return settings.secret_key.encode()
    return _file_secret(settings.data_dir)


def derived_key(secret: bytes, purpose: str) -> bytes:
    """A key for one purpose: a leak of one never forges another's signatures."""
    return hmac.new(secret, purpose.encode(), hashlib.sha256).digest()
