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
