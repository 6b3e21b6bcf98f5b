"""Open a feed's zip archive without trusting it, and extract the GTFS tables it holds.

A feed comes from an operator or a URL, so its zip may be corrupt, hostile or just odd:
members in sub-folders (`old/stops.txt` beside the root files), names that climb out of
the archive (`../stops.txt`), symlinks, or a small member that expands to gigabytes. Only
the GTFS text files at the root (or in the single folder the whole feed sits in) are read;
everything else is ignored and reported as a warning. Member count, each member's and the
total uncompressed size, and the compression ratio are checked against the central
directory BEFORE anything is decompressed, and again while streaming, because the sizes in
the headers are the archive's word, not a fact. Every fault raises ArchiveError (a
FeedError, so the ingest publishes nothing) naming the member and a stable `code`.
"""

from __future__ import annotations

import lzma
import re
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from transit.errors import FeedError, FeedProblem

MiB = 1024 * 1024
GiB = 1024 * MiB
CHUNK = MiB

# Tables taken from a feed: the GTFS spec's (gtfs-kit reads the classic ones; translations,
# Fares v2 and the others are read by our own readers) and the HAFAS export extension
# stop_time_overrides.txt (platforms per call, as in the SNCB feed).
GTFS_TABLES = frozenset({
    "agency", "attributions", "calendar", "calendar_dates", "fare_attributes", "fare_rules",
    "feed_info", "frequencies", "routes", "shapes", "stop_times", "stops", "transfers",
    "trips", "translations", "levels", "pathways", "fare_media", "fare_products",
    "fare_leg_rules", "fare_leg_join_rules", "fare_transfer_rules", "rider_categories",
    "areas", "stop_areas", "networks", "route_networks", "timeframes", "area_set_elements",
    "stop_time_overrides",
})
# What zipfile and the decompressors raise on damaged data (RuntimeError: a password is
# needed; NotImplementedError: an unknown compression method).
_CORRUPT = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, NotImplementedError,
            RuntimeError, ValueError, struct.error)
# Names that are devices on Windows, whatever the extension (NUL.txt is NUL).
_DEVICE = re.compile(r"^(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(\..*)?$", re.IGNORECASE)
# Junk that archivers add and nobody needs warned about.
_NOISE = ("__MACOSX/", ".DS_Store", "Thumbs.db")


@dataclass(frozen=True)
class ArchiveLimits:
    """Bounds on what a feed archive may expand to (TRANSIT_FEED_MAX_* settings).

    The defaults hold the largest real feeds we know (a country's railway is ~40 MiB
    uncompressed, ~15:1) with a wide margin, and keep an ingest well within a few GB of
    memory: reading a table costs about three times its text size.
    """

    max_members: int = 500
    max_member_bytes: int = 512 * MiB
    max_total_bytes: int = 1 * GiB
    max_ratio: float = 200.0
    ratio_floor_bytes: int = 1 * MiB  # small members may compress well without harm
    max_download_bytes: int = 512 * MiB


@dataclass
class ArchiveError(FeedError):
    """A feed archive that cannot be read safely. `code` says which kind of fault."""

    code: str = "corrupt"


def _fail(operator: str, code: str, file: str, message: str) -> ArchiveError:
    return ArchiveError(operator, [FeedProblem(file, message, code=code.replace("-", "_"))],
                        code=code)


def _size(n: int) -> str:
    return f"{n / GiB:.1f} GiB" if n >= GiB else f"{n / MiB:.1f} MiB"


@dataclass
class Archive:
    """The members of a zip chosen as the feed's tables (table file name -> member)."""

    operator: str
    path: Path
    limits: ArchiveLimits
    tables: dict[str, zipfile.ZipInfo]
    folder: str = ""
    ignored: list[str] = field(default_factory=list)

    def warnings(self) -> list[FeedProblem]:
        out = []
        if self.folder:
            out.append(FeedProblem(
                self.path.name, f"the feed's files are inside the folder {self.folder} of the "
                "zip, not at its root; read from there (GTFS wants them at the root)",
                code="invalid_input_files_in_subfolder",
                severity="warning"))
        if not self.ignored:
            return out
        shown = ", ".join(self.ignored[:5])
        more = f" and {len(self.ignored) - 5} more" if len(self.ignored) > 5 else ""
        where = f"the folder {self.folder}" if self.folder else "the root of the zip"
        return [*out, FeedProblem(self.path.name, f"ignored members not in {where}: "
                                  f"{shown}{more}", code="ignored_members", severity="warning")]

    def extract(self, dest: Path) -> list[Path]:
        """Write the chosen tables into `dest`, enforcing the limits on the bytes actually
        produced (a member's header may understate its size)."""
        dest.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        total = 0
        try:
            zf = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise _fail(self.operator, "corrupt", self.path.name, f"corrupt zip: {exc}") from exc
        with zf:
            for name, info in self.tables.items():
                target = dest / name
                total += self._copy(zf, info, target, total)
                written.append(target)
        return written

    def _copy(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path,
              total_before: int) -> int:
        lim = self.limits
        n = 0
        try:
            with zf.open(info) as src, target.open("wb") as out:
                while chunk := src.read(CHUNK):
                    n += len(chunk)
                    if n > info.file_size or n > lim.max_member_bytes:
                        raise _fail(self.operator, "member-too-large", info.filename,
                                    f"expands beyond its declared {_size(info.file_size)} "
                                    f"(limit {_size(lim.max_member_bytes)})")
                    if total_before + n > lim.max_total_bytes:
                        raise _fail(self.operator, "total-too-large", info.filename,
                                    f"the feed expands beyond {_size(lim.max_total_bytes)}")
                    out.write(chunk)
        except _CORRUPT as exc:
            raise _fail(self.operator, "corrupt", info.filename,
                        f"corrupt zip data ({type(exc).__name__}: {exc})") from exc
        return n


def _member_path(operator: str, info: zipfile.ZipInfo) -> PurePosixPath:
    """The member's path, refusing names that would climb out of the archive."""
    name = info.filename.replace("\\", "/")
    path = PurePosixPath(name)
    if name.startswith("/") or (len(name) > 1 and name[1] == ":") or ".." in path.parts:
        raise _fail(operator, "unsafe-path", info.filename,
                    "member path leaves the archive (absolute or '..'); refusing the feed")
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise _fail(operator, "symlink", info.filename,
                    "member is a symbolic link; refusing the feed")
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise _fail(operator, "special-file", info.filename,
                    "member is a device, pipe or socket, not a file; refusing the feed")
    if any(_DEVICE.match(part) for part in path.parts):
        raise _fail(operator, "device-name", info.filename,
                    "member is named after a device (CON, NUL, COM1, ...); refusing the feed")
    return path


def _check_sizes(operator: str, zip_name: str, infos: list[zipfile.ZipInfo],
                 lim: ArchiveLimits) -> None:
    if len(infos) > lim.max_members:
        raise _fail(operator, "too-many-members", zip_name,
                    f"{len(infos)} members, more than the limit of {lim.max_members}")
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise _fail(operator, "encrypted", info.filename, "member is encrypted")
        if info.file_size > lim.max_member_bytes:
            raise _fail(operator, "member-too-large", info.filename,
                        f"expands to {_size(info.file_size)}, more than the limit of "
                        f"{_size(lim.max_member_bytes)}")
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > lim.ratio_floor_bytes and ratio > lim.max_ratio:
            raise _fail(operator, "ratio-too-high", info.filename,
                        f"compressed {ratio:.0f}:1, more than the limit of "
                        f"{lim.max_ratio:.0f}:1 (a zip bomb?)")
        total += info.file_size
    if total > lim.max_total_bytes:
        raise _fail(operator, "total-too-large", zip_name,
                    f"members expand to {_size(total)} in all, more than the limit of "
                    f"{_size(lim.max_total_bytes)}")


def _feed_folder(files: dict[PurePosixPath, zipfile.ZipInfo]) -> str:
    """'' when tables sit at the root; 'x/' when every file of the feed is inside x/."""
    if any(len(p.parts) == 1 and p.suffix == ".txt" for p in files):
        return ""
    tops = {p.parts[0] for p in files if len(p.parts) > 1}
    return f"{tops.pop()}/" if len(tops) == 1 else ""


def open_archive(operator: str, path: Path, limits: ArchiveLimits | None = None) -> Archive:
    """Check a zip's central directory and choose the members that make up the feed."""
    lim = limits or ArchiveLimits()
    if not zipfile.is_zipfile(path):
        raise _fail(operator, "not-a-zip", path.name, "not a zip archive of GTFS text files")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _fail(operator, "corrupt", path.name, f"corrupt zip: {exc}") from exc
    _check_sizes(operator, path.name, infos, lim)
    files: dict[PurePosixPath, zipfile.ZipInfo] = {}
    for info in infos:
        p = _member_path(operator, info)
        if info.is_dir() or any(info.filename.startswith(n) or p.name == n for n in _NOISE):
            continue
        if p in files:
            raise _fail(operator, "duplicate-member", info.filename,
                        "the zip holds two members of this name")
        files[p] = info
    folder = _feed_folder(files)
    tables: dict[str, zipfile.ZipInfo] = {}
    ignored: list[str] = []
    for p, info in files.items():
        rel = str(p)[len(folder):] if str(p).startswith(folder) else None
        if rel is not None and "/" not in rel and rel.endswith(".txt") \
                and rel[:-4] in GTFS_TABLES:
            tables[rel] = info
        elif rel is None or "/" in rel:  # other files at the feed's level are not GTFS
            ignored.append(info.filename)
    return Archive(operator, path, lim, tables, folder, sorted(ignored))
