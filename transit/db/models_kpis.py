"""Tables of the operator KPIs (written by transit.kpis.recorder, read by transit.kpis.report).

One row per trip instance seen in live data (its latest state and per-stop delays), per
route and day the trips the timetable schedules, and per day the feed, rejection and
request counters. Instants are Unix seconds: the recorder compares and takes maxima of
them in SQL on both backends."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from transit.db.models import Base


class KpiTripRow(Base):
    """A trip instance as live data last described it; `delays` holds the delay (int32
    seconds, or UNSEEN) of the departure at each stop position, so that a restarted recorder
    goes on from where it stopped."""

    __tablename__ = "kpi_trips"

    operator_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    service_date: Mapped[date] = mapped_column(Date, primary_key=True)
    trip_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    route_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(12))  # scheduled|canceled|deleted|added
    observed: Mapped[int] = mapped_column(Integer)
    on_time: Mapped[int] = mapped_column(Integer)
    early: Mapped[int] = mapped_column(Integer)
    late: Mapped[int] = mapped_column(Integer)
    delays: Mapped[bytes] = mapped_column(LargeBinary)
    feed_timestamp: Mapped[int] = mapped_column(BigInteger)


class KpiScheduledRow(Base):
    """Trips the timetable in service scheduled for a route on a day."""

    __tablename__ = "kpi_scheduled"

    operator_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    service_date: Mapped[date] = mapped_column(Date, primary_key=True)
    route_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    trips: Mapped[int] = mapped_column(Integer)


class KpiFeedRow(Base):
    """Accepted updates of one kind of an operator's live data on a day (operator's local
    date by the service clock) and the gaps between them."""

    __tablename__ = "kpi_feeds"

    operator_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    service_date: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    updates: Mapped[int] = mapped_column(BigInteger)
    entities: Mapped[int] = mapped_column(BigInteger)
    applied: Mapped[int] = mapped_column(BigInteger)
    gaps: Mapped[int] = mapped_column(Integer)
    max_gap_s: Mapped[int] = mapped_column(Integer)
    first_update_at: Mapped[int] = mapped_column(BigInteger)
    last_update_at: Mapped[int] = mapped_column(BigInteger)


class KpiRejectionRow(Base):
    """Entities rejected on a day, by reason, summed over the updates applied."""

    __tablename__ = "kpi_rejections"

    operator_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    service_date: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    reason: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)


class KpiDemandRow(Base):
    """API requests naming the operator's stops, trips or routes on a day; route_id '' is
    every request of the operator, a route's row those naming that route or its trips."""

    __tablename__ = "kpi_demand"

    operator_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    service_date: Mapped[date] = mapped_column(Date, primary_key=True)
    route_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    requests: Mapped[int] = mapped_column(BigInteger)
