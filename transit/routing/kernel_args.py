"""The kernels' arguments, grouped: named tuples of arrays that numba takes as one argument
each (an attribute read compiles to the array itself, at no cost in the hot loops).

Direction-specific arrays are chosen in Python (the places where a stop may be boarded
forward or alighted at backward, the next or previous trip of a block, the chain classes
of the through trips after or before), so a kernel reads the same field in both directions.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


class PatternSet(NamedTuple):
    """A set of patterns and their trips: the timetable's, or the through trips' (a trip and
    the next of its block, seated, as one pattern). Fields a set does not use hold empty
    arrays of the other set's type."""

    stop_offsets: np.ndarray  # per pattern, into stops / pickup / dropoff
    stops: np.ndarray
    pickup: np.ndarray
    dropoff: np.ndarray
    trip_offsets: np.ndarray  # per pattern, its trips (sorted by time at every position)
    st_start: np.ndarray  # per trip, into st_arr / st_dep
    st_arr: np.ndarray
    st_dep: np.ndarray
    tz: np.ndarray  # per trip
    service: np.ndarray  # per trip
    ok: np.ndarray  # per trip: passes the query's filters (and runs as scheduled)
    has_rt: np.ndarray  # per trip: some instance replaced by live data
    masked: np.ndarray  # the replaced instances (trip * 65536 + day), sorted
    col_offsets: np.ndarray  # times position by position (`indexes.time_columns`)
    dep_col: np.ndarray
    arr_col: np.ndarray
    sp_offsets: np.ndarray  # per stop, the places to board (forward) or alight (backward)
    sp_pattern: np.ndarray
    sp_pos: np.ndarray
    trip_of: np.ndarray  # per trip, the timetable trip the transfer rules see
    trip_pattern: np.ndarray  # timetable: per trip, its pattern
    chain: np.ndarray  # timetable: per trip, the next (forward) or previous trip of its block
    join: np.ndarray  # through: per pattern, the position where the second trip starts
    base: np.ndarray  # through: per pattern, the timetable pattern of its first trips
    first: np.ndarray  # through: per trip, its first and second timetable trips
    second: np.ndarray
    n_classes: np.ndarray  # through: per pattern, chain classes after (before) it
    trip_class: np.ndarray  # through: per trip, its chain class


class Live(NamedTuple):
    """Live trip instances (`LiveTrips.kernel_args`), each its own pattern."""

    trip_has_rt: np.ndarray
    masked: np.ndarray
    offsets: np.ndarray
    stops: np.ndarray
    arr: np.ndarray
    dep: np.ndarray
    board_ok: np.ndarray
    alight_ok: np.ndarray
    ok: np.ndarray
    sp_offsets: np.ndarray
    sp_inst: np.ndarray
    sp_pos: np.ndarray
    trip: np.ndarray  # per instance, its timetable trip (-1: added)


class Footpaths(NamedTuple):
    """Footpaths in the search's direction: outgoing forward, incoming backward."""

    offsets: np.ndarray
    other: np.ndarray  # the stop at the other end
    duration_s: np.ndarray


class Bounds(NamedTuple):
    """The graph of lower bounds (`lower_bounds`), towards the targets."""

    offsets: np.ndarray
    other: np.ndarray
    w: np.ndarray


class Query(NamedTuple):
    """One search: where it starts (origins forward, destinations backward), where it ends
    (`end_s` per stop, -1: not an end), when, and its filters."""

    starts: np.ndarray
    start_s: np.ndarray  # per start, seconds to walk there (from there)
    time: np.int64
    walk_from_starts: bool
    walk_to_ends: bool
    end_s: np.ndarray
    horizon: np.int64
    change_s: np.ndarray
    stop_ok: np.ndarray
    extra: np.int64
    # per round k, a key at an end the search need not reach (range queries: the best of
    # the later departures' journeys within k rounds); +-INF: none
    prior: np.ndarray


class Static(NamedTuple):
    """Timetable-wide arrays the rounds read besides the patterns."""

    service_days: np.ndarray
    tz_ref: np.ndarray
    max_days_back: np.int64
    rules: tuple  # type: ignore[type-arg]  # `transfer_rules.TABLE_FIELDS`


def empty_like_set(a: np.ndarray) -> np.ndarray:
    """An empty array of a's type (a field a pattern set does not use)."""
    out = np.zeros(1, a.dtype)
    out.setflags(write=a.flags.writeable)
    return out


class Labels(NamedTuple):
    """A search's labels per round, and the parents of each to rebuild journeys. Forward:
    arrivals, and a ride's "from" is where it was boarded; backward: departures, and its
    "from" is where it was left (the search runs from the end)."""

    by_trip: np.ndarray  # per round and stop: reached by a trip
    by_walk: np.ndarray  # reached by a walk (or at a start, round 0)
    ready: np.ndarray  # ready for the next trip (after the change, or the walk)
    best: np.ndarray  # per stop, over the rounds: by_trip or by_walk
    best_trip: np.ndarray
    best_ready: np.ndarray
    pt_trip: np.ndarray  # the trip ridden (THR_BASE - i: through trip i; -2 - i: live i)
    pt_day: np.ndarray
    pt_from_stop: np.ndarray
    pt_from_pos: np.ndarray
    pt_to_pos: np.ndarray
    pt_chain_trip: np.ndarray  # seated along a block: the trip it started on (ends on)
    pt_chain_stop: np.ndarray
    pt_chain_pos: np.ndarray
    pw: np.ndarray  # the stop walked from (to)
    via: np.ndarray  # ready: 0 changed after a trip, 1 walked, 2 a start
    target_stop: np.ndarray  # per round, the end stop of its best journey
    target_via: np.ndarray
    sp: np.ndarray  # arrival groups' labels (forward, transfer rules)
    sp_best: np.ndarray
    pt_board_src: np.ndarray
    target_src: np.ndarray
    result: np.ndarray  # per round, the best time at an end (+-INF: none better)


class Work(NamedTuple):
    """Scratch buffers of one search (contents meaningless between calls)."""

    improved: np.ndarray  # stops improved by a trip in this round
    is_improved: np.ndarray
    was_marked: np.ndarray  # improved in the previous round
    pat_boarded: np.ndarray  # per timetable pattern: a trip boarded in this round
    held_t: np.ndarray  # through trips boarded (alighted) along a pattern
    held_d: np.ndarray
    held_stop: np.ndarray
    held_pos: np.ndarray
    held_src: np.ndarray
    class_seen: np.ndarray
    sp_list: np.ndarray  # arrival groups improved in this round
    sp_is: np.ndarray
