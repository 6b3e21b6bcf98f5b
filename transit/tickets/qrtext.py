"""The text form of a token, for QR alphanumeric mode: `TX1:` + base45 (RFC 9285) of the
zlib-compressed COSE bytes, as the EU digital COVID certificates were (`HC1:`).

Standalone (stdlib, base45): the offline verifier embeds this module.
"""

from __future__ import annotations

import sys
import zlib
from array import array

import base45

PREFIX = "TX1:"
MAX_TEXT = 4296  # the most alphanumeric characters a QR code holds (version 40, level L)
MAX_COSE = 8192  # a ticket decompresses to a few hundred bytes; more is a zip bomb
_CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_ALPHABET = frozenset(_CHARSET)
_VALUES = bytes.maketrans(_CHARSET.encode("ascii"), bytes(range(45)))


class TextError(ValueError):
    """The text is not a token's text form (says which layer is wrong)."""


def encode(cose: bytes) -> str:
    return PREFIX + base45.b45encode(zlib.compress(cose, 9)).decode("ascii")


def decode(text: str) -> bytes:
    """The COSE bytes of a token's text; TextError naming the layer that is wrong."""
    if not isinstance(text, str) or not text.startswith(PREFIX):
        raise TextError(f"bad prefix: the text does not start with {PREFIX}")
    if len(text) > MAX_TEXT:
        raise TextError(f"too long: {len(text)} characters, a QR code holds {MAX_TEXT}")
    body = text[len(PREFIX):]
    if not _ALPHABET.issuperset(body):
        raise TextError("bad base45: a character outside the base45 alphabet")
    compressed = b45decode(body)
    if compressed is None:
        raise TextError("bad base45: not a valid base45 string")
    return inflate(compressed)


def b45decode(body: str) -> bytes | None:
    """RFC 9285 decoding of a text of base45 characters (checked by the caller); None when
    it is not valid base45 (a length of 3n + 1, a triple above 65535, a pair above 255).
    The same as base45.b45decode, several times faster: the triples are summed by a list
    comprehension and packed by an array of unsigned shorts, which refuses what is too big."""
    v = body.encode("ascii").translate(_VALUES)
    full = len(v) - len(v) % 3
    if len(v) - full == 1:
        return None
    try:
        out = array("H", [a + b * 45 + c * 2025
                          for a, b, c in zip(v[0:full:3], v[1:full:3], v[2:full:3],
                                             strict=True)])
    except OverflowError:
        return None
    if sys.byteorder == "little":
        out.byteswap()  # big-endian: the first byte is the high one
    if len(v) == full:
        return out.tobytes()
    last = v[full] + v[full + 1] * 45
    return out.tobytes() + bytes([last]) if last <= 0xFF else None


def _inflate_once(data: bytes) -> bytes | None:
    d = zlib.decompressobj()
    try:
        out = d.decompress(data, MAX_COSE)
    except zlib.error:
        return None
    return out if d.eof and not d.unconsumed_tail and not d.unused_data else None


def inflate(data: bytes) -> bytes:
    """zlib data that must end exactly with its stream, with zero padding bits (what every
    deflate writes): one changed bit anywhere changes the output or fails."""
    out = _inflate_once(data)
    if out is None:
        raise TextError("not zlib: the data is not one complete zlib stream "
                        f"of at most {MAX_COSE} bytes")
    # The bits after the last block's end code are padding that inflate never reads: a
    # flip there would give the same ticket from a different text. Deflate packs bits from
    # the lowest, so padding is the top bits of the last deflate byte (before the 4-byte
    # Adler-32): flip each from the top while the output stays the same; each such bit
    # must be zero.
    last = len(data) - 5
    for bit in range(7, -1, -1):
        flipped = bytearray(data)
        flipped[last] ^= 1 << bit
        if _inflate_once(bytes(flipped)) != out:
            break  # a bit inflate reads: so are all below it
        if data[last] & (1 << bit):
            raise TextError("not zlib: padding bits after the end of the stream are set")
    return out
