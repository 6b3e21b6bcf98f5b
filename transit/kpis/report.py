"""The KPI report of one operator over a date range, per day and route, from the recorded
tables (and, for days live data never spoke of, the scheduled trips of the timetable in
service). Engine side: plain dicts the web layer validates into its schemas."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from transit.kpis.scheduled import scheduled_by_route
from transit.kpis.store import KpiStore
from transit.timetable.timetable import Timetable

LIVE_STATUSES = ("scheduled", "canceled")


def _ratio(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


class _Counts:
    """Trip and departure counters of one day, or one route on one day, or a total."""

    def __init__(self) -> None:
        self.scheduled = 0
        self.status: dict[str, int] = defaultdict(int)
        self.observed = self.on_time = self.early = self.late = 0
        self.requests = 0

    def add(self, other: _Counts) -> None:
        self.scheduled += other.scheduled
        for k, v in other.status.items():
            self.status[k] += v
        self.observed += other.observed
        self.on_time += other.on_time
        self.early += other.early
        self.late += other.late
        self.requests += other.requests

    def as_dict(self) -> dict[str, Any]:
        live = sum(self.status[s] for s in LIVE_STATUSES)
        return {
            "trips": {"scheduled": self.scheduled, "with_live_data": live,
                      "live_data_share": _ratio(live, self.scheduled),
                      "canceled": self.status["canceled"], "deleted": self.status["deleted"],
                      "added": self.status["added"]},
            "departures": {"observed": self.observed, "on_time": self.on_time,
                           "early": self.early, "late": self.late,
                           "punctuality": _ratio(self.on_time, self.observed)},
            "requests": self.requests,
        }


def _days(d0: date, d1: date) -> list[date]:
    return [d0 + timedelta(days=i) for i in range((d1 - d0).days + 1)]


def kpi_report(store: KpiStore, tt: Timetable | None, op: str, d0: date, d1: date,
               route: str | None, now: int) -> dict[str, Any]:
    """Everything GET /v1/operators/{id}/kpis answers. `route` narrows trips, departures
    and requests to one route; feed health and rejections stay the operator's."""
    cells: dict[tuple[date, str], _Counts] = defaultdict(_Counts)
    recorded_days: set[date] = set()
    for d, r, trips in store.scheduled(op, d0, d1, None):
        recorded_days.add(d)
        if route is None or r == route:
            cells[(d, r)].scheduled += trips
    if tt is not None and op in tt.operator_index:
        for d in _days(d0, d1):
            if d not in recorded_days:
                for r, n in scheduled_by_route(tt, op, d).items():
                    if route is None or r == route:
                        cells[(d, r)].scheduled += n
    for d, r, status, trips, observed, on_time, early, late in store.trip_counts(
            op, d0, d1, route):
        c = cells[(d, r)]
        c.status[status] += trips
        c.observed += int(observed or 0)
        c.on_time += int(on_time or 0)
        c.early += int(early or 0)
        c.late += int(late or 0)
    day_requests: dict[date, int] = defaultdict(int)
    for d, r, n in store.demand(op, d0, d1, route):
        day_requests[d] += n
        if route is not None:
            cells[(d, r)].requests += n
    if route is None:  # per-route demand rows beside the operator's total
        for d, r, n in store.demand_by_route(op, d0, d1):
            cells[(d, r)].requests += n
    feeds: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for row in store.feeds(op, d0, d1):
        feeds[row.service_date].append({
            "kind": row.kind, "updates": row.updates, "entities": row.entities,
            "applied": row.applied, "gaps": row.gaps, "max_gap_s": row.max_gap_s,
            "first_update_at": row.first_update_at, "last_update_at": row.last_update_at})
    rejected: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for d, _kind, reason, n in store.rejections(op, d0, d1):
        rejected[d][reason] += n

    total = _Counts()
    total_rejected: dict[str, int] = defaultdict(int)
    total_feeds: dict[str, dict[str, int]] = {}
    days = []
    for d in _days(d0, d1):
        day = _Counts()
        routes = []
        for r in sorted({r for (dd, r) in cells if dd == d}):
            c = cells[(d, r)]
            requests = c.requests
            c.requests = 0  # the day's requests are counted once, below
            day.add(c)
            routes.append({"route": r or None, **c.as_dict(), "requests": requests})
        day.requests = day_requests.get(d, 0)
        total.add(day)
        for reason, n in rejected.get(d, {}).items():
            total_rejected[reason] += n
        for f in feeds.get(d, []):
            t = total_feeds.setdefault(f["kind"], {"updates": 0, "gaps": 0, "max_gap_s": 0})
            t["updates"] += f["updates"]
            t["gaps"] += f["gaps"]
            t["max_gap_s"] = max(t["max_gap_s"], f["max_gap_s"])
        days.append({"date": d, **day.as_dict(),
                     "feeds": sorted(feeds.get(d, []), key=lambda f: f["kind"]),
                     "rejected": dict(sorted(rejected.get(d, {}).items())),
                     "routes": routes})
    last = store.last_update_of(op)
    freshness = [{"kind": kind, "last_update_at": ts, "age_s": max(0, now - ts),
                  **total_feeds.get(kind, {"updates": 0, "gaps": 0, "max_gap_s": 0})}
                 for kind, ts in sorted(last.items())]
    return {"operator": op, "from": d0, "to": d1, "route": route,
            "totals": {**total.as_dict(), "rejected": dict(sorted(total_rejected.items()))},
            "freshness": freshness, "days": days}
