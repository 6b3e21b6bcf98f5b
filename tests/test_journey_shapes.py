"""A trip leg's geometry (transit.journeys.service._shape_between): the shape from the point
nearest the boarding stop to the point nearest the alighting stop after it, as JSON text cut
from the shape's (kept for the last few shapes), with the nearest points cached per worker."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import orjson
import pytest

from transit.journeys import service

# stops A (0) and B (1); one shape, a loop passing B first, then A, then near B again
STOP_LAT = np.array([50.0, 50.01])
STOP_LON = np.array([4.0, 4.0])
LOOP = [(50.01, 4.0), (50.0, 4.0), (50.004, 4.0012345678), (50.0099, 4.0003)]


def timetable(shapes: list[list[tuple[float, float]]]) -> SimpleNamespace:
    """The columns _shape_between reads: trip t runs on shape t."""
    pts = [p for s in shapes for p in s]
    offsets = np.cumsum([0] + [len(s) for s in shapes])
    return SimpleNamespace(
        trip_shape=np.arange(len(shapes)), shape_pt_offsets=offsets,
        shape_pt_lat=np.array([p[0] for p in pts], np.float32),
        shape_pt_lon=np.array([p[1] for p in pts], np.float32),
        stop_lat=STOP_LAT, stop_lon=STOP_LON, cache={})


def coordinates(geometry: dict) -> bytes:
    return orjson.dumps(geometry)


def test_a_loop_shape_is_cut_from_the_boarding_stop_to_the_alighting_stop_after_it() -> None:
    tt = timetable([LOOP])
    geometry = service._shape_between(tt, 0, [0, 1])  # type: ignore[arg-type]
    # B's nearest point overall (0) lies before A's (1): the nearest after A is the last
    lat, lon = np.float32([p[0] for p in LOOP]), np.float32([p[1] for p in LOOP])
    expected = [[round(float(lon[k]), 6), round(float(lat[k]), 6)] for k in (1, 2, 3)]
    assert orjson.loads(coordinates(geometry)) == {"type": "LineString",
                                                   "coordinates": expected}
    assert expected[1] == [4.001235, 50.004002]  # shapes are float32
    # the nearest points, once per (shape, stop)
    assert tt.cache[("shape_stop_point", 0, 0)] == 1
    assert tt.cache[("shape_stop_point", 0, 1)] == 0
    # the other way round: from B's nearest point (0) to A's (1)
    back = service._shape_between(tt, 0, [1, 0])  # type: ignore[arg-type]
    assert orjson.loads(coordinates(back))["coordinates"] == [
        [round(float(lon[k]), 6), round(float(lat[k]), 6)] for k in (0, 1)]


def test_the_text_is_what_orjson_writes_for_the_rounded_points() -> None:
    rng = np.random.default_rng(3)
    shape = [(50.0 + float(a), 4.0 + float(b)) for a, b in rng.uniform(0, 0.01, (200, 2))]
    shape[0], shape[-1] = (50.0, 4.0), (50.01, 4.0)
    tt = timetable([shape])
    geometry = service._shape_between(tt, 0, [0, 1])  # type: ignore[arg-type]
    lat, lon = np.asarray(tt.shape_pt_lat, np.float64), np.asarray(tt.shape_pt_lon, np.float64)
    rounded = np.round(np.column_stack((lon, lat)), 6)
    assert coordinates(geometry) == orjson.dumps(
        {"type": "LineString", "coordinates": rounded.tolist()})


def test_the_last_shapes_texts_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "_SHAPE_TEXTS", 2)
    tt = timetable([LOOP, LOOP, LOOP])
    for trip in (0, 1, 0, 2):
        service._shape_between(tt, trip, [0, 1])  # type: ignore[arg-type]
    assert list(tt.cache[("shape_texts",)]) == [0, 2]


def test_a_leg_on_no_shape_joins_its_stops() -> None:
    tt = timetable([LOOP])
    tt.trip_shape = np.array([-1])
    assert service._shape_between(tt, 0, [0, 1]) == {  # type: ignore[arg-type]
        "type": "LineString", "coordinates": [[4.0, 50.0], [4.0, 50.01]]}
