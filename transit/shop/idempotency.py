"""Idempotency-Key (IETF httpapi draft), keys scoped to the account.

The key's row is inserted first, in a transaction of its own: of concurrent requests with
one key exactly one inserts it (a unique constraint on account and key); the others find
it. A key comes with the fingerprint of the request (SHA-256 of the canonical JSON body):
the same key with another body is refused (422); while the first request is in flight a
duplicate is told so (409); once it is done its answer is stored and replayed. An answer
that is not final (an order waiting for its payment) is not stored: a replay looks at the
order again. A request that crashed leaves its key in flight until the lease runs out,
then a retry takes it over (the order it started is found again by its key), unless the
settler has failed that order, never charged, after its offer expired: it releases the key
then (`release_abandoned`), and the key may be used for a new order."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from transit.db.engine import Database
from transit.db.models_tickets import IdempotencyKeyRow

LEASE_S = 60.0
IN_FLIGHT, PENDING, DONE = "in_flight", "pending", "done"


class KeyReused(Exception):
    """The key was used with another request body."""


class InFlight(Exception):
    """A request with this key is being processed."""


@dataclass(frozen=True)
class Claim:
    row_id: int
    replay: tuple[int, dict[str, Any]] | None = None  # a stored final answer
    order_id: str | None = None  # the order a first attempt started


def fingerprint(body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)  # a lease is process time, not the service clock


def begin(db: Database, user_id: str, key: str, print_: str, lease_s: float = LEASE_S
          ) -> Claim:
    now = _now()
    try:
        with db.session() as s:
            row = IdempotencyKeyRow(user_id=user_id, key=key, fingerprint=print_,
                                    state=IN_FLIGHT, created_at=now,
                                    locked_until=now + timedelta(seconds=lease_s))
            s.add(row)
            s.flush()
            return Claim(row.id)
    except IntegrityError:
        pass
    with db.session() as s:
        row = s.scalars(select(IdempotencyKeyRow).where(
            IdempotencyKeyRow.user_id == user_id, IdempotencyKeyRow.key == key)).one_or_none()
        if row is None:  # released meanwhile: the caller retries
            raise InFlight(key)
        if row.fingerprint != print_:
            raise KeyReused(key)
        if row.state == DONE:
            return Claim(row.id, replay=(row.response_status or 200, row.response_body or {}),
                         order_id=row.order_id)
        if row.state == PENDING:
            return Claim(row.id, order_id=row.order_id)
        # in flight: taken over only once its lease has run out (its process died)
        took = s.execute(update(IdempotencyKeyRow).where(
            IdempotencyKeyRow.id == row.id, IdempotencyKeyRow.state == IN_FLIGHT,
            IdempotencyKeyRow.locked_until < now).values(
            locked_until=now + timedelta(seconds=lease_s)))
        if took.rowcount != 1:  # type: ignore[attr-defined]
            raise InFlight(key)
        return Claim(row.id, order_id=row.order_id)


def finish(db: Database, row_id: int, status: int, body: dict[str, Any], final: bool) -> None:
    """Store the final answer (replayed from now on), or mark the key pending (a replay
    looks at its order again)."""
    values: dict[str, Any] = {"state": DONE, "response_status": status,
                              "response_body": body} if final else {"state": PENDING}
    with db.session() as s:
        s.execute(update(IdempotencyKeyRow).where(IdempotencyKeyRow.id == row_id)
                  .values(**values))


def release(db: Database, row_id: int) -> None:
    """Forget a key whose request failed before it changed anything: it may be retried."""
    with db.session() as s:
        s.execute(delete(IdempotencyKeyRow).where(IdempotencyKeyRow.id == row_id,
                                                  IdempotencyKeyRow.order_id.is_(None)))


def release_abandoned(db: Database, order_id: str) -> bool:
    """Forget the key of an order whose request died and that will never be charged (the
    settler expires it), so the client can use the key again for a new order. False, with
    the key kept, while a request holds it (in flight within its lease: it may be charging
    the order right now). The delete and a retry taking the key over (`begin`) both need
    the lease run out, so only one of them gets the key."""
    with db.session() as s:
        s.execute(delete(IdempotencyKeyRow).where(
            IdempotencyKeyRow.order_id == order_id,
            or_(IdempotencyKeyRow.state != IN_FLIGHT, IdempotencyKeyRow.locked_until < _now())))
        held = s.scalar(select(func.count()).select_from(IdempotencyKeyRow).where(
            IdempotencyKeyRow.order_id == order_id))
    return not held
