"""POST /v1/offers, POST /v1/orders, GET /v1/orders/{id}: thin; the logic is in
transit.tickets (quotes, offers, idempotency, orders)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import JSONResponse

from transit.api.auth import get_db
from transit.api.deps import NowDep, TimetableDep
from transit.api.problems import Problem, invalid, problems
from transit.api.users import CurrentUser
from transit.journeys import ids
from transit.journeys.journey_ids import journey_key
from transit.shop import idempotency, offers, orders, quotes
from transit.shop.schemas import OfferList, OfferRequest, OrderList, OrderOut, OrderRequest
from transit.shop.wiring import pricing_of, shop_of

router = APIRouter(prefix="/v1", tags=["tickets"], responses=problems(401))
PRIVATE = {"Cache-Control": "private, no-store"}
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", max_length=255, pattern=KEY_PATTERN,
    description="Required: a unique key per purchase (a UUID). A retry with the same key "
    "and body answers the first answer (Idempotent-Replayed: true); another body is 422; "
    "while the first is in flight, 409")]
OrderId = Annotated[str, Path(max_length=60, description="An order's id (opaque)")]
ORDER_ID = r"^ord_[A-Za-z0-9_-]{1,56}$"
MyOrderId = Annotated[str, Path(max_length=60, pattern=ORDER_ID,
                                description="An order's id (`ord_...`)")]
MAX_ACTIVATION = timedelta(days=30)
MAX_PAGE = 100


def _travellers(body: OfferRequest, user: Any) -> list[quotes.Traveller]:
    if body.travellers is None:
        return [quotes.Traveller(user.profile.get("rider_category"), 1)]
    out = [quotes.Traveller(t.rider_category, t.count) for t in body.travellers]
    if sum(t.count for t in out) > 9:
        raise invalid("travellers", "at most 9 travellers per offer")
    return out


def _quote(request: Request, tt: Any, body: OfferRequest, user: Any, now: Any
           ) -> quotes.Quote:
    travellers = _travellers(body, user)
    pricing, why = pricing_of(request, tt)
    t = int(now.timestamp())
    if body.journey_id is not None:
        try:
            ref = ids.decode(body.journey_id, journey_key(request))
        except ids.JourneyIdError as exc:
            raise invalid("journey_id", str(exc)) from None
        return quotes.quote_journey(tt, pricing, ref, travellers, t, why)
    assert body.product is not None
    if pricing is None:
        raise Problem(503, why, headers={"Retry-After": "60"})
    start = t
    if body.valid_from is not None:
        if body.valid_from.tzinfo is None:
            raise invalid("valid_from", "give a UTC offset")
        start = int(body.valid_from.timestamp())
        if not t - 60 <= start <= t + int(MAX_ACTIVATION.total_seconds()):
            raise invalid("valid_from", "from now to 30 days ahead")
    return quotes.quote_product(tt, pricing, body.product.operator, body.product.product_id,
                                travellers, start)


@router.post("/offers", response_model=OfferList, status_code=201,
             responses=problems(400, 413, 503),
             summary="Offers for a journey (its id) or a product, priced by the server")
def create_offers(request: Request, body: OfferRequest, user: CurrentUser, tt: TimetableDep,
                  now: NowDep) -> JSONResponse:
    if (body.journey_id is None) == (body.product is None):
        raise invalid("journey_id", "give journey_id or product, one of them")
    try:
        quote = _quote(request, tt, body, user, now)
    except quotes.QuoteError as exc:
        raise Problem(422, str(exc), parameter=exc.field,
                      errors=[{"parameter": exc.field, "in": "body",
                               "message": exc.message}]) from None
    tz = str(quotes.operator_zone(tt, quote.operators[0]))
    try:
        row = offers.save(get_db(request), user.id, quote, now, body.journey_id, tz)
    except offers.TooManyOffers as exc:
        raise Problem(429, str(exc), headers={"Retry-After": "60"}) from None
    return JSONResponse({"offers": [offers.view(row)]}, status_code=201, headers=PRIVATE)


def _order_answer(order: Any, tickets: list[Any], replayed: bool = False) -> JSONResponse:
    body = orders.view(order, tickets)
    headers = {**PRIVATE, "Location": f"/v1/orders/{order.id}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    if order.status == orders.FAILED:
        problem = {"type": "about:blank", "title": "Payment Required", "status": 402,
                   "detail": f"the payment was declined: {order.failure_reason}; nothing "
                   "was charged and no ticket issued", "instance": "/v1/orders",
                   "parameter": "payment", "order": body}
        return JSONResponse(problem, 402, headers, media_type="application/problem+json")
    status = 202 if order.status == orders.PAYMENT_PENDING else 201
    if status == 202:
        headers["Retry-After"] = "2"
    return JSONResponse(body, status, headers)


def _body_json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise Problem(400, "the body is not JSON") from None


@router.post("/orders", response_model=OrderOut, status_code=201,
             responses={**problems(400, 402, 404, 409, 410, 413),
                        202: {"description": "Payment pending: GET the order (Location)"}},
             summary="Order an offer and pay for it (Idempotency-Key required)")
async def create_order(request: Request, body: OrderRequest, user: CurrentUser,
                       key: IdempotencyKey = None) -> JSONResponse:
    from fastapi.concurrency import run_in_threadpool

    if key is None:
        raise Problem(400, "this needs an Idempotency-Key header (a unique key per "
                      "purchase, e.g. a UUID)", parameter="Idempotency-Key")
    print_ = idempotency.fingerprint(_body_json(await request.body()))
    return await run_in_threadpool(_place, request, body, user, key, print_)


def _place(request: Request, body: OrderRequest, user: Any, key: str, print_: str
           ) -> JSONResponse:
    shop = shop_of(request)
    db = get_db(request)
    if body.payment.provider != shop.provider.name:
        raise invalid("payment.provider", f"this server takes payments through "
                      f"{shop.provider.name!r}")
    wrong = shop.provider.check_token(body.payment.token)
    if wrong:
        raise invalid("payment.token", wrong)
    try:
        claim = idempotency.begin(db, user.id, key, print_)
    except idempotency.KeyReused:
        raise invalid("Idempotency-Key", "this key was used with another request body; "
                      "use a new key for a new purchase") from None
    except idempotency.InFlight:
        raise Problem(409, "a request with this Idempotency-Key is in progress; retry "
                      "later", parameter="Idempotency-Key", headers={"Retry-After": "1"}) \
            from None
    if claim.replay is not None:
        status, stored = claim.replay
        return JSONResponse(stored, status, {**PRIVATE, "Idempotent-Replayed": "true",
                                             "Location": f"/v1/orders/{stored.get('id')}"})
    replayed = claim.order_id is not None
    try:
        booked = orders.get(db, claim.order_id) if claim.order_id else \
            orders.book(shop, user.id, body.offer_id, claim.row_id)
    except orders.OrderError as exc:
        idempotency.release(db, claim.row_id)
        raise Problem(exc.status, exc.detail, parameter=exc.parameter) from None
    except BaseException:
        idempotency.release(db, claim.row_id)
        raise
    order, tickets = orders.charge(shop, booked, body.payment.token)
    answer = _order_answer(order, tickets, replayed)
    final = order.status in orders.FINAL
    idempotency.finish(db, claim.row_id, answer.status_code, orjson.loads(answer.body), final)
    return answer


@router.get("/orders/{order_id}", response_model=OrderOut, responses=problems(404),
            summary="An order of the caller (a pending payment is settled first)")
def get_order(request: Request, order_id: OrderId, user: CurrentUser) -> JSONResponse:
    shop = shop_of(request)
    try:
        orders.get(shop.db, order_id, user.id)
    except orders.OrderError as exc:
        raise Problem(exc.status, exc.detail) from None
    order, tickets = orders.reconcile(shop, order_id)
    return JSONResponse(orders.view(order, tickets), headers=PRIVATE)


@router.get("/me/orders", response_model=OrderList, responses=problems(422),
            summary="The caller's orders, newest first, with their state, amount and tickets "
            "(pending payments settled first, a few per page)")
def list_my_orders(
    request: Request, user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Orders per page")] = 20,
    before: Annotated[str | None, Query(max_length=60, pattern=ORDER_ID, description=
                                        "The page after this order (`next` of a page)")
                      ] = None,
) -> JSONResponse:
    shop = shop_of(request)
    try:
        page, more = orders.list_orders(shop.db, user.id, limit, before)
    except orders.BadCursor as exc:
        raise invalid("before", str(exc)) from None
    page = orders.settle_listed(shop, page)
    nxt = f"/v1/me/orders?limit={limit}&before={page[-1][0].id}" if more else None
    return JSONResponse({"orders": [orders.view(o, t) for o, t in page], "next": nxt},
                        headers=PRIVATE)


@router.get("/me/orders/{order_id}", response_model=OrderOut, responses=problems(404, 422),
            summary="One order of the caller (a pending payment is settled first)")
def get_my_order(request: Request, order_id: MyOrderId, user: CurrentUser) -> JSONResponse:
    return get_order(request, order_id, user)
