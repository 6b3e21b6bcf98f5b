"""The commuter's home screen: the next departures at each favourite stop or station, with
live times and alerts, in one answer. It reuses the departure boards (transit.departures)
with the commuter's languages and avoided modes and operators."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

from transit.commuters.favourites import Favourite
from transit.departures.service import board
from transit.realtime.context import LiveContext
from transit.timetable.exclusions import Exclusions
from transit.timetable.timetable import Timetable


def _stops(tt: Timetable, fav: Favourite) -> np.ndarray | None:
    """The stops a favourite names (a station: all its platforms); None when it names no
    stop or station, or one the timetable no longer has."""
    if fav.stop_id is not None:
        s = tt.stop_index.get(fav.stop_id)
        if s is None:
            return None
        if tt.stop_location_type[s] == 1:
            return np.flatnonzero(np.asarray(tt.stop_parent) == s).astype(np.int64)
        return np.array([s], dtype=np.int64)
    if fav.station_id is not None:
        s = tt.stop_index.get(fav.station_id)
        if s is None:
            return None
        return tt.members_of_station(int(tt.stop_station[s])).astype(np.int64)
    return None


def favourite_board(tt: Timetable, favourites: list[Favourite], start: datetime,
                    window_min: int, limit: int, langs: list[str], live: LiveContext,
                    exclude: Exclusions | None) -> dict[str, Any]:
    """Entries in the favourites' order, for those that name a stop or station."""
    entries: list[dict[str, Any]] = []
    realtime: object = None
    for fav in favourites:
        if fav.stop_id is None and fav.station_id is None:
            continue
        stops = _stops(tt, fav)
        entry: dict[str, Any] = {"favourite_id": fav.id, "name": fav.name, "kind": fav.kind,
                                 "stop_id": fav.stop_id or fav.station_id}
        if stops is None or not len(stops):
            entry.update(departures=[], reason="this stop is no longer in the timetable",
                         next_departure=None)
        else:
            b = board(tt, stops, start, window_min, limit, langs, live=live,
                      exclude=exclude)
            realtime = b["realtime"]
            entry.update(departures=b["departures"], reason=b["reason"],
                         next_departure=b["next_departure"])
        entries.append(entry)
    if realtime is None:
        realtime = {"available": live.overlay.available, "reason": live.overlay.reason,
                    "stale_operators": []}
    return {"at": start.isoformat(), "realtime": realtime, "stops": entries}
