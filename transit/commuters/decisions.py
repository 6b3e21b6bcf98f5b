"""What an update's conditions mean for each commute: an alert is `new` once, `updated`
when a delay moves by 2 minutes or more, `resolved` ("back to normal") when its condition
goes away; each under a stable id. Lead time (a journey is watched from `lead_min` before
its departure until an hour after its arrival), quiet hours and pauses (judged by the
service clock) hold alerts back: they go out on a later update if the condition holds.

Engine side (no web imports)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from transit.commuters.leg_state import Condition
from transit.commuters.planning import Plan, Planner
from transit.commuters.replanning import public
from transit.commuters.rules import Commute
from transit.commuters.subscriptions import Group, OpenKey, Sub, Subscriptions
from transit.delivery.alert_events import AlertEvent

UPDATE_DELTA_S = 120  # a delay alert is updated when the delay moves this much
AFTER_ARRIVAL_S = 3600  # conditions of a journey are watched until this long after arrival
BROKEN = ("cancellation", "missed_connection")


@dataclass(frozen=True)
class OpenAlert:
    """An alert recorded as not resolved (the inbox): what a new lease holder goes on from."""

    id: str
    commute_id: str
    kind: str
    subject: str
    version: int
    value: int  # the delay in seconds for a delay, else 0


def alert_id(commute_id: str, day: date, departure: int, kind: str, subject: str) -> str:
    """An alert's stable id: the commute, its day, the watched journey (by departure: a
    commute watches one journey per departure), the kind and the subject."""
    return _hashed(f"{commute_id}|{day.isoformat()}|{departure}|{kind}|{subject}".encode())


def _hashed(raw: bytes) -> str:
    return "al_" + hashlib.sha256(raw).hexdigest()[:24]


def restore_open(subs: Subscriptions, rows: list[OpenAlert]) -> None:
    """Reopen the recorded open alerts of the watched commutes (ids matched against their
    plans); everything else starts closed."""
    subs.clear_open()
    by_commute: dict[str, list[OpenAlert]] = {}
    for r in rows:
        by_commute.setdefault(r.commute_id, []).append(r)
    for cid, found in by_commute.items():
        sub = subs.subs.get(cid)
        if sub is None:
            continue
        for i, p in enumerate(sub.plans):
            for r in found:
                if alert_id(cid, sub.day, p.departure, r.kind, r.subject) == r.id:
                    sub.open[(i, r.kind, r.subject)] = (r.value, r.version)
        if sub.open:
            subs.opened(subs.groups[sub.group], cid, True)


@dataclass
class _Shared:
    """What the members of a group share within one evaluation."""

    day: str
    planner: Planner
    plans: list[Plan]
    alts: dict[int, dict | None]
    tails: dict[OpenKey, bytes]

    def journey(self, i: int) -> dict:
        return self.planner.describe(self.plans[i])

    def tail(self, key: OpenKey) -> bytes:
        """What follows the commute id in what an alert id hashes (see alert_id)."""
        t = self.tails.get(key)
        if t is None:
            i, kind, subject = key
            t = self.tails[key] = f"|{self.day}|{self.plans[i].departure}|{kind}|{subject}" \
                .encode()
        return t

    def alternative(self, i: int, replan: Callable[[], dict | None]) -> dict | None:
        if i not in self.alts:
            self.alts[i] = replan()
        return self.alts[i]


class Decisions:
    """One update's judgement of the groups it touched. `conditions(c, p)` lists what the
    live data breaks on plan p for c's rules; `alternative(c, p)` re-plans p."""

    def __init__(self, subs: Subscriptions, planner: Planner, now: int,
                 conditions: Callable[[Commute, Plan], list[Condition]],
                 alternative: Callable[[Commute, Plan], dict | None]) -> None:
        self.subs = subs
        self.planner = planner
        self.now = now
        self.conditions = conditions
        self.alternative = alternative
        self._memo: dict[tuple, tuple[Plan, list[Condition]]] = {}

    def group(self, g: Group) -> list[AlertEvent]:
        """The group's conditions, judged once; then each member that has one or has an
        open alert."""
        c, now = g.commute, self.now
        lead = c.lead_min * 60
        current: dict[OpenKey, tuple[int, dict]] = {}
        for i, p in enumerate(g.plans):
            if not (p.departure - lead <= now <= p.arrival + AFTER_ARRIVAL_S):
                continue
            memo = (id(p), c.rules_key)  # groups sharing a plan and rules share it
            found = self._memo.get(memo)
            if found is None or found[0] is not p:
                found = self._memo[memo] = (p, list(self.conditions(c, p)))
            for kind, subject, value, detail in found[1]:
                current[(i, kind, subject)] = (value, detail)  # shared: copied if sent
        if not current and not g.open_members:
            return []
        shared = _Shared(g.day.isoformat(), self.planner, g.plans, {}, {})
        items = [(key, value, {k: v for k, v in detail.items() if k != "alternative"},
                  public(detail.get("alternative")), shared.journey(key[0]),
                  shared.tail(key)) for key, (value, detail) in current.items()]
        events: list[AlertEvent] = []
        local = datetime.fromtimestamp(now, g.tz)
        for cid in sorted(g.members if current else g.open_members):
            sub = self.subs.subs[cid]
            was_open = bool(sub.open)
            if (current or was_open) and sub.commute.muted_at(local) is None:
                self._member(sub, items, current, shared, events)
                if bool(sub.open) != was_open:
                    self.subs.opened(g, cid, not was_open)
        return events

    def _member(self, sub: Sub, items: list, current: dict, shared: _Shared,
                events: list[AlertEvent]) -> None:
        """One member's events: what is new or moved in `current` (as `items`, with what
        every member shares), what went away."""
        c, now = sub.commute, self.now
        cid = c.id.encode()
        alternative: dict | None = None
        replanned = False
        for key, value, detail, better, journey, tail in items:
            kind = key[1]
            was = sub.open.get(key)
            if was is not None and not (kind == "delay" and abs(value - was[0])
                                        >= UPDATE_DELTA_S):
                continue
            if kind in BROKEN and not replanned:
                p = sub.plans[key[0]]
                alternative = shared.alternative(key[0], lambda p=p: public(
                    self.alternative(c, p)))
                replanned = True
            version = 1 if was is None else was[1] + 1
            sub.open[key] = (value, version)
            events.append(AlertEvent(
                _hashed(cid + tail), c.id, c.user_id, kind, "new" if was is None else
                "updated", version, now, shared.day, journey, key[2], detail,
                alternative if kind in BROKEN else better))
        if len(sub.open) <= len(current) and all(k in current for k in sub.open):
            return
        for key in [k for k in sub.open if k not in current]:
            version = sub.open.pop(key)[1] + 1
            events.append(AlertEvent(
                _hashed(cid + shared.tail(key)), c.id, c.user_id, key[1], "resolved",
                version, now, shared.day, shared.journey(key[0]), key[2],
                {"message": "back to normal"}))
