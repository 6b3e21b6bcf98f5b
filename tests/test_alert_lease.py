"""Commute alerts are evaluated once per cluster: two real API processes sharing Redis (each
applies every live update), one of them holds the evaluator's lease and alone judges the
updates; killed with SIGKILL, the other takes the lease over, reads the open alerts back
and updates them (version 2, not a new alert again). A commute saved through the process
that does not evaluate is watched by the one that does (announced over Redis)."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path

import httpx

from tests.commuters_support import compile_ab
from tests.operator_support import NOW
from tests.realtime_support import (
    drop_prefix,
    eventually,
    launch_api,
    redis_url,
    stop_process,
    unique_prefix,
    wait_ready,
)
from tests.test_alert_events import KEY, _feed

LEASE_S = 2.0


def _metric(url: str, name: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=5.0).text
    m = re.search(rf"^{name} (\S+)$", text, re.M)
    assert m is not None, f"{name} not in /metrics"
    return float(m.group(1))


def _inbox(http: httpx.Client, url: str, auth: dict[str, str]) -> list[dict]:
    r = http.get(f"{url}/v1/me/alerts", headers=auth)
    assert r.status_code == 200, r.text
    return r.json()["alerts"]


def test_one_process_evaluates_and_another_takes_over_after_kill_9(tmp_path: Path) -> None:
    url, prefix = redis_url(), unique_prefix("alert-lease")
    data = compile_ab(tmp_path / "net")
    env = {"TRANSIT_CLOCK": NOW, "TRANSIT_PUSH_KEYS": json.dumps({"A": KEY}),
           "TRANSIT_REDIS_URL": url, "TRANSIT_REDIS_PREFIX": prefix,
           "TRANSIT_ALERT_LEASE_S": str(LEASE_S), "TRANSIT_ARGON2_TIME_COST": "1",
           "TRANSIT_ARGON2_MEMORY_KIB": "1024"}
    servers = []
    try:
        servers.append(launch_api(data, tmp_path / "one", env))
        wait_ready(servers[0], 300)  # migrates the shared database first
        servers.append(launch_api(data, tmp_path / "two", env))
        wait_ready(servers[1], 300)
        urls = [s.url for s in servers]

        def leaders() -> list[int] | None:
            flags = [int(_metric(u, "transit_alert_evaluator_leader")) for u in urls]
            return flags if sum(flags) == 1 else None

        flags = eventually(leaders, timeout=10)
        assert flags is not None, "no single lease holder"
        holder, other = flags.index(1), flags.index(0)
        push = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/x-protobuf"}
        with httpx.Client(timeout=10.0) as http:
            # saved and pushed through the process that does not evaluate
            token = http.post(f"{urls[other]}/v1/auth/anonymous").json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            r = http.post(f"{urls[other]}/v1/me/commutes", headers=auth, json={
                "name": "school", "from": "A:S1", "to": "A:S3", "days": ["mon"],
                "depart_between": ["07:55", "08:05"],
                "rules": [{"kind": "delay", "min_minutes": 5}]})
            assert r.status_code == 201, r.text
            cid = r.json()["id"]
            time.sleep(0.5)  # the announcement reaches the holder
            assert http.post(f"{urls[other]}/v1/operators/A/realtime",
                             content=_feed(420, 0), headers=push).status_code == 202
            first = eventually(lambda: _inbox(http, urls[other], auth) or None, timeout=10)
            assert first is not None, "no alert"
            [a1] = first
            assert (a1["commute_id"], a1["state"], a1["version"],
                    a1["detail"]["delay_s"]) == (cid, "new", 1, 420)
            time.sleep(1.0)  # a second evaluation would have had time to run
            assert [_metric(u, "transit_alert_updates_evaluated") for u in urls] == (
                [1.0, 0.0] if holder == 0 else [0.0, 1.0])

            os.kill(servers[holder].proc.pid, signal.SIGKILL)
            servers[holder].proc.wait(timeout=10)
            t0 = time.monotonic()
            took = eventually(lambda: _metric(urls[other], "transit_alert_evaluator_leader")
                              == 1.0 or None, timeout=LEASE_S + 5)
            assert took, "the lease was not taken over"
            assert time.monotonic() - t0 <= LEASE_S + 3
            # the delay grows by 3 minutes: the same alert, updated
            assert http.post(f"{urls[other]}/v1/operators/A/realtime",
                             content=_feed(600, 5), headers=push).status_code == 202

            def updated() -> dict | None:
                got = _inbox(http, urls[other], auth)
                return got[0] if got and got[0]["version"] == 2 else None

            a2 = eventually(updated, timeout=10)
            assert a2 is not None, _inbox(http, urls[other], auth)
            assert (a2["id"], a2["state"], a2["detail"]["delay_s"]) == (a1["id"], "updated",
                                                                        600)
            assert len(_inbox(http, urls[other], auth)) == 1
            assert _metric(urls[other], "transit_alert_updates_evaluated") == 1.0
    finally:
        for s in servers:
            stop_process(s.proc)
        drop_prefix(url, prefix)
