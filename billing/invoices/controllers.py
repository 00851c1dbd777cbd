"""Routes of invoices: an invoice and its PDF for the buyer organization, platform admins and
regulators; the list (overseers: all; others: their organization's). The order service issues
invoices, so there is no issuing route. Thin: the rules are in the service."""

from __future__ import annotations

from typing import Annotated

from litestar import Request, Response, Router, get
from litestar.params import FromQuery, Parameter

from billing import invoices
from billing.invoices.schemas import invoice_json
from market import documents
from market.storage import content_disposition
from market.web import AUTHENTICATED, page_params, paginated

# Described, not validated by Litestar (that would answer 400): the service answers 404 for any other
# shape, as it does for a number that was never issued, so the fuzzer's malformed numbers get a documented 404.
InvoiceNumber = Annotated[str, Parameter(
    description="20 digits, e.g. 26330000000000000001 (YY + province + channel + 15-digit sequence); "
                "anything else is 404",
    schema_extra={"pattern": "^[0-9]{20}$", "min_length": 20, "max_length": 20})]


@get("/invoices", opt=AUTHENTICATED,
     summary="Invoices, newest first (platform admins and regulators: all; others: their organization's)")
async def api_invoices(request: Request, page: FromQuery[int | None] = None, page_size: FromQuery[int | None] = None,
                       kind: FromQuery[str | None] = None, order_ref: FromQuery[str | None] = None) -> dict:
    p, size = page_params(page, page_size)
    rows, total = await invoices.list_invoices(org_id=request.user.org_id, roles=frozenset(request.user.roles),
                                               page=p, page_size=size, kind=kind, order_ref=order_ref)
    return paginated([invoice_json(r) for r in rows], total, p, size)


@get("/invoices/{number:str}", opt=AUTHENTICATED,
     summary="An invoice: parties, lines, totals, 大写, remarks, PDF digest, credit notes (buyer, admins, regulators)")
async def api_invoice(request: Request, number: InvoiceNumber) -> Response:
    inv = await invoices.get_invoice(number=number, org_id=request.user.org_id, roles=frozenset(request.user.roles))
    return Response(invoice_json(inv))


@get("/invoices/{number:str}/invoice.pdf", opt=AUTHENTICATED, media_type=documents.PDF_CONTENT_TYPE,
     summary="The invoice's PDF, the exact bytes issued (buyer, admins, regulators)")
async def api_invoice_pdf(request: Request, number: InvoiceNumber) -> Response:
    filename, data = await invoices.invoice_pdf(number=number, org_id=request.user.org_id,
                                                roles=frozenset(request.user.roles))
    return Response(data, media_type=documents.PDF_CONTENT_TYPE,
                    headers={"Content-Disposition": content_disposition(filename, "inline"),
                             "Cache-Control": "no-store"})


api_router = Router(path="/api/v1", route_handlers=[api_invoices, api_invoice, api_invoice_pdf], tags=["invoices"])
router = Router(path="/", route_handlers=[api_router])
