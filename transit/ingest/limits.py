"""What a feed may cost: archive and download sizes, compiled service days.

Apart from the pipeline so that a server, which reads these settings at start, imports none
of the ingest libraries (gtfs-kit, pandas) until a job compiles a feed."""

from __future__ import annotations

from dataclasses import dataclass, field

from transit.clock import Clock, clock_from_setting
from transit.ingest.archive import ArchiveLimits
from transit.settings import Settings
from transit.timetable.calendar import ServiceHorizon


@dataclass(frozen=True)
class IngestLimits:
    """Bounds on what a feed may cost (archive and download sizes, compiled days)."""

    archive: ArchiveLimits = field(default_factory=ArchiveLimits)
    horizon: ServiceHorizon = field(default_factory=ServiceHorizon)


def ingest_limits(settings: Settings, clock: Clock | None = None) -> IngestLimits:
    """The limits the settings ask for (TRANSIT_FEED_MAX_*, TRANSIT_SERVICE_DAYS_*)."""
    archive = ArchiveLimits(
        max_members=settings.feed_max_members, max_member_bytes=settings.feed_max_member_bytes,
        max_total_bytes=settings.feed_max_total_bytes, max_ratio=settings.feed_max_ratio,
        max_download_bytes=settings.feed_max_download_bytes)
    clock = clock or clock_from_setting(settings.clock)
    horizon = ServiceHorizon(settings.service_days_before, settings.service_days_after,
                             clock.now().date())
    return IngestLimits(archive, horizon)
