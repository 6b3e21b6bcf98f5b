"""Serving with several workers: a pre-forking supervisor.

uvicorn's own `--workers` spawns fresh interpreters: each imports the whole service again
and loads the compiled kernels again, so every worker holds its own copy of the same code
(about 200 MiB on the Bay Area) and takes seconds to start. Here the parent does that work
once, before it forks: it imports the app, loads the network's current version and
prepares it (lookups and compiled code), then freezes the garbage collector's view of
those objects so that collections in the workers do not write to (and so copy) their pages.
Each worker is a `fork` of that parent: it shares those pages copy-on-write, builds its own
app (database, Redis, threads are made after the fork, never inherited) and starts serving
on the inherited listening socket in a fraction of a second.

The parent serves nothing: it restarts a worker that dies (a crash, an out-of-memory kill,
`kill -9`), with a pause if workers die as fast as they start, and on SIGTERM or SIGINT
asks every worker to finish its requests and exits when they have.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("transit.serving")
RESPAWN_PAUSE_S = 1.0  # a worker that dies within this of its start delays the next one
STOP_GRACE_S = 30.0  # workers still running this long after SIGTERM are killed


@dataclass(frozen=True)
class ServeConfig:
    host: str
    port: int
    workers: int
    access_log: bool
    data_dir: Path
    network: str


@dataclass
class _Supervisor:
    config: ServeConfig
    sock: socket.socket
    children: dict[int, float] = field(default_factory=dict)  # pid -> start (monotonic)
    stopping: bool = False

    def spawn(self) -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                _worker(self.config, self.sock)
                code = 0
            except BaseException:  # report, then leave without running the parent's cleanup
                log.exception("worker %d failed", os.getpid())
            finally:
                os._exit(code)
        self.children[pid] = time.monotonic()
        log.info("worker %d started", pid)

    def run(self) -> None:
        for _ in range(self.config.workers):
            self.spawn()
        while self.children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            started = self.children.pop(pid, None)
            if started is None or self.stopping:
                continue
            log.warning("worker %d ended (%s); starting another", pid, _describe(status))
            if time.monotonic() - started < RESPAWN_PAUSE_S:
                time.sleep(RESPAWN_PAUSE_S)
            if not self.stopping:
                self.spawn()

    def stop(self, signum: int, _frame: object) -> None:
        if self.stopping:
            return
        self.stopping = True
        for pid in list(self.children):
            _signal(pid, signal.SIGTERM)
        signal.signal(signal.SIGALRM, self._kill_rest)
        signal.alarm(int(STOP_GRACE_S))

    def _kill_rest(self, _signum: int, _frame: object) -> None:
        for pid in list(self.children):
            log.warning("worker %d still running %.0f s after SIGTERM: killed", pid,
                        STOP_GRACE_S)
            _signal(pid, signal.SIGKILL)


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def preload(data_dir: Path, network: str) -> None:
    """What every worker would otherwise do on its own: import the app and prepare the
    current version (kept for the workers by `transit.timetable.store.keep_for_workers`)."""
    from sqlalchemy.orm import configure_mappers

    from transit.app import prepare
    from transit.timetable.store import Store, keep_for_workers
    from transit.timetable.timetable import FormatError, Timetable

    # the ORM's mappers, configured once here rather than by each worker's first query
    configure_mappers()
    store = Store(data_dir, network)
    version = store.current_version()
    if version is None:
        return
    try:
        tt = Timetable.load(store.versions_dir / version)
    except FormatError:
        return  # each worker says why it does not serve it
    prepare(tt)
    keep_for_workers(tt, store.versions_dir / version)


def _worker(config: ServeConfig, sock: socket.socket) -> None:
    import uvicorn

    forked = time.monotonic()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM):
        signal.signal(signum, signal.SIG_DFL)  # uvicorn installs its own
    server = uvicorn.Server(uvicorn.Config(
        "transit.app:app_from_env", factory=True, log_level="info", server_header=False,
        proxy_headers=False, access_log=config.access_log))

    def report_ready() -> None:  # how long a restarted worker leaves its requests to others
        while not server.started and not server.should_exit:
            time.sleep(0.01)
        if server.started:
            log.info("worker %d ready %.2f s after its fork", os.getpid(),
                     time.monotonic() - forked)

    threading.Thread(target=report_ready, name="ready-report", daemon=True).start()
    server.run(sockets=[sock])


def serve_forked(config: ServeConfig) -> None:
    """Listen, preload, fork `config.workers` workers and keep them running until SIGTERM."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(message)s")
    sock = _listen(config.host, config.port)
    preload(config.data_dir, config.network)
    gc.collect()
    gc.freeze()  # objects made so far are never traversed again: their pages stay shared
    supervisor = _Supervisor(config, sock)
    signal.signal(signal.SIGTERM, supervisor.stop)
    signal.signal(signal.SIGINT, supervisor.stop)
    log.info("serving on %s:%d with %d workers (pid %d)", config.host, config.port,
             config.workers, os.getpid())
    supervisor.run()
    sock.close()
