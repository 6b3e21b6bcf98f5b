"""Journeys through a place (`via`), staying there at least a while.

Two searches joined at the via place: depart_at finds the ways to reach it, then for each
the ways on from where it arrives, once the stay is over (arrive_by mirrors it from the
destination). Reaching the via place earlier, or with fewer trips, is never worse (a later
journey on can always be caught by waiting), so joining the Pareto-optimal first parts with
the Pareto-optimal second parts gives the Pareto set of the whole.
"""

from __future__ import annotations

from dataclasses import replace

from transit.routing import search as engine


def plan_via(searcher: engine.Searcher, q: engine.Query, via: list[int], stay_s: int,
             arrive_by: bool) -> list[engine.Journey]:
    trips_allowed = q.max_transfers + 1
    change = searcher.net.stop_change_s
    out: list[engine.Journey] = []

    def pause(stop: int, after_trip: bool) -> int:
        """The stay, and at least the change time when it joins two vehicles."""
        return max(stay_s, int(change[stop]) + q.extra_change_s) if after_trip else stay_s

    if not arrive_by:
        firsts = searcher.depart_at(replace(q, destinations=[(s, 0) for s in via],
                                            walk_to_destinations=True))
        for a in firsts:
            left = trips_allowed - a.trips
            if left < 1:
                continue
            rest = replace(q, origins=[(a.last_stop, 0)],
                           time=a.arrival + pause(a.last_stop, bool(a.legs) and
                                                  a.legs[-1].kind == "trip"),
                           max_transfers=left - 1, walk_from_origins=True)
            out.extend(_join(a, b) for b in searcher.depart_at(rest))
    else:
        seconds = searcher.arrive_by(replace(q, origins=[(s, 0) for s in via],
                                             walk_from_origins=True))
        for b in seconds:
            left = trips_allowed - b.trips
            if left < 1:
                continue
            boards = bool(b.legs) and b.legs[0].kind == "trip"
            first = replace(q, destinations=[(b.first_stop, 0)],
                            time=b.departure - pause(b.first_stop, boards),
                            max_transfers=left - 1, walk_to_destinations=True)
            out.extend(_join(a, b) for a in searcher.arrive_by(first))
    return [j for j in out if j.trips > 0]


def _join(a: engine.Journey, b: engine.Journey) -> engine.Journey:
    return engine.Journey(a.legs + b.legs, a.first_stop, b.last_stop, a.departure, b.arrival,
                          a.trips + b.trips)
