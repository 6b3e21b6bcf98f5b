from __future__ import annotations

from pydantic import BaseModel, Field

from transit.journeys.schemas import ProductOut


class ProductInfo(BaseModel):
    product_id: str
    operator: str
    name: str
    duration_s: int | None = Field(description="validity from activation, when the data "
                                   "gives it")
    prices: list[ProductOut] = Field(description="per rider category and fare medium")


class ProductList(BaseModel):
    products: list[ProductInfo]
