"""A column of strings as two flat arrays (UTF-8 bytes and offsets), so it can be memory-mapped
and shared by every worker process like the numeric columns."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np


class StringColumn:
    __slots__ = ("data", "offsets")

    def __init__(self, data: np.ndarray, offsets: np.ndarray) -> None:
        self.data = data
        self.offsets = offsets

    @classmethod
    def from_list(cls, values: Iterable[str]) -> StringColumn:
        encoded = [("" if v is None else str(v)).encode() for v in values]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        if encoded:
            np.cumsum([len(b) for b in encoded], out=offsets[1:])
        data = np.frombuffer(b"".join(encoded), dtype=np.uint8).copy()
        return cls(data, offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> str:
        lo, hi = self.offsets[i], self.offsets[i + 1]
        return self.data[lo:hi].tobytes().decode()

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_list())

    def to_list(self) -> list[str]:
        blob = self.data.tobytes()
        off = self.offsets.tolist()
        return [blob[off[i] : off[i + 1]].decode() for i in range(len(off) - 1)]

    @staticmethod
    def concat(columns: list[StringColumn]) -> StringColumn:
        if not columns:
            return StringColumn.from_list([])
        data = np.concatenate([c.data for c in columns])
        parts, base = [np.zeros(1, dtype=np.int64)], 0
        for c in columns:
            parts.append(np.asarray(c.offsets[1:]) + base)
            base += int(c.offsets[-1])
        return StringColumn(data, np.concatenate(parts))
