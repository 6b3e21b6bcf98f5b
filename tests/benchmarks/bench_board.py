"""The commuter's home screen: GET /v1/me/board for a user with 5 favourite stops (the
demo network's busiest), in process. Prints p50 / p95 of the board built from the
favourites (the service call the endpoint makes, target p50 < 5 ms) and of the whole
request through FastAPI (token check, favourites read, board, JSON), on SQLite.

    .venv/bin/python tests/benchmarks/bench_board.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.benchmarks.report import Table, p50_p95_ms, timed  # noqa: E402
from tests.conftest import DEMO_CATALOG, client_for  # noqa: E402
from transit.catalog import load_catalog  # noqa: E402
from transit.commuters import favourites  # noqa: E402
from transit.commuters.board import favourite_board  # noqa: E402
from transit.departures.service import LiveContext  # noqa: E402
from transit.ingest.pipeline import ingest  # noqa: E402
from transit.timetable.store import Store  # noqa: E402

RUNS = 2000
NOW = "2026-11-26T08:00:00+01:00"


def _p50_row(table: Table, label: str, samples: list[float]) -> None:
    """A row judged against the target: p50 below 5 ms."""
    p50 = statistics.median(samples) * 1e3
    table.add(label, p50_p95_ms(samples), "p50 < 5", p50 < 5.0)


def main() -> None:
    table = Table("Commuter's board: 5 favourite stops, demo network, in process")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        ingest(load_catalog(DEMO_CATALOG), Store(data))
        with client_for(data, NOW, database_url=f"sqlite:///{tmp}/db/transit.db",
                        realtime_poll=False, argon2_time_cost=1,
                        argon2_memory_kib=1024) as client:
            app = client.app
            tt = app.state.holder.get()  # type: ignore[attr-defined]
            busiest = np.argsort(-np.diff(np.asarray(tt.ev_offsets)))[:5]
            stop_ids = [tt.strings("stop_id")[int(s)] for s in busiest]
            token = client.post("/v1/auth/anonymous").json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            for i, stop_id in enumerate(stop_ids):
                r = client.post("/v1/me/favourites", headers=headers, json={
                    "kind": "stop", "name": f"Favourite {i}", "stop_id": stop_id})
                assert r.status_code == 201, r.text
            board = client.get("/v1/me/board", headers=headers).json()
            shown = sum(len(s["departures"]) for s in board["stops"])
            table.note(f"favourite stops: {', '.join(stop_ids)}; {shown} departures shown")
            db = app.state.db  # type: ignore[attr-defined]
            user = client.get("/v1/me", headers=headers).json()
            from transit.accounts import users

            me = users.get_user(db, user["id"])
            assert me is not None
            favs = favourites.list_favourites(db, me)
            now = app.state.clock.now()  # type: ignore[attr-defined]
            live = LiveContext.none()
            _p50_row(table, "board from 5 favourites (service) p50 / p95 (ms)", timed(
                lambda: favourite_board(tt, favs, now, 60, 5, [], live, None), RUNS, 20))
            _p50_row(table, "favourites read + board p50 / p95 (ms)", timed(
                lambda: favourite_board(tt, favourites.list_favourites(db, me), now, 60,
                                        5, [], live, None), RUNS, 20))
            _p50_row(table, "GET /v1/me/board end to end p50 / p95 (ms)", timed(
                lambda: client.get("/v1/me/board", headers=headers), RUNS // 4, 20))
    table.print()


if __name__ == "__main__":
    main()
