"""Inspections: a scanned ticket checked as an inspector's phone would (signature, validity
now, operator and zone, revocation), plus what only the server sees: the same ticket
inspected on another vehicle at about the same time (a shared screenshot). Every
inspection is recorded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from transit.db.engine import Database
from transit.db.models_tickets import InspectionRow
from transit.shop.revocations import is_revoked

Verify = Callable[..., Any]  # transit.tickets.verify.verify_text


@dataclass(frozen=True)
class Scan:
    text: str
    operator: str
    vehicle_id: str | None
    zone: str | None
    inspector: str  # key prefix


def zone_id(zone: str | None, operator: str) -> str | None:
    """The merged id of the zone an inspector gives: tickets name zones namespaced
    (`N:A`); a bare id (`A`) is one of the inspecting operator's fares data."""
    if zone is None or not zone.strip():
        return None
    zone = zone.strip()
    return zone if ":" in zone else f"{operator}:{zone}"


def _iso(t: int | datetime) -> str:
    at = datetime.fromtimestamp(t, UTC) if isinstance(t, int) else t.astimezone(UTC)
    return at.isoformat()


def _elsewhere(db: Database, ticket_id: str, vehicle: str, now: datetime, overlap_s: int
               ) -> list[str]:
    window = timedelta(seconds=overlap_s)
    with db.session() as s:
        rows = s.execute(select(InspectionRow.vehicle_id, InspectionRow.at).where(
            InspectionRow.ticket_id == ticket_id, InspectionRow.at >= now - window,
            InspectionRow.at <= now + window, InspectionRow.vehicle_id.is_not(None),
            InspectionRow.vehicle_id != vehicle).order_by(InspectionRow.at.desc())
            .limit(3)).all()
    return [f"inspected on another vehicle at the same time: {v} at {_iso(at)}"
            for v, at in rows]


def inspect(db: Database, verify: Verify, keys: Any, scan: Scan, now: datetime,
            overlap_s: int) -> dict[str, Any]:
    t = int(now.timestamp())
    v = verify(scan.text, keys, t, frozenset(), scan.operator, scan.zone)
    claims = v.claims
    reasons = list(v.reasons)
    if claims is not None and is_revoked(db, claims.ticket_id):
        reasons = list(verify(scan.text, keys, t, frozenset({claims.ticket_id}),
                              scan.operator, scan.zone).reasons)
    if claims is not None and scan.vehicle_id:
        reasons += _elsewhere(db, claims.ticket_id, scan.vehicle_id, now, overlap_s)
    with db.session() as s:
        s.add(InspectionRow(ticket_id=claims.ticket_id if claims else None,
                            operator_id=scan.operator, vehicle_id=scan.vehicle_id,
                            inspector=scan.inspector, at=now, valid=not reasons,
                            reasons=reasons))
    return {"valid": not reasons, "reasons": reasons,
            "ticket_id": claims.ticket_id if claims else None,
            "product_name": claims.product_name if claims else None,
            "rider_category": claims.rider_category if claims else None,
            "travellers": claims.travellers if claims else None,
            "valid_from": _iso(claims.valid_from) if claims else None,
            "valid_until": _iso(claims.valid_until) if claims else None,
            "inspected_at": _iso(now)}
