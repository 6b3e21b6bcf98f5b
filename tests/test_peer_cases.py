"""Networks with answers written by other projects (../shared/peer-cases/CASES.md).

The journey expectations belong to journey planning; here each network must load (blank
coordinates, frequencies, trips running over several days) and its boards be right.
"""

from __future__ import annotations

import pytest

from tests.conftest import PEER_CASES

pytestmark = pytest.mark.skipif(not PEER_CASES.exists(),
                                reason=f"peer cases not found at {PEER_CASES}")


def test_multi_day_trip_departs_three_days_after_its_service_date(network) -> None:
    # nigiri tb_test early_train: R0_MON (Monday 2021-03-01) leaves S2 at 80:00:00, i.e.
    # Thursday 08:00 (London, GMT in March); R1_THU arrives at S2 at 07:00.
    c = network({"N": PEER_CASES / "nigiri_tb_early_train" / "gtfs"}, "2021-03-04T05:00:00Z")
    r = c.get("/v1/stops/N:S2/departures", params={"window": 240}).json()
    assert [(d["trip_id"], d["scheduled_departure"], d["service_date"])
            for d in r["departures"]] == [("N:R0_MON", "2021-03-04T08:00:00+00:00", "2021-03-01")]
    trip = c.get("/v1/trips/N:R0_MON", params={"date": "2021-03-01"}).json()
    assert [s["scheduled_arrival"] for s in trip["stops"]] == [
        "2021-03-01T00:00:00+00:00", "2021-03-04T04:00:00+00:00", "2021-03-04T09:00:00+00:00"]
    assert c.get("/v1/stops/N:S2").json()["lat"] is None


def test_same_day_transfer_network_boards(network) -> None:
    c = network({"N": PEER_CASES / "nigiri_tb_same_day_transfer" / "gtfs"},
                "2021-02-28T23:00:00Z")
    r = c.get("/v1/stops/N:S1/departures", params={"window": 1440, "limit": 5}).json()
    assert [(d["trip_id"], d["scheduled_departure"]) for d in r["departures"]] == [
        ("N:R1_MON", "2021-03-01T12:00:00+00:00")]


def test_google_sample_feed_frequencies_and_removed_date(network) -> None:
    feed = PEER_CASES / "google_transit_spec_examples/gtfs/spec/en/examples/sample-feed-1"
    c = network({"G": feed}, "2007-06-05T05:00:00-07:00")
    # 8 plain trips + STBA every 30 min 06:00-22:00 (32) + CITY1 and CITY2 (52 each)
    assert c.get("/v1/operators").json()["operators"][0]["counts"]["trips"] == 144
    r = c.get("/v1/stops/G:STAGECOACH/departures",
              params={"at": "2007-06-05T06:00", "window": 65}).json()
    got = [(d["scheduled_departure"][11:16], d["trip_id"]) for d in r["departures"]]
    # CITY2 ends at STAGECOACH: an arrival, not a departure
    assert sorted(got) == got == sorted(
        (f"{h}:{m}", f"G:{t}@{h}:{m}:00") for h in ("06", "07") for m in ("00", "30")
        for t in ("CITY1", "STBA") if (h, m) != ("07", "30"))
    # FULLW is removed on 2007-06-04 by calendar_dates
    r = c.get("/v1/stops/G:STAGECOACH/departures",
              params={"at": "2007-06-04T05:00", "window": 65}).json()
    assert r["departures"] == []
