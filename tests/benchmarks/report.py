"""Printing benchmark results as aligned tables with targets and verdicts (shared by the
benchmark scripts of this folder)."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable

import httpx


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


def timed(action: Callable[[], object], runs: int, warmup: int = 1) -> list[float]:
    """Seconds of each of `runs` calls of `action`, after `warmup` calls not counted."""
    for _ in range(warmup):
        action()
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        out.append(time.perf_counter() - start)
    return out


def p50_p95_ms(samples: list[float]) -> str:
    """`p50 / p95` of samples in seconds, printed in milliseconds."""
    ordered = sorted(samples)
    return (f"{statistics.median(ordered) * 1e3:.3f} / "
            f"{ordered[int(len(ordered) * 0.95)] * 1e3:.3f}")


def wait_ready(url: str, proc: subprocess.Popen[bytes], what: str, timeout_s: float = 600.0,
               poll_s: float = 0.02) -> None:
    """Wait until the server at `url` answers /readyz; exit the benchmark with `what` in the
    message when its process ends or `timeout_s` passes first."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{what} did not start")
        time.sleep(poll_s)
