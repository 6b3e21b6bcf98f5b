"""Printing benchmark results as aligned tables with targets and verdicts (shared by the
benchmark scripts of this folder)."""

from __future__ import annotations


def verdict(ok: bool | None) -> str:
    return "" if ok is None else ("PASS" if ok else "FAIL")


class Table:
    def __init__(self, title: str) -> None:
        self.title = title
        self.rows: list[tuple[str, str, str, str]] = []

    def add(self, label: str, value: str, target: str = "", ok: bool | None = None) -> None:
        self.rows.append((label, value, target, verdict(ok)))

    def note(self, text: str) -> None:
        self.rows.append(("  " + text, "", "", ""))

    def print(self) -> None:
        w0 = max([len(r[0]) for r in self.rows if r[1]] + [20])
        w1 = max([len(r[1]) for r in self.rows] + [10])
        w2 = max([len(r[2]) for r in self.rows] + [6])
        line = "-" * (w0 + w1 + w2 + 13)
        print(f"\n{self.title}\n{line}")
        print(f"{'metric':<{w0}}  {'value':>{w1}}  {'target':<{w2}}  verdict")
        print(line)
        for label, value, target, ok in self.rows:
            if not value and not target:
                print(label)
            else:
                print(f"{label:<{w0}}  {value:>{w1}}  {target:<{w2}}  {ok}".rstrip())
        print(line, flush=True)
