"""The KPI definitions in one place (the README's KPI section states them in words)."""

from __future__ import annotations

# A departure is on time from 1 minute early to 5 minutes late, both bounds included.
EARLY_LIMIT_S = -60
LATE_LIMIT_S = 300
# A feed gap: two accepted updates further apart than GAP_FACTOR times the expected interval.
GAP_FACTOR = 3.0
EXPECTED_INTERVAL_S = 30.0
# Not observed yet (a position of a trip whose vehicle has not left it by the service clock).
UNSEEN = -(1 << 31)


def classify(delay_s: int) -> str:
    """'early', 'on_time' or 'late' for a departure's delay in seconds."""
    if delay_s < EARLY_LIMIT_S:
        return "early"
    if delay_s > LATE_LIMIT_S:
        return "late"
    return "on_time"


# Stated in every KPI answer (and in the README), so that a number is never read wrongly.
DEFINITIONS: dict[str, str] = {
    "punctuality": "share of observed departures from 1 minute early to 5 minutes late "
                   "(both included) of the scheduled time",
    "observed departure": "a stop of a trip with live data, not its last stop, not skipped, "
                          "whose predicted departure lies in the past by the service clock "
                          "when an update is applied; the last such prediction counts, once "
                          "per stop",
    "with live data": "scheduled trips that a trip update named (running or canceled)",
    "live_data_share": "trips with live data / trips the timetable schedules that day",
    "canceled": "trips whose latest trip update says CANCELED (deleted: DELETED)",
    "gaps": "intervals between two accepted updates longer than the gap factor times the "
            "expected interval, counted on the day the interval ends",
    "rejected": "entities the service could not apply, by reason, summed over the updates",
    "requests": "API requests that name a stop, station, trip or route of the operator "
                "(route rows: naming that route or one of its trips)",
}
