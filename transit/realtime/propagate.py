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


@njit(cache=True, nogil=True)
def _resolve_rows(t, u, u_end, pattern_stop_offsets, trip_pattern, trip_st_start,
                  pattern_stops, st_seq, stop_parent, u_seq, u_stop, u_pos, u_assigned,
                  u_row, warned, i):  # pragma: no cover - compiled
    """Positions of one trip's updates (u_pos), platform changes (u_assigned), then the
    updates sorted by position (u_row keeps where each one's times are). 0 or an error;
    warned[i] = 1 when a stop_sequence was not the trip's and its stop_id matched."""
    p = trip_pattern[t]
    ps0 = pattern_stop_offsets[p]
    m = pattern_stop_offsets[p + 1] - ps0
    st0 = trip_st_start[t]
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
def propagate_all(trips, days, pattern_stop_offsets, trip_pattern, trip_st_start, st_arr,
                  st_dep, st_seq, pattern_stops, stop_parent, trip_tz, tz_ref, u_offsets,
                  u_seq, u_stop, u_assigned, u_rel, u_times):  # pragma: no cover - compiled
    """Match and propagate. u_times[j] = (arrival time, arrival delay, departure time,
    departure delay), NONE where not given. Returns (error code per trip, warned per trip,
    offsets, stops, sched_arr, sched_dep, rt_arr, rt_dep, status), the last six as flat
    arrays over the trips' stops."""
    n = trips.shape[0]
    n_u = u_seq.shape[0]
    u_pos = np.full(n_u, -1, np.int64)
    u_row = np.arange(n_u)  # where each update's rel and times are, once sorted by position
    errors = np.zeros(n, np.int8)
    warned = np.zeros(n, np.int8)
    for i in range(n):
        errors[i] = _resolve_rows(trips[i], u_offsets[i], u_offsets[i + 1],
                                  pattern_stop_offsets, trip_pattern, trip_st_start,
                                  pattern_stops, st_seq, stop_parent, u_seq, u_stop, u_pos,
                                  u_assigned, u_row, warned, i)
    offsets = np.zeros(n + 1, np.int64)
    for i in range(n):
        p = trip_pattern[trips[i]]
        offsets[i + 1] = offsets[i] + pattern_stop_offsets[p + 1] - pattern_stop_offsets[p]
    total = offsets[n]
    stops = np.empty(total, np.int64)
    sched_arr = np.empty(total, np.int64)
    sched_dep = np.empty(total, np.int64)
    rt_arr = np.full(total, NO_TIME, np.int64)
    rt_dep = np.full(total, NO_TIME, np.int64)
    status = np.zeros(total, np.int8)
    for i in range(n):
        t = trips[i]
        p = trip_pattern[t]
        ps0 = pattern_stop_offsets[p]
        base = tz_ref[trip_tz[t], days[i]]
        o = offsets[i]
        m = offsets[i + 1] - o
        st0 = trip_st_start[t]
        for k in range(m):
            stops[o + k] = pattern_stops[ps0 + k]
            sched_arr[o + k] = base + st_arr[st0 + k]
            sched_dep[o + k] = base + st_dep[st0 + k]
        if errors[i] != 0:
            continue
        u = u_offsets[i]
        u_end = u_offsets[i + 1]
        has_delay = False
        delay = np.int64(0)
        has_prev = False
        prev_dep = np.int64(0)
        for k in range(m):
            sa = sched_arr[o + k]
            sd = sched_dep[o + k]
            a = NONE
            d = NONE
            if u < u_end and u_pos[u] == k:
                if u_assigned[u] >= 0:
                    stops[o + k] = u_assigned[u]
                row = u_row[u]
                rel = u_rel[row]
                at = u_times[row, 0]
                ad = u_times[row, 1]
                dt = u_times[row, 2]
                dd = u_times[row, 3]
                u += 1
                if rel == REL_NO_DATA:
                    has_delay = False
                    has_prev = False
                    status[o + k] = STOP_NO_DATA
                    continue
                if rel == REL_SKIPPED:
                    status[o + k] = STOP_SKIPPED
                    continue
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
                        continue
                    a = sa + delay
                    d = sd + delay
                elif a == NONE:
                    a = min(d, sa + (delay if has_delay else d - sd))
                elif d == NONE:
                    d = max(a, sd + (a - sa))
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
            rt_arr[o + k] = a
            rt_dep[o + k] = d
            prev_dep = d
            has_prev = True
    return errors, warned, offsets, stops, sched_arr, sched_dep, rt_arr, rt_dep, status
