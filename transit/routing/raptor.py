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
`tz_reference_utc[trip_tz, day] + st_*`. The reverse search (arrive_by) mirrors it: latest
departures, patterns scanned backwards, incoming footpaths, bounds from the origins.
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
 SEED_PTRIP, SEED_PBSTOP, SEED_PBPOS) = range(11)  # fields of a seed row (forward_rounds)
SEED_FIELDS = 11


@njit(cache=True, nogil=True, _nrt=False)
def _sp_label(sp, sp_best, sp_list, sp_is, n_sp, k, g, a, trip, day, bstop, bpos, apos, ptrip,
              pbstop, pbpos, src):  # pragma: no cover - compiled
    """Set group g's label of round k to an arrival at `a` (when it beats the group's
    best); returns the count of groups improved in this round."""
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
def _scan_forward_set(k, through, xs, tt, x_queue, x_first, x_nq, lab, wk, q, st, lb, target_best,
                      n_imp, n_sp):  # pragma: no cover - compiled
    """Scan one set of patterns (the timetable's, or the through trips) in round k;
    returns the updated count of improved stops and the best arrival at the target (and
    the count of improved arrival groups: arrivals some trip-specific rule concerns, whose
    labels are kept apart, see `transfer_rules`; `trip_of` maps the set's trips to the
    timetable's, for boarding).
    `xs` is the set scanned, `tt` the timetable (blocks are followed on its trips); `lb`
    bounds from below the time from each stop to a destination."""
    x_pso, x_stops, x_pick, x_drop = xs.stop_offsets, xs.stops, xs.pickup, xs.dropoff
    x_pto, x_st0, x_arr, x_dep = xs.trip_offsets, xs.st_start, xs.st_arr, xs.st_dep
    x_tz, x_service, x_ok, trip_of = xs.tz, xs.service, xs.ok, xs.trip_of
    thr_pattern_join, thr_pattern_base = xs.join, xs.base
    thr_first, thr_second, n_classes, trip_class = xs.first, xs.second, xs.n_classes, \
        xs.trip_class
    pattern_stop_offsets, pattern_stops, pattern_dropoff = tt.stop_offsets, tt.stops, \
        tt.dropoff
    trip_pattern, trip_ok, trip_service, trip_tz = tt.trip_pattern, tt.ok, tt.service, tt.tz
    trip_has_rt, rt_masked, st_arr, trip_st_start = tt.has_rt, tt.masked, tt.st_arr, \
        tt.st_start
    trip_next_in_block = tt.chain
    ready, arr_trip, best_trip, best_arr = lab.ready, lab.arr_trip, lab.best_trip, lab.best_arr
    result, target_stop, target_via = lab.result, lab.target_stop, lab.target_via
    pt_trip, pt_day, pt_board_stop, pt_board_pos = lab.pt_trip, lab.pt_day, \
        lab.pt_board_stop, lab.pt_board_pos
    pt_alight_pos, pt_prev_trip, pt_board_src = lab.pt_alight_pos, lab.pt_prev_trip, \
        lab.pt_board_src
    pt_prev_board_stop, pt_prev_board_pos = lab.pt_prev_board_stop, lab.pt_prev_board_pos
    sp, sp_best = lab.sp, lab.sp_best
    improved, is_improved, was_marked, pat_boarded = wk.improved, wk.is_improved, \
        wk.was_marked, wk.pat_boarded
    boarded_t, boarded_d, boarded_stop, boarded_pos, boarded_src = wk.held_t, wk.held_d, \
        wk.held_stop, wk.held_pos, wk.held_src
    class_seen, sp_list, sp_is = wk.class_seen, wk.sp_list, wk.sp_is
    stop_ok, egress_s, horizon, change_s, extra = q.stop_ok, q.end_s, q.horizon, q.change_s, \
        q.extra
    service_days, tz_ref, rules = st.service_days, st.tz_ref, st.rules
    in_offsets = rules[12]
    g_offsets = rules[8]  # checked here: a call passing `rules` costs at every stop
    for qi in range(x_nq):
        p = x_queue[qi]
        start = x_first[p, 0]
        until = x_first[p, 1]  # no stop to board at after it
        x_first[p, 0] = -1
        if through and not pat_boarded[thr_pattern_base[p]]:
            continue  # no trip of its first trips' pattern could be boarded this round
        ps0 = x_pso[p]
        n_pos = x_pso[p + 1] - ps0
        join = thr_pattern_join[p] if through else -1
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
                a = cur_base + x_arr[x_st0[cur] + pos]
                g = -1 if g_offsets[s + 1] == g_offsets[s] else group_of(
                    rules, s, thr_second[cur] if through else cur)
                if g >= 0:
                    if a + lb[s] < target_best and a <= horizon:
                        n_sp = _sp_label(sp, sp_best, sp_list, sp_is, n_sp, k, g, a,
                                         THR_BASE - cur if through else cur, cur_day,
                                         board_stop, board_pos, pos, -1, -1, -1, board_src)
                elif a < best_trip[s] and a + lb[s] < target_best and a <= horizon:
                    if not is_improved[s]:
                        is_improved[s] = True
                        improved[n_imp] = s
                        n_imp += 1
                    arr_trip[k, s] = a
                    best_trip[s] = a
                    if a < best_arr[s]:
                        best_arr[s] = a
                    pt_trip[k, s] = THR_BASE - cur if through else cur
                    pt_day[k, s] = cur_day
                    pt_board_stop[k, s] = board_stop
                    pt_board_pos[k, s] = board_pos
                    pt_alight_pos[k, s] = pos
                    pt_prev_trip[k, s] = -1
                    pt_board_src[k, s] = board_src
                    if egress_s[s] >= 0 and a + egress_s[s] < target_best:
                        target_best = a + egress_s[s]
                        result[k] = target_best
                        target_stop[k] = s
                        target_via[k] = 0
            if pos == n_pos - 1:
                break  # boarding at the last stop goes nowhere
            if through and pos >= join:
                if cur < 0:
                    break  # nothing boarded before the joint: nothing to ride on
                continue  # past the joint: only riding on
            r = ready[k - 1, s]
            # only labels improved in the last round: an older one was boarded from before
            board_ok = x_pick[ps0 + pos] != 1 and stop_ok[s]
            can_board = was_marked[s] and board_ok
            ruled = board_ok and in_offsets[s + 1] > in_offsets[s]
            if not ruled and not (can_board and r + lb[s] < target_best):
                continue
            cur_dep = cur_base + x_dep[x_st0[cur] + pos] if cur >= 0 else INF
            new_t = -1
            new_d = -1
            new_src = -1
            if can_board and r + lb[s] < target_best and r <= cur_dep:
                t, d, when = _find_trip(True, xs, p, pos, r, target_best - lb[s], st, -1, s,
                                        change_s, extra)
                if t >= 0 and when < cur_dep:
                    new_t = t
                    new_d = d
                    cur_dep = when
            if ruled:
                # arrivals a trip-specific rule concerns: each group's own earliest trip
                for e in range(in_offsets[s], in_offsets[s + 1]):
                    ga = sp[SP_ARR, k - 1, rules[13][e]]
                    if ga >= cur_dep or ga + lb[s] >= target_best:
                        continue
                    t, d, when = _find_trip(True, xs, p, pos, ga,
                                            min(cur_dep, target_best - lb[s]), st, e, s,
                                            change_s, extra)
                    if t >= 0 and when < cur_dep:
                        new_t = t
                        new_d = d
                        new_src = e
                        cur_dep = when
            if new_t >= 0:
                t = new_t
                d = new_d
                cur = t
                cur_day = d
                cur_base = tz_ref[x_tz[t], d]
                board_stop = s
                board_pos = pos
                board_src = new_src
                if not through:
                    pat_boarded[p] = True
                if through and trip_next_in_block[thr_second[t]] >= 0:
                    boarded_t[nb] = t
                    boarded_d[nb] = d
                    boarded_stop[nb] = s
                    boarded_pos[nb] = pos
                    boarded_src[nb] = board_src
                    nb += 1
        if through and cur >= 0 and n_classes[p] > 1:
            # the first member after it of each other chain class rides on elsewhere
            for c in range(n_classes[p]):
                class_seen[c] = False
            class_seen[trip_class[cur]] = True
            left = n_classes[p] - 1
            for t2 in range(cur + 1, x_pto[p + 1]):
                c = trip_class[t2]
                if class_seen[c] or not x_ok[t2] or \
                        _active(service_days, x_service, t2, cur_day) == 0:
                    continue
                if board_src >= 0 and source_ready(
                        rules, board_src, sp[SP_ARR, k - 1, rules[13][board_src]],
                        board_stop, trip_of[t2], change_s, extra) > tz_ref[x_tz[t2], cur_day] \
                        + x_dep[x_st0[t2] + board_pos]:
                    continue  # the rules forbid boarding this one where the rider was
                class_seen[c] = True
                if trip_next_in_block[thr_second[t2]] >= 0:
                    boarded_t[nb] = t2
                    boarded_d[nb] = cur_day
                    boarded_stop[nb] = board_stop
                    boarded_pos[nb] = board_pos
                    boarded_src[nb] = board_src
                    nb += 1
                left -= 1
                if left == 0:
                    break
        # seated on along the block, from the second trip of each through trip boarded
        for bi in range(nb):
            thr = boarded_t[bi]
            day = boarded_d[bi]
            join = pattern_stop_offsets[trip_pattern[thr_first[thr]] + 1] - \
                pattern_stop_offsets[trip_pattern[thr_first[thr]]] - 1
            if boarded_pos[bi] < join:
                root = thr_first[thr]
                root_pos = boarded_pos[bi]
            else:
                root = thr_second[thr]
                root_pos = boarded_pos[bi] - join
            t2 = trip_next_in_block[thr_second[thr]]
            depth = 0
            while t2 >= 0 and depth < MAX_BLOCK_CHAIN:
                depth += 1
                if not trip_ok[t2] or not _active(service_days, trip_service, t2, day):
                    break
                if trip_has_rt[t2] and _replaced(rt_masked, t2, day):
                    break
                p2 = trip_pattern[t2]
                ps2 = pattern_stop_offsets[p2]
                n2 = pattern_stop_offsets[p2 + 1] - ps2
                base2 = tz_ref[trip_tz[t2], day]
                for pos2 in range(1, n2):
                    s = pattern_stops[ps2 + pos2]
                    if pattern_dropoff[ps2 + pos2] == 1 or not stop_ok[s]:
                        continue
                    a = base2 + st_arr[trip_st_start[t2] + pos2]
                    g = -1 if g_offsets[s + 1] == g_offsets[s] else group_of(rules, s, t2)
                    if g >= 0:
                        if a + lb[s] < target_best and a <= horizon:
                            n_sp = _sp_label(sp, sp_best, sp_list, sp_is, n_sp, k, g, a, t2,
                                             day, pattern_stops[ps2], 0, pos2, root,
                                             boarded_stop[bi], root_pos, boarded_src[bi])
                    elif a < best_trip[s] and a + lb[s] < target_best and a <= horizon:
                        if not is_improved[s]:
                            is_improved[s] = True
                            improved[n_imp] = s
                            n_imp += 1
                        arr_trip[k, s] = a
                        best_trip[s] = a
                        if a < best_arr[s]:
                            best_arr[s] = a
                        pt_trip[k, s] = t2
                        pt_day[k, s] = day
                        pt_board_stop[k, s] = pattern_stops[ps2]
                        pt_board_pos[k, s] = 0
                        pt_alight_pos[k, s] = pos2
                        pt_prev_trip[k, s] = root
                        pt_prev_board_stop[k, s] = boarded_stop[bi]
                        pt_prev_board_pos[k, s] = root_pos
                        pt_board_src[k, s] = boarded_src[bi]
                        if egress_s[s] >= 0 and a + egress_s[s] < target_best:
                            target_best = a + egress_s[s]
                            result[k] = target_best
                            target_stop[k] = s
                            target_via[k] = 0
                t2 = trip_next_in_block[t2]
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


@njit(cache=True, nogil=True)
def forward_rounds(tt, thr, live, qry, fp, bounds, st, lab, seeds):  # pragma: no cover - compiled
    """One forward search from `t_start`. Fills the state arrays; returns per round the best
    arrival at a destination (stops with egress_s >= 0), INF where none improved.
    `sp_*` and `thr_sp_*` list the places where each stop may be boarded
    (`indexes.stop_places`).

    Once a destination is reached, labels that cannot beat it even at the lower-bound time
    from their stop (the `lb_in_*` graph) are dropped.

    Trip- and route-specific transfer rules (`rules`, see `transfer_rules`): arrivals they
    may concern set the labels of their arrival group (`sp`, fields SP_*, and `sp_best`)
    instead of their stop's; boarding from a group asks the rules for each trip;
    `pt_board_src` (and SP_SRC) keep the group source boarded from (-1: the stop's label),
    `target_src` the group of a round's best arrival when target_via is 3 (at the group's
    stop) or 4 (walked from it to target_stop).

    `seeds` (rows of SEED_FIELDS) start a rider aboard a trip instance: each row is an
    arrival of that trip (or of a block continuation, seated) at a stop where the rider may
    get off, set as a round-1 trip label (its stop's, or its arrival group's under the
    rules) before round 1's changes and walks; no origins then."""
    sp_offsets, sp_pattern, sp_pos = tt.sp_offsets, tt.sp_pattern, tt.sp_pos
    thr_sp_offsets, thr_sp_pattern, thr_sp_pos = thr.sp_offsets, thr.sp_pattern, thr.sp_pos
    fp_offsets, fp_to, fp_duration_s = fp.offsets, fp.other, fp.duration_s
    lb_in_offsets, lb_in_from, lb_in_w = bounds.offsets, bounds.other, bounds.w
    origins, access_s, t_start, egress_s, horizon = qry.starts, qry.start_s, qry.time, qry.end_s, \
        qry.horizon
    walk_from_origins, walk_to_destinations = qry.walk_from_starts, qry.walk_to_ends
    change_s, stop_ok, extra = qry.change_s, qry.stop_ok, qry.extra
    rt_offsets, rt_stops, rt_arr, rt_dep = live.offsets, live.stops, live.arr, live.dep
    rt_board_ok, rt_alight_ok, rt_ok, rt_trip = live.board_ok, live.alight_ok, live.ok, \
        live.trip
    rt_sp_offsets, rt_sp_inst, rt_sp_pos = live.sp_offsets, live.sp_inst, live.sp_pos
    arr_trip, arr_walk, ready, best_arr = lab.arr_trip, lab.arr_walk, lab.ready, lab.best_arr
    best_trip, best_ready, pw_from, ready_via = lab.best_trip, lab.best_ready, lab.pw_from, \
        lab.ready_via
    pt_trip, pt_day, pt_board_stop, pt_board_pos = lab.pt_trip, lab.pt_day, \
        lab.pt_board_stop, lab.pt_board_pos
    pt_alight_pos, pt_prev_trip, pt_board_src = lab.pt_alight_pos, lab.pt_prev_trip, \
        lab.pt_board_src
    pt_prev_board_stop, pt_prev_board_pos = lab.pt_prev_board_stop, lab.pt_prev_board_pos
    target_stop, target_via, target_src = lab.target_stop, lab.target_via, lab.target_src
    sp, sp_best, result = lab.sp, lab.sp_best, lab.result
    rules = st.rules
    n_stops = sp_offsets.shape[0] - 1
    n_rounds = arr_trip.shape[0]
    n_patterns = tt.stop_offsets.shape[0] - 1
    marked = np.zeros(n_stops, np.bool_)
    target_best = INF
    for s in range(n_stops):
        if egress_s[s] >= 0 and best_arr[s] < INF:
            v = best_arr[s] + egress_s[s]
            if v < target_best:
                target_best = v
    dest = np.flatnonzero(egress_s >= 0)
    dest_s = egress_s[dest]
    lb = np.zeros(n_stops, np.int64)  # no bound until a destination is reached
    lb_known = False
    # round 0: at the origins
    for i in range(origins.shape[0]):
        o = origins[i]
        t = t_start + access_s[i]
        if t < best_ready[o]:
            ready[0, o] = t
            ready_via[0, o] = 2
            arr_walk[0, o] = t
            best_ready[o] = t
            pw_from[0, o] = -1
            if t < best_arr[o]:
                best_arr[o] = t
            marked[o] = True
            if egress_s[o] >= 0 and t + egress_s[o] < target_best:
                target_best = t + egress_s[o]
                result[0] = target_best
                target_stop[0] = o
                target_via[0] = 1
    if walk_from_origins:
        for o in origins:
            if not marked[o] or ready_via[0, o] != 2:
                continue
            for f in range(fp_offsets[o], fp_offsets[o + 1]):
                q = fp_to[f]
                w = arr_walk[0, o] + fp_duration_s[f]
                if w < best_ready[q] and w < target_best:
                    ready[0, q] = w
                    ready_via[0, q] = 1
                    arr_walk[0, q] = w
                    best_ready[q] = w
                    pw_from[0, q] = o
                    if w < best_arr[q]:
                        best_arr[q] = w
                    marked[q] = True
                    if walk_to_destinations and egress_s[q] >= 0 and \
                            w + egress_s[q] < target_best:
                        target_best = w + egress_s[q]
                        result[0] = target_best
                        target_stop[0] = q
                        target_via[0] = 1
    first_pos = np.full((n_patterns, 2), -1, np.int64)
    queue = np.empty(n_patterns, np.int64)
    n_thr = thr.stop_offsets.shape[0] - 1
    thr_first_pos = np.full((n_thr, 2), -1, np.int64)
    thr_queue = np.empty(n_thr, np.int64)
    wk = _work(n_stops, n_patterns, thr, sp_best.shape[0])
    improved, is_improved, was_marked, pat_boarded = wk.improved, wk.is_improved, \
        wk.was_marked, wk.pat_boarded
    sp_list, sp_is = wk.sp_list, wk.sp_is
    was_list = np.empty(n_stops, np.int64)
    n_rt = rt_offsets.shape[0] - 1
    rt_first = np.full(n_rt, -1, np.int64)
    rt_queue = np.empty(n_rt, np.int64)
    in_offsets = rules[12]
    out_offsets, out_stop = rules[15], rules[16]
    g_stop = rules[11]
    for k in range(1, n_rounds):
        if not lb_known and target_best < INF:  # bounds once a destination is reached
            lb = shortest_times(lb_in_offsets, lb_in_from, lb_in_w, dest, dest_s, True,
                                rt_offsets, rt_stops, rt_arr, rt_dep, rt_sp_offsets, rt_sp_inst,
                                rt_sp_pos, target_best - t_start)
            lb_known = True
        # patterns to scan, from their first improved stop
        nq = 0
        ntq = 0
        nrq = 0
        n_was = 0
        any_marked = False
        for s in range(n_stops):
            if not marked[s]:
                continue
            any_marked = True
            marked[s] = False
            was_marked[s] = True
            n_was += 1
            was_list[n_was - 1] = s
            if not stop_ok[s]:
                continue
            for e in range(rt_sp_offsets[s], rt_sp_offsets[s + 1]):
                inst = rt_sp_inst[e]
                pos = rt_sp_pos[e]
                if not rt_ok[inst] or not rt_board_ok[rt_offsets[inst] + pos]:
                    continue
                if rt_first[inst] < 0:
                    rt_queue[nrq] = inst
                    nrq += 1
                    rt_first[inst] = pos
                elif pos < rt_first[inst]:
                    rt_first[inst] = pos
            nq = _enqueue(s, sp_offsets, sp_pattern, sp_pos, True, first_pos, queue, nq)
            ntq = _enqueue(s, thr_sp_offsets, thr_sp_pattern, thr_sp_pos, True, thr_first_pos,
                           thr_queue, ntq)
        if not any_marked and not (k == 1 and seeds.shape[0] > 0):
            break
        n_imp = 0
        n_sp = 0
        # the timetable's patterns, then the through trips (a trip and the next of its block)
        n_imp, target_best, n_sp = _scan_forward_set(
            k, False, tt, tt, queue, first_pos, nq, lab, wk, qry, st, lb, target_best, n_imp, n_sp)
        n_imp, target_best, n_sp = _scan_forward_set(
            k, True, thr, tt, thr_queue, thr_first_pos, ntq, lab, wk, qry, st, lb, target_best,
            n_imp, n_sp)
        # trip instances as live data has them (delayed, added): each its own pattern
        for qi in range(nrq):
            inst = rt_queue[qi]
            start = rt_first[inst]
            rt_first[inst] = -1
            o = rt_offsets[inst]
            n_pos = rt_offsets[inst + 1] - o
            on = False
            board_stop = -1
            board_pos = -1
            board_src = -1
            for pos in range(start, n_pos):
                s = rt_stops[o + pos]
                if on and rt_alight_ok[o + pos] and stop_ok[s]:
                    a = rt_arr[o + pos]
                    g = -1 if rules[8][s + 1] == rules[8][s] else group_of(
                        rules, s, rt_trip[inst])
                    if g >= 0:
                        if a + lb[s] < target_best and a <= horizon:
                            n_sp = _sp_label(sp, sp_best, sp_list, sp_is, n_sp, k, g, a,
                                             -2 - inst, -1, board_stop, board_pos, pos, -1, -1,
                                             -1, board_src)
                    elif a < best_trip[s] and a + lb[s] < target_best and a <= horizon:
                        if not is_improved[s]:
                            is_improved[s] = True
                            improved[n_imp] = s
                            n_imp += 1
                        arr_trip[k, s] = a
                        best_trip[s] = a
                        if a < best_arr[s]:
                            best_arr[s] = a
                        pt_trip[k, s] = -2 - inst
                        pt_day[k, s] = -1
                        pt_board_stop[k, s] = board_stop
                        pt_board_pos[k, s] = board_pos
                        pt_alight_pos[k, s] = pos
                        pt_prev_trip[k, s] = -1
                        pt_board_src[k, s] = board_src
                        if egress_s[s] >= 0 and a + egress_s[s] < target_best:
                            target_best = a + egress_s[s]
                            result[k] = target_best
                            target_stop[k] = s
                            target_via[k] = 0
                if not on and rt_board_ok[o + pos] and stop_ok[s]:
                    r = ready[k - 1, s]
                    if r < INF and r <= rt_dep[o + pos] and r + lb[s] < target_best:
                        on = True
                        board_stop = s
                        board_pos = pos
                        continue
                    for e in range(in_offsets[s], in_offsets[s + 1]):
                        ga = sp[SP_ARR, k - 1, rules[13][e]]
                        if ga < INF and ga + lb[s] < target_best and source_ready(
                                rules, e, ga, s, rt_trip[inst], change_s, extra) <= \
                                rt_dep[o + pos]:
                            on = True
                            board_stop = s
                            board_pos = pos
                            board_src = e
                            break
        for qi in range(nq):
            pat_boarded[queue[qi]] = False
        for i in range(n_was):
            was_marked[was_list[i]] = False
        if k == 1:
            # aboard a trip: its arrivals where the rider may get off, as round-1 labels
            for i in range(seeds.shape[0]):
                s = seeds[i, SEED_STOP]
                a = seeds[i, SEED_ARR]
                if a > horizon:
                    continue
                g = -1 if rules[8][s + 1] == rules[8][s] else group_of(
                    rules, s, seeds[i, SEED_RULE_TRIP])
                if g >= 0:
                    n_sp = _sp_label(sp, sp_best, sp_list, sp_is, n_sp, k, g, a,
                                     seeds[i, SEED_TRIP], seeds[i, SEED_DAY],
                                     seeds[i, SEED_BSTOP], seeds[i, SEED_BPOS],
                                     seeds[i, SEED_APOS], seeds[i, SEED_PTRIP],
                                     seeds[i, SEED_PBSTOP], seeds[i, SEED_PBPOS], -1)
                elif a < best_trip[s]:
                    if not is_improved[s]:
                        is_improved[s] = True
                        improved[n_imp] = s
                        n_imp += 1
                    arr_trip[k, s] = a
                    best_trip[s] = a
                    if a < best_arr[s]:
                        best_arr[s] = a
                    pt_trip[k, s] = seeds[i, SEED_TRIP]
                    pt_day[k, s] = seeds[i, SEED_DAY]
                    pt_board_stop[k, s] = seeds[i, SEED_BSTOP]
                    pt_board_pos[k, s] = seeds[i, SEED_BPOS]
                    pt_alight_pos[k, s] = seeds[i, SEED_APOS]
                    pt_prev_trip[k, s] = seeds[i, SEED_PTRIP]
                    pt_prev_board_stop[k, s] = seeds[i, SEED_PBSTOP]
                    pt_prev_board_pos[k, s] = seeds[i, SEED_PBPOS]
                    pt_board_src[k, s] = -1
                    if egress_s[s] >= 0 and a + egress_s[s] < target_best:
                        target_best = a + egress_s[s]
                        result[k] = target_best
                        target_stop[k] = s
                        target_via[k] = 0
        # change at the same stop, then walk
        for i in range(n_imp):
            s = improved[i]
            is_improved[s] = False
            a = arr_trip[k, s]
            rr = a + change_s[s]
            if rr < best_ready[s] and rr + lb[s] < target_best:
                ready[k, s] = rr
                ready_via[k, s] = 0
                best_ready[s] = rr
                marked[s] = True
            for f in range(fp_offsets[s], fp_offsets[s + 1]):
                q = fp_to[f]
                w = a + fp_duration_s[f]
                # a walk arriving no sooner than a trip did may still be ready sooner than
                # that trip's arrival plus the change time (best_arr <= best_ready)
                if w < best_ready[q] and w + lb[q] < target_best:
                    arr_walk[k, q] = w
                    pw_from[k, q] = s
                    ready[k, q] = w
                    ready_via[k, q] = 1
                    best_ready[q] = w
                    marked[q] = True
                    if w < best_arr[q]:
                        best_arr[q] = w
                        if walk_to_destinations and egress_s[q] >= 0 and \
                                w + egress_s[q] < target_best:
                            target_best = w + egress_s[q]
                            result[k] = target_best
                            target_stop[k] = q
                            target_via[k] = 1
        # arrival groups: the destination reached at or from their stop; the stops where
        # they may board next round
        for i in range(n_sp):
            g = sp_list[i]
            sp_is[g] = False
            a = sp[SP_ARR, k, g]
            s = g_stop[g]
            if egress_s[s] >= 0 and a + egress_s[s] < target_best:
                target_best = a + egress_s[s]
                result[k] = target_best
                target_stop[k] = s
                target_via[k] = 3
                target_src[k] = g
            if walk_to_destinations:
                for f in range(fp_offsets[s], fp_offsets[s + 1]):
                    q = fp_to[f]
                    w = a + fp_duration_s[f]
                    if egress_s[q] >= 0 and w + egress_s[q] < target_best:
                        target_best = w + egress_s[q]
                        result[k] = target_best
                        target_stop[k] = q
                        target_via[k] = 4
                        target_src[k] = g
            for j in range(out_offsets[g], out_offsets[g + 1]):
                marked[out_stop[j]] = True
    return result


@njit(cache=True, nogil=True, _nrt=False)
def _scan_backward_set(k, through, xs, tt, x_queue, x_last, x_nq, lab, wk, q, st, lb, target_best,
                       n_imp):  # pragma: no cover - compiled
    """Scan one set of patterns backwards in round k (mirror of _scan_forward_set); `lb`
    bounds from below the time from an origin to each stop."""
    x_pso, x_stops, x_pick, x_drop = xs.stop_offsets, xs.stops, xs.pickup, xs.dropoff
    x_pto, x_st0, x_arr, x_dep = xs.trip_offsets, xs.st_start, xs.st_arr, xs.st_dep
    x_tz, x_service, x_ok = xs.tz, xs.service, xs.ok
    thr_pattern_join, thr_first, thr_second = xs.join, xs.first, xs.second
    n_classes, trip_class = xs.n_classes, xs.trip_class
    pattern_stop_offsets, pattern_stops, pattern_pickup = tt.stop_offsets, tt.stops, \
        tt.pickup
    trip_pattern, trip_ok, trip_service, trip_tz = tt.trip_pattern, tt.ok, tt.service, tt.tz
    trip_has_rt, rt_masked, st_dep, trip_st_start = tt.has_rt, tt.masked, tt.st_dep, \
        tt.st_start
    trip_prev_in_block = tt.chain
    latest, dep_trip, best_dep_trip, best_dep = lab.latest, lab.dep_trip, lab.best_dep_trip, \
        lab.best_dep
    result, target_stop, target_via = lab.result, lab.target_stop, lab.target_via
    pt_trip, pt_day, pt_alight_stop, pt_alight_pos = lab.pt_trip, lab.pt_day, \
        lab.pt_alight_stop, lab.pt_alight_pos
    pt_board_pos, pt_next_trip = lab.pt_board_pos, lab.pt_next_trip
    pt_next_alight_stop, pt_next_alight_pos = lab.pt_next_alight_stop, lab.pt_next_alight_pos
    improved, is_improved, was_marked = wk.improved, wk.is_improved, wk.was_marked
    alighted_t, alighted_d, alighted_stop, alighted_pos = wk.held_t, wk.held_d, \
        wk.held_stop, wk.held_pos
    class_seen = wk.class_seen
    stop_ok, access_s, horizon = q.stop_ok, q.end_s, q.horizon
    service_days, tz_ref = st.service_days, st.tz_ref
    for qi in range(x_nq):
        p = x_queue[qi]
        start = x_last[p, 0]
        until = x_last[p, 1]  # no stop to alight at before it
        x_last[p, 0] = -1
        ps0 = x_pso[p]
        cur = -1
        cur_day = -1
        cur_base = np.int64(0)
        alight_stop = -1
        alight_pos = -1
        na = 0
        join = thr_pattern_join[p] if through else (1 << 30)
        for pos in range(start, -1, -1):
            if cur < 0 and pos < until:
                break  # riding nothing, and nowhere left to alight
            s = x_stops[ps0 + pos]
            if cur >= 0 and pos < join and x_pick[ps0 + pos] != 1 and stop_ok[s]:
                d = cur_base + x_dep[x_st0[cur] + pos]
                if d > best_dep_trip[s] and d - lb[s] > target_best and d >= horizon:
                    if not is_improved[s]:
                        is_improved[s] = True
                        improved[n_imp] = s
                        n_imp += 1
                    dep_trip[k, s] = d
                    best_dep_trip[s] = d
                    if d > best_dep[s]:
                        best_dep[s] = d
                    pt_trip[k, s] = THR_BASE - cur if through else cur
                    pt_day[k, s] = cur_day
                    pt_alight_stop[k, s] = alight_stop
                    pt_alight_pos[k, s] = alight_pos
                    pt_board_pos[k, s] = pos
                    pt_next_trip[k, s] = -1
                    if access_s[s] >= 0 and d - access_s[s] > target_best:
                        target_best = d - access_s[s]
                        result[k] = target_best
                        target_stop[k] = s
                        target_via[k] = 0
            if pos == 0:
                break  # alighting at the first stop comes from nowhere
            if through and pos <= join:
                if cur < 0:
                    break  # nothing to alight from after the joint
                continue  # before the joint: only riding on (backwards)
            r = latest[k - 1, s]
            # only labels improved in the last round: an older one was used before
            can_alight = was_marked[s] and x_drop[ps0 + pos] != 1 and stop_ok[s]
            if can_alight and r - lb[s] > target_best and (
                    cur < 0 or r >= cur_base + x_arr[x_st0[cur] + pos]):
                t, dd, when = _find_trip(False, xs, p, pos, r, target_best + lb[s], st, -1, s,
                                         q.change_s, q.extra)
                if t >= 0 and (cur < 0 or when > cur_base + x_arr[x_st0[cur] + pos]):
                    cur = t
                    cur_day = dd
                    cur_base = tz_ref[x_tz[t], dd]
                    alight_stop = s
                    alight_pos = pos
                    if through and trip_prev_in_block[thr_first[t]] >= 0:
                        alighted_t[na] = t
                        alighted_d[na] = dd
                        alighted_stop[na] = s
                        alighted_pos[na] = pos
                        na += 1
        if through and cur >= 0 and n_classes[p] > 1:
            # the last member before it of each other chain class came from elsewhere
            for c in range(n_classes[p]):
                class_seen[c] = False
            class_seen[trip_class[cur]] = True
            left = n_classes[p] - 1
            for t2 in range(cur - 1, x_pto[p] - 1, -1):
                c = trip_class[t2]
                if class_seen[c] or not x_ok[t2] or \
                        _active(service_days, x_service, t2, cur_day) == 0:
                    continue
                class_seen[c] = True
                if trip_prev_in_block[thr_first[t2]] >= 0:
                    alighted_t[na] = t2
                    alighted_d[na] = cur_day
                    alighted_stop[na] = alight_stop
                    alighted_pos[na] = alight_pos
                    na += 1
                left -= 1
                if left == 0:
                    break
        # seated from earlier trips of the block, before each through trip alighted
        for ai in range(na):
            thr = alighted_t[ai]
            day = alighted_d[ai]
            join = pattern_stop_offsets[trip_pattern[thr_first[thr]] + 1] - \
                pattern_stop_offsets[trip_pattern[thr_first[thr]]] - 1
            if alighted_pos[ai] > join:
                end = thr_second[thr]
                end_pos = alighted_pos[ai] - join
            else:
                end = thr_first[thr]
                end_pos = alighted_pos[ai]
            t0 = trip_prev_in_block[thr_first[thr]]
            depth = 0
            while t0 >= 0 and depth < MAX_BLOCK_CHAIN:
                depth += 1
                if not trip_ok[t0] or not _active(service_days, trip_service, t0, day):
                    break
                if trip_has_rt[t0] and _replaced(rt_masked, t0, day):
                    break
                p2 = trip_pattern[t0]
                ps2 = pattern_stop_offsets[p2]
                n2 = pattern_stop_offsets[p2 + 1] - ps2
                base2 = tz_ref[trip_tz[t0], day]
                for pos2 in range(n2 - 2, -1, -1):
                    s = pattern_stops[ps2 + pos2]
                    if pattern_pickup[ps2 + pos2] == 1 or not stop_ok[s]:
                        continue
                    d = base2 + st_dep[trip_st_start[t0] + pos2]
                    if d > best_dep_trip[s] and d - lb[s] > target_best and d >= horizon:
                        if not is_improved[s]:
                            is_improved[s] = True
                            improved[n_imp] = s
                            n_imp += 1
                        dep_trip[k, s] = d
                        best_dep_trip[s] = d
                        if d > best_dep[s]:
                            best_dep[s] = d
                        pt_trip[k, s] = t0
                        pt_day[k, s] = day
                        pt_alight_stop[k, s] = pattern_stops[ps2 + n2 - 1]
                        pt_alight_pos[k, s] = n2 - 1
                        pt_board_pos[k, s] = pos2
                        pt_next_trip[k, s] = end
                        pt_next_alight_stop[k, s] = alighted_stop[ai]
                        pt_next_alight_pos[k, s] = end_pos
                        if access_s[s] >= 0 and d - access_s[s] > target_best:
                            target_best = d - access_s[s]
                            result[k] = target_best
                            target_stop[k] = s
                            target_via[k] = 0
                t0 = trip_prev_in_block[t0]
    return n_imp, target_best


@njit(cache=True, nogil=True)
def backward_rounds(tt, thr, live, qry, fp, bounds, st, lab):  # pragma: no cover - compiled
    """One backward search arriving by `t_end` (mirror of forward_rounds): labels are latest
    departures; returns per round the latest departure from an origin (access_s >= 0).
    `sp_*` and `thr_sp_*` list the places where each stop may be alighted at
    (`indexes.stop_places`).
    Once an origin is reached, lower bounds from the origins (the `lb_out_*` graph) prune."""
    sp_offsets, sp_pattern, sp_pos = tt.sp_offsets, tt.sp_pattern, tt.sp_pos
    thr_sp_offsets, thr_sp_pattern, thr_sp_pos = thr.sp_offsets, thr.sp_pattern, thr.sp_pos
    fpi_offsets, fpi_from, fpi_duration_s = fp.offsets, fp.other, fp.duration_s
    lb_out_offsets, lb_out_to, lb_out_w = bounds.offsets, bounds.other, bounds.w
    destinations, egress_s, t_end = qry.starts, qry.start_s, qry.time
    access_s, horizon = qry.end_s, qry.horizon
    walk_to_destinations, walk_from_origins = qry.walk_from_starts, qry.walk_to_ends
    change_s, stop_ok = qry.change_s, qry.stop_ok
    rt_offsets, rt_stops, rt_arr, rt_dep = live.offsets, live.stops, live.arr, live.dep
    rt_board_ok, rt_alight_ok, rt_ok = live.board_ok, live.alight_ok, live.ok
    rt_sp_offsets, rt_sp_inst, rt_sp_pos = live.sp_offsets, live.sp_inst, live.sp_pos
    dep_trip, dep_walk, latest, best_dep = lab.dep_trip, lab.dep_walk, lab.latest, lab.best_dep
    best_dep_trip, best_latest, pw_to, latest_via = lab.best_dep_trip, lab.best_latest, \
        lab.pw_to, lab.latest_via
    pt_trip, pt_day, pt_alight_stop, pt_alight_pos = lab.pt_trip, lab.pt_day, \
        lab.pt_alight_stop, lab.pt_alight_pos
    pt_board_pos, pt_next_trip = lab.pt_board_pos, lab.pt_next_trip
    target_stop, target_via, result = lab.target_stop, lab.target_via, lab.result
    n_stops = sp_offsets.shape[0] - 1
    n_rounds = dep_trip.shape[0]
    n_patterns = tt.stop_offsets.shape[0] - 1
    marked = np.zeros(n_stops, np.bool_)
    target_best = -INF
    orig = np.flatnonzero(access_s >= 0)
    orig_s = access_s[orig]
    lb = np.zeros(n_stops, np.int64)  # no bound until an origin is reached
    lb_known = False
    for i in range(destinations.shape[0]):
        d = destinations[i]
        t = t_end - egress_s[i]
        if t > best_latest[d]:
            latest[0, d] = t
            latest_via[0, d] = 2
            dep_walk[0, d] = t
            best_latest[d] = t
            pw_to[0, d] = -1
            if t > best_dep[d]:
                best_dep[d] = t
            marked[d] = True
            if access_s[d] >= 0 and t - access_s[d] > target_best:
                target_best = t - access_s[d]
                result[0] = target_best
                target_stop[0] = d
                target_via[0] = 1
    if walk_to_destinations:
        for d in destinations:
            if not marked[d] or latest_via[0, d] != 2:
                continue
            for f in range(fpi_offsets[d], fpi_offsets[d + 1]):
                q = fpi_from[f]
                w = dep_walk[0, d] - fpi_duration_s[f]
                if w > best_latest[q] and w > target_best:
                    latest[0, q] = w
                    latest_via[0, q] = 1
                    dep_walk[0, q] = w
                    best_latest[q] = w
                    pw_to[0, q] = d
                    if w > best_dep[q]:
                        best_dep[q] = w
                    marked[q] = True
                    if walk_from_origins and access_s[q] >= 0 and \
                            w - access_s[q] > target_best:
                        target_best = w - access_s[q]
                        result[0] = target_best
                        target_stop[0] = q
                        target_via[0] = 1
    last_pos = np.full((n_patterns, 2), -1, np.int64)
    queue = np.empty(n_patterns, np.int64)
    n_thr = thr.stop_offsets.shape[0] - 1
    thr_last_pos = np.full((n_thr, 2), -1, np.int64)
    thr_queue = np.empty(n_thr, np.int64)
    wk = _work(n_stops, n_patterns, thr, 0)
    improved, is_improved, was_marked = wk.improved, wk.is_improved, wk.was_marked
    was_list = np.empty(n_stops, np.int64)
    n_rt = rt_offsets.shape[0] - 1
    rt_last = np.full(n_rt, -1, np.int64)
    rt_queue = np.empty(n_rt, np.int64)
    for k in range(1, n_rounds):
        if not lb_known and target_best > -INF:  # bounds once an origin is reached
            lb = shortest_times(lb_out_offsets, lb_out_to, lb_out_w, orig, orig_s, False,
                                rt_offsets, rt_stops, rt_arr, rt_dep, rt_sp_offsets, rt_sp_inst,
                                rt_sp_pos, t_end - target_best)
            lb_known = True
        nq = 0
        ntq = 0
        nrq = 0
        n_was = 0
        any_marked = False
        for s in range(n_stops):
            if not marked[s]:
                continue
            any_marked = True
            marked[s] = False
            was_marked[s] = True
            n_was += 1
            was_list[n_was - 1] = s
            if not stop_ok[s]:
                continue
            for e in range(rt_sp_offsets[s], rt_sp_offsets[s + 1]):
                inst = rt_sp_inst[e]
                pos = rt_sp_pos[e]
                if not rt_ok[inst] or not rt_alight_ok[rt_offsets[inst] + pos]:
                    continue
                if rt_last[inst] < 0:
                    rt_queue[nrq] = inst
                    nrq += 1
                    rt_last[inst] = pos
                elif pos > rt_last[inst]:
                    rt_last[inst] = pos
            nq = _enqueue(s, sp_offsets, sp_pattern, sp_pos, False, last_pos, queue, nq)
            ntq = _enqueue(s, thr_sp_offsets, thr_sp_pattern, thr_sp_pos, False, thr_last_pos,
                           thr_queue, ntq)
        if not any_marked:
            break
        n_imp = 0
        n_imp, target_best = _scan_backward_set(
            k, False, tt, tt, queue, last_pos, nq, lab, wk, qry, st, lb, target_best, n_imp)
        n_imp, target_best = _scan_backward_set(
            k, True, thr, tt, thr_queue, thr_last_pos, ntq, lab, wk, qry, st, lb, target_best,
            n_imp)
        for qi in range(nrq):
            inst = rt_queue[qi]
            start = rt_last[inst]
            rt_last[inst] = -1
            o = rt_offsets[inst]
            on = False
            alight_stop = -1
            alight_pos = -1
            for pos in range(start, -1, -1):
                s = rt_stops[o + pos]
                if on and rt_board_ok[o + pos] and stop_ok[s]:
                    d = rt_dep[o + pos]
                    if d > best_dep_trip[s] and d - lb[s] > target_best and d >= horizon:
                        if not is_improved[s]:
                            is_improved[s] = True
                            improved[n_imp] = s
                            n_imp += 1
                        dep_trip[k, s] = d
                        best_dep_trip[s] = d
                        if d > best_dep[s]:
                            best_dep[s] = d
                        pt_trip[k, s] = -2 - inst
                        pt_day[k, s] = -1
                        pt_next_trip[k, s] = -1
                        pt_alight_stop[k, s] = alight_stop
                        pt_alight_pos[k, s] = alight_pos
                        pt_board_pos[k, s] = pos
                        if access_s[s] >= 0 and d - access_s[s] > target_best:
                            target_best = d - access_s[s]
                            result[k] = target_best
                            target_stop[k] = s
                            target_via[k] = 0
                if not on and rt_alight_ok[o + pos] and stop_ok[s]:
                    r = latest[k - 1, s]
                    if r > -INF and r >= rt_arr[o + pos] and r - lb[s] > target_best:
                        on = True
                        alight_stop = s
                        alight_pos = pos
        for i in range(n_was):
            was_marked[was_list[i]] = False
        for i in range(n_imp):
            s = improved[i]
            is_improved[s] = False
            d = dep_trip[k, s]
            rr = d - change_s[s]
            if rr > best_latest[s] and rr - lb[s] > target_best:
                latest[k, s] = rr
                latest_via[k, s] = 0
                best_latest[s] = rr
                marked[s] = True
            for f in range(fpi_offsets[s], fpi_offsets[s + 1]):
                q = fpi_from[f]
                w = d - fpi_duration_s[f]
                # mirror of the forward case: best_dep >= best_latest
                if w > best_latest[q] and w - lb[q] > target_best:
                    dep_walk[k, q] = w
                    pw_to[k, q] = s
                    latest[k, q] = w
                    latest_via[k, q] = 1
                    best_latest[q] = w
                    marked[q] = True
                    if w > best_dep[q]:
                        best_dep[q] = w
                        if walk_from_origins and access_s[q] >= 0 and \
                                w - access_s[q] > target_best:
                            target_best = w - access_s[q]
                            result[k] = target_best
                            target_stop[k] = q
                            target_via[k] = 1
    return result
