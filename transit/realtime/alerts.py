"""Service alerts with their informed entities in the merged namespace."""

from __future__ import annotations

from google.transit import gtfs_realtime_pb2 as pb

from transit.realtime.overlay import Alert, FeedResult, FeedStatus, Selector
from transit.realtime.validate import INVALID_PERIOD, Limits, period_ok
from transit.timetable.timetable import Timetable

AL = pb.Alert


def _texts(ts: pb.TranslatedString) -> dict[str, str]:
    return {(t.language or "").lower(): t.text for t in ts.translation}


def pick_text(texts: dict[str, str], langs: list[str], fallback: str = "") -> str | None:
    """The caller's language, its base language, English, untagged, then any."""
    if not texts:
        return None
    for lang in langs:
        for key in (lang, lang.split("-")[0]):
            if key in texts:
                return texts[key]
            for k, v in texts.items():
                if k.split("-")[0] == key:
                    return v
    for key in (fallback, "en", ""):
        for k, v in texts.items():
            if k == key or k.split("-")[0] == key:
                return v
    return next(iter(texts.values()))


def apply_alerts(tt: Timetable, op: str, msg: pb.FeedMessage, now: int,
                 status: FeedStatus, limits: Limits = Limits()) -> FeedResult:
    result = FeedResult(op, "alerts", status)
    ts = int(msg.header.timestamp) if msg.header.timestamp else now
    for e in msg.entity:
        if not e.HasField("alert"):
            continue
        status.entities += 1
        a = e.alert
        selectors = []
        for ie in a.informed_entity:
            trip_id = f"{op}:{ie.trip.trip_id}" if ie.HasField("trip") and ie.trip.trip_id \
                else None
            selectors.append(Selector(
                operator=op,
                agency_id=f"{op}:{ie.agency_id}" if ie.agency_id else None,
                route_id=f"{op}:{ie.route_id}" if ie.route_id else None,
                route_type=ie.route_type if ie.HasField("route_type") else None,
                direction_id=ie.direction_id if ie.HasField("direction_id") else None,
                trip_id=trip_id, stop_id=f"{op}:{ie.stop_id}" if ie.stop_id else None))
        if not selectors:
            status.reject("no informed entity", f"entity {e.id}")
            continue
        bad = next((p for p in a.active_period if not period_ok(p)), None)
        if bad is not None:
            result.reject(INVALID_PERIOD, e.id, f"entity {e.id}: active_period {bad.start} to "
                          f"{bad.end}")
            continue
        periods = tuple((int(p.start) if p.start else None, int(p.end) if p.end else None)
                        for p in a.active_period)
        result.alerts.append(Alert(
            id=f"{op}:{e.id}", operator=op, cause=AL.Cause.Name(a.cause),
            effect=AL.Effect.Name(a.effect),
            severity=AL.SeverityLevel.Name(a.severity_level) if a.HasField("severity_level")
            else "UNKNOWN_SEVERITY",
            periods=periods, header=_texts(a.header_text),
            description=_texts(a.description_text), url=_texts(a.url),
            selectors=tuple(selectors), feed_timestamp=ts))
        status.applied += 1
    return result
