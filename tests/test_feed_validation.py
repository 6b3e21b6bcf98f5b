"""Bad feeds are rejected with file, line and field; nothing is published."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import build, client_for
from tests.feeds import BASE, write_feed
from transit.errors import FeedError, FeedProblem
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
