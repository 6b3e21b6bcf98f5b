"""GET /v1/journeys' query read without FastAPI's dependency machinery, for the common case.

FastAPI spends about 3 ms of a journey request resolving the route's dependencies and
validating its ~25 query parameters one by one. `PlainQuery` reads the same parameters from
the same declarations (the dataclasses of transit.journeys.params and the shared `lang` and
`preview` parameters: their types, aliases, defaults and constraints), but only for values
whose reading is beyond doubt: plain decimal numbers, `true`/`false`, ASCII dates, strings
within their bounds. Anything else (a missing required parameter, a repeated or unknown
one, an empty value, a value out of bounds or written otherwise) answers None, and the
request goes the whole way through FastAPI, which answers it (with its 422 errors) as
before. The plain reading only ever accepts what FastAPI would accept, as the same values.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Union

import annotated_types as at
from fastapi.params import Query
from starlette.datastructures import QueryParams

_INT = re.compile(r"0|[1-9][0-9]{0,5}")
_FLOAT = re.compile(r"(0|[1-9][0-9]{0,5})(\.[0-9]{1,6})?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_BOOLS = {"true": True, "false": False}
_KINDS = (str, int, float, bool, date)


class _Unsure(Exception):
    """A value the plain reading leaves to FastAPI."""


@dataclasses.dataclass(frozen=True)
class Param:
    """One query parameter as declared: the name it is passed as (the dataclass field or
    the function parameter), its alias in the query, its type and constraints."""

    name: str
    alias: str
    kind: type
    required: bool
    default: object
    checks: tuple[object, ...]  # annotated_types constraints
    pattern: re.Pattern[str] | None

    @classmethod
    def of(cls, name: str, annotation: object, default: object = dataclasses.MISSING
           ) -> Param:
        """From `Annotated[T, Query(...)]` (T one of _KINDS, or T | None); anything the plain
        reading does not know is an error at import, not a silent difference."""
        if typing.get_origin(annotation) is not Annotated:
            raise TypeError(f"{name}: not Annotated[..., Query(...)]")
        kind, *extras = typing.get_args(annotation)
        queries = [e for e in extras if isinstance(e, Query)]
        if len(queries) != 1:
            raise TypeError(f"{name}: needs exactly one Query(...)")
        query = queries[0]
        if typing.get_origin(kind) in (Union, types.UnionType):
            members = [a for a in typing.get_args(kind) if a is not type(None)]
            if len(members) != 1:
                raise TypeError(f"{name}: unions other than T | None are not read plainly")
            kind = members[0]
        if kind not in _KINDS:
            raise TypeError(f"{name}: type {kind!r} is not read plainly")
        checks: list[object] = []
        pattern = None
        for m in query.metadata:
            if isinstance(m, at.Gt | at.Ge | at.Lt | at.Le | at.MinLen | at.MaxLen):
                checks.append(m)
            elif getattr(m, "pattern", None) is not None and not vars(m).keys() - {"pattern"}:
                pattern = re.compile(m.pattern)
            else:
                raise TypeError(f"{name}: constraint {m!r} is not read plainly")
        return cls(name, query.alias or name, kind, default is dataclasses.MISSING,
                   None if default is dataclasses.MISSING else default, tuple(checks), pattern)

    def read(self, text: str) -> object:
        """The value of the query's text; _Unsure unless beyond doubt."""
        value: object
        if not text:
            raise _Unsure
        if self.kind is str:
            value = text
        elif self.kind is bool:
            if text not in _BOOLS:
                raise _Unsure
            value = _BOOLS[text]
        elif self.kind is int:
            if not _INT.fullmatch(text):
                raise _Unsure
            value = int(text)
        elif self.kind is float:
            if not _FLOAT.fullmatch(text):
                raise _Unsure
            value = float(text)
        else:
            if not _DATE.fullmatch(text):
                raise _Unsure
            try:
                value = date.fromisoformat(text)
            except ValueError:
                raise _Unsure from None
        if self.pattern is not None and not self.pattern.fullmatch(text):
            raise _Unsure
        for c in self.checks:
            if not _holds(c, value):
                raise _Unsure
        return value


def _holds(check: object, value: Any) -> bool:
    if isinstance(check, at.Gt):
        return bool(value > check.gt)
    if isinstance(check, at.Ge):
        return bool(value >= check.ge)
    if isinstance(check, at.Lt):
        return bool(value < check.lt)
    if isinstance(check, at.Le):
        return bool(value <= check.le)
    if isinstance(check, at.MinLen):
        return len(value) >= check.min_length
    assert isinstance(check, at.MaxLen)
    return len(value) <= check.max_length


def params_of(cls: type) -> list[Param]:
    """The query parameters of a dataclass of them (transit.journeys.params)."""
    hints = typing.get_type_hints(cls, include_extras=True)
    return [Param.of(f.name, hints[f.name], f.default) for f in dataclasses.fields(cls)]


class PlainQuery:
    """Reads the query parameters of some dataclasses, plus loose ones (`extra`: passed to
    the caller by name), or says it is unsure (None)."""

    def __init__(self, classes: list[type], extra: list[Param]) -> None:
        self.classes = [(cls, params_of(cls)) for cls in classes]
        self.extra = extra
        self.by_alias = {p.alias: p for _, ps in self.classes for p in ps}
        self.by_alias.update((p.alias, p) for p in extra)
        if len(self.by_alias) != sum(len(ps) for _, ps in self.classes) + len(extra):
            raise TypeError("two parameters share an alias")

    def read(self, query: QueryParams) -> tuple[list[object], dict[str, object]] | None:
        """(an instance of each class, the extra parameters by name), or None."""
        items = query.multi_items()
        given: dict[str, str] = dict(items)
        if len(given) != len(items) or not given.keys() <= self.by_alias.keys():
            return None  # a parameter twice, or one the route does not take
        try:
            built = [cls(**self._values(ps, given)) for cls, ps in self.classes]
            extra = self._values(self.extra, given)
        except _Unsure:
            return None
        return built, extra

    @staticmethod
    def _values(params: list[Param], given: Mapping[str, str]) -> dict[str, object]:
        out = {}
        for p in params:
            text = given.get(p.alias)
            if text is None:
                if p.required:
                    raise _Unsure
                out[p.name] = p.default
            else:
                out[p.name] = p.read(text)
        return out
