"""Saved commutes over HTTP (/v1/me/commutes): thin; the rules are parsed in
transit.commuters.rules, stored by transit.commuters.commutes, watched by the evaluator."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from transit.api.auth import get_db
from transit.api.problems import Problem, problems
from transit.api.users import CurrentUser
from transit.commuters import commutes
from transit.commuters.planning import Planner, zone_of
from transit.commuters.rules import Commute, RuleError, commute_dict
from transit.realtime.overlay import NO_TIME

router = APIRouter(prefix="/v1/me/commutes", tags=["commutes and alerts"],
                   responses=problems(400, 401, 404, 413, 422))
PAIR = Field(default=None, description='["HH:MM", "HH:MM"] local to the origin',
             min_length=2, max_length=2)


class CommuteIn(BaseModel):
    """A commute; on PATCH every field is optional and merged."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str | None = Field(default=None, max_length=1000)
    from_: str | None = Field(default=None, alias="from", max_length=1000,
                              description="PLACE: stop or station id, or lat,lon")
    to: str | None = Field(default=None, max_length=1000)
    days: list[Any] | None = Field(default=None, max_length=7)
    depart_between: list[Any] | None = PAIR
    arrive_between: list[Any] | None = PAIR
    rules: list[Any] | None = Field(default=None, max_length=10, description=(
        'e.g. [{"kind": "delay", "min_minutes": 5}, {"kind": "cancellation"}]; kinds: '
        "delay, cancellation, platform_change, missed_connection, service_alert, "
        "better_alternative"))
    lead_minutes: Any = None
    quiet_hours: list[Any] | None = PAIR
    paused_until: str | None = Field(default=None, max_length=40)
    options: dict[str, Any] | None = None

    def data(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_unset=True)


def _rule_problem(exc: RuleError) -> Problem:
    return Problem(422, f"{exc.field}: {exc.message}", parameter=exc.field,
                   errors=[{"parameter": exc.field, "in": "body", "message": exc.message}])


def _out(c: Commute, created: datetime) -> dict[str, Any]:
    return {"id": c.id, **commute_dict(c), "created_at": created.isoformat()}


def _missing(cid: str) -> Problem:
    return Problem(404, f"unknown commute {cid!r}")


def _tt(request: Request) -> Any:
    return request.app.state.holder.get()


def _alerting(request: Request) -> Any:
    return getattr(request.app.state, "alerting", None)


Db = Annotated[Any, Depends(get_db)]


@router.post("", status_code=201, summary="Save a commute", responses=problems(409))
def create(request: Request, user: CurrentUser, db: Db, body: CommuteIn) -> dict[str, Any]:
    now = request.app.state.clock.now()
    try:
        c, created = commutes.create(db, _tt(request), user.id, body.data(), now,
                                     request.app.state.settings.max_commutes)
    except RuleError as exc:
        raise _rule_problem(exc) from None
    except commutes.LimitReached as exc:
        raise Problem(409, str(exc)) from None
    if (a := _alerting(request)) is not None:
        a.saved(c)
    return _out(c, created)


@router.get("", summary="The caller's commutes")
def list_commutes(user: CurrentUser, db: Db) -> dict[str, Any]:
    return {"commutes": [_out(c, t) for c, t in commutes.list_for(db, user.id)]}


@router.get("/{commute_id}", summary="One commute")
def get_commute(commute_id: str, user: CurrentUser, db: Db) -> dict[str, Any]:
    got = commutes.get(db, user.id, commute_id)
    if got is None:
        raise _missing(commute_id)
    return _out(*got)


@router.patch("/{commute_id}", summary="Change a commute (fields merged)")
def change(request: Request, commute_id: str, user: CurrentUser, db: Db,
           body: Annotated[CommuteIn, Body()]) -> dict[str, Any]:
    try:
        got = commutes.change(db, _tt(request), user.id, commute_id, body.data(),
                              request.app.state.clock.now())
    except RuleError as exc:
        raise _rule_problem(exc) from None
    if got is None:
        raise _missing(commute_id)
    if (a := _alerting(request)) is not None:
        a.saved(got[0])
    return _out(*got)


@router.delete("/{commute_id}", status_code=204, summary="Delete a commute and its alerts")
def delete(request: Request, commute_id: str, user: CurrentUser, db: Db) -> Response:
    if not commutes.delete(db, user.id, commute_id):
        raise _missing(commute_id)
    if (a := _alerting(request)) is not None:
        a.deleted(commute_id)
    return Response(status_code=204)


@router.get("/{commute_id}/next", summary="The next journeys of a commute, with live state")
def next_journeys(request: Request, commute_id: str, user: CurrentUser, db: Db
                  ) -> dict[str, Any]:
    got = commutes.get(db, user.id, commute_id)
    if got is None:
        raise _missing(commute_id)
    c = got[0]
    tt = _tt(request)
    if tt is None:
        raise Problem(503, "no timetable is loaded yet")
    now = request.app.state.clock.now()
    alerting = _alerting(request)  # its planner's cache holds the commutes' plans
    planner = alerting.evaluator.planner(tt) if alerting is not None else Planner(tt)
    overlay = request.app.state.live.overlay()
    try:
        tz = zone_of(tt, c)
    except RuleError as exc:
        raise _rule_problem(exc) from None
    today = now.astimezone(tz).date()
    for k in range(8):
        d = today + timedelta(days=k)
        if not c.runs_on(d) or not tt.n_days or not _in_period(tt, d):
            continue
        plans = [p for p in planner.plans(c, d) if p.arrival >= int(now.timestamp())]
        if plans:
            return {"commute_id": c.id, "service_date": d.isoformat(),
                    "journeys": [_with_live(planner, p, overlay) for p in plans]}
    return {"commute_id": c.id, "service_date": None, "journeys": [],
            "reason": "no journey of this commute in the next 7 days of the timetable"}


def _in_period(tt: Any, d: date) -> bool:
    return 0 <= tt.day_of(d) < tt.n_days


def _with_live(planner: Planner, p: Any, overlay: Any) -> dict[str, Any]:
    out = planner.describe(p)
    for leg, info in zip(p.legs, out["legs"], strict=True):
        lv = overlay.trips.get((leg.trip, leg.day))
        info["status"] = "scheduled"
        info["delay_s"] = None
        if lv is None:
            continue
        if lv.status in ("canceled", "deleted"):
            info["status"] = "canceled"
            continue
        dep = int(lv.rt_dep[leg.board_pos])
        if dep != NO_TIME:
            info["delay_s"] = dep - int(lv.sched_dep[leg.board_pos])
            info["realtime_departure"] = datetime.fromtimestamp(dep, UTC).isoformat()
            info["status"] = "delayed" if info["delay_s"] >= 60 else "on_time"
        arr = int(lv.rt_arr[leg.alight_pos])
        if arr != NO_TIME:
            info["realtime_arrival"] = datetime.fromtimestamp(arr, UTC).isoformat()
    return out
