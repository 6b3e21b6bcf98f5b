"""An operator's sales: its own lines of every order, newest first, with totals."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from transit.db.engine import Database
from transit.db.models_tickets import SaleRow


def _iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat() if at is not None else None


def sales_of(db: Database, operator: str, since: datetime | None, until: datetime | None,
             limit: int) -> dict[str, Any]:
    q = select(SaleRow).where(SaleRow.operator_id == operator)
    if since is not None:
        q = q.where(SaleRow.sold_at >= since)
    if until is not None:
        q = q.where(SaleRow.sold_at < until)
    with db.session() as s:
        rows = list(s.scalars(q.order_by(SaleRow.sold_at.desc(), SaleRow.id.desc())
                              .limit(limit)))
    totals: dict[str, int] = defaultdict(int)
    for r in rows:
        totals[r.currency] += r.amount if r.status == "sold" else 0
    return {"operator": operator, "totals": dict(totals), "sales": [
        {"order_id": r.order_id, "ticket_id": r.ticket_id, "product_id": r.product_id,
         "amount": {"amount": r.amount, "currency": r.currency}, "status": r.status,
         "sold_at": _iso(r.sold_at), "refunded_at": _iso(r.refunded_at)} for r in rows]}
