"""The remaining alert rules on live data: a platform change (the small network of
tests/realtime_support.py, whose station ST has platforms ST1 and ST2: the samples carry no
platform assignment), and missed connections and better alternatives on the real BART
sample, checked against the reference reading of the raw files."""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path

import pytest

from tests.commute_support import LiveRig, commute, local
from tests.conftest import catalog_of
from tests.feeds import write_feed
from tests.realtime_support import SMALL_FEED, event, feed, stu, trip_update
from tests.test_commute_alerts import ALL, BART_TU, BART_TZ, BART_ZIP, Bart, bay  # noqa: F401
from transit.ingest.pipeline import ingest
from transit.timetable.store import Store
from transit.timetable.timetable import Timetable

CLOCK = "2026-03-10T07:50:00+01:00"


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Timetable:
    root = tmp_path_factory.mktemp("small")
    ingest(catalog_of({"A": write_feed(root / "a", SMALL_FEED)}), Store(root / "data"))
    tt = Store(root / "data").load_current()
    assert tt is not None
    return tt


def test_platform_change_and_back(small: Timetable) -> None:
    now = int(datetime.fromisoformat(CLOCK).timestamp())
    rig = LiveRig(small, now)
    start = datetime.fromisoformat("2026-03-10T07:59:00+01:00")
    c = commute("plat", "A:S1", "A:ST", start, 2, rules=[{"kind": "platform_change"}])
    other = commute("other", "A:S1", "A:S2", start, 2, rules=[{"kind": "platform_change"}])
    assert rig.evaluator.watch(small, [c, other]) == 2
    moved = feed(trip_update("e1", "T1", start_date="20260310",
                             updates=[stu(30, "ST1", dep=event(delay=0), assigned="ST2")]),
                 ts=now - 5)
    events = rig.push("A", moved)
    assert [(e.commute_id, e.kind, e.state, e.subject, e.detail) for e in events] == [
        ("plat", "platform_change", "new", "A:T1",
         {"changes": [{"scheduled": "A:ST1", "now": "A:ST2"}]})]
    back = feed(trip_update("e1", "T1", start_date="20260310",
                            updates=[stu(30, "ST1", dep=event(delay=0))]), ts=now - 4)
    rig.clock.advance(1)
    events = rig.push("A", back)
    assert [(e.commute_id, e.state, e.version) for e in events] == [("plat", "resolved", 2)]


def test_missed_connections_and_better_alternatives_on_bart(bay: Timetable) -> None:  # noqa: F811
    b = Bart(bay)
    rng = random.Random(3)
    ids = bay.strings("stop_id")
    stations = sorted({ids[s] for s in range(len(ids)) if ids[s].startswith("BART:")
                       and int(bay.stop_location_type[s]) == 0})
    rules = [{"kind": "missed_connection"}, {"kind": "better_alternative", "min_minutes": 5}]
    commutes = []
    for i in range(400):
        a, z = rng.sample(stations, 2)
        start = local(b.now + 60 * rng.randrange(-30, 40), BART_TZ).replace(second=0)
        commutes.append(commute(f"m{i}", a, z, start, 10, rules=rules))
    ev = b.rig.evaluator
    ev.watch(bay, commutes)
    events = [e for e in b.rig.push_file("BART", BART_TU) if e.commute_id.startswith("m")]
    # the reference: a change is missed when the previous ride's live arrival plus the
    # change the plan needs comes after the next ride's live departure
    want = set()
    for c in commutes:
        sub = ev._subs.get(c.id)
        for p in sub.plans if sub else []:
            if not p.departure - c.lead_min * 60 <= b.now <= p.arrival + 3600:
                continue
            prev = None
            for n, leg in enumerate(p.legs):
                x = b.expected.get(leg.trip_id.removeprefix("BART:"))
                arr, dep = leg.arrival, leg.departure
                if x is not None and x.calls is not None:
                    _, _, d, _ = x.calls[leg.board_pos]
                    _, a, _, _ = x.calls[leg.alight_pos]
                    dep = d if d is not None else dep
                    arr = a if a is not None else arr
                if n and prev is not None and prev + leg.change_before_s > dep:
                    want.add((c.id, leg.trip_id))
                prev = arr
    got = {(e.commute_id, e.subject) for e in events if e.kind == "missed_connection"}
    assert got == want
    assert len(want) >= 3
    better = [e for e in events if e.kind == "better_alternative"]
    assert better
    planner = ev.planner(bay)
    for e in better:  # the alternative gets there 5 minutes before the delayed journey
        assert e.alternative is not None and e.detail["saves_min"] >= 5
        p = next(p for p in ev._subs[e.commute_id].plans if planner.describe(p) == e.journey)
        last = p.legs[-1]
        x = b.expected[last.trip_id.removeprefix("BART:")]
        assert x.calls is not None
        live_arrival = x.calls[last.alight_pos][1]  # the reference's live arrival
        assert live_arrival is not None
        alt = int(datetime.fromisoformat(e.alternative["arrival"]).timestamp())
        assert alt + 5 * 60 <= live_arrival
        assert (live_arrival - alt) // 60 == e.detail["saves_min"]
    for e in events:
        if e.kind == "missed_connection":
            assert e.alternative is not None  # broken: re-planned on the live network


def test_commutes_loaded_on_first_update_and_kept_open_across_replans(small: Timetable
                                                                      ) -> None:
    """A process started before its timetable watches the saved commutes on the first live
    update; the hourly re-plan keeps the open alerts of unchanged journeys (no repeat)."""
    now = int(datetime.fromisoformat(CLOCK).timestamp())
    rig = LiveRig(small, now)
    start = datetime.fromisoformat("2026-03-10T07:59:00+01:00")
    c = commute("late", "A:S1", "A:S3", start, 2, rules=[{"kind": "delay", "min_minutes": 5}])
    rig.evaluator.loader = lambda: [c]
    assert rig.evaluator.watching == 0

    def delayed(delay: int, ts: int) -> list:
        return rig.push("A", feed(trip_update("e1", "T1", start_date="20260310",
                                              updates=[stu(10, "S1", dep=event(delay=delay))]),
                                  ts=ts))

    [first] = delayed(400, now - 5)
    assert (first.commute_id, first.state, first.detail["delay_s"]) == ("late", "new", 400)
    rig.clock.advance(3600)  # the hourly re-plan
    assert delayed(400, now + 3590) == []
    [upd] = delayed(600, now + 3595)
    assert (upd.id, upd.state, upd.version) == (first.id, "updated", 2)


def test_hourly_replan_reads_commutes_saved_and_deleted_elsewhere(small: Timetable) -> None:
    now = int(datetime.fromisoformat(CLOCK).timestamp())
    rig = LiveRig(small, now)
    start = datetime.fromisoformat("2026-03-10T07:59:00+01:00")
    a = commute("a", "A:S1", "A:S3", start, 2, rules=[{"kind": "delay", "min_minutes": 5}])
    b = commute("b", "A:S1", "A:S2", start, 2, rules=[{"kind": "delay", "min_minutes": 5}])
    saved = [a]
    rig.evaluator.loader = lambda: list(saved)
    rig.evaluator.watch(small, saved)
    saved[:] = [b]  # another process deleted a and saved b
    rig.clock.advance(3600)
    events = rig.push("A", feed(trip_update("e1", "T1", start_date="20260310",
                                            updates=[stu(10, "S1", dep=event(delay=400))]),
                                ts=now + 3590))
    assert [e.commute_id for e in events] == ["b"]
    assert rig.evaluator.watching == 1


def test_alert_engine_and_delivery_import_nothing_from_the_web() -> None:
    """Rules, planning, evaluation, the outbox and the deliverer run from a script: only
    the routers (commutes_router, delivery.router) are web."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = ("import sys, transit.commuters.alerting, transit.commuters.commutes, "
            "transit.delivery.webhooks, transit.delivery.outbox, transit.delivery.store, "
            "transit.delivery.events, transit.delivery.vapid\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('fastapi', 'starlette', 'uvicorn', 'sse_starlette') "
            "or m.startswith('transit.api')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True, env={"PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_saved_commutes_are_watched_after_a_restart(small: Timetable, tmp_path: Path) -> None:
    """A new process plans every saved commute in the evaluator's thread (not in startup),
    and alerts on the next update."""
    from datetime import UTC
    from time import monotonic, sleep

    from transit.commuters.alerting import Alerting
    from transit.commuters.rules import commute_dict
    from transit.db import migrate
    from transit.db.engine import Database
    from transit.db.models_alerts import AlertRow, CommuteRow
    from transit.db.models_users import UserRow

    db = Database(f"sqlite:///{tmp_path / 'a.db'}")
    migrate.upgrade(db)
    start = datetime.fromisoformat("2026-03-10T07:59:00+01:00")
    c = commute("cm_saved", "A:S1", "A:S3", start, 2,
                rules=[{"kind": "delay", "min_minutes": 5}])
    at = datetime.now(UTC)
    with db.session() as s:
        s.add(UserRow(id=c.user_id, kind="anonymous", email=None, password_hash=None,
                      profile={}, created_at=at, registered_at=None))
        s.flush()
        s.add(CommuteRow(id=c.id, user_id=c.user_id, data=commute_dict(c), created_at=at,
                         updated_at=at))
    now = int(datetime.fromisoformat(CLOCK).timestamp())
    rig = LiveRig(small, now)
    alerting = Alerting(db, rig.clock, lambda: small)
    rig.state._observers = [alerting.evaluator.observe]
    alerting.start()
    try:
        deadline = monotonic() + 10
        while alerting.evaluator.watching == 0 and monotonic() < deadline:
            sleep(0.02)
        assert alerting.evaluator.watching == 1
        rig.state.publish("A", feed(trip_update("e1", "T1", start_date="20260310", updates=[
            stu(10, "S1", dep=event(delay=400))]), ts=now - 5))
        deadline = monotonic() + 10
        rows: list = []
        while not rows and monotonic() < deadline:
            with db.session() as s:
                rows = list(s.query(AlertRow).all())
            sleep(0.02)
        assert [(r.commute_id, r.kind, r.payload["detail"]["delay_s"]) for r in rows] == [
            ("cm_saved", "delay", 400)]
    finally:
        alerting.stop()
        db.dispose()
