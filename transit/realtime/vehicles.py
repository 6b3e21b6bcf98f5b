"""VehiclePositions: vehicles on the map, matched to trips where the feed says which."""

from __future__ import annotations

from google.transit import gtfs_realtime_pb2 as pb

from transit.realtime.overlay import FeedResult, FeedStatus, Vehicle
from transit.realtime.trip_updates import Reject, _match
from transit.realtime.validate import FUTURE_TIMESTAMP, Limits, in_future, vehicle_problem
from transit.timetable.timetable import Timetable

VP = pb.VehiclePosition


def apply_vehicles(tt: Timetable, op: str, msg: pb.FeedMessage, now: int,
                   status: FeedStatus, limits: Limits = Limits()) -> FeedResult:
    result = FeedResult(op, "vehicle-positions", status)
    ts = int(msg.header.timestamp) if msg.header.timestamp else now
    for e in msg.entity:
        if not e.HasField("vehicle"):
            continue
        status.entities += 1
        v = e.vehicle
        if not v.HasField("position"):
            status.reject("no position", f"entity {e.id}")
            continue
        problem = vehicle_problem(v.position)
        if problem is None and in_future(int(v.timestamp), now, limits):
            problem = FUTURE_TIMESTAMP
        if problem is not None:
            result.reject(problem, e.id, f"entity {e.id}: {_shown(v)}")
            continue
        trip_id = route_id = None
        if v.HasField("trip") and (v.trip.trip_id or v.trip.route_id):
            try:
                t, _ = _match(tt, op, v.trip, now)
                trip_id = tt.strings("trip_id")[t]
                route_id = tt.strings("route_id")[int(tt.trip_route[t])]
            except Reject as r:
                # a position without a known trip is still a vehicle on the map
                status.reject(r.reason, f"entity {e.id}: {r} (kept without trip)")
                route_id = f"{op}:{v.trip.route_id}" if v.trip.route_id else None
        p = v.position
        result.vehicles.append(Vehicle(
            id=f"{op}:{v.vehicle.id or e.id}", operator=op, label=v.vehicle.label or None,
            trip_id=trip_id, route_id=route_id, lat=float(p.latitude), lon=float(p.longitude),
            bearing=float(p.bearing) if p.HasField("bearing") else None,
            speed=float(p.speed) if p.HasField("speed") else None,
            occupancy=VP.OccupancyStatus.Name(v.occupancy_status)
            if v.HasField("occupancy_status") else None,
            timestamp=int(v.timestamp) if v.timestamp else None,
            stop_id=f"{op}:{v.stop_id}" if v.stop_id else None,
            current_status=VP.VehicleStopStatus.Name(v.current_status)
            if v.HasField("current_status") else None,
            feed_timestamp=ts))
        status.applied += 1
    return result


def _shown(v: pb.VehiclePosition) -> str:
    p = v.position
    return (f"latitude {p.latitude}, longitude {p.longitude}, bearing {p.bearing}, "
            f"speed {p.speed}, timestamp {v.timestamp}")
