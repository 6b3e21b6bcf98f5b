"""The label writers of the RAPTOR rounds (`raptor`): one check of whether a trip's arrival
(in keys: times forward, negated times backward, smaller is better both ways) improves a
stop's or an arrival group's label, and the writers of each.

A label's parents are passed as one tuple `par` (trip, day, from stop, from position, to
position, chain trip, chain stop, chain position, group source): numba passes it in
registers, and a rejected candidate writes nothing.
"""
from __future__ import annotations

from numba import njit

from transit.routing.rule_kernels import group_of

SP_ARR, SP_TRIP, SP_DAY, SP_BSTOP, SP_BPOS, SP_APOS, SP_PTRIP, SP_PBSTOP, SP_PBPOS, SP_SRC = \
    range(10)  # fields of a group label (`transfer_rules`), as the pt_* of a stop's label
SP_FIELDS = 10


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


