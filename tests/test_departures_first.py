"""first_departures (the boards' compiled search keeping only the first `limit`) against
next_departures (every departure found, then sorted), and Grid.within (compiled, numpy's
own sines) against haversine_m over every stop: the same answers, ties and bits included."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from transit.timetable.departures import first_departures, live_key, next_departures
from transit.timetable.geo import haversine_m
from transit.timetable.store import Store
from transit.timetable.timetable import Timetable


@pytest.fixture(scope="module")
def tt(demo_whole: Path) -> Timetable:
    loaded = Store(demo_whole).load_current()
    assert loaded is not None
    return loaded


def _rows(found: object) -> list[tuple[int, ...]]:
    return list(zip(*found, strict=True))  # type: ignore[call-overload]


def test_first_departures_are_next_departures_cut_to_the_limit(tt: Timetable) -> None:
    rng = random.Random(7)
    n_stops = len(tt.ev_offsets) - 1
    busy = [int(s) for s in np.argsort(-np.diff(np.asarray(tt.ev_offsets)))[:40]]
    first_day = int(tt.tz_reference_utc[0, 0])
    compared = 0
    for k in range(400):
        pool = busy if k % 2 else list(range(n_stops))
        stops = np.array(rng.sample(pool, rng.randint(1, min(8, len(pool)))), np.int64)
        t0 = first_day + rng.randint(0, max(tt.n_days - 2, 1) * 86400)
        t1 = t0 + rng.choice([0, 600, 3600, 7200, 86400, 3 * 86400])
        limit = rng.choice([1, 2, 5, 10, 20, 100])
        route_ok = None
        if k % 3 == 0:
            route_ok = np.array([rng.random() < 0.6 for _ in tt.route_type], dtype=np.bool_)
        every = next_departures(tt, stops, t0, t1, 1_000_000)
        if route_ok is not None:
            every = [d for d in every if route_ok[tt.trip_route[d.trip]]]
        keys = None
        if k % 4 == 1:
            chosen = {live_key(d.trip, d.day) for d in every if rng.random() < 0.4}
            keys = np.array(sorted(chosen), dtype=np.int64)
            every = [d for d in every if live_key(d.trip, d.day) in chosen]
        want = [(d.time_utc, d.event, d.trip, d.stop, d.pos, d.day) for d in every[:limit]]
        assert _rows(first_departures(tt, stops, t0, t1, limit, route_ok, keys)) == want
        compared += len(want)
    assert compared > 1000


def test_within_is_haversine_over_every_stop(tt: Timetable) -> None:
    rng = random.Random(3)
    lat, lon = np.asarray(tt.stop_lat), np.asarray(tt.stop_lon)
    located = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
    grid_stops = np.sort(np.asarray(tt.grid.stops))
    found = 0
    for _ in range(300):
        s = int(rng.choice(located))
        plat = round(float(lat[s]) + rng.uniform(-0.01, 0.01), rng.randint(3, 7))
        plon = round(float(lon[s]) + rng.uniform(-0.01, 0.01), rng.randint(3, 7))
        radius = rng.choice([30.0, 250.0, 500.0, 1000.0, 2000.0])
        dist = haversine_m(plat, plon, lat[grid_stops], lon[grid_stops])
        keep = dist <= radius
        cand, d = grid_stops[keep], dist[keep]
        order = np.lexsort((cand, d))
        got, got_d = tt.grid.within(plat, plon, radius)
        assert got.tolist() == cand[order].tolist()
        assert got_d.tobytes() == d[order].tobytes()
        found += len(got)
    assert found > 300
    none, none_d = tt.grid.within(0.0, 0.0, 500.0)
    assert len(none) == 0 and len(none_d) == 0
