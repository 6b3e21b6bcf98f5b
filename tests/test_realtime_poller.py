"""Polling operators' GTFS-RT URLs from the catalog: conditional GET, errors recorded per
feed, and a dead operator never stopping another."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from google.transit import gtfs_realtime_pb2 as pb

from tests.conftest import build, client_for
from tests.feeds import write_feed
from tests.http_server import Served, serve_file
from transit.redaction import public_text, redact_text, redact_url, secrets_of

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


def _wait_status(c: TestClient, op: str, probe: Callable[[dict], bool]) -> dict:
    deadline = time.monotonic() + 10
    while True:
        feeds = c.get(f"/v1/operators/{op}/realtime").json()["feeds"]
        if feeds and probe(feeds[0]):
            return feeds[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"status of {op} not reached: {feeds}")
        time.sleep(0.1)


def test_a_polled_feed_dated_ahead_of_the_clock_is_not_applied(tmp_path: Path) -> None:
    a = write_feed(tmp_path / "a", {})
    build({"A": a}, tmp_path / "data")
    msg = pb.FeedMessage()
    msg.ParseFromString(_delay_message(300))
    msg.header.timestamp = TS + 3600
    with serve_file("/tu.pb", msg.SerializeToString()) as served:
        catalog = tmp_path / "catalog.toml"
        catalog.write_text(
            f'[[operator]]\nid = "A"\ngtfs = "{a}"\n[[operator.realtime]]\n'
            f'kind = "trip-updates"\nurl = "{served.url}"\ninterval_s = 0.2\n')
        with client_for(tmp_path / "data", NOW, catalog=catalog) as c:
            st = _wait_status(c, "A", lambda f: f["last_error"] is not None)
            assert "ahead of the service clock" in st["last_error"]
            assert (st["applied"], st["last_success"]) == (0, None)
            dep = c.get("/v1/stops/A:S1/departures").json()["departures"][0]
            assert (dep["realtime_departure"], dep["delay_s"]) == (None, None)


def test_secrets_of_a_polled_feed_are_never_shown(tmp_path: Path, feed_server: Served,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    """The key in the URL's query string (the server answers 404 to it), a password in the
    URL and a header value: not in the public status, not in the logs."""
    a = write_feed(tmp_path / "a", {})
    build({"A": a}, tmp_path / "data")
    url = feed_server.url.replace("http://", "http://user:PASSWORD77@") + \
        "?api_key=QUERYKEY42&lang=en"
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(
        f'[[operator]]\nid = "A"\ngtfs = "{a}"\n[[operator.realtime]]\n'
        f'kind = "trip-updates"\nurl = "{url}"\ninterval_s = 0.2\n'
        'headers = { "X-Api-Key" = "HEADERKEY99" }\n')
    caplog.set_level(logging.DEBUG)
    with client_for(tmp_path / "data", NOW, catalog=catalog) as c:
        st = _wait_status(c, "A", lambda f: f["last_error"] is not None)
        assert feed_server.seen and "QUERYKEY42" in feed_server.seen[0][0]  # it was sent
        assert st["last_error"] == "RuntimeError: the feed URL answered HTTP 404"
        body = c.get("/v1/operators/A/realtime").text
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "answered HTTP 404" in logged  # the failure is logged ...
    assert "127.0.0.1" in logged  # ... with the host
    for secret in ("QUERYKEY42", "PASSWORD77", "HEADERKEY99"):
        assert secret not in body
        assert secret not in logged, secret


def test_redaction_of_free_text() -> None:
    url = "https://u:p4ss@feeds.example/rt/tu.pb?key=abc%20def&x=1#frag"
    secrets = secrets_of(url, {"Authorization": "Bearer tok123"})
    assert redact_url(url) == "https://***@feeds.example/rt/tu.pb?key=***&x=***"
    text = f"GET {url} failed; key abc def; sent Bearer tok123"
    assert redact_text(text, secrets) == (
        "GET https://***@feeds.example/rt/tu.pb?key=***&x=*** failed; key ***; sent ***")
    assert public_text(text, secrets) == "GET <feed URL> failed; key ***; sent ***"
