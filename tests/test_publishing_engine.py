"""Feed versions without the web: report, diff, policy, stage, publish, rollback, preview."""

from __future__ import annotations

import threading
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from tests.feeds import BASE, write_feed
from transit.catalog import Catalog, Operator
from transit.clock import FixedClock
from transit.ingest.pipeline import compile_operator
from transit.publishing.diff import diff_parts
from transit.publishing.release import Releases, UnknownPart
from transit.timetable.store import Store
from transit.timetable.timetable import Timetable

CLOCK = FixedClock(datetime.fromisoformat("2026-03-02T08:00+01:00"))
ST_HEAD = "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
TRIPS_HEAD = "route_id,service_id,trip_id,trip_headsign\n"


def op(op_id: str) -> Operator:
    return Operator(op_id, f"Operator {op_id}", "")


def releases(tmp_path: Path, keep: int = 5) -> Releases:
    return Releases(Store(tmp_path / "data"), Catalog(()), CLOCK, keep=keep)


def many_trips(n: int, service: str = "DAILY") -> dict[str, str]:
    trips = TRIPS_HEAD + "".join(f"R1,{service},T{i},Third\n" for i in range(n))
    st = ST_HEAD + "".join(f"T{i},08:{i % 60:02d}:00,08:{i % 60:02d}:00,S1,1\n"
                           f"T{i},09:{i % 60:02d}:00,09:{i % 60:02d}:00,S3,2\n"
                           for i in range(n))
    return {"trips.txt": trips, "stop_times.txt": st}


# -- the report


def test_report_lists_the_first_1000_notices_of_a_code_and_counts_them_all(
        tmp_path: Path) -> None:
    st = ST_HEAD + "".join(f"T1,8h{i},08:00:00,S1,{i}\n" for i in range(1500))
    staged = releases(tmp_path).stage(op("A"), write_feed(tmp_path / "f", {
        "stop_times.txt": st}))
    assert staged.status == "rejected" and staged.part is None
    body = staged.report.to_json()
    assert body["counts"] == {"error": 1500, "warning": 0, "info": 0}
    assert body["codes"] == [{"code": "invalid_time", "severity": "error", "total": 1500,
                              "listed": 1000}]
    first = body["notices"][0]
    assert first == {"code": "invalid_time", "severity": "error",
                     "message": "not a time HH:MM:SS", "file": "stop_times.txt", "line": 2,
                     "field": "arrival_time", "value": "8h0", "blocking": False}
    assert body["notices"][999]["line"] == 1001
    # nothing was written: a rejected feed leaves the store as it was
    assert not (tmp_path / "data" / "parts").exists()


def test_reference_and_duplicate_problems_have_validator_codes(tmp_path: Path) -> None:
    staged = releases(tmp_path).stage(op("A"), write_feed(tmp_path / "f", {
        "trips.txt": TRIPS_HEAD + "R1,DAILY,T1,Third\nR9,DAILY,T1,Third\n"}))
    codes = {(n.code, n.file, n.line, n.field, n.value) for n in staged.report.notices}
    assert codes == {("duplicate_key", "trips.txt", 3, "trip_id", "T1"),
                     ("foreign_key_violation", "trips.txt", 3, "route_id", "R9")}


def test_text_not_in_utf8_is_an_error_naming_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in BASE.items():
            data = text.encode()
            if name == "stops.txt":
                data = data.replace(b"Third", "Troisi\u00e8me".encode("latin-1"))
            zf.writestr(name, data)
    staged = releases(tmp_path).stage(op("A"), path)
    assert staged.status == "rejected"
    [n] = staged.report.notices
    assert (n.code, n.severity, n.file, n.line, n.value) == (
        "invalid_encoding", "error", "stops.txt", 4, "e8")
    assert "not UTF-8" in n.message


def test_a_byte_order_mark_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "bom.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in BASE.items():
            zf.writestr(name, "\ufeff" + text)
    staged = releases(tmp_path).stage(op("A"), path)
    assert staged.status == "staged", staged.report.to_json()


def test_a_multibyte_character_across_a_chunk_boundary_is_fine() -> None:
    import io

    from transit.ingest.reader import _first_bad_utf8

    text = ("a" * 9 + "\u00e9\n") * 3
    assert _first_bad_utf8(io.BytesIO(text.encode()), chunk_size=10) is None
    assert _first_bad_utf8(io.BytesIO(text.encode() + b"\xc3"), chunk_size=10) == (4, b"\xc3")
    assert _first_bad_utf8(io.BytesIO(b"ok\nok\n\xff\n"), chunk_size=2) == (3, b"\xff")


# -- the diff


def test_diff_against_the_published_part(tmp_path: Path) -> None:
    old = compile_operator(op("A"), write_feed(tmp_path / "old", {}))
    new_files = {
        "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\n"
                     "S1,First,50.0000,4.0000\nS2,Second Street,50.0100,4.0000\n"
                     "S3,Third,50.0220,4.0000\nS4,Fourth,50.0300,4.0000\n",
        "routes.txt": BASE["routes.txt"] + "R2,A,2,Line Two,3\n",
        "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
                        "start_date,end_date\nDAILY,1,1,1,1,1,1,1,20260101,20261130\n",
        "trips.txt": TRIPS_HEAD + "R1,DAILY,T1,Third\nR2,DAILY,T2,Fourth\n",
        "stop_times.txt": ST_HEAD + "T1,08:00:00,08:00:00,S1,1\nT1,08:12:00,08:12:00,S2,2\n"
                          "T1,08:20:00,08:20:00,S3,3\nT2,09:00:00,09:00:00,S3,1\n"
                          "T2,09:05:00,09:05:00,S4,2\n",
    }
    new = compile_operator(op("A"), write_feed(tmp_path / "new", new_files))
    d = diff_parts(old, new)
    assert d["routes"]["added"] == ["A:R2"] and d["routes"]["counts"] == {
        "added": 1, "removed": 0, "changed": 0, "unchanged": 1}
    assert d["stops"]["added"] == ["A:S4"]
    assert d["stops"]["changed"] == ["A:S2", "A:S3"]  # renamed; moved 222 m
    assert d["stops"]["moved"] == [{"stop_id": "A:S3", "distance_m": 222.4}]
    assert d["trips"]["added"] == ["A:T2"] and d["trips"]["changed"] == ["A:T1"]
    assert d["services"]["changed"] == ["A:DAILY"]
    assert d["service_days"]["counts"] == {"added": 0, "removed": 31}
    assert d["service_days"]["removed"][0] == "2026-12-01"
    assert d["first_service_date"] == {"published": "2026-01-01", "new": "2026-01-01"}
    assert d["last_service_date"] == {"published": "2026-12-31", "new": "2026-11-30"}
    # nothing published yet: everything is added
    first = diff_parts(None, old)
    assert first["trips"]["added"] == ["A:T1"]
    assert first["first_service_date"] == {"published": None, "new": "2026-01-01"}


# -- policy


def test_no_service_in_the_next_7_days_is_a_blocking_error(tmp_path: Path) -> None:
    cal = ("service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,"
           "end_date\nDAILY,1,1,1,1,1,1,1,20260309,20261231\n")
    staged = releases(tmp_path).stage(op("A"), write_feed(tmp_path / "f", {
        "calendar.txt": cal}))
    assert staged.status == "staged"
    [n] = staged.report.blocking
    assert (n.code, n.severity) == ("no_service_next_7_days", "error")
    assert "from 2026-03-02 to 2026-03-08" in n.message
    # starting on the 7th day is service within the next 7 days
    cal = cal.replace("20260309", "20260308")
    staged = releases(tmp_path).stage(op("A"), write_feed(tmp_path / "g", {
        "calendar.txt": cal}))
    assert staged.report.blocking == []


def test_removing_more_than_half_of_the_trips_is_a_blocking_error(tmp_path: Path) -> None:
    r = releases(tmp_path)
    first = r.stage(op("A"), write_feed(tmp_path / "v1", many_trips(10)))
    r.publish(op("A"), first.part)
    half = r.stage(op("A"), write_feed(tmp_path / "v2", many_trips(5)))
    assert half.report.blocking == []  # 5 of 10 removed: not more than half
    fewer = r.stage(op("A"), write_feed(tmp_path / "v3", many_trips(4)))
    [n] = fewer.report.blocking
    assert n.code == "trips_removed_over_half"
    assert "removes 6 of the 10 trips now published (60%)" in n.message


# -- stage, publish, rollback, preview


def _trips_served(store: Store) -> list[str]:
    tt = store.load_current()
    assert tt is not None
    return tt.strings("trip_id").to_list()


def test_stage_changes_nothing_served_publish_does_and_rollback_needs_no_upload(
        tmp_path: Path) -> None:
    r = releases(tmp_path)
    v1 = r.stage(op("A"), write_feed(tmp_path / "v1", many_trips(2)))
    assert r.store.current_version() is None
    p1 = r.publish(op("A"), v1.part)
    assert p1.previous_part is None
    assert _trips_served(r.store) == ["A:T0", "A:T1"]
    upload = write_feed(tmp_path / "v2", many_trips(3))
    v2 = r.stage(op("A"), upload)
    assert _trips_served(r.store) == ["A:T0", "A:T1"]
    assert v2.diff["trips"]["added"] == ["A:T2"]
    p2 = r.publish(op("A"), v2.part)
    assert p2.previous_part == v1.part
    assert _trips_served(r.store) == ["A:T0", "A:T1", "A:T2"]
    upload.unlink()
    back = r.publish(op("A"), p2.previous_part)
    assert back.previous_part == v2.part
    assert _trips_served(r.store) == ["A:T0", "A:T1"]
    assert r.store.current_part_name("A") == v1.part


def test_old_parts_are_kept_up_to_the_configured_count(tmp_path: Path) -> None:
    r = releases(tmp_path, keep=2)
    names = []
    for i in range(1, 5):
        s = r.stage(op("A"), write_feed(tmp_path / f"v{i}", many_trips(i)))
        r.publish(op("A"), s.part)
        names.append(s.part)
    assert [r.store.has_part("A", n) for n in names] == [False, False, True, True]
    with pytest.raises(UnknownPart, match="only the newest 2 are kept"):
        r.publish(op("A"), names[0])


def test_publishing_one_operator_keeps_the_others(tmp_path: Path) -> None:
    r = releases(tmp_path)
    for name in ("A", "B"):
        r.publish(op(name), r.stage(op(name), write_feed(tmp_path / name, {})).part)
    s = r.stage(op("B"), write_feed(tmp_path / "B2", many_trips(2)))
    r.publish(op("B"), s.part)
    assert _trips_served(r.store) == ["A:T1", "B:T0", "B:T1"]
    meta = r.store.load_current().meta
    assert [o["id"] for o in meta["operators"]] == ["A", "B"]
    assert meta["operators"][0]["name"] == "Operator A"


def test_two_operators_publishing_at_the_same_moment_both_land(tmp_path: Path) -> None:
    r = releases(tmp_path)
    for name in ("A", "B"):
        r.publish(op(name), r.stage(op(name), write_feed(tmp_path / name, {})).part)
    staged = {name: r.stage(op(name), write_feed(tmp_path / f"{name}2", many_trips(3)))
              for name in ("A", "B")}
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def go(name: str) -> None:
        try:
            barrier.wait()
            # each thread its own Releases, as two processes would have
            Releases(Store(tmp_path / "data"), Catalog(()), CLOCK).publish(
                op(name), staged[name].part)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(n,)) for n in ("A", "B")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _trips_served(r.store) == [f"{o}:T{i}" for o in "AB" for i in range(3)]


def test_preview_puts_the_staged_part_in_place_of_the_published_one(tmp_path: Path) -> None:
    r = releases(tmp_path)
    for name in ("A", "B"):
        r.publish(op(name), r.stage(op(name), write_feed(tmp_path / name, {})).part)
    served = r.store.current_version()
    s = r.stage(op("A"), write_feed(tmp_path / "A2", many_trips(2)))
    path = r.preview(op("A"), s.part)
    tt = Timetable.load(path)
    assert tt.strings("trip_id").to_list() == ["A:T0", "A:T1", "B:T1"]
    assert r.store.current_version() == served
    assert r.preview(op("A"), s.part) == path  # cached
    assert path.stat().st_mtime == r.preview(op("A"), s.part).stat().st_mtime


def test_a_feed_inside_one_folder_is_staged_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "nested.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in BASE.items():
            zf.writestr(f"google_transit/{name}", text)
    staged = releases(tmp_path).stage(op("A"), path)
    assert staged.status == "staged"
    [n] = staged.report.notices
    assert (n.code, n.severity, n.file) == (
        "invalid_input_files_in_subfolder", "warning", None)
    assert staged.report.to_json()["counts"] == {"error": 0, "warning": 1, "info": 0}


def test_publishing_imports_nothing_from_the_web() -> None:
    """Jobs, the command line and scripts stage and publish without a web stack."""
    from tests.test_accounts import WEB, _imports

    files = list((Path(__file__).resolve().parents[1] / "transit" / "publishing").glob("*.py"))
    assert len(files) >= 6
    for path in files:
        web = {n for n in _imports(path) if n.split(".")[0] in WEB or n.startswith(WEB)}
        assert not web, (path, web)


def test_a_publish_takes_the_preview_merged_over_the_same_served_network(
        tmp_path: Path) -> None:
    r = releases(tmp_path)
    for name in ("A", "B"):
        r.publish(op(name), r.stage(op(name), write_feed(tmp_path / name, {})).part)
    a2 = r.stage(op("A"), write_feed(tmp_path / "A2", many_trips(2)))
    preview = r.preview(op("A"), a2.part)
    done = r.publish(op("A"), a2.part)
    assert done.seconds["reused_preview"] == 1.0
    assert not preview.exists()  # renamed into the versions
    tt = r.store.load_current()
    assert tt.version == done.version and tt.meta["version"] == done.version
    assert "preview" not in tt.meta
    assert tt.strings("trip_id").to_list() == ["A:T0", "A:T1", "B:T1"]
    # a preview over a network that changed since is not taken: the publish merges anew
    b2 = r.stage(op("B"), write_feed(tmp_path / "B2", many_trips(3)))
    r.preview(op("B"), b2.part)
    a3 = r.stage(op("A"), write_feed(tmp_path / "A3", many_trips(1)))
    assert r.publish(op("A"), a3.part).seconds["reused_preview"] == 0.0
    done = r.publish(op("B"), b2.part)
    assert done.seconds["reused_preview"] == 0.0
    assert r.store.load_current().strings("trip_id").to_list() == [
        "A:T0", "B:T0", "B:T1", "B:T2"]
