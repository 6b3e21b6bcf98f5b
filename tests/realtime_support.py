"""Helpers of the realtime tests and benchmark: GTFS-RT messages built in code, a clock the
test moves, Redis settings from the environment, uvicorn / redis-server child processes, and
an independent reading of GTFS-RT against a raw static zip (pandas + gtfs-realtime-bindings,
no code of the service) for the expected counters and times."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
import pandas as pd
import pytest
from google.transit import gtfs_realtime_pb2 as pb

from tests.conftest import ROOT

VENV_BIN = ROOT / ".venv" / "bin"
TD = pb.TripDescriptor
STU = pb.TripUpdate.StopTimeUpdate
T = TypeVar("T")


# --------------------------------------------------------------------------- small network

# Operator A (Europe/Brussels), every day of 2026 but 2026-03-12, for tests/feeds.write_feed:
# see tests/test_realtime_semantics.py for the picture.
SMALL_FEED = {
    "stops.txt": "stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station,"
                 "platform_code\n"
                 "S1,First,50.0000,4.0000,0,,\nS2,Second,50.0100,4.0000,0,,\n"
                 "ST,Central,50.0200,4.0000,1,,\nST1,Central,50.0200,4.0000,0,ST,1\n"
                 "ST2,Central,50.0200,4.0001,0,ST,2\nS3,Third,50.0300,4.0000,0,,\n"
                 "S4,Fourth,50.0400,4.0000,0,,\n",
    "calendar_dates.txt": "service_id,date,exception_type\nDAILY,20260312,2\n",
    "trips.txt": "route_id,service_id,trip_id,trip_headsign,direction_id\n"
                 "R1,DAILY,T1,Fourth,0\nR1,DAILY,T4,Fourth,0\nR1,DAILY,T3,First,1\n"
                 "R1,DAILY,T2,Third,0\nR1,DAILY,T5,Second,0\nR1,DAILY,TF,Second,0\n",
    "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                      "T1,08:00:00,08:00:00,S1,10\nT1,08:10:00,08:11:00,S2,20\n"
                      "T1,08:20:00,08:21:00,ST1,30\nT1,08:30:00,08:31:00,S3,40\n"
                      "T1,08:40:00,08:40:00,S4,50\n"
                      "T4,09:00:00,09:00:00,S1,1\nT4,09:10:00,09:10:00,S2,2\n"
                      "T4,09:20:00,09:20:00,ST1,3\nT4,09:30:00,09:30:00,S3,4\n"
                      "T4,09:40:00,09:40:00,S4,5\n"
                      "T3,09:00:00,09:00:00,S4,1\nT3,09:10:00,09:10:00,S3,2\n"
                      "T3,09:20:00,09:20:00,ST1,3\nT3,09:30:00,09:30:00,S2,4\n"
                      "T3,09:40:00,09:40:00,S1,5\n"
                      "T2,23:50:00,23:50:00,S1,1\nT2,24:10:00,24:10:00,S2,2\n"
                      "T2,24:30:00,24:30:00,S3,3\n"
                      "T5,24:20:00,24:20:00,S1,1\nT5,24:30:00,24:30:00,S2,2\n"
                      "TF,06:00:00,06:00:00,S1,1\nTF,06:10:00,06:10:00,S2,2\n",
    "frequencies.txt": "trip_id,start_time,end_time,headway_secs,exact_times\n"
                       "TF,06:00:00,07:00:00,1200,0\n",
}


# --------------------------------------------------------------------------- clock


class MutableClock:
    """A service clock the test sets and moves (the service only calls now())."""

    def __init__(self, instant: datetime) -> None:
        assert instant.tzinfo is not None
        self.instant = instant

    def now(self) -> datetime:
        return self.instant

    def set(self, instant: datetime) -> None:
        self.instant = instant

    def advance(self, seconds: float) -> None:
        self.instant += timedelta(seconds=seconds)

    @property
    def ts(self) -> int:
        return int(self.instant.timestamp())


# --------------------------------------------------------------------------- Redis


def redis_url() -> str:
    """The Redis of the tests: TRANSIT_REDIS_URL when set (tests/conftest.py takes it out of
    the environment), else a redis-server the test session starts on a free port (never the
    machine's 6379); skip only when there is neither."""
    from tests.conftest import session_redis_url

    url = (session_redis_url() or "").strip()
    if not url:
        pytest.skip("Redis tests need TRANSIT_REDIS_URL or redis-server on the PATH")
    return url


def unique_prefix(name: str) -> str:
    return f"test-{name}-{os.getpid()}-{uuid.uuid4().hex[:10]}"


def drop_prefix(url: str, prefix: str) -> None:
    """Delete the keys a test wrote under its prefix (best effort)."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        keys = list(client.scan_iter(f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
    except Exception:
        pass


# --------------------------------------------------------------------------- GTFS-RT builders


def event(delay: int | None = None, time_: int | None = None) -> dict[str, int]:
    out = {}
    if delay is not None:
        out["delay"] = delay
    if time_ is not None:
        out["time"] = time_
    return out


def stu(seq: int | None = None, stop: str | None = None, *, arr: dict[str, int] | None = None,
        dep: dict[str, int] | None = None, rel: int = STU.SCHEDULED,
        assigned: str | None = None) -> STU:
    u = STU()
    if seq is not None:
        u.stop_sequence = seq
    if stop is not None:
        u.stop_id = stop
    if arr is not None:
        for k, v in arr.items():
            setattr(u.arrival, k, v)
    if dep is not None:
        for k, v in dep.items():
            setattr(u.departure, k, v)
    if rel != STU.SCHEDULED:
        u.schedule_relationship = rel
    if assigned is not None:
        u.stop_time_properties.assigned_stop_id = assigned
    return u


def trip_update(eid: str, trip_id: str | None = None, *, start_date: str | None = None,
                start_time: str | None = None, route_id: str | None = None,
                direction_id: int | None = None, rel: int = TD.SCHEDULED,
                updates: Iterable[STU] = (), dup: dict[str, str] | None = None
                ) -> pb.FeedEntity:
    e = pb.FeedEntity(id=eid)
    d = e.trip_update.trip
    if trip_id is not None:
        d.trip_id = trip_id
    if start_date is not None:
        d.start_date = start_date
    if start_time is not None:
        d.start_time = start_time
    if route_id is not None:
        d.route_id = route_id
    if direction_id is not None:
        d.direction_id = direction_id
    if rel != TD.SCHEDULED:
        d.schedule_relationship = rel
    for u in updates:
        e.trip_update.stop_time_update.add().CopyFrom(u)
    if dup is not None:
        for k, v in dup.items():
            setattr(e.trip_update.trip_properties, k, v)
    return e


def vehicle(eid: str, lat: float, lon: float, trip_id: str | None = None) -> pb.FeedEntity:
    e = pb.FeedEntity(id=eid)
    e.vehicle.vehicle.id = eid
    e.vehicle.position.latitude = lat
    e.vehicle.position.longitude = lon
    if trip_id:
        e.vehicle.trip.trip_id = trip_id
    return e


def feed(*entities: pb.FeedEntity, ts: int, full: bool = True) -> pb.FeedMessage:
    m = pb.FeedMessage()
    m.header.gtfs_realtime_version = "2.0"
    m.header.incrementality = pb.FeedHeader.FULL_DATASET if full else pb.FeedHeader.DIFFERENTIAL
    m.header.timestamp = ts
    for e in entities:
        m.entity.add().CopyFrom(e)
    return m


def read_pb(path: Path) -> pb.FeedMessage:
    m = pb.FeedMessage()
    m.ParseFromString(path.read_bytes())
    return m


def iso_local(ts: int, tz: str) -> str:
    return datetime.fromtimestamp(ts, ZoneInfo(tz)).isoformat()


# --------------------------------------------------------------------------- waiting


def eventually(probe: Callable[[], T | None], timeout: float, interval: float = 0.02,
               what: str = "condition") -> T:
    """probe() until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s (last: {last!r})")
        time.sleep(interval)


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRANSIT_")}
    env.update(extra)
    return env


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-4000:]
        except OSError:
            return ""


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def launch_api(data_dir: Path, workdir: Path, env: dict[str, str]) -> Server:
    """Start one `uvicorn --factory transit.app:app_from_env` on a free port of
    127.0.0.1, in `workdir` (so no .env of the project is read); see wait_ready."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / f"uvicorn-{port}.log"
    full_env = _clean_env({"TRANSIT_DATA_DIR": str(data_dir), "TRANSIT_REALTIME_POLL": "false",
                           "TRANSIT_RATE_LIMIT_PER_MINUTE": "0", **env})
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(VENV_BIN / "uvicorn"), "--factory", "transit.app:app_from_env",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            cwd=workdir, env=full_env, stdout=out, stderr=subprocess.STDOUT)
    return Server(proc, port, log)


def wait_ready(server: Server, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if server.proc.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {server.proc.returncode}:\n"
                               f"{server.output()}")
        try:
            if httpx.get(f"{server.url}/v1/operators", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not answer within {timeout} s:\n"
                               f"{server.output()}")
        time.sleep(0.1)


@contextmanager
def api_servers(n: int, data_dir: Path, workdir: Path, env: dict[str, str],
                timeout: float = 60.0) -> Iterator[list[Server]]:
    """n API processes with the same settings, started together, always stopped."""
    servers: list[Server] = []
    try:
        for _ in range(n):
            servers.append(launch_api(data_dir, workdir, env))
        for s in servers:
            wait_ready(s, timeout)
        yield servers
    finally:
        for s in servers:
            stop_process(s.proc)


def redis_server_binary() -> str:
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not on PATH (needed to simulate a Redis outage)")
    return exe


def start_redis_server(port: int, workdir: Path) -> subprocess.Popen[bytes]:
    """A redis-server of the test's own on 127.0.0.1:port (no persistence)."""
    exe = redis_server_binary()
    workdir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--daemonize", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return proc
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_process(proc)
            raise RuntimeError(f"redis-server on port {port} did not start")
        time.sleep(0.05)


# --------------------------------------------------------------------------- static reference


def _seconds(hms: str) -> int:
    h, m, s = (int(x) for x in hms.strip().split(":"))
    return h * 3600 + m * 60 + s


class StaticRef:
    """A raw GTFS zip read with pandas: enough to say what a TripUpdate should match."""

    def __init__(self, path: Path, operator: str) -> None:
        self.operator = operator
        with zipfile.ZipFile(path) as z:
            def table(name: str, strip: bool = False) -> pd.DataFrame:
                if name not in z.namelist():
                    return pd.DataFrame()
                df = pd.read_csv(z.open(name), dtype=str, keep_default_na=False)
                df.columns = [c.strip() for c in df.columns]
                return df.apply(lambda c: c.str.strip()) if strip else df

            self.stops = table("stops.txt", strip=True)
            self.trips = table("trips.txt", strip=True)
            st = table("stop_times.txt")
            self.calendar = table("calendar.txt", strip=True)
            self.calendar_dates = table("calendar_dates.txt", strip=True)
            agency = table("agency.txt", strip=True)
        self.tz = agency["agency_timezone"].iloc[0]
        st["trip_id"] = st["trip_id"].str.strip()
        st["stop_id"] = st["stop_id"].str.strip()
        st["seq"] = st["stop_sequence"].astype(int)
        st = st.sort_values(["trip_id", "seq"], kind="stable").reset_index(drop=True)
        self.stop_times = st
        self._rows = st.groupby("trip_id", sort=False).indices
        self._trip_cache: dict[str, list[tuple[int, str, int, int, bool]]] = {}
        self.trip_service = dict(zip(self.trips["trip_id"], self.trips["service_id"],
                                     strict=True))
        blank = pd.Series([""] * len(self.stops))
        self.parent = dict(zip(self.stops["stop_id"],
                               self.stops.get("parent_station", blank), strict=True))
        self.platform = dict(zip(self.stops["stop_id"],
                                 self.stops.get("platform_code", blank), strict=True))
        self._calendar = {r["service_id"]: r for r in self.calendar.to_dict("records")}
        self._exceptions: dict[str, dict[str, str]] = {}

    def _trip(self, trip_id: str) -> list[tuple[int, str, int, int, bool]]:
        """(stop_sequence, stop_id, arrival s, departure s, boarding allowed) in order."""
        got = self._trip_cache.get(trip_id)
        if got is None:
            rows = self.stop_times.iloc[self._rows[trip_id]]
            pickup = rows["pickup_type"] if "pickup_type" in rows else [""] * len(rows)
            got = [(int(seq), stop, _seconds(a), _seconds(d), p.strip() not in ("1",))
                   for seq, stop, a, d, p in zip(rows["seq"], rows["stop_id"],
                                                 rows["arrival_time"], rows["departure_time"],
                                                 pickup, strict=True)]
            self._trip_cache[trip_id] = got
        return got

    def runs_on(self, trip_id: str, d: date) -> bool:
        sid = self.trip_service[trip_id]
        ymd = d.strftime("%Y%m%d")
        if ymd not in self._exceptions:
            cd = self.calendar_dates
            day = cd[cd["date"] == ymd] if len(cd) else cd
            self._exceptions[ymd] = dict(zip(day.get("service_id", []),
                                             day.get("exception_type", []), strict=True))
        exc = self._exceptions[ymd].get(sid)
        if exc is not None:
            return exc == "1"
        r = self._calendar.get(sid)
        if r is None:
            return False
        weekday = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                   "sunday")[d.weekday()]
        return r["start_date"] <= ymd <= r["end_date"] and r[weekday] == "1"

    def base(self, d: date) -> int:
        """Unix time of the service day's noon minus 12 h (GTFS time origin)."""
        noon = datetime(d.year, d.month, d.day, 12, tzinfo=ZoneInfo(self.tz))
        return int(noon.timestamp()) - 12 * 3600

    def scheduled(self, trip_id: str, d: date) -> list[tuple[int, str, int, int]]:
        """(stop_sequence, stop_id, arrival unix, departure unix) of a trip on day d."""
        b = self.base(d)
        return [(seq, stop, b + a, b + dd) for seq, stop, a, dd, _ in self._trip(trip_id)]

    def boarding(self, trip_id: str) -> list[bool]:
        return [p for *_, p in self._trip(trip_id)]


@dataclass
class Expected:
    """What the reference says of one TripUpdate entity."""

    entity_id: str
    outcome: str  # "applied" or the reject reason
    trip_id: str
    service_date: date | None
    relationship: int
    # per position of the static trip: (stop_id, rt_arr, rt_dep, status) when applied
    calls: list[tuple[str, int | None, int | None, str]] | None = None
    warned: bool = False  # a stop_sequence not in the trip, matched by its stop_id


def _local_date(ts: int, tz: str) -> date:
    return datetime.fromtimestamp(ts, ZoneInfo(tz)).date()


def expect_trip_updates(ref: StaticRef, msg: pb.FeedMessage) -> list[Expected]:
    """The reference reading of a TripUpdates message (see the consumer notes): which entities
    apply, which are rejected and why, and the live times of each applied trip."""
    out = []
    feed_day = _local_date(int(msg.header.timestamp), ref.tz)
    for e in msg.entity:
        if not e.HasField("trip_update"):
            continue
        tu = e.trip_update
        desc = tu.trip
        rel = desc.schedule_relationship
        exp = Expected(e.id, "applied", desc.trip_id, None, rel)
        out.append(exp)
        if rel in (TD.ADDED, TD.NEW):
            stops = [u.stop_id for u in tu.stop_time_update]
            timed = [u.arrival.time or u.departure.time for u in tu.stop_time_update]
            if any(s not in ref.parent for s in stops):
                exp.outcome = "unknown stop"
            elif not all(timed) or len(stops) < 2:
                exp.outcome = "added trip without times"
            continue
        if desc.trip_id not in ref.trip_service:
            exp.outcome = "trip not found"
            continue
        if desc.start_date:
            d = datetime.strptime(desc.start_date, "%Y%m%d").date()
            if not ref.runs_on(desc.trip_id, d):
                exp.outcome = "no service on date"
                continue
        else:  # the service day of the feed's time (or the one before, past midnight)
            d = next((x for x in (feed_day, feed_day - timedelta(days=1))
                      if ref.runs_on(desc.trip_id, x)), None)
            if d is None:
                exp.outcome = "no service on date"
                continue
        exp.service_date = d
        sched = ref.scheduled(desc.trip_id, d)
        if rel in (TD.CANCELED, TD.DELETED):
            continue
        seqs = [s for s, _, _, _ in sched]
        stops = [s for _, s, _, _ in sched]
        by_pos: dict[int, STU] = {}
        reason = None
        for u in tu.stop_time_update:
            if u.HasField("stop_sequence") and u.stop_sequence not in seqs:
                # a numbering of its own: the stop_id, if one stop of the trip, says which
                hits = [i for i, s in enumerate(stops) if s == u.stop_id] if u.stop_id else []
                if u.stop_id and not hits and ref.parent.get(u.stop_id):
                    hits = [i for i, s in enumerate(stops)
                            if ref.parent.get(s) == ref.parent[u.stop_id]]
                if u.stop_id and u.stop_id not in ref.parent:
                    reason = "unknown stop"
                    break
                if len(hits) != 1:
                    reason = "invalid stop sequence"
                    break
                pos = hits[0]
                exp.warned = True
            elif u.HasField("stop_sequence"):
                pos = seqs.index(u.stop_sequence)
                if u.stop_id:
                    if u.stop_id not in ref.parent:
                        reason = "unknown stop"
                        break
                    if u.stop_id != stops[pos] and not (
                            ref.parent[u.stop_id]
                            and ref.parent[u.stop_id] == ref.parent[stops[pos]]):
                        reason = "stop mismatch"
                        break
            else:
                if u.stop_id not in ref.parent:
                    reason = "unknown stop"
                    break
                hits = [i for i, s in enumerate(stops) if s == u.stop_id]
                if not hits and ref.parent[u.stop_id]:
                    hits = [i for i, s in enumerate(stops)
                            if ref.parent.get(s) == ref.parent[u.stop_id]]
                if len(hits) != 1:
                    reason = "stop mismatch" if not hits else "stop visited twice"
                    break
                pos = hits[0]
            if pos in by_pos:
                reason = "invalid stop sequence"
                break
            by_pos[pos] = u
        if reason is not None:
            exp.outcome = reason
            continue
        exp.calls = _propagate(sched, by_pos)
    return out


def _propagate(sched: list[tuple[int, str, int, int]], by_pos: dict[int, STU]
               ) -> list[tuple[str, int | None, int | None, str]]:
    """Doc semantics: time over delay; a delay runs downstream (past SKIPPED) until the next
    update; NO_DATA stops predictions; times never run backwards."""
    calls: list[tuple[str, int | None, int | None, str]] = []
    delay: int | None = None
    prev: int | None = None
    for i, (_, stop, sa, sd) in enumerate(sched):
        u = by_pos.get(i)
        a = d = None
        if u is not None and u.schedule_relationship == STU.NO_DATA:
            delay, prev = None, None
            calls.append((stop, None, None, "no_data"))
            continue
        if u is not None and u.schedule_relationship == STU.SKIPPED:
            calls.append((stop, None, None, "skipped"))
            continue
        if u is not None:
            def ev(e: pb.TripUpdate.StopTimeEvent, s: int) -> int | None:
                if e.time:
                    return int(e.time)
                if e.HasField("delay"):
                    return s + e.delay
                return None
            a = ev(u.arrival, sa) if u.HasField("arrival") else None
            d = ev(u.departure, sd) if u.HasField("departure") else None
            if a is None and d is None and delay is not None:
                a, d = sa + delay, sd + delay
            elif a is None and d is not None:
                a = min(d, sa + (delay if delay is not None else d - sd))
            elif d is None and a is not None:
                d = max(a, sd + (a - sa))
            if d is not None:
                delay = d - sd
        elif delay is not None:
            a, d = sa + delay, sd + delay
        if a is None or d is None:
            calls.append((stop, None, None, "scheduled"))
            continue
        if prev is not None and a < prev:
            a = prev
        d = max(d, a)
        prev = d
        calls.append((stop, a, d, "live"))
    return calls


def utc(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)
