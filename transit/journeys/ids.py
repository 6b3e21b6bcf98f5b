"""Journey ids: a compact signed reference to a journey's transit legs.

An id names each leg's trip, service date, boarding and alighting stops and times, so that
an offer can name a journey without the server storing it. The legs are encoded compactly
(JSON arrays, zlib), followed by 16 bytes of HMAC-SHA256 with a key derived from the
server's secret, all base64url. A changed byte, a truncated id or an id signed with
another secret does not decode."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import zlib
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

PREFIX = "j1"
MAC_BYTES = 16
MAX_ID_CHARS = 4096
MAX_PAYLOAD = 16 * 1024
MAX_LEGS = 16


class JourneyIdError(ValueError):
    """The id does not name a journey this server answered."""


@dataclass(frozen=True)
class LegRef:
    trip_id: str
    service_date: date
    from_stop: str
    to_stop: str
    departure: int  # Unix seconds
    arrival: int


@dataclass(frozen=True)
class JourneyRef:
    legs: tuple[LegRef, ...]  # transit legs only (walks are not sold)
    departure: int  # of the whole journey, walks included
    arrival: int

    @property
    def first_departure(self) -> int:
        return self.legs[0].departure if self.legs else self.departure

    @property
    def last_arrival(self) -> int:
        return self.legs[-1].arrival if self.legs else self.arrival


def _mac(key: bytes, blob: bytes) -> bytes:
    mac = _keyed(key).copy()  # the key's pads and the prefix digested once per key
    mac.update(blob)
    return mac.digest()[:MAC_BYTES]


@lru_cache(maxsize=8)
def _keyed(key: bytes) -> hmac.HMAC:
    """HMAC-SHA256 with `key`, the ids' prefix digested: copied for each id (never updated
    itself)."""
    return hmac.new(key, b"journey-id/1\0", hashlib.sha256)


def encode(ref: JourneyRef, key: bytes) -> str:
    legs = [[leg.trip_id, _day(leg.service_date), leg.from_stop, leg.to_stop,
             leg.departure, leg.arrival - leg.departure] for leg in ref.legs]
    text = json.dumps([ref.departure, ref.arrival - ref.departure, legs],
                      separators=(",", ":"), ensure_ascii=False)
    blob = zlib.compress(text.encode(), 9)
    raw = blob + _mac(key, blob)
    return PREFIX + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@lru_cache(maxsize=1024)
def _day(day: date) -> str:
    return day.strftime("%Y%m%d")


def _unpack(text: str, key: bytes) -> bytes:
    if not isinstance(text, str) or not text.startswith(PREFIX):
        raise JourneyIdError("not a journey id (they start with 'j1'; take one from "
                             "GET /v1/journeys)")
    if len(text) > MAX_ID_CHARS:
        raise JourneyIdError(f"longer than {MAX_ID_CHARS} characters")
    body = text[len(PREFIX):]
    try:
        raw = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_",
                               validate=True)
    except (binascii.Error, ValueError):
        raise JourneyIdError("not base64url") from None
    blob, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
    if len(raw) <= MAC_BYTES or not hmac.compare_digest(mac, _mac(key, blob)):
        raise JourneyIdError("the signature does not match: the id was changed, cut short "
                             "or made by another server")
    return blob


def _inflate(blob: bytes) -> object:
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(blob, MAX_PAYLOAD)
        if inflater.unconsumed_tail:
            raise JourneyIdError("too large")
        return json.loads(data)
    except (zlib.error, ValueError, UnicodeDecodeError):
        raise JourneyIdError("signed but not readable (made by another version?)") from None


def _leg(item: object) -> LegRef:
    if not (isinstance(item, list) and len(item) == 6):
        raise ValueError("leg")
    trip, day, a, b, dep, dur = item
    if not all(isinstance(x, str) for x in (trip, day, a, b)) or \
            not all(isinstance(x, int) and not isinstance(x, bool) for x in (dep, dur)):
        raise ValueError("leg")
    return LegRef(trip, datetime.strptime(day, "%Y%m%d").date(), a, b, dep, dep + dur)


def decode(text: str, key: bytes) -> JourneyRef:
    """The journey an id names; JourneyIdError saying why when it names none."""
    data = _inflate(_unpack(text, key))
    try:
        if not (isinstance(data, list) and len(data) == 3 and isinstance(data[2], list)):
            raise ValueError("shape")
        dep, dur, legs = data
        if not (isinstance(dep, int) and isinstance(dur, int)) or len(legs) > MAX_LEGS:
            raise ValueError("shape")
        return JourneyRef(tuple(_leg(x) for x in legs), dep, dep + dur)
    except ValueError:
        raise JourneyIdError("signed but not readable (made by another version?)") from None
