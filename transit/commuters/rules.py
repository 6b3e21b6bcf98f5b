"""Saved commutes and their alert rules: what a commuter asked to be warned of, validated.

Engine side (no web imports): the API turns a RuleError into a 422 naming `field`.
A commute is judged by the service clock in its own time zone (the origin stop's): which
days it runs, its window, the lead time before it warns, quiet hours and a pause.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cached_property
from typing import Any

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RULE_KINDS = ("delay", "cancellation", "platform_change", "missed_connection",
              "service_alert", "better_alternative")
DEFAULT_LEAD_MIN = 45
DEFAULT_DELAY_MIN = 5
DEFAULT_BETTER_MIN = 5  # an alternative counts as better when it arrives this much earlier
MAX_NAME = 100
MAX_WINDOW_MIN = 6 * 60
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class RuleError(ValueError):
    """A commute that cannot be saved: `field` names where (JSON path), `message` why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Rule:
    kind: str
    min_minutes: int = 0  # delay: the threshold; better_alternative: minutes saved


@dataclass(frozen=True)
class Window:
    days: frozenset[int]  # weekday numbers (Monday 0)
    arrive: bool  # arrive_between (else depart_between)
    start_min: int  # minutes after local midnight
    end_min: int


@dataclass(frozen=True)
class Commute:
    id: str
    user_id: str
    name: str
    origin: str  # PLACE: stop or station id, or "lat,lon"
    destination: str
    window: Window
    rules: tuple[Rule, ...]
    lead_min: int = DEFAULT_LEAD_MIN
    quiet: tuple[int, int] | None = None  # local minutes [start, end), may wrap midnight
    paused_until: date | None = None  # no alert before this date (local)
    max_transfers: int = 3
    min_transfer_s: int = 0
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @cached_property
    def _by_kind(self) -> dict[str, Rule]:
        return {r.kind: r for r in self.rules}

    @cached_property
    def rules_key(self) -> tuple[tuple[str, int], ...]:
        """The rules as a cheap hashable key (commutes with equal rules share work)."""
        return tuple((r.kind, r.min_minutes) for r in self.rules)

    def rule(self, kind: str) -> Rule | None:
        return self._by_kind.get(kind)

    def runs_on(self, d: date) -> bool:
        return d.weekday() in self.window.days

    def muted_at(self, local: datetime) -> str | None:
        """Why no alert goes out at this local instant (paused, quiet hours), or None."""
        if self.paused_until is not None and local.date() < self.paused_until:
            return f"paused until {self.paused_until.isoformat()}"
        if self.quiet is not None:
            m = local.hour * 60 + local.minute
            a, b = self.quiet
            inside = a <= m < b if a <= b else (m >= a or m < b)
            if inside:
                return "quiet hours"
        return None


def _minutes(value: object, where: str) -> int:
    if not isinstance(value, str) or not _HHMM.match(value):
        raise RuleError(where, f"{value!r} is not a time HH:MM (00:00 to 23:59)")
    t = time.fromisoformat(value)
    return t.hour * 60 + t.minute


def _int(value: object, where: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise RuleError(where, f"{value!r} must be a whole number from {lo} to {hi}")
    return value


def parse_window(data: dict[str, Any]) -> Window:
    days_raw = data.get("days", list(DAYS[:5]))
    if not isinstance(days_raw, list) or not days_raw:
        raise RuleError("days", "a non-empty list of mon, tue, wed, thu, fri, sat, sun")
    days = set()
    for i, d in enumerate(days_raw):
        if d not in DAYS:
            raise RuleError(f"days[{i}]", f"{d!r} is not one of {', '.join(DAYS)}")
        days.add(DAYS.index(d))
    dep, arr = data.get("depart_between"), data.get("arrive_between")
    if (dep is None) == (arr is None):
        raise RuleError("depart_between", "give exactly one of depart_between and "
                        "arrive_between, as [\"HH:MM\", \"HH:MM\"]")
    name = "depart_between" if dep is not None else "arrive_between"
    pair = dep if dep is not None else arr
    if not isinstance(pair, list) or len(pair) != 2:
        raise RuleError(name, "a pair [\"HH:MM\", \"HH:MM\"]")
    a, b = _minutes(pair[0], f"{name}[0]"), _minutes(pair[1], f"{name}[1]")
    if b < a:
        raise RuleError(name, "the window ends before it starts (windows do not cross "
                        "midnight)")
    if b - a > MAX_WINDOW_MIN:
        raise RuleError(name, f"a window is at most {MAX_WINDOW_MIN // 60} hours")
    return Window(frozenset(days), arr is not None, a, b)


def parse_rules(raw: object) -> tuple[Rule, ...]:
    if raw is None:
        return (Rule("delay", DEFAULT_DELAY_MIN), Rule("cancellation"),
                Rule("platform_change"), Rule("missed_connection"))
    if not isinstance(raw, list) or len(raw) > len(RULE_KINDS):
        raise RuleError("rules", f"a list of at most {len(RULE_KINDS)} rules")
    out: dict[str, Rule] = {}
    for i, r in enumerate(raw):
        if not isinstance(r, dict) or r.get("kind") not in RULE_KINDS:
            got = r.get("kind") if isinstance(r, dict) else r
            raise RuleError(f"rules[{i}].kind", f"{got!r} is not one of {', '.join(RULE_KINDS)}")
        kind = r["kind"]
        if kind in out:
            raise RuleError(f"rules[{i}].kind", f"{kind!r} is given twice")
        unknown = sorted(set(r) - {"kind", "min_minutes"})
        if unknown:
            raise RuleError(f"rules[{i}].{unknown[0]}", "unknown field")
        default = {"delay": DEFAULT_DELAY_MIN, "better_alternative": DEFAULT_BETTER_MIN}
        minutes = r.get("min_minutes", default.get(kind, 0))
        if "min_minutes" in r and kind not in default:
            raise RuleError(f"rules[{i}].min_minutes", f"{kind} takes no min_minutes")
        out[kind] = Rule(kind, _int(minutes, f"rules[{i}].min_minutes", 1, 180)
                         if kind in default else 0)
    return tuple(out.values())


def parse_commute(data: dict[str, Any], commute_id: str, user_id: str) -> Commute:
    """A commute from its JSON form (places are checked against the timetable elsewhere)."""
    name = data.get("name", "")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= MAX_NAME:
        raise RuleError("name", f"a name of 1 to {MAX_NAME} characters")
    places = {}
    for key in ("from", "to"):
        v = data.get(key)
        if not isinstance(v, str) or not 1 <= len(v) <= 200:
            raise RuleError(key, "a PLACE: a stop or station id, or lat,lon")
        places[key] = v.strip()
    quiet = None
    if data.get("quiet_hours") is not None:
        q = data["quiet_hours"]
        if not isinstance(q, list) or len(q) != 2:
            raise RuleError("quiet_hours", "a pair [\"HH:MM\", \"HH:MM\"] (may wrap midnight)")
        quiet = (_minutes(q[0], "quiet_hours[0]"), _minutes(q[1], "quiet_hours[1]"))
    paused = None
    if data.get("paused_until") is not None:
        try:
            paused = date.fromisoformat(str(data["paused_until"]))
        except ValueError:
            raise RuleError("paused_until", "a date YYYY-MM-DD") from None
    options = data.get("options") or {}
    if not isinstance(options, dict):
        raise RuleError("options", "an object")
    return Commute(
        id=commute_id, user_id=user_id, name=name.strip(), origin=places["from"],
        destination=places["to"], window=parse_window(data), rules=parse_rules(
            data.get("rules")),
        lead_min=_int(data.get("lead_minutes", DEFAULT_LEAD_MIN), "lead_minutes", 0, 240),
        quiet=quiet, paused_until=paused,
        max_transfers=_int(options.get("max_transfers", 3), "options.max_transfers", 0, 8),
        min_transfer_s=60 * _int(options.get("min_transfer_minutes", 0),
                                 "options.min_transfer_minutes", 0, 60))


def commute_dict(c: Commute) -> dict[str, Any]:
    """The JSON form parse_commute reads (what the database stores and the API shows)."""
    def hhmm(m: int) -> str:
        return f"{m // 60:02d}:{m % 60:02d}"

    w = c.window
    return {"name": c.name, "from": c.origin, "to": c.destination,
            "days": [DAYS[d] for d in sorted(w.days)],
            ("arrive_between" if w.arrive else "depart_between"): [hhmm(w.start_min),
                                                                  hhmm(w.end_min)],
            "rules": [{"kind": r.kind, **({"min_minutes": r.min_minutes} if r.min_minutes
                                          else {})} for r in c.rules],
            "lead_minutes": c.lead_min,
            "quiet_hours": None if c.quiet is None else [hhmm(c.quiet[0]), hhmm(c.quiet[1])],
            "paused_until": None if c.paused_until is None else c.paused_until.isoformat(),
            "options": {"max_transfers": c.max_transfers,
                        "min_transfer_minutes": c.min_transfer_s // 60}}
