"""A background worker: a named daemon thread that runs a step every interval.

The step returns whether it found work (a truthy value runs it again at once, a falsy one
waits for the interval or a `wake`). An exception in a step is logged and the thread goes
on with the next step; with `backoff`, consecutive failures wait longer (doubling, up to
`max_pause_s`) and only the first of a run of failures is logged with its traceback (the
others are the same outage). `stop` ends the thread after its current step."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("transit.background")


class Worker:
    def __init__(self, name: str, step: Callable[[], object], interval_s: float, *,
                 wait_first: bool = False, on_start: Callable[[], object] | None = None,
                 backoff: bool = False, max_pause_s: float = 30.0,
                 logger: logging.Logger | None = None) -> None:
        self.name = name
        self.step = step
        self.interval_s = interval_s
        self.wait_first = wait_first  # the first step after one interval (or a wake)
        self.on_start = on_start  # run once in the thread before the first step
        self.backoff = backoff
        self.max_pause_s = max_pause_s
        self.log = logger or log
        self.steps = 0  # steps run
        self.failures = 0  # steps that raised, in all
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the thread (again after a stop); no-op while it runs."""
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Run the next step now instead of after the interval."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop after the current step; True when the thread ended within `timeout`."""
        self._stop.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def pause_s(self, failing: int) -> float:
        """The wait after a step that found no work (or the failing-th failure in a row)."""
        if not self.backoff or failing == 0:
            return self.interval_s
        return min(self.interval_s * 2 ** min(failing, 6), self.max_pause_s)

    def _loop(self) -> None:
        if self.on_start is not None:
            self._guarded(self.on_start, 0)
        busy, failing = not self.wait_first, 0
        while not self._stop.is_set():
            if not busy:
                self._wake.wait(self.pause_s(failing))
                self._wake.clear()
                if self._stop.is_set():
                    return
            ok, found = self._guarded(self.step, failing)
            self.steps += 1
            failing = 0 if ok else failing + 1
            busy = ok and bool(found)

    def _guarded(self, action: Callable[[], object], failing: int) -> tuple[bool, object]:
        try:
            return True, action()
        except Exception:  # one failed step never ends the worker
            self.failures += 1
            if not self.backoff or failing == 0:
                self.log.exception("%s: step failed", self.name)
            else:
                self.log.warning("%s: step failed again (%d in a row)", self.name, failing + 1)
            return False, None
