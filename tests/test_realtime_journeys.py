"""Journeys use live times: the nigiri peer case where a delay makes a connection, and a
cancelled trip that must not be boarded."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import PEER_CASES, build, client_for
from tests.feeds import write_feed

CASE = PEER_CASES / "nigiri_rt_delay_makes_transfer"
KEY = {"N": "secret-n"}


def _client(data: Path, at: str) -> TestClient:
    # the peer case's feed is stamped 2019-05-04 11:00, a day after the instant it is
    # asked about: neither stale nor "ahead of the clock" here
    return client_for(data, at, push_keys=KEY, realtime_poll=False,
                      realtime_stale_after_s=10**9, realtime_future_tolerance_s=10**6)


def _journeys(c: TestClient, **params: object) -> list[dict]:
    r = c.get("/v1/journeys", params=params)
    assert r.status_code == 200, r.text
    return r.json()["journeys"]


@pytest.mark.skipif(not CASE.exists(), reason=f"peer case not found at {CASE}")
def test_a_delay_makes_a_transfer_possible(tmp_path: Path) -> None:
    # nigiri rt_routing_test rt_raptor_forward: static, T_RE2 (B 00:30 on 2019-05-03) leaves
    # before T_RE1 (service 2019-05-01, times 49:00-50:00) reaches B at 02:00: no journey.
    # The update delays T_RE2 by 2 h from its first stop: B 02:30, C 02:45, D 03:00.
    build({"N": CASE / "gtfs"}, tmp_path / "data")
    with _client(tmp_path / "data", "2019-05-03T01:00:00+02:00") as c:
        params = {"from": "N:A", "to": "N:D", "depart_at": "2019-05-03T01:00:00+02:00"}
        assert _journeys(c, **params) == []
        r = c.post("/v1/operators/N/realtime", content=(CASE / "trip_updates.pb").read_bytes(),
                   headers={"Authorization": "Bearer secret-n"})
        assert r.status_code == 202, r.text
        status = c.get("/v1/operators/N/realtime").json()["feeds"][0]
        assert (status["entities"], status["applied"], status["rejected"]) == (1, 1, {})
        found = _journeys(c, **params)
        assert [(j["departure"], j["arrival"], j["transfers"]) for j in found] == [
            ("2019-05-03T01:00:00+02:00", "2019-05-03T03:00:00+02:00", 1)]
        legs = [(leg["trip_id"], leg["from"]["stop_id"], leg["to"]["stop_id"],
                 leg["departure"][11:16], leg["arrival"][11:16], leg["realtime"])
                for leg in found[0]["legs"]]
        assert legs == [("N:T_RE1", "N:A", "N:B", "01:00", "02:00", False),
                        ("N:T_RE2", "N:B", "N:D", "02:30", "03:00", True)]
        assert found[0]["legs"][1]["scheduled_departure"] == "2019-05-03T00:30:00+02:00"
        back = _journeys(c, **{"from": "N:A", "to": "N:D",
                               "arrive_by": "2019-05-03T03:00:00+02:00"})
        assert [(j["departure"], j["arrival"]) for j in back] == [
            ("2019-05-03T01:00:00+02:00", "2019-05-03T03:00:00+02:00")]


@pytest.mark.skipif(not CASE.exists(), reason=f"peer case not found at {CASE}")
def test_from_a_trip_by_its_live_times(tmp_path: Path) -> None:
    # aboard T_RE2 at 02:40: by the timetable it ended at 01:00 (not under way); delayed by
    # 2 h it left B at 02:30 and reaches D at 03:00
    build({"N": CASE / "gtfs"}, tmp_path / "data")
    with _client(tmp_path / "data", "2019-05-03T02:40:00+02:00") as c:
        params = {"from_trip": "N:T_RE2", "to": "N:D", "depart_at": "2019-05-03T02:40:00+02:00"}
        r = c.get("/v1/journeys", params=params)
        assert r.status_code == 422 and r.json()["parameter"] == "from_trip", r.text
        r = c.post("/v1/operators/N/realtime", content=(CASE / "trip_updates.pb").read_bytes(),
                   headers={"Authorization": "Bearer secret-n"})
        assert r.status_code == 202, r.text
        found = _journeys(c, **params)
        assert [[(leg["trip_id"], leg["from"]["stop_id"], leg["to"]["stop_id"],
                  leg["departure"][11:16], leg["arrival"][11:16]) for leg in j["legs"]]
                for j in found] == [[("N:T_RE2", "N:B", "N:D", "02:30", "03:00")]]
        assert found[0]["transfers"] == 0


def test_a_cancelled_trip_is_not_boarded(tmp_path: Path) -> None:
    from google.transit import gtfs_realtime_pb2 as pb

    feed = write_feed(tmp_path / "n", {
        "trips.txt": "route_id,service_id,trip_id\nR1,DAILY,T1\nR1,DAILY,T2\n",
        "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                          "T1,08:00:00,08:00:00,S1,1\nT1,08:20:00,08:20:00,S3,2\n"
                          "T2,08:30:00,08:30:00,S1,1\nT2,08:50:00,08:50:00,S3,2\n"})
    build({"N": feed}, tmp_path / "data")
    msg = pb.FeedMessage()
    msg.header.gtfs_realtime_version = "2.0"
    msg.header.timestamp = 1780292995  # 2026-06-01T07:49:55+02:00
    e = msg.entity.add()
    e.id = "c1"
    e.trip_update.trip.trip_id = "T1"
    e.trip_update.trip.start_date = "20260601"
    e.trip_update.trip.schedule_relationship = pb.TripDescriptor.CANCELED
    with _client(tmp_path / "data", "2026-06-01T07:50:00+02:00") as c:
        params = {"from": "N:S1", "to": "N:S3", "depart_at": "2026-06-01T07:50:00+02:00"}
        assert [j["legs"][0]["trip_id"] for j in _journeys(c, **params)] == ["N:T1"]
        assert c.post("/v1/operators/N/realtime", content=msg.SerializeToString(),
                      headers={"Authorization": "Bearer secret-n"}).status_code == 202
        assert [(j["legs"][0]["trip_id"], j["arrival"]) for j in _journeys(c, **params)] == [
            ("N:T2", "2026-06-01T08:50:00+02:00")]
        board = c.get("/v1/stops/N:S1/departures",
                      params={"at": "2026-06-01T07:50"}).json()["departures"]
        assert [(d["trip_id"], d["status"]) for d in board] == [
            ("N:T1", "canceled"), ("N:T2", "scheduled")]
