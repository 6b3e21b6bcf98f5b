"""Offers: quotes kept for the account that asked, orderable until they expire (30 minutes
of the service clock)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select

from transit.db.engine import Database
from transit.db.models_tickets import OfferRow, OrderRow
from transit.shop.quotes import Quote

OFFER_TTL = timedelta(minutes=30)
MAX_OPEN = 100  # unexpired offers not ordered, per account (each is a row: the limit stops a flood)


class TooManyOffers(Exception):
    pass
CONDITIONS = {
    "refund": "full refund until the validity starts; none after",
    "exchange": "not exchangeable",
    "transferable": False,
}


def _at(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, UTC)


def save(db: Database, user_id: str, quote: Quote, now: datetime,
         journey_id: str | None, tz: str) -> OfferRow:
    data: dict[str, Any] = {
        "operators": quote.operators, "product_id": quote.product_id,
        "product_name": quote.product_name, "lines": quote.lines, "zones": quote.zones,
        "legs": quote.legs, "unpriced_reason": quote.unpriced_reason,
        "journey_id": journey_id, "conditions": CONDITIONS, "tz": tz}
    row = OfferRow(id="of_" + secrets.token_urlsafe(15), user_id=user_id, kind=quote.kind,
                   amount=quote.total.amount if quote.total else None,
                   currency=quote.total.currency if quote.total else None, data=data,
                   valid_from=_at(quote.valid_from), valid_until=_at(quote.valid_until),
                   expires_at=now + OFFER_TTL, created_at=now)
    with db.session() as s:
        # expired offers are of no use (an order keeps its own copy): gone with each new one
        s.execute(delete(OfferRow).where(OfferRow.user_id == user_id,
                                         OfferRow.expires_at <= now))
        open_ = s.scalar(select(func.count()).select_from(OfferRow).where(
            OfferRow.user_id == user_id, OfferRow.id.not_in(select(OrderRow.offer_id))))
        if (open_ or 0) >= MAX_OPEN:
            raise TooManyOffers(f"at most {MAX_OPEN} open offers per account; they expire "
                                f"{int(OFFER_TTL.total_seconds()) // 60} minutes after "
                                "they are made")
        s.add(row)
    return row


def view(row: OfferRow) -> dict[str, Any]:
    """An offer as the API shows it (times in the zone of its first operator)."""
    d = row.data
    tz = ZoneInfo(d.get("tz") or "UTC")
    price = {"amount": row.amount, "currency": row.currency} if row.amount is not None \
        else None
    return {
        "id": row.id, "kind": row.kind, "journey_id": d.get("journey_id"),
        "product_id": d["product_id"], "product_name": d["product_name"],
        "operators": d["operators"], "price": price, "orderable": price is not None,
        "unpriced_reason": d.get("unpriced_reason"), "travellers": d["lines"],
        "conditions": d["conditions"],
        "validity": {"from": row.valid_from.astimezone(tz).isoformat(),
                     "until": row.valid_until.astimezone(tz).isoformat()},
        "expires_at": row.expires_at.astimezone(tz).isoformat(),
        "created_at": row.created_at.astimezone(tz).isoformat(),
    }
