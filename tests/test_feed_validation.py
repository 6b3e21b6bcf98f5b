"""Bad feeds are rejected with file, line and field; nothing is published."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import build, catalog_of, client_for
from tests.feeds import BASE, write_feed
from transit.cli import app
from transit.errors import FeedError, FeedProblem
from transit.ingest.pipeline import IngestLimits, ingest
from transit.timetable.calendar import ServiceHorizon, from_day_number
from transit.timetable.store import Store


def problems_of(tmp_path: Path, files: dict[str, str | None], zipped: bool = True
                ) -> list[FeedProblem]:
    feed = write_feed(tmp_path / "bad", files, zipped=zipped)
    with pytest.raises(FeedError) as info:
        build({"X": feed}, tmp_path / "data")
    assert info.value.operator == "X"
    assert not (tmp_path / "data" / "timetables").exists()
    return info.value.problems


def test_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "feed.zip"
    path.write_text("this is not a zip")
    with pytest.raises(FeedError) as info:
        build({"X": path}, tmp_path / "data")
    assert [str(p) for p in info.value.problems] == [
        "feed.zip: not a zip archive of GTFS text files"]


def test_missing_required_file(tmp_path: Path) -> None:
    probs = problems_of(tmp_path, {"stop_times.txt": None})
    assert [(p.file, p.message) for p in probs] == [("stop_times.txt", "required file is missing")]


def test_no_calendar_at_all(tmp_path: Path) -> None:
    probs = problems_of(tmp_path, {"calendar.txt": None})
    assert [(p.file, p.message) for p in probs] == [
        ("calendar.txt or calendar_dates.txt", "required file is missing")]


def test_files_in_several_folders_of_the_zip(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "nested.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in BASE.items():
            zf.writestr(f"gtfs/{name}", text)
        zf.writestr("old/stops.txt", BASE["stops.txt"])
    with pytest.raises(FeedError) as info:
        build({"X": path}, tmp_path / "data")
    problems = [str(p) for p in info.value.problems]
    assert problems[0] == "agency.txt: required file is missing"
    assert problems[-1] == ("nested.zip: ignored members not in the root of the zip: "
                            "gtfs/agency.txt, gtfs/calendar.txt, gtfs/routes.txt, "
                            "gtfs/stop_times.txt, gtfs/stops.txt and 2 more")


def test_missing_required_column(tmp_path: Path) -> None:
    probs = problems_of(tmp_path, {"stop_times.txt": (
        "trip_id,arrival_time,stop_id,stop_sequence\nT1,08:00:00,S1,1\nT1,08:20:00,S3,2\n")})
    assert [(p.file, p.row, p.field, p.message) for p in probs] == [
        ("stop_times.txt", 1, "departure_time", "required column is missing")]


def test_unparsable_time_names_line_and_field(tmp_path: Path) -> None:
    probs = problems_of(tmp_path, {"stop_times.txt": (
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "T1,08:00:00,08:00:00,S1,1\nT1,08:1O:00,08:11:00,S2,2\nT1,08:20:00,08:20:00,S3,3\n")})
    assert [str(p) for p in probs] == [
        "stop_times.txt line 3 field arrival_time: not a time HH:MM:SS (value '08:1O:00')"]


def test_reference_to_missing_stop(tmp_path: Path) -> None:
    probs = problems_of(tmp_path, {"stop_times.txt": (
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "T1,08:00:00,08:00:00,S1,1\nT1,08:10:00,08:11:00,NOPE,2\n")})
    assert [(p.file, p.row, p.field, p.value) for p in probs] == [
        ("stop_times.txt", 3, "stop_id", "NOPE")]
    assert probs[0].message == "refers to a stop_id that is not in stops.txt"


def test_reference_to_missing_trip_and_route(tmp_path: Path) -> None:
    probs = problems_of(tmp_path, {
        "trips.txt": "route_id,service_id,trip_id\nR9,DAILY,T1\n",
        "stop_times.txt": BASE["stop_times.txt"] + "T2,09:00:00,09:00:00,S1,1\n"})
    assert sorted((p.file, p.row, p.field, p.value) for p in probs) == [
        ("stop_times.txt", 5, "trip_id", "T2"), ("trips.txt", 2, "route_id", "R9")]


def test_duplicate_ids(tmp_path: Path) -> None:
    probs = problems_of(tmp_path, {"stops.txt": BASE["stops.txt"] + "S2,Again,50.1,4.1\n"})
    assert [(p.file, p.row, p.field, p.value, p.message) for p in probs] == [
        ("stops.txt", 5, "stop_id", "S2", "duplicate stop_id, first defined on line 3")]


def test_bad_integer_names_the_cell(tmp_path: Path) -> None:
    probs = problems_of(tmp_path, {"stop_times.txt": (
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "T1,08:00:00,08:00:00,S1,1\nT1,08:10:00,08:11:00,S2,two\n")})
    assert [(p.file, p.row, p.field, p.value) for p in probs] == [
        ("stop_times.txt", 3, "stop_sequence", "two")]


def test_unknown_timezone_and_time_running_backwards(tmp_path: Path) -> None:
    probs = problems_of(tmp_path, {
        "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\n"
                      "A,Agency A,https://a.example,Europe/Atlantis\n",
        "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                          "T1,08:00:00,08:00:00,S1,1\nT1,07:50:00,07:51:00,S2,2\n"
                          "T1,08:20:00,08:20:00,S3,3\n"})
    assert [(p.file, p.row, p.field) for p in probs] == [("agency.txt", 2, "agency_timezone")]
    probs = problems_of(tmp_path, {
        "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                          "T1,08:00:00,08:00:00,S1,1\nT1,07:50:00,07:51:00,S2,2\n"
                          "T1,08:20:00,08:20:00,S3,3\n"})
    assert [(p.file, p.row, p.field, p.message) for p in probs] == [
        ("stop_times.txt", 3, "arrival_time", "time runs backwards within the trip")]


def test_untimed_last_stop(tmp_path: Path) -> None:
    probs = problems_of(tmp_path, {"stop_times.txt": (
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "T1,08:00:00,08:00:00,S1,1\nT1,,,S2,2\n")})
    assert [(p.row, p.message) for p in probs] == [
        (3, "the first and last stop of a trip must have times")]


def test_a_bad_feed_keeps_the_last_good_timetable_serving(tmp_path: Path) -> None:
    data = tmp_path / "data"
    good = write_feed(tmp_path / "good", {})
    build({"X": good}, data)
    version = Store(data).current_version()
    bad = write_feed(tmp_path / "bad", {"stops.txt": "stop_id,stop_name\n"})  # no rows
    with pytest.raises(FeedError) as info:
        build({"X": bad}, data)
    assert [(p.file, p.message) for p in info.value.problems] == [
        ("stops.txt", "file has no rows")]
    assert Store(data).current_version() == version
    assert Store(data).current_part_name("X") is not None
    with client_for(data, "2026-06-01T07:00:00+02:00") as client:
        deps = client.get("/v1/stops/X:S1/departures").json()["departures"]
        assert [d["scheduled_departure"] for d in deps] == ["2026-06-01T08:00:00+02:00"]


def test_implausible_values_are_published_with_warnings(tmp_path: Path) -> None:
    stops = BASE["stops.txt"].replace("S2,Second,50.0100,4.0000", "S2,Second,0,0")
    times = BASE["stop_times.txt"].replace("T1,08:20:00,08:20:00,S3,3",
                                           "T1,999:14:00,999:14:00,S3,3")
    feed = write_feed(tmp_path / "odd", {"stops.txt": stops, "stop_times.txt": times})
    report = build({"X": feed}, tmp_path / "data")
    expected = [
        "stops.txt line 3 field stop_lat: stop at 0,0 (in the ocean off Africa): coordinates "
        "probably missing (value '0.0')",
        "stop_times.txt line 4 field arrival_time: time more than 48 h after the service day "
        "began (value '999:14:00')"]
    assert report.warnings == {"X": expected}
    tt = Store(tmp_path / "data").load_current()
    assert tt is not None and tt.meta["operators"][0]["warnings"] == expected
    # the command line prints them
    out = CliRunner().invoke(app, ["ingest", "--data-dir", str(tmp_path / "cli"), "--feed",
                                   f"X={feed}"]).output
    assert f"warning: operator X: {expected[0]}" in out
    assert f"warning: operator X: {expected[1]}" in out


def test_a_calendar_of_millennia_is_compiled_within_the_horizon(tmp_path: Path) -> None:
    calendar = ("service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
                "start_date,end_date\nDAILY,1,1,1,1,1,1,1,19000101,99991231\n")
    feed = write_feed(tmp_path / "long", {"calendar.txt": calendar})
    limits = IngestLimits(horizon=ServiceHorizon(366, 731, today=date(2026, 6, 1)))
    report = ingest(catalog_of({"X": feed}), Store(tmp_path / "data"), limits=limits)
    assert report.warnings == {"X": [
        "calendar.txt: service period 1900-01-01..9999-12-31 is 2958464 days long; compiled "
        "2025-05-31..2028-06-01 only (TRANSIT_SERVICE_DAYS_BEFORE=366 / "
        "TRANSIT_SERVICE_DAYS_AFTER=731 around the clock's date)"]}
    store = Store(tmp_path / "data")
    tt = store.load_current()
    assert tt is not None
    assert (str(from_day_number(tt.meta["first_day"])), tt.meta["n_days"]) == ("2025-05-31",
                                                                              1098)
    size = sum(p.stat().st_size for p in (store.versions_dir / report.version).iterdir())
    assert size < 300_000  # was 25 MB
    with client_for(tmp_path / "data", "2026-06-01T07:00:00+02:00") as client:
        deps = client.get("/v1/stops/X:S1/departures").json()["departures"]
        assert [d["scheduled_departure"] for d in deps] == ["2026-06-01T08:00:00+02:00"]
    # a feed shorter than the horizon is compiled whole, even far from the clock
    short = write_feed(tmp_path / "short", {"calendar.txt": calendar.replace(
        "19000101,99991231", "20100101,20121231")})
    report = ingest(catalog_of({"X": short}), Store(tmp_path / "data2"), limits=limits)
    tt = Store(tmp_path / "data2").load_current()
    assert tt is not None and (tt.meta["n_days"], report.warnings) == (1096, {})


def test_the_horizon_slides_into_the_feed_period() -> None:
    h = ServiceHorizon(10, 20, today=date(2026, 6, 1))
    today = 20605  # 2026-06-01
    assert h.window(today - 5, today + 5) == (today - 5, today + 5)  # short: whole
    assert h.window(0, 99_999) == (today - 10, today + 20)
    assert h.window(today - 1000, today - 500) == (today - 530, today - 500)  # ended: its end
    assert h.window(today + 500, today + 1000) == (today + 500, today + 530)  # not begun
    assert h.window(today - 3, today + 100) == (today - 3, today + 27)


def test_a_part_cut_by_the_horizon_is_compiled_again_when_the_window_moves(
        tmp_path: Path) -> None:
    calendar = ("service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
                "start_date,end_date\nDAILY,1,1,1,1,1,1,1,20000101,20991231\n")
    long = write_feed(tmp_path / "long", {"calendar.txt": calendar})
    short = write_feed(tmp_path / "short", {})
    store = Store(tmp_path / "data")

    def run(today: date) -> tuple[list[str], list[str], str]:
        limits = IngestLimits(horizon=ServiceHorizon(400, 400, today=today))
        r = ingest(catalog_of({"L": long, "S": short}), store, limits=limits)
        part = store.load_part("L", store.current_part_name("L") or "")
        assert part.meta["n_days"] == 801
        return r.operators_read, r.operators_reused, str(from_day_number(part.meta["first_day"]))

    assert run(date(2026, 6, 1)) == (["L", "S"], [], "2025-04-27")
    assert run(date(2026, 6, 1)) == ([], ["L", "S"], "2025-04-27")
    # L's window moved a day: L is compiled again; S, shorter than the horizon, is not
    assert run(date(2026, 6, 2)) == (["L"], ["S"], "2025-04-28")
