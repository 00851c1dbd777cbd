"""Routes of platform finance (财务, the admin role until a finance role exists): the page, its forms
(import a bank statement, resolve a line, record a payout) and the JSON API under /api/v1/finance.
Thin: the rules are in billing.finance.service, billing.payments and billing.ledger."""

from __future__ import annotations

import secrets
from typing import Annotated

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath, HeaderParameter, JSONBody
from litestar.response import Redirect

from billing import payments
from billing.finance import service
from billing.finance.schemas import (
    AccountLineOut,
    CheckOut,
    OpenInvoiceOut,
    PayoutDueOut,
    PayoutIn,
    PayoutOut,
    ResolveLineIn,
    TrialBalanceOut,
)
from billing.payments import _statement
from billing.payments._reconcile import OUTCOMES  # not re-exported by billing.payments (another helper's file)
from billing.payments.schemas import LineOut, line_out
from market.errors import DomainError
from market.money import Money, MoneyError
from market.tables import Role
from market.web import PageNo, PageSize, page, page_params, paginated, roles

FINANCE = roles(Role.ADMIN)
STATEMENT_LIMIT = _statement.MAX_BYTES + 1024 * 1024  # the file plus the multipart envelope


# ---- the page and its forms ---------------------------------------------------------------------

async def _page(request: Request, *, imported: dict | None = None) -> Response:
    lines, lines_total = await service.reconciliation_queue(page=1, page_size=200)
    due = await service.payouts_due()
    return page(request, "billing/finance.html", invoices=await service.open_invoices(), lines=lines,
                lines_total=lines_total, payouts_due=due, recent_payouts=await service.recent_payouts(),
                trial=await service.trial_balance(), imported=imported, outcomes=OUTCOMES,
                # one token per row: the same form submitted twice posts the same key and pays once
                payout_tokens={r["org_id"]: secrets.token_urlsafe(18) for r in due})


@get("/finance", opt=FINANCE, include_in_schema=False)
async def finance_page(request: Request) -> Response:
    return await _page(request)


@post("/finance/statements", opt=FINANCE, include_in_schema=False, request_max_body_size=STATEMENT_LIMIT)
async def statement_form(request: Request) -> Response:
    form = await request.form()
    result = await payments.import_uploaded_statement(form.get("file"), imported_by=request.user.label)
    return await _page(request, imported=result)


def _optional_int(text: str) -> int | None:
    text = (text or "").strip().removeprefix("order:")
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise DomainError("finance.order_id_invalid", "订单号必须是正整数")
    return int(text)


@post("/finance/lines/{line_id:int}/resolve", opt=FINANCE, include_in_schema=False)
async def resolve_form(request: Request, line_id: FromPath[int]) -> Response:
    form = await request.form()
    await service.resolve_line(line_id=line_id, outcome=str(form.get("outcome", "")), note=str(form.get("note", "")),
                               resolved_by=request.user.label, order_id=_optional_int(str(form.get("order_id", ""))),
                               invoice_number=str(form.get("invoice_number", "")).strip() or None)
    return Redirect("/finance#reconciliation")


@post("/finance/payouts", opt=FINANCE, include_in_schema=False)
async def payout_form(request: Request) -> Response:
    form = await request.form()
    org_id = _optional_int(str(form.get("holder_org_id", "")))
    if org_id is None:
        raise DomainError("finance.holder_required", "请选择收款的持有方")
    try:
        amount = Money.of_yuan(str(form.get("amount_yuan", "")).strip()).amount
    except MoneyError:
        raise DomainError("finance.amount_invalid", "请按元填写金额，最多两位小数，例如 5000 或 5000.50") from None
    await service.record_payout(holder_org_id=org_id, amount_fen=amount,
                                bank_reference=str(form.get("bank_reference", "")),
                                idempotency_key=f"form:{form.get('token', '')}" if form.get("token") else None,
                                recorded_by=request.user.label)
    return Redirect("/finance#payouts")


# ---- JSON API -----------------------------------------------------------------------------------

@get("/invoices", opt=FINANCE, summary="Invoices issued and not yet paid in full, oldest first, with their age in days")
async def api_open_invoices() -> list[OpenInvoiceOut]:
    return [OpenInvoiceOut(**{f: r[f] for f in OpenInvoiceOut.__struct_fields__})
            for r in await service.open_invoices()]


@get("/reconciliation", opt=FINANCE,
     summary="The reconciliation queue: bank statement lines partial, over or unmatched, newest first "
             "(import a statement with POST /api/v1/payments/statements)")
async def api_queue(page: PageNo = None, page_size: PageSize = None) -> dict:
    p, size = page_params(page, page_size)
    rows, total = await service.reconciliation_queue(page=p, page_size=size)
    return paginated([line_out(r) for r in rows], total, p, size)


@post("/reconciliation/lines/{line_id:int}/resolve", opt=FINANCE, status_code=200,
      summary="Resolve a line of the queue: match it to an order (by id or invoice number), or mark it "
              "returned or ignored, with a note (audited)")
async def api_resolve(request: Request, line_id: FromPath[int], data: JSONBody[ResolveLineIn]) -> LineOut:
    return line_out(await service.resolve_line(line_id=line_id, outcome=data.outcome, note=data.note,
                                               resolved_by=request.user.label, order_id=data.order_id,
                                               invoice_number=data.invoice_number))


@get("/payouts", opt=FINANCE, summary="Holders the platform owes money to (a positive payable), largest first")
async def api_payouts_due() -> list[PayoutDueOut]:
    return [PayoutDueOut(**r) for r in await service.payouts_due()]


@post("/payouts", opt=FINANCE, status_code=201,
      summary="Record a payout to a holder (header Idempotency-Key required: the same key pays once); "
              "never more than it is owed")
async def api_record_payout(
        request: Request, data: JSONBody[PayoutIn],
        idempotency_key: Annotated[str | None, HeaderParameter(name="Idempotency-Key")] = None) -> Response:
    row, created = await service.record_payout(holder_org_id=data.holder_org_id, amount_fen=data.amount_fen,
                                               bank_reference=data.bank_reference,
                                               idempotency_key=idempotency_key, recorded_by=request.user.label)
    headers = {} if created else {"Idempotent-Replayed": "true"}
    return Response(PayoutOut(**row), status_code=201, headers=headers)


@get("/trial-balance", opt=FINANCE,
     summary="The trial balance: every account's debits, credits and balance, the totals, and the ledger check")
async def api_trial_balance() -> TrialBalanceOut:
    t = await service.trial_balance()
    return TrialBalanceOut(accounts=[AccountLineOut(**a) for a in t["accounts"]], total_debit_fen=t["total_debit_fen"],
                           total_credit_fen=t["total_credit_fen"], balanced=t["balanced"], check=CheckOut(**t["check"]))


api_router = Router(path="/api/v1/finance", route_handlers=[
    api_open_invoices, api_queue, api_resolve, api_payouts_due, api_record_payout, api_trial_balance,
], tags=["finance"])

router = Router(path="/", route_handlers=[finance_page, statement_form, resolve_form, payout_form, api_router])
