"""GET /v1/operators/{id}/kpis: thin; the numbers come from transit.kpis.report."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request

from transit.accounts.roles import Permission
from transit.accounts.scope import Principal
from transit.api.auth import operator_access
from transit.api.problems import Problem, invalid, problems
from transit.kpis.definitions import DEFINITIONS
from transit.kpis.recorder import operator_zone
from transit.kpis.report import kpi_report
from transit.kpis.schemas import KpiReport
from transit.kpis.store import KpiStore

router = APIRouter(prefix="/v1", tags=["operator KPIs"])
Viewer = Annotated[Principal, Depends(operator_access(Permission.READ_REPORTS))]
DATE = r"^\d{4}-\d{2}-\d{2}$"


def _date(parameter: str, value: str | None, default: date) -> date:
    if value is None:
        return default
    try:
        if not re.match(DATE, value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise invalid(parameter, f"{value!r} is not a date YYYY-MM-DD") from None


def _iso(ts: int, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(ts, tz).isoformat()


def _localize(report: dict[str, Any], tz: ZoneInfo) -> None:
    """Unix seconds of the report as ISO 8601 in the operator's zone."""
    for f in report["freshness"]:
        f["last_update_at"] = _iso(f["last_update_at"], tz)
    for day in report["days"]:
        for f in day["feeds"]:
            f["first_update_at"] = _iso(f["first_update_at"], tz)
            f["last_update_at"] = _iso(f["last_update_at"], tz)


@router.get("/operators/{operator_id}/kpis", response_model=KpiReport,
            summary="An operator's KPIs per day and route (keys of the operator: publisher "
            "or viewer; admin)", responses=problems(401, 403, 404, 422))
def operator_kpis(
    request: Request, operator_id: str, viewer: Viewer,
    from_: Annotated[str | None, Query(alias="from", max_length=10, description="First "
                                       "service date, YYYY-MM-DD (default: `to`)")] = None,
    to: Annotated[str | None, Query(max_length=10, description="Last service date, "
                                    "YYYY-MM-DD (default: today, operator's time zone)")
                  ] = None,
    route: Annotated[str | None, Query(min_length=1, max_length=255, description="Only this "
                                       "route, e.g. BA:01")] = None,
) -> KpiReport:
    settings = request.app.state.settings
    tt = request.app.state.holder.get()
    now = request.app.state.clock.now()
    tz = operator_zone(tt, operator_id) if tt is not None else ZoneInfo("UTC")
    last = _date("to", to, now.astimezone(tz).date())
    first = _date("from", from_, last)
    if first > last:
        raise invalid("from", f"{first} is after to={last}")
    if (last - first).days + 1 > settings.kpi_max_days:
        raise invalid("to", f"the range {first}..{last} is {(last - first).days + 1} days; "
                      f"at most {settings.kpi_max_days} days per request")
    store = KpiStore(request.app.state.db)
    if route is not None and not _route_known(tt, store, operator_id, route):
        raise Problem(404, f"unknown route {route[:60]!r} of operator {operator_id!r}",
                      parameter="route")
    report = kpi_report(store, tt, operator_id, first, last, route, int(now.timestamp()))
    _localize(report, tz)
    report["as_of"] = now.astimezone(tz).isoformat()
    report["definitions"] = DEFINITIONS
    return KpiReport.model_validate(report)


def _route_known(tt: Any, store: KpiStore, op: str, route: str) -> bool:
    """A route of this operator in the timetable in service, or in recorded KPIs (a route
    since removed from the feed keeps its history)."""
    if not route.startswith(f"{op}:"):
        return False
    if tt is not None and route in _route_ids(tt):
        return True
    return store.knows_route(op, route)


def _route_ids(tt: Any) -> set[str]:
    key = ("kpi-route-ids",)
    ids = tt.cache.get(key)
    if ids is None:
        ids = tt.cache[key] = set(tt.strings("route_id").to_list())
    return ids  # type: ignore[no-any-return]
