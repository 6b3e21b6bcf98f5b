"""The commuter's tickets (/v1/me/tickets...), their QR codes and refunds, and the signed
revocation list verifiers sync. Thin: the logic is in transit.shop.wallet and
transit.shop.revocations. Another user's ticket is 404, like an unknown one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from transit.api.problems import Problem, invalid, problems
from transit.api.users import CurrentUser
from transit.shop import revocations, wallet
from transit.shop.schemas import TicketList, TicketOut
from transit.shop.wiring import keyring_of, shop_of
from transit.tickets.qr import ticket_qr
from transit.tickets.revocation import CONTENT_TYPE, sign_revocations

router = APIRouter(prefix="/v1", tags=["tickets"])
PRIVATE = {"Cache-Control": "private, no-store"}
TicketId = Annotated[str, Path(max_length=60, description="A ticket's id (opaque)")]


def _ticket(request: Request, user_id: str, ticket_id: str) -> wallet.TicketRow:
    try:
        return wallet.get(shop_of(request), user_id, ticket_id)
    except wallet.TicketNotFound:
        raise Problem(404, f"unknown ticket {ticket_id[:60]!r}") from None


@router.get("/me/tickets", response_model=TicketList, responses=problems(401),
            summary="The caller's tickets, newest first")
def list_tickets(request: Request, user: CurrentUser) -> JSONResponse:
    shop = shop_of(request)
    now = shop.clock.now()
    return JSONResponse({"tickets": [wallet.view(t, now) for t in wallet.list_tickets(
        shop, user.id)]}, headers=PRIVATE)


@router.get("/me/tickets/{ticket_id}", response_model=TicketOut, responses=problems(401, 404),
            summary="One ticket of the caller, with its signed token")
def get_ticket(request: Request, ticket_id: TicketId, user: CurrentUser) -> JSONResponse:
    t = _ticket(request, user.id, ticket_id)
    return JSONResponse(wallet.view(t, shop_of(request).clock.now()), headers=PRIVATE)


def _qr(request: Request, user_id: str, ticket_id: str, kind: str) -> Response:
    qr = ticket_qr(_ticket(request, user_id, ticket_id).token)
    body, media = (qr.svg(), "image/svg+xml") if kind == "svg" else (qr.png(), "image/png")
    return Response(body, media_type=media, headers=PRIVATE)


@router.get("/me/tickets/{ticket_id}/qr.svg", response_class=Response,
            responses={**problems(401, 404), 200: {"content": {"image/svg+xml": {}}}},
            summary="The ticket's QR code (SVG)")
def ticket_svg(request: Request, ticket_id: TicketId, user: CurrentUser) -> Response:
    return _qr(request, user.id, ticket_id, "svg")


@router.get("/me/tickets/{ticket_id}/qr.png", response_class=Response,
            responses={**problems(401, 404), 200: {"content": {"image/png": {}}}},
            summary="The ticket's QR code (PNG)")
def ticket_png(request: Request, ticket_id: TicketId, user: CurrentUser) -> Response:
    return _qr(request, user.id, ticket_id, "png")


@router.post("/me/tickets/{ticket_id}/refund", response_model=TicketOut,
             responses=problems(401, 404, 409),
             summary="Refund a ticket before its validity starts (it is revoked)")
def refund_ticket(request: Request, ticket_id: TicketId, user: CurrentUser) -> JSONResponse:
    shop = shop_of(request)
    try:
        t = wallet.refund(shop, user.id, ticket_id)
    except wallet.TicketNotFound:
        raise Problem(404, f"unknown ticket {ticket_id[:60]!r}") from None
    except wallet.NotRefundable as exc:
        raise Problem(409, str(exc)) from None
    return JSONResponse(wallet.view(t, shop.clock.now()), headers=PRIVATE)


@router.get("/tickets/revoked", response_class=Response, responses={
    **problems(), 200: {"content": {"application/x-transit-revocations+cbor": {}},
                        "description": "COSE_Sign1 over {0: 1, 1: since, 2: next_cursor, "
                        "3: [ticket ids]}, signed with the ticket keys"}},
    summary="Signed list of tickets revoked after a cursor (verifiers sync it)")
async def revoked(request: Request, since: Annotated[str, Query(
        max_length=20, description="next_cursor of the previous list; 0 from the start")
        ] = "0") -> Response:
    now = request.app.state.clock.now()
    try:
        ids, cursor = await run_in_threadpool(revocations.page, request.app.state.db, since,
                                              now)
    except revocations.BadCursor as exc:
        raise invalid("since", str(exc).removeprefix("since: ")) from None
    blob = await run_in_threadpool(sign_revocations, ids, since, cursor, keyring_of(request),
                                   int(now.timestamp()))
    return Response(blob, media_type=CONTENT_TYPE, headers={
        "Cache-Control": "public, max-age=30", "X-Next-Cursor": cursor})
