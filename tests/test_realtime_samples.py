"""Real GTFS-Realtime samples pushed into the service over their own static feeds: SNCB
2019-03-16 and 2019-06-04 (cancellations), BART 2019-08-07 (trip updates, ADDED trips, an
alert) and Caltrain 2023-11-08 (trip updates, vehicle positions).

Every expectation is computed here from the raw files (gtfs-realtime-bindings for the .pb,
pandas for the static zip, tests/realtime_support.py): which entities apply and why the
others are rejected, and the live times each applied trip must show (`time` wins over
`delay`, delays run downstream, times never run backwards). The service is served as of the
feed's header timestamp + 5 s by an injected clock. Memory backend (Redis: see
test_realtime_processes.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from google.protobuf import json_format
from google.transit import gtfs_realtime_pb2 as pb

from tests.conftest import DATA, catalog_of
from tests.realtime_support import (
    TD,
    Expected,
    MutableClock,
    StaticRef,
    expect_trip_updates,
    iso_local,
    read_pb,
    utc,
)
from transit.app import create_app
from transit.ingest.pipeline import ingest
from transit.settings import Settings
from transit.timetable.store import Store

GTFS, RT = DATA / "gtfs", DATA / "gtfs-rt"
SNCB_0311 = GTFS / "belgium" / "sncb-nmbs-2019-03-11.zip"
SNCB_0529 = GTFS / "belgium" / "sncb-nmbs-2019-05-29.zip"
BART_ZIP = GTFS / "bayarea-rt-matched" / "bart-2019-02-11.zip"
CT_ZIP = GTFS / "bayarea-rt-matched" / "caltrain-511-2023-09-22.zip"
SNCB_TU_0316 = RT / "belgium" / "sncb-tripupdates-2019-03-16T0645Z.pb"
SNCB_TU_0604 = RT / "belgium" / "sncb-tripupdates-2019-06-04T1514Z-cancellations.pb"
BART_TU = RT / "bayarea" / "bart-tripupdates-2019-08-07T1745Z.pb"
BART_AL = RT / "bayarea" / "bart-alerts-2019-08-07T1745Z.pb"
CT_TU = RT / "bayarea" / "caltrain-tripupdates-2023-11-08T0105Z.pb"
CT_VP = RT / "bayarea" / "caltrain-vehiclepositions-2023-11-08T0105Z.pb"
ALL = (SNCB_0311, SNCB_0529, BART_ZIP, CT_ZIP, SNCB_TU_0316, SNCB_TU_0604, BART_TU, BART_AL,
       CT_TU, CT_VP)
KEYS = {"SNCB": "sncb-key", "BART": "bart-key", "CT": "ct-key"}
SERVE_LAG_S = 5

pytestmark = pytest.mark.skipif(
    not all(p.exists() for p in ALL),
    reason=f"shared test data absent under {DATA} (GTFS + GTFS-RT samples; present on CI)")


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def data_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for key, feeds in (("sncb0311", {"SNCB": SNCB_0311}), ("sncb0529", {"SNCB": SNCB_0529}),
                       ("bay", {"BART": BART_ZIP, "CT": CT_ZIP})):
        d = tmp_path_factory.mktemp(key)
        ingest(catalog_of(feeds), Store(d))
        out[key] = d
    return out


@pytest.fixture(scope="module")
def serve(data_dirs: dict[str, Path]) -> Iterator[Callable[[str, int], TestClient]]:
    """serve(network, unix time) -> a started TestClient (memory backend) as of that time."""
    clients: list[TestClient] = []

    def make(network: str, at: int) -> TestClient:
        clock = MutableClock(utc(at))
        app = create_app(Settings(data_dir=data_dirs[network], rate_limit_per_minute=0,
                                  redis_url=None, push_keys=KEYS, realtime_poll=False),
                         clock=clock)
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.__exit__(None, None, None)


def push(client: TestClient, op: str, path: Path, kind: str | None = None) -> dict:
    r = client.post(f"/v1/operators/{op}/realtime", content=path.read_bytes(),
                    params={"kind": kind} if kind else None,
                    headers={"Authorization": f"Bearer {KEYS[op]}",
                             "Content-Type": "application/x-protobuf"})
    assert r.status_code == 202, r.text
    return r.json()


def feed_state(client: TestClient, op: str, kind: str) -> dict:
    r = client.get(f"/v1/operators/{op}/realtime")
    assert r.status_code == 200, r.text
    feeds = {f["kind"]: f for f in r.json()["feeds"]}
    assert kind in feeds, r.json()
    return feeds[kind]


def expected_counters(expected: list[Expected]) -> tuple[int, dict[str, int]]:
    outcomes = Counter(x.outcome for x in expected)
    applied = outcomes.pop("applied", 0)
    return applied, dict(outcomes)


class Sample:
    def __init__(self, client: TestClient, op: str, ref: StaticRef, msg: pb.FeedMessage
                 ) -> None:
        self.client, self.op, self.ref, self.msg = client, op, ref, msg
        self.expected = expect_trip_updates(ref, msg)

    def applied(self, rel: int | None = None) -> list[Expected]:
        return [x for x in self.expected if x.outcome == "applied"
                and (rel is None or x.relationship == rel)]


def _sample(serve: Callable[[str, int], TestClient], network: str, op: str, zip_: Path,
            rt: Path) -> Sample:
    msg = read_pb(rt)
    client = serve(network, int(msg.header.timestamp) + SERVE_LAG_S)
    push(client, op, rt)
    return Sample(client, op, StaticRef(zip_, op), msg)


@pytest.fixture(scope="module")
def sncb16(serve: Callable[[str, int], TestClient]) -> Sample:
    return _sample(serve, "sncb0311", "SNCB", SNCB_0311, SNCB_TU_0316)


@pytest.fixture(scope="module")
def sncb04(serve: Callable[[str, int], TestClient]) -> Sample:
    return _sample(serve, "sncb0529", "SNCB", SNCB_0529, SNCB_TU_0604)


@pytest.fixture(scope="module")
def bart(serve: Callable[[str, int], TestClient]) -> Sample:
    s = _sample(serve, "bay", "BART", BART_ZIP, BART_TU)
    push(s.client, "BART", BART_AL)
    return s


@pytest.fixture(scope="module")
def caltrain(serve: Callable[[str, int], TestClient]) -> Sample:
    s = _sample(serve, "bay", "CT", CT_ZIP, CT_TU)
    push(s.client, "CT", CT_VP)
    return s


# --------------------------------------------------------------------------- checks


def check_counters(s: Sample) -> None:
    applied, rejected = expected_counters(s.expected)
    st = feed_state(s.client, s.op, "trip-updates")
    assert st["entities"] == len(s.msg.entity)
    assert st["applied"] == applied
    assert st["rejected"] == rejected
    assert set(st["rejected_examples"]) == set(rejected)
    warned = sum(x.warned for x in s.expected if x.outcome == "applied")
    assert st["warnings"] == ({"stop_sequence not in the trip, matched by stop_id": warned}
                              if warned else {})
    ts = int(s.msg.header.timestamp)
    assert st["feed_timestamp"] == utc(ts).isoformat()
    assert st["age_s"] == SERVE_LAG_S
    assert st["incrementality"] == "FULL_DATASET"
    assert st["last_success"] is not None and st["last_error"] is None


def check_trip_times(s: Sample) -> int:
    """Every applied scheduled trip, every stop: the live times of the reference. Returns
    the number of calls with live times compared."""
    problems, compared = [], 0
    for x in s.applied():
        if x.relationship not in (TD.SCHEDULED, TD.CANCELED):
            continue
        assert x.service_date is not None
        assert x.calls is not None or x.relationship == TD.CANCELED
        r = s.client.get(f"/v1/trips/{s.op}:{x.trip_id}",
                         params={"date": x.service_date.isoformat()})
        assert r.status_code == 200, r.text
        trip = r.json()
        if x.relationship == TD.CANCELED:
            assert trip["status"] == "canceled"
            assert {st["status"] for st in trip["stops"]} == {"canceled"}
            assert all(st["realtime_departure"] is None for st in trip["stops"])
            continue
        assert trip["status"] == "scheduled"
        assert len(trip["stops"]) == len(x.calls)
        stamps = [datetime.fromisoformat(t).timestamp() for st in trip["stops"]
                  for t in (st["realtime_arrival"], st["realtime_departure"]) if t]
        assert stamps == sorted(stamps), f"{x.trip_id}: live times run backwards"
        for st, (stop, a, d, kind) in zip(trip["stops"], x.calls, strict=True):
            assert st["stop_id"] == f"{s.op}:{stop}"
            tz = s.ref.tz
            want_arr = iso_local(a, tz) if a is not None else None
            want_dep = iso_local(d, tz) if d is not None else None
            got = (st["realtime_arrival"], st["realtime_departure"])
            if got != (want_arr, want_dep):
                problems.append(f"{x.trip_id} {stop}: got {got}, want {(want_arr, want_dep)}")
                continue
            if d is not None:
                compared += 1
                sched = int(datetime.fromisoformat(st["scheduled_departure"]).timestamp())
                assert st["delay_s"] == d - sched
                assert st["status"] == ("delayed" if d - sched >= 60 else "on_time")
            else:
                assert st["delay_s"] is None
                assert st["status"] == ("skipped" if kind == "skipped" else "scheduled")
    assert not problems, f"{len(problems)} calls differ:\n" + "\n".join(problems[:20])
    return compared


def board(client: TestClient, stop: str, at: str, window: int = 30, limit: int = 100,
          station: bool = False) -> dict:
    kind = "stations" if station else "stops"
    r = client.get(f"/v1/{kind}/{stop}/departures",
                   params={"at": at, "window": window, "limit": limit})
    assert r.status_code == 200, r.text
    return r.json()


def explicit_departures(s: Sample, limit: int) -> list[tuple[Expected, pb.TripUpdate.
                                                             StopTimeUpdate, int]]:
    """(entity, update, scheduled departure) of updates giving departure.time at a stop where
    the trip takes passengers (not its last), for applied SCHEDULED trips, in feed order."""
    out = []
    tus = {e.id: e.trip_update for e in s.msg.entity}
    for x in s.applied(TD.SCHEDULED):
        assert x.service_date is not None
        sched = s.ref.scheduled(x.trip_id, x.service_date)
        stops = [stop for _, stop, _, _ in sched]
        boarding = s.ref.boarding(x.trip_id)
        for u in tus[x.entity_id].stop_time_update:
            if not u.departure.time or u.stop_id not in stops[:-1]:
                continue
            if stops.count(u.stop_id) != 1 or not boarding[stops.index(u.stop_id)]:
                continue
            out.append((x, u, sched[stops.index(u.stop_id)][3]))
            if len(out) >= limit:
                return out
    return out


def check_boards(s: Sample, n: int) -> None:
    """Departure boards at the stops of n updates: realtime_departure is the update's `time`,
    delay_s = time - scheduled (the feed's `delay` field notwithstanding)."""
    tz = s.ref.tz
    checked = 0
    for x, u, sched in explicit_departures(s, n):
        calls = dict((stop, d) for stop, _, d, _ in (x.calls or []))
        want = calls[u.stop_id]
        at = iso_local(min(sched, want) - 60, tz)
        b = board(s.client, f"{s.op}:{u.stop_id}", at, window=abs(want - sched) // 60 + 10)
        assert b["realtime"]["available"] is True and b["realtime"]["stale_operators"] == []
        rows = [d for d in b["departures"] if d["trip_id"] == f"{s.op}:{x.trip_id}"]
        assert len(rows) == 1, (x.trip_id, u.stop_id, b["departures"])
        row = rows[0]
        assert row["scheduled_departure"] == iso_local(sched, tz)
        assert row["realtime_departure"] == iso_local(want, tz)
        assert row["delay_s"] == want - sched
        assert row["status"] == ("delayed" if want - sched >= 60 else "on_time")
        assert row["service_date"] == x.service_date.isoformat()  # type: ignore[union-attr]
        if want == u.departure.time:  # not repaired
            assert row["realtime_departure"] == iso_local(int(u.departure.time), tz)
        checked += 1
    assert checked == n


# --------------------------------------------------------------------------- SNCB 2019-03-16


def test_sncb_0316_reference_sees_the_manifest() -> None:
    msg = read_pb(SNCB_TU_0316)
    ref = StaticRef(SNCB_0311, "SNCB")
    ids = {e.trip_update.trip.trip_id for e in msg.entity}
    assert len(msg.entity) == 209 and len(ids) == 209
    assert ids <= set(ref.trip_service)  # MANIFEST: 209/209 trip_ids found


def test_sncb_0316_counters(sncb16: Sample) -> None:
    applied, rejected = expected_counters(sncb16.expected)
    assert applied + sum(rejected.values()) == 209
    check_counters(sncb16)


def test_sncb_0316_trip_times(sncb16: Sample) -> None:
    compared = check_trip_times(sncb16)
    assert compared > 500


def test_sncb_0316_boards(sncb16: Sample) -> None:
    check_boards(sncb16, 25)


def test_sncb_0604_backwards_times_are_repaired(sncb04: Sample) -> None:
    """The 2019-06-04 feed has arrivals earlier than the previous stop's departure (13 in
    feed order): the trips that carry them still show times that never run backwards."""
    tus = {e.id: e.trip_update for e in sncb04.msg.entity}
    backwards = []
    for x in sncb04.applied(TD.SCHEDULED):
        prev = None
        for u in tus[x.entity_id].stop_time_update:
            first = u.arrival.time or u.departure.time
            if prev and first and first < prev:
                backwards.append(x)
                break
            prev = u.departure.time or u.arrival.time or prev
    assert backwards
    for x in backwards:
        trip = sncb04.client.get(f"/v1/trips/SNCB:{x.trip_id}",
                                 params={"date": "2019-06-04"}).json()
        times = [t for st in trip["stops"] for t in (st["realtime_arrival"],
                                                    st["realtime_departure"]) if t]
        stamps = [datetime.fromisoformat(t).timestamp() for t in times]
        assert stamps == sorted(stamps), x.trip_id


def test_sncb_0316_first_trip_on_boards(sncb16: Sample) -> None:
    """88____:007::8841004:8891702:39:742:20190317 (Liège -> Oostende, 04:40): departures
    as the feed's `time` fields say, at Liège-Guillemins, Leuven and Bruxelles-Central."""
    tid = "88____:007::8841004:8891702:39:742:20190317"
    want = {"8841004": 1552707660, "8833001": 1552711140, "8813003": 1552712460}
    sched = {stop: d for _, stop, _, d in sncb16.ref.scheduled(tid, date(2019, 3, 16))}
    for stop, t in want.items():
        b = board(sncb16.client, f"SNCB:{stop}", iso_local(sched[stop] - 60, "Europe/Brussels"),
                  window=20)
        row = next(d for d in b["departures"] if d["trip_id"] == f"SNCB:{tid}")
        assert row["realtime_departure"] == iso_local(t, "Europe/Brussels")
        assert row["delay_s"] == t - sched[stop]
    # the three are 60 s, 360 s and 300 s late by the feed's delay fields as well
    assert [want[s] - sched[s] for s in want] == [60, 360, 300]


def test_sncb_0316_station_board_only_changes_what_the_feed_touches(sncb16: Sample) -> None:
    """Bruxelles-Central (all platforms), 07:45-08:45: a departure has live data exactly
    when the reference has a live call for its trip there; then with the reference's time."""
    s = sncb16
    live = {}
    for x in s.applied(TD.SCHEDULED):
        for stop, _a, d, kind in x.calls or []:
            if stop.startswith("8813003") and kind == "live":
                live[x.trip_id] = d
    b = board(s.client, "SNCB:S8813003", "2019-03-16T07:45:00+01:00", window=60, limit=100,
              station=True)
    assert len(b["departures"]) > 10
    changed = 0
    for row in b["departures"]:
        tid = row["trip_id"].removeprefix("SNCB:")
        if tid in live:
            changed += 1
            assert row["realtime_departure"] == iso_local(live[tid], "Europe/Brussels")
        else:
            assert row["realtime_departure"] is None and row["status"] == "scheduled"
    assert changed > 0


def test_sncb_0316_rejected_stop_mismatch_names_the_trip(sncb16: Sample) -> None:
    """88____:071::8811007:8833001:10:748:20190505 starts at Schaerbeek in the static feed,
    but the feed also reports Bruxelles-Congrès and -Nord before it: rejected, named, and
    the trip stays on the schedule."""
    tid = "88____:071::8811007:8833001:10:748:20190505"
    mine = next(x for x in sncb16.expected if x.trip_id == tid)
    assert mine.outcome == "stop mismatch"
    st = feed_state(sncb16.client, "SNCB", "trip-updates")
    assert "stop mismatch" in st["rejected_examples"]
    r = sncb16.client.get(f"/v1/trips/SNCB:{tid}", params={"date": "2019-03-16"})
    assert r.status_code == 200
    assert all(x["realtime_departure"] is None for x in r.json()["stops"])


# --------------------------------------------------------------------------- SNCB 2019-06-04


CANCELED_TRIP = "88____:044::8811007:8874005:25:1719:20191213"


def test_sncb_0604_counters(sncb04: Sample) -> None:
    assert len(sncb04.msg.entity) == 453
    assert len(sncb04.applied(TD.CANCELED)) == 1
    check_counters(sncb04)


def test_sncb_0604_trip_times(sncb04: Sample) -> None:
    assert check_trip_times(sncb04) > 1500


def test_sncb_0604_canceled_trip_stays_on_boards(sncb04: Sample) -> None:
    x = next(x for x in sncb04.expected if x.trip_id == CANCELED_TRIP)
    assert x.outcome == "applied" and x.relationship == TD.CANCELED
    sched = sncb04.ref.scheduled(CANCELED_TRIP, date(2019, 6, 4))
    tz = "Europe/Brussels"
    boarding = sncb04.ref.boarding(CANCELED_TRIP)
    for (_, stop, _, dep), boards in zip(sched[:-1], boarding, strict=False):
        if not boards:
            continue
        b = board(sncb04.client, f"SNCB:{stop}", iso_local(dep - 60, tz), window=5)
        rows = [d for d in b["departures"] if d["trip_id"] == f"SNCB:{CANCELED_TRIP}"]
        assert len(rows) == 1, (stop, b["departures"])
        assert rows[0]["status"] == "canceled"
        assert rows[0]["realtime_departure"] is None and rows[0]["delay_s"] is None
        assert rows[0]["scheduled_departure"] == iso_local(dep, tz)


def test_sncb_0604_board_mixes_canceled_delayed_and_scheduled(sncb04: Sample) -> None:
    """The first stop of the canceled trip at 16:00: the board keeps it (canceled) among the
    other departures, each as the reference says."""
    s = sncb04
    first = s.ref.scheduled(CANCELED_TRIP, date(2019, 6, 4))[0]
    live = {x.trip_id: {stop: d for stop, _, d, k in x.calls or [] if k == "live"}
            for x in s.applied(TD.SCHEDULED)}
    b = board(s.client, f"SNCB:{first[1]}", iso_local(first[3] - 1800, "Europe/Brussels"),
              window=60, limit=100)
    statuses = Counter(d["status"] for d in b["departures"])
    assert statuses["canceled"] == 1
    for row in b["departures"]:
        tid = row["trip_id"].removeprefix("SNCB:")
        d = live.get(tid, {}).get(first[1])
        if tid == CANCELED_TRIP:
            assert row["status"] == "canceled"
        elif d is not None:
            assert row["realtime_departure"] == iso_local(d, "Europe/Brussels")
        else:
            assert row["status"] == "scheduled"


# --------------------------------------------------------------------------- BART


def test_bart_counters(bart: Sample) -> None:
    ids = {e.trip_update.trip.trip_id for e in bart.msg.entity}
    assert len(ids - set(bart.ref.trip_service)) == 26  # MANIFEST: 65/91 found
    _, rejected = expected_counters(bart.expected)
    assert rejected.get("trip not found") == 26 - sum(
        1 for x in bart.expected if x.relationship == TD.ADDED)
    check_counters(bart)


def test_bart_trip_times_without_start_date(bart: Sample) -> None:
    """No start_date in the feed: the service day is the feed's day (2019-08-07)."""
    assert {x.service_date for x in bart.applied(TD.SCHEDULED)} == {date(2019, 8, 7)}
    assert check_trip_times(bart) > 100


def test_bart_boards(bart: Sample) -> None:
    check_boards(bart, 15)


def test_bart_time_wins_over_the_delay_field(bart: Sample) -> None:
    """BART sends `delay` and `time`, and they disagree (DALY: delay 29 s, time 106 s after
    the schedule): the board shows `time`, and delay_s is time - scheduled."""
    tz = "America/Los_Angeles"
    cases = [(x, u, sched) for x, u, sched in explicit_departures(bart, 10_000)
             if u.departure.HasField("delay") and sched + u.departure.delay != u.departure.time]
    assert len(cases) > 100
    for x, u, sched in cases[:10]:
        t = int(u.departure.time)
        b = board(bart.client, f"BART:{u.stop_id}", iso_local(min(t, sched) - 60, tz), window=10)
        row = next(d for d in b["departures"] if d["trip_id"] == f"BART:{x.trip_id}")
        assert row["realtime_departure"] == iso_local(t, tz)
        assert row["delay_s"] == t - sched != u.departure.delay


def test_bart_added_trips_on_boards(bart: Sample) -> None:
    """ADDED trips (not in the static feed) appear at their stops with status added and the
    feed's times; the one with a single stop is rejected."""
    tz = "America/Los_Angeles"
    added = bart.applied(TD.ADDED)
    assert len(added) == 7
    tus = {e.id: e.trip_update for e in bart.msg.entity}
    seen = 0
    for x in added:
        updates = list(tus[x.entity_id].stop_time_update)
        for u in updates[:-1]:
            t = int(u.departure.time)
            b = board(bart.client, f"BART:{u.stop_id}", iso_local(t - 60, tz), window=5)
            rows = [d for d in b["departures"] if d["trip_id"] == f"BART:{x.trip_id}"]
            assert len(rows) == 1, (x.trip_id, u.stop_id)
            assert rows[0]["status"] == "added"
            assert rows[0]["realtime_departure"] == iso_local(t, tz)
            assert rows[0]["operator"] == "BART"
            seen += 1
    assert seen == sum(len(tus[x.entity_id].stop_time_update) - 1 for x in added)


BART_ALERT_HEADER = (
    "There is a major delay at Montgomery St. on the San Francisco Line in the SFO, Millbrae, "
    "Daly City and East Bay directions due to a major medical emergency. Montgomery station is "
    "currently closed.  Trains are not stopping at Montgomery station. ")


def test_bart_alert(bart: Sample) -> None:
    raw = read_pb(BART_AL).entity[0].alert
    assert raw.header_text.translation[0].text == BART_ALERT_HEADER
    r = bart.client.get("/v1/alerts", params={"operator": "BART"})
    assert r.status_code == 200, r.text
    alerts = r.json()["alerts"]
    assert len(alerts) == 1
    a = alerts[0]
    assert a["id"] == "BART:BSA_187874"
    assert a["operator"] == "BART"
    assert a["cause"] == "MEDICAL_EMERGENCY" == pb.Alert.Cause.Name(raw.cause)
    assert a["effect"] == "SIGNIFICANT_DELAYS" == pb.Alert.Effect.Name(raw.effect)
    assert a["text"]["header"] == BART_ALERT_HEADER
    assert a["text"]["url"] == "http://www.bart.gov/schedules/advisories"
    assert a["active_periods"] == []
    assert a["informed_entities"] == [{"agency_id": "BART:BART", "route_id": None,
                                       "route_type": None, "direction_id": None,
                                       "trip_id": None, "stop_id": None}]
    # a French speaker gets the only text there is
    r = bart.client.get("/v1/alerts", params={"operator": "BART", "lang": "fr"})
    assert r.json()["alerts"][0]["text"]["header"] == BART_ALERT_HEADER
    assert bart.client.get("/v1/alerts", params={"operator": "CT"}).json()["alerts"] == []
    st = feed_state(bart.client, "BART", "alerts")
    assert (st["entities"], st["applied"], st["rejected"]) == (1, 1, {})


def test_bart_alert_on_departures_at_montgomery(bart: Sample) -> None:
    """An agency-wide alert: every scheduled BART departure carries it (Montgomery too)."""
    b = board(bart.client, "BART:MONT", "2019-08-07T10:45:00-07:00", window=20)
    rows = [row for row in b["departures"] if row["status"] != "added"]
    assert len(rows) >= 5
    for row in rows:
        assert [(a["id"], a["effect"], a["header"]) for a in row["alerts"]] == [
            ("BART:BSA_187874", "SIGNIFICANT_DELAYS", BART_ALERT_HEADER)], row["trip_id"]


def test_bart_alert_on_departures_of_added_trips(bart: Sample) -> None:
    """The ADDED trips of the BART sample carry no route_id, but they are BART's (one agency):
    the agency-wide alert concerns them as much as the scheduled ones."""
    b = board(bart.client, "BART:MONT", "2019-08-07T10:45:00-07:00", window=20)
    added = [row for row in b["departures"] if row["status"] == "added"]
    assert [row["trip_id"] for row in added] == ["BART:5191044WKDY"]
    assert [a["id"] for a in added[0]["alerts"]] == ["BART:BSA_187874"]


@pytest.mark.parametrize("params", [{"stop": "BART:MONT"}, {"route": "BART:11"}],
                         ids=["stop", "route"])
def test_bart_alert_listed_for_a_stop_and_a_route_of_the_agency(bart: Sample,
                                                                 params: dict) -> None:
    """/v1/alerts?stop= and ?route= answer the alerts that affect that stop or route: an
    informed_entity of the agency only (the BART sample) affects every BART stop and route,
    as on the departure boards."""
    r = bart.client.get("/v1/alerts", params=params)
    assert r.status_code == 200
    assert [a["id"] for a in r.json()["alerts"]] == ["BART:BSA_187874"]


# --------------------------------------------------------------------------- Caltrain


def test_caltrain_counters(caltrain: Sample) -> None:
    check_counters(caltrain)
    assert expected_counters(caltrain.expected) == (19, {})


def test_caltrain_trip_times(caltrain: Sample) -> None:
    """start_date 20231107 (the feed is 17:05 local on the 7th); stop_sequence + stop_id."""
    assert {x.service_date for x in caltrain.applied()} == {date(2023, 11, 7)}
    assert check_trip_times(caltrain) > 150


def test_caltrain_boards(caltrain: Sample) -> None:
    check_boards(caltrain, 15)


def test_caltrain_vehicles(caltrain: Sample) -> None:
    raw = read_pb(CT_VP)
    assert len(raw.entity) == 14
    r = caltrain.client.get("/v1/vehicles", params={"bbox": "-123,36.9,-121,38",
                                                     "operator": "CT"})
    assert r.status_code == 200, r.text
    fc = r.json()
    assert fc["type"] == "FeatureCollection"
    got = {f["id"]: f for f in fc["features"]}
    assert len(got) == 14
    for e in raw.entity:
        v = e.vehicle
        f = got[f"CT:{v.vehicle.id}"]
        assert f["geometry"] == {"type": "Point",
                                 "coordinates": [v.position.longitude, v.position.latitude]}
        p = f["properties"]
        assert p["operator"] == "CT"
        assert p["trip_id"] == f"CT:{v.trip.trip_id}"
        assert p["route_id"] == f"CT:{v.trip.route_id}"
        assert p["timestamp"] == utc(v.timestamp).isoformat()
    st = feed_state(caltrain.client, "CT", "vehicle-positions")
    assert (st["entities"], st["applied"], st["rejected"]) == (14, 14, {})


def test_caltrain_vehicles_near_a_point_and_by_route(caltrain: Sample) -> None:
    raw = {e.vehicle.vehicle.id: e.vehicle.position for e in read_pb(CT_VP).entity}
    p = raw["124"]
    r = caltrain.client.get("/v1/vehicles", params={"lat": p.latitude, "lon": p.longitude,
                                                     "radius": 200})
    assert [f["id"] for f in r.json()["features"]] == ["CT:124"]
    r = caltrain.client.get("/v1/vehicles", params={"bbox": "-123,36.9,-121,38",
                                                     "route": "CT:L1"})
    routes = {e.vehicle.vehicle.id for e in read_pb(CT_VP).entity
              if e.vehicle.trip.route_id == "L1"}
    assert {f["id"] for f in r.json()["features"]} == {f"CT:{v}" for v in routes}
    r = caltrain.client.get("/v1/vehicles", params={"bbox": "-123,36.9,-121,38",
                                                     "operator": "BART"})
    assert r.json()["features"] == []


# --------------------------------------------------------------------------- merged export


def test_merged_export_parses_back_with_namespaced_ids(
        serve: Callable[[str, int], TestClient]) -> None:
    ct_tu, ct_vp = read_pb(CT_TU), read_pb(CT_VP)
    served_at = int(ct_vp.header.timestamp) + SERVE_LAG_S
    client = serve("bay", served_at)
    for op, path in (("BART", BART_TU), ("BART", BART_AL), ("CT", CT_TU), ("CT", CT_VP)):
        push(client, op, path)
    bart_tu, bart_al = read_pb(BART_TU), read_pb(BART_AL)

    def implausible(e: pb.FeedEntity) -> bool:
        """Served as of Caltrain's 2023 feed, BART's ADDED trips without start_date run on
        the clock's (2023) service day: their 2019 times are off that day, so rejected and
        not passed on."""
        tu = e.trip_update
        if tu.trip.schedule_relationship != TD.ADDED or tu.trip.start_date:
            return False
        times = [ev.time for u in tu.stop_time_update for ev in (u.arrival, u.departure)
                 if ev.time]
        return len(tu.stop_time_update) >= 2 and any(
            abs(t - served_at) > 2 * 86400 for t in times)

    dropped = [e for e in bart_tu.entity if implausible(e)]
    assert len(dropped) == 7
    bart_status = {f["kind"]: f for f in
                   client.get("/v1/operators/BART/realtime").json()["feeds"]}["trip-updates"]
    assert bart_status["rejected"]["time outside the service day"] == len(dropped)
    bart_tu = pb.FeedMessage(header=bart_tu.header,
                             entity=[e for e in bart_tu.entity if not implausible(e)])

    def get(kind: str) -> pb.FeedMessage:
        r = client.get(f"/v1/gtfs-rt/{kind}")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/x-protobuf")
        msg = pb.FeedMessage()
        msg.ParseFromString(r.content)
        assert msg.header.gtfs_realtime_version
        assert msg.header.incrementality == pb.FeedHeader.FULL_DATASET
        as_json = client.get(f"/v1/gtfs-rt/{kind}", params={"format": "json"})
        assert as_json.status_code == 200
        assert json_format.ParseDict(as_json.json(), pb.FeedMessage()) == msg
        return msg

    tu = get("trip-updates")
    want_ids = {f"BART:{e.id}" for e in bart_tu.entity} | {f"CT:{e.id}" for e in ct_tu.entity}
    assert {e.id for e in tu.entity} == want_ids
    assert len(tu.entity) == len(bart_tu.entity) + len(ct_tu.entity)
    originals = {f"BART:{e.id}": e for e in bart_tu.entity} | {
        f"CT:{e.id}": e for e in ct_tu.entity}
    for e in tu.entity:
        op = e.id.split(":", 1)[0]
        orig = originals[e.id].trip_update
        assert e.trip_update.trip.trip_id == f"{op}:{orig.trip.trip_id}"
        if orig.trip.route_id:
            assert e.trip_update.trip.route_id == f"{op}:{orig.trip.route_id}"
        assert [u.stop_id for u in e.trip_update.stop_time_update] == [
            f"{op}:{u.stop_id}" for u in orig.stop_time_update]
        assert [u.departure.time for u in e.trip_update.stop_time_update] == [
            u.departure.time for u in orig.stop_time_update]

    vp = get("vehicle-positions")
    assert {e.id for e in vp.entity} == {f"CT:{e.id}" for e in ct_vp.entity}
    for e in vp.entity:
        assert e.vehicle.vehicle.id.startswith("CT:")
        assert e.vehicle.trip.trip_id.startswith("CT:")
        assert e.vehicle.trip.route_id == "CT:L1" or e.vehicle.trip.route_id.startswith("CT:")

    al = get("alerts")
    assert [e.id for e in al.entity] == [f"BART:{e.id}" for e in bart_al.entity]
    assert [ie.agency_id for ie in al.entity[0].alert.informed_entity] == ["BART:BART"]
    assert al.entity[0].alert.header_text == bart_al.entity[0].alert.header_text
    assert al.entity[0].alert.cause == pb.Alert.MEDICAL_EMERGENCY


def test_reference_times_are_local(sncb16: Sample) -> None:
    """Sanity of the reference itself: the first trip leaves Liège at 04:40 local."""
    tid = "88____:007::8841004:8891702:39:742:20190317"
    first = sncb16.ref.scheduled(tid, date(2019, 3, 16))[0]
    assert datetime.fromtimestamp(first[3], ZoneInfo("Europe/Brussels")).strftime(
        "%H:%M") == "04:40"
