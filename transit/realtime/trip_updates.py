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

import bisect
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
from google.transit import gtfs_realtime_pb2 as pb

from transit.realtime.overlay import NO_TIME, FeedResult, FeedStatus, TripLive
from transit.realtime.propagate import (
    ERRORS,
    NONE,
    REL_NO_DATA,
    REL_SCHEDULED,
    REL_SKIPPED,
    STOP_NOT_GIVEN,
    STOP_UNKNOWN,
    Schedule,
    Updates,
    propagate_all,
)
from transit.realtime.validate import (
    DATE_OUTSIDE_PERIOD,
    DELAY_OUT_OF_BOUNDS,
    TIME_OUTSIDE_DAY,
    Limits,
)
from transit.timetable.timetable import Timetable

TD = pb.TripDescriptor
_HMS = re.compile(r"^\s*(\d{1,3}):([0-5]\d):([0-5]\d)\s*$")
STU = pb.TripUpdate.StopTimeUpdate


SEQUENCE_BY_STOP = "stop_sequence not in the trip, matched by stop_id"


class Reject(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def _seconds(hms: str) -> int | None:
    m = _HMS.match(hms)
    return None if m is None else int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3])


def _day(tt: Timetable, start_date: str) -> int:
    key = ("rt-day", start_date)
    hit = tt.cache.get(key)
    if hit is None:
        try:
            d = datetime.strptime(start_date, "%Y%m%d").date()
        except ValueError:
            raise Reject("invalid start_date", f"start_date {start_date!r}") from None
        hit = tt.cache[key] = tt.day_of(d)
    return hit  # type: ignore[return-value]


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
                if t is None:  # exact_times=0: the run of the frequency trip started nearest
                    t = _nearest_run(tt, tid, secs)
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


def _frequency_runs(tt: Timetable) -> dict[str, list[tuple[int, int]]]:
    """Template trip id -> (start seconds, trip) of its expanded runs, sorted; built once."""
    runs = tt.cache.get(("rt-frequency-runs",))
    if runs is None:
        found: dict[str, list[tuple[int, int]]] = {}
        for i, tid in enumerate(tt.strings("trip_id").to_list()):
            base, at, start = tid.rpartition("@")
            if at:
                secs = _seconds(start)
                if secs is not None:
                    found.setdefault(base, []).append((secs, i))
        runs = tt.cache[("rt-frequency-runs",)] = {k: sorted(v) for k, v in found.items()}
    return runs  # type: ignore[return-value]


def _nearest_run(tt: Timetable, tid: str, secs: int) -> int | None:
    """A frequency trip without exact times is one run whose start_time the feed states; it
    need not fall on our expansion's grid: take the run that starts nearest, within one
    headway."""
    runs = _frequency_runs(tt).get(tid)
    if not runs:
        return None
    starts = [s for s, _ in runs]
    i = bisect.bisect_left(starts, secs)
    best = min((j for j in (i - 1, i) if 0 <= j < len(runs)), key=lambda j: abs(starts[j] - secs))
    headway = starts[1] - starts[0] if len(starts) > 1 else 0
    return runs[best][1] if abs(starts[best] - secs) <= headway else None


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


def _in_period(tt: Timetable, day: int, start_date: str) -> int:
    """A service day of the compiled period (no timetable to place a trip elsewhere)."""
    if not 0 <= day < tt.n_days:
        raise Reject(DATE_OUTSIDE_PERIOD, f"start_date {start_date!r}")
    return day


def _check_window(tt: Timetable, tz: int, day: int, times: np.ndarray, limits: Limits
                  ) -> None:
    """Times of a trip that is not in the timetable (added, duplicated) fall within its
    service day: from its reference to the network's latest stop time, give or take the
    delay bound."""
    base = int(tt.tz_reference_utc[tz, day])
    lo = base - limits.max_delay_s
    hi = base + int(tt.meta["max_time_s"]) + limits.max_delay_s
    if len(times) and (int(times.min()) < lo or int(times.max()) > hi):
        bad = int(times.max()) if int(times.max()) > hi else int(times.min())
        raise Reject(TIME_OUTSIDE_DAY, f"time {bad} is not on service day "
                     f"{tt.service_date(day).isoformat()}")


def _scheduled(tt: Timetable, t: int, day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lo, hi = tt.pattern_range(t)
    st0 = int(tt.trip_st_start[t])
    base = int(tt.tz_reference_utc[int(tt.trip_tz[t]), day])
    arr = base + np.asarray(tt.st_arr[st0:st0 + hi - lo], dtype=np.int64)
    dep = base + np.asarray(tt.st_dep[st0:st0 + hi - lo], dtype=np.int64)
    return np.asarray(tt.pattern_stops[lo:hi], dtype=np.int64).copy(), arr, dep


def _added(tt: Timetable, op: str, tu: pb.TripUpdate, now: int, ts: int, limits: Limits
           ) -> TripLive:
    desc = tu.trip
    stops, arr, dep = [], [], []
    for u in tu.stop_time_update:
        s = tt.stop_index.get(f"{op}:{u.stop_id}") if u.stop_id else None
        if s is None:
            raise Reject("unknown stop", f"added trip stop_id {u.stop_id!r}")
        a = u.arrival.time if u.HasField("arrival") and u.arrival.time != 0 else None
        d = u.departure.time if u.HasField("departure") and u.departure.time != 0 else None
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
    day = _in_period(tt, _day(tt, desc.start_date) if desc.start_date
                     else _local_day(tt, op, now), desc.start_date or "(today)")
    a_arr, a_dep = np.array(arr, np.int64), np.array(dep, np.int64)
    _check_window(tt, int(tt.stop_tz[stops[0]]), day, np.concatenate([a_arr, a_dep]), limits)
    return TripLive(
        operator=op, trip_id=f"{op}:{desc.trip_id}", trip=-1, day=day, status="added",
        stops=np.array(stops, np.int64), sched_arr=a_arr, sched_dep=a_dep, rt_arr=a_arr.copy(),
        rt_dep=a_dep.copy(), stop_status=np.zeros(len(stops), np.int8), route=route,
        headsign=tt.strings("stop_name")[stops[-1]], feed_timestamp=ts)


def _duplicated(tt: Timetable, op: str, tu: pb.TripUpdate, t: int, ts: int, limits: Limits
                ) -> TripLive:
    props = tu.trip_properties
    if not props.trip_id or not props.start_time:
        raise Reject("unsupported relationship", "DUPLICATED needs trip_properties.trip_id "
                     "and start_time")
    start_date = props.start_date or tu.trip.start_date
    day = _in_period(tt, _day(tt, start_date), start_date)
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
    _check_window(tt, int(tt.trip_tz[t]), day, dep, limits)
    return TripLive(op, f"{op}:{props.trip_id}", -1, day, "added", stops, arr, dep, arr.copy(),
                    dep.copy(), np.zeros(len(stops), np.int8), int(tt.trip_route[t]),
                    tt.strings("trip_headsign")[t], ts)


def _event(u: STU, field: str) -> tuple[int, int]:
    """(time, delay) of an update's arrival or departure, NONE where not given."""
    if not u.HasField(field):
        return NONE, NONE
    ev = getattr(u, field)
    time = int(ev.time) if ev.HasField("time") and ev.time != 0 else NONE  # 0: not given
    delay = int(ev.delay) if ev.HasField("delay") else NONE
    return time, delay


_REL = {STU.SCHEDULED: REL_SCHEDULED, STU.SKIPPED: REL_SKIPPED, STU.NO_DATA: REL_NO_DATA,
        STU.UNSCHEDULED: REL_SCHEDULED}


class _Pending:
    """Scheduled trips of a feed waiting for the compiled matching and propagation, their
    updates kept as flat columns."""

    def __init__(self, tt: Timetable, op: str) -> None:
        self.index = tt.stop_index
        self.prefix = f"{op}:"
        self.trips: list[int] = []
        self.days: list[int] = []
        self.entities: list[tuple[str, str]] = []  # (entity id, trip id) for reject examples
        self.offsets = [0]
        self.seq: list[int] = []
        self.stop: list[int] = []
        self.assigned: list[int] = []
        self.rel: list[int] = []
        self.times: list[tuple[int, int, int, int]] = []

    def add(self, t: int, day: int, entity: str, tu: pb.TripUpdate) -> None:
        index, prefix = self.index, self.prefix
        rows = []
        for u in tu.stop_time_update:
            sid = u.stop_id
            stop = index.get(prefix + sid, STOP_UNKNOWN) if sid else STOP_NOT_GIVEN
            assigned = -1
            if u.HasField("stop_time_properties") and u.stop_time_properties.assigned_stop_id:
                aid = u.stop_time_properties.assigned_stop_id
                assigned = index.get(prefix + aid, -1)
                if assigned < 0:
                    raise Reject("unknown stop", f"assigned_stop_id {aid!r}")
            rows.append((u.stop_sequence if u.HasField("stop_sequence") else -1, stop,
                         assigned, _REL.get(u.schedule_relationship, REL_SCHEDULED),
                         (*_event(u, "arrival"), *_event(u, "departure"))))
        for seq, stop, assigned, rel, times in rows:
            self.seq.append(seq)
            self.stop.append(stop)
            self.assigned.append(assigned)
            self.rel.append(rel)
            self.times.append(times)
        self.trips.append(t)
        self.days.append(day)
        self.entities.append((entity, tu.trip.trip_id))
        self.offsets.append(len(self.seq))


def apply_trip_updates(tt: Timetable, op: str, msg: pb.FeedMessage, now: int,
                       status: FeedStatus, limits: Limits = Limits()) -> FeedResult:
    result = FeedResult(op, "trip-updates", status)
    ts = int(msg.header.timestamp) if msg.header.timestamp else now
    pending = _Pending(tt, op)
    for e in msg.entity:
        if not e.HasField("trip_update"):
            continue
        status.entities += 1
        tu = e.trip_update
        rel = tu.trip.schedule_relationship
        try:
            if rel in (TD.ADDED, TD.NEW):
                result.added.append(_added(tt, op, tu, now, ts, limits))
            elif rel == TD.REPLACEMENT:
                raise Reject("unsupported relationship", "REPLACEMENT")
            else:
                t, day = _match(tt, op, tu.trip, now)
                if rel == TD.DUPLICATED:
                    result.added.append(_duplicated(tt, op, tu, t, ts, limits))
                elif rel in (TD.CANCELED, TD.DELETED):
                    result.trips[(t, day)] = _cancelled(tt, op, t, day, rel, ts)
                elif rel in (TD.SCHEDULED, TD.UNSCHEDULED):
                    pending.add(t, day, e.id, tu)
                    continue  # counted once matched to its stops
                else:
                    raise Reject("unsupported relationship", TD.ScheduleRelationship.Name(rel))
            status.applied += 1
        except Reject as r:
            trip = f" trip {tu.trip.trip_id}" if tu.trip.trip_id else ""
            result.reject(r.reason, e.id, f"entity {e.id}{trip}: {r}")
    _propagate_pending(tt, op, pending, ts, result, limits)
    return result


def _cancelled(tt: Timetable, op: str, t: int, day: int, rel: int, ts: int) -> TripLive:
    stops, arr, dep = _scheduled(tt, t, day)
    n = len(stops)
    return TripLive(op, tt.strings("trip_id")[t], t, day,
                    "deleted" if rel != TD.CANCELED else "canceled", stops, arr, dep,
                    np.full(n, NO_TIME, np.int64), np.full(n, NO_TIME, np.int64),
                    np.zeros(n, np.int8), int(tt.trip_route[t]), "", ts)


def _implausible(tt: Timetable, trips: np.ndarray, days: np.ndarray, counts: np.ndarray,
                 times: np.ndarray, limits: Limits) -> np.ndarray:
    """Per trip: 0, or 1 when an update's time is off its service day (before the trip's
    first departure or after its last arrival by more than the delay bound), or 2 when an
    update's delay is beyond the bound. Vectorized over all updates of the feed."""
    st0 = np.asarray(tt.trip_st_start)[trips]
    pso = np.asarray(tt.pattern_stop_offsets)
    p = np.asarray(tt.trip_pattern)[trips]
    base = np.asarray(tt.tz_reference_utc)[np.asarray(tt.trip_tz)[trips], days]
    first = base + np.asarray(tt.st_dep)[st0] - limits.max_delay_s
    last = base + np.asarray(tt.st_arr)[st0 + pso[p + 1] - pso[p] - 1] + limits.max_delay_s
    row_trip = np.repeat(np.arange(len(trips)), counts)
    lo, hi = first[row_trip], last[row_trip]
    at, dt = times[:, 0], times[:, 2]
    off_day = (((at != NONE) & ((at < lo) | (at > hi)))
               | ((dt != NONE) & ((dt < lo) | (dt > hi))))
    delays = times[:, [1, 3]]
    too_late = ((delays != NONE) & (np.abs(delays) > limits.max_delay_s)).any(axis=1)
    out = np.zeros(len(trips), np.int8)
    out[row_trip[too_late]] = 2
    out[row_trip[off_day]] = 1
    return out


def _propagate_pending(tt: Timetable, op: str, pending: _Pending, ts: int,
                       result: FeedResult, limits: Limits) -> None:
    """Match the stops and propagate the delays of every scheduled trip in one compiled
    pass; a trip whose updates do not fit its stops, or whose times are implausible, is
    rejected whole."""
    if not pending.trips:
        return
    status = result.status
    trips, days = np.array(pending.trips, np.int64), np.array(pending.days, np.int64)
    u_offsets = np.array(pending.offsets, np.int64)
    times = np.array(pending.times, np.int64).reshape(-1, 4)
    implausible = _implausible(tt, trips, days, np.diff(u_offsets), times, limits)
    sched = Schedule(tt.pattern_stop_offsets, tt.trip_pattern, tt.trip_st_start, tt.st_arr,
                     tt.st_dep, tt.st_seq, tt.pattern_stops, tt.stop_parent, tt.trip_tz,
                     tt.tz_reference_utc)
    upd = Updates(u_offsets, np.array(pending.seq, np.int64), np.array(pending.stop, np.int64),
                  np.array(pending.assigned, np.int64), np.array(pending.rel, np.int8), times)
    errors, warned, offsets, stops, s_arr, s_dep, r_arr, r_dep, st = propagate_all(
        trips, days, sched, upd)
    # a delay beyond the bound, also one that a time implies or that propagation carries
    diff = np.maximum(np.where(r_dep != NO_TIME, np.abs(r_dep - s_dep), 0),
                      np.where(r_arr != NO_TIME, np.abs(r_arr - s_arr), 0))
    starts = offsets[:-1]
    worst = np.maximum.reduceat(diff, starts) if len(diff) else np.zeros(len(trips), np.int64)
    implausible[(implausible == 0) & (worst > limits.max_delay_s)] = 2
    good = (errors == 0) & (implausible == 0)
    known = (r_dep != NO_TIME) & np.repeat(good, np.diff(offsets))
    if known.any():
        late = (r_dep - s_dep)[known]
        result.max_late_s = max(0, int(late.max()))
        result.max_early_s = max(0, int(-late.min()))
    trip_ids, routes = tt.strings("trip_id"), tt.trip_route
    offs = offsets.tolist()
    for i, (t, day, code, bad, warn) in enumerate(zip(
            pending.trips, pending.days, errors.tolist(), implausible.tolist(),
            warned.tolist(), strict=True)):
        entity, raw_trip = pending.entities[i]
        if code or bad:
            reason = ERRORS[code] if code else (TIME_OUTSIDE_DAY, DELAY_OUT_OF_BOUNDS)[bad - 1]
            what = ("its stop_time_updates do not match the trip's stops" if code else
                    "a time off the trip's service day" if bad == 1 else
                    f"a delay beyond {limits.max_delay_s} s")
            result.reject(reason, entity, f"entity {entity} trip {raw_trip}: {what}")
            continue
        if warn:
            status.warn(SEQUENCE_BY_STOP, f"entity {entity} trip {raw_trip}: a stop_sequence "
                        "the trip does not have, matched by its stop_id")
        status.applied += 1
        lo, hi = offs[i], offs[i + 1]
        result.trips[(t, day)] = TripLive(
            op, trip_ids[t], t, day, "scheduled", stops[lo:hi], s_arr[lo:hi], s_dep[lo:hi],
            r_arr[lo:hi], r_dep[lo:hi], st[lo:hi], int(routes[t]), "", ts)
