"""Issuing tickets: the claims of a sold ticket, signed with the ticket key ring
(transit.tickets.token) into the `TX1:` text its QR code carries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from transit.tickets.claims import TicketClaims
from transit.tickets.keyring import KeyRing
from transit.tickets.token import issue_text


@dataclass(frozen=True)
class TicketData:
    ticket_id: str
    product_id: str
    product_name: str
    rider_category: str | None
    travellers: int
    valid_from: int  # Unix seconds
    valid_until: int
    operators: tuple[str, ...]
    zones: tuple[str, ...]
    issued_at: int


Issuer = Callable[[TicketData], str]
MAX_TEXT = 200  # the longest id or name a token carries


class KeyRingIssuer:
    """Signs with the active key of a key ring (transit.tickets.keyring.KeyRing)."""

    def __init__(self, keyring: KeyRing) -> None:
        self.keyring = keyring

    def __call__(self, t: TicketData) -> str:
        claims = TicketClaims(
            ticket_id=t.ticket_id, product_id=t.product_id[:MAX_TEXT],
            product_name=t.product_name[:MAX_TEXT], rider_category=t.rider_category,
            travellers=t.travellers, valid_from=t.valid_from, valid_until=t.valid_until,
            operators=t.operators, zones=t.zones, issued_at=t.issued_at)
        return str(issue_text(claims, self.keyring))
