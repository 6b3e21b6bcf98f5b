"""Property: whatever FeedMessage an operator pushes, every read endpoint still answers 2xx
with a body valid against the service's own OpenAPI schema, and the push itself answers
202, 400 (not a FeedMessage, required fields missing) or 422 (refused), never 500.

Messages are drawn over the protobuf fields of GTFS-Realtime (hypothesis), with ids of the
demo network mixed with arbitrary text, and extreme integers and floats (NaN, infinities,
2^63 - 1, 2^64 - 1); a part of them lacks required fields (serialized partially)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from google.protobuf import json_format
from google.transit import gtfs_realtime_pb2 as pb
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from tests.conftest import DEMO_CATALOG, client_for
from transit.catalog import load_catalog
from transit.ingest.pipeline import ingest
from transit.timetable.store import Store

NOW = "2026-11-26T08:00:00+01:00"
NOW_TS = int(datetime.fromisoformat(NOW).timestamp())
DEMO = DEMO_CATALOG.parent / "demo"
OPERATORS = {"RR": "rail", "RB": "bus", "RF": "ferry"}
KEYS = {op: f"key-{op}" for op in OPERATORS}
KINDS = ("trip-updates", "vehicle-positions", "alerts")
TD, STU, VP, AL = pb.TripDescriptor, pb.TripUpdate.StopTimeUpdate, pb.VehiclePosition, pb.Alert


def _column(op: str, table: str, column: str) -> list[str]:
    with (DEMO / OPERATORS[op] / table).open(newline="") as f:
        return sorted({row[column] for row in csv.DictReader(f)})


TRIPS = sorted({t for op in OPERATORS for t in _column(op, "trips.txt", "trip_id")})
STOPS = sorted({s for op in OPERATORS for s in _column(op, "stops.txt", "stop_id")})
ROUTES = sorted({r for op in OPERATORS for r in _column(op, "routes.txt", "route_id")})

# --------------------------------------------------------------------------- strategies

text = st.text(max_size=12)
int32 = st.integers(-(2**31), 2**31 - 1)
uint32 = st.integers(0, 2**32 - 1)
near_now = st.integers(NOW_TS - 2 * 86400, NOW_TS + 2 * 86400)
int64 = st.one_of(near_now, st.integers(-(2**63), 2**63 - 1),
                  st.sampled_from([0, 1, -1, 2**40, 2**63 - 1, -(2**63)]))
uint64 = st.one_of(near_now, st.integers(0, 2**64 - 1),
                   st.sampled_from([0, 1, 2**40, 2**63 - 1, 2**64 - 1]))
floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32),
                   st.floats(-200, 200), st.sampled_from([1e9, -1e9, 90.0, -90.0, 180.0]))
trip_ids = st.one_of(st.sampled_from(TRIPS), text)
stop_ids = st.one_of(st.sampled_from(STOPS), text)
route_ids = st.one_of(st.sampled_from(ROUTES), text)
dates = st.one_of(st.sampled_from(["20261126", "20261125", "20261127", "99991231",
                                   "00010101", "20261301", ""]), text)
hms = st.one_of(st.sampled_from(["06:00:00", "08:00:00", "25:00:00", "999:59:59", ""]), text)


def enum(e: Any) -> st.SearchStrategy[int]:
    return st.sampled_from(e.values())


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def _set(msg: Any, **fields: Any) -> None:
    for name, value in fields.items():
        if value is not None:
            setattr(msg, name, value)


@st.composite
def descriptors(draw: st.DrawFn, d: pb.TripDescriptor) -> None:
    _set(d, trip_id=draw(maybe(trip_ids)), route_id=draw(maybe(route_ids)),
         direction_id=draw(maybe(uint32)), start_time=draw(maybe(hms)),
         start_date=draw(maybe(dates)),
         schedule_relationship=draw(maybe(enum(TD.ScheduleRelationship))))


@st.composite
def events(draw: st.DrawFn, ev: pb.TripUpdate.StopTimeEvent) -> None:
    _set(ev, delay=draw(maybe(st.one_of(st.integers(-7200, 7200), int32))),
         time=draw(maybe(int64)), uncertainty=draw(maybe(int32)))


@st.composite
def trip_updates(draw: st.DrawFn, tu: pb.TripUpdate, complete: bool) -> None:
    if complete or draw(st.booleans()):
        tu.trip.SetInParent()
        draw(descriptors(tu.trip))
    _set(tu, timestamp=draw(maybe(uint64)), delay=draw(maybe(int32)))
    for _ in range(draw(st.integers(0, 4))):
        u = tu.stop_time_update.add()
        _set(u, stop_sequence=draw(maybe(st.one_of(st.integers(0, 12), uint32))),
             stop_id=draw(maybe(stop_ids)),
             schedule_relationship=draw(maybe(enum(STU.ScheduleRelationship))))
        for field in ("arrival", "departure"):
            if draw(st.booleans()):
                getattr(u, field).SetInParent()
                draw(events(getattr(u, field)))
        if draw(st.booleans()):
            u.stop_time_properties.assigned_stop_id = draw(stop_ids)
    if draw(st.booleans()):
        _set(tu.trip_properties, trip_id=draw(maybe(text)), start_date=draw(maybe(dates)),
             start_time=draw(maybe(hms)))


@st.composite
def vehicles(draw: st.DrawFn, v: pb.VehiclePosition) -> None:
    if draw(st.booleans()):
        v.trip.SetInParent()
        draw(descriptors(v.trip))
    _set(v.vehicle, id=draw(maybe(text)), label=draw(maybe(text)))
    if draw(st.integers(0, 4)):  # mostly with a position
        p = v.position
        p.latitude, p.longitude = draw(floats), draw(floats)
        _set(p, bearing=draw(maybe(floats)), speed=draw(maybe(floats)),
             odometer=draw(maybe(st.floats())))
    _set(v, timestamp=draw(maybe(uint64)), stop_id=draw(maybe(stop_ids)),
         current_stop_sequence=draw(maybe(uint32)),
         current_status=draw(maybe(enum(VP.VehicleStopStatus))),
         occupancy_status=draw(maybe(enum(VP.OccupancyStatus))),
         congestion_level=draw(maybe(enum(VP.CongestionLevel))))


@st.composite
def translated(draw: st.DrawFn, ts: pb.TranslatedString, complete: bool) -> None:
    for _ in range(draw(st.integers(0, 2))):
        tr = ts.translation.add()
        if complete or draw(st.booleans()):
            tr.text = draw(st.text(max_size=30))
        _set(tr, language=draw(maybe(st.one_of(st.sampled_from(["en", "fr", "nl-BE"]), text))))


@st.composite
def alerts(draw: st.DrawFn, a: pb.Alert, complete: bool) -> None:
    for _ in range(draw(st.integers(0, 3))):
        p = a.active_period.add()
        _set(p, start=draw(maybe(uint64)), end=draw(maybe(uint64)))
    for _ in range(draw(st.integers(0, 3))):
        ie = a.informed_entity.add()
        _set(ie, agency_id=draw(maybe(text)), route_id=draw(maybe(route_ids)),
             route_type=draw(maybe(int32)), direction_id=draw(maybe(uint32)),
             stop_id=draw(maybe(stop_ids)))
        if draw(st.booleans()):
            ie.trip.SetInParent()
            draw(descriptors(ie.trip))
    _set(a, cause=draw(maybe(enum(AL.Cause))), effect=draw(maybe(enum(AL.Effect))),
         severity_level=draw(maybe(enum(AL.SeverityLevel))))
    for field in ("header_text", "description_text", "url"):
        if draw(st.booleans()):
            getattr(a, field).SetInParent()
            draw(translated(getattr(a, field), complete))


@st.composite
def feed_messages(draw: st.DrawFn) -> tuple[pb.FeedMessage, bool]:
    """A FeedMessage, and whether it has every required field."""
    complete = draw(st.integers(0, 5)) > 0
    msg = pb.FeedMessage()
    if complete or draw(st.booleans()):
        msg.header.gtfs_realtime_version = draw(st.sampled_from(["2.0", "1.0", "x"]))
    _set(msg.header, incrementality=draw(maybe(enum(pb.FeedHeader.Incrementality))),
         timestamp=draw(st.one_of(st.just(NOW_TS - 5), uint64)))
    for i in range(draw(st.integers(0, 5))):
        e = msg.entity.add()
        if complete or draw(st.booleans()):
            e.id = draw(st.one_of(st.just(f"e{i}"), text))
        what = draw(st.sampled_from(["trip_update", "vehicle", "alert", "deleted", "empty"]))
        if what == "trip_update":
            e.trip_update.SetInParent()
            draw(trip_updates(e.trip_update, complete))
        elif what == "vehicle":
            e.vehicle.SetInParent()
            draw(vehicles(e.vehicle))
        elif what == "alert":
            e.alert.SetInParent()
            draw(alerts(e.alert, complete))
        elif what == "deleted":
            e.is_deleted = True
    return msg, msg.IsInitialized()


# --------------------------------------------------------------------------- the service


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data = tmp_path_factory.mktemp("demo-rt")
    ingest(load_catalog(DEMO_CATALOG), Store(data))
    with client_for(data, NOW, push_keys=KEYS, realtime_poll=False) as c:
        yield c


@pytest.fixture(scope="module")
def openapi(client: TestClient) -> dict[str, Any]:
    r = client.get("/openapi.json")
    assert r.status_code == 200
    return r.json()


def check(openapi: dict[str, Any], r: Any, path: str) -> None:
    """2xx, and the JSON body valid against the 200 response schema of `path`."""
    assert 200 <= r.status_code < 300, (r.request.url, r.status_code, r.text[:2000])
    body = r.json()
    content = openapi["paths"][path]["get"]["responses"]["200"]["content"]
    schema = content["application/json"]["schema"]
    validator = Draft202012Validator({**schema, "components": openapi["components"]},
                                     format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(body), key=str)
    assert not errors, (r.request.url, [e.message for e in errors[:5]])


def read_everything(client: TestClient, openapi: dict[str, Any], op: str) -> None:
    check(openapi, client.get(f"/v1/operators/{op}/realtime"),
          "/v1/operators/{operator_id}/realtime")
    for params in ({"bbox": "-180,-90,180,90"}, {"lat": 50.44, "lon": 3.93, "radius": 50_000},
                   {"lat": -89.0, "lon": -179.0, "radius": 50_000}):
        check(openapi, client.get("/v1/vehicles", params=params), "/v1/vehicles")
    for params in ({}, {"at": "any"}, {"at": "any", "stop": "RB:1"}):
        check(openapi, client.get("/v1/alerts", params=params), "/v1/alerts")
    for kind in KINDS:
        r = client.get(f"/v1/gtfs-rt/{kind}", params={"format": "json"})
        assert r.status_code == 200, (kind, r.text[:2000])
        json_format.ParseDict(r.json(), pb.FeedMessage())
        r = client.get(f"/v1/gtfs-rt/{kind}")
        assert r.status_code == 200
        pb.FeedMessage().ParseFromString(r.content)
    for stop in ("RR:CEN1", "RB:1", "RF:HAR"):
        check(openapi, client.get(f"/v1/stops/{stop}/departures", params={"window": 120}),
              "/v1/stops/{stop_id}/departures")
    check(openapi, client.get("/v1/stations/RR:CEN/departures"),
          "/v1/stations/{station_id}/departures")
    for trip in ("RR:A-OUT-0600", "RB:10-E@08:00:00", "RF:F1-08"):
        check(openapi, client.get(f"/v1/trips/{trip}", params={"date": "2026-11-26"}),
              "/v1/trips/{trip_id}")


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(drawn=feed_messages(), op=st.sampled_from(sorted(OPERATORS)),
       kind=st.sampled_from([None, *KINDS]))
def test_any_pushed_feed_leaves_every_read_endpoint_answering(
        client: TestClient, openapi: dict[str, Any], drawn: tuple[pb.FeedMessage, bool],
        op: str, kind: str | None) -> None:
    msg, complete = drawn
    body = msg.SerializeToString() if complete else msg.SerializePartialToString()
    r = client.post(f"/v1/operators/{op}/realtime", content=body,
                    params={"kind": kind} if kind else None,
                    headers={"Authorization": f"Bearer {KEYS[op]}"})
    event(f"push answered {r.status_code}")
    if not complete or not msg.header.gtfs_realtime_version:
        assert r.status_code == 400, r.text  # required fields missing
    else:
        assert r.status_code in (202, 422), r.text
    assert r.headers["content-type"].startswith(
        "application/json" if r.status_code == 202 else "application/problem+json")
    read_everything(client, openapi, op)
