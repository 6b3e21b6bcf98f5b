"""Rate limits: whose bucket a request takes from, and one limit across processes.

- The client address comes from X-Forwarded-For only when the peer is a configured trusted
  proxy (TRANSIT_TRUSTED_PROXIES), read from the right: a value the client wrote itself is
  never taken (unit tests of client_address, and a real `transit serve`, whose uvicorn must
  not rewrite the client address from proxy headers by itself).
- With Redis the buckets are shared: two API servers on one Redis allow one client one
  burst between them, not one each.
"""

from __future__ import annotations

import json
import math
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from tests.conftest import catalog_of, client_for
from tests.feeds import write_feed
from tests.realtime_support import (
    SMALL_FEED,
    VENV_BIN,
    Server,
    _clean_env,
    api_servers,
    drop_prefix,
    free_port,
    stop_process,
    unique_prefix,
    wait_ready,
)
from transit.api.forwarded import client_address
from transit.api.ratelimit import SharedBuckets
from transit.ingest.pipeline import ingest
from transit.settings import Settings, parse_networks
from transit.timetable.store import Store

PER_MINUTE = 60  # burst 10 (the floor), then 1 request per second
BURST = 10


def scope(peer: str, *forwarded: str) -> dict[str, object]:
    return {"type": "http", "client": (peer, 5000),
            "headers": [(b"x-forwarded-for", v.encode()) for v in forwarded]}


def test_forwarded_for_is_read_only_from_trusted_proxies() -> None:
    none = parse_networks("")
    proxies = parse_networks("10.0.0.1, 192.168.0.0/16 ::1")
    assert client_address(scope("203.0.113.9", "1.2.3.4"), none) == "203.0.113.9"
    assert client_address(scope("203.0.113.9", "1.2.3.4"), proxies) == "203.0.113.9"
    assert client_address(scope("127.0.0.1", "1.2.3.4"), proxies) == "127.0.0.1"
    assert client_address(scope("10.0.0.1"), proxies) == "10.0.0.1"  # no header: the peer
    assert client_address(scope("10.0.0.1", "1.2.3.4"), proxies) == "1.2.3.4"
    # the client wrote "6.6.6.6" itself; its proxy appended the address it saw
    assert client_address(scope("10.0.0.1", "6.6.6.6, 1.2.3.4"), proxies) == "1.2.3.4"
    # two trusted proxies in a row, the header split over two lines
    assert client_address(scope("10.0.0.1", "6.6.6.6, 1.2.3.4", "192.168.4.4"),
                          proxies) == "1.2.3.4"
    assert client_address(scope("::1", "2001:db8::7"), proxies) == "2001:db8::7"
    # garbage to the right is where the proxy chain ends: taken as is, bounded
    assert client_address(scope("10.0.0.1", "x" * 500), proxies) == "x" * 64


def test_a_bad_trusted_proxy_setting_is_an_error_naming_it() -> None:
    with pytest.raises(ValidationError, match=r"'10\.0\.0\.300' is not an IP address"):
        Settings(trusted_proxies="10.0.0.1,10.0.0.300")
    assert len(parse_networks("10.0.0.0/8 fd00::/8,127.0.0.1")) == 3


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ratelimit")
    ingest(catalog_of({"A": write_feed(root / "a", SMALL_FEED)}), Store(root / "data"))
    return root / "data"


@contextmanager
def transit_serve(data_dir: Path, workdir: Path, env: dict[str, str]) -> Iterator[Server]:
    """`transit serve` (the command users run, with its uvicorn settings) on a free port."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / f"serve-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(VENV_BIN / "transit"), "serve", "--data-dir", str(data_dir),
             "--host", "127.0.0.1", "--port", str(port)],
            cwd=workdir, env=_clean_env({"TRANSIT_REALTIME_POLL": "false", **env}),
            stdout=out, stderr=subprocess.STDOUT)
    server = Server(proc, port, log)
    try:
        wait_ready(server)
        yield server
    finally:
        stop_process(proc)


def codes(http: httpx.Client, url: str, forwarded: list[str]) -> list[int]:
    return [http.get(url, headers={"X-Forwarded-For": f}).status_code for f in forwarded]


def test_a_spoofed_forwarded_for_from_an_untrusted_peer_keeps_the_bucket(
        data_dir: Path, tmp_path: Path) -> None:
    env = {"TRANSIT_RATE_LIMIT_PER_MINUTE": str(PER_MINUTE)}
    with transit_serve(data_dir, tmp_path, env) as api, httpx.Client(timeout=5.0) as http:
        got = codes(http, f"{api.url}/v1/operators",
                    [f"198.51.100.{i}" for i in range(3 * BURST)])
        assert got.count(200) <= BURST + 2, got  # one bucket: 127.0.0.1
        assert got[-1] == 429, got


def test_forwarded_for_from_a_trusted_proxy_picks_the_bucket(
        data_dir: Path, tmp_path: Path) -> None:
    env = {"TRANSIT_RATE_LIMIT_PER_MINUTE": str(PER_MINUTE),
           "TRANSIT_TRUSTED_PROXIES": "127.0.0.1"}
    with transit_serve(data_dir, tmp_path, env) as api, httpx.Client(timeout=5.0) as http:
        url = f"{api.url}/v1/operators"
        got = codes(http, url, ["203.0.113.5"] * (2 * BURST))
        assert got.count(200) <= BURST + 2 and got[-1] == 429, got
        assert codes(http, url, ["203.0.113.6"]) == [200]  # another client, its own bucket
        # the limited client writes the other's address first: its proxy appends its own
        assert codes(http, url, ["203.0.113.6, 203.0.113.5"]) == [429]


def test_two_servers_on_one_redis_share_the_limit(data_dir: Path, tmp_path: Path,
                                                   redis_service: str) -> None:
    env = {"TRANSIT_REDIS_URL": redis_service, "TRANSIT_REDIS_PREFIX": unique_prefix("rl"),
           "TRANSIT_PUSH_KEYS": json.dumps({"A": "k"}), "TRANSIT_REALTIME_POLL": "false",
           "TRANSIT_RATE_LIMIT_PER_MINUTE": str(PER_MINUTE)}
    with api_servers(2, data_dir, tmp_path, env) as servers, httpx.Client(timeout=5.0) as http:
        t0 = time.monotonic()
        got = [http.get(f"{servers[i % 2].url}/v1/operators").status_code
               for i in range(4 * BURST)]
        elapsed = time.monotonic() - t0
        allowed = got.count(200)
        # one bucket for both: the burst plus what refilled meanwhile (per process: twice)
        assert BURST - 2 <= allowed <= BURST + math.ceil(elapsed * PER_MINUTE / 60) + 1, (
            allowed, elapsed, got)
        assert got.count(429) == len(got) - allowed
        r = http.get(f"{servers[0].url}/v1/operators")
        if r.status_code == 429:
            assert 1 <= int(r.headers["retry-after"]) <= 2


def test_shared_buckets_cost_redis_one_call_per_batch(redis_service: str) -> None:
    """12000/min: a burst of 2000, taken 20 tokens per atomic call; two processes' shares
    of one client come from one bucket, and a refusal is remembered, not asked again."""
    import anyio

    prefix = unique_prefix("rl-batch")
    one = SharedBuckets(redis_service, prefix, rate=200.0, burst=2000.0, timeout_s=0.5)
    two = SharedBuckets(redis_service, prefix, rate=200.0, burst=2000.0, timeout_s=0.5)
    calls = {"n": 0}
    for sb in (one, two):
        take = sb._take

        def counted(client: str, take: Callable[[str], tuple[int, float]] = take
                    ) -> tuple[int, float]:
            calls["n"] += 1
            return take(client)

        sb._take = counted  # type: ignore[method-assign]

    async def run() -> list[float | None]:
        return [await (one if i % 2 else two).take("198.51.100.1") for i in range(3000)]

    t0 = time.monotonic()
    got = anyio.run(run)
    refill = (time.monotonic() - t0) * 200.0
    allowed = sum(1 for w in got if w is None)
    assert 2000 <= allowed <= 2000 + refill + 40, (allowed, refill)
    # 100 batches of the burst, then at most one call per token refilled (or refusal)
    assert calls["n"] <= 2000 / 20 + (allowed - 2000) + 4, (calls, allowed)
    assert got[-1] is not None and 0 < got[-1] <= 1 / 200 + 0.01
    drop_prefix(redis_service, prefix)


def test_without_redis_each_process_still_limits(data_dir: Path) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    # One request a minute after the burst of 10: the first calls wait on the dead Redis
    # until the breaker opens, which on a slow machine took over a second and refilled a
    # token at 60 a minute. A minute's refill cannot happen inside this test.
    with client_for(data_dir, "2026-03-10T07:50:00+01:00", rate_limit_per_minute=1,
                    redis_url=dead, realtime_poll=False) as c:
        got = [c.get("/v1/operators").status_code for _ in range(BURST + 3)]
    assert got == [200] * BURST + [429] * 3
