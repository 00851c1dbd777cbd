"""Routes of orders (the interface of issue 8). Thin: rules and visibility are in the service.

POST /api/v1/orders answers 201 with the order, also when the same Idempotency-Key is sent again
(the same order, marked by the header `Idempotent-Replayed: true`), as Stripe's API does: a client
retrying after a lost answer sees the answer it missed.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter

from billing import orders
from billing.orders.schemas import NoteIn, OrderIn, PaymentIntentOut, ReasonIn, ReceiptIn, RefundIn, ResolveIn, SignIn
from market import documents
from market.errors import DomainError
from market.storage import content_disposition
from market.tables import Role
from market.web import AUTHENTICATED, PageNo, PageSize, page_params, paginated, roles

BUYERS = roles(Role.BUYER)
HOLDERS = roles(Role.HOLDER, Role.OPERATOR)
SIGNERS = roles(Role.BUYER, Role.HOLDER, Role.OPERATOR)
FINANCE = roles(Role.ADMIN)  # platform finance is the admin role until a finance role exists


IdempotencyKey = Annotated[str | None, HeaderParameter(name="Idempotency-Key")]


def _who(request: Request) -> dict:
    return {"org_id": request.user.org_id, "roles": frozenset(request.user.roles)}


async def _detail(request: Request, order_id: int) -> dict:
    return await orders.get_order(order_id=order_id, **_who(request))


@post("/orders", opt=BUYERS, status_code=201,
      summary="Order a plan of a listing for a purpose (header Idempotency-Key required; the same key, the same order)")
async def api_create(
        request: Request, data: JSONBody[OrderIn], idempotency_key: IdempotencyKey = None) -> Response:
    order, created = await orders.create_order(
        listing_id=data.listing_id, plan_id=data.plan_id, purpose=data.purpose, purpose_note=data.purpose_note,
        quantity=data.quantity, buyer_org_id=request.user.org_id, user_id=request.user.user_id,
        idempotency_key=idempotency_key)
    headers = {} if created else {"Idempotent-Replayed": "true"}
    return Response(await orders.detail(order), status_code=201, headers=headers)


@get("/orders", opt=AUTHENTICATED,
     summary="Orders: a buyer's own, a holder's sales (as=holder), all of them for admins and regulators")
async def api_list(request: Request, as_: Annotated[str | None, QueryParameter(name="as")] = None,
                   status: FromQuery[str | None] = None, page: PageNo = None, page_size: PageSize = None) -> dict:
    if as_ not in (None, "buyer", "holder"):
        raise DomainError("order.as_invalid", "参数 as 只能是 buyer 或 holder")
    p, size = page_params(page, page_size)
    rows, total = await orders.list_orders(as_holder=as_ == "holder", status=status, page=p, page_size=size,
                                           **_who(request))
    return paginated(rows, total, p, size)


@get("/orders/{order_id:int}", opt=AUTHENTICATED,
     summary="An order with its contract, invoice, payments and entitlement (its parties, regulators, admins)")
async def api_order(request: Request, order_id: FromPath[int]) -> dict:
    return await _detail(request, order_id)


@post("/orders/{order_id:int}/approve", opt=HOLDERS, status_code=200,
      summary="The holder accepts the buyer and purpose; the contract is drafted for both to sign")
async def api_approve(request: Request, order_id: FromPath[int], data: JSONBody[NoteIn]) -> dict:
    await orders.approve(order_id=order_id, org_id=request.user.org_id, note=data.note)
    return await _detail(request, order_id)


@post("/orders/{order_id:int}/decline", opt=HOLDERS, status_code=200,
      summary="The holder declines the order, with a reason the buyer reads")
async def api_decline(request: Request, order_id: FromPath[int], data: JSONBody[ReasonIn]) -> dict:
    await orders.decline(order_id=order_id, org_id=request.user.org_id, reason=data.reason)
    return await _detail(request, order_id)


@post("/orders/{order_id:int}/sign", opt=SIGNERS, status_code=200,
      summary="Sign the order's contract as buyer or holder; both signed: on to payment (or delivery if free)")
async def api_sign(request: Request, order_id: FromPath[int], data: JSONBody[SignIn]) -> dict:
    await orders.sign(order_id=order_id, org_id=request.user.org_id, roles=frozenset(request.user.roles),
                      user_id=request.user.user_id, ip=request.client.host if request.client else "",
                      expected_sha256=data.sha256)
    return await _detail(request, order_id)


@post("/orders/{order_id:int}/payments", opt=FINANCE, status_code=201,
      summary="Record a bank-transfer receipt for the order (platform finance); paid in full: delivered. "
              "With an Idempotency-Key header the same key records once and answers the same again")
async def api_receipt(request: Request, order_id: FromPath[int], data: JSONBody[ReceiptIn],
                      idempotency_key: IdempotencyKey = None) -> dict:
    await orders.record_receipt(order_id=order_id, amount_fen=data.amount_fen, reference=data.reference,
                                recorded_by=request.user.label, idempotency_key=idempotency_key)
    return await _detail(request, order_id)


@post("/orders/{order_id:int}/payment-intent", opt=BUYERS, status_code=201,
      summary="Pay the order by card: its Stripe PaymentIntent in CNY for what is due (the buyer, while the order "
              "awaits payment and card payments are enabled; the same one again on retry, Idempotency-Key honoured)")
async def api_payment_intent(request: Request, order_id: FromPath[int],
                             idempotency_key: IdempotencyKey = None) -> PaymentIntentOut:
    return PaymentIntentOut(**await orders.card_payment(order_id=order_id, org_id=request.user.org_id,
                                                        idempotency_key=idempotency_key))


@post("/orders/{order_id:int}/confirm", opt=BUYERS, status_code=200,
      summary="The buyer accepts the delivery: the money is released from escrow")
async def api_confirm(request: Request, order_id: FromPath[int]) -> dict:
    await orders.confirm(order_id=order_id, org_id=request.user.org_id)
    return await _detail(request, order_id)


@post("/orders/{order_id:int}/dispute", opt=BUYERS, status_code=200,
      summary="The buyer contests the delivery within the acceptance window; the money stays in escrow")
async def api_dispute(request: Request, order_id: FromPath[int], data: JSONBody[ReasonIn]) -> dict:
    await orders.dispute(order_id=order_id, org_id=request.user.org_id, reason=data.reason)
    return await _detail(request, order_id)


@post("/orders/{order_id:int}/cancel", opt=BUYERS, status_code=200,
      summary="The buyer withdraws an order it has not paid")
async def api_cancel(request: Request, order_id: FromPath[int]) -> dict:
    await orders.cancel(order_id=order_id, org_id=request.user.org_id)
    return await _detail(request, order_id)


@post("/orders/{order_id:int}/refund", opt=FINANCE, status_code=200,
      summary="Refund part or all of what the buyer paid (platform finance); all of it ends the order. Refused "
              "when the holder's share was already paid out; an Idempotency-Key refunds once")
async def api_refund(request: Request, order_id: FromPath[int], data: JSONBody[RefundIn],
                     idempotency_key: IdempotencyKey = None) -> dict:
    await orders.refund(order_id=order_id, amount_fen=data.amount_fen, reason=data.reason,
                        recorded_by=request.user.label, idempotency_key=idempotency_key)
    return await _detail(request, order_id)


@post("/orders/{order_id:int}/resolve", opt=FINANCE, status_code=200,
      summary="Settle a dispute: release the money to the holder, or refund what is left to the buyer")
async def api_resolve(request: Request, order_id: FromPath[int], data: JSONBody[ResolveIn]) -> dict:
    await orders.resolve_dispute(order_id=order_id, outcome=data.outcome, note=data.note,
                                 recorded_by=request.user.label)
    return await _detail(request, order_id)


@get("/orders/{order_id:int}/contract.pdf", opt=AUTHENTICATED, media_type=documents.PDF_CONTENT_TYPE,
     summary="The order's contract PDF, the exact bytes signed (its parties, regulators and admins)")
async def api_contract_pdf(request: Request, order_id: FromPath[int]) -> Response:
    filename, data = await orders.contract_pdf(order_id=order_id, **_who(request))
    return Response(data, media_type=documents.PDF_CONTENT_TYPE,
                    headers={"Content-Disposition": content_disposition(filename, "inline"),
                             "Cache-Control": "no-store"})


@get("/orders/{order_id:int}/invoice.pdf", opt=AUTHENTICATED, media_type=documents.PDF_CONTENT_TYPE,
     summary="The order's invoice PDF (the buyer organization, regulators and admins)")
async def api_invoice_pdf(request: Request, order_id: FromPath[int]) -> Response:
    filename, data = await orders.invoice_pdf(order_id=order_id, **_who(request))
    return Response(data, media_type=documents.PDF_CONTENT_TYPE,
                    headers={"Content-Disposition": content_disposition(filename, "inline"),
                             "Cache-Control": "no-store"})


router = Router(path="/api/v1", route_handlers=[
    api_create, api_list, api_order, api_approve, api_decline, api_sign, api_receipt, api_payment_intent,
    api_confirm, api_dispute,
    api_cancel, api_refund, api_resolve, api_contract_pdf, api_invoice_pdf,
], tags=["orders"])
