"""Hostile zips for the archive tests, written by hand so they cost seconds, not minutes.

A member of N identical chunks is deflated once per chunk with a full flush (which resets
the compressor's history), so every chunk compresses to the same bytes and the member's
stream is those bytes repeated: a 4 GiB member is written without compressing 4 GiB.
Sizes stay below 4 GiB (no ZIP64), and a member's header may be told to lie about its size.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

MiB = 1024 * 1024


@dataclass(frozen=True)
class Member:
    name: str
    chunk: bytes = b""  # the member's content is `chunk` repeated `repeat` times
    repeat: int = 1
    declared_size: int | None = None  # header size when it should lie
    mode: int | None = None  # unix mode bits for external_attr (symlinks)

    @property
    def size(self) -> int:
        return len(self.chunk) * self.repeat


def _deflated(m: Member) -> tuple[bytes, int]:
    """(raw deflate stream, crc32) of the member's content."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = comp.compress(m.chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    tail = comp.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(m.repeat):
        crc = zlib.crc32(m.chunk, crc)
    return piece * m.repeat + tail, crc


def write_zip(path: Path, members: list[Member]) -> Path:
    """A zip of deflated members (sizes below 4 GiB, as declared_size says if given)."""
    central = b""
    with path.open("wb") as fh:
        for m in members:
            data, crc = _deflated(m)
            size = m.size if m.declared_size is None else m.declared_size
            name = m.name.encode()
            offset = fh.tell()
            fh.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data),
                                 size, len(name), 0) + name)
            fh.write(data)
            attr = (m.mode or 0o100644) << 16
            central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x0314, 20, 0, 8, 0, 0,
                                   crc, len(data), size, len(name), 0, 0, 0, 0, attr,
                                   offset) + name
        start = fh.tell()
        fh.write(central)
        fh.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members),
                             len(central), start, 0))
    return path


def feed_members(files: dict[str, str]) -> list[Member]:
    return [Member(name, text.encode()) for name, text in files.items()]
