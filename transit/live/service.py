"""Live endpoints' logic: status, vehicles, alerts and the merged GTFS-RT export."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf import json_format
from google.transit import gtfs_realtime_pb2 as pb

from transit.live.schemas import (
    ActivePeriod,
    AlertOut,
    AlertText,
    FeedState,
    InformedEntity,
    RealtimeStatus,
)
from transit.realtime.alerts import pick_text
from transit.realtime.overlay import Alert, Overlay, Vehicle
from transit.realtime.state import LiveState
from transit.timetable.geo import haversine_m


def _iso(ts: int | None) -> str | None:
    return None if not ts else datetime.fromtimestamp(int(ts), UTC).isoformat()


def status(live: LiveState, op: str, now: int) -> RealtimeStatus:
    overlay = live.overlay()
    feeds = []
    for st in live.status(op):
        feeds.append(FeedState(
            kind=st.kind,  # type: ignore[arg-type]
            entities=st.entities, applied=st.applied, rejected=st.rejected,
            rejected_examples=st.rejected_examples, feed_timestamp=_iso(st.feed_timestamp),
            age_s=None if not st.feed_timestamp else now - st.feed_timestamp,
            incrementality=st.incrementality, last_success=_iso(st.last_success),
            last_error=st.last_error, last_error_at=_iso(st.last_error_at)))
    return RealtimeStatus(operator=op, available=overlay.available, reason=overlay.reason,
                          feeds=feeds)


def vehicles(overlay: Overlay, bbox: tuple[float, float, float, float] | None,
             near: tuple[float, float, float] | None, operator: str | None,
             route: str | None) -> list[dict]:
    out = []
    for v in overlay.vehicles:
        if operator is not None and v.operator != operator:
            continue
        if route is not None and v.route_id != route:
            continue
        if bbox is not None and not (bbox[0] <= v.lon <= bbox[2] and bbox[1] <= v.lat <= bbox[3]):
            continue
        if near is not None and float(haversine_m(near[0], near[1], v.lat, v.lon)) > near[2]:
            continue
        out.append(_feature(v))
    return out


def _feature(v: Vehicle) -> dict:
    return {"type": "Feature", "id": v.id,
            "geometry": {"type": "Point", "coordinates": [v.lon, v.lat]},
            "properties": {"operator": v.operator, "label": v.label, "trip_id": v.trip_id,
                           "route_id": v.route_id, "bearing": v.bearing, "speed_m_s": v.speed,
                           "occupancy": v.occupancy, "timestamp": _iso(v.timestamp),
                           "stop_id": v.stop_id, "current_status": v.current_status}}


def alerts(overlay: Overlay, stop: str | None, route: str | None, operator: str | None,
           at: int | None, langs: list[str]) -> list[AlertOut]:
    out = []
    for a in overlay.alerts:
        if operator is not None and a.operator != operator:
            continue
        if at is not None and not a.active_at(at):
            continue
        if stop is not None and not any(s.stop_id == stop for s in a.selectors):
            continue
        if route is not None and not any(s.route_id == route for s in a.selectors):
            continue
        out.append(_alert(a, langs))
    return out


def _alert(a: Alert, langs: list[str]) -> AlertOut:
    header = pick_text(a.header, langs)
    lang = next((k for k, v in a.header.items() if v == header), None) if header else None
    return AlertOut(
        id=a.id, operator=a.operator, cause=a.cause, effect=a.effect, severity=a.severity,
        active_periods=[ActivePeriod(start=_iso(s), end=_iso(e)) for s, e in a.periods],
        text=AlertText(header=header, description=pick_text(a.description, langs),
                       url=pick_text(a.url, langs), language=lang or None),
        translations={"header": a.header, "description": a.description},
        informed_entities=[InformedEntity(
            agency_id=s.agency_id, route_id=s.route_id, route_type=s.route_type,
            direction_id=s.direction_id, trip_id=s.trip_id, stop_id=s.stop_id)
            for s in a.selectors])


def _namespace_descriptor(op: str, d: pb.TripDescriptor) -> None:
    if d.trip_id:
        d.trip_id = f"{op}:{d.trip_id}"
    if d.route_id:
        d.route_id = f"{op}:{d.route_id}"


def merged_feed(live: LiveState, kind: str, now: int) -> pb.FeedMessage:
    """Every operator's latest feed of this kind, IDs in the merged namespace."""
    out = pb.FeedMessage()
    out.header.gtfs_realtime_version = "2.0"
    out.header.incrementality = pb.FeedHeader.FULL_DATASET
    out.header.timestamp = now
    for op, k in sorted(live.backend.stored()):
        if k != kind:
            continue
        msg = live.backend.get(op, k)
        if msg is None:
            continue
        for e in msg.entity:
            ne = out.entity.add()
            ne.CopyFrom(e)
            ne.id = f"{op}:{e.id}"
            if ne.HasField("trip_update"):
                tu = ne.trip_update
                _namespace_descriptor(op, tu.trip)
                if tu.vehicle.id:
                    tu.vehicle.id = f"{op}:{tu.vehicle.id}"
                for u in tu.stop_time_update:
                    if u.stop_id:
                        u.stop_id = f"{op}:{u.stop_id}"
                    props = u.stop_time_properties
                    if props.assigned_stop_id:
                        props.assigned_stop_id = f"{op}:{props.assigned_stop_id}"
            if ne.HasField("vehicle"):
                v = ne.vehicle
                _namespace_descriptor(op, v.trip)
                if v.vehicle.id:
                    v.vehicle.id = f"{op}:{v.vehicle.id}"
                if v.stop_id:
                    v.stop_id = f"{op}:{v.stop_id}"
            if ne.HasField("alert"):
                for ie in ne.alert.informed_entity:
                    for f in ("agency_id", "route_id", "stop_id"):
                        if getattr(ie, f):
                            setattr(ie, f, f"{op}:{getattr(ie, f)}")
                    if ie.HasField("trip"):
                        _namespace_descriptor(op, ie.trip)
    return out


def as_json(msg: pb.FeedMessage) -> dict:
    return json_format.MessageToDict(msg, preserving_proto_field_name=True)
