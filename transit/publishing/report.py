"""The validation report of one feed version: every notice an operator needs to fix it.

A notice has a severity (error, warning, info), a code named after the MobilityData GTFS
validator's notices where one fits, and the file, line, field and value it is about. The
report keeps the first `PER_CODE` notices of each code and counts them all, so a feed
with a million bad rows gives a report of bounded size that still says how many.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from transit.errors import FeedError, FeedProblem

PER_CODE = 1000
SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Notice:
    code: str
    severity: str
    message: str
    file: str | None = None
    line: int | None = None
    field: str | None = None
    value: str | None = None
    # an error that does not stop staging but stops publishing unless forced
    blocking: bool = False

    @classmethod
    def of(cls, problem: FeedProblem) -> Notice:
        return cls(problem.code, problem.severity, problem.message, problem.file or None,
                   problem.row, problem.field, problem.value)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Report:
    notices: list[Notice] = field(default_factory=list)
    totals: Counter[str] = field(default_factory=Counter)
    severity_of: dict[str, str] = field(default_factory=dict)
    per_code: int = PER_CODE
    listed: Counter[str] = field(default_factory=Counter)

    def add(self, notice: Notice, count: int = 1) -> None:
        """Record a notice (listed while its code has room), counted `count` times."""
        if notice.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {notice.severity!r}")
        if self.listed[notice.code] < self.per_code:
            self.notices.append(notice)
            self.listed[notice.code] += 1
        self.totals[notice.code] += count
        self.severity_of[notice.code] = notice.severity

    def add_error(self, exc: FeedError) -> None:
        """Every problem of a rejected feed, with the totals counted beyond those listed."""
        listed: Counter[str] = Counter()
        for p in exc.problems:
            self.add(Notice.of(p))
            listed[p.code] += 1
        for code, total in exc.totals.items():
            if total > listed[code]:
                self.totals[code] += total - listed[code]
                self.severity_of.setdefault(code, "error")

    @property
    def errors(self) -> int:
        return sum(n for c, n in self.totals.items() if self.severity_of[c] == "error")

    @property
    def blocking(self) -> list[Notice]:
        return [n for n in self.notices if n.blocking]

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(SEVERITIES, 0)
        for code, n in self.totals.items():
            out[self.severity_of[code]] += n
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "counts": self.counts(),
            "codes": [{"code": c, "severity": self.severity_of[c], "total": n,
                       "listed": self.listed[c]}
                      for c, n in sorted(self.totals.items(),
                                         key=lambda kv: (SEVERITIES.index(
                                             self.severity_of[kv[0]]), kv[0]))],
            "notices": [n.to_json() for n in self.notices],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Report:
        r = cls()
        for n in data.get("notices", []):
            r.notices.append(Notice(**n))
            r.listed[n["code"]] += 1
        for c in data.get("codes", []):
            r.totals[c["code"]] = c["total"]
            r.severity_of[c["code"]] = c["severity"]
        return r
