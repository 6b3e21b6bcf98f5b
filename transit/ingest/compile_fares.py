"""Compile one operator's fare tables into columns of its part (`fare_<table>_<field>`).

Every identifier is namespaced `OPERATOR:id` like the rest of the part. References between
fare tables are row indexes into this operator's tables (-1: the field is empty; -2: it
names something the feed does not define, so the rule applies to nothing); references to
stops, routes and services are their namespaced ids, matched when the fares are loaded.
Amounts are integer minor units, times seconds after midnight: nothing is parsed per query.

Fares v2 wins where a feed has both: its v1 tables are then not compiled.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from transit.errors import FeedProblem
from transit.fares.money import minor_units
from transit.ingest.reader import GtfsFeed
from transit.timetable.storage import Column
from transit.timetable.strings import StringColumn

EMPTY, UNKNOWN = -1, -2
# table -> its columns; column -> the table its values index (for merging parts)
TABLES: dict[str, dict[str, str]] = {
    "cat": {"id": "s", "name": "s", "default": "i8"},
    "media": {"id": "s", "name": "s", "type": "i8"},
    "prod": {"id": "s", "name": "s", "media": "i32", "cat": "i32", "amount": "i64",
             "currency": "s"},
    "area": {"id": "s", "name": "s"},
    "sa": {"stop": "s", "area": "i32"},
    "net": {"id": "s", "name": "s"},
    "rn": {"route": "s", "net": "i32"},
    "aset": {"id": "s"},
    "ase": {"set": "i32", "area": "i32"},
    "tg": {"id": "s"},
    "tf": {"group": "i32", "start": "i32", "end": "i32", "service": "s"},
    "lr": {"group": "s", "net": "i32", "fromarea": "i32", "toarea": "i32", "fromtf": "i32",
           "totf": "i32", "anyset": "i32", "exactset": "i32", "product": "s",
           "priority": "i32"},
    "jr": {"fromnet": "i32", "tonet": "i32", "fromstop": "s", "tostop": "s"},
    "xr": {"fromgroup": "s", "togroup": "s", "count": "i32", "duration": "i32",
           "durationtype": "i8", "type": "i8", "product": "s"},
    "v1": {"id": "s", "amount": "i64", "currency": "s", "transfers": "i32", "duration": "i32",
           "agency": "s"},
    "v1r": {"fare": "i32", "route": "s", "origin": "s", "dest": "s", "contains": "s"},
    "zone": {"stop": "s", "id": "s"},
}
REFERENCES = {
    "prod_media": "media", "prod_cat": "cat", "sa_area": "area", "rn_net": "net",
    "ase_set": "aset", "ase_area": "area", "tf_group": "tg", "lr_net": "net",
    "lr_fromarea": "area", "lr_toarea": "area", "lr_fromtf": "tg", "lr_totf": "tg",
    "lr_anyset": "aset", "lr_exactset": "aset", "jr_fromnet": "net", "jr_tonet": "net",
    "v1r_fare": "v1",
}
_DTYPES = {"i8": np.int8, "i32": np.int32, "i64": np.int64}


def _text(df: pd.DataFrame | None, col: str) -> list[str]:
    if df is None:
        return []
    if col not in df.columns:
        return [""] * len(df)
    return df[col].astype("string").fillna("").str.strip().tolist()


def _seconds(text: str, default: int) -> int | None:
    """'5:00:00' -> 18000; '' -> default; None when not a time."""
    if not text:
        return default
    parts = text.split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    h, m, s = (int(p) for p in parts)
    return h * 3600 + m * 60 + s


class _Builder:
    """Rows of one operator's fare tables, namespacing ids and resolving references."""

    def __init__(self, feed: GtfsFeed) -> None:
        self.feed = feed
        self.op = feed.operator
        self.rows: dict[str, dict[str, list[Any]]] = {
            t: {c: [] for c in cols} for t, cols in TABLES.items()}
        self.index: dict[str, dict[str, int]] = {t: {} for t in TABLES}
        self.warnings: list[FeedProblem] = []

    def ns(self, value: str) -> str:
        return f"{self.op}:{value}" if value else ""

    def add(self, table: str, **values: Any) -> int:
        rows = self.rows[table]
        for c in rows:
            rows[c].append(values[c])
        n = len(rows["id" if "id" in rows else next(iter(rows))]) - 1
        if "id" in values and table not in ("prod", "v1"):
            self.index[table].setdefault(values["id"], n)
        return n

    def ref(self, table: str, value: str) -> int:
        if not value:
            return EMPTY
        return self.index[table].get(self.ns(value), UNKNOWN)

    def warn(self, file: str, message: str, value: str | None = None) -> None:
        self.warnings.append(FeedProblem(file, message, value=value, code="fares_ignored",
                                         severity="warning"))

    def columns(self) -> dict[str, Column]:
        out: dict[str, Column] = {}
        for table, cols in TABLES.items():
            for col, kind in cols.items():
                values = self.rows[table][col]
                name = f"fare_{table}_{col}"
                out[name] = StringColumn.from_list(values) if kind == "s" else \
                    np.array(values, dtype=_DTYPES[kind])
        return out


def _stations(feed: GtfsFeed) -> dict[str, list[str]]:
    """Station id -> its child stops (a station in stop_areas stands for its platforms)."""
    stops = feed.table("stops")
    out: dict[str, list[str]] = {}
    if stops is None or "parent_station" not in stops.columns:
        return out
    for sid, parent in zip(_text(stops, "stop_id"), _text(stops, "parent_station"), strict=True):
        if parent:
            out.setdefault(parent, []).append(sid)
    return out


def _v2_entities(b: _Builder) -> None:
    t = b.feed.table
    for cid, name, default in zip(_text(t("rider_categories"), "rider_category_id"),
                                  _text(t("rider_categories"), "rider_category_name"),
                                  _text(t("rider_categories"), "is_default_fare_category"),
                                  strict=True):
        b.add("cat", id=b.ns(cid), name=name, default=int(default == "1"))
    for mid, name, kind in zip(_text(t("fare_media"), "fare_media_id"),
                               _text(t("fare_media"), "fare_media_name"),
                               _text(t("fare_media"), "fare_media_type"), strict=True):
        b.add("media", id=b.ns(mid), name=name, type=int(kind) if kind.isdigit() else -1)
    for aid, name in zip(_text(t("areas"), "area_id"), _text(t("areas"), "area_name"),
                         strict=True):
        b.add("area", id=b.ns(aid), name=name)
    children = _stations(b.feed)
    for aid, sid in zip(_text(t("stop_areas"), "area_id"), _text(t("stop_areas"), "stop_id"),
                        strict=True):
        area = b.ref("area", aid)
        if area < 0:
            b.warn("stop_areas.txt", "names an area areas.txt does not define", aid)
            continue
        for stop in [sid, *children.get(sid, [])]:
            b.add("sa", stop=b.ns(stop), area=area)
    for nid, name in zip(_text(t("networks"), "network_id"), _text(t("networks"), "network_name"),
                         strict=True):
        b.add("net", id=b.ns(nid), name=name)
    routes = t("routes")
    pairs = list(zip(_text(t("route_networks"), "network_id"),
                     _text(t("route_networks"), "route_id"), strict=True))
    pairs += [(n, r) for r, n in zip(_text(routes, "route_id"), _text(routes, "network_id"),
                                     strict=True) if n]
    for nid, rid in pairs:
        if b.ns(nid) not in b.index["net"]:  # routes.network_id needs no networks.txt row
            b.add("net", id=b.ns(nid), name="")
        b.add("rn", route=b.ns(rid), net=b.ref("net", nid))
    for sid, aid in zip(_text(t("area_set_elements"), "area_set_id"),
                        _text(t("area_set_elements"), "area_id"), strict=True):
        if b.ns(sid) not in b.index["aset"]:
            b.add("aset", id=b.ns(sid))
        b.add("ase", set=b.ref("aset", sid), area=b.ref("area", aid))


def _v2_products(b: _Builder) -> None:
    fp = b.feed.table("fare_products")
    for line, (pid, name, media, cat, amount, currency) in enumerate(zip(
            _text(fp, "fare_product_id"), _text(fp, "fare_product_name"),
            _text(fp, "fare_media_id"), _text(fp, "rider_category_id"), _text(fp, "amount"),
            _text(fp, "currency"), strict=True), start=2):
        minor = minor_units(amount, currency) if len(currency) == 3 else None
        media_i, cat_i = b.ref("media", media), b.ref("cat", cat)
        if minor is None or media_i == UNKNOWN or cat_i == UNKNOWN:
            b.warn("fare_products.txt", f"line {line}: amount, currency, medium or rider "
                   "category not usable; product row ignored", pid)
            continue
        b.add("prod", id=b.ns(pid), name=name, media=media_i, cat=cat_i, amount=minor,
              currency=currency.upper())


def _v2_timeframes(b: _Builder) -> None:
    tf = b.feed.table("timeframes")
    for gid, start, end, service in zip(_text(tf, "timeframe_group_id"),
                                        _text(tf, "start_time"), _text(tf, "end_time"),
                                        _text(tf, "service_id"), strict=True):
        s, e = _seconds(start, 0), _seconds(end, 86400)
        if s is None or e is None:
            b.warn("timeframes.txt", "start_time or end_time is not a time; row ignored", gid)
            continue
        if b.ns(gid) not in b.index["tg"]:
            b.add("tg", id=b.ns(gid))
        b.add("tf", group=b.ref("tg", gid), start=s, end=e, service=b.ns(service))


def _v2_rules(b: _Builder) -> dict[str, Any]:
    t = b.feed.table
    lr = t("fare_leg_rules")
    known_products = {p for p in b.rows["prod"]["id"]}
    cols = ("leg_group_id", "network_id", "from_area_id", "to_area_id",
            "from_timeframe_group_id", "to_timeframe_group_id", "contains_area_set_id",
            "contains_exactly_area_set_id", "fare_product_id", "rule_priority")
    for g, net, fa, ta, ft, tt_, anyset, exact, prod, prio in zip(
            *(_text(lr, c) for c in cols), strict=True):
        if b.ns(prod) not in known_products:
            b.warn("fare_leg_rules.txt", "names a fare product fare_products.txt does not "
                   "price; rule ignored", prod)
            continue
        b.add("lr", group=b.ns(g), net=b.ref("net", net), fromarea=b.ref("area", fa),
              toarea=b.ref("area", ta), fromtf=b.ref("tg", ft), totf=b.ref("tg", tt_),
              anyset=b.ref("aset", anyset), exactset=b.ref("aset", exact), product=b.ns(prod),
              priority=int(prio) if prio.lstrip("-").isdigit() else 0)
    jr = t("fare_leg_join_rules")
    for fn, tn, fs, ts in zip(*(_text(jr, c) for c in ("from_network_id", "to_network_id",
                                                        "from_stop_id", "to_stop_id")),
                              strict=True):
        b.add("jr", fromnet=b.ref("net", fn), tonet=b.ref("net", tn), fromstop=b.ns(fs),
              tostop=b.ns(ts))
    xr = t("fare_transfer_rules")
    cols = ("from_leg_group_id", "to_leg_group_id", "transfer_count", "duration_limit",
            "duration_limit_type", "fare_transfer_type", "fare_product_id")
    for fg, tg, count, dur, dtype, ftype, prod in zip(*(_text(xr, c) for c in cols),
                                                      strict=True):
        if (prod and b.ns(prod) not in known_products) or ftype not in ("0", "1", "2"):
            b.warn("fare_transfer_rules.txt", "unknown fare product or fare_transfer_type; "
                   "rule ignored", prod or ftype)
            continue
        b.add("xr", fromgroup=b.ns(fg), togroup=b.ns(tg),
              count=int(count) if count.lstrip("-").isdigit() else -2,
              duration=int(dur) if dur.isdigit() else -1,
              durationtype=int(dtype) if dtype.isdigit() else -1, type=int(ftype),
              product=b.ns(prod))
    return {"priority": lr is not None and "rule_priority" in lr.columns}


def _v1(b: _Builder) -> None:
    fa, fr = b.feed.table("fare_attributes"), b.feed.table("fare_rules")
    for fid, price, currency, transfers, duration, agency in zip(
            *(_text(fa, c) for c in ("fare_id", "price", "currency_type", "transfers",
                                     "transfer_duration", "agency_id")), strict=True):
        minor = minor_units(price, currency) if len(currency) == 3 else None
        if minor is None:
            b.warn("fare_attributes.txt", "price or currency_type not usable; fare ignored",
                   fid)
            continue
        n = b.add("v1", id=b.ns(fid), amount=minor, currency=currency.upper(),
                  transfers=int(float(transfers)) if transfers else -1,
                  duration=int(float(duration)) if duration else -1, agency=b.ns(agency))
        b.index["v1"].setdefault(b.ns(fid), n)
    for fid, route, origin, dest, contains in zip(
            *(_text(fr, c) for c in ("fare_id", "route_id", "origin_id", "destination_id",
                                     "contains_id")), strict=True):
        fare = b.ref("v1", fid)
        if fare < 0:
            b.warn("fare_rules.txt", "names a fare fare_attributes.txt does not price; rule "
                   "ignored", fid)
            continue
        b.add("v1r", fare=fare, route=b.ns(route), origin=b.ns(origin), dest=b.ns(dest),
              contains=b.ns(contains))
    stops = b.feed.table("stops")
    for sid, zone in zip(_text(stops, "stop_id"), _text(stops, "zone_id"), strict=True):
        if zone:
            b.add("zone", stop=b.ns(sid), id=b.ns(zone))


def compile_fares(feed: GtfsFeed) -> tuple[dict[str, Column], dict[str, Any]]:
    """The operator's fare columns and what its part's meta says of them (`kind`: v2, v1 or
    none; `priority`: fare_leg_rules has a rule_priority column). Rows naming what the feed
    does not define are left out, with a warning in the feed's warnings."""
    b = _Builder(feed)
    has_v2 = feed.table("fare_products") is not None and len(feed.table("fare_products"))
    has_v1 = feed.table("fare_attributes") is not None and len(feed.table("fare_attributes"))
    meta: dict[str, Any] = {"kind": "none", "priority": False}
    if has_v2:
        _v2_entities(b)
        _v2_products(b)
        _v2_timeframes(b)
        meta.update(_v2_rules(b), kind="v2")
        if has_v1:
            b.warn("fare_attributes.txt", "the feed has Fares v2 (fare_products.txt): its "
                   "Fares v1 tables are not used")
    elif has_v1:
        _v1(b)
        meta["kind"] = "v1"
    feed.warnings.extend(b.warnings)
    return b.columns(), meta


def _table_of(name: str) -> str:
    return name.split("_")[1]


def merge_fares(parts: list[dict[str, Column]]) -> dict[str, Column]:
    """Concatenate the operators' fare columns (in merge order), shifting the references
    between fare tables and adding `fare_<table>_op`, the operator's index in the merge."""
    out: dict[str, Column] = {}
    offsets = dict.fromkeys(TABLES, 0)
    pieces: dict[str, list[Column]] = {}
    for op_index, cols in enumerate(parts):
        sizes = {t: len(cols.get(f"fare_{t}_{next(iter(c))}", ())) for t, c in TABLES.items()}
        for table, fields in TABLES.items():
            for col, kind in fields.items():
                name = f"fare_{table}_{col}"
                value = cols.get(name)
                if value is None:  # written without fares (cannot happen for a current part)
                    value = StringColumn.from_list([""] * sizes[table]) if kind == "s" else \
                        np.zeros(sizes[table], _DTYPES[kind])
                key = f"{table}_{col}"
                if key in REFERENCES:
                    arr = np.asarray(value)
                    value = np.where(arr >= 0, arr + offsets[REFERENCES[key]], arr).astype(
                        arr.dtype)
                pieces.setdefault(name, []).append(value)
            pieces.setdefault(f"fare_{table}_op", []).append(
                np.full(sizes[table], op_index, np.int16))
        for t in TABLES:
            offsets[t] += sizes[t]
    for name, chunks in pieces.items():
        out[name] = StringColumn.concat(chunks) if isinstance(chunks[0], StringColumn) else \
            np.concatenate([np.asarray(c) for c in chunks])
    return out
