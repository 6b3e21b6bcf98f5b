"""An alert as it travels from the evaluator (commuters) to the inbox, the event stream, web
push and webhooks: defined here, below its producer, so delivery imports nothing above it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class AlertEvent:
    """One alert as delivery sends it: `state` new, updated or resolved (same `id`)."""

    id: str
    commute_id: str
    user_id: str
    kind: str
    state: str
    version: int
    at: int  # service-clock instant of the update
    service_date: str
    journey: dict
    subject: str  # the trip id or service-alert id the condition is about
    detail: dict = field(default_factory=dict)
    alternative: dict | None = None

    def as_dict(self) -> dict:
        return {"id": self.id, "commute_id": self.commute_id, "kind": self.kind,
                "state": self.state, "version": self.version,
                "at": datetime.fromtimestamp(self.at, ZoneInfo("UTC")).isoformat(),
                "service_date": self.service_date, "journey": self.journey,
                "subject": self.subject, "detail": self.detail,
                "alternative": self.alternative}
