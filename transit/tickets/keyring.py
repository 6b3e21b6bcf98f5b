"""The ticket signing keys: secrets in a directory (TRANSIT_TICKET_KEYS_DIR, default
DATA_DIR/ticket-keys), never in the database.

    keyring.json   which key is active; per key its public half, when it was made and
                   rotated out, and the latest valid_until it signed (0600)
    KID.pem        each key's private half, PKCS#8 (0600); deleted when the key retires
    .lock          flock: every process that signs, rotates or creates takes it

One key is active and signs. `rotate()` makes a new active key; the old one stops signing
(at once in the rotating process, within the hour in the others: see below) and keeps
verifying until the last ticket it signed expires (`not_after`, published with it); after
that it is retired: dropped from the JWKS and its private half deleted.

Signing is bound per clock hour: the first ticket of an hour takes the lock, reads which
key is active and records how long its tickets may be valid, rounded up to the next full
hour (a reservation); every later ticket of that hour valid no longer than the reservation
is signed from memory, without the lock or a file read or write. A ticket valid longer
takes the lock again (and extends the reservation). So a process signs with the key that
was active when it bound, until the hour ends or a ticket needs a longer reservation, and
every ticket it signed is still covered by the key's recorded validity: a rotated key
verifies at most until the end of the hour of its last ticket's validity.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from transit.tickets.cose import SigningKey
from transit.tickets.verify import TrustedKey, trusted_keys

STATE = "keyring.json"
BIND_S = 3600  # a process binds the active key for the clock hour it signs in


def _ceil_hour(t: int) -> int:
    return -(-t // BIND_S) * BIND_S


@dataclass(frozen=True, slots=True)
class _Binding:
    """The active key as bound for [start, until): tickets valid to `covered` need no
    lock (None: nothing recorded yet, only revocation lists)."""

    key: SigningKey
    start: int
    until: int
    covered: int | None


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def kid_of(public_raw: bytes) -> str:
    """8 characters: base64url of the first 6 bytes of the public key's SHA-256."""
    return b64url(hashlib.sha256(public_raw).digest()[:6])


@dataclass(frozen=True, slots=True)
class KeyInfo:
    kid: str
    x: str  # base64url of the raw public key
    created_at: int
    rotated_at: int | None  # None: the active key
    last_valid_until: int | None  # latest valid_until it signed
    status: str  # active, verifying, retired

    @property
    def not_after(self) -> int | None:
        """Until when verifiers accept it: None while it signs."""
        if self.rotated_at is None:
            return None
        return max(self.rotated_at, self.last_valid_until or 0)

    def jwk(self) -> dict[str, Any]:
        return {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
                "kid": self.kid, "x": self.x, "not_after": self.not_after}


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


class KeyRing:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._private: dict[str, Ed25519PrivateKey] = {}
        self._binding: _Binding | None = None
        self._bind_lock = threading.Lock()  # one thread binds; the others wait for it

    # -- files ---------------------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        """The state, read under the directory's lock (held until the block ends)."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield self._read()
        finally:
            os.close(fd)  # releases the lock

    def _read(self) -> dict[str, Any]:
        try:
            return json.loads((self.directory / STATE).read_text())
        except FileNotFoundError:
            return {"active": None, "keys": {}}

    def _write(self, state: dict[str, Any]) -> None:
        """Atomically: a reader sees the old state or the new one, never half of one."""
        tmp = self.directory / f".{STATE}.{os.getpid()}.tmp"
        tmp.unlink(missing_ok=True)
        _write_private(tmp, json.dumps(state, indent=1, sort_keys=True).encode())
        os.replace(tmp, self.directory / STATE)

    def _load_private(self, kid: str) -> Ed25519PrivateKey:
        key = self._private.get(kid)
        if key is None:
            pem = (self.directory / f"{kid}.pem").read_bytes()
            loaded = serialization.load_pem_private_key(pem, password=None)
            if not isinstance(loaded, Ed25519PrivateKey):
                raise ValueError(f"ticket key {kid} is not an Ed25519 key")
            key = self._private[kid] = loaded
        return key

    def _create(self, state: dict[str, Any], now: int) -> str:
        while True:  # a kid clash (2^-48) would only cost another key
            private = Ed25519PrivateKey.generate()
            raw = private.public_key().public_bytes(serialization.Encoding.Raw,
                                                    serialization.PublicFormat.Raw)
            kid = kid_of(raw)
            if kid not in state["keys"]:
                break
        pem = private.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        _write_private(self.directory / f"{kid}.pem", pem)
        state["keys"][kid] = {"x": b64url(raw), "created_at": now, "rotated_at": None,
                              "last_valid_until": None, "retired": False}
        state["active"] = kid
        self._private[kid] = private
        return kid

    # -- signing -------------------------------------------------------------------------
    def issue(self, sign: Callable[[SigningKey], bytes], valid_until: int | None,
              now: int) -> bytes:
        """`sign` with the active key (made at `now` if there is none), recording that this
        key has signed something valid until `valid_until` (None: nothing to record, as
        for a revocation list). Within the hour of `now` bound already and a reservation
        that covers `valid_until`, from memory (see the module's doc)."""
        b = self._binding
        if b is not None and b.start <= now < b.until and (
                valid_until is None or (b.covered is not None and valid_until <= b.covered)):
            return sign(b.key)
        with self._bind_lock:
            return sign(self._bind(valid_until, now))

    def _bind(self, valid_until: int | None, now: int) -> SigningKey:
        """Under the lock: the active key, its reservation extended to `valid_until`
        (rounded up to the hour), bound for the hour of `now`."""
        with self._locked() as state:
            kid = state["active"]
            changed = kid is None
            if kid is None:
                kid = self._create(state, now)
            key = SigningKey(kid, self._load_private(kid))
            meta = state["keys"][kid]
            if valid_until is not None and (meta["last_valid_until"] is None
                                            or valid_until > meta["last_valid_until"]):
                meta["last_valid_until"] = _ceil_hour(valid_until)
                changed = True
            if changed:
                self._write(state)
            start = now - now % BIND_S
            self._binding = _Binding(key, start, start + BIND_S, meta["last_valid_until"])
            return key

    def rotate(self, now: int) -> str:
        """Make a new active key; the old one only verifies from now on. Returns the kid."""
        with self._locked() as state:
            self._binding = None  # this process signs with the new key from now on
            old = state["active"]
            if old is not None:
                state["keys"][old]["rotated_at"] = now
            kid = self._create(state, now)
            self._retire(state, now)
            self._write(state)
            return kid

    def _retire(self, state: dict[str, Any], now: int) -> bool:
        """Mark the keys whose last ticket has expired retired, deleting their private
        half; whether any was."""
        changed = False
        for kid, meta in state["keys"].items():
            info = _info(kid, meta, state["active"], now)
            if info.status == "retired" and not meta["retired"]:
                meta["retired"] = True
                (self.directory / f"{kid}.pem").unlink(missing_ok=True)
                self._private.pop(kid, None)
                if self._binding is not None and self._binding.key.kid == kid:
                    self._binding = None
                changed = True
        return changed

    # -- publishing ----------------------------------------------------------------------
    def keys(self, now: int) -> list[KeyInfo]:
        """Every key, the active one first, then the most recently rotated, with its status
        at `now`."""
        with self._locked() as state:
            infos = [_info(k, m, state["active"], now) for k, m in state["keys"].items()]
        return sorted(infos, key=lambda i: (i.rotated_at is None, i.rotated_at or 0,
                                            i.created_at), reverse=True)

    def jwks(self, now: int) -> dict[str, Any]:
        """The keys verifiers accept at `now` (the active one made if there is none)."""
        with self._locked() as state:
            changed = state["active"] is None
            if changed:
                self._create(state, now)
            if self._retire(state, now) or changed:
                self._write(state)
        return {"keys": [k.jwk() for k in self.keys(now) if k.status != "retired"]}

    def verification_keys(self, now: int) -> dict[str, TrustedKey]:
        """The JWKS at `now` as verify_text takes it (for a server-side inspection)."""
        return trusted_keys(self.jwks(now))


def _info(kid: str, meta: dict[str, Any], active: str | None, now: int) -> KeyInfo:
    info = KeyInfo(kid, meta["x"], meta["created_at"], meta["rotated_at"],
                   meta["last_valid_until"], "active" if kid == active else "verifying")
    not_after = info.not_after
    if meta["retired"] or (not_after is not None and now > not_after):
        return KeyInfo(kid, meta["x"], meta["created_at"], meta["rotated_at"],
                       meta["last_valid_until"], "retired")
    return info


def keyring_for(data_dir: Path, keys_dir: Path | None = None) -> KeyRing:
    """The service's key ring: TRANSIT_TICKET_KEYS_DIR, else DATA_DIR/ticket-keys."""
    return KeyRing(keys_dir if keys_dir is not None else Path(data_dir) / "ticket-keys")
