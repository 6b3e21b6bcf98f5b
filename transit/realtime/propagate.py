"""Stop matching and delay propagation for all trips of a feed at once, compiled with numba.

Matching an update to a stop of its trip: by stop_sequence (the stop_id, when also given,
must be that stop or another platform of its station), else by stop_id (visited once; or,
NMBS style, another platform of the same station). A stop_sequence the trip does not have,
with a stop_id that is one stop of the trip, matches by the stop_id with a warning (what
OneBusAway and iRail do: some feeds number stops their own way). Then per trip, walking its stops in
order: an update's `time` wins over its `delay`; a stop without an update takes the delay of
the last update before it (a delay runs on across SKIPPED stops); NO_DATA stops predicting
until the next update; times that would run backwards are raised to the previous departure
(no time travel). Stops before the first update have no prediction.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from transit.realtime.overlay import NO_TIME, STOP_NO_DATA, STOP_SKIPPED

NONE = np.int64(-(1 << 62))  # "not given" in the update arrays
REL_SCHEDULED = 0
REL_SKIPPED = 1
REL_NO_DATA = 2
STOP_NOT_GIVEN = -1  # u_stop: the update names no stop
STOP_UNKNOWN = -2  # u_stop: it names a stop the timetable does not have

# per-trip outcome codes (0: applied)
ERRORS = ("", "invalid stop sequence", "stop mismatch", "stop visited twice", "unknown stop")


class Schedule(NamedTuple):
    """The timetable arrays the kernel reads (a numba named tuple of arrays: one argument
    in place of ten, typed and cached by its field types like plain arrays)."""

    pattern_stop_offsets: np.ndarray
    trip_pattern: np.ndarray
    trip_st_start: np.ndarray
    st_arr: np.ndarray
    st_dep: np.ndarray
    st_seq: np.ndarray
    pattern_stops: np.ndarray
    stop_parent: np.ndarray
    trip_tz: np.ndarray
    tz_ref: np.ndarray  # the timetable's tz_reference_utc: (zone, service day) -> base


class Updates(NamedTuple):
    """The stop time updates of the trips, flat: trip i's are rows offsets[i] to
    offsets[i + 1]. seq is negative when not given, stop a stop index or STOP_NOT_GIVEN /
    STOP_UNKNOWN; `assigned` (a platform change, -1: none) is filled in by the matching;
    times[j] = (arrival time, arrival delay, departure time, departure delay), NONE where
    not given."""

    offsets: np.ndarray
    seq: np.ndarray
    stop: np.ndarray
    assigned: np.ndarray
    rel: np.ndarray
    times: np.ndarray


class Stops(NamedTuple):
    """The result, flat over the trips' stops (trip i's from offsets[i])."""

    offsets: np.ndarray
    stops: np.ndarray
    sched_arr: np.ndarray
    sched_dep: np.ndarray
    rt_arr: np.ndarray
    rt_dep: np.ndarray
    status: np.ndarray


@njit(cache=True, nogil=True)
def _resolve_rows(t, u, u_end, sched, upd, u_pos, u_row, warned, i
                  ):  # pragma: no cover - compiled
    """Positions of one trip's updates (u_pos), platform changes (upd.assigned), then the
    updates sorted by position (u_row keeps where each one's times are). 0 or an error;
    warned[i] = 1 when a stop_sequence was not the trip's and its stop_id matched."""
    pattern_stops, stop_parent, st_seq = sched.pattern_stops, sched.stop_parent, sched.st_seq
    u_seq, u_stop, u_assigned = upd.seq, upd.stop, upd.assigned
    p = sched.trip_pattern[t]
    ps0 = sched.pattern_stop_offsets[p]
    m = sched.pattern_stop_offsets[p + 1] - ps0
    st0 = sched.trip_st_start[t]
    for j in range(u, u_end):
        stop = u_stop[j]
        if stop == STOP_UNKNOWN:
            return 4
        pos = -1
        if u_seq[j] >= 0:
            for k in range(m):
                if st_seq[st0 + k] == u_seq[j]:
                    pos = k
                    break
            if pos < 0 and stop < 0:
                return 1
        if pos >= 0:
            scheduled = pattern_stops[ps0 + pos]
            if stop >= 0 and stop != scheduled:
                if stop_parent[stop] >= 0 and stop_parent[stop] == stop_parent[scheduled]:
                    if u_assigned[j] < 0:
                        u_assigned[j] = stop
                else:
                    return 2
        elif stop >= 0:
            hits = 0
            for k in range(m):
                if pattern_stops[ps0 + k] == stop:
                    hits += 1
                    pos = k
            if hits == 0 and stop_parent[stop] >= 0:
                for k in range(m):
                    if stop_parent[pattern_stops[ps0 + k]] == stop_parent[stop]:
                        hits += 1
                        pos = k
                if hits == 1 and u_assigned[j] < 0:
                    u_assigned[j] = stop
            if u_seq[j] >= 0:  # its own numbering: the stop_id must say which stop
                if hits != 1:
                    return 1
                warned[i] = 1
            if hits == 0:
                return 2
            if hits > 1:
                return 3
        else:
            return 1
        u_pos[j] = pos
    for j in range(u + 1, u_end):  # insertion sort by position: a handful of updates
        k = j
        while k > u and u_pos[k - 1] > u_pos[k]:
            u_pos[k], u_pos[k - 1] = u_pos[k - 1], u_pos[k]
            u_assigned[k], u_assigned[k - 1] = u_assigned[k - 1], u_assigned[k]
            u_row[k], u_row[k - 1] = u_row[k - 1], u_row[k]
            k -= 1
    for j in range(u + 1, u_end):
        if u_pos[j] == u_pos[j - 1]:
            return 1
    return 0


@njit(cache=True, nogil=True)
def _scheduled(trips, days, sched):  # pragma: no cover - compiled
    """The trips' stops laid out flat (offsets, stops, scheduled times in UTC seconds of
    their service day), with no prediction yet: every trip is reported, also one whose
    updates are rejected."""
    n = trips.shape[0]
    offsets = np.zeros(n + 1, np.int64)
    for i in range(n):
        p = sched.trip_pattern[trips[i]]
        offsets[i + 1] = (offsets[i] + sched.pattern_stop_offsets[p + 1]
                          - sched.pattern_stop_offsets[p])
    total = offsets[n]
    out = Stops(offsets, np.empty(total, np.int64), np.empty(total, np.int64),
                np.empty(total, np.int64), np.full(total, NO_TIME, np.int64),
                np.full(total, NO_TIME, np.int64), np.zeros(total, np.int8))
    for i in range(n):
        t = trips[i]
        ps0 = sched.pattern_stop_offsets[sched.trip_pattern[t]]
        base = sched.tz_ref[sched.trip_tz[t], days[i]]
        o = offsets[i]
        st0 = sched.trip_st_start[t]
        for k in range(offsets[i + 1] - o):
            out.stops[o + k] = sched.pattern_stops[ps0 + k]
            out.sched_arr[o + k] = base + sched.st_arr[st0 + k]
            out.sched_dep[o + k] = base + sched.st_dep[st0 + k]
    return out


@njit(cache=True, nogil=True)
def _predicted(sa, sd, times_row, has_delay, delay):  # pragma: no cover - compiled
    """(arrival, departure) an update predicts at a stop scheduled at (sa, sd): a time wins
    over a delay; a missing side follows from the other (an arrival no later than the
    departure and than the running delay implies, a departure no earlier than the arrival
    and keeping its delay); an update with neither carries the running delay on.
    (NONE, NONE) when it gives nothing and no delay runs: no prediction there."""
    at, ad, dt, dd = times_row[0], times_row[1], times_row[2], times_row[3]
    a = NONE
    d = NONE
    if at != NONE:
        a = at
    elif ad != NONE:
        a = sa + ad
    if dt != NONE:
        d = dt
    elif dd != NONE:
        d = sd + dd
    if a == NONE and d == NONE:
        if not has_delay:
            return NONE, NONE
        return sa + delay, sd + delay
    if a == NONE:
        a = min(d, sa + (delay if has_delay else d - sd))
    elif d == NONE:
        d = max(a, sd + (a - sa))
    return a, d


@njit(cache=True, nogil=True)
def _propagate_trip(out, o, m, u, u_end, upd, u_pos, u_row):  # pragma: no cover - compiled
    """Walk one trip's m stops (from o in `out`) with its updates sorted by position (u to
    u_end): the running delay of the last update fills the stops after it, NO_DATA stops
    it, SKIPPED keeps it running, and no stop leaves before the previous one did."""
    has_delay = False
    delay = np.int64(0)
    has_prev = False
    prev_dep = np.int64(0)
    for k in range(m):
        sa = out.sched_arr[o + k]
        sd = out.sched_dep[o + k]
        if u < u_end and u_pos[u] == k:
            if upd.assigned[u] >= 0:
                out.stops[o + k] = upd.assigned[u]
            row = u_row[u]
            rel = upd.rel[row]
            u += 1
            if rel == REL_NO_DATA:
                has_delay = False
                has_prev = False
                out.status[o + k] = STOP_NO_DATA
                continue
            if rel == REL_SKIPPED:
                out.status[o + k] = STOP_SKIPPED
                continue
            a, d = _predicted(sa, sd, upd.times[row], has_delay, delay)
            if a == NONE:
                continue
            delay = d - sd
            has_delay = True
        elif has_delay:
            a = sa + delay
            d = sd + delay
        else:
            continue
        if has_prev and a < prev_dep:
            a = prev_dep
        if d < a:
            d = a
        out.rt_arr[o + k] = a
        out.rt_dep[o + k] = d
        prev_dep = d
        has_prev = True


@njit(cache=True, nogil=True)
def propagate_all(trips, days, sched, upd):  # pragma: no cover - compiled
    """Match and propagate: trips[i] on service day days[i] (index into sched.tz_ref) with
    its updates (Updates). Returns (error code per trip, warned per trip, offsets, stops,
    sched_arr, sched_dep, rt_arr, rt_dep, status), the last six as flat arrays over the
    trips' stops. In steps: match every trip's updates to its stops, lay out the
    schedule of all trips, then walk the trips whose updates matched."""
    n = trips.shape[0]
    n_u = upd.seq.shape[0]
    u_pos = np.full(n_u, -1, np.int64)
    u_row = np.arange(n_u)  # where each update's rel and times are, once sorted by position
    errors = np.zeros(n, np.int8)
    warned = np.zeros(n, np.int8)
    for i in range(n):
        errors[i] = _resolve_rows(trips[i], upd.offsets[i], upd.offsets[i + 1], sched, upd,
                                  u_pos, u_row, warned, i)
    out = _scheduled(trips, days, sched)
    for i in range(n):
        if errors[i] == 0:
            o = out.offsets[i]
            _propagate_trip(out, o, out.offsets[i + 1] - o, upd.offsets[i],
                            upd.offsets[i + 1], upd, u_pos, u_row)
    return (errors, warned, out.offsets, out.stops, out.sched_arr, out.sched_dep, out.rt_arr,
            out.rt_dep, out.status)
