"""The revocation list verifiers sync: refunded tickets after a cursor (the revocation
row's sequence number), signed with the ticket keys. Tickets already expired are left out
(a verifier refuses them anyway) but still move the cursor."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from transit.db.engine import Database
from transit.db.models_tickets import RevocationRow

PAGE = 1000


class BadCursor(ValueError):
    pass


def page(db: Database, since: str, now: datetime) -> tuple[list[str], str]:
    """(ticket ids, next cursor) revoked after `since` ("0": from the start)."""
    if not since.isdigit() or len(since) > 18:
        raise BadCursor("since: a cursor is a non-negative integer (next_cursor of the "
                        "previous list; 0 from the start)")
    with db.session() as s:
        rows = s.execute(select(RevocationRow.seq, RevocationRow.ticket_id,
                                RevocationRow.valid_until)
                         .where(RevocationRow.seq > int(since))
                         .order_by(RevocationRow.seq).limit(PAGE)).all()
    ids = [tid for _, tid, until in rows if until >= now]
    return ids, str(rows[-1][0]) if rows else str(int(since))


def is_revoked(db: Database, ticket_id: str) -> bool:
    with db.session() as s:
        return s.scalar(select(RevocationRow.seq).where(
            RevocationRow.ticket_id == ticket_id)) is not None
