"""Columns on disk: one `.npy` file per numeric column, two per string column, one JSON meta.

Loading uses `mmap_mode="r"`, so the page cache holds one copy shared by every process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from transit.timetable.strings import StringColumn

Column = np.ndarray | StringColumn
META = "meta.json"


@dataclass
class Part:
    """One operator's compiled columns (built by `transit.ingest.compile.compile_part`; here
    so that reading the store, as every server does, imports no ingest library)."""

    operator: str
    columns: dict[str, Column]
    meta: dict[str, Any]


def save_columns(directory: Path, columns: dict[str, Column], meta: dict[str, Any]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, col in columns.items():
        if isinstance(col, StringColumn):
            np.save(directory / f"{name}.str.npy", col.data, allow_pickle=False)
            np.save(directory / f"{name}.off.npy", col.offsets, allow_pickle=False)
        else:
            np.save(directory / f"{name}.npy", np.ascontiguousarray(col), allow_pickle=False)
    (directory / META).write_text(json.dumps(meta, indent=1, sort_keys=True))


def _load(path: Path, mmap: bool) -> np.ndarray:
    """Memory-map a column (as a plain ndarray view, which numba accepts)."""
    try:
        return np.asarray(np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False))
    except ValueError:  # an empty array cannot be mapped; read-only like the mapped ones
        arr = np.load(path, allow_pickle=False)
        arr.setflags(write=False)
        return arr


def load_columns(directory: Path, mmap: bool = True) -> tuple[dict[str, Column], dict[str, Any]]:
    columns: dict[str, Column] = {}
    for path in directory.glob("*.npy"):
        name = path.name[: -len(".npy")]
        if name.endswith(".off"):
            continue
        if name.endswith(".str"):
            base = name[: -len(".str")]
            columns[base] = StringColumn(_load(path, mmap), _load(directory / f"{base}.off.npy",
                                                                    mmap))
        else:
            columns[name] = _load(path, mmap)
    meta = json.loads((directory / META).read_text())
    return columns, meta


