"""The fares of one timetable version, as loaded for pricing (built once per version).

`Fares.of(tt)` reads the `fare_*` columns the ingest compiled (transit/ingest/compile_fares.py)
into per-operator lookups: dicts from namespaced ids to row indexes and small tuples, so a
query does lookups only. Area, network and timeframe references stay the merged row
indexes of the compiled tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np

from transit.fares.model import Money
from transit.timetable.timetable import Timetable


@dataclass(frozen=True)
class ProductRow:
    product_id: str
    name: str
    price: Money
    rider_category: str | None
    fare_medium: str | None


@dataclass(frozen=True)
class LegRule:
    group: str
    net: int
    from_area: int
    to_area: int
    from_tf: int
    to_tf: int
    any_set: int
    exact_set: int
    product: str
    priority: int


@dataclass(frozen=True)
class JoinRule:
    from_net: int
    to_net: int
    from_stop: str
    to_stop: str


@dataclass(frozen=True)
class TransferRule:
    from_group: str
    to_group: str
    count: int  # -1 unlimited, -2 empty
    duration: int  # -1 none
    duration_type: int
    kind: int  # fare_transfer_type
    product: str


@dataclass(frozen=True)
class V1Fare:
    fare_id: str
    price: Money
    transfers: int  # -1 unlimited
    duration: int  # -1 none
    agency: str
    routes: frozenset[str]
    pairs: frozenset[tuple[str, str]]  # (origin, destination), "" for either end any
    contains: frozenset[str]
    rows: tuple[tuple[str, str, str, str], ...]  # (route, origin, destination, contains)
    # (route, origin, destination) of the rows: a ride matches a row when the row's three
    # are each its own or "" (a lookup of 8 triples instead of a scan of the rows)
    triples: frozenset[tuple[str, str, str]] = frozenset()


@dataclass
class OperatorFares:
    operator: str
    index: int
    kind: str  # v2, v1 or none
    priority: bool  # fare_leg_rules has rule_priority: empty fields match anything
    tz: ZoneInfo
    categories: dict[str, str] = field(default_factory=dict)  # id -> name
    default_category: str | None = None
    media: dict[str, str] = field(default_factory=dict)
    products: dict[str, list[ProductRow]] = field(default_factory=dict)
    stop_areas: dict[str, frozenset[int]] = field(default_factory=dict)
    route_net: dict[str, int] = field(default_factory=dict)
    area_sets: dict[int, frozenset[int]] = field(default_factory=dict)
    timeframes: dict[int, list[tuple[int, int, int]]] = field(default_factory=dict)
    leg_rules: list[LegRule] = field(default_factory=list)
    named: dict[str, frozenset[int]] = field(default_factory=dict)  # values rules name
    join_rules: list[JoinRule] = field(default_factory=list)
    transfer_rules: list[TransferRule] = field(default_factory=list)
    groups_named: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())
    v1_fares: list[V1Fare] = field(default_factory=list)
    v1_by_pair: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    zones: dict[str, str] = field(default_factory=dict)
    ruleless: dict[str, int] = field(default_factory=dict)  # agency ("": any) -> v1 fare
    # v1 fares covering one ride, by what decides it (transit.fares.v1._single): filled as
    # rides are priced (static data: at most one entry per route and pair of zones)
    v1_single: dict[tuple[str, str, str, str, frozenset[str]], list[V1Fare]] = field(
        default_factory=dict)
    needs_path: bool = False  # some rule looks at the stops a leg passes


def _rows(tt: Timetable, table: str, op: int) -> np.ndarray:
    col = tt.columns.get(f"fare_{table}_op")
    if col is None:
        return np.zeros(0, np.int64)
    return np.flatnonzero(np.asarray(col) == op)


def _strs(tt: Timetable, name: str, rows: np.ndarray) -> list[str]:
    col = tt.strings(name)
    return [col[int(i)] for i in rows]


def _ints(tt: Timetable, name: str, rows: np.ndarray) -> list[int]:
    return np.asarray(tt.columns[name])[rows].astype(np.int64).tolist()


def _operator_tz(tt: Timetable, op: int) -> ZoneInfo:
    agencies = np.flatnonzero(np.asarray(tt.agency_operator) == op)
    tz = tt.timezones[int(tt.agency_tz[agencies[0]])] if len(agencies) else "UTC"
    return ZoneInfo(tz)


def _load_v2(tt: Timetable, of: OperatorFares) -> None:
    op = of.index
    r = _rows(tt, "cat", op)
    for cid, name, default in zip(_strs(tt, "fare_cat_id", r), _strs(tt, "fare_cat_name", r),
                                  _ints(tt, "fare_cat_default", r), strict=True):
        of.categories[cid] = name
        if default and of.default_category is None:
            of.default_category = cid
    r = _rows(tt, "media", op)
    of.media = dict(zip(_strs(tt, "fare_media_id", r), _strs(tt, "fare_media_name", r),
                        strict=True))
    media_ids, cat_ids = tt.strings("fare_media_id"), tt.strings("fare_cat_id")
    r = _rows(tt, "prod", op)
    for pid, name, m, c, amount, cur in zip(
            _strs(tt, "fare_prod_id", r), _strs(tt, "fare_prod_name", r),
            _ints(tt, "fare_prod_media", r), _ints(tt, "fare_prod_cat", r),
            _ints(tt, "fare_prod_amount", r), _strs(tt, "fare_prod_currency", r), strict=True):
        of.products.setdefault(pid, []).append(ProductRow(
            pid, name, Money(amount, cur), cat_ids[c] if c >= 0 else None,
            media_ids[m] if m >= 0 else None))
    r = _rows(tt, "sa", op)
    areas: dict[str, set[int]] = {}
    for stop, area in zip(_strs(tt, "fare_sa_stop", r), _ints(tt, "fare_sa_area", r),
                          strict=True):
        areas.setdefault(stop, set()).add(area)
    of.stop_areas = {s: frozenset(a) for s, a in areas.items()}
    r = _rows(tt, "rn", op)
    of.route_net = dict(zip(_strs(tt, "fare_rn_route", r), _ints(tt, "fare_rn_net", r),
                            strict=True))
    r = _rows(tt, "ase", op)
    sets: dict[int, set[int]] = {}
    for s, a in zip(_ints(tt, "fare_ase_set", r), _ints(tt, "fare_ase_area", r), strict=True):
        sets.setdefault(s, set()).add(a)
    of.area_sets = {s: frozenset(a) for s, a in sets.items()}
    service_of = _service_index(tt)
    r = _rows(tt, "tf", op)
    for g, start, end, svc in zip(_ints(tt, "fare_tf_group", r), _ints(tt, "fare_tf_start", r),
                                  _ints(tt, "fare_tf_end", r), _strs(tt, "fare_tf_service", r),
                                  strict=True):
        of.timeframes.setdefault(g, []).append(
            (start, end, service_of.get(svc, -2) if svc else -1))
    _load_v2_rules(tt, of)


def _service_index(tt: Timetable) -> dict[str, int]:
    key = ("fares", "service_index")
    if key not in tt.cache:
        tt.cache[key] = {s: i for i, s in enumerate(tt.strings("service_id").to_list())}
    return tt.cache[key]  # type: ignore[return-value]


def _load_v2_rules(tt: Timetable, of: OperatorFares) -> None:
    op = of.index
    r = _rows(tt, "lr", op)
    names = ("net", "fromarea", "toarea", "fromtf", "totf", "anyset", "exactset", "priority")
    ints = [_ints(tt, f"fare_lr_{n}", r) for n in names]
    for g, p, *vals in zip(_strs(tt, "fare_lr_group", r), _strs(tt, "fare_lr_product", r),
                           *ints, strict=True):
        of.leg_rules.append(LegRule(g, *vals[:7], product=p, priority=vals[7]))
    of.named = {f: frozenset(getattr(x, f) for x in of.leg_rules if getattr(x, f) >= 0)
                for f in ("net", "from_area", "to_area", "from_tf", "to_tf")}
    of.needs_path = any(x.any_set != -1 or x.exact_set != -1 for x in of.leg_rules)
    r = _rows(tt, "jr", op)
    for fn, tn, fs, ts in zip(_ints(tt, "fare_jr_fromnet", r), _ints(tt, "fare_jr_tonet", r),
                              _strs(tt, "fare_jr_fromstop", r), _strs(tt, "fare_jr_tostop", r),
                              strict=True):
        of.join_rules.append(JoinRule(fn, tn, fs, ts))
    r = _rows(tt, "xr", op)
    for vals in zip(_strs(tt, "fare_xr_fromgroup", r), _strs(tt, "fare_xr_togroup", r),
                    _ints(tt, "fare_xr_count", r), _ints(tt, "fare_xr_duration", r),
                    _ints(tt, "fare_xr_durationtype", r), _ints(tt, "fare_xr_type", r),
                    _strs(tt, "fare_xr_product", r), strict=True):
        of.transfer_rules.append(TransferRule(*vals))
    of.groups_named = (frozenset(x.from_group for x in of.transfer_rules if x.from_group),
                       frozenset(x.to_group for x in of.transfer_rules if x.to_group))


def _load_v1(tt: Timetable, of: OperatorFares) -> None:
    op = of.index
    r = _rows(tt, "v1", op)
    rows_of: dict[int, list[tuple[str, str, str, str]]] = {}
    rr = _rows(tt, "v1r", op)
    for f, route, o, d, c in zip(_ints(tt, "fare_v1r_fare", rr), _strs(tt, "fare_v1r_route", rr),
                                 _strs(tt, "fare_v1r_origin", rr), _strs(tt, "fare_v1r_dest", rr),
                                 _strs(tt, "fare_v1r_contains", rr), strict=True):
        rows_of.setdefault(f, []).append((route, o, d, c))
    for k, (i, fid, amount, cur, transfers, duration, agency) in enumerate(zip(
            r.tolist(), _strs(tt, "fare_v1_id", r), _ints(tt, "fare_v1_amount", r),
            _strs(tt, "fare_v1_currency", r), _ints(tt, "fare_v1_transfers", r),
            _ints(tt, "fare_v1_duration", r), _strs(tt, "fare_v1_agency", r), strict=True)):
        rows = tuple(rows_of.get(i, ()))
        of.v1_fares.append(V1Fare(
            fid, Money(amount, cur), transfers, duration, agency,
            frozenset(x[0] for x in rows if x[0]),
            frozenset((x[1], x[2]) for x in rows if x[1] or x[2]),
            frozenset(x[3] for x in rows if x[3]), rows,
            frozenset((x[0], x[1], x[2]) for x in rows)))
        for _, o, d, _c in rows:
            of.v1_by_pair.setdefault((o, d), []).append(k)
    of.v1_by_pair = {p: sorted(set(v)) for p, v in of.v1_by_pair.items()}
    # a fare without rules applies to every ride of its agency when it is that agency's
    # only fare (of the operator's only fare when it names no agency)
    by_agency: dict[str, list[int]] = {}
    for k, f in enumerate(of.v1_fares):
        by_agency.setdefault(f.agency, []).append(k)
    for agency, ks in by_agency.items():
        if len(ks) == 1 and not of.v1_fares[ks[0]].rows and (agency or len(of.v1_fares) == 1):
            of.ruleless[agency] = ks[0]
    r = _rows(tt, "zone", op)
    of.zones = dict(zip(_strs(tt, "fare_zone_stop", r), _strs(tt, "fare_zone_id", r),
                        strict=True))
    of.needs_path = any(f.contains for f in of.v1_fares)


@dataclass
class Fares:
    """Per operator id, what its fares data says; plus the network's rider categories."""

    tt: Timetable
    operators: dict[str, OperatorFares]
    categories: dict[str, str]  # namespaced id -> name, every operator's

    @classmethod
    def of(cls, tt: Timetable) -> Fares:
        ops: dict[str, OperatorFares] = {}
        for i, o in enumerate(tt.meta["operators"]):
            meta = o.get("fares") or {}
            of = OperatorFares(o["id"], i, meta.get("kind", "none"),
                               bool(meta.get("priority")), _operator_tz(tt, i))
            if of.kind == "v2":
                _load_v2(tt, of)
            elif of.kind == "v1":
                _load_v1(tt, of)
            ops[of.operator] = of
        cats = {c: n for of in ops.values() for c, n in of.categories.items()}
        return cls(tt, ops, cats)
