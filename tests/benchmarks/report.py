"""Printing benchmark results as aligned tables with targets and verdicts (shared by the
benchmark scripts of this folder)."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Awaitable, Callable
from typing import Any

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


AsgiCall = Callable[[str, bytes], Awaitable[int]]


def asgi_caller(app: Any, headers: list[tuple[bytes, bytes]]) -> AsgiCall:
    """A GET of `path?query` straight into the ASGI app (no socket, no client), answering
    the status: what an in-process benchmark times is the server's own path."""
    async def call(path: str, query: bytes) -> int:
        scope: dict[str, Any] = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
            "query_string": query, "root_path": "", "server": ("127.0.0.1", 8000),
            "client": ("127.0.0.1", 50000), "app": app, "headers": headers}
        status = 0

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await app(scope, receive, send)
        return status

    return call


async def asgi_times(call: AsgiCall, path: str, query: bytes, n: int,
                     clock: Callable[[], float] = time.perf_counter) -> list[float]:
    """`n` timings of one request by `clock` (time.thread_time for CPU), each a 200."""
    times = []
    for _ in range(n):
        t = clock()
        status = await call(path, query)
        times.append(clock() - t)
        assert status == 200, (path, status)
    return times
