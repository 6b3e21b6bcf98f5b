"""RAPTOR (round-based public transit routing) compiled with numba.

Round k takes the k-th trip: it scans every pattern serving a stop improved in round k-1,
rides the earliest catchable trip along it, then relaxes footpaths. Each call is one
search with its own labels (a range query runs one per departure).

What keeps it fast:
- once a destination is reached, a label only survives if its time plus a lower bound on
  the time left (`lower_bounds`, a Dijkstra run then, and only as far as needed) still beats
  the best arrival; the same bound cuts the trip search short;
- the trip search reads each pattern's times position by position
  (`indexes.time_columns`), one short contiguous run, and a stop's patterns come
  pre-filtered to the places where boarding (alighting) is allowed and useful
  (`indexes.stop_places`);
- a pattern scan stops past its last boarding stop while riding nothing.

Times are Unix seconds (int64). A trip instance is (trip, service day); its times are
`tz_reference_utc[trip_tz, day] + st_*`. The reverse search (arrive_by) runs the same round
loop (`rounds` with fwd False): latest departures, patterns scanned backwards, incoming
footpaths, bounds from the origins; keys `sgn * time` are smaller when better both ways. The
kernels take named tuples of arrays (`kernel_args`); direction-specific arrays are chosen in
Python.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from transit.routing.kernel_args import Work
from transit.routing.lower_bounds import shortest_times
from transit.routing.rule_kernels import group_of, source_ready

# The helpers called from the hot loops, and the scans, are compiled with `_nrt=False`: they
# allocate nothing, and without it numba counts references to every array argument at every
# call (atomic increments), which cost a quarter of a search.

INF = np.int64(1) << 62
MAX_BLOCK_CHAIN = 8  # trips followed seated along one block
THR_BASE = -(np.int64(1) << 40)  # parents: THR_BASE - i is through trip i


@njit(cache=True, nogil=True, _nrt=False)
def _active(service_days, trip_service, trip, day):  # pragma: no cover - compiled
    s = trip_service[trip]
    return (service_days[s, day >> 3] >> (day & 7)) & 1


@njit(cache=True, nogil=True, _nrt=False)
def _replaced(rt_masked, trip, day):  # pragma: no cover - compiled
    """Whether live data replaces (or cancels) this scheduled trip instance."""
    key = trip * 65536 + day
    a = 0
    b = rt_masked.shape[0]
    while a < b:
        m = (a + b) >> 1
        if rt_masked[m] < key:
            a = m + 1
        else:
            b = m
    return a < rt_masked.shape[0] and rt_masked[a] == key


@njit(cache=True, nogil=True, _nrt=False)
def _find_trip(fwd, xs, p, pos, tau, limit, st, e, q, change_s,
               extra):  # pragma: no cover - compiled
    """The first trip instance of pattern p at position pos in the search's direction:
    forward the earliest leaving at or after tau, backward the latest arriving at or before
    tau; strictly better than `limit` (a later departure, an earlier arrival could not help).
    `e` >= 0: source e (an arrival group's, at stop q) boards under the transfer rules.
    Times are read position by position (`indexes.time_columns`): one short run."""
    lo = xs.trip_offsets[p]
    hi = xs.trip_offsets[p + 1]
    col = xs.dep_col if fwd else xs.arr_col
    c = xs.col_offsets[p] + pos * (hi - lo) - lo  # c + t: trip t's time at pos
    sgn = 1 if fwd else -1  # keys sgn * time: smaller is better
    first = lo if fwd else hi - 1  # each day's best trip, and its worst
    last = hi - 1 if fwd else lo
    tz = xs.tz[lo]
    tz_ref = st.tz_ref
    d0 = (tau - tz_ref[tz, 0]) // 86400
    d_first = max(d0 - st.max_days_back - 1, 0)
    d_last = min(d0 + 1, tz_ref.shape[1] - 1)
    best_t = -1
    best_d = -1
    best_time = limit
    for i in range(d_last - d_first + 1):
        d = d_first + i if fwd else d_last - i
        base = tz_ref[tz, d]
        local = tau - base
        if sgn * col[c + last] < sgn * local:
            continue  # even this day's last trip (in the search's order) is too soon
        if sgn * (base + col[c + first]) >= sgn * best_time:
            break  # this day's first trip is no better than what another day gave
        a = lo
        b = hi
        bound = local if fwd else local + 1
        while a < b:  # the first trip at or after local (forward), after it (backward)
            m = (a + b) >> 1
            if col[c + m] < bound:
                a = m + 1
            else:
                b = m
        t = a if fwd else a - 1
        while lo <= t < hi:
            when = base + col[c + t]
            if sgn * when >= sgn * best_time:
                break
            if xs.ok[t] and _active(st.service_days, xs.service, t, d) and not (
                    xs.has_rt[t] and _replaced(xs.masked, t, d)) and (
                    e < 0 or source_ready(st.rules, e, tau, q, xs.trip_of[t], change_s,
                                          extra) <= when):
                best_t = t
                best_d = d
                best_time = when
                break
            t += sgn
    return best_t, best_d, best_time


@njit(cache=True, nogil=True, _nrt=False)
def _enqueue(s, sp_offsets, sp_pattern, sp_pos, forward, at, queue,
             nq):  # pragma: no cover - compiled
    """Queue the patterns of stop s's places (see `indexes.stop_places`); `at[p, 0]` keeps
    the first (forward) or last (backward) position to scan from and `at[p, 1]` the last
    (first) one to board (alight) at; -1: not queued. Returns the new queue length."""
    for e in range(sp_offsets[s], sp_offsets[s + 1]):
        p = sp_pattern[e]
        pos = sp_pos[e]
        if at[p, 0] < 0:
            queue[nq] = p
            nq += 1
            at[p, 0] = pos
            at[p, 1] = pos
        elif forward:
            if pos < at[p, 0]:
                at[p, 0] = pos
            if pos > at[p, 1]:
                at[p, 1] = pos
        else:
            if pos > at[p, 0]:
                at[p, 0] = pos
            if pos < at[p, 1]:
                at[p, 1] = pos
    return nq


SP_ARR, SP_TRIP, SP_DAY, SP_BSTOP, SP_BPOS, SP_APOS, SP_PTRIP, SP_PBSTOP, SP_PBPOS, SP_SRC = \
    range(10)  # fields of a group label (`transfer_rules`), as the pt_* of a stop's label
SP_FIELDS = 10
(SEED_STOP, SEED_ARR, SEED_RULE_TRIP, SEED_TRIP, SEED_DAY, SEED_BSTOP, SEED_BPOS, SEED_APOS,
 SEED_PTRIP, SEED_PBSTOP, SEED_PBPOS) = range(11)  # fields of a seed row (rounds)
SEED_FIELDS = 11


@njit(cache=True, nogil=True, _nrt=False)
def _sp_label(lab, wk, n_sp, k, g, a, trip, day, bstop, bpos, apos, ptrip, pbstop, pbpos,
              src):  # pragma: no cover - compiled
    """Set group g's label of round k to an arrival at `a` (when it beats the group's
    best); returns the count of groups improved in this round."""
    sp, sp_best, sp_list, sp_is = lab.sp, lab.sp_best, wk.sp_list, wk.sp_is
    if a >= sp_best[g]:
        return n_sp
    sp_best[g] = a
    sp[SP_ARR, k, g] = a
    sp[SP_TRIP, k, g] = trip
    sp[SP_DAY, k, g] = day
    sp[SP_BSTOP, k, g] = bstop
    sp[SP_BPOS, k, g] = bpos
    sp[SP_APOS, k, g] = apos
    sp[SP_PTRIP, k, g] = ptrip
    sp[SP_PBSTOP, k, g] = pbstop
    sp[SP_PBPOS, k, g] = pbpos
    sp[SP_SRC, k, g] = src
    if not sp_is[g]:
        sp_is[g] = True
        sp_list[n_sp] = g
        n_sp += 1
    return n_sp


@njit(cache=True, nogil=True, _nrt=False)
def _scan_forward_set(k, through, xs, tt, x_queue, x_first, x_nq, lab, wk, q, st, lb,
                      target_best, n_imp, n_sp):  # pragma: no cover - compiled
    """Scan one set of patterns (the timetable's, or the through trips) in round k;
    returns the updated count of improved stops and the best arrival at the target (and
    the count of improved arrival groups: arrivals some trip-specific rule concerns, whose
    labels are kept apart, see `transfer_rules`; `xs.trip_of` maps the set's trips to the
    timetable's, for boarding).
    `xs` is the set scanned, `tt` the timetable (blocks are followed on its trips); `lb`
    bounds from below the time from each stop to a destination."""
    for qi in range(x_nq):
        p = x_queue[qi]
        start = x_first[p, 0]
        until = x_first[p, 1]  # no stop to board at after it
        x_first[p, 0] = -1
        if through and not wk.pat_boarded[xs.base[p]]:
            continue  # no trip of its first trips' pattern could be boarded this round
        n_imp, target_best, n_sp, nb, cur, cur_day, board_stop, board_pos, board_src = \
            _ride_forward(k, through, xs, tt, p, start, until, lab, wk, q, st, lb,
                          target_best, n_imp, n_sp)
        if through and cur >= 0 and xs.n_classes[p] > 1:
            nb = _other_classes_forward(k, xs, tt, p, cur, cur_day, board_stop, board_pos,
                                        board_src, lab, wk, q, st, nb)
        for bi in range(nb):
            n_imp, target_best, n_sp = _ride_block_forward(k, bi, xs, tt, lab, wk, q, st, lb,
                                                           target_best, n_imp, n_sp)
    return n_imp, target_best, n_sp


@njit(cache=True, nogil=True, _nrt=False)
def _ride_forward(k, through, xs, tt, p, start, until, lab, wk, q, st, lb, target_best, n_imp,
                  n_sp):  # pragma: no cover - compiled
    """Ride pattern p from position `start` (boarding up to `until`): label the stops
    reached, board the earliest catchable trip at each stop. Returns the counts, the best
    arrival and the last trip ridden (and where it was boarded); through trips boarded
    whose second trip runs on along its block are kept in `wk.held_*` (their count first)."""
    x_stops, x_pick, x_drop, x_st0 = xs.stops, xs.pickup, xs.dropoff, xs.st_start
    stop_ok, rules, ready = q.stop_ok, st.rules, lab.ready
    in_offsets = rules[12]
    g_offsets = rules[8]  # checked here: a call passing `rules` costs at every stop
    ps0 = xs.stop_offsets[p]
    n_pos = xs.stop_offsets[p + 1] - ps0
    join = xs.join[p] if through else -1
    cur = -1
    cur_day = -1
    cur_base = np.int64(0)
    board_stop = -1
    board_pos = -1
    board_src = -1
    nb = 0
    for pos in range(start, n_pos):
        if cur < 0 and pos > until:
            break  # riding nothing, and nowhere left to board
        s = x_stops[ps0 + pos]
        if cur >= 0 and pos > join and x_drop[ps0 + pos] != 1 and stop_ok[s]:
            a = cur_base + xs.st_arr[x_st0[cur] + pos]
            g = -1 if g_offsets[s + 1] == g_offsets[s] else group_of(
                rules, s, xs.second[cur] if through else cur)
            if g >= 0:
                if a + lb[s] < target_best and a <= q.horizon:
                    n_sp = _sp_label(lab, wk, n_sp, k, g, a, THR_BASE - cur if through else cur,
                                     cur_day, board_stop, board_pos, pos, -1, -1, -1, board_src)
            elif a < lab.best_trip[s] and a + lb[s] < target_best and a <= q.horizon:
                n_imp, target_best = _trip_label(1, k, s, a, lab, wk, q.end_s, target_best, n_imp,
                                                 THR_BASE - cur if through else cur, cur_day,
                                                 board_stop, board_pos, pos, board_src)
        if pos == n_pos - 1:
            break  # boarding at the last stop goes nowhere
        if through and pos >= join:
            if cur < 0:
                break  # nothing boarded before the joint: nothing to ride on
            continue  # past the joint: only riding on
        r = ready[k - 1, s]
        # only labels improved in the last round: an older one was boarded from before
        board_ok = x_pick[ps0 + pos] != 1 and stop_ok[s]
        can_board = wk.was_marked[s] and board_ok
        ruled = board_ok and in_offsets[s + 1] > in_offsets[s]
        if not ruled and not (can_board and r + lb[s] < target_best):
            continue
        cur_dep = cur_base + xs.st_dep[x_st0[cur] + pos] if cur >= 0 else INF
        new_t, new_d, new_src = _board_forward(k, xs, p, pos, s, can_board, ruled, cur_dep,
                                               lab, q, st, lb, target_best)
        if new_t >= 0:
            cur = new_t
            cur_day = new_d
            cur_base = st.tz_ref[xs.tz[cur], cur_day]
            board_stop = s
            board_pos = pos
            board_src = new_src
            if not through:
                wk.pat_boarded[p] = True
            if through and tt.chain[xs.second[cur]] >= 0:
                nb = _hold(wk, nb, cur, cur_day, s, pos, board_src)
    return n_imp, target_best, n_sp, nb, cur, cur_day, board_stop, board_pos, board_src


@njit(cache=True, nogil=True, _nrt=False)
def _board_forward(k, xs, p, pos, s, can_board, ruled, cur_dep, lab, q, st, lb,
                   target_best):  # pragma: no cover - compiled
    """The trip of pattern p to board at position pos (stop s) if it leaves before
    `cur_dep` (the one ridden): from the stop's label, or from an arrival group's under the
    transfer rules (`ruled`). Returns (trip, day, group source), trip -1 if none."""
    rules = st.rules
    in_offsets = rules[12]
    r = lab.ready[k - 1, s]
    new_t = -1
    new_d = -1
    new_src = -1
    if can_board and r + lb[s] < target_best and r <= cur_dep:
        t, d, when = _find_trip(True, xs, p, pos, r, target_best - lb[s], st, -1, s,
                                q.change_s, q.extra)
        if t >= 0 and when < cur_dep:
            new_t = t
            new_d = d
            cur_dep = when
    if ruled:
        # arrivals a trip-specific rule concerns: each group's own earliest trip
        for e in range(in_offsets[s], in_offsets[s + 1]):
            ga = lab.sp[SP_ARR, k - 1, rules[13][e]]
            if ga >= cur_dep or ga + lb[s] >= target_best:
                continue
            t, d, when = _find_trip(True, xs, p, pos, ga, min(cur_dep, target_best - lb[s]),
                                    st, e, s, q.change_s, q.extra)
            if t >= 0 and when < cur_dep:
                new_t = t
                new_d = d
                new_src = e
                cur_dep = when
    return new_t, new_d, new_src


@njit(cache=True, nogil=True, _nrt=False)
def _hold(wk, n, t, d, stop, pos, src):  # pragma: no cover - compiled
    """Keep a through trip ridden (boarded, or alighted from backwards) whose block runs on
    beyond it; returns the new count."""
    wk.held_t[n] = t
    wk.held_d[n] = d
    wk.held_stop[n] = stop
    wk.held_pos[n] = pos
    wk.held_src[n] = src
    return n + 1


@njit(cache=True, nogil=True, _nrt=False)
def _other_classes_forward(k, xs, tt, p, cur, cur_day, board_stop, board_pos, board_src, lab,
                           wk, q, st, nb):  # pragma: no cover - compiled
    """The first member after trip `cur` of each other chain class of through pattern p
    rides on elsewhere: keep it too (`wk.held_*`); returns the new count."""
    n_classes, trip_class, class_seen = xs.n_classes, xs.trip_class, wk.class_seen
    rules = st.rules
    for c in range(n_classes[p]):
        class_seen[c] = False
    class_seen[trip_class[cur]] = True
    left = n_classes[p] - 1
    for t2 in range(cur + 1, xs.trip_offsets[p + 1]):
        c = trip_class[t2]
        if class_seen[c] or not xs.ok[t2] or \
                _active(st.service_days, xs.service, t2, cur_day) == 0:
            continue
        if board_src >= 0 and source_ready(
                rules, board_src, lab.sp[SP_ARR, k - 1, rules[13][board_src]],
                board_stop, xs.trip_of[t2], q.change_s, q.extra) > \
                st.tz_ref[xs.tz[t2], cur_day] + xs.st_dep[xs.st_start[t2] + board_pos]:
            continue  # the rules forbid boarding this one where the rider was
        class_seen[c] = True
        if tt.chain[xs.second[t2]] >= 0:
            nb = _hold(wk, nb, t2, cur_day, board_stop, board_pos, board_src)
        left -= 1
        if left == 0:
            break
    return nb


@njit(cache=True, nogil=True, _nrt=False)
def _ride_block_forward(k, bi, xs, tt, lab, wk, q, st, lb, target_best, n_imp,
                        n_sp):  # pragma: no cover - compiled
    """Seated on along the block, from the second trip of the through trip held at `bi`."""
    thr = wk.held_t[bi]
    day = wk.held_d[bi]
    rules = st.rules
    g_offsets = rules[8]
    first = xs.first[thr]
    join = tt.stop_offsets[tt.trip_pattern[first] + 1] - \
        tt.stop_offsets[tt.trip_pattern[first]] - 1
    if wk.held_pos[bi] < join:
        root = first
        root_pos = wk.held_pos[bi]
    else:
        root = xs.second[thr]
        root_pos = wk.held_pos[bi] - join
    t2 = tt.chain[xs.second[thr]]
    depth = 0
    while t2 >= 0 and depth < MAX_BLOCK_CHAIN:
        depth += 1
        if not tt.ok[t2] or not _active(st.service_days, tt.service, t2, day):
            break
        if tt.has_rt[t2] and _replaced(tt.masked, t2, day):
            break
        p2 = tt.trip_pattern[t2]
        ps2 = tt.stop_offsets[p2]
        n2 = tt.stop_offsets[p2 + 1] - ps2
        base2 = st.tz_ref[tt.tz[t2], day]
        for pos2 in range(1, n2):
            s = tt.stops[ps2 + pos2]
            if tt.dropoff[ps2 + pos2] == 1 or not q.stop_ok[s]:
                continue
            a = base2 + tt.st_arr[tt.st_start[t2] + pos2]
            g = -1 if g_offsets[s + 1] == g_offsets[s] else group_of(rules, s, t2)
            if g >= 0:
                if a + lb[s] < target_best and a <= q.horizon:
                    n_sp = _sp_label(lab, wk, n_sp, k, g, a, t2, day, tt.stops[ps2], 0, pos2,
                                     root, wk.held_stop[bi], root_pos, wk.held_src[bi])
            elif a < lab.best_trip[s] and a + lb[s] < target_best and a <= q.horizon:
                n_imp, target_best = _trip_label(1, k, s, a, lab, wk, q.end_s, target_best, n_imp,
                                                 t2, day, tt.stops[ps2], 0, pos2,
                                                 wk.held_src[bi])
                lab.pt_chain_trip[k, s] = root
                lab.pt_chain_stop[k, s] = wk.held_stop[bi]
                lab.pt_chain_pos[k, s] = root_pos
        t2 = tt.chain[t2]
    return n_imp, target_best, n_sp


@njit(cache=True, nogil=True)
def _work(n_stops, n_patterns, thr, n_groups):  # pragma: no cover - compiled
    """Scratch buffers of a search (`kernel_args.Work`)."""
    n_thr = thr.stop_offsets.shape[0] - 1
    max_len = 1
    max_classes = 1
    for p in range(n_thr):
        max_len = max(max_len, thr.stop_offsets[p + 1] - thr.stop_offsets[p])
        max_classes = max(max_classes, thr.n_classes[p])
    max_len += max_classes  # trips boarded along a pattern, and one per other class
    return Work(np.empty(n_stops, np.int64), np.zeros(n_stops, np.bool_),
                np.zeros(n_stops, np.bool_), np.zeros(n_patterns, np.bool_),
                np.empty(max_len, np.int64), np.empty(max_len, np.int64),
                np.empty(max_len, np.int64), np.empty(max_len, np.int64),
                np.empty(max_len, np.int64), np.zeros(max_classes, np.bool_),
                np.empty(n_groups, np.int64), np.zeros(n_groups, np.bool_))


@njit(cache=True, nogil=True, _nrt=False)
def _scan_backward_set(k, through, xs, tt, x_queue, x_last, x_nq, lab, wk, q, st, lb,
                       target_best, n_imp):  # pragma: no cover - compiled
    """Scan one set of patterns backwards in round k (mirror of _scan_forward_set); `lb`
    bounds from below the time from an origin to each stop."""
    for qi in range(x_nq):
        p = x_queue[qi]
        start = x_last[p, 0]
        until = x_last[p, 1]  # no stop to alight at before it
        x_last[p, 0] = -1
        n_imp, target_best, na, cur, cur_day, alight_stop, alight_pos = _ride_backward(
            k, through, xs, tt, p, start, until, lab, wk, q, st, lb, target_best, n_imp)
        if through and cur >= 0 and xs.n_classes[p] > 1:
            na = _other_classes_backward(xs, tt, p, cur, cur_day, alight_stop, alight_pos, wk,
                                         st, na)
        for ai in range(na):
            n_imp, target_best = _ride_block_backward(k, ai, xs, tt, lab, wk, q, st, lb,
                                                      target_best, n_imp)
    return n_imp, target_best


@njit(cache=True, nogil=True, _nrt=False)
def _ride_backward(k, through, xs, tt, p, start, until, lab, wk, q, st, lb, target_best,
                   n_imp):  # pragma: no cover - compiled
    """Ride pattern p backwards from position `start` (alighting down to `until`), as
    _ride_forward."""
    x_stops, x_pick, x_drop, x_st0 = xs.stops, xs.pickup, xs.dropoff, xs.st_start
    stop_ok = q.stop_ok
    ps0 = xs.stop_offsets[p]
    cur = -1
    cur_day = -1
    cur_base = np.int64(0)
    alight_stop = -1
    alight_pos = -1
    na = 0
    join = xs.join[p] if through else (1 << 30)
    for pos in range(start, -1, -1):
        if cur < 0 and pos < until:
            break  # riding nothing, and nowhere left to alight
        s = x_stops[ps0 + pos]
        if cur >= 0 and pos < join and x_pick[ps0 + pos] != 1 and stop_ok[s]:
            d = cur_base + xs.st_dep[x_st0[cur] + pos]
            if d > lab.best_trip[s] and d - lb[s] > target_best and d >= q.horizon:
                n_imp, target_best = _trip_label(-1, k, s, d, lab, wk, q.end_s, target_best,
                                                 n_imp, THR_BASE - cur if through else cur,
                                                 cur_day, alight_stop, alight_pos, pos, -1)
        if pos == 0:
            break  # alighting at the first stop comes from nowhere
        if through and pos <= join:
            if cur < 0:
                break  # nothing to alight from after the joint
            continue  # before the joint: only riding on (backwards)
        r = lab.ready[k - 1, s]
        # only labels improved in the last round: an older one was used before
        can_alight = wk.was_marked[s] and x_drop[ps0 + pos] != 1 and stop_ok[s]
        if can_alight and r - lb[s] > target_best and (
                cur < 0 or r >= cur_base + xs.st_arr[x_st0[cur] + pos]):
            t, dd, when = _find_trip(False, xs, p, pos, r, target_best + lb[s], st, -1, s,
                                     q.change_s, q.extra)
            if t >= 0 and (cur < 0 or when > cur_base + xs.st_arr[x_st0[cur] + pos]):
                cur = t
                cur_day = dd
                cur_base = st.tz_ref[xs.tz[t], dd]
                alight_stop = s
                alight_pos = pos
                if through and tt.chain[xs.first[t]] >= 0:
                    na = _hold(wk, na, t, dd, s, pos, -1)
    return n_imp, target_best, na, cur, cur_day, alight_stop, alight_pos


@njit(cache=True, nogil=True, _nrt=False)
def _other_classes_backward(xs, tt, p, cur, cur_day, alight_stop, alight_pos, wk, st,
                            na):  # pragma: no cover - compiled
    """The last member before trip `cur` of each other chain class of through pattern p
    came from elsewhere: keep it too (`wk.held_*`); returns the new count."""
    n_classes, trip_class, class_seen = xs.n_classes, xs.trip_class, wk.class_seen
    for c in range(n_classes[p]):
        class_seen[c] = False
    class_seen[trip_class[cur]] = True
    left = n_classes[p] - 1
    for t2 in range(cur - 1, xs.trip_offsets[p] - 1, -1):
        c = trip_class[t2]
        if class_seen[c] or not xs.ok[t2] or \
                _active(st.service_days, xs.service, t2, cur_day) == 0:
            continue
        class_seen[c] = True
        if tt.chain[xs.first[t2]] >= 0:
            na = _hold(wk, na, t2, cur_day, alight_stop, alight_pos, -1)
        left -= 1
        if left == 0:
            break
    return na


@njit(cache=True, nogil=True, _nrt=False)
def _ride_block_backward(k, ai, xs, tt, lab, wk, q, st, lb, target_best,
                         n_imp):  # pragma: no cover - compiled
    """Seated from earlier trips of the block, before the through trip held at `ai`."""
    thr = wk.held_t[ai]
    day = wk.held_d[ai]
    first = xs.first[thr]
    join = tt.stop_offsets[tt.trip_pattern[first] + 1] - \
        tt.stop_offsets[tt.trip_pattern[first]] - 1
    if wk.held_pos[ai] > join:
        end = xs.second[thr]
        end_pos = wk.held_pos[ai] - join
    else:
        end = first
        end_pos = wk.held_pos[ai]
    t0 = tt.chain[first]
    depth = 0
    while t0 >= 0 and depth < MAX_BLOCK_CHAIN:
        depth += 1
        if not tt.ok[t0] or not _active(st.service_days, tt.service, t0, day):
            break
        if tt.has_rt[t0] and _replaced(tt.masked, t0, day):
            break
        p2 = tt.trip_pattern[t0]
        ps2 = tt.stop_offsets[p2]
        n2 = tt.stop_offsets[p2 + 1] - ps2
        base2 = st.tz_ref[tt.tz[t0], day]
        for pos2 in range(n2 - 2, -1, -1):
            s = tt.stops[ps2 + pos2]
            if tt.pickup[ps2 + pos2] == 1 or not q.stop_ok[s]:
                continue
            d = base2 + tt.st_dep[tt.st_start[t0] + pos2]
            if d > lab.best_trip[s] and d - lb[s] > target_best and d >= q.horizon:
                n_imp, target_best = _trip_label(-1, k, s, d, lab, wk, q.end_s, target_best,
                                                 n_imp, t0, day, tt.stops[ps2 + n2 - 1],
                                                 n2 - 1, pos2, -1)
                lab.pt_chain_trip[k, s] = end
                lab.pt_chain_stop[k, s] = wk.held_stop[ai]
                lab.pt_chain_pos[k, s] = end_pos
        t0 = tt.chain[t0]
    return n_imp, target_best


@njit(cache=True, nogil=True)
def rounds(fwd, tt, thr, live, qry, fp, bounds, st, lab, seeds):  # pragma: no cover - compiled
    """One search in either direction. Forward from `qry.time`: labels are earliest
    arrivals; backward (arrive_by) to it: latest departures, patterns scanned backwards,
    incoming footpaths (`fp`), bounds from the origins. Keys `sgn * time` are smaller when
    better in both. Fills `lab`; returns per round the best time at an end (`qry.end_s` >= 0),
    +-INF where none improved. `tt.sp_*` and `thr.sp_*` list the places where each stop may
    be boarded (forward) or alighted at (`indexes.stop_places`).

    Once an end is reached, labels that cannot beat it even at the lower-bound time from
    their stop (the `bounds` graph) are dropped; from round k on, so are those that cannot
    beat `qry.prior[k]` (a range query's later departures).

    Trip- and route-specific transfer rules (forward only; `st.rules`, see
    `transfer_rules`): arrivals they may concern set the labels of their arrival group
    (`lab.sp`, fields SP_*, and `lab.sp_best`) instead of their stop's; boarding from a group
    asks the rules for each trip; `lab.pt_board_src` (and SP_SRC) keep the group source
    boarded from (-1: the stop's label), `lab.target_src` the group of a round's best arrival
    when target_via is 3 (at the group's stop) or 4 (walked from it to target_stop).

    `seeds` (forward; rows of SEED_FIELDS) start a rider aboard a trip instance: each row is
    an arrival of that trip (or of a block continuation, seated) at a stop where the rider
    may get off, set as a round-1 trip label (its stop's, or its arrival group's under the
    rules) before round 1's changes and walks; no origins then."""
    sgn = 1 if fwd else -1
    n_stops = tt.sp_offsets.shape[0] - 1
    n_patterns = tt.stop_offsets.shape[0] - 1
    n_thr = thr.stop_offsets.shape[0] - 1
    n_rt = live.offsets.shape[0] - 1
    marked = np.zeros(n_stops, np.bool_)
    ends = np.flatnonzero(qry.end_s >= 0)
    ends_s = qry.end_s[ends]
    lb = np.zeros(n_stops, np.int64)  # no bound until an end is reached
    lb_known = False
    target_best = _start(sgn, lab, qry, fp, marked)
    at = np.full((n_patterns, 2), -1, np.int64)
    queue = np.empty(n_patterns, np.int64)
    thr_at = np.full((n_thr, 2), -1, np.int64)
    thr_queue = np.empty(n_thr, np.int64)
    rt_at = np.full(n_rt, -1, np.int64)
    rt_queue = np.empty(n_rt, np.int64)
    was_list = np.empty(n_stops, np.int64)
    wk = _work(n_stops, n_patterns, thr, lab.sp_best.shape[0])
    for k in range(1, lab.by_trip.shape[0]):
        if sgn * qry.prior[k] < sgn * target_best:  # only journeys beating it are wanted
            target_best = qry.prior[k]
        if not lb_known and target_best != sgn * INF:  # bounds once an end is reached
            lb = shortest_times(bounds.offsets, bounds.other, bounds.w, ends, ends_s, fwd,
                                live.offsets, live.stops, live.arr, live.dep, live.sp_offsets,
                                live.sp_inst, live.sp_pos, sgn * (target_best - qry.time))
            lb_known = True
        nq, ntq, nrq, n_was = _queue_patterns(fwd, tt, thr, live, qry.stop_ok, marked, wk,
                                              was_list, at, queue, thr_at, thr_queue, rt_at,
                                              rt_queue)
        if n_was == 0 and not (k == 1 and seeds.shape[0] > 0):
            break
        n_imp = 0
        n_sp = 0
        if fwd:  # the timetable's patterns, then the through trips, then live instances
            n_imp, target_best, n_sp = _scan_forward_set(
                k, False, tt, tt, queue, at, nq, lab, wk, qry, st, lb, target_best, n_imp, n_sp)
            n_imp, target_best, n_sp = _scan_forward_set(
                k, True, thr, tt, thr_queue, thr_at, ntq, lab, wk, qry, st, lb, target_best,
                n_imp, n_sp)
            n_imp, target_best, n_sp = _scan_live_forward(
                k, live, rt_queue, rt_at, nrq, lab, wk, qry, st, lb, target_best, n_imp, n_sp)
        else:
            n_imp, target_best = _scan_backward_set(
                k, False, tt, tt, queue, at, nq, lab, wk, qry, st, lb, target_best, n_imp)
            n_imp, target_best = _scan_backward_set(
                k, True, thr, tt, thr_queue, thr_at, ntq, lab, wk, qry, st, lb, target_best,
                n_imp)
            n_imp, target_best = _scan_live_backward(
                k, live, rt_queue, rt_at, nrq, lab, wk, qry, lb, target_best, n_imp)
        for qi in range(nq):
            wk.pat_boarded[queue[qi]] = False
        for i in range(n_was):
            wk.was_marked[was_list[i]] = False
        if k == 1 and seeds.shape[0] > 0:
            n_imp, target_best, n_sp = _seed_labels(seeds, lab, wk, qry, st, target_best,
                                                    n_imp, n_sp)
        target_best = _relax(sgn, k, lab, wk, qry, fp, lb, marked, target_best, n_imp)
        target_best = _group_ends(k, lab, wk, qry, fp, st, marked, target_best, n_sp)
    return lab.result


@njit(cache=True, nogil=True, _nrt=False)
def _start(sgn, lab, qry, fp, marked):  # pragma: no cover - compiled
    """Round 0: at the starts, and a footpath away from them. Returns the best key so far
    at an end (labels kept from an earlier search count)."""
    best, best_ready, ready, walk = lab.best, lab.best_ready, lab.ready, lab.by_walk
    end_s, result = qry.end_s, lab.result
    target_best = sgn * INF
    for s in range(end_s.shape[0]):
        if end_s[s] >= 0 and sgn * best[s] < INF:
            v = best[s] + sgn * end_s[s]
            if sgn * v < sgn * target_best:
                target_best = v
    for i in range(qry.starts.shape[0]):
        o = qry.starts[i]
        t = qry.time + sgn * qry.start_s[i]
        if sgn * t < sgn * best_ready[o]:
            ready[0, o] = t
            lab.via[0, o] = 2
            walk[0, o] = t
            best_ready[o] = t
            lab.pw[0, o] = -1
            if sgn * t < sgn * best[o]:
                best[o] = t
            marked[o] = True
            if end_s[o] >= 0 and sgn * t + end_s[o] < sgn * target_best:
                target_best = t + sgn * end_s[o]
                result[0] = target_best
                lab.target_stop[0] = o
                lab.target_via[0] = 1
    if not qry.walk_from_starts:
        return target_best
    for o in qry.starts:
        if not marked[o] or lab.via[0, o] != 2:
            continue
        for f in range(fp.offsets[o], fp.offsets[o + 1]):
            q = fp.other[f]
            w = walk[0, o] + sgn * fp.duration_s[f]
            if sgn * w < sgn * best_ready[q] and sgn * w < sgn * target_best:
                ready[0, q] = w
                lab.via[0, q] = 1
                walk[0, q] = w
                best_ready[q] = w
                lab.pw[0, q] = o
                if sgn * w < sgn * best[q]:
                    best[q] = w
                marked[q] = True
                if qry.walk_to_ends and end_s[q] >= 0 and \
                        sgn * w + end_s[q] < sgn * target_best:
                    target_best = w + sgn * end_s[q]
                    result[0] = target_best
                    lab.target_stop[0] = q
                    lab.target_via[0] = 1
    return target_best


@njit(cache=True, nogil=True, _nrt=False)
def _queue_patterns(fwd, tt, thr, live, stop_ok, marked, wk, was_list, at, queue, thr_at,
                    thr_queue, rt_at, rt_queue):  # pragma: no cover - compiled
    """The patterns (and live instances) to scan in a round, from their first (forward) or
    last marked stop; the marked stops become `wk.was_marked`. Returns the queue lengths and
    the count of stops marked."""
    sgn = 1 if fwd else -1
    enter_ok = live.board_ok if fwd else live.alight_ok
    nq = 0
    ntq = 0
    nrq = 0
    n_was = 0
    for s in range(marked.shape[0]):
        if not marked[s]:
            continue
        marked[s] = False
        wk.was_marked[s] = True
        was_list[n_was] = s
        n_was += 1
        if not stop_ok[s]:
            continue
        for e in range(live.sp_offsets[s], live.sp_offsets[s + 1]):
            inst = live.sp_inst[e]
            pos = live.sp_pos[e]
            if not live.ok[inst] or not enter_ok[live.offsets[inst] + pos]:
                continue
            if rt_at[inst] < 0:
                rt_queue[nrq] = inst
                nrq += 1
                rt_at[inst] = pos
            elif sgn * pos < sgn * rt_at[inst]:
                rt_at[inst] = pos
        nq = _enqueue(s, tt.sp_offsets, tt.sp_pattern, tt.sp_pos, fwd, at, queue, nq)
        ntq = _enqueue(s, thr.sp_offsets, thr.sp_pattern, thr.sp_pos, fwd, thr_at, thr_queue,
                       ntq)
    return nq, ntq, nrq, n_was


@njit(cache=True, nogil=True, _nrt=False)
def _relax(sgn, k, lab, wk, qry, fp, lb, marked, target_best,
           n_imp):  # pragma: no cover - compiled
    """Change at each stop a trip improved in round k, then walk from it."""
    by_trip, best, best_ready, ready = lab.by_trip, lab.best, lab.best_ready, lab.ready
    end_s = qry.end_s
    for i in range(n_imp):
        s = wk.improved[i]
        wk.is_improved[s] = False
        a = by_trip[k, s]
        rr = a + sgn * qry.change_s[s]
        if sgn * rr < sgn * best_ready[s] and sgn * rr + lb[s] < sgn * target_best:
            ready[k, s] = rr
            lab.via[k, s] = 0
            best_ready[s] = rr
            marked[s] = True
        for f in range(fp.offsets[s], fp.offsets[s + 1]):
            q = fp.other[f]
            w = a + sgn * fp.duration_s[f]
            # a walk arriving no sooner than a trip did may still be ready sooner than
            # that trip's arrival plus the change time (best <= best_ready, in keys)
            if sgn * w < sgn * best_ready[q] and sgn * w + lb[q] < sgn * target_best:
                lab.by_walk[k, q] = w
                lab.pw[k, q] = s
                ready[k, q] = w
                lab.via[k, q] = 1
                best_ready[q] = w
                marked[q] = True
                if sgn * w < sgn * best[q]:
                    best[q] = w
                    if qry.walk_to_ends and end_s[q] >= 0 and \
                            sgn * w + end_s[q] < sgn * target_best:
                        target_best = w + sgn * end_s[q]
                        lab.result[k] = target_best
                        lab.target_stop[k] = q
                        lab.target_via[k] = 1
    return target_best


@njit(cache=True, nogil=True, _nrt=False)
def _group_ends(k, lab, wk, qry, fp, st, marked, target_best,
                n_sp):  # pragma: no cover - compiled
    """Arrival groups improved in round k (forward): the destination reached at or from
    their stop; the stops where they may board next round."""
    rules = st.rules
    out_offsets, out_stop, g_stop = rules[15], rules[16], rules[11]
    egress_s = qry.end_s
    for i in range(n_sp):
        g = wk.sp_list[i]
        wk.sp_is[g] = False
        a = lab.sp[SP_ARR, k, g]
        s = g_stop[g]
        if egress_s[s] >= 0 and a + egress_s[s] < target_best:
            target_best = a + egress_s[s]
            lab.result[k] = target_best
            lab.target_stop[k] = s
            lab.target_via[k] = 3
            lab.target_src[k] = g
        if qry.walk_to_ends:
            for f in range(fp.offsets[s], fp.offsets[s + 1]):
                q = fp.other[f]
                w = a + fp.duration_s[f]
                if egress_s[q] >= 0 and w + egress_s[q] < target_best:
                    target_best = w + egress_s[q]
                    lab.result[k] = target_best
                    lab.target_stop[k] = q
                    lab.target_via[k] = 4
                    lab.target_src[k] = g
        for j in range(out_offsets[g], out_offsets[g + 1]):
            marked[out_stop[j]] = True
    return target_best


@njit(cache=True, nogil=True, _nrt=False)
def _trip_label(sgn, k, s, a, lab, wk, end_s, target_best, n_imp, trip, day, from_stop,
                from_pos, to_pos, src):  # pragma: no cover - compiled
    """A trip label (the caller checked that it improves): stop s reached at `a` in round
    k (not chained seated); returns the count of improved stops and the best key at an
    end. `src` (forward): the arrival group's source boarded from."""
    if not wk.is_improved[s]:
        wk.is_improved[s] = True
        wk.improved[n_imp] = s
        n_imp += 1
    lab.by_trip[k, s] = a
    lab.best_trip[s] = a
    if sgn * a < sgn * lab.best[s]:
        lab.best[s] = a
    lab.pt_trip[k, s] = trip
    lab.pt_day[k, s] = day
    lab.pt_from_stop[k, s] = from_stop
    lab.pt_from_pos[k, s] = from_pos
    lab.pt_to_pos[k, s] = to_pos
    lab.pt_chain_trip[k, s] = -1
    if sgn > 0:
        lab.pt_board_src[k, s] = src
    if end_s[s] >= 0 and sgn * a + end_s[s] < sgn * target_best:
        target_best = a + sgn * end_s[s]
        lab.result[k] = target_best
        lab.target_stop[k] = s
        lab.target_via[k] = 0
    return n_imp, target_best


@njit(cache=True, nogil=True, _nrt=False)
def _scan_live_forward(k, live, rt_queue, rt_first, nrq, lab, wk, qry, st, lb, target_best,
                       n_imp, n_sp):  # pragma: no cover - compiled
    """Trip instances as live data has them (delayed, added): each its own pattern."""
    rules = st.rules
    in_offsets = rules[12]
    stop_ok, horizon, change_s, extra = qry.stop_ok, qry.horizon, qry.change_s, qry.extra
    sp, ready = lab.sp, lab.ready
    for qi in range(nrq):
        inst = rt_queue[qi]
        start = rt_first[inst]
        rt_first[inst] = -1
        o = live.offsets[inst]
        n_pos = live.offsets[inst + 1] - o
        on = False
        board_stop = -1
        board_pos = -1
        board_src = -1
        for pos in range(start, n_pos):
            s = live.stops[o + pos]
            if on and live.alight_ok[o + pos] and stop_ok[s]:
                a = live.arr[o + pos]
                g = -1 if rules[8][s + 1] == rules[8][s] else group_of(
                    rules, s, live.trip[inst])
                if g >= 0:
                    if a + lb[s] < target_best and a <= horizon:
                        n_sp = _sp_label(lab, wk, n_sp, k, g, a, -2 - inst, -1, board_stop,
                                         board_pos, pos, -1, -1, -1, board_src)
                elif a < lab.best_trip[s] and a + lb[s] < target_best and a <= horizon:
                    n_imp, target_best = _trip_label(1, k, s, a, lab, wk, qry.end_s, target_best,
                                                     n_imp, -2 - inst, -1, board_stop,
                                                     board_pos, pos, board_src)
            if not on and live.board_ok[o + pos] and stop_ok[s]:
                r = ready[k - 1, s]
                if r < INF and r <= live.dep[o + pos] and r + lb[s] < target_best:
                    on = True
                    board_stop = s
                    board_pos = pos
                    continue
                for e in range(in_offsets[s], in_offsets[s + 1]):
                    ga = sp[SP_ARR, k - 1, rules[13][e]]
                    if ga < INF and ga + lb[s] < target_best and source_ready(
                            rules, e, ga, s, live.trip[inst], change_s, extra) <= \
                            live.dep[o + pos]:
                        on = True
                        board_stop = s
                        board_pos = pos
                        board_src = e
                        break
    return n_imp, target_best, n_sp


@njit(cache=True, nogil=True, _nrt=False)
def _scan_live_backward(k, live, rt_queue, rt_last, nrq, lab, wk, qry, lb, target_best,
                        n_imp):  # pragma: no cover - compiled
    """Live trip instances, backwards (mirror of _scan_live_forward, rules aside)."""
    stop_ok, access_s, horizon = qry.stop_ok, qry.end_s, qry.horizon
    for qi in range(nrq):
        inst = rt_queue[qi]
        start = rt_last[inst]
        rt_last[inst] = -1
        o = live.offsets[inst]
        on = False
        alight_stop = -1
        alight_pos = -1
        for pos in range(start, -1, -1):
            s = live.stops[o + pos]
            if on and live.board_ok[o + pos] and stop_ok[s]:
                d = live.dep[o + pos]
                if d > lab.best_trip[s] and d - lb[s] > target_best and d >= horizon:
                    n_imp, target_best = _trip_label(-1, k, s, d, lab, wk, access_s,
                                                     target_best, n_imp, -2 - inst, -1,
                                                     alight_stop, alight_pos, pos, -1)
            if not on and live.alight_ok[o + pos] and stop_ok[s]:
                r = lab.ready[k - 1, s]
                if r > -INF and r >= live.arr[o + pos] and r - lb[s] > target_best:
                    on = True
                    alight_stop = s
                    alight_pos = pos
    return n_imp, target_best


@njit(cache=True, nogil=True, _nrt=False)
def _seed_labels(seeds, lab, wk, qry, st, target_best, n_imp,
                 n_sp):  # pragma: no cover - compiled
    """Aboard a trip: its arrivals where the rider may get off, as round-1 labels."""
    rules = st.rules
    for i in range(seeds.shape[0]):
        s = seeds[i, SEED_STOP]
        a = seeds[i, SEED_ARR]
        if a > qry.horizon:
            continue
        g = -1 if rules[8][s + 1] == rules[8][s] else group_of(
            rules, s, seeds[i, SEED_RULE_TRIP])
        if g >= 0:
            n_sp = _sp_label(lab, wk, n_sp, 1, g, a, seeds[i, SEED_TRIP], seeds[i, SEED_DAY],
                             seeds[i, SEED_BSTOP],
                             seeds[i, SEED_BPOS], seeds[i, SEED_APOS], seeds[i, SEED_PTRIP],
                             seeds[i, SEED_PBSTOP], seeds[i, SEED_PBPOS], -1)
        elif a < lab.best_trip[s]:
            n_imp, target_best = _trip_label(1, 1, s, a, lab, wk, qry.end_s, target_best,
                                             n_imp, seeds[i, SEED_TRIP], seeds[i, SEED_DAY],
                                             seeds[i, SEED_BSTOP], seeds[i, SEED_BPOS],
                                             seeds[i, SEED_APOS], -1)
            lab.pt_chain_trip[1, s] = seeds[i, SEED_PTRIP]
            lab.pt_chain_stop[1, s] = seeds[i, SEED_PBSTOP]
            lab.pt_chain_pos[1, s] = seeds[i, SEED_PBPOS]
    return n_imp, target_best, n_sp
