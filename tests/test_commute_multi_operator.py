"""Commute alerts on a merged multi-operator network: BART 2019 (the static the BART
realtime samples match), Caltrain and SMART from the 511 export of 2018 (both still running
on 2019-08-07), served as of the BART trip-updates sample 2019-08-07T17:45:21Z + 5 s.

Three commuters: Ana rides BART (24th St to Montgomery), Ben crosses operators (BART from
MacArthur to Millbrae, then Caltrain to Hillsdale), Cleo rides Caltrain and SMART; Dan
rides a BART train that runs about a minute late (under his 3-minute rule). The BART sample
alerts exactly Ana and Ben, with the delays that the raw files give (the reference reading
of tests/realtime_support.py), and nobody else."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.commute_support import LiveRig, reference_delay
from tests.conftest import DATA, catalog_of
from tests.realtime_support import TD, StaticRef, expect_trip_updates, read_pb
from transit.commuters.rules import Commute, parse_commute
from transit.ingest.pipeline import ingest
from transit.timetable.store import Store
from transit.timetable.timetable import Timetable

GTFS = DATA / "gtfs"
FEEDS = {"BART": GTFS / "bayarea-rt-matched" / "bart-2019-02-11.zip",
         "CT": GTFS / "bayarea-511-2018" / "CT-caltrain.zip",
         "SMART": GTFS / "bayarea-511-2018" / "SA-smart-rail.zip"}
BART_TU = DATA / "gtfs-rt" / "bayarea" / "bart-tripupdates-2019-08-07T1745Z.pb"
TZ = ZoneInfo("America/Los_Angeles")
RULES = [{"kind": "delay", "min_minutes": 3}, {"kind": "cancellation"},
         {"kind": "missed_connection"}]

pytestmark = pytest.mark.skipif(
    not all(p.exists() for p in (*FEEDS.values(), BART_TU)),
    reason=f"shared test data absent under {DATA} (BART 2019, Caltrain and SMART 2018 "
           "GTFS, the BART 2019-08-07 trip-updates sample; present on CI)")


@pytest.fixture(scope="module")
def merged(tmp_path_factory: pytest.TempPathFactory) -> Timetable:
    root = tmp_path_factory.mktemp("bart-ct-smart")
    ingest(catalog_of(FEEDS), Store(root))
    tt = Store(root).load_current()
    assert tt is not None
    return tt


def _commute(cid: str, user: str, frm: str, to: str, start: str, end: str) -> Commute:
    return parse_commute({"name": cid, "from": frm, "to": to, "days": ["wed"],
                          "depart_between": [start, end], "rules": RULES}, cid, user)


COMMUTES = [
    _commute("ana-bart", "ana", "BART:24TH", "BART:MONT", "10:46", "10:47"),
    _commute("ben-crossing", "ben", "BART:MCAR", "CT:70112", "11:01", "11:02"),
    _commute("cleo-caltrain", "cleo", "CT:70012", "CT:70112", "11:00", "12:00"),
    _commute("cleo-smart", "cleo", "SMART:7102", "SMART:7111", "10:50", "12:20"),
    _commute("dan-bart", "dan", "BART:MLBR", "BART:SBRN", "10:48", "10:49"),
]


def _rides(rig: LiveRig, cid: str) -> list[list[tuple[str, str]]]:
    """(trip id, local departure) of each leg of each watched journey."""
    return [[(leg.trip_id, datetime.fromtimestamp(leg.departure, TZ).strftime("%H:%M"))
             for leg in p.legs] for p in rig.evaluator._subs[cid].plans]


def test_bart_delays_alert_the_bart_and_crossing_commuters_only(merged: Timetable) -> None:
    msg = read_pb(BART_TU)
    now = int(msg.header.timestamp) + 5
    assert datetime.fromtimestamp(now, TZ).isoformat() == "2019-08-07T10:45:26-07:00"
    rig = LiveRig(merged, now)
    assert rig.evaluator.watch(merged, COMMUTES) == 5
    # the journeys watched: Ben's crosses from BART to Caltrain at Millbrae
    assert _rides(rig, "ana-bart") == [[("BART:5171037WKDY", "10:46")]]
    assert _rides(rig, "ben-crossing") == [[("BART:4471042WKDY", "11:01"), ("CT:146", "12:25")]]
    assert _rides(rig, "cleo-caltrain") == [[("CT:142", "11:00")], [("CT:146", "12:00")]]
    assert _rides(rig, "cleo-smart") == [[("SMART:16", "11:29")]]
    assert _rides(rig, "dan-bart") == [[("BART:4591048WKDY", "10:48")]]

    events = rig.push("BART", msg)
    got = {(e.user_id, e.commute_id, e.kind, e.subject, e.detail["delay_s"], e.state)
           for e in events}
    assert got == {("ana", "ana-bart", "delay", "BART:5171037WKDY", 459, "new"),
                   ("ben", "ben-crossing", "delay", "BART:4471042WKDY", 215, "new")}
    assert len(events) == 2 and len({e.id for e in events}) == 2

    # the delays are the raw files' (largest of the departure delay where the commuter
    # boards and the arrival delay where they alight), Dan's is under his 3 minutes
    ref = StaticRef(FEEDS["BART"], "BART")
    expected = {x.trip_id: x for x in expect_trip_updates(ref, msg)
                if x.outcome == "applied" and x.relationship == TD.SCHEDULED}
    for cid, want in (("ana-bart", 459), ("ben-crossing", 215), ("dan-bart", None)):
        leg = rig.evaluator._subs[cid].plans[0].legs[0]
        x = expected[leg.trip_id.removeprefix("BART:")]
        d = reference_delay(ref, x, leg, x.service_date)  # type: ignore[arg-type]
        assert d is not None
        if want is None:
            assert 0 < d < 180, d
        else:
            assert d == want


def test_the_same_sample_again_alerts_nobody(merged: Timetable) -> None:
    msg = read_pb(BART_TU)
    now = int(msg.header.timestamp) + 5
    rig = LiveRig(merged, now)
    rig.evaluator.watch(merged, COMMUTES)
    assert len(rig.push("BART", msg)) == 2
    rig.clock.advance(30)
    msg.header.timestamp += 30
    assert rig.push("BART", msg) == []
