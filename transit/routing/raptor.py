"""RAPTOR (round-based public transit routing) compiled with numba, one code path for both
directions, as nigiri's `raptor<SearchDir>`.

Round k takes the k-th trip: it scans every pattern serving a stop improved in round k-1,
rides the first catchable trip along it, then relaxes footpaths. Forward (depart_at) a
search runs from the origins at the query time, labels are arrivals; backward (arrive_by)
from the destinations, labels are departures, patterns are scanned from their end. Labels
are keys, smaller is better both ways: times forward, negated times backward, so the
rounds compare, change and walk alike (a change or a walk adds seconds to a key). A
timetable time becomes a key where it is read (`x if fwd else -x`, `fwd` a loop-invariant
flag), positions are walked in scan order (`u if fwd else last - u`), and the arrays that
differ by direction (footpaths, bounds, the places to board or alight, the next or previous
trip of a block, transfer rules: none backward) are chosen in Python (`kernel_args`).

What keeps it fast:
- once a destination is reached, a label only survives if its key plus a lower bound on
  the time left (`lower_bounds`, a Dijkstra run then, and only as far as needed) still beats
  the best key at an end; the same bound cuts the trip search short;
- the trip search reads each pattern's times position by position
  (`indexes.time_columns`), one short contiguous run, and a stop's patterns come
  pre-filtered to the places where boarding (alighting) is allowed and useful
  (`indexes.stop_places`);
- a pattern scan stops past its last boarding stop while riding nothing;
- no allocation per search: labels and scratch buffers are the caller's, reused.

Times are Unix seconds (int64). A trip instance is (trip, service day); its times are
`tz_reference_utc[trip_tz, day] + st_*`.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from transit.routing import round_labels as rl
from transit.routing.lower_bounds import shortest_times
from transit.routing.rule_kernels import source_ready

# The helpers called from the hot loops, and the scans, are compiled with `_nrt=False`: they
# allocate nothing, and without it numba counts references to every array argument at every
# call (atomic increments), which cost a quarter of a search.

INF = rl.INF
SP_ARR = rl.SP_ARR
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
def _find_trip(fwd, xs, p, pos, tau_key, limit_key, st, e, q, change_s,
               extra):  # pragma: no cover - compiled
    """The first trip instance of pattern p at position pos in the search's direction:
    forward the earliest leaving at or after tau, backward the latest arriving at or before
    it; its key strictly below `limit_key`. Returns (trip, day, key), trip -1 if none.
    `e` >= 0: source e (an arrival group's, at stop q) boards under the transfer rules.
    Times are read position by position (`indexes.time_columns`): one short run."""
    sgn = 1 if fwd else -1  # keys sgn * time: smaller is better
    tau = sgn * tau_key
    lo = xs.trip_offsets[p]
    hi = xs.trip_offsets[p + 1]
    col = xs.dep_col if fwd else xs.arr_col
    c = xs.col_offsets[p] + pos * (hi - lo) - lo  # c + t: trip t's time at pos
    first = lo if fwd else hi - 1  # each day's best trip, and its worst
    last = hi - 1 if fwd else lo
    tz = xs.tz[lo]
    tz_ref = st.tz_ref
    d0 = (tau - tz_ref[tz, 0]) // 86400
    d_first = max(d0 - st.max_days_back - 1, 0)
    d_last = min(d0 + 1, tz_ref.shape[1] - 1)
    best_t = -1
    best_d = -1
    best_key = limit_key
    for i in range(d_last - d_first + 1):
        d = d_first + i if fwd else d_last - i
        base = tz_ref[tz, d]
        local = tau - base
        if sgn * col[c + last] < sgn * local:
            continue  # even this day's last trip (in the search's order) is too soon
        if sgn * (base + col[c + first]) >= best_key:
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
            if sgn * when >= best_key:
                break
            if xs.ok[t] and _active(st.service_days, xs.service, t, d) and not (
                    xs.has_rt[t] and _replaced(xs.masked, t, d)) and (
                    e < 0 or source_ready(st.rules, e, tau, q, xs.trip_of[t], change_s,
                                          extra) <= when):
                best_t = t
                best_d = d
                best_key = sgn * when
                break
            t += sgn
    return best_t, best_d, best_key


@njit(cache=True, nogil=True, _nrt=False)
def _enqueue(s, sp_offsets, sp_pattern, sp_pos, fwd, at, queue,
             nq):  # pragma: no cover - compiled
    """Queue the patterns of stop s's places (see `indexes.stop_places`); `at[p, 0]` keeps
    the first position to scan from (in the search's order) and `at[p, 1]` the last one
    to board (alight) at; -1: not queued. Returns the new queue length."""
    for e in range(sp_offsets[s], sp_offsets[s + 1]):
        p = sp_pattern[e]
        pos = sp_pos[e]
        if at[p, 0] < 0:
            queue[nq] = p
            nq += 1
            at[p, 0] = pos
            at[p, 1] = pos
        elif fwd:
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


@njit(cache=True, nogil=True, _nrt=False)
def _scan_set(fwd, k, through, xs, tt, nq, lab, wk, q, st, lb, target_best, n_imp,
              n_sp):  # pragma: no cover - compiled
    """Scan one set of patterns (the timetable's, or the through trips: a trip and the next
    of its block, seated, as one pattern) in round k; returns the counts of improved stops
    and arrival groups (arrivals some trip-specific rule concerns, whose labels are kept
    apart, see `transfer_rules`) and the best key at an end. `tt` is the timetable (blocks
    are followed on its trips); `lb` bounds from below the time from each stop to an end."""
    queue = wk.thr_queue if through else wk.queue
    at = wk.thr_at if through else wk.at
    for qi in range(nq):
        p = queue[qi]
        if fwd and through and not wk.pat_boarded[xs.base[p]]:
            at[p, 0] = -1
            continue  # no trip of its first trips' pattern could be boarded this round
        n_imp, target_best, n_sp, nb, cur, cur_day, b_stop, b_pos, b_src = _ride(
            fwd, k, through, xs, tt, p, lab, wk, q, st, lb, target_best, n_imp, n_sp)
        if through and cur >= 0 and xs.n_classes[p] > 1:
            nb = _other_classes(fwd, k, xs, tt, p, cur, cur_day, b_stop, b_pos, b_src, lab,
                                wk, q, st, nb)
        for bi in range(nb):
            n_imp, target_best, n_sp = _ride_block(fwd, k, bi, xs, tt, lab, wk, q, st, lb,
                                                   target_best, n_imp, n_sp)
    return n_imp, target_best, n_sp


@njit(cache=True, nogil=True, _nrt=False)
def _ride(fwd, k, through, xs, tt, p, lab, wk, q, st, lb, target_best, n_imp,
          n_sp):  # pragma: no cover - compiled
    """Ride pattern p in scan order from its first queued position (boarding up to the last
    one): label the stops reached, board the first catchable trip at each stop. Returns the
    counts, the best key at an end and the last trip ridden (and where it was entered);
    through trips entered whose block runs on (in the search's direction) are kept in
    `wk.held_*` (their count first)."""
    x_stops, x_st0, onward = xs.stops, xs.st_start, xs.second if fwd else xs.first
    no_leave = xs.dropoff if fwd else xs.pickup  # 1: riders may not get off (on)
    no_enter = xs.pickup if fwd else xs.dropoff
    t_leave = xs.st_arr if fwd else xs.st_dep
    t_enter = xs.st_dep if fwd else xs.st_arr
    stop_ok, rules, ready, best_trip = q.stop_ok, st.rules, lab.ready, lab.best_trip
    in_offsets, g_offsets = rules[12], rules[8]
    any_ruled = in_offsets[in_offsets.shape[0] - 1] > 0  # none backward (no rules)
    any_groups = g_offsets[g_offsets.shape[0] - 1] > 0
    ps0 = xs.stop_offsets[p]
    last = xs.stop_offsets[p + 1] - ps0 - 1
    at = wk.thr_at if through else wk.at
    start = at[p, 0] if fwd else last - at[p, 0]  # positions in scan order from here on
    until = at[p, 1] if fwd else last - at[p, 1]  # no stop to board at after it
    at[p, 0] = -1
    join = -1 if not through else xs.join[p] if fwd else last - xs.join[p]
    cur = -1
    cur_day = -1
    cur_base = np.int64(0)
    b_stop = -1
    b_pos = -1
    b_src = -1
    nb = 0
    for u in range(start, last + 1):
        if cur < 0 and u > until:
            break  # riding nothing, and nowhere left to board
        pos = u if fwd else last - u
        s = x_stops[ps0 + pos]
        if cur >= 0 and u > join and no_leave[ps0 + pos] != 1 and stop_ok[s]:
            a = cur_base + t_leave[x_st0[cur] + pos]
            key = a if fwd else -a
            # `rl.label`'s cheap tests first: a call passing the labels costs at every stop
            if key + lb[s] < target_best and key <= q.horizon and (key < best_trip[s] or (
                    any_groups and g_offsets[s + 1] > g_offsets[s])):
                par = (THR_BASE - cur if through else cur, cur_day, b_stop, b_pos, pos, -1, -1,
                       -1, b_src)
                n_imp, target_best, n_sp = rl.label(k, s, key, onward[cur] if through else cur,
                                                    par, lab, wk, q, rules, lb, target_best,
                                                    n_imp, n_sp)
        if u == last:
            break  # boarding at the last stop goes nowhere
        if through and u >= join:
            if cur < 0:
                break  # nothing boarded before the joint: nothing to ride on
            continue  # past the joint: only riding on
        r = ready[k - 1, s]
        # only labels improved in the last round: an older one was boarded from before
        board_ok = no_enter[ps0 + pos] != 1 and stop_ok[s]
        can_board = wk.was_marked[s] and board_ok
        ruled = any_ruled and board_ok and in_offsets[s + 1] > in_offsets[s]
        if not ruled and not (can_board and r + lb[s] < target_best):
            continue
        cur_enter = INF
        if cur >= 0:
            e = cur_base + t_enter[x_st0[cur] + pos]
            cur_enter = e if fwd else -e
        new_t, new_d, new_src = _board(fwd, k, xs, p, pos, s, can_board, ruled, cur_enter,
                                       lab, q, st, lb, target_best)
        if new_t >= 0:
            cur = new_t
            cur_day = new_d
            cur_base = st.tz_ref[xs.tz[cur], cur_day]
            b_stop = s
            b_pos = pos
            b_src = new_src
            if not through:
                wk.pat_boarded[p] = True
            elif tt.chain[onward[cur]] >= 0:
                nb = _hold(wk, nb, cur, cur_day, s, pos, b_src)
    return n_imp, target_best, n_sp, nb, cur, cur_day, b_stop, b_pos, b_src


@njit(cache=True, nogil=True, _nrt=False)
def _board(fwd, k, xs, p, pos, s, can_board, ruled, cur_enter, lab, q, st, lb,
           target_best):  # pragma: no cover - compiled
    """The trip of pattern p to board (backward: alight from) at position pos (stop s) if
    its key beats `cur_enter` (the one ridden): from the stop's label, or from an arrival
    group's under the transfer rules (`ruled`, forward). Returns (trip, day, group
    source), trip -1 if none."""
    rules = st.rules
    in_offsets = rules[12]
    r = lab.ready[k - 1, s]
    new_t = -1
    new_d = -1
    new_src = -1
    if can_board and r + lb[s] < target_best and r <= cur_enter:
        t, d, when = _find_trip(fwd, xs, p, pos, r, target_best - lb[s], st, -1, s,
                                q.change_s, q.extra)
        if t >= 0 and when < cur_enter:
            new_t = t
            new_d = d
            cur_enter = when
    if ruled:
        # arrivals a trip-specific rule concerns: each group's own earliest trip
        for e in range(in_offsets[s], in_offsets[s + 1]):
            ga = lab.sp[SP_ARR, k - 1, rules[13][e]]
            if ga >= cur_enter or ga + lb[s] >= target_best:
                continue
            t, d, when = _find_trip(fwd, xs, p, pos, ga, min(cur_enter, target_best - lb[s]),
                                    st, e, s, q.change_s, q.extra)
            if t >= 0 and when < cur_enter:
                new_t = t
                new_d = d
                new_src = e
                cur_enter = when
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
def _other_classes(fwd, k, xs, tt, p, cur, cur_day, b_stop, b_pos, b_src, lab, wk, q, st,
                   nb):  # pragma: no cover - compiled
    """The next member after trip `cur` (in the search's order) of each other chain class of
    through pattern p runs on elsewhere: keep it too (`wk.held_*`); returns the new
    count."""
    n_classes, trip_class, class_seen = xs.n_classes, xs.trip_class, wk.class_seen
    onward = xs.second if fwd else xs.first
    rules = st.rules
    for c in range(n_classes[p]):
        class_seen[c] = False
    class_seen[trip_class[cur]] = True
    left = n_classes[p] - 1
    n = xs.trip_offsets[p + 1] - cur - 1 if fwd else cur - xs.trip_offsets[p]
    for i in range(n):
        t2 = cur + 1 + i if fwd else cur - 1 - i
        c = trip_class[t2]
        if class_seen[c] or not xs.ok[t2] or \
                _active(st.service_days, xs.service, t2, cur_day) == 0:
            continue
        if b_src >= 0 and source_ready(
                rules, b_src, lab.sp[SP_ARR, k - 1, rules[13][b_src]],
                b_stop, xs.trip_of[t2], q.change_s, q.extra) > \
                st.tz_ref[xs.tz[t2], cur_day] + xs.st_dep[xs.st_start[t2] + b_pos]:
            continue  # the rules forbid boarding this one where the rider was
        class_seen[c] = True
        if tt.chain[onward[t2]] >= 0:
            nb = _hold(wk, nb, t2, cur_day, b_stop, b_pos, b_src)
        left -= 1
        if left == 0:
            break
    return nb


@njit(cache=True, nogil=True, _nrt=False)
def _ride_block(fwd, k, bi, xs, tt, lab, wk, q, st, lb, target_best, n_imp,
                n_sp):  # pragma: no cover - compiled
    """Seated on along the block (forward: the trips after the through trip held at `bi`;
    backward: those before it)."""
    thr = wk.held_t[bi]
    day = wk.held_d[bi]
    hp = wk.held_pos[bi]
    first = xs.first[thr]
    join = tt.stop_offsets[tt.trip_pattern[first] + 1] - \
        tt.stop_offsets[tt.trip_pattern[first]] - 1
    if hp < join or (not fwd and hp == join):
        root = first
        root_pos = hp
    else:
        root = xs.second[thr]
        root_pos = hp - join
    no_leave = tt.dropoff if fwd else tt.pickup
    t_leave = tt.st_arr if fwd else tt.st_dep
    g_offsets = st.rules[8]
    t2 = tt.chain[xs.second[thr] if fwd else first]
    depth = 0
    while t2 >= 0 and depth < MAX_BLOCK_CHAIN:
        depth += 1
        if not tt.ok[t2] or not _active(st.service_days, tt.service, t2, day):
            break
        if tt.has_rt[t2] and _replaced(tt.masked, t2, day):
            break
        p2 = tt.trip_pattern[t2]
        ps2 = tt.stop_offsets[p2]
        last = tt.stop_offsets[p2 + 1] - ps2 - 1
        base2 = st.tz_ref[tt.tz[t2], day]
        end = 0 if fwd else last  # where the rider came on (forward), went off (backward)
        for u in range(1, last + 1):
            pos2 = u if fwd else last - u
            s = tt.stops[ps2 + pos2]
            if no_leave[ps2 + pos2] == 1 or not q.stop_ok[s]:
                continue
            a = base2 + t_leave[tt.st_start[t2] + pos2]
            key = a if fwd else -a
            if key + lb[s] < target_best and (key < lab.best_trip[s] or
                                              g_offsets[s + 1] > g_offsets[s]):
                par = (t2, day, tt.stops[ps2 + end], end, pos2, root, wk.held_stop[bi],
                       root_pos, wk.held_src[bi])
                n_imp, target_best, n_sp = rl.label(k, s, key, t2, par, lab, wk, q, st.rules,
                                                    lb, target_best, n_imp, n_sp)
        t2 = tt.chain[t2]
    return n_imp, target_best, n_sp


@njit(cache=True, nogil=True, _nrt=False)
def _scan_live(fwd, k, live, nrq, lab, wk, q, st, lb, target_best, n_imp,
               n_sp):  # pragma: no cover - compiled
    """Trip instances as live data has them (delayed, added): each its own pattern."""
    rules = st.rules
    in_offsets = rules[12]
    stop_ok, change_s, extra, ready = q.stop_ok, q.change_s, q.extra, lab.ready
    may_leave = live.alight_ok if fwd else live.board_ok
    may_enter = live.board_ok if fwd else live.alight_ok
    t_leave = live.arr if fwd else live.dep
    t_enter = live.dep if fwd else live.arr
    for qi in range(nrq):
        inst = wk.rt_queue[qi]
        o = live.offsets[inst]
        last = live.offsets[inst + 1] - o - 1
        start = wk.rt_at[inst] if fwd else last - wk.rt_at[inst]
        wk.rt_at[inst] = -1
        on = False
        b_stop = -1
        b_pos = -1
        b_src = -1
        for u in range(start, last + 1):
            pos = u if fwd else last - u
            s = live.stops[o + pos]
            if on and may_leave[o + pos] and stop_ok[s]:
                a = t_leave[o + pos]
                key = a if fwd else -a
                if key + lb[s] < target_best and (key < lab.best_trip[s] or
                                                  rules[8][s + 1] > rules[8][s]):
                    par = (-2 - inst, -1, b_stop, b_pos, pos, -1, -1, -1, b_src)
                    n_imp, target_best, n_sp = rl.label(k, s, key, live.trip[inst], par, lab, wk,
                                                        q, rules, lb, target_best, n_imp, n_sp)
            if not on and may_enter[o + pos] and stop_ok[s]:
                r = ready[k - 1, s]
                e_t = t_enter[o + pos]
                if r < INF and r <= (e_t if fwd else -e_t) and r + lb[s] < target_best:
                    on = True
                    b_stop = s
                    b_pos = pos
                    continue
                for e in range(in_offsets[s], in_offsets[s + 1]):
                    ga = lab.sp[SP_ARR, k - 1, rules[13][e]]
                    if ga < INF and ga + lb[s] < target_best and source_ready(
                            rules, e, ga, s, live.trip[inst], change_s, extra) <= e_t:
                        on = True
                        b_stop = s
                        b_pos = pos
                        b_src = e
                        break
    return n_imp, target_best, n_sp


@njit(cache=True, nogil=True)
def rounds(fwd, tt, thr, live, qry, fp, bounds, st, lab, wk,
           seeds):  # pragma: no cover - compiled
    """One search in either direction, from `qry.starts` at key `qry.time` (forward: the
    origins at the departure time; backward: the destinations at minus the arrival time),
    over `fp` (outgoing footpaths forward, incoming backward) with bounds towards the ends
    (`bounds`). Fills `lab` (keys, see the module) and returns per round the best key at an
    end (`qry.end_s` >= 0), INF where none improved. `wk` holds scratch buffers whose
    contents each search leaves as it found them (`marked` aside, cleared here).

    Once an end is reached, labels that cannot beat it even at the lower-bound time from
    their stop are dropped.

    Trip- and route-specific transfer rules (`st.rules`, forward: a backward search gets
    tables without rules, see `transfer_rules`): arrivals they may concern set the labels of
    their arrival group (`lab.sp`, fields SP_*, and `lab.sp_best`) instead of their stop's;
    boarding from a group asks the rules for each trip; `lab.pt_board_src` (and SP_SRC) keep
    the group source boarded from (-1: the stop's label), `lab.target_src` the group of a
    round's best arrival when target_via is 3 (at the group's stop) or 4 (walked from it).

    `seeds` (forward; rows of SEED_FIELDS) start a rider aboard a trip instance: each row is
    an arrival of that trip (or of a block continuation, seated) at a stop where the rider
    may get off, set as a round-1 trip label (its stop's, or its arrival group's under the
    rules) before round 1's changes and walks; no origins then."""
    marked = wk.marked
    marked[:] = False
    ends = np.flatnonzero(qry.end_s >= 0)
    ends_s = qry.end_s[ends]
    lb = wk.lb  # no bound until an end is reached
    lb[:] = 0
    lb_known = False
    target_best = rl.start_labels(lab, qry, fp, marked)
    for k in range(1, lab.by_trip.shape[0]):
        if not lb_known and target_best != INF:  # bounds once an end is reached
            lb = shortest_times(bounds.offsets, bounds.other, bounds.w, ends, ends_s, fwd,
                                live.offsets, live.stops, live.arr, live.dep, live.sp_offsets,
                                live.sp_inst, live.sp_pos, target_best - qry.time)
            lb_known = True
        nq, ntq, nrq, n_was = _queue_patterns(fwd, tt, thr, live, qry.stop_ok, wk)
        if n_was == 0 and not (k == 1 and seeds.shape[0] > 0):
            break
        # the timetable's patterns, then the through trips, then live instances
        n_imp, target_best, n_sp = _scan_set(fwd, k, False, tt, tt, nq, lab, wk, qry, st, lb,
                                             target_best, 0, 0)
        n_imp, target_best, n_sp = _scan_set(fwd, k, True, thr, tt, ntq, lab, wk, qry, st, lb,
                                             target_best, n_imp, n_sp)
        n_imp, target_best, n_sp = _scan_live(fwd, k, live, nrq, lab, wk, qry, st, lb,
                                              target_best, n_imp, n_sp)
        for qi in range(nq):
            wk.pat_boarded[wk.queue[qi]] = False
        for i in range(n_was):
            wk.was_marked[wk.was_list[i]] = False
        if k == 1 and seeds.shape[0] > 0:
            n_imp, target_best, n_sp = rl.seed_labels(seeds, lab, wk, qry, st, target_best,
                                                    n_imp, n_sp)
        target_best = rl.relax(k, lab, wk, qry, fp, lb, target_best, n_imp)
        target_best = rl.group_ends(k, lab, wk, qry, fp, st, target_best, n_sp)
    return lab.result


@njit(cache=True, nogil=True, _nrt=False)
def _queue_patterns(fwd, tt, thr, live, stop_ok, wk):  # pragma: no cover - compiled
    """The patterns (and live instances) to scan in a round, from their first marked stop
    in the search's order; the marked stops become `wk.was_marked`. Returns the queue
    lengths and the count of stops marked."""
    marked, rt_at = wk.marked, wk.rt_at
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
        wk.was_list[n_was] = s
        n_was += 1
        if not stop_ok[s]:
            continue
        for e in range(live.sp_offsets[s], live.sp_offsets[s + 1]):
            inst = live.sp_inst[e]
            pos = live.sp_pos[e]
            if not live.ok[inst] or not enter_ok[live.offsets[inst] + pos]:
                continue
            if rt_at[inst] < 0:
                wk.rt_queue[nrq] = inst
                nrq += 1
                rt_at[inst] = pos
            elif (pos < rt_at[inst]) if fwd else (pos > rt_at[inst]):
                rt_at[inst] = pos
        nq = _enqueue(s, tt.sp_offsets, tt.sp_pattern, tt.sp_pos, fwd, wk.at, wk.queue, nq)
        ntq = _enqueue(s, thr.sp_offsets, thr.sp_pattern, thr.sp_pos, fwd, wk.thr_at,
                       wk.thr_queue, ntq)
    return nq, ntq, nrq, n_was
