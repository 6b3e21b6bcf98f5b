"""Read one operator's GTFS (zip or folder) with gtfs-kit, plus what gtfs-kit leaves out.

gtfs-kit reads the standard tables; translations.txt (both layouts) and the HAFAS extension
stop_time_overrides.txt (platforms per call and service) are read here. When
gtfs-kit cannot convert a column (a letter in stop_sequence), the table is read again as
text to say which line and field is wrong, instead of passing on a bare pandas error.
A zip is never handed to gtfs-kit as it is: transit.ingest.archive checks it and extracts
only the feed's tables, within bounds, into a temporary folder that gtfs-kit reads.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import gtfs_kit
import gtfs_kit.constants as gk_constants
import pandas as pd

from transit.errors import FeedError, FeedProblem
from transit.ingest.archive import GTFS_TABLES, ArchiveError, ArchiveLimits, open_archive

# gtfs-kit types these as 16-bit, but real feeds hold larger values (Marin Transit's
# fare_attributes.transfer_duration is 86400), which makes gtfs-kit fail on a valid feed.
for _table, _col in (("fare_attributes", "transfer_duration"), ("frequencies", "headway_secs"),
                     ("transfers", "min_transfer_time")):
    if gk_constants.DTYPES.get(_table, {}).get(_col) == "Int16":
        gk_constants.DTYPES[_table][_col] = "Int32"

# Fares v2 tables (gtfs-kit reads only the v1 ones), read as text by transit.fares; the
# area sets proposal's area_set_elements.txt (as nigiri reads it) with them.
FARES_V2_TABLES = ("fare_media", "rider_categories", "fare_products", "areas", "stop_areas",
                   "networks", "route_networks", "timeframes", "fare_leg_rules",
                   "fare_leg_join_rules", "fare_transfer_rules", "area_set_elements")
REQUIRED_FILES = ("agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt")
_CSV = {"dtype": str, "keep_default_na": False, "encoding": "utf-8-sig"}


@dataclass
class GtfsFeed:
    """The raw tables of one operator's feed, as read (before validation)."""

    operator: str
    source: str
    digest: str
    tables: dict[str, pd.DataFrame | None]
    translations: pd.DataFrame | None
    warnings: list[FeedProblem] = field(default_factory=list)

    def table(self, name: str) -> pd.DataFrame | None:
        return self.tables.get(name)


class _Source:
    """A folder of GTFS text files (a zip's chosen members are extracted into one first)."""

    def __init__(self, operator: str, path: Path) -> None:
        self.path = path
        self.operator = operator

    def names(self) -> list[str]:
        return [p.name for p in self.path.iterdir() if p.is_file()]

    def read_bytes(self, name: str) -> bytes | None:
        p = self.path / name
        return p.read_bytes() if p.is_file() else None

    def open(self, name: str) -> IO[bytes]:
        """A table as a binary stream (read in chunks: tables can be large)."""
        return (self.path / name).open("rb")


def _check_folder(operator: str, path: Path, limits: ArchiveLimits) -> None:
    """A folder feed is bounded like a zip: its tables are read into memory."""
    files = [p for p in path.iterdir() if p.is_file() and p.suffix == ".txt"
             and p.stem in GTFS_TABLES]
    total = 0
    for p in files:
        size = p.stat().st_size
        total += size
        if size > limits.max_member_bytes:
            raise ArchiveError(operator, [FeedProblem(
                p.name, f"{size} bytes, more than the limit of {limits.max_member_bytes}")],
                "member-too-large")
    if total > limits.max_total_bytes:
        raise ArchiveError(operator, [FeedProblem(
            path.name, f"tables hold {total} bytes, more than the limit of "
            f"{limits.max_total_bytes}")], "total-too-large")


@contextmanager
def feed_folder(operator: str, path: Path, limits: ArchiveLimits | None = None,
                scratch: Path | None = None) -> Iterator[tuple[Path, list[FeedProblem]]]:
    """The feed as a folder of its tables, with warnings about what was left out. A zip is
    extracted into a temporary folder inside `scratch` (default: the system's)."""
    lim = limits or ArchiveLimits()
    if not path.exists():
        raise FeedError(operator, [FeedProblem(path.name, "file or folder does not exist",
                                               code="i_o_error")])
    if path.is_dir():
        _check_folder(operator, path, lim)
        yield path, []
        return
    archive = open_archive(operator, path, lim)
    if scratch is not None:
        scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"transit-{operator}-", dir=scratch) as tmp:
        archive.extract(Path(tmp))
        yield Path(tmp), archive.warnings()


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    if path.is_file():
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    else:
        for p in sorted(q for q in path.iterdir() if q.is_file()):
            h.update(p.name.encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _check_layout(src: _Source, archive_warnings: list[FeedProblem]) -> None:
    root = set(src.names())
    missing = [f for f in REQUIRED_FILES if f not in root]
    if "calendar.txt" not in root and "calendar_dates.txt" not in root:
        missing.append("calendar.txt or calendar_dates.txt")
    if not missing:
        return
    problems = [FeedProblem(f, "required file is missing", code="missing_required_file")
                for f in missing]
    raise FeedError(src.operator, problems + archive_warnings)


def _first_bad_utf8(stream: IO[bytes], chunk_size: int = 1 << 20) -> tuple[int, bytes] | None:
    """(line, offending bytes) of the first byte sequence that is not UTF-8, else None.

    Decodes in chunks so that a large stop_times.txt is never held whole; a multi-byte
    character cut by a chunk boundary is carried over to the next chunk.
    """
    carry, lines = b"", 0
    while True:
        chunk = stream.read(chunk_size)
        buf = carry + chunk
        if not buf:
            return None
        try:
            buf.decode("utf-8")
            good, carry = buf, b""
        except UnicodeDecodeError as exc:
            truncated = exc.reason == "unexpected end of data" and len(buf) - exc.start < 4
            if not truncated or not chunk:  # a real bad sequence, or cut off at the end
                return lines + buf.count(b"\n", 0, exc.start) + 1, buf[exc.start:exc.end]
            good, carry = buf[:exc.start], buf[exc.start:]
        lines += good.count(b"\n")
        if not chunk:
            return None


def check_encoding(src: _Source) -> list[FeedProblem]:
    """GTFS text is UTF-8 (a byte order mark is allowed): name the first bad line per file."""
    problems = []
    for name in sorted(src.names()):
        if not name.endswith(".txt"):
            continue
        with src.open(name) as stream:
            bad = _first_bad_utf8(stream)
        if bad is not None:
            line, raw = bad
            problems.append(FeedProblem(
                name, "text is not UTF-8 (save the file as UTF-8)", line, None,
                raw.hex(" "), "invalid_encoding"))
    return problems


def _read_text_table(src: _Source, name: str) -> pd.DataFrame | None:
    data = src.read_bytes(name)
    if not data:
        return None
    try:
        df = pd.read_csv(io.BytesIO(data), **_CSV)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        problem = FeedProblem(name, f"not a readable CSV file: {exc}", code="csv_parsing_failed")
        raise FeedError(src.operator, [problem]) from exc
    df.columns = [c.strip() for c in df.columns]
    return df


def _diagnose_types(src: _Source) -> list[FeedProblem]:
    """Find the cells that gtfs-kit could not convert to their GTFS type."""
    problems: list[FeedProblem] = []
    for table, dtypes in gk_constants.DTYPES.items():
        df = _read_text_table(src, f"{table}.txt")
        if df is None:
            continue
        for col, dtype in dtypes.items():
            if col not in df.columns or dtype == "string":
                continue
            text = df[col].str.strip()
            filled = text != ""
            numbers = pd.to_numeric(text.where(filled), errors="coerce")
            bad = filled & numbers.isna()
            if dtype.lower().startswith("int"):
                bad |= filled & numbers.notna() & (numbers % 1 != 0)
            for i in bad[bad].index[:5]:
                problems.append(
                    FeedProblem(
                        f"{table}.txt", f"not a valid {dtype.lower()}", int(i) + 2, col, df[col][i],
                        "invalid_integer" if dtype.lower().startswith("int") else "invalid_float",
                    )
                )
    return problems


def _strip_ids(df: pd.DataFrame | None) -> pd.DataFrame | None:
    """IDs are compared as text: "8813003_3   " in stops.txt is the stop_times' "8813003_3"."""
    if df is None:
        return None
    for col in df.columns:
        if col.endswith("_id") or col in ("parent_station", "from_stop_id", "to_stop_id"):
            df[col] = df[col].astype("string").str.strip()
    return df


def read_translations(src: _Source) -> pd.DataFrame | None:
    """translations.txt in either layout, as rows (table, field, language, translation, key).

    `key` is ("record", record_id) or ("value", field_value). The old Google layout
    (trans_id, lang, translation) translates any field whose text equals trans_id.
    """
    df = _read_text_table(src, "translations.txt")
    if df is None or df.empty:
        return None
    cols = set(df.columns)
    if {"trans_id", "lang", "translation"} <= cols:
        return pd.DataFrame(
            {
                "table_name": "*",
                "field_name": "*",
                "language": df["lang"].str.strip().str.lower(),
                "translation": df["translation"],
                "record_id": "",
                "record_sub_id": "",
                "field_value": df["trans_id"],
            }
        )
    needed = {"table_name", "field_name", "language", "translation"}
    if not needed <= cols:
        missing = sorted(needed - cols)
        raise FeedError(
            src.operator,
            [FeedProblem("translations.txt", "required column is missing", None, missing[0],
                         code="missing_required_column")],
        )
    out = df.reindex(
        columns=[
            "table_name",
            "field_name",
            "language",
            "translation",
            "record_id",
            "record_sub_id",
            "field_value",
        ],
        fill_value="",
    )
    out["language"] = out["language"].str.strip().str.lower()
    return out


def source_digest(operator: str, path: Path) -> str:
    """A short content hash of a feed, to tell whether it changed since the last ingest."""
    if not path.exists():
        raise FeedError(operator, [FeedProblem(path.name, "file or folder does not exist")])
    return _digest(path)


def read_gtfs(operator: str, path: Path, limits: ArchiveLimits | None = None,
              scratch: Path | None = None) -> GtfsFeed:
    """Read a feed; raise FeedError naming file, line and field when it cannot be read."""
    with feed_folder(operator, path, limits, scratch) as (folder, warnings):
        src = _Source(operator, folder)
        _check_layout(src, warnings)
        bad_text = check_encoding(src)
        if bad_text:
            raise FeedError(operator, bad_text + warnings)
        try:
            feed = gtfs_kit.read_feed(folder, dist_units="km")
        except (ValueError, TypeError) as exc:
            problems = _diagnose_types(src) or [
                FeedProblem(path.name, f"unreadable: {exc}", code="csv_parsing_failed")]
            raise FeedError(operator, problems) from exc
        tables = {name: _strip_ids(getattr(feed, name, None)) for name in gk_constants.DTYPES}
        # HAFAS exports (SNCB) give each call's platform only here: per trip, stop_sequence
        # and service_id, the platform stop it uses (as iRail reads them)
        tables["stop_time_overrides"] = _strip_ids(
            _read_text_table(src, "stop_time_overrides.txt"))
        for name in FARES_V2_TABLES:
            tables[name] = _strip_ids(_read_text_table(src, f"{name}.txt"))
        return GtfsFeed(
            operator=operator,
            source=str(path),
            digest=_digest(path),
            tables=tables,
            translations=read_translations(src),
            warnings=warnings,
        )
