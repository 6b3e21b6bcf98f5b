"""Feed archives that are odd, broken or hostile: what is read, what is refused, at what cost.

The bombs are ingested by a real `transit ingest` process, whose peak memory (its own
rusage, from wait4) must stay far below what the bomb expands to.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import build
from tests.feeds import BASE, write_feed
from tests.http_server import serve_file
from tests.zip_bombs import Member, MiB, feed_members, write_zip
from transit.catalog import parse_feed_option, with_feeds
from transit.errors import FeedError, FeedFetchError
from transit.ingest.archive import ArchiveError, ArchiveLimits, open_archive
from transit.ingest.fetch import materialize
from transit.timetable.store import Store

ROOT = Path(__file__).resolve().parents[1]
OLD_STOPS = "stop_id,stop_name,stop_lat,stop_lon\nS1,Old First,50,4\nS2,Old Second,50.01,4\n" \
            "S3,Old Third,50.02,4\n"


@dataclass
class Run:
    code: int
    output: str
    peak_mib: float
    seconds: float


# Runs a command and prints its exit code, output and peak RSS as JSON. A small parent of
# its own, because a child forked from pytest would count pytest's pages in its maximum.
_PEAK = ("import json, resource, subprocess, sys\n"
         "p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)\n"
         "print(json.dumps({'code': p.returncode, 'output': p.stdout.decode(), 'peak_kib': "
         "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))")


def ingest_process(tmp_path: Path, feed: Path, **env: str) -> Run:
    """`transit ingest --feed X=feed` in its own process, with its peak RSS."""
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", _PEAK, sys.executable, "-m", "transit", "ingest",
         "--data-dir", str(tmp_path / "data"), "--feed", f"X={feed}"],
        cwd=ROOT, capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env})
    r = json.loads(proc.stdout)
    return Run(r["code"], r["output"], r["peak_kib"] / 1024, time.monotonic() - t0)


def stop_names(data: Path) -> list[str]:
    tt = Store(data).load_current()
    assert tt is not None
    return tt.columns["stop_name"].to_list()  # type: ignore[union-attr]


# -- which members are read


def test_only_root_members_are_read_and_the_others_are_named(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "feed.zip", [*feed_members(BASE), Member(
        "old/stops.txt", OLD_STOPS.encode()), Member("old/notes.txt", b"x")])
    report = build({"X": path}, tmp_path / "data")
    assert stop_names(tmp_path / "data") == ["First", "Second", "Third"]
    assert report.warnings == {"X": [
        "feed.zip: ignored members not in the root of the zip: old/notes.txt, old/stops.txt"]}


def test_a_feed_inside_one_folder_is_read(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "feed.zip",
                     [Member(f"gtfs/{n}", t.encode()) for n, t in BASE.items()])
    report = build({"X": path}, tmp_path / "data")
    assert stop_names(tmp_path / "data") == ["First", "Second", "Third"]
    # accepted, with a warning (issue 11: common in practice, but not what GTFS asks)
    assert report.warnings == {"X": [
        "feed.zip: the feed's files are inside the folder gtfs/ of the zip, not at its root; "
        "read from there (GTFS wants them at the root)"]}


def test_a_member_climbing_out_of_the_archive_is_refused(tmp_path: Path) -> None:
    files = {n: t for n, t in BASE.items() if n != "stops.txt"}
    path = write_zip(tmp_path / "feed.zip", [*feed_members(files),
                                             Member("../stops.txt", BASE["stops.txt"].encode())])
    with pytest.raises(ArchiveError) as info:
        build({"X": path}, tmp_path / "data")
    assert info.value.code == "unsafe-path"
    assert [str(p) for p in info.value.problems] == [
        "../stops.txt: member path leaves the archive (absolute or '..'); refusing the feed"]
    assert Store(tmp_path / "data").current_version() is None


def test_a_symlink_member_is_refused(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "feed.zip", [*feed_members(
        {n: t for n, t in BASE.items() if n != "stops.txt"}),
        Member("stops.txt", b"/etc/passwd", mode=stat.S_IFLNK | 0o777)])
    with pytest.raises(ArchiveError) as info:
        build({"X": path}, tmp_path / "data")
    assert (info.value.code, str(info.value.problems[0])) == (
        "symlink", "stops.txt: member is a symbolic link; refusing the feed")


# -- broken archives


def _corrupt(path: Path, member: str) -> Path:
    """Overwrite the middle of a member's deflate data with garbage."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode())
    for i in range(start + 5, start + info.compress_size - 2):
        data[i] = 0xFF
    path.write_bytes(bytes(data))
    return path


def test_corrupt_deflate_data_is_a_clear_error_and_nothing_is_published(
        tmp_path: Path) -> None:
    big_stops = "stop_id,stop_name,stop_lat,stop_lon\n" + "".join(
        f"S{i},Stop number {i},50.{i:04d},4.0\n" for i in range(1, 400))
    feed = write_feed(tmp_path / "feed", {"stops.txt": big_stops})
    assert ingest_process(tmp_path, feed).code == 0
    store = Store(tmp_path / "data", with_feeds(None, [parse_feed_option(f"X={feed}")]).network)
    version = store.current_version()
    assert version is not None
    run = ingest_process(tmp_path, _corrupt(feed, "stops.txt"))
    assert run.code == 2, run.output
    assert "Traceback" not in run.output
    assert "error: feed of operator X is not usable:\n  stops.txt: corrupt zip data (" \
        in run.output
    assert "nothing was published" in run.output
    assert store.current_version() == version


def test_a_truncated_zip_is_a_clear_error(tmp_path: Path) -> None:
    path = write_feed(tmp_path / "feed", {})
    path.write_bytes(path.read_bytes()[:-40])  # the end of the central directory is gone
    with pytest.raises(FeedError) as info:
        build({"X": path}, tmp_path / "data")
    assert str(info.value.problems[0]) == "feed.zip: not a zip archive of GTFS text files"


# -- limits checked before reading


def test_limits_on_members_sizes_and_ratio(tmp_path: Path) -> None:
    feed = feed_members(BASE)
    small = ArchiveLimits(max_members=10, max_member_bytes=50 * MiB, max_total_bytes=60 * MiB,
                          max_ratio=100)

    def code(members: list[Member]) -> tuple[str, str]:
        path = write_zip(tmp_path / "z.zip", members)
        with pytest.raises(ArchiveError) as info:
            open_archive("X", path, small)
        return info.value.code, str(info.value.problems[0])

    assert code(feed + [Member(f"n{i}.txt", b"x") for i in range(5)]) == (
        "too-many-members", "z.zip: 11 members, more than the limit of 10")
    assert code([*feed, Member("shapes.txt", b"\x00" * MiB, 51)]) == (
        "member-too-large", "shapes.txt: expands to 51.0 MiB, more than the limit of 50.0 MiB")
    noise = os.urandom(MiB)
    assert code([*feed, Member("a.bin", noise, 40), Member("b.bin", noise, 40)]) == (
        "total-too-large", "z.zip: members expand to 80.0 MiB in all, more than the limit of "
        "60.0 MiB")
    assert code([*feed, Member("shapes.txt", b"\x00" * MiB, 20)])[0] == "ratio-too-high"
    # a small member may compress well: only members above 1 MiB are held to the ratio
    ok = write_zip(tmp_path / "ok.zip", [*feed, Member("feed_info.txt", b" " * 500_000)])
    assert open_archive("X", ok, small).tables["feed_info.txt"].file_size == 500_000


def test_a_header_that_understates_a_member_is_caught_while_streaming(tmp_path: Path) -> None:
    rows = "T1,08:00:00,08:00:00,S1,1\n" * 4000
    path = write_zip(tmp_path / "feed.zip", [
        *feed_members({n: t for n, t in BASE.items() if n != "stop_times.txt"}),
        Member("stop_times.txt", rows.encode(), 100, declared_size=1000)])
    with pytest.raises(ArchiveError) as info:
        build({"X": path}, tmp_path / "data")
    assert info.value.problems[0].file == "stop_times.txt"
    assert info.value.code in ("corrupt", "member-too-large")


# -- the bombs of the report, in a real process


def test_zip_bombs_are_refused_before_reading_with_little_memory(tmp_path: Path) -> None:
    baseline = ingest_process(tmp_path / "good", write_feed(tmp_path / "good", {}))
    assert baseline.code == 0, baseline.output
    extra = write_zip(tmp_path / "extra.zip", [
        *feed_members(BASE), Member("padding.bin", b"\0" * MiB, 4095)])  # 4 MB -> 4 GiB
    rows = ("T1,08:00:00,08:00:00,S1,1\n" * 40_000).encode()
    table = write_zip(tmp_path / "rows.zip", [  # 1.5 GiB of valid rows in stop_times.txt
        *feed_members({n: t for n, t in BASE.items() if n != "stop_times.txt"}),
        Member("stop_times.txt", rows, 1536 * MiB // len(rows))])
    lying = write_zip(tmp_path / "lying.zip", [
        *feed_members({n: t for n, t in BASE.items() if n != "stop_times.txt"}),
        Member("stop_times.txt", rows, 1536 * MiB // len(rows), declared_size=10 * MiB)])
    results = {}
    for name, path in (("extra", extra), ("rows", table), ("lying", lying)):
        run = ingest_process(tmp_path / name, path)
        results[name] = run
        assert run.code == 2, run.output
        assert "Traceback" not in run.output and "nothing was published" in run.output
        assert run.peak_mib < min(baseline.peak_mib + 100, 300), (name, run.peak_mib)
    assert "padding.bin: expands to 4.0 GiB, more than the limit of 512.0 MiB" \
        in results["extra"].output
    assert "stop_times.txt: expands to 1.5 GiB, more than the limit of 512.0 MiB" \
        in results["rows"].output
    # the header says 10 MiB: reading stops there, and the checksum tells the lie
    assert "stop_times.txt: corrupt zip data (BadZipFile: Bad CRC-32" in results["lying"].output
    print({n: f"peak {r.peak_mib:.0f} MiB in {r.seconds:.1f} s" for n, r in results.items()},
          f"baseline {baseline.peak_mib:.0f} MiB")


def test_a_download_is_capped(tmp_path: Path) -> None:
    body = write_feed(tmp_path / "served", {}).read_bytes()
    for send_length in (True, False):
        with serve_file("/feed.zip", body, send_length=send_length) as served:
            with pytest.raises(FeedFetchError) as info:
                materialize("A", served.url, tmp_path / "cache", max_bytes=len(body) - 1)
            assert str(info.value) == (
                f"operator A: GET {served.url} is larger than the download limit of "
                f"{len(body) - 1} bytes (TRANSIT_FEED_MAX_DOWNLOAD_BYTES)")
            assert not (tmp_path / "cache" / "A.zip").exists()
            assert [p.name for p in (tmp_path / "cache").iterdir()] == []
            assert materialize("A", served.url, tmp_path / "cache",
                               max_bytes=len(body)).read_bytes() == body
            (tmp_path / "cache" / "A.zip").unlink()
            (tmp_path / "cache" / "A.http.json").unlink()
