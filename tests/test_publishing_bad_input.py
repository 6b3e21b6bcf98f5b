"""What bad input gets at POST /v1/operators/{id}/feeds: 413 over the limit, 422 at once for
what is not a readable feed zip (or a hostile one), a rejected version with its report for
what only reading the members shows; and nothing served changes, nothing is left behind."""

from __future__ import annotations

import io
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.feeds import BASE
from tests.publishing_support import Api, api_for, feed_zip
from tests.zip_bombs import Member, MiB, feed_members, write_zip

LIMIT = 8 * MiB  # above the 4 GiB bomb (4 MiB of zip), below what the tests send


@pytest.fixture
def api(db_url: str, tmp_path: Path) -> Iterator[Api]:
    with api_for(db_url, tmp_path, max_feed_bytes=LIMIT) as a:
        assert a.publish("A", a.staged("A", feed_zip())["id"]).status_code == 200
        yield a


def _problem(api: Api, body: bytes, status: int = 422) -> dict:
    r = api.upload("A", body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return r.json()


def _crafted(tmp_path: Path, extra: list[Member], drop: str | None = None) -> bytes:
    files = {n: t for n, t in BASE.items() if n != drop}
    return write_zip(tmp_path / "crafted.zip", [*feed_members(files), *extra]).read_bytes()


def _nothing_changed(api: Api) -> None:
    """Served as before; one version (the first); no scratch file left behind."""
    assert api.trip_ids() == ["A:T1"]
    versions = api.client.get("/v1/operators/A/feeds", headers=api.auth("A")).json()
    assert len(versions["versions"]) == 1
    scratch = api.data / "scratch"
    left = [p for p in scratch.rglob("*") if p.is_file()] if scratch.exists() else []
    assert left == []


def test_a_body_over_the_limit_is_413(api: Api) -> None:
    big = b"PK\x03\x04" + b"\0" * (LIMIT + 70_000)
    p = _problem(api, big, 413)  # Content-Length alone says it: refused before reading
    assert p["detail"] == f"the feed is over the limit of {LIMIT} bytes (TRANSIT_MAX_FEED_BYTES)"
    # within the multipart slack, the count while streaming catches it
    p = _problem(api, b"\0" * (LIMIT + 1), 413)
    # a chunked body (no Content-Length) is counted while it streams
    boundary = "b0undary"
    parts = [f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
             "filename=\"f.zip\"\r\nContent-Type: application/zip\r\n\r\n".encode(),
             *([b"\0" * MiB] * 9), f"\r\n--{boundary}--\r\n".encode()]
    r = api.client.post("/v1/operators/A/feeds", content=iter(parts), headers={
        **api.auth("A"), "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert r.status_code == 413, r.text
    _nothing_changed(api)


def test_not_a_zip_truncated_or_empty_is_422_at_once(api: Api) -> None:
    good = feed_zip()
    cases = {
        b"": ("empty", "the feed is empty (0 bytes)"),
        b"agency_id,agency_name\nA,x\n": ("not_a_zip", "the feed is not a zip archive"),
        good[: len(good) // 2]: ("truncated", "the zip is truncated or damaged"),
        good[:-10]: ("truncated", "the zip is truncated or damaged"),
    }
    empty_zip = io.BytesIO()
    zipfile.ZipFile(empty_zip, "w").close()
    cases[empty_zip.getvalue()] = ("empty_zip", "the zip holds no GTFS text file")
    for body, (code, detail) in cases.items():
        p = _problem(api, body)
        assert (p["code"], p["detail"][:len(detail)]) == (code, detail), p
        assert p["parameter"] == "file"
    _nothing_changed(api)


def test_hostile_archives_are_422_at_once(api: Api, tmp_path: Path) -> None:
    cases = [
        ([Member("padding.bin", b"\0" * MiB, 4095)], None, "member_too_large",
         "padding.bin: expands to 4.0 GiB, more than the limit of 512.0 MiB"),
        ([Member("shapes.txt", b"\0" * MiB, 300)], None, "ratio_too_high",
         "shapes.txt: compressed"),
        ([Member(f"extra{i}.bin", b"x") for i in range(600)], None, "too_many_members",
         "the zip: 606 members, more than the limit of 500"),
        ([Member("/etc/stops.txt", BASE["stops.txt"].encode())], "stops.txt", "unsafe_path",
         "/etc/stops.txt: member path leaves the archive"),
        ([Member("../stops.txt", BASE["stops.txt"].encode())], "stops.txt", "unsafe_path",
         "../stops.txt: member path leaves the archive"),
        ([Member("stops.txt", b"/etc/passwd", mode=stat.S_IFLNK | 0o777)], "stops.txt",
         "symlink", "stops.txt: member is a symbolic link"),
        ([Member("stops.txt", b"x", mode=stat.S_IFCHR | 0o666)], "stops.txt",
         "special_file", "stops.txt: member is a device, pipe or socket"),
        ([Member("NUL.txt", b"x")], None, "device_name", "NUL.txt: member is named after a "
         "device"),
    ]
    for extra, drop, code, detail in cases:
        p = _problem(api, _crafted(tmp_path, extra, drop))
        assert (p["code"], p["detail"][:len(detail)]) == (code, detail), p
    _nothing_changed(api)


def test_what_only_reading_shows_is_a_rejected_version_with_its_report(
        api: Api, tmp_path: Path) -> None:
    rows = ("T1,08:00:00,08:00:00,S1,1\n" * 4000).encode()
    lying = _crafted(tmp_path, [Member("stop_times.txt", rows, 100, declared_size=1000)],
                     "stop_times.txt")
    v = api.staged("A", lying)
    assert v["status"] == "rejected"
    [n] = v["report"]["notices"]
    assert (n["file"], n["severity"]) == ("stop_times.txt", "error")
    assert n["code"] in ("corrupt", "member_too_large")
    assert api.trip_ids() == ["A:T1"]
    assert [p for p in (api.data / "scratch").rglob("*") if p.is_file()] == []


def test_malformed_requests(api: Api) -> None:
    r = api.client.post("/v1/operators/A/feeds", content=feed_zip(),
                        headers={**api.auth("A"), "Content-Type": "application/zip"})
    assert r.status_code == 415
    r = api.client.post("/v1/operators/A/feeds", data={"other": "x"},
                        files={"notfile": ("f.zip", feed_zip())}, headers=api.auth("A"))
    assert r.status_code == 422 and "no `file` field" in r.json()["detail"]
    r = api.client.post("/v1/operators/A/feeds", files=[
        ("file", ("a.zip", feed_zip())), ("file", ("b.zip", feed_zip()))],
        headers=api.auth("A"))
    assert r.status_code == 422 and "one feed per request" in r.json()["detail"]
    r = api.client.post("/v1/operators/A/feeds", content=b"--x\r\nnonsense",
                        headers={**api.auth("A"), "Content-Type": "multipart/form-data"})
    assert r.status_code == 422 and "boundary" in r.json()["detail"]
    r = api.client.post("/v1/operators/A/feeds", content=b"{" + b" " * 9000 + b"}",
                        headers={**api.auth("A"), "Content-Type": "application/json"})
    assert r.status_code == 413
    _nothing_changed(api)
