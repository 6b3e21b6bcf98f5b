"""Hard cases of real feeds, each in a small feed written here, checked through the API."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.conftest import build
from tests.feeds import BASE, write_feed
from transit.timetable.store import Store

STOP_TIMES = "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"


def times(client, stop: str, at: str, **params) -> list[tuple[str, str, str]]:
    r = client.get(f"/v1/stops/{stop}/departures", params={"at": at, "limit": 50, **params})
    assert r.status_code == 200, r.text
    return [(d["trip_id"], d["scheduled_departure"], d["service_date"])
            for d in r.json()["departures"]]


def test_dst_spring_forward_and_fall_back(tmp_path: Path, network) -> None:
    # GTFS times count from noon minus 12 h: on 2026-03-29 (Brussels springs forward at
    # 02:00) that is 23:00 of the day before, so 01:30:00 is 00:30 CET and 03:30:00 is
    # 03:30 CEST. On 2026-10-25 (falls back) it is 01:00 CEST.
    feed = write_feed(tmp_path / "dst", {
        "trips.txt": "route_id,service_id,trip_id\nR1,DAILY,EARLY\nR1,DAILY,LATE\n",
        "stop_times.txt": STOP_TIMES + "EARLY,01:30:00,01:30:00,S1,1\n"
        "EARLY,01:40:00,01:40:00,S2,2\nLATE,03:30:00,03:30:00,S1,1\nLATE,03:40:00,03:40:00,S2,2\n"})
    c = network({"A": feed}, "2026-03-29T12:00:00+02:00")
    assert times(c, "A:S1", "2026-03-28T23:30:00+01:00", window=360) == [
        ("A:EARLY", "2026-03-29T00:30:00+01:00", "2026-03-29"),
        ("A:LATE", "2026-03-29T03:30:00+02:00", "2026-03-29")]
    assert times(c, "A:S1", "2026-03-28T00:00:00", window=240) == [
        ("A:EARLY", "2026-03-28T01:30:00+01:00", "2026-03-28"),
        ("A:LATE", "2026-03-28T03:30:00+01:00", "2026-03-28")]
    assert times(c, "A:S1", "2026-10-25T00:00:00+02:00", window=300) == [
        ("A:EARLY", "2026-10-25T02:30:00+02:00", "2026-10-25"),
        ("A:LATE", "2026-10-25T03:30:00+01:00", "2026-10-25")]


def test_trips_after_midnight_belong_to_their_service_day(tmp_path: Path, network) -> None:
    feed = write_feed(tmp_path / "night", {
        "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
                        "start_date,end_date\nMON,1,0,0,0,0,0,0,20260101,20261231\n",
        "trips.txt": "route_id,service_id,trip_id\nR1,MON,NIGHT\n",
        "stop_times.txt": STOP_TIMES + "NIGHT,23:50:00,23:50:00,S1,1\n"
        "NIGHT,24:30:00,24:31:00,S2,2\nNIGHT,25:10:00,25:10:00,S3,3\n"})
    c = network({"A": feed}, "2026-06-02T00:00:00+02:00")
    # Monday 2026-06-01's trip reaches S2 on Tuesday at 00:31
    assert times(c, "A:S2", "2026-06-02T00:00:00") == [
        ("A:NIGHT", "2026-06-02T00:31:00+02:00", "2026-06-01")]
    # Tuesday's service does not run: nothing at 00:31 on Wednesday
    assert times(c, "A:S2", "2026-06-03T00:00:00") == []
    # `at` defaults to the service clock; the window is inclusive
    assert times(c, "A:S1", "2026-06-01T23:50:00+02:00", window=1) == [
        ("A:NIGHT", "2026-06-01T23:50:00+02:00", "2026-06-01")]
    trip = c.get("/v1/trips/A:NIGHT", params={"date": "2026-06-01"}).json()
    assert [(s["stop_id"], s["scheduled_arrival"]) for s in trip["stops"]] == [
        ("A:S1", "2026-06-01T23:50:00+02:00"), ("A:S2", "2026-06-02T00:30:00+02:00"),
        ("A:S3", "2026-06-02T01:10:00+02:00")]
    r = c.get("/v1/trips/A:NIGHT", params={"date": "2026-06-02"})
    assert r.status_code == 404
    assert r.json()["detail"] == "trip 'A:NIGHT' does not run on 2026-06-02"


def test_calendar_dates_only_service(tmp_path: Path, network) -> None:
    feed = write_feed(tmp_path / "cd", {
        "calendar.txt": None,
        "calendar_dates.txt": "service_id,date,exception_type\nDAILY,20260601,1\n"
                              "DAILY,20260603,1\n"})
    c = network({"A": feed}, "2026-06-01T07:00:00+02:00")
    got = [times(c, "A:S1", f"2026-06-0{d}T07:00:00") for d in (1, 2, 3)]
    assert got == [[("A:T1", "2026-06-01T08:00:00+02:00", "2026-06-01")], [],
                   [("A:T1", "2026-06-03T08:00:00+02:00", "2026-06-03")]]


def test_calendar_dates_remove_and_add(tmp_path: Path, network) -> None:
    feed = write_feed(tmp_path / "cdx", {
        "calendar_dates.txt": "service_id,date,exception_type\nDAILY,20260602,2\n"})
    c = network({"A": feed}, "2026-06-01T07:00:00+02:00")
    assert [len(times(c, "A:S1", f"2026-06-0{d}T07:00:00")) for d in (1, 2, 3)] == [1, 0, 1]


def test_frequencies_are_expanded_to_trips(tmp_path: Path, network) -> None:
    feed = write_feed(tmp_path / "freq", {
        "frequencies.txt": "trip_id,start_time,end_time,headway_secs,exact_times\n"
                           "T1,08:00:00,09:00:00,1200,1\n"})
    c = network({"A": feed}, "2026-06-01T07:00:00+02:00")
    assert times(c, "A:S2", "2026-06-01T07:00:00") == [
        ("A:T1@08:00:00", "2026-06-01T08:11:00+02:00", "2026-06-01"),
        ("A:T1@08:20:00", "2026-06-01T08:31:00+02:00", "2026-06-01"),
        ("A:T1@08:40:00", "2026-06-01T08:51:00+02:00", "2026-06-01")]
    trip = c.get("/v1/trips/A:T1@08:40:00", params={"date": "2026-06-01"}).json()
    assert [s["scheduled_departure"][11:19] for s in trip["stops"]] == [
        "08:40:00", "08:51:00", "09:00:00"]
    assert c.get("/v1/trips/A:T1").status_code == 404


def test_two_operators_with_colliding_ids(tmp_path: Path, network) -> None:
    a = write_feed(tmp_path / "a", {})
    b = write_feed(tmp_path / "b", {
        "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\nS1,Other first,51.0,5.0\n"
                     "S2,Other second,51.01,5.0\nS3,Other third,51.02,5.0\n",
        "stop_times.txt": STOP_TIMES + "T1,09:00:00,09:00:00,S1,1\nT1,09:30:00,09:30:00,S3,2\n"})
    c = network({"A": a, "B": b}, "2026-06-01T07:00:00+02:00")
    assert [o["id"] for o in c.get("/v1/operators").json()["operators"]] == ["A", "B"]
    assert times(c, "A:S1", "2026-06-01T07:00:00") == [
        ("A:T1", "2026-06-01T08:00:00+02:00", "2026-06-01")]
    assert times(c, "B:S1", "2026-06-01T07:00:00") == [
        ("B:T1", "2026-06-01T09:00:00+02:00", "2026-06-01")]
    assert c.get("/v1/stops/B:S1").json()["name"] == "Other first"
    assert c.get("/v1/stops/A:S1").json()["name"] == "First"
    assert [s["stop_id"] for s in c.get("/v1/trips/B:T1?date=2026-06-01").json()["stops"]] == [
        "B:S1", "B:S3"]


def test_station_shared_by_two_operators(tmp_path: Path, network) -> None:
    rail = write_feed(tmp_path / "rail", {
        "stops.txt": "stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station,"
                     "platform_code\n"
                     "P,Millbrook,50.0000,4.0000,1,,\nS1,Millbrook,50.0000,4.0001,0,P,1\n"
                     "S2,Second,50.0100,4.0000,0,,\nS3,Third,50.0200,4.0000,0,,\n"})
    bus = write_feed(tmp_path / "bus", {
        "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\n"
                     "B1,Millbrook Station Bus Bay,50.0003,4.0000\n"   # 33 m: distance
                     "B2,Millbrook Station East,50.0000,4.0020\n"      # 143 m, shares a word
                     "B3,Elm Street,50.0000,4.0021\n"                  # 150 m, other name
                     "B4,Millbrook,50.0500,4.0000\n",                  # 5.6 km away
        "stop_times.txt": STOP_TIMES + "T1,08:05:00,08:05:00,B1,1\nT1,08:10:00,08:10:00,B2,2\n"
                          "T1,08:15:00,08:15:00,B3,3\nT1,08:30:00,08:30:00,B4,4\n"})
    c = network({"R": rail, "B": bus}, "2026-06-01T07:00:00+02:00")
    st = c.get("/v1/stations/B:B1").json()
    assert st["id"] == "R:P"
    assert st["operators"] == ["R", "B"]
    assert [(m["stop"]["id"], m["rule"]) for m in st["members"]] == [
        ("R:P", "anchor"), ("R:S1", "parent_station"), ("B:B1", "distance"),
        ("B:B2", "similar_name")]
    assert c.get("/v1/stops/B:B3").json()["station_id"] == "B:B3"
    assert c.get("/v1/stops/B:B4").json()["station_id"] == "B:B4"
    board = c.get("/v1/stations/R:P/departures", params={"at": "2026-06-01T07:00:00"}).json()
    assert [(d["stop_id"], d["scheduled_departure"][11:16], d["platform"])
            for d in board["departures"]] == [
        ("R:S1", "08:00", "1"), ("B:B1", "08:05", None), ("B:B2", "08:10", None)]
    # a parent station's own departures are those of its platforms
    assert times(c, "R:P", "2026-06-01T07:00:00") == [
        ("R:T1", "2026-06-01T08:00:00+02:00", "2026-06-01")]


def test_translations_both_layouts_and_language_choice(tmp_path: Path, network) -> None:
    old = write_feed(tmp_path / "old", {
        "translations.txt": "trans_id,lang,translation\nFirst,fr,Premier\nFirst,nl,Eerste\n"
                            "Third,fr,Troisième\n"})
    new = write_feed(tmp_path / "new", {
        "translations.txt": "table_name,field_name,language,translation,record_id,"
                            "record_sub_id,field_value\n"
                            "stops,stop_name,de,Erste,S1,,\n"
                            "stops,stop_name,fr,Deuxième,,,Second\n"
                            "routes,route_long_name,de,Linie Eins,R1,,\n"})
    c = network({"O": old, "N": new}, "2026-06-01T07:00:00+02:00")
    assert c.get("/v1/stops/O:S1", params={"lang": "nl"}).json()["name"] == "Eerste"
    assert c.get("/v1/stops/O:S1", headers={"Accept-Language": "de, fr;q=0.8"}).json()[
        "name"] == "Premier"
    assert c.get("/v1/stops/O:S1", headers={"Accept-Language": "it"}).json()["name"] == "First"
    assert c.get("/v1/stops/N:S1", params={"lang": "de"}).json()["name"] == "Erste"
    assert c.get("/v1/stops/N:S2", params={"lang": "fr"}).json()["name"] == "Deuxième"
    dep = c.get("/v1/stops/O:S1/departures", params={"at": "2026-06-01T07:00", "lang": "fr"})
    assert dep.json()["departures"][0]["headsign"] == "Troisième"
    dep = c.get("/v1/stops/N:S1/departures", params={"at": "2026-06-01T07:00", "lang": "de"})
    assert dep.json()["departures"][0]["route"]["long_name"] == "Linie Eins"
    assert dep.json()["departures"][0]["stop_name"] == "Erste"
    # name search finds translations, accent-insensitively
    found = c.get("/v1/stops", params={"q": "troisieme"}).json()["stops"]
    assert [s["id"] for s in found] == ["O:S3"]


def test_several_agencies_and_time_zones_in_one_feed(tmp_path: Path, network) -> None:
    feed = write_feed(tmp_path / "tz", {
        "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\n"
                      "A,Agency A,https://a.example,Europe/Brussels\n"
                      "L,Agency L,https://l.example,Europe/London\n",
        "routes.txt": "route_id,agency_id,route_short_name,route_long_name,route_type\n"
                      "R1,A,1,Line One,3\nR2,L,2,Line Two,1100\n",
        "trips.txt": "route_id,service_id,trip_id\nR1,DAILY,T1\nR2,DAILY,T2\n",
        "stop_times.txt": BASE["stop_times.txt"] + "T2,08:00:00,08:00:00,S1,1\n"
                          "T2,08:30:00,08:30:00,S3,2\n"})
    c = network({"A": feed}, "2026-06-01T07:00:00+02:00")
    got = c.get("/v1/stops/A:S1/departures", params={"at": "2026-06-01T07:00"}).json()
    assert [(d["trip_id"], d["scheduled_departure"], d["route"]["mode"])
            for d in got["departures"]] == [
        ("A:T1", "2026-06-01T08:00:00+02:00", "bus"),
        ("A:T2", "2026-06-01T09:00:00+02:00", "air")]


def test_untimed_stops_are_interpolated_and_no_boarding_is_not_a_departure(
        tmp_path: Path, network) -> None:
    feed = write_feed(tmp_path / "untimed", {
        "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence,"
                          "pickup_type,drop_off_type\n"
                          "T1,08:00:00,08:00:00,S1,1,0,0\nT1,,,S2,2,0,0\n"
                          "T1,08:20:00,08:20:00,S3,3,0,0\n"
                          "T2,09:00:00,09:00:00,S1,1,1,0\nT2,09:10:00,09:10:00,S2,2,0,0\n"
                          "T2,09:20:00,09:20:00,S3,3,0,0\n",
        "trips.txt": "route_id,service_id,trip_id\nR1,DAILY,T1\nR1,DAILY,T2\n"})
    c = network({"A": feed}, "2026-06-01T07:00:00+02:00")
    assert times(c, "A:S2", "2026-06-01T07:00", window=180) == [
        ("A:T1", "2026-06-01T08:10:00+02:00", "2026-06-01"),
        ("A:T2", "2026-06-01T09:10:00+02:00", "2026-06-01")]
    assert [t for t, *_ in times(c, "A:S1", "2026-06-01T07:00", window=180)] == [
        "A:T1"]  # T2 does not pick up at S1
    assert times(c, "A:S3", "2026-06-01T07:00", window=180) == []  # last stops only arrive
    trip = c.get("/v1/trips/A:T2", params={"date": "2026-06-01"}).json()
    assert [s["pickup"] for s in trip["stops"]] == ["none", "regular", "regular"]


def test_transfers_txt_sets_footpaths_and_change_times(tmp_path: Path) -> None:
    feed = write_feed(tmp_path / "tf", {
        "stops.txt": "stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station\n"
                     "P,Hub,50.0,4.0,1,\nS1,Hub A,50.0,4.0,0,P\nS2,Hub B,50.0001,4.0,0,P\n"
                     "S3,Far,50.0300,4.0000,0,\nS4,Near,50.0010,4.0,0,\n",
        "stop_times.txt": STOP_TIMES + "T1,08:00:00,08:00:00,S1,1\nT1,08:30:00,08:30:00,S3,2\n",
        "transfers.txt": "from_stop_id,to_stop_id,transfer_type,min_transfer_time\n"
                         "P,P,2,240\nS1,S3,2,900\nS2,S4,3,\n"})
    build({"A": feed}, tmp_path / "data")
    tt = Store(tmp_path / "data").load_current()
    assert tt is not None
    idx = tt.stop_index
    ids = tt.strings("stop_id")

    def paths(stop: str) -> list[tuple[str, int, int]]:
        s = idx[stop]
        lo, hi = tt.fp_offsets[s], tt.fp_offsets[s + 1]
        return [(ids[int(t)], int(d), int(k)) for t, d, k in
                zip(tt.fp_to[lo:hi], tt.fp_duration_s[lo:hi], tt.fp_kind[lo:hi], strict=True)]

    # S1 -> S2: both platforms of P, whose P -> P rule says 240 s (walking 11 m would be
    # 13 s); S1 -> S3 given: 900 s; S1 -> S4: 111 m at 1.2 m/s with a 1.3 detour is 121 s,
    # but changing at S1 takes 240 s; S2 -> S4 forbidden by transfer_type 3
    assert paths("A:S1") == [("A:S2", 240, 1), ("A:S3", 900, 1), ("A:S4", 240, 0)]
    assert paths("A:S2") == [("A:S1", 240, 1)]
    assert [int(tt.stop_change_s[idx[s]]) for s in ("A:S1", "A:S2", "A:S3")] == [240, 240, 120]


def test_extended_route_types_map_to_modes(tmp_path: Path, network) -> None:
    feed = write_feed(tmp_path / "modes", {
        "routes.txt": "route_id,agency_id,route_short_name,route_long_name,route_type\n"
                      "R1,A,1,Line One,109\n"})
    c = network({"A": feed}, "2026-06-01T07:00:00+02:00")
    stop = c.get("/v1/stops/A:S1").json()
    assert [(r["id"], r["mode"], r["route_type"]) for r in stop["routes"]] == [
        ("A:R1", "rail", 109)]


def test_overtaking_trips_are_split_into_ordered_patterns(tmp_path: Path) -> None:
    feed = write_feed(tmp_path / "overtake", {
        "trips.txt": "route_id,service_id,trip_id\nR1,DAILY,SLOW\nR1,DAILY,FAST\n",
        "stop_times.txt": STOP_TIMES + "SLOW,08:00:00,08:00:00,S1,1\n"
        "SLOW,08:30:00,08:30:00,S2,2\nSLOW,09:00:00,09:00:00,S3,3\n"
        "FAST,08:05:00,08:05:00,S1,1\nFAST,08:15:00,08:15:00,S2,2\n"
        "FAST,08:25:00,08:25:00,S3,3\n"})
    build({"A": feed}, tmp_path / "data")
    tt = Store(tmp_path / "data").load_current()
    assert tt is not None
    assert len(tt.pattern_stop_offsets) - 1 == 2
    for p in range(2):
        lo, hi = tt.pattern_trip_offsets[p], tt.pattern_trip_offsets[p + 1]
        trips = np.arange(lo, hi)
        deps = np.array([tt.st_dep[tt.trip_st_start[t]:tt.trip_st_start[t] + 3] for t in trips])
        assert (np.diff(deps, axis=0) >= 0).all()
