"""`GET /.well-known/ticket-keys`: the public keys that verify tickets (JWKS)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from transit.api.problems import problems
from transit.api.responses import cached_json

router = APIRouter(tags=["tickets"], responses=problems())


class TicketKey(BaseModel):
    kty: str = Field(examples=["OKP"])
    crv: str = Field(examples=["Ed25519"])
    alg: str = Field(examples=["EdDSA"])
    use: str = Field(examples=["sig"])
    kid: str = Field(description="The key id in a ticket's COSE protected header.")
    x: str = Field(description="The raw public key, base64url.")
    not_after: int | None = Field(description="Unix seconds until which tickets signed by "
                                  "this key are accepted (no ticket of it is valid later); "
                                  "null for the key that signs now.")


class TicketKeys(BaseModel):
    keys: list[TicketKey]


@router.get("/.well-known/ticket-keys", response_model=TicketKeys,
            summary="Public keys that verify ticket tokens offline (JWKS)")
def ticket_keys(request: Request) -> Response:
    """The keys an inspector's verifier accepts: the active one and the rotated ones whose
    tickets have not all expired. Cache it; fetch again on an unknown key id."""
    state = request.app.state
    now = int(state.clock.now().timestamp())
    return cached_json(request, state.ticket_keys.jwks(now),
                       state.settings.ticket_keys_max_age_s)
