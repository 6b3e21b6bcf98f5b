"""The label writers of the RAPTOR rounds (`raptor`), in keys (times forward, negated
times backward: smaller is better both ways, so a change or a walk adds seconds to a key):
one check of whether a trip's arrival improves a stop's or an arrival group's label and
the writers of each; round 0 at the starts; the changes and walks after each round's trips;
the ends reached from arrival groups; a rider's trip as round-1 labels (seeds).

A trip label's parents are passed as one tuple `par` (trip, day, from stop, from position,
to position, chain trip, chain stop, chain position, group source): numba passes it in
registers, and a rejected candidate writes nothing.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from transit.routing.rule_kernels import group_of

INF = np.int64(1) << 62

SP_ARR, SP_TRIP, SP_DAY, SP_BSTOP, SP_BPOS, SP_APOS, SP_PTRIP, SP_PBSTOP, SP_PBPOS, SP_SRC = \
    range(10)  # fields of a group label (`transfer_rules`), as the pt_* of a stop's label
SP_FIELDS = 10
(SEED_STOP, SEED_ARR, SEED_RULE_TRIP, SEED_TRIP, SEED_DAY, SEED_BSTOP, SEED_BPOS, SEED_APOS,
 SEED_PTRIP, SEED_PBSTOP, SEED_PBPOS) = range(11)  # fields of a seed row (`raptor.rounds`)
SEED_FIELDS = 11


@njit(cache=True, nogil=True, _nrt=False)
def label(k, s, key, rule_trip, par, lab, wk, q, rules, lb, target_best, n_imp,
          n_sp):  # pragma: no cover - compiled
    """Stop s reached at `key` in round k by a trip (`rule_trip`, the timetable trip the
    transfer rules see): set its arrival group's label when some rule concerns it, else its
    stop's, when that improves and may still beat the best key at an end (`target_best`,
    through the bound `lb`). Returns the counts of improved stops and groups, and the best
    key at an end."""
    if key + lb[s] >= target_best or key > q.horizon:
        return n_imp, target_best, n_sp
    g_offsets = rules[8]
    g = -1 if g_offsets[s + 1] == g_offsets[s] else group_of(rules, s, rule_trip)
    if g >= 0:
        n_sp = sp_label(lab, wk, n_sp, k, g, key, par)
    elif key < lab.best_trip[s]:
        n_imp, target_best = trip_label(k, s, key, lab, wk, q.end_s, target_best, n_imp, par)
    return n_imp, target_best, n_sp


@njit(cache=True, nogil=True, _nrt=False)
def sp_label(lab, wk, n_sp, k, g, a, par):  # pragma: no cover - compiled
    """Set group g's label of round k to an arrival at `a` (when it beats the group's
    best); returns the count of groups improved in this round."""
    sp, sp_best, sp_list, sp_is = lab.sp, lab.sp_best, wk.sp_list, wk.sp_is
    if a >= sp_best[g]:
        return n_sp
    sp_best[g] = a
    sp[SP_ARR, k, g] = a
    sp[SP_TRIP, k, g] = par[0]
    sp[SP_DAY, k, g] = par[1]
    sp[SP_BSTOP, k, g] = par[2]
    sp[SP_BPOS, k, g] = par[3]
    sp[SP_APOS, k, g] = par[4]
    sp[SP_PTRIP, k, g] = par[5]
    sp[SP_PBSTOP, k, g] = par[6]
    sp[SP_PBPOS, k, g] = par[7]
    sp[SP_SRC, k, g] = par[8]
    if not sp_is[g]:
        sp_is[g] = True
        sp_list[n_sp] = g
        n_sp += 1
    return n_sp


@njit(cache=True, nogil=True, _nrt=False)
def trip_label(k, s, a, lab, wk, end_s, target_best, n_imp,
               par):  # pragma: no cover - compiled
    """A trip label (the caller checked that it improves): stop s reached at key `a` in
    round k; returns the count of improved stops and the best key at an end. The chain
    fields are written only for a ride seated along a block (`par[5]` >= 0)."""
    if not wk.is_improved[s]:
        wk.is_improved[s] = True
        wk.improved[n_imp] = s
        n_imp += 1
    lab.by_trip[k, s] = a
    lab.best_trip[s] = a
    if a < lab.best[s]:
        lab.best[s] = a
    lab.pt_trip[k, s] = par[0]
    lab.pt_day[k, s] = par[1]
    lab.pt_from_stop[k, s] = par[2]
    lab.pt_from_pos[k, s] = par[3]
    lab.pt_to_pos[k, s] = par[4]
    lab.pt_chain_trip[k, s] = par[5]
    if par[5] >= 0:
        lab.pt_chain_stop[k, s] = par[6]
        lab.pt_chain_pos[k, s] = par[7]
    lab.pt_board_src[k, s] = par[8]
    if end_s[s] >= 0 and a + end_s[s] < target_best:
        target_best = a + end_s[s]
        lab.result[k] = target_best
        lab.target_stop[k] = s
        lab.target_via[k] = 0
    return n_imp, target_best


@njit(cache=True, nogil=True, _nrt=False)
def _improve_ready(k, q, key, via, parent, lab, marked):  # pragma: no cover - compiled
    """Stop q ready at `key` in round k, by a walk (via 1, from `parent`; -1 at a start: via
    2) or a change (via 0), when that beats its best (the caller checked). Returns whether
    the key is also the stop's best (a walk's: a change's is never below its trip's)."""
    lab.ready[k, q] = key
    lab.via[k, q] = via
    lab.best_ready[q] = key
    marked[q] = True
    if via == 0:
        return False
    lab.by_walk[k, q] = key
    lab.pw[k, q] = parent
    if key < lab.best[q]:
        lab.best[q] = key
        return True
    return False


@njit(cache=True, nogil=True, _nrt=False)
def _end_at(k, q, key, qry, lab, target_best):  # pragma: no cover - compiled
    """A walk (or a start) reaching stop q at `key` in round k: the best key at an end."""
    end_s = qry.end_s
    if end_s[q] >= 0 and key + end_s[q] < target_best:
        target_best = key + end_s[q]
        lab.result[k] = target_best
        lab.target_stop[k] = q
        lab.target_via[k] = 1
    return target_best


@njit(cache=True, nogil=True, _nrt=False)
def start_labels(lab, qry, fp, marked):  # pragma: no cover - compiled
    """Round 0: at the starts, and a footpath away from them. Returns the best key so far
    at an end (labels kept from an earlier search count)."""
    best, best_ready, end_s = lab.best, lab.best_ready, qry.end_s
    target_best = INF
    for s in range(end_s.shape[0]):
        if end_s[s] >= 0 and best[s] < INF and best[s] + end_s[s] < target_best:
            target_best = best[s] + end_s[s]
    for i in range(qry.starts.shape[0]):
        o = qry.starts[i]
        t = qry.time + qry.start_s[i]
        if t < best_ready[o]:
            _improve_ready(0, o, t, 2, -1, lab, marked)
            target_best = _end_at(0, o, t, qry, lab, target_best)
    if not qry.walk_from_starts:
        return target_best
    for o in qry.starts:
        if not marked[o] or lab.via[0, o] != 2:
            continue
        for f in range(fp.offsets[o], fp.offsets[o + 1]):
            q = fp.other[f]
            w = lab.by_walk[0, o] + fp.duration_s[f]
            if w < best_ready[q] and w < target_best:
                _improve_ready(0, q, w, 1, o, lab, marked)
                if qry.walk_to_ends:
                    target_best = _end_at(0, q, w, qry, lab, target_best)
    return target_best


@njit(cache=True, nogil=True, _nrt=False)
def relax(k, lab, wk, qry, fp, lb, target_best, n_imp):  # pragma: no cover - compiled
    """Change at each stop a trip improved in round k, then walk from it (written out, not
    through `_improve_ready`: a call passing the labels costs at every walk)."""
    best, best_ready, ready, marked, end_s = lab.best, lab.best_ready, lab.ready, wk.marked, \
        qry.end_s
    for i in range(n_imp):
        s = wk.improved[i]
        wk.is_improved[s] = False
        a = lab.by_trip[k, s]
        rr = a + qry.change_s[s]
        if rr < best_ready[s] and rr + lb[s] < target_best:
            ready[k, s] = rr
            lab.via[k, s] = 0
            best_ready[s] = rr
            marked[s] = True
        for f in range(fp.offsets[s], fp.offsets[s + 1]):
            q = fp.other[f]
            w = a + fp.duration_s[f]
            # a walk arriving no sooner than a trip did may still be ready sooner than
            # that trip's arrival plus the change time (best <= best_ready)
            if w < best_ready[q] and w + lb[q] < target_best:
                lab.by_walk[k, q] = w
                lab.pw[k, q] = s
                ready[k, q] = w
                lab.via[k, q] = 1
                best_ready[q] = w
                marked[q] = True
                if w < best[q]:
                    best[q] = w
                    if qry.walk_to_ends and end_s[q] >= 0 and w + end_s[q] < target_best:
                        target_best = w + end_s[q]
                        lab.result[k] = target_best
                        lab.target_stop[k] = q
                        lab.target_via[k] = 1
    return target_best


@njit(cache=True, nogil=True, _nrt=False)
def group_ends(k, lab, wk, qry, fp, st, target_best,
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
            wk.marked[out_stop[j]] = True
    return target_best


@njit(cache=True, nogil=True, _nrt=False)
def seed_labels(seeds, lab, wk, qry, st, target_best, n_imp,
                 n_sp):  # pragma: no cover - compiled
    """Aboard a trip: its arrivals where the rider may get off, as round-1 labels."""
    no_bound = wk.lb  # all zeros in round 1 (no end reached before a seeded search)
    for i in range(seeds.shape[0]):
        row = seeds[i]
        par = (row[SEED_TRIP], row[SEED_DAY], row[SEED_BSTOP], row[SEED_BPOS], row[SEED_APOS],
               row[SEED_PTRIP], row[SEED_PBSTOP], row[SEED_PBPOS], np.int64(-1))
        n_imp, target_best, n_sp = label(1, row[SEED_STOP], row[SEED_ARR],
                                         row[SEED_RULE_TRIP], par, lab, wk, qry, st.rules,
                                         no_bound, target_best, n_imp, n_sp)
    return n_imp, target_best, n_sp
