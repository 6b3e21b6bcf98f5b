"""Ingest: read and validate each operator's feed, compile its part, merge, publish.

Re-ingesting some operators reads only their feeds; the others' parts are taken from disk.
If any requested feed is bad, nothing is written and the version being served stays.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from transit.catalog import Catalog, Operator
from transit.errors import CatalogError
from transit.ingest.compile import PART_FORMAT, compile_part, part_is_current
from transit.ingest.compile_fares import compile_fares, merge_fares
from transit.ingest.fetch import materialize
from transit.ingest.limits import IngestLimits
from transit.ingest.merge import merge_parts
from transit.ingest.publish_lock import publish_lock
from transit.ingest.reader import read_gtfs, source_digest
from transit.ingest.validate import validate
from transit.timetable.storage import Column, Part
from transit.timetable.store import Store


@dataclass
class IngestReport:
    version: str
    operators_read: list[str]
    operators_reused: list[str]
    counts: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)
    warnings: dict[str, list[str]] = field(default_factory=dict)  # of the feeds read


def compile_operator(op: Operator, path: Path, limits: IngestLimits | None = None,
                     per_code: int | None = None, scratch: Path | None = None) -> Part:
    """Read, validate and compile one operator's feed; FeedError when it is not usable.

    `per_code`: how many problems of each kind to list in the error (see validate);
    `scratch`: where a zip is extracted (a temporary folder in it, removed after). The
    warnings are kept in the part's meta: as text (`warnings`) and as records (`notices`).
    """
    limits = limits or IngestLimits()
    feed = read_gtfs(op.id, path, limits.archive, scratch)
    stop_times = validate(feed, per_code)
    fare_columns, fare_meta = compile_fares(feed)
    part = compile_part(feed, stop_times, {"name": op.name, "licence": op.licence,
                                           "fares": fare_meta}, limits.horizon)
    part.columns.update(fare_columns)
    part.meta["notices"] = [asdict(w) for w in feed.warnings]
    return part


def merge_network(catalog: Catalog, operators: list[Operator], parts: dict[str, Part]
                  ) -> tuple[dict[str, Column], dict[str, Any]]:
    """Merge the parts of `operators` (in that order) with the catalog's station and footpath
    rules: the one place that says what a merged version's meta holds of each operator."""
    columns, meta = merge_parts(
        [parts[o.id] for o in operators], catalog.stations, catalog.footpaths,
        [{**o.public(), "counts": parts[o.id].meta["counts"],
          "feed_lang": parts[o.id].meta.get("feed_lang", ""),
          "languages": parts[o.id].meta.get("languages", []),
          "digest": parts[o.id].meta["digest"],
          "fares": parts[o.id].meta.get("fares", {"kind": "none", "priority": False}),
          "warnings": parts[o.id].meta.get("warnings", [])} for o in operators])
    columns.update(merge_fares([parts[o.id].columns for o in operators]))
    return columns, meta


def ingest(
    catalog: Catalog, store: Store, only: list[str] | None = None, progress: bool = False,
    log: Callable[[str], None] | None = None, limits: IngestLimits | None = None,
    lock: AbstractContextManager[None] | None = None,
) -> IngestReport:
    """Build and publish a new version.

    `only`: operators to re-read; the others' parts are reused as they are. Without it, an
    operator is re-read when it has no part yet or its feed's content changed. The whole
    ingest runs under `lock` (default: the data directory's publish lock), so that parts
    reused are the ones current when publishing and concurrent ingests all land.
    """
    if not catalog.operators:
        raise CatalogError("the catalog has no operators")
    known = {o.id for o in catalog.operators}
    for op_id in only or []:
        if op_id not in known:
            raise CatalogError(f"operator {op_id!r} is not in the catalog")
    with lock or publish_lock(store.root, say=log):
        return _ingest_locked(catalog, store, only, progress, log, limits or IngestLimits())


def _ingest_locked(catalog: Catalog, store: Store, only: list[str] | None, progress: bool,
                   log: Callable[[str], None] | None, limits: IngestLimits) -> IngestReport:
    max_download = limits.archive.max_download_bytes
    t_start = time.perf_counter()
    parts: dict[str, Part] = {}
    read: list[str] = []
    reused: list[str] = []
    paths: dict[str, Path] = {}
    for op in catalog.operators:
        name = store.current_part_name(op.id)
        if name is None or (only is not None and op.id in only):
            continue
        part = store.load_part(op.id, name)
        if part.meta.get("format") != PART_FORMAT or part.meta.get("location") != op.gtfs \
                or not part_is_current(part, limits.horizon):
            continue
        if only is None:  # reuse only what did not change
            paths[op.id] = materialize(op.id, op.gtfs, store.downloads_dir,
                                       max_bytes=max_download)
            if source_digest(op.id, paths[op.id]) != part.meta.get("digest"):
                continue
        parts[op.id] = part
        reused.append(op.id)
    todo = [op for op in catalog.operators if op.id not in parts]
    bar = tqdm(todo, desc="reading feeds", unit="feed", disable=not progress)
    for op in bar:
        bar.set_postfix_str(op.id)
        path = paths.get(op.id) or materialize(op.id, op.gtfs, store.downloads_dir,
                                               max_bytes=max_download)
        part = compile_operator(op, path, limits)
        part.meta["location"] = op.gtfs
        parts[op.id] = part
        read.append(op.id)
    t_read = time.perf_counter()
    if log:
        log(f"merging {len(parts)} operators")
    columns, meta = merge_network(catalog, list(catalog.operators), parts)
    meta["network"] = store.network
    meta["catalog"] = catalog.fingerprint()
    t_merge = time.perf_counter()
    # Only now, with everything compiled, is anything made current.
    new_parts = {op_id: store.write_part(parts[op_id]) for op_id in read}
    version = store.write_version(columns, meta)
    for op_id, name in new_parts.items():
        store.set_current_part(op_id, name)
    store.publish(version)
    t_end = time.perf_counter()
    return IngestReport(
        version=version, operators_read=read, operators_reused=reused, counts=meta["counts"],
        seconds={"read_compile": t_read - t_start, "merge": t_merge - t_read,
                 "write": t_end - t_merge, "total": t_end - t_start},
        warnings={op_id: parts[op_id].meta["warnings"] for op_id in read
                  if parts[op_id].meta.get("warnings")})
