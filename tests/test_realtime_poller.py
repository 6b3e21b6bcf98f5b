"""Polling operators' GTFS-RT URLs from the catalog: conditional GET, errors recorded per
feed, and a dead operator never stopping another."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from google.transit import gtfs_realtime_pb2 as pb

from tests.conftest import build, client_for
from tests.feeds import write_feed
from tests.http_server import Served, serve_file

NOW = "2026-06-01T07:55:00+02:00"
TS = int(datetime.fromisoformat(NOW).timestamp()) - 10


def _delay_message(delay: int) -> bytes:
    msg = pb.FeedMessage()
    msg.header.gtfs_realtime_version = "2.0"
    msg.header.timestamp = TS
    e = msg.entity.add()
    e.id = "1"
    e.trip_update.trip.trip_id = "T1"
    e.trip_update.trip.start_date = "20260601"
    u = e.trip_update.stop_time_update.add()
    u.stop_sequence = 1
    u.departure.delay = delay
    return msg.SerializeToString()


@pytest.fixture
def feed_server() -> Iterator[Served]:
    with serve_file("/tu.pb", _delay_message(300)) as served:
        yield served


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_poller_applies_feeds_and_isolates_a_dead_operator(tmp_path: Path,
                                                           feed_server: Served) -> None:
    a = write_feed(tmp_path / "a", {})
    b = write_feed(tmp_path / "b", {})
    build({"A": a, "B": b}, tmp_path / "data")
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(
        f'[[operator]]\nid = "A"\ngtfs = "{a}"\n'
        f'[[operator.realtime]]\nkind = "trip-updates"\nurl = "{feed_server.url}"\n'
        'interval_s = 0.2\n'
        f'[[operator]]\nid = "B"\ngtfs = "{b}"\n'
        f'[[operator.realtime]]\nkind = "trip-updates"\n'
        f'url = "http://127.0.0.1:{_closed_port()}/dead.pb"\ninterval_s = 0.2\n')
    with client_for(tmp_path / "data", NOW, catalog=catalog) as c:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            dep = c.get("/v1/stops/A:S1/departures").json()["departures"][0]
            b_status = c.get("/v1/operators/B/realtime").json()["feeds"]
            if dep["delay_s"] == 300 and b_status and len(feed_server.seen) >= 3:
                break
            time.sleep(0.1)
        assert (dep["realtime_departure"], dep["delay_s"], dep["status"]) == (
            "2026-06-01T08:05:00+02:00", 300, "delayed")
        # the first GET is plain, the next ones conditional (answered 304)
        etags = [etag for _, etag in feed_server.seen]
        assert etags[0] is None and set(etags[1:]) == {'"v1"'}
        a_status = c.get("/v1/operators/A/realtime").json()["feeds"][0]
        assert (a_status["applied"], a_status["last_error"]) == (1, None)
        assert b_status[0]["kind"] == "trip-updates"
        assert b_status[0]["last_error"].startswith("ConnectError")
        assert b_status[0]["last_success"] is None
