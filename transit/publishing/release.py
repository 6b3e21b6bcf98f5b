"""Stage, publish and preview one operator's feed version against the merged network.

Staging compiles only that operator's part (the ingest's per-operator compile) and writes it
to the store next to the published one, without making it current; publishing merges the
current parts of every operator with this one, under the store's lock, and switches the
served version. The parts of earlier versions stay on disk (the newest `keep` per
operator), so a rollback is a publish of an older part and never needs the upload again.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from transit.catalog import Catalog, Operator
from transit.clock import Clock
from transit.errors import FeedError, FeedProblem
from transit.ingest.limits import IngestLimits
from transit.ingest.publish_lock import publish_lock
from transit.publishing.diff import diff_parts
from transit.publishing.policy import policy_notices
from transit.publishing.report import PER_CODE, Notice, Report
from transit.timetable.storage import Part, save_columns
from transit.timetable.store import Store

KEEP_PARTS = 5
KEEP_PREVIEWS = 3


@dataclass
class Staged:
    """The outcome of staging one upload: a part in the store, or a rejection and why."""

    operator: str
    report: Report
    part: str | None = None  # the part's name in the store (None when rejected)
    diff: dict[str, Any] | None = None
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return "staged" if self.part else "rejected"


@dataclass
class Published:
    version: str  # the merged version now served
    part: str
    previous_part: str | None
    seconds: dict[str, float] = field(default_factory=dict)


def _zip_named(problem: FeedProblem, name: str) -> FeedProblem:
    """A problem about the upload as a whole names no file (not the scratch copy's name)."""
    return replace(problem, file="") if problem.file == name else problem


def _about_the_zip(exc: FeedError, name: str) -> FeedError:
    return FeedError(exc.operator, [_zip_named(p, name) for p in exc.problems], exc.totals)


class UnknownPart(Exception):
    """A part that is not (or no longer) in the store."""


class Releases:
    def __init__(self, store: Store, catalog: Catalog, clock: Clock,
                 keep: int = KEEP_PARTS, limits: IngestLimits | None = None,
                 lock: Callable[[], AbstractContextManager[None]] | None = None) -> None:
        self.store = store
        self.catalog = catalog
        self.clock = clock
        self.keep = max(keep, 2)
        self.limits = limits or IngestLimits()
        # the ingest's publish lock (with Redis's when the service shares one)
        self.lock = lock or (lambda: publish_lock(store.root))

    # -- staging
    def stage(self, operator: Operator, source: Path,
              notices: list[Notice] | None = None) -> Staged:
        """Validate and compile a feed (a zip or a folder); nothing served changes."""
        t0, cpu0 = time.perf_counter(), time.thread_time()
        report = Report()
        for n in notices or []:
            report.add(n)
        from transit.ingest.pipeline import compile_operator  # ingest libraries: jobs only

        try:
            part = compile_operator(operator, source, self.limits, per_code=PER_CODE,
                                    scratch=self.store.root / "scratch")
        except FeedError as exc:
            report.add_error(_about_the_zip(exc, source.name))
            return Staged(operator.id, report, seconds={"compile": time.perf_counter() - t0})
        t1 = time.perf_counter()
        for n in part.meta.get("notices", []):
            report.add(Notice.of(_zip_named(FeedProblem(**n), source.name)))
        part.meta["location"] = f"upload:{part.meta['digest']}"
        name = self.store.write_part(part)
        published = self._current_part(operator.id)
        diff = diff_parts(published, part)
        for n in policy_notices(part, diff, published.meta["counts"]["trips"]
                                if published else None, self.clock.now()):
            report.add(n)
        t2 = time.perf_counter()
        return Staged(operator.id, report, name, diff, part.meta["counts"],
                      {"compile": t1 - t0, "diff": t2 - t1, "cpu": time.thread_time() - cpu0})

    def _current_part(self, operator: str) -> Part | None:
        name = self.store.current_part_name(operator)
        return self.store.load_part(operator, name) if name else None

    # -- the merged network
    def _operators(self, including: Operator) -> list[Operator]:
        """Catalog operators that have a part, in catalog order, then the others."""
        present = set(self.store.operators_with_parts()) | {including.id}
        ops = [including if o.id == including.id else o
               for o in self.catalog.operators if o.id in present]
        for op_id in sorted(present - {o.id for o in ops}):
            ops.append(including if op_id == including.id else Operator(op_id, op_id, ""))
        return ops

    def _parts(self, operator: Operator, part: str) -> tuple[list[Operator], dict[str, Part]]:
        if not self.store.has_part(operator.id, part):
            raise UnknownPart(f"part {part} of operator {operator.id} is not in the store "
                              f"(only the newest {self.keep} are kept)")
        ops = self._operators(operator)
        parts = {o.id: self.store.load_part(o.id, self.store.current_part_name(o.id) or "")
                 for o in ops if o.id != operator.id}
        parts[operator.id] = self.store.load_part(operator.id, part)
        named = [o if o.name != o.id or o.id == operator.id else
                 Operator(o.id, parts[o.id].meta.get("name", o.id), o.gtfs,
                          parts[o.id].meta.get("licence", ""), o.url) for o in ops]
        return named, parts

    def publish(self, operator: Operator, part: str) -> Published:
        """Make `part` the operator's current part and serve a merged version with it.

        Under the publish lock (the one `transit ingest` holds): a publish of another
        operator at the same moment waits and then merges from this one's result, so
        neither is lost.
        """
        t0 = time.perf_counter()
        with self.lock():
            t1 = time.perf_counter()
            previous = self.store.current_part_name(operator.id)
            if not self.store.has_part(operator.id, part):
                raise UnknownPart(f"part {part} of operator {operator.id} is not in the store "
                                  f"(only the newest {self.keep} are kept)")
            preview = self._preview_dir(operator, part)
            reused = (preview / "meta.json").is_file()
            if reused:  # merged already, over the network that is still served
                t2 = t3 = time.perf_counter()
                with self.store.lock(f"preview-{operator.id}"):
                    version = self.store.adopt_version(preview)
            else:
                from transit.ingest.pipeline import merge_network

                ops, parts = self._parts(operator, part)
                t2 = time.perf_counter()
                columns, meta = merge_network(self.catalog, ops, parts)
                t3 = time.perf_counter()
                version = self.store.write_version(columns, meta)
            self.store.set_current_part(operator.id, part, keep=self.keep)
            self.store.publish(version)
            t4 = time.perf_counter()
        return Published(version, part, previous, {
            "wait_lock": t1 - t0, "load_parts": t2 - t1, "merge": t3 - t2, "write": t4 - t3,
            "reused_preview": float(reused)})

    def _preview_dir(self, operator: Operator, part: str) -> Path:
        base = self.store.current_version() or "none"
        return self.store.root / "previews" / operator.id / f"{part}-{base}"

    def built_preview(self, operator: Operator, part: str) -> Path | None:
        """The preview over the network served now, if it is built (else None)."""
        target = self._preview_dir(operator, part)
        return target if (target / "meta.json").is_file() else None

    def preview(self, operator: Operator, part: str) -> Path:
        """A merged version with `part` in place of the operator's published one, built
        once into a scratch directory (per served version) and reused: by previews, and by
        the publish of that part while the served version is still the same."""
        target = self._preview_dir(operator, part)
        root = target.parent
        if (target / "meta.json").is_file():
            return target
        with self.store.lock(f"preview-{operator.id}"):
            if (target / "meta.json").is_file():
                return target
            from transit.ingest.pipeline import merge_network

            ops, parts = self._parts(operator, part)
            columns, meta = merge_network(self.catalog, ops, parts)
            root.mkdir(parents=True, exist_ok=True)
            tmp = root / f".tmp-{uuid.uuid4().hex}"
            save_columns(tmp, columns, {**meta, "version": f"preview-{operator.id}-{part}",
                                      "preview": part})
            os.replace(tmp, target)
            mine = sorted((p for p in root.iterdir() if not p.name.startswith(".")),
                          key=lambda p: p.stat().st_mtime)
            for old in mine[:-KEEP_PREVIEWS]:
                shutil.rmtree(old, ignore_errors=True)
        return target
