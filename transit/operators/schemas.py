from __future__ import annotations

from pydantic import BaseModel


class OperatorCounts(BaseModel):
    agencies: int
    routes: int
    stops: int
    trips: int
    stop_times: int


class Operator(BaseModel):
    id: str
    name: str
    licence: str
    url: str
    languages: list[str]
    timetable_version: str
    counts: OperatorCounts


class OperatorList(BaseModel):
    operators: list[Operator]
