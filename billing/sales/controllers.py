"""Routes of the holder's 销售: the page, its forms (approve / decline an order, issue a statement PDF)
and the JSON API under /api/v1/sales. Thin: figures come from billing.sales.service and
billing.statements; approving and declining are billing.orders' own services."""

from __future__ import annotations

import json
from typing import Annotated

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath, FromQuery, Parameter, QueryParameter
from litestar.response import Redirect

from billing import orders, statements
from billing.sales import service
from billing.sales.schemas import (
    BuyerOut,
    MonthOut,
    PayoutReceivedOut,
    SaleOut,
    StatementOut,
    StatementPdfOut,
    SummaryOut,
    statement_out,
)
from listings.pricing import PURPOSES
from market import documents
from market.storage import content_disposition
from market.tables import Role
from market.web import PageNo, PageSize, page, page_params, paginated, roles

HOLDERS = roles(Role.HOLDER, Role.OPERATOR)

# Described, not validated by Litestar: the service refuses any other shape with its own code
# (statement.month_invalid, 400), the same answer the page's form gets.
Month = Annotated[str, Parameter(description="An accounting month, YYYY-MM (China time), e.g. 2026-12",
                                 schema_extra={"pattern": "^20[0-9]{2}-(0[1-9]|1[0-2])$", "min_length": 7,
                                               "max_length": 7})]


def _org(request: Request) -> int:
    return request.user.org_id


def chart_data(by_month: list[dict]) -> str:
    """The chart's series in the shape /static/fund-chart.js draws (two bar series of 分 per month)."""
    return json.dumps({"months": [m["month"] for m in by_month],
                       "inflow_fen": [m["released_fen"] for m in by_month],
                       "outflow_fen": [m["paid_out_fen"] for m in by_month]}, separators=(",", ":"))


# ---- the page and its forms ---------------------------------------------------------------------

@get("/sales", opt=HOLDERS, include_in_schema=False)
async def sales_page(request: Request, month: FromQuery[str | None] = None, status: FromQuery[str | None] = None,
                     page_no: Annotated[int | None, QueryParameter(name="page")] = None) -> Response:
    org = _org(request)
    overview = await service.overview(holder_org_id=org)
    months = overview["months"]
    current = statements.current_month()
    if month is None or not statements.is_month(month):
        month = months[0] if months else current
    status = status if status in service.ORDER_STATUS_NAMES else None
    p, size = page_params(page_no, 50)
    rows, total = await service.sales(holder_org_id=org, status=status, page=p, page_size=size)
    return page(request, "billing/sales.html", due=overview["due"], awaiting=overview["awaiting"],
                monthly=overview["monthly"], chart=chart_data(overview["monthly"]),
                months=sorted(set(months) | {current, month}, reverse=True), month=month,
                statement=await statements.statement(holder_org_id=org, month=month),
                statement_docs=await statements.statement_documents(holder_org_id=org, month=month),
                sales=rows, paging=paginated(rows, total, p, size), status=status,
                buyers=await service.buyers(holder_org_id=org), payouts=await service.payouts(holder_org_id=org),
                status_names=service.ORDER_STATUS_NAMES, purpose_names=PURPOSES,
                kind_names=statements.KIND_NAMES)


@post("/sales/orders/{order_id:int}/approve", opt=HOLDERS, include_in_schema=False)
async def approve_form(request: Request, order_id: FromPath[int]) -> Response:
    form = await request.form()
    await orders.approve(order_id=order_id, org_id=_org(request), note=str(form.get("note", "")))
    return Redirect("/sales")


@post("/sales/orders/{order_id:int}/decline", opt=HOLDERS, include_in_schema=False)
async def decline_form(request: Request, order_id: FromPath[int]) -> Response:
    form = await request.form()
    await orders.decline(order_id=order_id, org_id=_org(request), reason=str(form.get("reason", "")))
    return Redirect("/sales")


@post("/sales/statements/{month:str}/pdf", opt=HOLDERS, include_in_schema=False)
async def statement_pdf_form(request: Request, month: Month) -> Response:
    await statements.request_pdf(holder_org_id=_org(request), month=month)
    return Redirect(f"/sales?month={month}#statement")


# ---- JSON API -----------------------------------------------------------------------------------

@get("/summary", opt=HOLDERS,
     summary="What the platform owes the holder, what escrow holds for its orders, payouts, figures by month")
async def api_summary(request: Request) -> SummaryOut:
    o = await service.overview(holder_org_id=_org(request))
    return SummaryOut(**o["due"], awaiting_approval=len(o["awaiting"]), statement_months=o["months"],
                      by_month=[MonthOut(**m) for m in o["monthly"]])


@get("/approvals", opt=HOLDERS,
     summary="Orders waiting for the holder to approve or decline (POST /api/v1/orders/{id}/approve or /decline)")
async def api_approvals(request: Request) -> list[SaleOut]:
    return [SaleOut(**r) for r in await service.awaiting_approval(holder_org_id=_org(request))]


@get("/orders", opt=HOLDERS, summary="The holder's sales, newest first (optionally of one order status)")
async def api_sales(request: Request, status: FromQuery[str | None] = None, page: PageNo = None,
                    page_size: PageSize = None) -> dict:
    p, size = page_params(page, page_size)
    rows, total = await service.sales(holder_org_id=_org(request), status=status, page=p, page_size=size)
    return paginated([SaleOut(**r) for r in rows], total, p, size)


@get("/buyers", opt=HOLDERS, summary="The holder's buyers: orders, paid orders and their net amount")
async def api_buyers(request: Request) -> list[BuyerOut]:
    return [BuyerOut(**b) for b in await service.buyers(holder_org_id=_org(request))]


@get("/payouts", opt=HOLDERS, summary="Payouts the platform made to the holder, newest first")
async def api_payouts(request: Request) -> list[PayoutReceivedOut]:
    return [PayoutReceivedOut(**p) for p in await service.payouts(holder_org_id=_org(request))]


@get("/statements/{month:str}", opt=HOLDERS,
     summary="The holder's statement of a month (YYYY-MM): opening, every movement, totals, closing")
async def api_statement(request: Request, month: Month) -> StatementOut:
    return statement_out(await statements.statement(holder_org_id=_org(request), month=month))


@get("/statements/{month:str}/csv", opt=HOLDERS, media_type="text/csv",
     summary="The holder's statement of a month as CSV (UTF-8 with BOM; amounts in 元)")
async def api_statement_csv(request: Request, month: Month) -> Response:
    s = await statements.statement(holder_org_id=_org(request), month=month)
    return Response(statements.to_csv(s), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": content_disposition(f"对账单-{month}.csv", "attachment"),
                             "Cache-Control": "no-store"})


@post("/statements/{month:str}/pdf", opt=HOLDERS, status_code=202,
      summary="Issue the month's statement as a PDF (rendered by a job; the same figures return the same document)")
async def api_statement_pdf_request(request: Request, month: Month) -> StatementPdfOut:
    doc = await statements.request_pdf(holder_org_id=_org(request), month=month)
    return StatementPdfOut(document_id=doc["id"], month=month, status=doc["status"], sha256=doc["sha256"] or "")


@get("/statements/{month:str}/pdf", opt={**HOLDERS, "error_statuses": ("409",)}, media_type=documents.PDF_CONTENT_TYPE,
     summary="The latest statement PDF issued for the month (404 before one was issued, 409 while rendering)")
async def api_statement_pdf(request: Request, month: Month) -> Response:
    filename, data = await statements.statement_pdf(holder_org_id=_org(request), month=month)
    return Response(data, media_type=documents.PDF_CONTENT_TYPE,
                    headers={"Content-Disposition": content_disposition(filename, "inline"),
                             "Cache-Control": "no-store"})


api_router = Router(path="/api/v1/sales", route_handlers=[
    api_summary, api_approvals, api_sales, api_buyers, api_payouts, api_statement, api_statement_csv,
    api_statement_pdf_request, api_statement_pdf,
], tags=["sales"])

router = Router(path="/", route_handlers=[sales_page, approve_form, decline_form, statement_pdf_form, api_router])
