"""Server-sent alert events across two API processes (uvicorn subprocesses sharing the
SQLite database of one data directory, no Redis): live data pushed to the first process
is evaluated there, and a stream open on the second one receives the alert; a stream that
reconnects with Last-Event-ID gets what changed meanwhile."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from google.transit import gtfs_realtime_pb2 as pb

from tests.commuters_support import compile_ab
from tests.operator_support import NOW
from tests.realtime_support import (
    drop_prefix,
    launch_api,
    redis_url,
    stop_process,
    unique_prefix,
    wait_ready,
)

KEY = "push-key"


def _feed(delay: int, ts_offset: int) -> bytes:
    m = pb.FeedMessage()
    m.header.gtfs_realtime_version = "2.0"
    m.header.timestamp = int(datetime.fromisoformat(NOW).timestamp()) - 60 + ts_offset
    e = m.entity.add()
    e.id = "e1"
    e.trip_update.trip.trip_id = "T1"
    e.trip_update.trip.start_date = "20260601"
    u = e.trip_update.stop_time_update.add()
    u.stop_sequence = 1
    u.departure.delay = delay
    return m.SerializeToString()


class Stream:
    """An SSE client in a thread: (event, id, data) of each event, and the heartbeats."""

    def __init__(self, url: str, token: str, last_event_id: str | None = None) -> None:
        self.events: list[tuple[str, str, dict]] = []
        self.comments = 0
        self._stop = threading.Event()
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        self.status: int | None = None
        self._thread = threading.Thread(target=self._run, args=(url, headers), daemon=True)
        self._thread.start()

    def _run(self, url: str, headers: dict[str, str]) -> None:
        with httpx.Client(timeout=httpx.Timeout(5.0, read=30.0)) as http, \
                http.stream("GET", url, headers=headers) as r:
            self.status = r.status_code
            event: dict[str, str] = {}
            for line in r.iter_lines():
                if self._stop.is_set():
                    return
                if line.startswith(":"):
                    self.comments += 1
                elif line == "":
                    if "data" in event:
                        self.events.append((event.get("event", ""), event.get("id", ""),
                                            json.loads(event["data"])))
                    event = {}
                else:
                    k, _, v = line.partition(":")
                    event[k] = v.removeprefix(" ")

    def wait(self, n: int, timeout: float = 10.0) -> list[tuple[str, str, dict]]:
        deadline = time.monotonic() + timeout
        while len(self.events) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.events)

    def close(self) -> None:
        self._stop.set()


@contextmanager
def two_processes(tmp: Path, **extra: str) -> Iterator[tuple[str, str]]:
    data = compile_ab(tmp / "net")
    env = {"TRANSIT_CLOCK": NOW, "TRANSIT_PUSH_KEYS": json.dumps({"A": KEY}),
           "TRANSIT_SSE_PING_S": "0.5", "TRANSIT_SSE_POLL_S": "0.5",
           "TRANSIT_ARGON2_TIME_COST": "1", "TRANSIT_ARGON2_MEMORY_KIB": "1024", **extra}
    one = launch_api(data, tmp / "one", env)
    try:
        wait_ready(one)  # migrates the shared database first
        two = launch_api(data, tmp / "two", env)
        try:
            wait_ready(two)
            yield one.url, two.url
        finally:
            stop_process(two.proc)
    finally:
        stop_process(one.proc)


def _school(http: httpx.Client, one: str) -> tuple[str, dict[str, str], str]:
    token = http.post(f"{one}/v1/auth/anonymous").json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    r = http.post(f"{one}/v1/me/commutes", headers=auth, json={
        "name": "school", "from": "A:S1", "to": "A:S3", "days": ["mon"],
        "depart_between": ["07:55", "08:05"], "rules": [{"kind": "delay", "min_minutes": 5}]})
    assert r.status_code == 201, r.text
    return token, auth, r.json()["id"]


def test_sse_woken_through_redis_pubsub(tmp_path: Path) -> None:
    """Streams read the inbox only every hour here: an alert recorded by the other process
    reaches the stream at all only through the Redis wake-up (no timing asserted: a loaded
    machine may take seconds to evaluate the first update)."""
    url = redis_url()
    prefix = unique_prefix("sse")
    try:
        with two_processes(tmp_path, TRANSIT_REDIS_URL=url, TRANSIT_REDIS_PREFIX=prefix,
                           TRANSIT_SSE_POLL_S="3600") as (one, two), \
                httpx.Client(timeout=10.0) as http:
            token, _, cid = _school(http, one)
            stream = Stream(f"{two}/v1/me/events", token)
            time.sleep(1.0)
            push = {"Authorization": f"Bearer {KEY}",
                    "Content-Type": "application/x-protobuf"}
            assert http.post(f"{one}/v1/operators/A/realtime", content=_feed(420, 0),
                             headers=push).status_code == 202
            got = stream.wait(1, timeout=60.0)
            stream.close()
            assert [(e[2]["commute_id"], e[2]["version"]) for e in got] == [(cid, 1)]
    finally:
        drop_prefix(url, prefix)


def test_sse_across_two_processes_and_resume(tmp_path: Path) -> None:
    with two_processes(tmp_path) as (one, two), httpx.Client(timeout=10.0) as http:
        token = http.post(f"{one}/v1/auth/anonymous").json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        r = http.post(f"{one}/v1/me/commutes", headers=auth, json={
            "name": "school", "from": "A:S1", "to": "A:S3", "days": ["mon"],
            "depart_between": ["07:55", "08:05"], "rules": [{"kind": "delay",
                                                            "min_minutes": 5}]})
        assert r.status_code == 201, r.text
        cid = r.json()["id"]
        assert http.get(f"{two}/v1/me/events").status_code == 401
        stream = Stream(f"{two}/v1/me/events", token)
        time.sleep(1.0)  # connected, heartbeats flowing
        push = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/x-protobuf"}
        assert http.post(f"{one}/v1/operators/A/realtime", content=_feed(420, 0),
                         headers=push).status_code == 202
        [(kind, eid, data)] = stream.wait(1)
        assert stream.status == 200 and stream.comments >= 1
        assert (kind, data["commute_id"], data["kind"], data["version"],
                data["detail"]["delay_s"]) == ("alert", cid, "delay", 1, 420)
        assert eid == data["id"] and eid.startswith("al_")
        stream.close()
        # while disconnected, the delay grows by 3 minutes: one update of the same alert
        assert http.post(f"{one}/v1/operators/A/realtime", content=_feed(600, 5),
                         headers=push).status_code == 202
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            inbox = http.get(f"{one}/v1/me/alerts", headers=auth).json()["alerts"]
            if inbox and inbox[0]["version"] == 2:
                break
            time.sleep(0.05)
        again = Stream(f"{two}/v1/me/events", token, last_event_id=eid)
        got = again.wait(1)
        again.close()
        assert [(e[1], e[2]["version"], e[2]["detail"]["delay_s"]) for e in got] == [
            (eid, 2, 600)]
        # without Last-Event-ID: only what comes next (nothing yet)
        fresh = Stream(f"{two}/v1/me/events", token)
        time.sleep(1.5)
        fresh.close()
        assert fresh.events == [] and fresh.status == 200


@pytest.mark.parametrize("header", ["x" * 200])
def test_oversized_last_event_id_is_422(tmp_path: Path, header: str) -> None:
    with two_processes(tmp_path) as (one, _), httpx.Client(timeout=10.0) as http:
        token = http.post(f"{one}/v1/auth/anonymous").json()["access_token"]
        r = http.get(f"{one}/v1/me/events", headers={"Authorization": f"Bearer {token}",
                                                     "Last-Event-ID": header})
        assert r.status_code == 422


def test_live_push_reaches_the_users_webhook_signed(tmp_path: Path) -> None:
    """The whole way in a real server: operator push -> evaluation -> inbox and outbox ->
    the deliverer thread -> a loopback receiver (TRANSIT_WEBHOOK_ALLOW_PRIVATE=true)."""
    from standardwebhooks.webhooks import Webhook

    from tests.test_webhook_delivery import Receiver

    receiver = Receiver()
    try:
        with two_processes(tmp_path, TRANSIT_WEBHOOK_ALLOW_PRIVATE="true") as (one, _), \
                httpx.Client(timeout=10.0) as http:
            _, auth, cid = _school(http, one)
            hook = http.post(f"{one}/v1/me/webhooks", headers=auth,
                             json={"url": receiver.url})
            assert hook.status_code == 201, hook.text
            secret = hook.json()["secret"]
            push = {"Authorization": f"Bearer {KEY}",
                    "Content-Type": "application/x-protobuf"}
            assert http.post(f"{one}/v1/operators/A/realtime", content=_feed(420, 0),
                             headers=push).status_code == 202
            deadline = time.monotonic() + 10
            while not receiver.requests and time.monotonic() < deadline:
                time.sleep(0.02)
            [(headers, body)] = receiver.requests
            msg = Webhook(secret).verify(body, headers)
            assert (msg["type"], msg["data"]["commute_id"], msg["data"]["kind"],
                    msg["data"]["detail"]["delay_s"]) == ("alert.new", cid, "delay", 420)
            assert headers["webhook-id"] == f"msg_{msg['data']['id']}_v1"
            listed = http.get(f"{one}/v1/me/webhooks", headers=auth).json()["webhooks"]
            assert listed[0]["active"] is True and listed[0]["last_error"] is None
    finally:
        receiver.close()
