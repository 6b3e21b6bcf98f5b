"""Distances and a grid index of stops, kept as sorted flat arrays (memory-mappable)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

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


_RAD = math.pi / 180.0  # np.radians multiplies by this


@njit(cache=True, nogil=True)
def _near_cells(keys, offsets, stops, lat, lon, lat0, lon0, r0, r1, c0, c1
                ):  # pragma: no cover - compiled
    """The stops of the cells in rows r0..r1 and columns c0..c1, and haversine_m's angles
    from (lat0, lon0) to them, as numpy computes them: halves of the latitude and longitude
    differences (sines to take), then the latitudes (cosines to take), the point's first."""
    n = 0
    for r in range(r0, r1 + 1):
        lo = np.searchsorted(keys, r * _COLS + c0, "left")
        hi = np.searchsorted(keys, r * _COLS + c1, "right")
        n += offsets[hi] - offsets[lo]
    cand = np.empty(n, np.int64)
    angles = np.empty(3 * n + 1)
    p1 = lat0 * _RAD
    angles[2 * n] = p1
    i = 0
    for r in range(r0, r1 + 1):
        lo = np.searchsorted(keys, r * _COLS + c0, "left")
        hi = np.searchsorted(keys, r * _COLS + c1, "right")
        for k in range(offsets[lo], offsets[hi]):
            s = stops[k]
            cand[i] = s
            p2 = lat[s] * _RAD
            angles[i] = (p2 - p1) / 2
            angles[n + i] = ((lon[s] - lon0) * _RAD) / 2
            angles[2 * n + 1 + i] = p2
            i += 1
    return cand, angles


@njit(cache=True, nogil=True)
def _near_roots(sines, cosines):  # pragma: no cover - compiled
    """haversine_m's sqrt(min(a, 1)) from _near_cells' sines and cosines (the same IEEE
    operations in the same order: no fused multiply-add without fastmath)."""
    n = cosines.shape[0] - 1
    out = np.empty(n)
    for i in range(n):
        a = sines[i] * sines[i] + cosines[0] * cosines[i + 1] * (sines[n + i] * sines[n + i])
        out[i] = math.sqrt(min(a, 1.0))
    return out


@njit(cache=True, nogil=True)
def _near_kept(cand, arcsines, radius_m):  # pragma: no cover - compiled
    """The candidates within `radius_m`, nearest first (then by stop), and their metres."""
    dist = (2 * EARTH_RADIUS_M) * arcsines
    keep = dist <= radius_m
    cand, dist = cand[keep], dist[keep]
    by_stop = np.argsort(cand, kind="mergesort")
    order = by_stop[np.argsort(dist[by_stop], kind="mergesort")]
    return cand[order], dist[order]


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
        if self.lat.dtype == np.float64 and self.lon.dtype == np.float64:
            return self._within(float(lat), float(lon), radius_m, r0, r1, c0, c1)
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

    def _within(self, lat: float, lon: float, radius_m: float, r0: int, r1: int, c0: int,
                c1: int) -> tuple[np.ndarray, np.ndarray]:
        """within's answer for float64 coordinates, the same numbers in a few calls: the
        cells and the arithmetic compiled, the sines, cosines and arcsines numpy's own (its
        vector routines may round otherwise than the C library that numba calls)."""
        cand, angles = _near_cells(self.keys, self.offsets, self.stops, self.lat, self.lon,
                                   lat, lon, r0, r1, c0, c1)
        n = len(cand)
        roots = _near_roots(np.sin(angles[:2 * n]), np.cos(angles[2 * n:]))
        found, dist = _near_kept(cand, np.arcsin(roots), radius_m)
        return found.astype(self.stops.dtype), dist


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
