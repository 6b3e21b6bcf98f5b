"""Distances and a grid index of stops, kept as sorted flat arrays (memory-mappable)."""

from __future__ import annotations

import math

import numpy as np

EARTH_RADIUS_M = 6_371_008.8
CELL_DEG = 0.01  # about 1.1 km north-south


def haversine_m(lat1: np.ndarray | float, lon1: np.ndarray | float,
                lat2: np.ndarray | float, lon2: np.ndarray | float) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


_COLS = 1 << 16  # cells per row: 360 / 0.01 = 36000 fits


def _cell_rc(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    row = np.floor((np.asarray(lat) + 90.0) / CELL_DEG).astype(np.int64)
    col = np.floor((np.asarray(lon) + 180.0) / CELL_DEG).astype(np.int64)
    return row, col


def _cell_of(lat: float, lon: float) -> tuple[int, int]:
    """_cell_rc of one point (the same IEEE operations, on Python floats)."""
    return math.floor((lat + 90.0) / CELL_DEG), math.floor((lon + 180.0) / CELL_DEG)


def build_grid(lat: np.ndarray, lon: np.ndarray, members: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index `members` (stop indexes with coordinates) into (cell keys, CSR offsets, stops)."""
    members = members[np.isfinite(lat[members]) & np.isfinite(lon[members])]
    row, col = _cell_rc(lat[members], lon[members])
    keys = row * _COLS + col
    order = np.lexsort((members, keys))
    keys, members = keys[order], members[order]
    uniq, starts = np.unique(keys, return_index=True)
    offsets = np.r_[starts, len(keys)].astype(np.int64)
    return uniq.astype(np.int64), offsets, members.astype(np.int32)


class Grid:
    def __init__(self, keys: np.ndarray, offsets: np.ndarray, stops: np.ndarray,
                 lat: np.ndarray, lon: np.ndarray) -> None:
        self.keys, self.offsets, self.stops = keys, offsets, stops
        self.lat, self.lon = lat, lon

    def within(self, lat: float, lon: float, radius_m: float) -> tuple[np.ndarray, np.ndarray]:
        """Stops within `radius_m` of a point, nearest first: (stop indexes, distances)."""
        if len(self.keys) == 0:
            return np.zeros(0, np.int32), np.zeros(0)
        dlat = radius_m / 111_000.0
        dlon = radius_m / (111_000.0 * max(np.cos(np.radians(lat)), 0.01))
        # a scalar's cell in plain floats: _cell_rc's arithmetic without numpy's per-call cost
        r0, c0 = _cell_of(float(lat - dlat), float(lon - dlon))
        r1, c1 = _cell_of(float(lat + dlat), float(lon + dlon))
        chunks = []
        for r in range(r0, r1 + 1):
            lo = np.searchsorted(self.keys, r * _COLS + c0, "left")
            hi = np.searchsorted(self.keys, r * _COLS + c1, "right")
            if hi > lo:
                chunks.append(self.stops[self.offsets[lo]:self.offsets[hi]])
        if not chunks:
            return np.zeros(0, np.int32), np.zeros(0)
        cand = np.concatenate(chunks)
        dist = haversine_m(lat, lon, self.lat[cand], self.lon[cand])
        keep = dist <= radius_m
        cand, dist = cand[keep], dist[keep]
        order = np.lexsort((cand, dist))
        return cand[order], dist[order]


def pairs_within(lat: np.ndarray, lon: np.ndarray, members: np.ndarray, radius_m: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All ordered pairs (a, b), a != b, of `members` within `radius_m`: (a, b, metres)."""
    keys, offsets, stops = build_grid(lat, lon, members)
    grid = Grid(keys, offsets, stops, lat, lon)
    a_out, b_out, d_out = [], [], []
    for a in stops:
        b, d = grid.within(float(lat[a]), float(lon[a]), radius_m)
        keep = b != a
        a_out.append(np.full(int(keep.sum()), a, dtype=np.int32))
        b_out.append(b[keep])
        d_out.append(d[keep])
    if not a_out:
        return np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0)
    return np.concatenate(a_out), np.concatenate(b_out).astype(np.int32), np.concatenate(d_out)
