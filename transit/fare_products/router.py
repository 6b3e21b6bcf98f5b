from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from transit.api.deps import TimetableDep
from transit.api.problems import invalid, problems
from transit.api.responses import cached_json
from transit.fare_products.schemas import ProductInfo, ProductList
from transit.fares.pricing import UnknownOperator, products
from transit.fares.store import fares_for
from transit.journeys.fares import product_out

router = APIRouter(prefix="/v1", tags=["fares"], responses=problems())
MAX_AGE = 300


@router.get("/fares/products", response_model=ProductList, responses=problems(422),
            summary="Fare products people can buy, of one operator or all")
async def list_products(
    request: Request, tt: TimetableDep,
    operator: Annotated[str | None, Query(min_length=1, max_length=32,
                                          pattern=r"^[A-Za-z0-9_-]+$",
                                          description="operator id")] = None,
) -> Response:
    try:
        found = products(fares_for(tt), operator)
    except UnknownOperator as exc:
        raise invalid("operator", f"unknown operator {exc.operator!r}") from exc
    return cached_json(request, ProductList(products=[
        ProductInfo(product_id=p.product_id, operator=p.operator, name=p.name,
                    duration_s=p.duration_s, prices=[product_out(x) for x in p.prices])
        for p in found]), MAX_AGE)
