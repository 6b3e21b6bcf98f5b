"""Live endpoints' logic: status, vehicles, alerts and the merged GTFS-RT export."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from google.protobuf import json_format
from google.transit import gtfs_realtime_pb2 as pb

from transit.api.problems import not_found
from transit.live.schemas import (
    ActivePeriod,
    AlertOut,
    AlertText,
    FeedState,
    InformedEntity,
    RealtimeStatus,
)
from transit.realtime.alerts import pick_text
from transit.realtime.context import ALERTS_STALE_AFTER_S
from transit.realtime.matching import Target, affects
from transit.realtime.overlay import Alert, Overlay, Vehicle
from transit.realtime.state import LiveState
from transit.redaction import public_text
from transit.timetable.geo import haversine_m
from transit.timetable.timetable import Timetable


def _iso(ts: int | None) -> str | None:
    return None if not ts else datetime.fromtimestamp(int(ts), UTC).isoformat()


def status(live: LiveState, op: str, now: int) -> RealtimeStatus:
    overlay = live.overlay()
    feeds = []
    for st in live.status(op):
        feeds.append(FeedState(
            kind=st.kind,  # type: ignore[arg-type]
            entities=st.entities, applied=st.applied, rejected=st.rejected,
            rejected_examples=st.rejected_examples, warnings=st.warnings,
            warning_examples=st.warning_examples, feed_timestamp=_iso(st.feed_timestamp),
            age_s=None if not st.feed_timestamp else now - st.feed_timestamp,
            incrementality=st.incrementality, last_success=_iso(st.last_success),
            last_error=public_text(st.last_error) if st.last_error else None,
            last_error_at=_iso(st.last_error_at)))
    return RealtimeStatus(operator=op, available=overlay.available, reason=overlay.reason,
                          feeds=feeds)


def vehicles(overlay: Overlay, bbox: tuple[float, float, float, float] | None,
             near: tuple[float, float, float] | None, operator: str | None,
             route: str | None, now: int, max_age_s: int) -> list[dict]:
    """Vehicles heard of within max_age_s (by their own timestamp, else their feed's): one
    that stopped reporting leaves the map."""
    out = []
    for v in overlay.vehicles:
        if now - (v.timestamp or v.feed_timestamp) > max_age_s:
            continue
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


def _route_target(tt: Timetable, r: int, stop_ids: tuple[str, ...]) -> Target:
    op = tt.meta["operators"][int(tt.route_operator[r])]["id"]
    return Target(operator=op,
                  agency_id=tt.strings("agency_id")[int(tt.route_agency[r])],
                  route_id=tt.strings("route_id")[r], route_type=int(tt.route_type[r]),
                  direction_id=None, trip_id=None, stop_ids=stop_ids)


def _targets(tt: Timetable, stop: str | None, route: str | None) -> list[Target] | None:
    """What `stop=` or `route=` stand for, as alert targets (None: no such filter). A stop
    is every route calling there at that stop (or its station); a route is the route."""
    if stop is not None:
        s = tt.stop_index.get(stop)
        if s is None:
            raise not_found("stop", stop)
        ids = tt.strings("stop_id")
        parent = int(tt.stop_parent[s])
        stop_ids = (ids[s], ids[parent]) if parent >= 0 else (ids[s],)
        op = tt.meta["operators"][int(tt.stop_operator[s])]["id"]
        targets = [_route_target(tt, int(r), stop_ids) for r in tt.routes_at(s)]
        return [*targets, Target(op, None, None, None, None, None, stop_ids)]
    if route is not None:
        routes = tt.strings("route_id").to_list()
        if route not in routes:
            raise not_found("route", route)
        return [_route_target(tt, routes.index(route), ())]
    return None


def alerts(overlay: Overlay, tt: Timetable, stop: str | None, route: str | None,
           operator: str | None, at: int | None, langs: list[str], now: int
           ) -> list[AlertOut]:
    """Alerts (active at `at`, None: any time) that affect the stop / route asked for:
    informed entities match by the GTFS-RT rules (fields ANDed, entities ORed), so an
    agency-wide alert affects every stop and route of that agency."""
    targets = _targets(tt, stop, route)
    out = []
    for a in overlay.alerts:
        if operator is not None and a.operator != operator:
            continue
        if now - a.feed_timestamp > ALERTS_STALE_AFTER_S:
            continue
        if at is not None and not a.active_at(at):
            continue
        if targets is not None and not any(affects(a, t) for t in targets):
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


def _republished(live: LiveState, op: str, kind: str, now: int
                 ) -> Callable[[pb.FeedEntity, int], bool]:
    """Entities with implausible values are not passed on, nor vehicles that stopped
    reporting (as on /v1/vehicles)."""
    invalid = live.invalid_ids(op, kind)
    max_age = live.limits.vehicle_max_age_s

    def keep(e: pb.FeedEntity, header_ts: int) -> bool:
        if e.id in invalid:
            return False
        if kind == "vehicle-positions" and e.HasField("vehicle"):
            return now - int(e.vehicle.timestamp or header_ts or now) <= max_age
        return True

    return keep


def merged_feed(live: LiveState, kind: str, now: int) -> pb.FeedMessage:
    """Every operator's latest feed of this kind, IDs in the merged namespace. While the
    store is unavailable: the feeds this process last applied, dated by the newest of them
    (not `now`: a consumer judges their age by it)."""
    out = pb.FeedMessage()
    out.header.gtfs_realtime_version = "2.0"
    out.header.incrementality = pb.FeedHeader.FULL_DATASET
    feeds, current = live.latest(kind)
    out.header.timestamp = now if current else max(
        (int(m.header.timestamp) for _, m in feeds), default=now)
    for op, msg in feeds:
        keep = _republished(live, op, kind, now)
        for e in msg.entity:
            if not keep(e, int(msg.header.timestamp)):
                continue
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
