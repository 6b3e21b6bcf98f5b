"""POST /v1/inspections (operator keys that may inspect tickets: inspector, publisher;
admin naming the operator) and GET /v1/operators/{id}/sales (its own sales only)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from transit.accounts.roles import Permission
from transit.accounts.scope import Principal
from transit.api.auth import operator_access, require_permission
from transit.api.problems import invalid, problems
from transit.shop import inspections, sales
from transit.shop.schemas import InspectionIn, InspectionOut, SalesOut
from transit.shop.wiring import keyring_of
from transit.tickets.verify import verify_text

router = APIRouter(prefix="/v1", tags=["tickets"])
Viewer = Annotated[Principal, Depends(operator_access(Permission.READ_REPORTS))]
Inspector = Annotated[Principal, Depends(require_permission(Permission.INSPECT_TICKETS))]
PRIVATE = {"Cache-Control": "private, no-store"}


@router.post("/inspections", response_model=InspectionOut,
             responses=problems(400, 401, 403, 413),
             summary="Check a scanned ticket: valid or not, with the reasons (inspector key)")
def inspect(request: Request, principal: Inspector, body: InspectionIn) -> JSONResponse:
    operator = principal.operator_id or body.operator
    if operator is None:
        raise invalid("operator", "an admin key names the operator inspecting")
    state = request.app.state
    now = state.clock.now()
    keys = keyring_of(request).jwks(int(now.timestamp()))
    scan = inspections.Scan(body.text.strip(), operator, body.vehicle_id,
                            inspections.zone_id(body.zone, operator), principal.prefix)
    out = inspections.inspect(state.db, verify_text, keys, scan, now,
                              state.settings.inspection_overlap_s)
    return JSONResponse(out, headers=PRIVATE)


def _midnight(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time(0), UTC)


@router.get("/operators/{operator_id}/sales", response_model=SalesOut,
            responses=problems(401, 403, 404),
            summary="The operator's own sales lines, newest first (publisher or viewer)")
def operator_sales(
    request: Request, operator_id: str, viewer: Viewer,
    from_: Annotated[date | None, Query(alias="from", description="First day (UTC)")] = None,
    to: Annotated[date | None, Query(description="Last day (UTC)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSONResponse:
    until = _midnight(to + timedelta(days=1)) if to is not None else None
    out = sales.sales_of(request.app.state.db, operator_id, _midnight(from_), until, limit)
    return JSONResponse(out, headers=PRIVATE)
