"""The live data one request sees, shared by every read endpoint."""

from __future__ import annotations

from dataclasses import dataclass

from transit.realtime.overlay import Alert, Overlay

ALERTS_STALE_AFTER_S = 600  # alerts nobody has confirmed for this long are not shown


@dataclass(frozen=True)
class LiveContext:
    """The live data a request sees: one overlay snapshot, judged by the service clock."""

    overlay: Overlay
    now: int
    stale_after_s: int

    @classmethod
    def none(cls) -> LiveContext:
        return cls(Overlay([]), 0, 0)

    @property
    def alerts(self) -> list[Alert]:
        return [a for a in self.overlay.alerts
                if self.now - a.feed_timestamp <= ALERTS_STALE_AFTER_S]
