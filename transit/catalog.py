"""The operator catalog: who the operators are and where their feeds live.

A TOML file (see feeds/catalog.toml):

    [stations]            # optional, see transit.timetable.stations.StationRules
    near_m = 50
    [footpaths]           # optional, see transit.timetable.footpaths.FootpathRules
    radius_m = 300
    [[operator]]
    id = "BA"
    name = "Bay Area Rapid Transit"
    gtfs = "https://example.org/bart.zip"     # or a path, relative to this file
    licence = "..."
    [[operator.realtime]]
    kind = "trip-updates"
    url = "https://example.org/bart/tu.pb"
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from transit.errors import CatalogError
from transit.timetable.footpaths import FootpathRules
from transit.timetable.stations import StationRules
from transit.timetable.store import DEFAULT_NETWORK, Store

OPERATOR_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


@dataclass(frozen=True)
class RealtimeSource:
    kind: str
    url: str
    interval_s: float = 30.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Operator:
    id: str
    name: str
    gtfs: str
    licence: str = ""
    url: str = ""
    realtime: tuple[RealtimeSource, ...] = ()

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "licence": self.licence, "url": self.url}


@dataclass(frozen=True)
class Catalog:
    """The operators of one network. `network` names where its versions are kept in the
    data directory: a server follows new versions of its own network only."""

    operators: tuple[Operator, ...]
    stations: StationRules = field(default_factory=StationRules)
    footpaths: FootpathRules = field(default_factory=FootpathRules)
    network: str = DEFAULT_NETWORK

    def fingerprint(self) -> str:
        """What the compiled network was built from: operators, feed locations, rules."""
        text = repr(([(o.id, o.gtfs, o.name, o.licence, o.url) for o in self.operators],
                     self.stations, self.footpaths))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:40] or "x"


def catalog_network(path: Path) -> str:
    """The network of a catalog file: named after the file, keyed by its absolute path."""
    resolved = str(path.expanduser().resolve())
    return f"catalog-{_slug(path.stem)}-{hashlib.sha256(resolved.encode()).hexdigest()[:8]}"


def feeds_network(feeds: list[Operator], base: str | None = None) -> str:
    """The network of feeds given on the command line (added to a catalog's, if any)."""
    key = "\n".join(sorted(f"{f.id}={f.gtfs}" for f in feeds))
    digest = hashlib.sha256(f"{base or ''}\n{key}".encode()).hexdigest()[:8]
    ids = _slug("-".join(sorted(f.id for f in feeds)))
    return f"{base}+feeds-{ids}-{digest}" if base else f"feeds-{ids}-{digest}"

def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def _rules(cls: type, table: dict[str, Any], where: str) -> Any:
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise CatalogError(f"{where}: unknown setting {unknown[0]!r}; known: {sorted(known)}")
    return cls(**table)


def check_operator_id(op_id: str, where: str) -> None:
    if not OPERATOR_ID.match(op_id):
        raise CatalogError(
            f"{where}: operator id {op_id!r} must be 1-32 letters, digits, '_' or '-' "
            "(it prefixes every id of the operator, as OPERATOR:gtfs_id)")


def _realtime_source(entry: dict[str, Any], where: str) -> RealtimeSource:
    """A header value "env:NAME" is read from the environment, so secrets stay out of the
    catalog file."""
    headers = {}
    for name, value in entry.get("headers", {}).items():
        if isinstance(value, str) and value.startswith("env:"):
            var = value[4:]
            if var not in os.environ:
                raise CatalogError(f"{where}: header {name} needs the environment variable "
                                   f"{var}, which is not set")
            value = os.environ[var]
        headers[name] = str(value)
    unknown = sorted(set(entry) - {"kind", "url", "interval_s", "headers"})
    if unknown or "kind" not in entry or "url" not in entry:
        raise CatalogError(f"{where}: expected kind, url, interval_s, headers; got "
                           f"{sorted(entry)}")
    return RealtimeSource(kind=entry["kind"], url=entry["url"],
                          interval_s=float(entry.get("interval_s", 30.0)), headers=headers)


def load_catalog(path: Path) -> Catalog:
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError as exc:
        raise CatalogError(f"catalog {path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"catalog {path}: {exc}") from exc
    base = path.resolve().parent
    ops: list[Operator] = []
    for i, entry in enumerate(data.get("operator", [])):
        where = f"{path}: operator #{i + 1}"
        for key in ("id", "gtfs"):
            if key not in entry:
                raise CatalogError(f"{where}: missing {key!r}")
        check_operator_id(entry["id"], where)
        gtfs = str(entry["gtfs"])
        if not is_url(gtfs):
            gtfs = str((base / gtfs).resolve())
        rts = tuple(_realtime_source(rt, f"{where} realtime") for rt in entry.get("realtime", []))
        ops.append(Operator(id=entry["id"], name=entry.get("name", entry["id"]), gtfs=gtfs,
                            licence=entry.get("licence", ""), url=entry.get("url", ""),
                            realtime=rts))
    ids = [o.id for o in ops]
    dup = {x for x in ids if ids.count(x) > 1}
    if dup:
        raise CatalogError(f"{path}: operator id {sorted(dup)[0]!r} appears twice")
    return Catalog(
        operators=tuple(ops),
        stations=_rules(StationRules, data.get("stations", {}), f"{path} [stations]"),
        footpaths=_rules(FootpathRules, data.get("footpaths", {}), f"{path} [footpaths]"),
        network=catalog_network(path),
    )


def parse_feed_option(value: str) -> Operator:
    """`--feed OPERATOR=PATH_OR_URL` from the command line."""
    op_id, sep, location = value.partition("=")
    if not sep or not location:
        raise CatalogError(f"--feed {value!r}: expected OPERATOR=PATH_OR_URL")
    check_operator_id(op_id, "--feed")
    if not is_url(location):
        location = str(Path(location).expanduser().resolve())
    return Operator(id=op_id, name=op_id, gtfs=location)


def with_feeds(catalog: Catalog | None, feeds: list[Operator]) -> Catalog:
    """Command-line feeds replace catalog operators of the same id, or are added."""
    if not feeds:
        return catalog or Catalog(operators=())
    base = catalog or Catalog(operators=())
    given = {f.id: f for f in feeds}
    merged = [given.pop(o.id, o) for o in base.operators] + list(given.values())
    network = feeds_network(feeds, catalog.network if catalog else None)
    return Catalog(tuple(merged), base.stations, base.footpaths, network)


def served_network(data_dir: Path, catalog_path: Path) -> str:
    """The network a server serves when not told (TRANSIT_NETWORK unset): its catalog's if
    that was compiled in the data directory, else the default one."""
    network = catalog_network(catalog_path)
    return network if Store(data_dir, network).current_version() else DEFAULT_NETWORK
