from __future__ import annotations

from fastapi import APIRouter, Request, Response

from transit.api.deps import TimetableDep
from transit.api.problems import problems
from transit.api.responses import cached_json
from transit.operators import service
from transit.operators.schemas import OperatorList

router = APIRouter(prefix="/v1", tags=["operators"], responses=problems())


@router.get("/operators", response_model=OperatorList, summary="Operators in the network")
async def list_operators(request: Request, tt: TimetableDep) -> Response:
    return cached_json(request, OperatorList(operators=service.operators(tt)), 300)
