"""The journeys of the peer cases (../shared/peer-cases/CASES.md, section 1, nigiri)."""

from __future__ import annotations

import pytest

from tests.conftest import PEER_CASES
from tests.journey_support import Planner, summary

needs_peers = pytest.mark.skipif(not PEER_CASES.exists(),
                                 reason=f"peer cases not found at {PEER_CASES}")


def _peer(planner, case: str, at: str, tz: str, **kw) -> Planner:
    return planner({"N": PEER_CASES / case / "gtfs"}, at, tz=tz, **kw)


def _times(js: list[dict]) -> list[tuple[str, str, int]]:
    return [(j["departure"], j["arrival"], j["transfers"]) for j in js]


@needs_peers
def test_peer_tb_same_day_transfer(planner) -> None:
    p = _peer(planner, "nigiri_tb_same_day_transfer", "2021-02-28T23:00:00Z", "Europe/London")
    js = p.plan(**{"from": "N:S0", "to": "N:S2", "depart_at": "2021-02-28T23:00:00+00:00"})
    assert _times(js) == [("2021-03-01T00:00:00+00:00", "2021-03-01T13:00:00+00:00", 1)]
    assert summary(js[0]) == [
        ("N:R0_MON", "N:S0", "2021-03-01T00:00:00+00:00", "N:S1", "2021-03-01T06:00:00+00:00"),
        ("N:R1_MON", "N:S1", "2021-03-01T12:00:00+00:00", "N:S2", "2021-03-01T13:00:00+00:00")]


@needs_peers
def test_peer_tb_earlier_stop_transfer_and_no_journey(planner) -> None:
    p = _peer(planner, "nigiri_tb_earlier_stop_transfer", "2021-02-28T23:00:00Z",
              "Europe/London")
    js = p.plan(**{"from": "N:S3", "to": "N:S2", "depart_at": "2021-02-28T23:00:00+00:00"})
    assert [(j["arrival"], j["transfers"]) for j in js] == [("2021-03-01T06:00:00+00:00", 1)]
    assert summary(js[0]) == [
        ("N:R0_MON0", "N:S3", "2021-03-01T03:00:00+00:00", "N:S1", "2021-03-01T04:00:00+00:00"),
        ("N:R0_MON1", "N:S1", "2021-03-01T05:00:00+00:00", "N:S2", "2021-03-01T06:00:00+00:00")]
    body = p.get(**{"from": "N:S4", "to": "N:S0", "depart_at": "2021-02-28T23:00:00+00:00"})
    assert body["journeys"] == [] and body["reason"]


@needs_peers
def test_peer_tb_early_train_multi_day_trip(planner) -> None:
    p = _peer(planner, "nigiri_tb_early_train", "2021-03-04T05:00:00Z", "Europe/London")
    js = p.plan(**{"from": "N:S1", "to": "N:S3", "depart_at": "2021-03-04T05:00:00+00:00"})
    assert [(j["arrival"], j["transfers"]) for j in js] == [("2021-03-04T09:00:00+00:00", 1)]
    assert summary(js[0]) == [
        ("N:R1_THU", "N:S1", "2021-03-04T06:00:00+00:00", "N:S2", "2021-03-04T07:00:00+00:00"),
        ("N:R0_MON", "N:S2", "2021-03-04T08:00:00+00:00", "N:S3", "2021-03-04T09:00:00+00:00")]
    assert [leg["service_date"] for leg in js[0]["legs"]] == ["2021-03-04", "2021-03-01"]


@needs_peers
@pytest.mark.parametrize(("change_min", "arrival"), [
    (2, "2019-05-01T10:22:00+02:00"), (3, "2019-05-01T10:22:00+02:00"),
    (4, "2019-05-01T10:30:00+02:00"), (10, "2019-05-01T10:30:00+02:00")])
def test_peer_transfer_time_settings(planner, change_min: int, arrival: str) -> None:
    at = "2019-05-01T10:00:00+02:00"
    q = {"from": "N:A", "to": "N:C", "depart_at": at}
    p = _peer(planner, "nigiri_transfer_time_settings", at, "Europe/Berlin",
              min_change_s=change_min * 60)
    js = p.plan(**q)
    assert _times(js) == [("2019-05-01T10:00:00+02:00", arrival, 1)]
    second = "N:T2" if arrival.endswith("10:22:00+02:00") else "N:T3"
    assert [leg["trip_id"] for leg in js[0]["legs"]] == ["N:T1", second]


@needs_peers
@pytest.mark.parametrize(("extra_min", "arrival"), [
    (0, "2019-05-01T10:22:00+02:00"), (1, "2019-05-01T10:22:00+02:00"),
    (2, "2019-05-01T10:30:00+02:00"), (8, "2019-05-01T10:30:00+02:00")])
def test_peer_transfer_time_settings_as_extra_slack(planner, extra_min: int,
                                                    arrival: str) -> None:
    # the catalog's default change time (min_change_s 120 s) plus min_transfer_s:
    # 2, 3, 4 and 10 minutes in all
    at = "2019-05-01T10:00:00+02:00"
    p = _peer(planner, "nigiri_transfer_time_settings", at, "Europe/Berlin")
    js = p.plan(**{"from": "N:A", "to": "N:C", "depart_at": at,
                   "min_transfer_s": extra_min * 60})
    assert _times(js) == [("2019-05-01T10:00:00+02:00", arrival, 1)]


@needs_peers
def test_peer_fares_v2_area_sets_journey(planner) -> None:
    at = "2022-03-30T02:00:00+02:00"  # 00:00 UTC
    p = _peer(planner, "nigiri_fares_v2_area_sets", at, "Europe/Berlin")
    js = p.plan(**{"from": "N:A", "to": "N:C", "depart_at": at})
    assert _times(js) == [("2022-03-30T02:00:00+02:00", "2022-03-30T03:00:00+02:00", 1)]
    assert [(leg["route"]["id"], leg["from"]["stop_id"], leg["departure"], leg["to"]["stop_id"],
             leg["arrival"]) for leg in js[0]["legs"]] == [
        ("N:line1", "N:A", "2022-03-30T02:00:00+02:00", "N:B", "2022-03-30T02:30:00+02:00"),
        ("N:line2", "N:B", "2022-03-30T02:35:00+02:00", "N:C", "2022-03-30T03:00:00+02:00")]


@needs_peers
@pytest.mark.parametrize(("origin", "at", "arrival", "transfers"), [
    ("N:A", "2022-03-30T02:00:00+02:00", "2022-03-30T04:30:00+02:00", 3),  # offpeak
    ("N:A", "2022-03-30T08:00:00+02:00", "2022-03-30T10:30:00+02:00", 3),  # peak
    ("N:C", "2022-03-30T02:00:00+02:00", "2022-03-30T03:30:00+02:00", 1)])
def test_peer_fares_v2_timeframes_transfer_journeys(planner, origin: str, at: str,
                                                    arrival: str, transfers: int) -> None:
    p = _peer(planner, "nigiri_fares_v2_timeframes_transfer", at, "Europe/Berlin")
    js = p.plan(**{"from": origin, "to": "N:E", "depart_at": at})
    assert [(j["arrival"], j["transfers"]) for j in js] == [(arrival, transfers)]


@needs_peers
def test_peer_rt_delay_static_timetable_has_no_journey(planner) -> None:
    p = _peer(planner, "nigiri_rt_delay_makes_transfer", "2019-05-03T01:00:00+02:00",
              "Europe/Berlin")
    body = p.get(**{"from": "N:A", "to": "N:D", "depart_at": "2019-05-03T01:00:00+02:00"})
    assert body["journeys"] == [] and body["reason"]

    # with the GTFS-RT update the journey exists: tests/test_realtime_journeys.py
