"""Platform finance (财务): open invoices, the bank reconciliation queue, payouts to holders, the trial balance.

Money moves only through the ledger and payments services; this module reads what they keep and
calls them. A payout is posted under the caller's idempotency key (the API's Idempotency-Key header,
the page's form token), so a double submit, a retried request or a second click pays once.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from piccolo.query.functions.aggregate import Sum

from billing import _accounts as chart
from billing import invoices, ledger, orders, payments
from billing.invoices.tables import Invoice, InvoiceKind, InvoiceStatus
from billing.payments.tables import PaymentRequest, RequestStatus
from billing.tables import Account, JournalTxn, Posting, TxnKind
from market import db
from market.errors import DomainError, NotFound
from market.tables import Organization

_CHINA = timezone(timedelta(hours=8))
MAX_KEY = 150  # the ledger's keys hold 200 characters; ours are prefixed


def today() -> date:
    return datetime.now(_CHINA).date()


# ---- open invoices ------------------------------------------------------------------------------

async def open_invoices(*, on: date | None = None) -> list[dict]:
    """Invoices issued and not voided whose order has not been paid in full, oldest first, with what is
    still due and the age in days."""
    on = on or today()
    rows = await (Invoice.select(Invoice.id, Invoice.number, Invoice.order_ref, Invoice.order_id,
                                 Invoice.issued_on, Invoice.buyer_name, Invoice.total_fen)
                  .where(Invoice.kind == InvoiceKind.NORMAL.value, Invoice.status == InvoiceStatus.ISSUED.value)
                  .order_by(Invoice.issued_on).order_by(Invoice.id))
    refs = [r["order_ref"] for r in rows]
    requests = {}
    for i in range(0, len(refs), 500):
        for q in await (PaymentRequest.select(PaymentRequest.order_ref, PaymentRequest.reference,
                                              PaymentRequest.amount_fen, PaymentRequest.paid_fen,
                                              PaymentRequest.status)
                        .where(PaymentRequest.order_ref.is_in(refs[i:i + 500]))):
            requests[q["order_ref"]] = q
    out = []
    for r in rows:
        q = requests.get(r["order_ref"])
        if q is not None and q["status"] == RequestStatus.PAID.value:
            continue
        paid = q["paid_fen"] if q else 0
        out.append({**r, "payment_reference": q["reference"] if q else "",
                    "request_status": q["status"] if q else None, "paid_fen": paid,
                    "due_fen": r["total_fen"] - paid, "age_days": (on - r["issued_on"]).days})
    return out


# ---- reconciliation -----------------------------------------------------------------------------

async def reconciliation_queue(*, page: int = 1, page_size: int = 50) -> tuple[list[dict], int]:
    """Statement lines waiting for a person (partial, over, unmatched), newest first."""
    return await payments.list_lines(page=page, page_size=page_size)


async def _order_ref_for(*, order_id: int | None, invoice_number: str | None) -> str:
    if invoice_number:
        number = invoice_number.strip()
        row = None
        if invoices.is_number(number):
            row = await (Invoice.select(Invoice.order_ref).where(Invoice.number == number,
                                                                 Invoice.kind == InvoiceKind.NORMAL.value).first())
        if row is None:
            raise NotFound("finance.invoice_not_found", "没有这张发票：{number}", number=number[:40])
        ref = row["order_ref"]
        if order_id is not None and ref != orders.ref(order_id):
            raise DomainError("finance.invoice_order_mismatch", "发票 {number} 不属于订单 {order_id}",
                              number=number, order_id=order_id)
        return ref
    if order_id is None:
        raise DomainError("finance.match_target_required", "请填写要计入的订单号或发票号码")
    if not await orders.Order.exists().where(orders.Order.id == order_id):
        raise NotFound("order.not_found", "订单不存在")
    return orders.ref(order_id)


async def resolve_line(*, line_id: int, outcome: str, note: str, resolved_by: str, order_id: int | None = None,
                       invoice_number: str | None = None) -> dict:
    """Settle one line of the queue: count it as an order's payment (by order id or invoice number), or
    record that it was returned to the payer or needs nothing, always with a note."""
    record_for = None
    if outcome == "match":
        record_for = await _order_ref_for(order_id=order_id, invoice_number=invoice_number)
    elif order_id is not None or invoice_number:
        raise DomainError("statement.outcome_order", "计入订单收款时须指明订单，退回或无需处理时不能指明订单")
    return await payments.resolve_line(line_id=line_id, note=note, resolved_by=resolved_by, record_for=record_for,
                                       outcome=outcome)


# ---- payouts ------------------------------------------------------------------------------------

async def payouts_due() -> list[dict]:
    """Holders the platform owes money to (a positive payable), the largest first."""
    rows = await (Account.select(Account.code, Account.balance_fen, Account.owner.id.as_alias("org_id"),
                                 Account.owner.name.as_alias("org_name"),
                                 Account.owner.credit_code.as_alias("credit_code"))
                  .where(Account.code.like(f"{chart.PAYABLE_PREFIX}%"), Account.balance_fen < 0))
    out = [{"org_id": r["org_id"], "org_name": r["org_name"], "credit_code": r["credit_code"],
            "account": r["code"], "payable_fen": -r["balance_fen"]} for r in rows]
    return sorted(out, key=lambda r: (-r["payable_fen"], r["org_id"]))


def _payout_key(idempotency_key: str | None) -> str:
    key = (idempotency_key or "").strip()
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise DomainError("finance.idempotency_key_required",
                          "请提供幂等键（请求头 Idempotency-Key，1 到 {n} 个可见字符），以免重复付款", n=MAX_KEY)
    return f"finance-payout:{key}"


async def record_payout(*, holder_org_id: int, amount_fen: int, bank_reference: str, idempotency_key: str | None,
                        recorded_by: str) -> tuple[dict, bool]:
    """Record that the platform paid a holder (Dr payable / Cr bank): never above what it is owed; the
    same key again returns the payout already recorded (created False) instead of paying twice."""
    key = _payout_key(idempotency_key)
    reference = (bank_reference or "").strip()
    if len(reference) < 2 or len(reference) > 90:
        raise DomainError("finance.bank_reference_required", "请填写银行付款流水号（2 到 90 个字符）")
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise DomainError("ledger.invalid_amount", "金额必须大于零（{what}）", what="amount_fen")
    if not await Organization.exists().where(Organization.id == holder_org_id):
        raise NotFound("ledger.unknown_holder", "该机构不存在：{org_id}", org_id=holder_org_id)
    posted = await ledger.payout(holder_org_id=holder_org_id, amount_fen=amount_fen, idempotency_key=key,
                                 reference=f"payout:{reference}")
    return await payout(txn_id=posted.txn_id), posted.created


async def payout(*, txn_id: int) -> dict:
    txn = await JournalTxn.select().where(JournalTxn.id == txn_id, JournalTxn.kind == TxnKind.PAYOUT).first()
    if txn is None:
        raise NotFound("finance.payout_not_found", "没有这笔付款")
    org = await Organization.select(Organization.name).where(Organization.id == txn["holder"]).first()
    row = await (Posting.select(Posting.amount_fen)
                 .where(Posting.txn == txn_id, Posting.account.code == ledger.payable_code(txn["holder"])).first())
    return {"txn_id": txn_id, "holder_org_id": txn["holder"], "holder_name": org["name"] if org else "",
            "amount_fen": row["amount_fen"], "bank_reference": txn["reference"].removeprefix("payout:"),
            "recorded_by": txn["actor"], "paid_at": txn["created_at"],
            "payable_after_fen": await ledger.balance(account_code=ledger.payable_code(txn["holder"]))}


async def recent_payouts(*, limit: int = 20) -> list[dict]:
    rows = await (JournalTxn.select(JournalTxn.id).where(JournalTxn.kind == TxnKind.PAYOUT)
                  .order_by(JournalTxn.id, ascending=False).limit(limit))
    return [await payout(txn_id=r["id"]) for r in rows]


# ---- trial balance ------------------------------------------------------------------------------

async def trial_balance() -> dict:
    """Every account with its debit and credit totals and its balance (on its normal side), the totals
    (debits equal credits when every transaction balances), and the ledger's own check."""
    async with db.reading():
        accounts = await (Account.select(Account.id, Account.code, Account.kind, Account.name, Account.balance_fen,
                                         Account.owner.name.as_alias("owner_name")).order_by(Account.code))
        debits = {r["account"]: int(r["total"] or 0) for r in await (
            Posting.select(Posting.account.as_alias("account"), Sum(Posting.amount_fen).as_alias("total"))
            .where(Posting.amount_fen > 0).group_by(Posting.account))}
        credits = {r["account"]: -int(r["total"] or 0) for r in await (
            Posting.select(Posting.account.as_alias("account"), Sum(Posting.amount_fen).as_alias("total"))
            .where(Posting.amount_fen < 0).group_by(Posting.account))}
    rows = []
    for a in accounts:
        debit, credit = debits.get(a["id"], 0), credits.get(a["id"], 0)
        rows.append({"code": a["code"], "kind": a["kind"], "name": a["name"], "owner_name": a["owner_name"] or "",
                     "debit_fen": debit, "credit_fen": credit,
                     "balance_fen": chart.normal_sign(a["kind"]) * (debit - credit),
                     # the balance kept on the account row, which `check` compares with the postings
                     "kept_balance_fen": chart.normal_sign(a["kind"]) * a["balance_fen"]})
    total_debit = sum(r["debit_fen"] for r in rows)
    total_credit = sum(r["credit_fen"] for r in rows)
    report = await ledger.check()
    return {"accounts": rows, "total_debit_fen": total_debit, "total_credit_fen": total_credit,
            "balanced": total_debit == total_credit,
            "check": {"ok": report.ok, "transactions": report.transactions, "accounts": report.accounts,
                      "problem": report.problem}}
