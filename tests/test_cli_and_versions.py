"""The command line, re-ingesting one operator, hot swap, and a real server with 2 workers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from tests.conftest import DEMO_CATALOG, ROOT, client_for
from tests.feeds import write_feed
from transit.catalog import load_catalog, parse_feed_option, with_feeds
from transit.cli import app as cli
from transit.ingest.publish_lock import publish_lock
from transit.timetable.store import Store

STOP_TIMES = "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
runner = CliRunner()


def feed_store(data: Path, *feeds: str) -> Store:
    """The store of the network `transit ingest --feed F ...` publishes to."""
    return Store(data, with_feeds(None, [parse_feed_option(f) for f in feeds]).network)


def ingest_cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["ingest", *args])
    return result.exit_code, result.output


def test_ingest_with_feeds_on_the_command_line(tmp_path: Path) -> None:
    a = write_feed(tmp_path / "a", {})
    b = write_feed(tmp_path / "b", {}, zipped=False)
    data = tmp_path / "data"
    code, out = ingest_cli("--data-dir", str(data), "--feed", f"A={a}", "--feed", f"B={b}")
    assert code == 0, out
    assert "2 operators, 6 stops" in out
    assert "(read A, B; reused none)" in out
    # unchanged feeds are reused; --operator forces a re-read of that one only
    code, out = ingest_cli("--data-dir", str(data), "--feed", f"A={a}", "--feed", f"B={b}")
    assert "(read none; reused A, B)" in out
    code, out = ingest_cli("--data-dir", str(data), "--feed", f"A={a}", "--feed", f"B={b}",
                           "--operator", "B")
    assert "(read B; reused A)" in out
    # a changed feed is noticed by its content
    write_feed(tmp_path / "b", {"stop_times.txt": STOP_TIMES + "T1,09:00:00,09:00:00,S1,1\n"
                                "T1,09:30:00,09:30:00,S3,2\n"}, zipped=False)
    code, out = ingest_cli("--data-dir", str(data), "--feed", f"A={a}", "--feed", f"B={b}")
    assert "(read B; reused A)" in out


def test_ingest_errors_are_reported_and_publish_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    good = write_feed(tmp_path / "good", {})
    assert ingest_cli("--data-dir", str(data), "--feed", f"A={good}")[0] == 0
    version = feed_store(data, f"A={good}").current_version()
    write_feed(tmp_path / "good", {"stop_times.txt": STOP_TIMES + "T1,8h,8h,S1,1\n"})
    code, out = ingest_cli("--data-dir", str(data), "--feed", f"A={good}")
    assert code == 2
    assert "stop_times.txt line 2 field arrival_time: not a time HH:MM:SS (value '8h')" in out
    assert "nothing was published" in out
    assert feed_store(data, f"A={good}").current_version() == version
    code, out = ingest_cli("--data-dir", str(data), "--feed", "bad id=x.zip")
    assert code == 2 and "operator id 'bad id' must be" in out
    code, out = ingest_cli("--data-dir", str(data), "--feed", f"A={tmp_path / 'none.zip'}")
    assert code == 2 and "none.zip does not exist" in out


def test_catalog_ingest_of_the_demo(tmp_path: Path) -> None:
    code, out = ingest_cli("--data-dir", str(tmp_path), "--catalog", str(DEMO_CATALOG))
    assert code == 0, out
    assert "3 operators, 11 stops, 6 stations, 204 trips, 690 stop_times" in out


def test_a_running_server_swaps_to_a_new_version_without_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    feed = write_feed(tmp_path / "a", {})
    ingest_cli("--data-dir", str(data), "--feed", f"A={feed}")
    network = feed_store(data, f"A={feed}").network
    with client_for(data, "2026-06-01T07:00:00+02:00", reload_interval_s=0,
                    network=network) as c:
        def first() -> str:
            return c.get("/v1/stops/A:S1/departures").json()["departures"][0][
                "scheduled_departure"]

        assert first() == "2026-06-01T08:00:00+02:00"
        write_feed(tmp_path / "a", {"stop_times.txt": STOP_TIMES + "T1,07:30:00,07:30:00,S1,1\n"
                                    "T1,07:45:00,07:45:00,S3,2\n"})
        assert ingest_cli("--data-dir", str(data), "--feed", f"A={feed}")[0] == 0
        assert first() == "2026-06-01T07:30:00+02:00"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_transit_serve_runs_a_real_server_with_two_workers(tmp_path: Path) -> None:
    port = _free_port()
    feed = write_feed(tmp_path / "a", {})
    env = {**os.environ, "TRANSIT_RATE_LIMIT_PER_MINUTE": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "transit", "serve", "--data-dir", str(tmp_path / "data"),
         "--feed", f"A={feed}", "--port", str(port), "--workers", "2",
         "--clock", "2026-06-01T07:00:00+02:00"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        else:
            raise AssertionError("server did not become ready")
        with httpx.Client(base_url=url) as http:
            answers = {http.get("/v1/stops/A:S1/departures").json()["departures"][0][
                "scheduled_departure"] for _ in range(20)}
        assert answers == {"2026-06-01T08:00:00+02:00"}
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _busy_feed(directory: Path, first: str) -> Path:
    """A feed with enough trips that reading it takes a while; T0 leaves S1 at `first`."""
    trips = "route_id,service_id,trip_id\n" + "".join(f"R1,DAILY,T{i}\n" for i in range(3000))
    times = STOP_TIMES + f"T0,{first},{first},S1,1\nT0,09:50:00,09:50:00,S3,2\n" + "".join(
        f"T{i},10:{i % 60:02d}:00,10:{i % 60:02d}:00,S1,1\nT{i},11:00:00,11:00:00,S3,2\n"
        for i in range(1, 3000))
    return write_feed(directory, {"trips.txt": trips, "stop_times.txt": times})


def test_two_ingests_at_the_same_moment_both_land(tmp_path: Path) -> None:
    feeds = {op: _busy_feed(tmp_path / op, "08:00:00") for op in ("A", "B")}
    catalog = tmp_path / "catalog.toml"
    catalog.write_text("".join(f'[[operator]]\nid = "{op}"\ngtfs = "{p}"\n'
                               for op, p in feeds.items()))
    data = tmp_path / "data"
    assert ingest_cli("--data-dir", str(data), "--catalog", str(catalog))[0] == 0
    for op in feeds:
        _busy_feed(tmp_path / op, "07:30:00")
    logs = [tmp_path / f"ingest-{op}.log" for op in feeds]
    # Both start while the lock is held, and are let go at the same moment.
    with publish_lock(data):
        procs = []
        for op, log in zip(feeds, logs, strict=True):
            with log.open("w") as out:
                procs.append(subprocess.Popen(
                    [sys.executable, "-m", "transit", "ingest", "--data-dir", str(data),
                     "--catalog", str(catalog), "--operator", op],
                    env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=out,
                    stderr=subprocess.STDOUT))
        deadline = time.monotonic() + 60
        while not all(f"waiting for another ingest of {data}" in log.read_text()
                      for log in logs):
            assert time.monotonic() < deadline, [log.read_text() for log in logs]
            time.sleep(0.1)
    assert [p.wait(timeout=120) for p in procs] == [0, 0], [log.read_text() for log in logs]
    assert all("published" in log.read_text() for log in logs)
    with client_for(data, "2026-06-01T07:00:00+02:00", catalog=catalog) as c:
        for op in feeds:
            first = c.get(f"/v1/stops/{op}:S1/departures").json()["departures"][0]
            assert first["scheduled_departure"] == "2026-06-01T07:30:00+02:00", op


def test_with_redis_an_ingest_waits_for_the_shared_publish_lock(tmp_path: Path) -> None:
    from tests.realtime_support import free_port, start_redis_server, stop_process

    port = free_port()
    redis_proc = start_redis_server(port, tmp_path / "redis")
    url = f"redis://127.0.0.1:{port}/0"
    data, log = tmp_path / "data", tmp_path / "ingest.log"
    feed = write_feed(tmp_path / "a", {})
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TRANSIT_REDIS_URL": url}
    try:
        # another machine's ingest (its own data directory) holds the lock
        with publish_lock(tmp_path / "elsewhere", url), log.open("w") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "transit", "ingest", "--data-dir", str(data), "--feed",
                 f"A={feed}"], env=env, stdout=out, stderr=subprocess.STDOUT)
            deadline = time.monotonic() + 60
            while "publish lock in Redis (transit:publish-lock)" not in log.read_text():
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
            time.sleep(1.0)
            assert proc.poll() is None and not (data / "networks").exists()
        assert proc.wait(timeout=60) == 0, log.read_text()
        published = feed_store(data, f"A={feed}").current_version()
        assert "published" in log.read_text() and published is not None
    finally:
        stop_process(redis_proc)  # type: ignore[arg-type]
    # Redis unreachable: a clear error, nothing published
    result = runner.invoke(cli, ["ingest", "--data-dir", str(tmp_path / "d3"), "--feed",
                                 f"A={feed}"], env={"TRANSIT_REDIS_URL": url})
    assert result.exit_code == 2
    assert "error: cannot take the publish lock in Redis: " in result.output
    assert "nothing was published" in result.output


def _serve(tmp_path: Path, data: Path, *args: str) -> tuple[subprocess.Popen[bytes], str]:
    """`transit serve ... ARGS` on a free port; returns the process and its base URL."""
    port = _free_port()
    log = (tmp_path / f"serve-{port}.log").open("wb")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TRANSIT_RATE_LIMIT_PER_MINUTE": "0",
           "TRANSIT_RELOAD_INTERVAL_S": "0.2", "TRANSIT_REALTIME_POLL": "false"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "transit", "serve", "--data-dir", str(data), "--port",
         str(port), "--clock", "2026-06-01T07:00:00+02:00", *args],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        assert proc.poll() is None, (tmp_path / f"serve-{port}.log").read_text()
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "server did not become ready"
        time.sleep(0.3)


def _operators(url: str) -> list[str]:
    return [o["id"] for o in httpx.get(f"{url}/v1/operators").json()["operators"]]


def test_each_server_serves_the_network_it_was_given(tmp_path: Path) -> None:
    data = tmp_path / "data"
    feeds = {op: write_feed(tmp_path / op, {}) for op in ("A", "B", "C")}
    catalogs = {}
    for op in ("B", "C"):
        catalogs[op] = tmp_path / f"catalog-{op}.toml"
        catalogs[op].write_text(f'[[operator]]\nid = "{op}"\ngtfs = "{feeds[op]}"\n')
    assert ingest_cli("--data-dir", str(data), "--catalog", str(catalogs["C"]))[0] == 0
    servers = []
    try:
        # compiled C before: serving catalog B compiles and serves B
        servers.append(_serve(tmp_path, data, "--catalog", str(catalogs["B"])))
        servers.append(_serve(tmp_path, data, "--feed", f"A={feeds['A']}"))
        (_, url_b), (_, url_a) = servers
        time.sleep(1.0)  # several reload intervals: neither follows the other's version
        assert (_operators(url_b), _operators(url_a)) == (["B"], ["A"])
        # a new version of A's network reaches A's server only
        write_feed(tmp_path / "A", {"stop_times.txt": STOP_TIMES + "T1,07:30:00,07:30:00,S1,1\n"
                                    "T1,07:45:00,07:45:00,S3,2\n"})
        assert ingest_cli("--data-dir", str(data), "--feed", f"A={feeds['A']}")[0] == 0
        deadline = time.monotonic() + 10
        while httpx.get(f"{url_a}/v1/stops/A:S1/departures").json()["departures"][0][
                "scheduled_departure"] != "2026-06-01T07:30:00+02:00":
            assert time.monotonic() < deadline, "A's server did not swap"
            time.sleep(0.2)
        assert _operators(url_b) == ["B"]
        # and catalog C's network, compiled first, is still C's
        assert Store(data, load_catalog(catalogs["C"]).network).current_version() is not None
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait(timeout=20)


def test_serve_recompiles_when_its_catalog_changed(tmp_path: Path) -> None:
    from transit.cli import _compiled

    data = tmp_path / "data"
    catalog = tmp_path / "catalog.toml"
    a, b = write_feed(tmp_path / "a", {}), write_feed(tmp_path / "b", {})
    catalog.write_text(f'[[operator]]\nid = "A"\ngtfs = "{a}"\n')
    assert ingest_cli("--data-dir", str(data), "--catalog", str(catalog))[0] == 0
    cat = load_catalog(catalog)
    assert _compiled(Store(data, cat.network), cat)
    catalog.write_text(catalog.read_text() + f'[[operator]]\nid = "B"\ngtfs = "{b}"\n')
    changed = load_catalog(catalog)
    assert changed.network == cat.network  # same catalog: same network, followed by servers
    assert not _compiled(Store(data, changed.network), changed)
