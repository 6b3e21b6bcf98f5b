"""TripUpdates applied to the timetable: matching, propagation, cancellations, added trips.

The rules are those of ../shared/docs/gtfs-realtime-consumer.md: match by trip_id and
start_date (the service day, also past midnight), frequency trips by start_time, or by
route/direction/start_date/start_time; `time` wins over `delay`; a delay propagates
downstream (also across SKIPPED stops) until the next update; NO_DATA propagates "no
prediction"; times that would run backwards are repaired monotonically; platform changes
come as assigned_stop_id or as a sibling platform of the same station. One bad entity is
counted by reason and skipped; the rest of the feed applies.
"""

from __future__ import annotations

import itertools
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
from google.transit import gtfs_realtime_pb2 as pb

from transit.realtime.overlay import (
    NO_TIME,
    STOP_NO_DATA,
    STOP_SCHEDULED,
    STOP_SKIPPED,
    FeedResult,
    FeedStatus,
    TripLive,
)
from transit.timetable.timetable import Timetable

TD = pb.TripDescriptor
_HMS = re.compile(r"^\s*(\d{1,3}):([0-5]\d):([0-5]\d)\s*$")
STU = pb.TripUpdate.StopTimeUpdate


class Reject(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def _seconds(hms: str) -> int | None:
    m = _HMS.match(hms)
    return None if m is None else int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3])


def _day(tt: Timetable, start_date: str) -> int:
    try:
        d = datetime.strptime(start_date, "%Y%m%d").date()
    except ValueError:
        raise Reject("invalid start_date", f"start_date {start_date!r}") from None
    return tt.day_of(d)


def _local_day(tt: Timetable, op: str, now: int) -> int:
    """Today's service day in the operator's time zone (its first agency's)."""
    agencies = np.flatnonzero(np.asarray(tt.agency_operator) == tt.operator_index[op])
    tz = tt.timezones[int(tt.agency_tz[int(agencies[0])])] if len(agencies) else "UTC"
    return tt.day_of(datetime.fromtimestamp(now, ZoneInfo(tz)).date())


def _first_dep(tt: Timetable, t: int) -> int:
    return int(tt.st_dep[int(tt.trip_st_start[t])])


def _guess_day(tt: Timetable, t: int, now: int) -> int:
    """Without start_date: the active service day whose run of the trip is nearest now."""
    tz = int(tt.trip_tz[t])
    d0 = int((now - int(tt.tz_reference_utc[tz, 0])) // 86400)
    best, best_gap = -1, None
    for d in range(d0 - tt.max_days_back, d0 + 2):
        if not tt.runs_on(t, d):
            continue
        lo, hi = tt.pattern_range(t)
        st0 = int(tt.trip_st_start[t])
        base = int(tt.tz_reference_utc[tz, d])
        start = base + int(tt.st_dep[st0])
        end = base + int(tt.st_arr[st0 + hi - lo - 1])
        gap = 0 if start <= now <= end else min(abs(now - start), abs(now - end))
        if best_gap is None or gap < best_gap:
            best, best_gap = d, gap
    if best < 0:
        raise Reject("no service on date", f"trip {tt.strings('trip_id')[t]} runs on no day "
                     "near the feed time")
    return best


def _match(tt: Timetable, op: str, desc: pb.TripDescriptor, now: int) -> tuple[int, int]:
    """(trip, service day) of a descriptor, or Reject."""
    if desc.trip_id:
        tid = f"{op}:{desc.trip_id}"
        t = tt.trip_index.get(tid)
        if t is None and desc.start_time:
            secs = _seconds(desc.start_time)
            if secs is not None:
                t = tt.trip_index.get(f"{tid}@{secs // 3600:02d}:{secs // 60 % 60:02d}:"
                                      f"{secs % 60:02d}")
        if t is None:
            raise Reject("trip not found", f"trip_id {desc.trip_id!r}")
    elif desc.route_id and desc.start_date and desc.start_time:
        t = _match_by_route(tt, op, desc)
    else:
        raise Reject("trip not found", "descriptor without trip_id nor route_id + "
                     "start_date + start_time")
    if desc.start_date:
        d = _day(tt, desc.start_date)
        if not tt.runs_on(t, d):
            raise Reject("no service on date", f"trip {desc.trip_id or t} does not run on "
                         f"{desc.start_date}")
        return t, d
    return t, _guess_day(tt, t, now)


def _match_by_route(tt: Timetable, op: str, desc: pb.TripDescriptor) -> int:
    rid = f"{op}:{desc.route_id}"
    routes = tt.strings("route_id").to_list()
    if rid not in routes:
        raise Reject("trip not found", f"route_id {desc.route_id!r}")
    r = routes.index(rid)
    secs = _seconds(desc.start_time)
    d = _day(tt, desc.start_date)
    cand = np.flatnonzero(np.asarray(tt.trip_route) == r)
    found = [int(t) for t in cand
             if _first_dep(tt, int(t)) == secs and tt.runs_on(int(t), d)
             and (not desc.HasField("direction_id")
                  or int(tt.trip_direction[int(t)]) == desc.direction_id)]
    if len(found) != 1:
        raise Reject("trip not found" if not found else "ambiguous trip",
                     f"route {desc.route_id} {desc.start_date} {desc.start_time}: "
                     f"{len(found)} trips")
    return found[0]


def _positions(tt: Timetable, op: str, t: int, updates: list[STU]
               ) -> list[tuple[int, STU, int]]:
    """(position, update, assigned stop or -1), in trip order."""
    lo, hi = tt.pattern_range(t)
    n = hi - lo
    st0 = int(tt.trip_st_start[t])
    seqs = [int(x) for x in tt.st_seq[st0:st0 + n]]
    stops = [int(x) for x in tt.pattern_stops[lo:hi]]
    parent = tt.stop_parent
    out: list[tuple[int, STU, int]] = []
    for u in updates:
        assigned = -1
        if u.HasField("stop_sequence"):
            if u.stop_sequence not in seqs:
                raise Reject("invalid stop sequence", f"stop_sequence {u.stop_sequence}")
            pos = seqs.index(u.stop_sequence)
            if u.stop_id:
                s = tt.stop_index.get(f"{op}:{u.stop_id}")
                if s is None:
                    raise Reject("unknown stop", f"stop_id {u.stop_id!r}")
                if s != stops[pos]:
                    if parent[s] >= 0 and parent[s] == parent[stops[pos]]:
                        assigned = s
                    else:
                        raise Reject("stop mismatch", f"stop_sequence {u.stop_sequence} is "
                                     f"not stop {u.stop_id!r}")
        elif u.stop_id:
            s = tt.stop_index.get(f"{op}:{u.stop_id}")
            if s is None:
                raise Reject("unknown stop", f"stop_id {u.stop_id!r}")
            hits = [i for i, x in enumerate(stops) if x == s]
            if not hits and parent[s] >= 0:  # NMBS: another platform of the same station
                hits = [i for i, x in enumerate(stops) if parent[x] == parent[s]]
                assigned = s
            if len(hits) != 1:
                raise Reject("stop mismatch" if not hits else "stop visited twice",
                             f"stop_id {u.stop_id!r}")
            pos = hits[0]
        else:
            raise Reject("invalid stop sequence", "stop_time_update without stop_sequence "
                         "nor stop_id")
        if u.HasField("stop_time_properties") and u.stop_time_properties.assigned_stop_id:
            a = tt.stop_index.get(f"{op}:{u.stop_time_properties.assigned_stop_id}")
            if a is None:
                raise Reject("unknown stop", "assigned_stop_id "
                             f"{u.stop_time_properties.assigned_stop_id!r}")
            assigned = a
        out.append((pos, u, assigned))
    out.sort(key=lambda x: x[0])
    if any(a[0] == b[0] for a, b in itertools.pairwise(out)):
        raise Reject("invalid stop sequence", "two updates for one stop")
    return out


def _event_time(ev: pb.TripUpdate.StopTimeEvent, scheduled: int) -> int | None:
    if ev.HasField("time") and ev.time > 0:
        return int(ev.time)
    if ev.HasField("delay"):
        return scheduled + int(ev.delay)
    return None


def _scheduled(tt: Timetable, t: int, day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lo, hi = tt.pattern_range(t)
    st0 = int(tt.trip_st_start[t])
    base = int(tt.tz_reference_utc[int(tt.trip_tz[t]), day])
    arr = base + np.asarray(tt.st_arr[st0:st0 + hi - lo], dtype=np.int64)
    dep = base + np.asarray(tt.st_dep[st0:st0 + hi - lo], dtype=np.int64)
    return np.asarray(tt.pattern_stops[lo:hi], dtype=np.int64).copy(), arr, dep


def propagate(sched_arr: np.ndarray, sched_dep: np.ndarray,
              updates: list[tuple[int, STU, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(sched_arr)
    rt_arr = np.full(n, NO_TIME, np.int64)
    rt_dep = np.full(n, NO_TIME, np.int64)
    status = np.full(n, STOP_SCHEDULED, np.int8)
    by_pos = {p: u for p, u, _ in updates}
    delay: int | None = None
    prev_dep: int | None = None
    for i in range(n):
        u = by_pos.get(i)
        a = d = None
        if u is not None:
            if u.schedule_relationship == STU.NO_DATA:
                delay = None
                status[i] = STOP_NO_DATA
                prev_dep = None
                continue
            if u.schedule_relationship == STU.SKIPPED:
                status[i] = STOP_SKIPPED
                continue  # the delay runs on past a skipped stop
            a = _event_time(u.arrival, int(sched_arr[i])) if u.HasField("arrival") else None
            d = _event_time(u.departure, int(sched_dep[i])) if u.HasField("departure") \
                else None
            if a is None and d is None:
                if delay is None:
                    continue
                a, d = int(sched_arr[i]) + delay, int(sched_dep[i]) + delay
            elif a is None:
                assert d is not None
                a = min(d, int(sched_arr[i]) + (delay if delay is not None
                                                else d - int(sched_dep[i])))
            elif d is None:
                d = max(a, int(sched_dep[i]) + (a - int(sched_arr[i])))
            delay = d - int(sched_dep[i])
        elif delay is not None:
            a, d = int(sched_arr[i]) + delay, int(sched_dep[i]) + delay
        if a is None or d is None:
            continue
        if prev_dep is not None and a < prev_dep:  # no time travel: repair monotonically
            a = prev_dep
        d = max(d, a)
        rt_arr[i], rt_dep[i] = a, d
        prev_dep = d
    return rt_arr, rt_dep, status


def _added(tt: Timetable, op: str, tu: pb.TripUpdate, now: int, ts: int) -> TripLive:
    desc = tu.trip
    stops, arr, dep = [], [], []
    for u in tu.stop_time_update:
        s = tt.stop_index.get(f"{op}:{u.stop_id}") if u.stop_id else None
        if s is None:
            raise Reject("unknown stop", f"added trip stop_id {u.stop_id!r}")
        a = u.arrival.time if u.HasField("arrival") and u.arrival.time else None
        d = u.departure.time if u.HasField("departure") and u.departure.time else None
        if a is None and d is None:
            raise Reject("added trip without times", f"stop {u.stop_id!r}")
        stops.append(s)
        arr.append(int(a if a is not None else d))
        dep.append(int(d if d is not None else a))
    if len(stops) < 2:
        raise Reject("added trip without times", "an added trip needs two stops or more")
    route = -1
    if desc.route_id:
        routes = tt.strings("route_id").to_list()
        rid = f"{op}:{desc.route_id}"
        route = routes.index(rid) if rid in routes else -1
    day = _day(tt, desc.start_date) if desc.start_date else _local_day(tt, op, now)
    a_arr, a_dep = np.array(arr, np.int64), np.array(dep, np.int64)
    return TripLive(
        operator=op, trip_id=f"{op}:{desc.trip_id}", trip=-1, day=day, status="added",
        stops=np.array(stops, np.int64), sched_arr=a_arr, sched_dep=a_dep, rt_arr=a_arr.copy(),
        rt_dep=a_dep.copy(), stop_status=np.zeros(len(stops), np.int8), route=route,
        headsign=tt.strings("stop_name")[stops[-1]], feed_timestamp=ts)


def _duplicated(tt: Timetable, op: str, tu: pb.TripUpdate, t: int, ts: int) -> TripLive:
    props = tu.trip_properties
    if not props.trip_id or not props.start_time:
        raise Reject("unsupported relationship", "DUPLICATED needs trip_properties.trip_id "
                     "and start_time")
    day = _day(tt, props.start_date or tu.trip.start_date)
    secs = _seconds(props.start_time)
    if secs is None:
        raise Reject("invalid start_time", props.start_time)
    stops, _, _ = _scheduled(tt, t, day)
    lo, hi = tt.pattern_range(t)
    st0 = int(tt.trip_st_start[t])
    base = int(tt.tz_reference_utc[int(tt.trip_tz[t]), day])
    shift = secs - int(tt.st_dep[st0])
    arr = base + shift + np.asarray(tt.st_arr[st0:st0 + hi - lo], dtype=np.int64)
    dep = base + shift + np.asarray(tt.st_dep[st0:st0 + hi - lo], dtype=np.int64)
    return TripLive(op, f"{op}:{props.trip_id}", -1, day, "added", stops, arr, dep, arr.copy(),
                    dep.copy(), np.zeros(len(stops), np.int8), int(tt.trip_route[t]),
                    tt.strings("trip_headsign")[t], ts)


def apply_trip_updates(tt: Timetable, op: str, msg: pb.FeedMessage, now: int,
                       status: FeedStatus) -> FeedResult:
    result = FeedResult(op, "trip-updates", status)
    ts = int(msg.header.timestamp) if msg.header.timestamp else now
    for e in msg.entity:
        if not e.HasField("trip_update"):
            continue
        status.entities += 1
        tu = e.trip_update
        rel = tu.trip.schedule_relationship
        try:
            if rel in (TD.ADDED, TD.NEW):
                live = _added(tt, op, tu, now, ts)
                result.added.append(live)
            elif rel == TD.REPLACEMENT:
                raise Reject("unsupported relationship", "REPLACEMENT")
            else:
                t, day = _match(tt, op, tu.trip, now)
                if rel == TD.DUPLICATED:
                    result.added.append(_duplicated(tt, op, tu, t, ts))
                else:
                    result.trips[(t, day)] = _scheduled_live(tt, op, tu, t, day, ts)
            status.applied += 1
        except Reject as r:
            trip = f" trip {tu.trip.trip_id}" if tu.trip.trip_id else ""
            status.reject(r.reason, f"entity {e.id}{trip}: {r}")
    return result


def _scheduled_live(tt: Timetable, op: str, tu: pb.TripUpdate, t: int, day: int, ts: int
                    ) -> TripLive:
    rel = tu.trip.schedule_relationship
    stops, arr, dep = _scheduled(tt, t, day)
    n = len(stops)
    if rel in (TD.CANCELED, TD.DELETED):
        return TripLive(op, tt.strings("trip_id")[t], t, day,
                        "deleted" if rel != TD.CANCELED else "canceled", stops, arr, dep,
                        np.full(n, NO_TIME, np.int64), np.full(n, NO_TIME, np.int64),
                        np.zeros(n, np.int8), int(tt.trip_route[t]), "", ts)
    if rel not in (TD.SCHEDULED, TD.UNSCHEDULED):
        raise Reject("unsupported relationship", TD.ScheduleRelationship.Name(rel))
    updates = _positions(tt, op, t, list(tu.stop_time_update))
    rt_arr, rt_dep, st_status = propagate(arr, dep, updates)
    for pos, _, assigned in updates:
        if assigned >= 0:
            stops[pos] = assigned
    return TripLive(op, tt.strings("trip_id")[t], t, day, "scheduled", stops, arr, dep, rt_arr,
                    rt_dep, st_status, int(tt.trip_route[t]), "", ts)

