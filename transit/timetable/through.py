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

from dataclasses import dataclass, field

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
    """Class per member (in order): same key, and no overtaking within a class. A member
    joins the first class (in order of creation) of its key whose last member it does not
    overtake; only classes of its own key are tried, so a group of many keys costs its
    members times the classes of one key, not of all."""
    by_key: dict[bytes, list[int]] = {}  # key -> its classes, in order of creation
    last: list[int] = []  # per class: its last member
    out: list[int] = []
    for i in members:
        classes = by_key.setdefault(keys[i], [])
        for c in classes:
            j = last[c]
            # one key: the same patterns, so times of equal length
            if (arr[i] >= arr[j]).all() and (dep[i] >= dep[j]).all():
                last[c] = i
                out.append(c)
                break
        else:
            out.append(len(last))
            classes.append(len(last))
            last.append(i)
    return out


Seated = tuple[bytes, np.ndarray, np.ndarray]  # a chain's key, arrival and departure times


@dataclass(frozen=True)
class _Cols:
    """The timetable columns the join reads, as arrays."""

    pso: np.ndarray  # pattern_stop_offsets
    pstops: np.ndarray
    pick: np.ndarray
    drop: np.ndarray
    tp: np.ndarray  # trip_pattern
    st0: np.ndarray  # trip_st_start
    arr: np.ndarray
    dep: np.ndarray
    tz: np.ndarray
    svc: np.ndarray

    @staticmethod
    def of(cols: dict[str, Column]) -> _Cols:
        def a(name: str) -> np.ndarray:
            return np.asarray(cols[name])

        return _Cols(a("pattern_stop_offsets"), a("pattern_stops"), a("pattern_pickup"),
                     a("pattern_dropoff"), a("trip_pattern"), a("trip_st_start"),
                     a("st_arr"), a("st_dep"), a("trip_tz"), a("trip_service"))

    def span(self, t: int) -> tuple[int, int]:
        """Where trip t's pattern stops are in the pattern columns."""
        return int(self.pso[self.tp[t]]), int(self.pso[self.tp[t] + 1])

    def flags(self, t: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Pickup and drop-off of the joined ride t + n: at the joint the rider stays on,
        so it takes n's pickup and t's drop-off."""
        a0, a1 = self.span(t)
        b0, b1 = self.span(n)
        return (np.concatenate([self.pick[a0:a1 - 1], self.pick[b0:b1]]),
                np.concatenate([self.drop[a0:a1], self.drop[b0 + 1:b1]]))

    def seated(self, trips: list[int]) -> Seated:
        """A chain's key (pattern, service, zone of each trip) and its times."""
        tp, arr, dep = self.tp, self.arr, self.dep
        key = np.array([(tp[u], self.svc[u], self.tz[u]) for u in trips], np.int64).tobytes()
        rows = [slice(self.st0[u], self.st0[u] + self.pso[tp[u] + 1] - self.pso[tp[u]])
                for u in trips]
        return key, np.concatenate([arr[r] for r in rows] or [np.zeros(0, arr.dtype)]), \
            np.concatenate([dep[r] for r in rows] or [np.zeros(0, dep.dtype)])


@dataclass
class _Joined:
    """The through trips (pairs first -> second of a block), in the order they were found,
    with their stops and times and the chains that continue them seated each way."""

    firsts: list[int] = field(default_factory=list)
    seconds: list[int] = field(default_factory=list)
    stops_of: list[np.ndarray] = field(default_factory=list)
    arr_of: list[np.ndarray] = field(default_factory=list)
    dep_of: list[np.ndarray] = field(default_factory=list)
    after: list[Seated] = field(default_factory=list)
    before: list[Seated] = field(default_factory=list)
    keys: dict[bytes, list[int]] = field(default_factory=dict)  # pattern key -> members


def _join(c: _Cols, next_in_block: np.ndarray) -> _Joined:
    """Every trip joined to the next of its block, when both run in the same zone and
    service (a rider cannot stay seated into another day's or zone's trip), keyed by what
    makes a pattern: the same stops, pickup/drop-off, zone, joint and first pattern."""
    prev_in_block = np.full(len(next_in_block), -1, np.int64)
    has_next = np.flatnonzero(next_in_block >= 0)
    prev_in_block[next_in_block[has_next]] = has_next
    j = _Joined()
    for t in has_next:
        n = int(next_in_block[t])
        if c.tz[t] != c.tz[n] or c.svc[t] != c.svc[n]:
            continue
        a0, a1 = c.span(t)
        b0, b1 = c.span(n)
        la, lb = a1 - a0, b1 - b0
        stops = np.concatenate([c.pstops[a0:a1], c.pstops[b0 + 1:b1]])
        pu, do = c.flags(int(t), n)
        st0 = c.st0
        j.keys.setdefault(
            stops.tobytes() + pu.astype(np.int8).tobytes() + do.astype(np.int8).tobytes()
            + np.int64(c.tz[t]).tobytes() + np.int64(la - 1).tobytes()
            + np.int64(c.tp[t]).tobytes(), []).append(len(j.firsts))
        j.firsts.append(int(t))
        j.seconds.append(n)
        j.stops_of.append(stops)
        j.arr_of.append(np.concatenate([c.arr[st0[t]:st0[t] + la],
                                        c.arr[st0[n] + 1:st0[n] + lb]]))
        j.dep_of.append(np.concatenate([c.dep[st0[t]:st0[t] + la - 1],
                                        c.dep[st0[n]:st0[n] + lb]]))
        j.after.append(c.seated(_chain(n, next_in_block)))
        j.before.append(c.seated(_chain(int(t), prev_in_block)))
    return j


def _groups(j: _Joined) -> list[list[int]]:
    """The through patterns: members of one key by first departure, split where a trip
    overtakes another (a pattern's trips must keep their order at every stop)."""
    groups: list[list[int]] = []
    for members in j.keys.values():
        members.sort(key=lambda i: (int(j.dep_of[i][0]), j.firsts[i]))
        groups.extend(split_overtaking(members, j.arr_of, j.dep_of))
    return groups


def _chain_classes(groups: list[list[int]], j: _Joined
                   ) -> tuple[list[int], list[int], list[int], list[int]]:
    """Forward and backward chain class per member (in group order) and the number of
    classes per group: the search follows the first catchable member of each class."""
    next_class: list[int] = []
    prev_class: list[int] = []
    n_next, n_prev = [], []
    # the chains' keys and times, listed once (not once per group: that was quadratic in
    # the number of through trips)
    after = ([a[0] for a in j.after], [a[1] for a in j.after], [a[2] for a in j.after])
    before = ([b[0] for b in j.before], [b[1] for b in j.before], [b[2] for b in j.before])
    for g in groups:
        nc = _classes(g, *after)
        pc = _classes(g, *before)
        next_class += nc
        prev_class += pc
        n_next.append(max(nc) + 1)
        n_prev.append(max(pc) + 1)
    return next_class, prev_class, n_next, n_prev


def _cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)


def build_through_patterns(cols: dict[str, Column], next_in_block: np.ndarray
                           ) -> dict[str, np.ndarray]:
    """The thr_* columns: through patterns (joined stops, pickup/drop-off, base pattern,
    joint, chain class counts) and their trips (the two trips joined, chain classes,
    times), laid out like the timetable's own patterns and trips."""
    c = _Cols.of(cols)
    j = _join(c, next_in_block)
    groups = _groups(j)
    order = [i for g in groups for i in g]
    next_class, prev_class, n_next, n_prev = _chain_classes(groups, j)
    lens = np.array([len(j.stops_of[g[0]]) for g in groups], dtype=np.int64)
    trip_lens = np.array([len(j.stops_of[i]) for i in order], dtype=np.int64)
    first_of_group = [g[0] for g in groups]
    flags = [c.flags(j.firsts[i], j.seconds[i]) for i in first_of_group]
    return {
        "thr_pattern_stop_offsets": np.r_[0, np.cumsum(lens)].astype(np.int64),
        "thr_pattern_stops": _cat([j.stops_of[i] for i in first_of_group], np.int32),
        "thr_pattern_pickup": _cat([f[0] for f in flags], np.int8),
        "thr_pattern_dropoff": _cat([f[1] for f in flags], np.int8),
        "thr_pattern_trip_offsets": np.r_[0, np.cumsum([len(g) for g in groups])].astype(
            np.int64),
        # the pattern of the first trips (a through pattern boards only what it could board)
        "thr_pattern_base": np.array([c.tp[j.firsts[i]] for i in first_of_group],
                                     dtype=np.int32),
        # position of the joint (the first trip's last stop, the second's first)
        "thr_pattern_join": np.array([c.pso[c.tp[j.firsts[i]] + 1] - c.pso[c.tp[j.firsts[i]]]
                                      - 1 for i in first_of_group], dtype=np.int64),
        # chain classes: the search follows the first catchable member of each
        "thr_pattern_next_classes": np.array(n_next, dtype=np.int32),
        "thr_pattern_prev_classes": np.array(n_prev, dtype=np.int32),
        "thr_trip_next_class": np.array(next_class, dtype=np.int32),
        "thr_trip_prev_class": np.array(prev_class, dtype=np.int32),
        "thr_trip_first": np.array([j.firsts[i] for i in order], dtype=np.int32),
        "thr_trip_second": np.array([j.seconds[i] for i in order], dtype=np.int32),
        "thr_trip_st_start": np.r_[0, np.cumsum(trip_lens)[:-1]].astype(np.int64)
        if len(order) else np.zeros(0, np.int64),
        "thr_st_arr": _cat([j.arr_of[i] for i in order], np.int32),
        "thr_st_dep": _cat([j.dep_of[i] for i in order], np.int32),
    }
