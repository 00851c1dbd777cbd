"""Routes of payments: finance (platform admin) records receipts, imports bank statements, works the
reconciliation queue and refunds; Stripe posts its webhooks here. Thin: the rules are in the service."""

from __future__ import annotations

from typing import Annotated

from litestar import Request, Response, Router, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, HeaderParameter, JSONBody

from billing import payments
from billing.payments import _statement, _webhooks
from billing.payments.schemas import (
    ImportOut,
    LineOut,
    PaymentOut,
    RefundIn,
    RefundOut,
    ReceiptIn,
    ResolveIn,
    line_out,
    payment_out,
    refund_out,
)
from market.tables import Role
from market.web import PUBLIC, page_params, paginated, roles

# platform finance is the admin role until a finance role exists
FINANCE = roles(Role.ADMIN)
IdempotencyKey = Annotated[str | None, HeaderParameter(name="Idempotency-Key")]
STATEMENT_LIMIT = _statement.MAX_BYTES + 1024 * 1024  # the file plus the multipart envelope


@post("/receipts", opt=FINANCE, status_code=201,
      summary="Record a bank-transfer receipt for an order by hand (finance; audited; an Idempotency-Key records once)")
async def api_record_receipt(request: Request, data: JSONBody[ReceiptIn],
                             idempotency_key: IdempotencyKey = None) -> PaymentOut:
    row = await payments.record_receipt(order_ref=data.order_ref, amount_fen=data.amount_fen,
                                        reference=data.reference, recorded_by=request.user.label,
                                        idempotency_key=idempotency_key)
    return payment_out(row)


@post("/statements", opt=FINANCE, status_code=201, request_max_body_size=STATEMENT_LIMIT,
      summary="Import a bank statement CSV (multipart field `file`) and reconcile it; a re-import changes nothing")
async def api_import_statement(request: Request,
                               data: Annotated[dict, Body(media_type=RequestEncodingType.MULTI_PART)]) -> ImportOut:
    file = data.get("file") if isinstance(data, dict) else None
    return ImportOut(**await payments.import_uploaded_statement(file, imported_by=request.user.label))


@get("/statements/lines", opt=FINANCE,
     summary="Bank statement lines by status (default: partial, over and unmatched, waiting for a person)")
async def api_lines(status: FromQuery[str | None] = None, page: FromQuery[int | None] = None,
                    page_size: FromQuery[int | None] = None) -> dict:
    p, size = page_params(page, page_size)
    rows, total = await payments.list_lines(status=status, page=p, page_size=size)
    return paginated([line_out(r) for r in rows], total, p, size)


@post("/statements/lines/{line_id:int}/resolve", opt=FINANCE, status_code=200,
      summary="Resolve a line that did not match, with a note (optionally recording it for an order; audited)")
async def api_resolve(request: Request, line_id: FromPath[int], data: JSONBody[ResolveIn]) -> LineOut:
    row = await payments.resolve_line(line_id=line_id, note=data.note, resolved_by=request.user.label,
                                      record_for=data.record_for)
    return line_out(row)


@post("/refunds", opt=FINANCE, status_code=201,
      summary="Refund part or all of a payment the way it was paid (finance; audited; an Idempotency-Key refunds once)")
async def api_refund(request: Request, data: JSONBody[RefundIn], idempotency_key: IdempotencyKey = None) -> RefundOut:
    return refund_out(await payments.refund(payment_id=data.payment_id, amount_fen=data.amount_fen,
                                            reason=data.reason, recorded_by=request.user.label,
                                            idempotency_key=idempotency_key))


# 404 while card payments are off (no Stripe key configured); 413 for a body over MAX_BODY
@post("/stripe/webhook", opt={**PUBLIC, "csrf_exempt": True, "error_statuses": ("404", "413")}, status_code=200,
      request_max_body_size=_webhooks.MAX_BODY,
      summary="Stripe webhook endpoint (public, authenticated by the Stripe-Signature header)")
async def api_stripe_webhook(request: Request) -> Response:
    result = await payments.receive_stripe(payload=await request.body(),
                                           signature=request.headers.get("stripe-signature", ""))
    return Response({"received": True, **result}, status_code=200)


router = Router(path="/api/v1/payments", route_handlers=[
    api_record_receipt, api_import_statement, api_lines, api_resolve, api_refund, api_stripe_webhook,
], tags=["payments"])
