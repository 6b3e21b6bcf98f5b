"""Helpers of the commute-alert tests and benchmark: a realtime state with the alert
evaluator observing it (memory backend, a clock the test moves), commutes built in code,
and the reference reading of a trip update's delay at a planned leg."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from google.transit import gtfs_realtime_pb2 as pb

from tests.realtime_support import Expected, MutableClock, StaticRef, utc
from transit.commuters.evaluation import Evaluator
from transit.commuters.planning import PlannedLeg
from transit.commuters.rules import Commute, parse_commute
from transit.delivery.alert_events import AlertEvent
from transit.realtime.backends import MemoryBackend
from transit.realtime.state import LiveState
from transit.timetable.timetable import Timetable


class LiveRig:
    """LiveState (memory backend) + Evaluator as its observer, as of a service instant."""

    def __init__(self, tt: Timetable, at: int) -> None:
        self.tt = tt
        self.clock = MutableClock(utc(at))
        self.state = LiveState(MemoryBackend(), self.clock, lambda: tt)
        self.evaluator = Evaluator(self.clock)
        self.state.add_observer(self.evaluator.observe)

    def push(self, op: str, msg: pb.FeedMessage) -> list[AlertEvent]:
        self.state.publish(op, msg)
        return self.evaluator.process()

    def push_file(self, op: str, path: Path) -> list[AlertEvent]:
        m = pb.FeedMessage()
        m.ParseFromString(path.read_bytes())
        return self.push(op, m)


def commute(cid: str, frm: str, to: str, start: datetime, minutes: int = 1,
            rules: list[dict] | None = None, **extra: object) -> Commute:
    """A commute leaving `frm` in [start, start + minutes] (local), on start's weekday."""
    end = start + timedelta(minutes=minutes)
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    return parse_commute({"name": cid, "from": frm, "to": to, "days": [days[start.weekday()]],
                          "depart_between": [start.strftime("%H:%M"), end.strftime("%H:%M")],
                          "rules": rules, **extra}, cid, f"user-{cid}")


def local(ts: int, tz: str) -> datetime:
    return datetime.fromtimestamp(ts, ZoneInfo(tz))


def reference_delay(ref: StaticRef, x: Expected, leg: PlannedLeg, d: date) -> int | None:
    """The largest of the departure delay at the boarding stop and the arrival delay at the
    alighting stop, as the raw files say (None: no prediction at either)."""
    assert x.calls is not None
    sched = ref.scheduled(x.trip_id, d)
    out = []
    _, _, dep, _ = x.calls[leg.board_pos]
    if dep is not None:
        out.append(dep - sched[leg.board_pos][3])
    _, arr, _, _ = x.calls[leg.alight_pos]
    if arr is not None:
        out.append(arr - sched[leg.alight_pos][2])
    return max(out) if out else None
