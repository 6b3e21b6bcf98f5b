"""Through trips: a trip and the next trip of its block, joined into one ride.

A rider staying seated from one trip into the next of the same block makes no transfer. The
journey search reads these joined trips as extra patterns (same stops and joint, ordered,
like the timetable's own), so boarding any trip of a pattern for its continuation is found,
not only the earliest one. It boards them before the joint and alights after it only: the
rest is the plain trips' business. Longer chains continue from a through trip's second trip
at search time.

The search boards the earliest through trip of a pattern (arrive_by: alights the latest).
Its chain is then the best only among members whose chains run the same way, so members
are sorted into chain classes, one set going forward and one backward: same pattern,
service and zone for every trip followed seated (up to MAX_BLOCK_CHAIN), and no member
overtaking an earlier one of its class anywhere along the chain. The search follows, besides
the trip it boarded, the first catchable member of each other class.
"""

from __future__ import annotations

import numpy as np

from transit.timetable.patterns import split_overtaking
from transit.timetable.storage import Column

MAX_BLOCK_CHAIN = 8  # trips the search follows seated beyond a through trip, each way


def _chain(start: int, step: np.ndarray) -> list[int]:
    """The trips reached from `start` along `step` (next or previous in block), in order."""
    out: list[int] = []
    u = int(step[start])
    while u >= 0 and len(out) < MAX_BLOCK_CHAIN:
        out.append(u)
        u = int(step[u])
    return out


def _classes(members: list[int], keys: list[bytes], arr: list[np.ndarray],
             dep: list[np.ndarray]) -> list[int]:
    """Class per member (in order): same key, and no overtaking within a class."""
    last: list[tuple[bytes, int]] = []  # per class: its key and last member
    out: list[int] = []
    for i in members:
        for c, (key, j) in enumerate(last):
            # one key: the same patterns, so times of equal length
            if key == keys[i] and (arr[i] >= arr[j]).all() and (dep[i] >= dep[j]).all():
                last[c] = (key, i)
                out.append(c)
                break
        else:
            out.append(len(last))
            last.append((keys[i], i))
    return out


def build_through_patterns(cols: dict[str, Column], next_in_block: np.ndarray
                           ) -> dict[str, np.ndarray]:
    pso = np.asarray(cols["pattern_stop_offsets"])
    pstops = np.asarray(cols["pattern_stops"])
    pick, drop = np.asarray(cols["pattern_pickup"]), np.asarray(cols["pattern_dropoff"])
    tp = np.asarray(cols["trip_pattern"])
    st0 = np.asarray(cols["trip_st_start"])
    arr, dep = np.asarray(cols["st_arr"]), np.asarray(cols["st_dep"])
    tz = np.asarray(cols["trip_tz"])
    svc = np.asarray(cols["trip_service"])
    prev_in_block = np.full(len(next_in_block), -1, np.int64)
    has_next = np.flatnonzero(next_in_block >= 0)
    prev_in_block[next_in_block[has_next]] = has_next

    def seated(trips: list[int]) -> tuple[bytes, np.ndarray, np.ndarray]:
        """A chain's key (pattern, service, zone of each trip) and its times."""
        key = np.array([(tp[u], svc[u], tz[u]) for u in trips], np.int64).tobytes()
        rows = [slice(st0[u], st0[u] + pso[tp[u] + 1] - pso[tp[u]]) for u in trips]
        return key, np.concatenate([arr[r] for r in rows] or [np.zeros(0, arr.dtype)]), \
            np.concatenate([dep[r] for r in rows] or [np.zeros(0, dep.dtype)])

    after: list[tuple[bytes, np.ndarray, np.ndarray]] = []
    before: list[tuple[bytes, np.ndarray, np.ndarray]] = []
    firsts: list[int] = []
    seconds: list[int] = []
    stops_of: list[np.ndarray] = []
    arr_of: list[np.ndarray] = []
    dep_of: list[np.ndarray] = []
    keys: dict[bytes, list[int]] = {}
    for t in np.flatnonzero(next_in_block >= 0):
        n = int(next_in_block[t])
        if tz[t] != tz[n] or svc[t] != svc[n]:
            continue
        a0, a1 = pso[tp[t]], pso[tp[t] + 1]
        b0, b1 = pso[tp[n]], pso[tp[n] + 1]
        la, lb = a1 - a0, b1 - b0
        stops = np.concatenate([pstops[a0:a1], pstops[b0 + 1:b1]])
        pu = np.concatenate([pick[a0:a1 - 1], pick[b0:b1]])
        do = np.concatenate([drop[a0:a1], drop[b0 + 1:b1]])
        ar = np.concatenate([arr[st0[t]:st0[t] + la], arr[st0[n] + 1:st0[n] + lb]])
        de = np.concatenate([dep[st0[t]:st0[t] + la - 1], dep[st0[n]:st0[n] + lb]])
        i = len(firsts)
        firsts.append(int(t))
        seconds.append(int(n))
        stops_of.append(stops)
        arr_of.append(ar)
        dep_of.append(de)
        after.append(seated(_chain(n, next_in_block)))
        before.append(seated(_chain(int(t), prev_in_block)))
        key = stops.tobytes() + pu.astype(np.int8).tobytes() + do.astype(np.int8).tobytes() \
            + np.int64(tz[t]).tobytes() + np.int64(la - 1).tobytes() + np.int64(tp[t]).tobytes()
        keys.setdefault(key, []).append(i)
    groups: list[list[int]] = []
    for members in keys.values():
        members.sort(key=lambda i: (int(dep_of[i][0]), firsts[i]))
        groups.extend(split_overtaking(members, arr_of, dep_of))
    order = [i for g in groups for i in g]
    next_class: list[int] = []
    prev_class: list[int] = []
    n_next, n_prev = [], []
    for g in groups:
        nc = _classes(g, [a[0] for a in after], [a[1] for a in after], [a[2] for a in after])
        pc = _classes(g, [b[0] for b in before], [b[1] for b in before],
                      [b[2] for b in before])
        next_class += nc
        prev_class += pc
        n_next.append(max(nc) + 1)
        n_prev.append(max(pc) + 1)
    lens = np.array([len(stops_of[g[0]]) for g in groups], dtype=np.int64)
    trip_lens = np.array([len(stops_of[i]) for i in order], dtype=np.int64)

    def cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

    first_of_group = [g[0] for g in groups]
    a_pick, a_drop = [], []
    for i in first_of_group:
        t, n = firsts[i], seconds[i]
        a0, a1 = pso[tp[t]], pso[tp[t] + 1]
        b0, b1 = pso[tp[n]], pso[tp[n] + 1]
        a_pick.append(np.concatenate([pick[a0:a1 - 1], pick[b0:b1]]))
        a_drop.append(np.concatenate([drop[a0:a1], drop[b0 + 1:b1]]))
    return {
        "thr_pattern_stop_offsets": np.r_[0, np.cumsum(lens)].astype(np.int64),
        "thr_pattern_stops": cat([stops_of[i] for i in first_of_group], np.int32),
        "thr_pattern_pickup": cat(a_pick, np.int8),
        "thr_pattern_dropoff": cat(a_drop, np.int8),
        "thr_pattern_trip_offsets": np.r_[0, np.cumsum([len(g) for g in groups])].astype(
            np.int64),
        # the pattern of the first trips (a through pattern boards only what it could board)
        "thr_pattern_base": np.array([tp[firsts[i]] for i in first_of_group], dtype=np.int32),
        # position of the joint (the first trip's last stop, the second's first)
        "thr_pattern_join": np.array([pso[tp[firsts[i]] + 1] - pso[tp[firsts[i]]] - 1
                                      for i in first_of_group], dtype=np.int64),
        # chain classes: the search follows the first catchable member of each
        "thr_pattern_next_classes": np.array(n_next, dtype=np.int32),
        "thr_pattern_prev_classes": np.array(n_prev, dtype=np.int32),
        "thr_trip_next_class": np.array(next_class, dtype=np.int32),
        "thr_trip_prev_class": np.array(prev_class, dtype=np.int32),
        "thr_trip_first": np.array([firsts[i] for i in order], dtype=np.int32),
        "thr_trip_second": np.array([seconds[i] for i in order], dtype=np.int32),
        "thr_trip_st_start": np.r_[0, np.cumsum(trip_lens)[:-1]].astype(np.int64)
        if len(order) else np.zeros(0, np.int64),
        "thr_st_arr": cat([arr_of[i] for i in order], np.int32),
        "thr_st_dep": cat([dep_of[i] for i in order], np.int32),
    }
