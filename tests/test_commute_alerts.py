"""Commute alerts on the real GTFS-Realtime samples: BART 2019-08-07 (delays, an alert for
the whole agency) and SNCB 2019-06-04 (a cancellation), each pushed into the realtime state
over its own static feed, as of the feed's header timestamp + 5 s.

Which commuter must be alerted is computed from the raw files (tests/realtime_support.py:
pandas + gtfs-realtime-bindings): a commuter is alerted exactly when a trip its watched
journey rides is delayed (or cancelled) by the reference reading; everyone else gets
nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from google.transit import gtfs_realtime_pb2 as pb

from tests.commute_support import LiveRig, commute, local, reference_delay
from tests.conftest import DATA, catalog_of
from tests.realtime_support import TD, StaticRef, expect_trip_updates, read_pb
from transit.commuters.evaluation import Evaluator
from transit.commuters.rules import Commute, commute_dict, parse_commute
from transit.ingest.pipeline import ingest
from transit.timetable.store import Store
from transit.timetable.timetable import Timetable

GTFS, RT = DATA / "gtfs", DATA / "gtfs-rt"
BART_ZIP = GTFS / "bayarea-rt-matched" / "bart-2019-02-11.zip"
CT_ZIP = GTFS / "bayarea-rt-matched" / "caltrain-511-2023-09-22.zip"
SNCB_0529 = GTFS / "belgium" / "sncb-nmbs-2019-05-29.zip"
BART_TU = RT / "bayarea" / "bart-tripupdates-2019-08-07T1745Z.pb"
BART_AL = RT / "bayarea" / "bart-alerts-2019-08-07T1745Z.pb"
SNCB_TU = RT / "belgium" / "sncb-tripupdates-2019-06-04T1514Z-cancellations.pb"
ALL = (BART_ZIP, CT_ZIP, SNCB_0529, BART_TU, BART_AL, SNCB_TU)
LAG = 5
BART_TZ = "America/Los_Angeles"

pytestmark = pytest.mark.skipif(
    not all(p.exists() for p in ALL),
    reason=f"shared test data absent under {DATA} (GTFS + GTFS-RT samples; present on CI)")


def _timetable(tmp: Path, feeds: dict[str, Path]) -> Timetable:
    ingest(catalog_of(feeds), Store(tmp))
    tt = Store(tmp).load_current()
    assert tt is not None
    return tt


@pytest.fixture(scope="module")
def bay(tmp_path_factory: pytest.TempPathFactory) -> Timetable:
    return _timetable(tmp_path_factory.mktemp("bay"), {"BART": BART_ZIP, "CT": CT_ZIP})


@pytest.fixture(scope="module")
def sncb(tmp_path_factory: pytest.TempPathFactory) -> Timetable:
    return _timetable(tmp_path_factory.mktemp("sncb"), {"SNCB": SNCB_0529})


class Bart:
    """The BART sample, its reference reading and commuters riding its trips."""

    def __init__(self, tt: Timetable) -> None:
        self.msg = read_pb(BART_TU)
        self.now = int(self.msg.header.timestamp) + LAG
        self.ref = StaticRef(BART_ZIP, "BART")
        self.expected = {x.trip_id: x for x in expect_trip_updates(self.ref, self.msg)
                         if x.outcome == "applied" and x.relationship == TD.SCHEDULED}
        self.rig = LiveRig(tt, self.now)
        self.commutes: list[Commute] = []
        self.aimed: dict[str, str] = {}  # commute id -> the trip it was aimed at
        for trip_id, x in sorted(self.expected.items()):
            sched = self.ref.scheduled(trip_id, x.service_date)  # type: ignore[arg-type]
            for i, (_, stop, _, dep) in enumerate(sched[:-2]):
                if self.now < dep < self.now + 40 * 60:  # within the 45 min of lead time
                    c = commute(f"c-{trip_id}", f"BART:{stop}", f"BART:{sched[i + 2][1]}",
                                local(dep, BART_TZ).replace(second=0),
                                rules=[{"kind": "delay", "min_minutes": 5},
                                       {"kind": "cancellation"}])
                    self.commutes.append(c)
                    self.aimed[c.id] = trip_id
                    # the same ride three hours later: outside the lead time, never alerted
                    self.commutes.append(commute(
                        f"late-{trip_id}", c.origin, c.destination,
                        local(dep + 3 * 3600, BART_TZ).replace(second=0)))
                    break
        assert self.rig.evaluator.watch(tt, self.commutes) == len(self.commutes)

    def delayed_riders(self, ev: Evaluator, min_s: int) -> dict[str, tuple[str, int]]:
        """commute id -> (trip id, reference delay) for each watched journey in its lead
        time riding a trip the reference says is delayed by at least min_s."""
        out: dict[str, tuple[str, int]] = {}
        for c in self.commutes:
            sub = ev._subs[c.id]
            for p in sub.plans:
                if not p.departure - c.lead_min * 60 <= self.now <= p.arrival + 3600:
                    continue
                for leg in p.legs:
                    x = self.expected.get(leg.trip_id.removeprefix("BART:"))
                    if x is None:
                        continue
                    d = reference_delay(self.ref, x, leg, x.service_date)  # type: ignore
                    if d is not None and d >= min_s:
                        out[c.id] = (leg.trip_id, d)
        return out


@pytest.fixture()
def bart(bay: Timetable) -> Iterator[Bart]:
    yield Bart(bay)


def test_bart_delays_alert_exactly_the_commuters_riding_delayed_trips(bart: Bart) -> None:
    events = bart.rig.push_file("BART", BART_TU)
    want = bart.delayed_riders(bart.rig.evaluator, 300)
    # not vacuous: most commuters aimed at a delayed trip do ride it
    aimed_delayed = [cid for cid, trip in bart.aimed.items()
                     if want.get(cid, ("",))[0] == f"BART:{trip}"]
    assert len(aimed_delayed) >= 5, (want, bart.aimed)
    got = {e.commute_id: (e.subject, e.detail["delay_s"]) for e in events}
    assert got == want
    assert {e.kind for e in events} == {"delay"}
    assert {e.state for e in events} == {"new"}
    assert all(e.id.startswith("al_") and e.version == 1 for e in events)
    assert not [e for e in events if e.commute_id.startswith("late-")]
    # the same feed again: nothing changed, nothing repeated
    bart.rig.clock.advance(30)
    again = pb.FeedMessage()
    again.CopyFrom(bart.msg)
    again.header.timestamp += 30
    assert bart.rig.push("BART", again) == []


def _shift(msg: pb.FeedMessage, trip_id: str, seconds: int) -> pb.FeedMessage:
    out = pb.FeedMessage()
    out.CopyFrom(msg)
    out.header.timestamp += 30
    for e in out.entity:
        if e.trip_update.trip.trip_id == trip_id:
            for u in e.trip_update.stop_time_update:
                for ev in (u.arrival, u.departure):
                    if ev.time:
                        ev.time += seconds
    return out


def test_delay_alert_updated_on_two_minutes_and_back_to_normal(bart: Bart) -> None:
    first = {e.commute_id: e for e in bart.rig.push_file("BART", BART_TU)}
    cid = next(c for c in sorted(first) if c in bart.aimed
               and first[c].subject == f"BART:{bart.aimed[c]}")
    trip = bart.aimed[cid]
    e1 = first[cid]
    # one more minute: below the 2-minute step, no event
    bart.rig.clock.advance(30)
    assert [e for e in bart.rig.push("BART", _shift(bart.msg, trip, 60))
            if e.commute_id == cid] == []
    # three minutes more than first sent: one update, same id
    bart.rig.clock.advance(30)
    shifted = _shift(bart.msg, trip, 180)
    shifted.header.timestamp += 30
    upd = [e for e in bart.rig.push("BART", shifted) if e.commute_id == cid]
    assert [(e.id, e.state, e.version, e.detail["delay_s"]) for e in upd] == [
        (e1.id, "updated", 2, e1.detail["delay_s"] + 180)]
    # the trip back on time (times = schedule): resolved, "back to normal"
    bart.rig.clock.advance(30)
    normal = pb.FeedMessage()
    normal.CopyFrom(bart.msg)
    normal.header.timestamp += 120
    x = bart.expected[trip]
    sched = bart.ref.scheduled(trip, x.service_date)  # type: ignore[arg-type]
    by_stop = {stop: (a, d) for _, stop, a, d in sched}
    for e in normal.entity:
        if e.trip_update.trip.trip_id == trip:
            for u in e.trip_update.stop_time_update:
                a, d = by_stop[u.stop_id]
                if u.arrival.time:
                    u.arrival.time = a
                if u.departure.time:
                    u.departure.time = d
    done = [e for e in bart.rig.push("BART", normal) if e.commute_id == cid]
    assert [(e.id, e.state, e.version) for e in done] == [(e1.id, "resolved", 3)]
    assert done[0].detail == {"message": "back to normal"}


def test_quiet_hours_and_pause_hold_alerts_back(bay: Timetable) -> None:
    b = Bart(bay)
    now_local = local(b.now, BART_TZ)
    quiet = [f"{now_local.hour:02d}:00", f"{(now_local.hour + 1) % 24:02d}:00"]
    tomorrow = date.fromordinal(now_local.date().toordinal() + 1).isoformat()
    extra = []
    for c in b.commutes:
        d = commute_dict(c)
        extra.append(parse_commute({**d, "quiet_hours": quiet}, f"quiet-{c.id}", "u"))
        extra.append(parse_commute({**d, "paused_until": tomorrow}, f"paused-{c.id}", "u"))
    b.rig.evaluator.watch(bay, extra)
    events = b.rig.push_file("BART", BART_TU)
    assert len({e.commute_id for e in events}) >= 5  # the others are alerted
    assert not [e for e in events if e.commute_id.startswith(("quiet-", "paused-"))]
    # quiet hours over (the service clock moves past them): the held alerts go out
    b.rig.clock.set(b.rig.clock.instant.replace(minute=0, second=1) + timedelta(hours=1))
    again = pb.FeedMessage()
    again.CopyFrom(b.msg)
    later = b.rig.push("BART", again)
    assert {e.commute_id for e in later if e.commute_id.startswith("quiet-")}


def test_service_alert_reaches_bart_riders_only(bay: Timetable) -> None:
    b = Bart(bay)
    rules = [{"kind": "service_alert"}]
    riders = [commute(f"sa-{c.id}", c.origin, c.destination,
                      local(b.rig.evaluator._subs[c.id].plans[0].departure, BART_TZ)
                      .replace(second=0), rules=rules)
              for c in b.commutes if c.id.startswith("c-")]
    ct = commute("sa-ct", "CT:70011", "CT:70041", local(b.now + 600, BART_TZ).replace(
        second=0), minutes=60, rules=rules)
    b.rig.evaluator.watch(bay, [*riders, ct])
    events = b.rig.push_file("BART", BART_AL)
    assert {e.commute_id for e in events} == {c.id for c in riders}
    assert {(e.kind, e.subject, e.detail["effect"]) for e in events} == {
        ("service_alert", "BART:BSA_187874", "SIGNIFICANT_DELAYS")}


def test_sncb_cancellation_alerts_its_riders_with_an_alternative(sncb: Timetable) -> None:
    msg = read_pb(SNCB_TU)
    now = int(msg.header.timestamp) + LAG
    ref = StaticRef(SNCB_0529, "SNCB")
    canceled = [x for x in expect_trip_updates(ref, msg)
                if x.outcome == "applied" and x.relationship == TD.CANCELED]
    assert len(canceled) == 1
    x = canceled[0]
    sched = ref.scheduled(x.trip_id, x.service_date)  # type: ignore[arg-type]
    tz = ref.tz
    # riders boarding at the stops it served in the last 15 minutes, to its terminus
    boarded = [(stop, dep) for _, stop, _, dep in sched[:-1] if now - 900 < dep]
    assert len(boarded) >= 2
    rig = LiveRig(sncb, now)
    riders = [commute(f"r-{stop}", f"SNCB:{stop}", f"SNCB:{sched[-1][1]}",
                      local(dep, tz).replace(second=0)) for stop, dep in boarded]
    # others: the same origin an hour later, and the reverse direction now
    others = [commute("later", riders[0].origin, riders[0].destination,
                      local(boarded[0][1] + 3600, tz).replace(second=0)),
              commute("reverse", riders[0].destination, riders[0].origin,
                      local(now, tz).replace(second=0), minutes=20)]
    rig.evaluator.watch(sncb, [*riders, *others])
    on_trip = [c.id for c in riders
               if c.id in rig.evaluator._subs and any(
                   leg.trip_id == f"SNCB:{x.trip_id}"
                   for p in rig.evaluator._subs[c.id].plans for leg in p.legs)]
    assert len(on_trip) >= 2
    events = rig.push_file("SNCB", SNCB_TU)
    cancel = [e for e in events if e.kind == "cancellation"]
    assert sorted(e.commute_id for e in cancel) == sorted(on_trip)
    assert {e.subject for e in cancel} == {f"SNCB:{x.trip_id}"}
    assert all(e.detail == {"trip_canceled": True} for e in cancel)
    assert rig.evaluator.replans >= 1
    for e in cancel:  # re-planned on the live network: not the cancelled trip
        assert e.alternative is not None, e
        assert f"SNCB:{x.trip_id}" not in {leg["trip_id"] for leg in e.alternative["legs"]}
        assert e.alternative["legs"][-1]["to"] == f"SNCB:{sched[-1][1]}"
        assert e.alternative["departure"] >= local(now, tz).isoformat()
    assert not [e for e in events if e.commute_id in ("later", "reverse")
                and e.kind == "cancellation"]
