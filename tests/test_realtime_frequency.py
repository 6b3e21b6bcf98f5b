"""A frequency trip without exact times is matched by its start_time to the nearest run."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from google.transit import gtfs_realtime_pb2 as pb

from tests.conftest import build, client_for
from tests.feeds import write_feed

NOW = "2026-06-01T08:00:00+02:00"


def _update(start_time: str, delay: int) -> bytes:
    msg = pb.FeedMessage()
    msg.header.gtfs_realtime_version = "2.0"
    msg.header.timestamp = int(datetime.fromisoformat(NOW).timestamp())
    e = msg.entity.add()
    e.id = "f"
    e.trip_update.trip.trip_id = "T1"
    e.trip_update.trip.start_date = "20260601"
    e.trip_update.trip.start_time = start_time
    u = e.trip_update.stop_time_update.add()
    u.stop_sequence = 1
    u.departure.delay = delay
    return msg.SerializeToString()


def test_start_time_off_the_expanded_grid_matches_the_nearest_run(tmp_path: Path) -> None:
    feed = write_feed(tmp_path / "f", {
        "frequencies.txt": "trip_id,start_time,end_time,headway_secs,exact_times\n"
                           "T1,08:00:00,09:00:00,1200,0\n"})
    build({"A": feed}, tmp_path / "data")
    with client_for(tmp_path / "data", NOW, push_keys={"A": "k"}, realtime_poll=False) as c:
        # the runs start 08:00, 08:20 and 08:40; the feed says this one started at 08:22
        r = c.post("/v1/operators/A/realtime", content=_update("08:22:00", 120),
                   headers={"Authorization": "Bearer k"})
        assert r.status_code == 202
        feeds = c.get("/v1/operators/A/realtime").json()["feeds"]
        assert (feeds[0]["applied"], feeds[0]["rejected"]) == (1, {})
        board = c.get("/v1/stops/A:S1/departures", params={"at": "2026-06-01T08:00"}).json()
        assert [(d["trip_id"], d["delay_s"]) for d in board["departures"]] == [
            ("A:T1@08:00:00", None), ("A:T1@08:20:00", 120), ("A:T1@08:40:00", None)]
        # a start far off every run is not a run of this trip
        c.post("/v1/operators/A/realtime", content=_update("10:30:00", 60),
               headers={"Authorization": "Bearer k"})
        feeds = c.get("/v1/operators/A/realtime").json()["feeds"]
        assert feeds[0]["rejected"] == {"trip not found": 1}
