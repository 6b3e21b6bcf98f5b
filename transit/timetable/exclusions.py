"""Routes a rider never takes, as a mask over the timetable's routes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from transit.timetable.modes import mode_of
from transit.timetable.timetable import Timetable


@dataclass(frozen=True)
class Exclusions:
    """Routes a rider never takes (a commuter's avoided modes and operators): `route_ok`
    is True for the routes that may be shown, `operators` the operator ids excluded (for
    added trips, which may have no route)."""

    route_ok: np.ndarray
    operators: frozenset[str]

    @classmethod
    def of(cls, tt: Timetable, modes: frozenset[str], operators: frozenset[str]
           ) -> Exclusions | None:
        if not modes and not operators:
            return None
        key = ("exclusions", modes, operators)
        hit = tt.cache.get(key)
        if hit is None:
            ok = np.ones(len(tt.route_type), dtype=bool)
            if modes:
                ok &= ~np.isin([mode_of(int(t)) for t in tt.route_type], list(modes))
            if operators:
                ids = np.array([o["id"] for o in tt.meta["operators"]])
                ok &= ~np.isin(ids[np.asarray(tt.route_operator)], list(operators))
            hit = tt.cache[key] = cls(ok, operators)
        return hit  # type: ignore[no-any-return]
