"""Versions of the compiled timetable on disk, and the atomic switch between them.

    NET/parts/OP/STAMP/          one operator's compiled part
    NET/parts/OP/CURRENT         name of the part in use
    NET/timetables/VERSION/      one immutable merged timetable
    NET/timetables/CURRENT       name of the version being served

NET is DATA_DIR/networks/NETWORK: each network (a catalog, or a set of feeds given on the
command line) keeps its own versions, so servers of different networks can share a data
directory and each follows only its own. The default network lives at DATA_DIR itself
(where every version lived before networks). Downloads are shared: DATA_DIR/downloads.

Directories are written under a temporary name and renamed when complete, and a CURRENT
file is replaced with os.replace, so a reader sees the old version or the new one, never a
half-written one. Running servers poll CURRENT and swap their view (TimetableHolder).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from transit.timetable.storage import META, Column, Part, load_columns, save_columns
from transit.timetable.timetable import FormatError, Timetable

log = logging.getLogger("transit.timetable")

KEEP_VERSIONS = 3
DEFAULT_NETWORK = "default"
NETWORK_NAME = re.compile(r"^[A-Za-z0-9_+-]{1,200}$")


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f") + "-" + uuid.uuid4().hex[:6]


def _write_pointer(path: Path, value: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    tmp.write_text(value)
    os.replace(tmp, path)


def _read_pointer(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None


class Store:
    def __init__(self, data_dir: Path, network: str = DEFAULT_NETWORK) -> None:
        if not NETWORK_NAME.match(network):
            raise ValueError(f"network name {network!r}: letters, digits, '_', '-', '+' only")
        self.root = data_dir
        self.network = network
        home = data_dir if network == DEFAULT_NETWORK else data_dir / "networks" / network
        self.parts_dir = home / "parts"
        self.versions_dir = home / "timetables"
        self.downloads_dir = data_dir / "downloads"

    # -- parts
    def write_part(self, part: Part) -> str:
        """Write a part under a new name (not yet current); return that name."""
        op_dir = self.parts_dir / part.operator
        name = _stamp()
        tmp = op_dir / f".tmp-{name}"
        save_columns(tmp, part.columns, part.meta)
        os.replace(tmp, op_dir / name)
        return name

    def current_part_name(self, operator: str) -> str | None:
        return _read_pointer(self.parts_dir / operator / "CURRENT")

    def load_part(self, operator: str, name: str) -> Part:
        columns, meta = load_columns(self.parts_dir / operator / name, mmap=False)
        return Part(operator, columns, meta)

    def set_current_part(self, operator: str, name: str, keep: int = KEEP_VERSIONS) -> None:
        """Make a written part current; keep the newest `keep` parts (old ones for rollback,
        staged ones not yet published) and drop older ones."""
        _write_pointer(self.parts_dir / operator / "CURRENT", name)
        self._prune(self.parts_dir / operator, keep={name}, count=keep)

    def has_part(self, operator: str, name: str) -> bool:
        return (self.parts_dir / operator / name / "meta.json").is_file()

    def operators_with_parts(self) -> list[str]:
        """Operators that have a current part, i.e. that a merged version can include."""
        if not self.parts_dir.is_dir():
            return []
        return sorted(p.name for p in self.parts_dir.iterdir()
                      if (p / "CURRENT").is_file())

    @contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """An exclusive lock `name` shared by the threads and processes using this data
        directory (building one operator's preview once; publishing has its own lock,
        transit.ingest.publish_lock)."""
        locks = self.root / "locks"
        locks.mkdir(parents=True, exist_ok=True)
        with (locks / f"{name}.lock").open("a") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    # -- merged versions
    def write_version(self, columns: dict[str, Column], meta: dict) -> str:
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        name = _stamp()
        tmp = self.versions_dir / f".tmp-{name}"
        save_columns(tmp, columns, {**meta, "version": name})
        os.replace(tmp, self.versions_dir / name)
        return name

    def adopt_version(self, directory: Path) -> str:
        """Take a complete version directory built elsewhere under the data directory (a
        preview) as a new version, by renaming it: no copy, no second merge."""
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        name = _stamp()
        meta_path = directory / META
        meta = json.loads(meta_path.read_text())
        meta.pop("preview", None)
        tmp_meta = directory / f".{META}.{uuid.uuid4().hex}"
        tmp_meta.write_text(json.dumps({**meta, "version": name}, indent=1, sort_keys=True))
        os.replace(tmp_meta, meta_path)
        os.replace(directory, self.versions_dir / name)
        return name

    def publish(self, version: str) -> None:
        _write_pointer(self.versions_dir / "CURRENT", version)
        self._prune(self.versions_dir, keep={version})

    def current_version(self) -> str | None:
        return _read_pointer(self.versions_dir / "CURRENT")

    def load_current(self) -> Timetable | None:
        version = self.current_version()
        if version is None:
            return None
        return Timetable.load(self.versions_dir / version)

    def current_is_readable(self) -> bool:
        """Whether a version is published and this release can read it."""
        try:
            return self.load_current() is not None
        except FormatError:
            return False

    def _prune(self, directory: Path, keep: set[str], count: int = KEEP_VERSIONS) -> None:
        """Drop old versions beyond the newest `count` (running readers keep their mmaps)."""
        entries = sorted(p for p in directory.iterdir() if p.is_dir())
        stale_tmp = [p for p in entries if p.name.startswith(".tmp-")
                     and time.time() - p.stat().st_mtime > 3600]
        versions = [p for p in entries if not p.name.startswith(".")]
        old = [p for p in versions[:-count] if p.name not in keep]
        for p in old + stale_tmp:
            shutil.rmtree(p, ignore_errors=True)


_kept: dict[Path, Timetable] = {}


def keep_for_workers(tt: Timetable, directory: Path) -> None:
    """Hand a loaded, prepared version to the worker processes forked after this call
    (`transit.serving`): a worker serving that version takes this object, whose lookups and
    compiled code it then shares with its siblings, instead of loading its own."""
    _kept[directory.resolve()] = tt


def _load(directory: Path) -> Timetable:
    # taken out, not looked up: once the holder moves to a newer version nothing here pins
    # the old one (a worker forked later gets the parent's dict, entry included)
    kept = _kept.pop(directory.resolve(), None)
    return kept if kept is not None else Timetable.load(directory)


class TimetableHolder:
    """What a server process serves: the current version, swapped when a new one appears.

    A request takes `holder.get()` once and uses that object throughout, so it sees one
    consistent version even if a swap happens meanwhile.
    """

    def __init__(self, store: Store, poll_interval_s: float = 2.0,
                 on_load: object = None) -> None:
        self.store = store
        self.poll_interval_s = poll_interval_s
        self._on_load = on_load
        self._lock = threading.Lock()
        self._current: Timetable | None = None
        self._refused: str | None = None
        self._checked = 0.0
        self.reload()

    def reload(self) -> bool:
        version = self.store.current_version()
        if version is None or (self._current is not None and self._current.version == version):
            return False
        try:
            tt = _load(self.store.versions_dir / version)
        except FormatError as exc:
            if self._refused != version:
                log.error("%s", exc)
                self._refused = version
            return False
        if callable(self._on_load):
            self._on_load(tt)
        self._current = tt
        return True

    def get(self) -> Timetable | None:
        now = time.monotonic()
        if now - self._checked >= self.poll_interval_s and self._lock.acquire(blocking=False):
            try:
                self._checked = now
                self.reload()
            finally:
                self._lock.release()
        return self._current
