"""Errors the engine raises, each precise enough to be shown to the person who can fix it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FeedProblem:
    """One thing wrong in a feed: which file, which row (1-based CSV line), which field.

    `code` names the kind of problem after the MobilityData GTFS validator's notice names
    where one fits, so an operator can look it up; `severity` is error, warning or info
    (an error rejects the feed).
    """

    file: str
    message: str
    row: int | None = None
    field: str | None = None
    value: str | None = None
    code: str = "invalid_feed"
    severity: str = "error"

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" line {self.row}"
        if self.field:
            where += f" field {self.field}"
        text = f"{where}: {self.message}"
        if self.value is not None:
            text += f" (value {self.value!r})"
        return text


@dataclass
class FeedError(Exception):
    """A feed that cannot be used. Carries every problem found, not only the first."""

    operator: str
    problems: list[FeedProblem] = field(default_factory=list)
    # how many problems of each code were found (more than `problems` holds when capped)
    totals: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        head = f"feed of operator {self.operator} is not usable"
        lines = [str(p) for p in self.problems[:20]]
        more = max(sum(self.totals.values()), len(self.problems)) - len(lines)
        if more > 0:
            lines.append(f"... and {more} more problems")
        return head + ":\n  " + "\n  ".join(lines)


class FeedFetchError(Exception):
    """A feed location that could not be read (network down, HTTP error, missing file)."""


class CatalogError(Exception):
    """The operator catalog is malformed."""
