"""transit.background.Worker: a named daemon thread running a step every interval, woken
early, stopped, logging a failed step and going on."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import pytest

from transit.background import Worker


def _until(cond: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_runs_the_step_every_interval_in_a_named_daemon_thread() -> None:
    seen: list[tuple[str, bool]] = []

    def step() -> None:
        t = threading.current_thread()
        seen.append((t.name, t.daemon))

    w = Worker("tick", step, 0.02)
    w.start()
    _until(lambda: len(seen) >= 3)
    assert w.running
    assert w.stop() is True
    assert not w.running
    assert set(seen) == {("tick", True)}
    n = len(seen)
    time.sleep(0.1)
    assert len(seen) == n  # stopped: no step after stop


def test_a_failing_step_is_logged_and_the_worker_goes_on(caplog: pytest.LogCaptureFixture
                                                           ) -> None:
    calls = [0]

    def step() -> None:
        calls[0] += 1
        if calls[0] == 2:
            raise RuntimeError("database away")

    w = Worker("flaky", step, 0.01)
    with caplog.at_level(logging.ERROR, logger="transit.background"):
        w.start()
        _until(lambda: calls[0] >= 5)
        w.stop()
    assert w.failures == 1
    [record] = [r for r in caplog.records if r.name == "transit.background"]
    assert record.getMessage() == "flaky: step failed"
    assert record.exc_info is not None and str(record.exc_info[1]) == "database away"


def test_wake_runs_the_next_step_now_and_wait_first_waits() -> None:
    ran = threading.Event()
    w = Worker("sleepy", ran.set, 3600.0, wait_first=True)
    w.start()
    assert not ran.wait(0.2)  # waits an interval (an hour) before the first step
    w.wake()
    assert ran.wait(10)
    assert w.steps == 1
    t0 = time.monotonic()
    assert w.stop() is True
    assert time.monotonic() - t0 < 5  # stop wakes the wait: it does not last the hour


def test_a_step_that_found_work_runs_again_at_once() -> None:
    left = [50]

    def step() -> int:
        left[0] -= 1
        return max(left[0], 0)  # work left: run again without waiting

    w = Worker("drain", step, 3600.0)
    w.start()
    _until(lambda: left[0] <= 0)
    w.stop()
    assert w.steps == 50


def test_on_start_runs_once_before_the_first_step_even_when_it_fails(
        caplog: pytest.LogCaptureFixture) -> None:
    order: list[str] = []

    def on_start() -> None:
        order.append("start")
        raise ValueError("no timetable yet")

    w = Worker("boot", lambda: order.append("step"), 0.01, on_start=on_start)
    with caplog.at_level(logging.ERROR, logger="transit.background"):
        w.start()
        _until(lambda: order.count("step") >= 2)
        w.stop()
    assert order[:3] == ["start", "step", "step"]
    assert order.count("start") == 1
    assert [r.getMessage() for r in caplog.records] == ["boot: step failed"]


def test_backoff_doubles_the_pause_and_logs_a_run_of_failures_once(
        caplog: pytest.LogCaptureFixture) -> None:
    w = Worker("jobs", lambda: None, 0.5, backoff=True, max_pause_s=30.0)
    assert [w.pause_s(n) for n in range(8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert Worker("x", lambda: None, 0.5).pause_s(5) == 0.5  # no backoff: the interval

    def fail() -> None:
        raise OSError("connection refused")

    w = Worker("jobs", fail, 0.001, backoff=True, max_pause_s=0.004)
    with caplog.at_level(logging.WARNING, logger="transit.background"):
        w.start()
        _until(lambda: w.failures >= 4)
        w.stop()
    messages = [(r.levelname, r.getMessage()) for r in caplog.records][:4]
    assert messages == [("ERROR", "jobs: step failed"),
                        ("WARNING", "jobs: step failed again (2 in a row)"),
                        ("WARNING", "jobs: step failed again (3 in a row)"),
                        ("WARNING", "jobs: step failed again (4 in a row)")]


def test_start_twice_is_one_thread_and_a_stopped_worker_starts_again() -> None:
    seen: list[threading.Thread] = []  # the threads themselves: idents are reused
    w = Worker("again", lambda: seen.append(threading.current_thread()), 0.01)
    w.start()
    w.start()
    _until(lambda: len(seen) >= 2)
    w.stop()
    assert len(set(seen)) == 1
    w.start()
    _until(lambda: len(set(seen)) == 2)
    assert w.stop() is True
    assert w.stop() is True  # stopping a stopped worker
