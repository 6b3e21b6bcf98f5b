"""Boards answered from the cache of the current second (transit.departures.cache): the same
bytes and headers as a board built afresh, and a new answer as soon as the live data, the
clock's second or the timetable changes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.lean_support import NOW, STOP, VALID, answer, demo_client
from transit.departures import router
from transit.departures.cache import BoardCache, Body
from transit.realtime.context import LiveContext
from transit.realtime.overlay import Overlay


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    yield from demo_client(tmp_path_factory)


@pytest.fixture
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(router, "BOARDS", BoardCache())


def _afresh(client: TestClient, url: str, **kw: Any) -> tuple[int, dict[str, str], bytes]:
    router.BOARDS = BoardCache()  # nothing kept: the board is built
    return answer(client, url, **kw)


@pytest.mark.usefixtures("fresh_cache")
@pytest.mark.parametrize("url", VALID)
def test_a_kept_board_is_the_built_one_byte_for_byte(client: TestClient, url: str) -> None:
    built = _afresh(client, url)
    assert built[0] == 200
    assert answer(client, url) == built  # from the cache
    assert answer(client, url, slow=True) == built  # FastAPI's handler, from the cache
    assert _afresh(client, url, slow=True) == built


@pytest.mark.usefixtures("fresh_cache")
def test_queries_that_differ_only_in_negative_zero_are_told_apart(client: TestClient) -> None:
    """-0.0 == 0.0 as floats, but an empty board's reason writes the point as given."""
    plus = answer(client, "/v1/departures?lat=0&lon=0")[2]
    minus = answer(client, "/v1/departures?lat=-0&lon=-0.0")[2]
    assert plus != minus
    assert minus == _afresh(client, "/v1/departures?lat=-0&lon=-0.0")[2]


@pytest.mark.usefixtures("fresh_cache")
def test_languages_and_if_none_match_on_a_kept_board(client: TestClient) -> None:
    en = answer(client, STOP, headers={"accept-language": "en"})
    fr = answer(client, STOP, headers={"accept-language": "fr"})
    assert en == _afresh(client, STOP, headers={"accept-language": "en"})
    assert fr == _afresh(client, STOP, headers={"accept-language": "fr"})
    answer(client, STOP)
    r = client.get(STOP, headers={"if-none-match": en[1]["etag"]})  # from the cache
    assert (r.status_code, r.content) == (304, b"")


@pytest.mark.usefixtures("fresh_cache")
def test_new_live_data_in_the_same_second_is_seen(client: TestClient) -> None:
    app: Any = client.app
    before = client.get(STOP).json()
    assert before["realtime"]["available"] is True
    live, kept = app.state.live, app.state.live._overlay
    try:
        live.went_down("store unreachable (test)")  # a new Overlay, same clock second
        after = client.get(STOP).json()
    finally:
        live._down_reason, live._overlay = None, kept
    assert after["realtime"] == {"available": False, "reason": "store unreachable (test)",
                                 "stale_operators": []}
    assert client.get(STOP).json() == before


def test_a_generation_is_timetable_overlay_second_and_staleness() -> None:
    tt_a: Any = object()
    tt_b: Any = object()
    ov = Overlay([])
    live = LiveContext(ov, 100, 60)
    cache = BoardCache()
    body = Body(b"{}", '"x"')
    assert cache.get(tt_a, live, "k") is None
    cache.put(tt_a, live, "k", body)
    assert cache.get(tt_a, LiveContext(ov, 100, 60), "k") is body
    assert cache.get(tt_a, live, "other") is None
    assert cache.get(tt_b, live, "k") is None
    assert cache.get(tt_a, LiveContext(Overlay([]), 100, 60), "k") is None
    assert cache.get(tt_a, LiveContext(ov, 101, 60), "k") is None
    assert cache.get(tt_a, LiveContext(ov, 100, 61), "k") is None
    cache.put(tt_a, LiveContext(ov, 101, 60), "k2", body)  # a new second: the old is gone
    assert cache.get(tt_a, live, "k") is None
    assert cache.get(tt_a, LiveContext(ov, 101, 60), "k") is None


def test_the_cache_is_bounded() -> None:
    tt: Any = object()
    live = LiveContext(Overlay([]), 0, 0)
    cache = BoardCache(max_entries=3)
    for i in range(4):
        cache.put(tt, live, i, Body(b"", ""))
    assert [cache.get(tt, live, i) is not None for i in range(4)] == [False] * 3 + [True]


def test_now_is_the_fixed_clock(client: TestClient) -> None:
    """The tests above rely on one clock second for the whole module."""
    app: Any = client.app
    assert app.state.clock.now() == datetime.fromisoformat(NOW)
