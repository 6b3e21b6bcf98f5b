"""The durable job queue, on SQLite and PostgreSQL: one claim per job, one job per key at a
time, and a job whose process was killed is claimed again once its lease expires."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from transit.db import jobs, migrate
from transit.db.engine import Database

ROOT = Path(__file__).resolve().parents[1]


def _db(url: str) -> Database:
    db = Database(url)
    migrate.upgrade(db)
    return db


def test_each_job_is_claimed_once_and_a_key_runs_one_job_at_a_time(db_url: str) -> None:
    db = _db(db_url)
    a1 = jobs.enqueue(db, "k", "A", {"n": 1})
    a2 = jobs.enqueue(db, "k", "A", {"n": 2})
    b1 = jobs.enqueue(db, "k", "B", {"n": 3})
    first = jobs.claim(db, "w1", 60)
    second = jobs.claim(db, "w2", 60)
    assert (first.id, second.id) == (a1, b1)  # A's second waits for A's first
    assert jobs.claim(db, "w3", 60) is None
    jobs.finish(db, a1, "w1", {"ok": True})
    third = jobs.claim(db, "w3", 60)
    assert third.id == a2 and third.payload == {"n": 2} and third.attempts == 1
    assert jobs.get(db, a1).result == {"ok": True}
    db.dispose()


def test_many_runners_racing_claim_every_job_exactly_once(db_url: str) -> None:
    db = _db(db_url)
    ids = [jobs.enqueue(db, "k", f"K{i}", {}) for i in range(40)]
    claimed: list[int] = []
    lock = threading.Lock()

    def runner(name: str) -> None:
        while True:
            job = jobs.claim(db, name, 60)
            if job is None:
                if all(jobs.get(db, i).status != jobs.QUEUED for i in ids):
                    return
                continue
            with lock:
                claimed.append(job.id)
            jobs.finish(db, job.id, name)

    threads = [threading.Thread(target=runner, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(claimed) == ids
    db.dispose()


HOLD = """
import sys, time
from transit.db import jobs
from transit.db.engine import Database
db = Database(sys.argv[1])
job = jobs.claim(db, "doomed", float(sys.argv[2]))
print(job.id, flush=True)
time.sleep(600)
"""


def test_a_job_held_by_a_killed_process_is_claimed_again_after_its_lease(
        db_url: str) -> None:
    db = _db(db_url)
    job_id = jobs.enqueue(db, "feed.stage", "A", {"version": "v"})
    proc = subprocess.Popen([sys.executable, "-c", HOLD, db_url, "2"], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout is not None
    assert int(proc.stdout.readline()) == job_id
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert jobs.claim(db, "survivor", 60) is None  # the lease still holds
    deadline = time.monotonic() + 10
    again = None
    while again is None and time.monotonic() < deadline:
        time.sleep(0.2)
        again = jobs.claim(db, "survivor", 60)
    assert again is not None and again.id == job_id and again.attempts == 2
    assert jobs.get(db, job_id).locked_by == "survivor"
    db.dispose()


def test_a_runner_renews_its_lease_and_retries_a_passing_failure(db_url: str) -> None:
    db = _db(db_url)
    calls: list[int] = []
    stolen: list[object] = []

    def slow(job: jobs.Job) -> dict:
        calls.append(job.attempts)
        if len(calls) == 1:
            raise OSError("disk hiccup")
        time.sleep(1.2)  # twice the lease: only the heartbeat keeps the job this runner's
        stolen.append(jobs.claim(db, "other", 60))
        return {"done": True}

    def bad(job: jobs.Job) -> dict:
        raise ValueError("the feed is wrong")

    failures: list[str] = []
    runner = jobs.Runner(db, {"slow": slow, "bad": bad}, lease_s=0.6,
                         on_failure=lambda job, detail: failures.append(detail))
    slow_id = jobs.enqueue(db, "slow", "A", {})
    while runner.run_once():
        pass
    bad_id = jobs.enqueue(db, "bad", "B", {})
    assert runner.run_once() and not runner.run_once()
    assert calls == [1, 2]
    assert jobs.get(db, slow_id).status == jobs.DONE
    assert jobs.get(db, bad_id).status == jobs.FAILED
    assert failures == ["ValueError: the feed is wrong"]
    assert jobs.get(db, bad_id).error == "ValueError: the feed is wrong"
    assert stolen == [None]
    db.dispose()
