"""A holder's monthly statement: every movement of its payable account in one accounting month.

Read from the ledger's postings on `payable:<org>` alone, so a statement can never disagree with the
ledger: the opening balance is what the postings of earlier months leave, each movement is one
journal transaction, and closing = opening + the sum of the movements' net amounts, which is the
account's balance at the end of the month (for the current month: its balance now).

A movement shows, from the holder's side (positive = owed to it):
  release   gross = the sale's net amount A, commission C (of which the fund's share F), net = A - C
  refund    the release reversed in proportion: the same columns, negative
  payout    the platform paid the holder: net = -P
  disbursement  a governance-fund grant paid into the holder's payable: net = +D
Tax is not the holder's: VAT is owed by the platform as seller of record and stays out of here.

The PDF is a market document (templates/pdf/statement/v1.html), rendered by the documents job; the
context is frozen with every figure written out, so a statement PDF, once issued, reads the same
forever. Asking again for a month whose figures did not change returns the document already issued.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta, timezone

from billing._accounts import COMMISSION, FUND, payable_code
from billing import orders as order_refs
from billing.orders.tables import Order
from billing.tables import Account, JournalTxn, Posting, TxnKind
from market import db, documents
from market.errors import DomainError, NotFound
from market.i18n import N_
from market.tables import Document, DocumentKind, DocumentStatus, Organization

_CHINA = timezone(timedelta(hours=8))  # accounting periods are months in China time (billing/ledger.py)
_MONTH = re.compile(r"^(20[0-9]{2})-(0[1-9]|1[0-2])$")
SUBJECT = "holder_statement"

KIND_NAMES = {
    TxnKind.RELEASE.value: N_("结算"),
    TxnKind.REFUND.value: N_("退款冲回"),
    TxnKind.PAYOUT.value: N_("付款"),
    TxnKind.DISBURSEMENT.value: N_("基金拨付"),
    TxnKind.ADJUSTMENT.value: N_("调整"),
    TxnKind.PAYMENT.value: N_("收款"),
    TxnKind.LINEAGE_SHARE.value: N_("来源分成"),
}

CSV_COLUMNS = ("日期", "类型", "凭证号", "订单", "数据产品", "买方", "销售额", "佣金", "其中治理基金", "净额", "余额")


def check_month(month: str) -> str:
    """'YYYY-MM' or a clear refusal."""
    if not isinstance(month, str) or not _MONTH.match(month):
        raise DomainError("statement.month_invalid", "月份格式应为 YYYY-MM，例如 2026-12")
    return month


def is_month(month: object) -> bool:
    return isinstance(month, str) and _MONTH.match(month) is not None


def current_month() -> str:
    return datetime.now(_CHINA).strftime("%Y-%m")


def plain(fen: int) -> str:
    """1234567 → "12345.67", -5 → "-0.05": amounts in 元 as a spreadsheet reads them."""
    sign = "-" if fen < 0 else ""
    major, minor = divmod(abs(fen), 100)
    return f"{sign}{major}.{minor:02d}"


async def months(*, holder_org_id: int) -> list[str]:
    """The months in which the holder's payable moved, newest first."""
    rows = await (Posting.select(Posting.txn.period.as_alias("period"))
                  .where(Posting.account.code == payable_code(holder_org_id)).distinct())
    return sorted({r["period"] for r in rows}, reverse=True)


async def _legs(txn_ids: list[int]) -> dict[int, dict[str, int]]:
    """The postings of these transactions, per transaction and account code."""
    out: dict[int, dict[str, int]] = {}
    for i in range(0, len(txn_ids), 500):  # bounded IN lists (SQLite limits bound parameters)
        rows = await (Posting.select(Posting.txn.as_alias("txn"), Posting.account.code.as_alias("code"),
                                     Posting.amount_fen).where(Posting.txn.is_in(txn_ids[i:i + 500])))
        for r in rows:
            legs = out.setdefault(r["txn"], {})
            legs[r["code"]] = legs.get(r["code"], 0) + r["amount_fen"]
    return out


async def _orders(refs: set[str]) -> dict[str, dict]:
    ids = sorted({i for i in (order_refs.order_id_of(r) for r in refs) if i is not None})
    if not ids:
        return {}
    rows = await (Order.select(Order.id, Order.listing_title, Order.buyer_name, Order.plan_terms)
                  .where(Order.id.is_in(ids)))
    return {order_refs.ref(r["id"]): r for r in rows}


def _movement(txn: dict, legs: dict[str, int], code: str, order: dict | None) -> dict:
    net = -legs.get(code, 0)  # the payable is a liability: a credit (< 0) is money owed to the holder
    commission = fund_share = 0
    if txn["kind"] in (TxnKind.RELEASE.value, TxnKind.REFUND.value):
        # the platform's commission C is what went to its revenue plus the fund's part of it
        fund_share = -legs.get(FUND, 0)
        commission = -legs.get(COMMISSION, 0) + fund_share
    when = txn["created_at"].astimezone(_CHINA)
    return {"txn_id": txn["id"], "kind": txn["kind"], "date": when.strftime("%Y-%m-%d"), "at": when.isoformat(),
            "reference": txn["reference"], "order_id": order_refs.order_id_of(txn["reference"]),
            "listing_title": order["listing_title"] if order else "",
            "buyer_name": order["buyer_name"] if order else "",
            "gross_fen": net + commission, "commission_fen": commission, "fund_share_fen": fund_share,
            "net_fen": net}


async def statement(*, holder_org_id: int, month: str) -> dict:
    """The holder's statement for one month: opening, every movement with the running balance, totals, closing."""
    check_month(month)
    org = await Organization.select(Organization.id, Organization.name, Organization.credit_code).where(
        Organization.id == holder_org_id).first()
    if org is None:
        raise NotFound("statement.holder_not_found", "该机构不存在")
    code = payable_code(holder_org_id)
    async with db.reading():
        before = await (Posting.select(Posting.amount_fen)
                        .where(Posting.account.code == code, Posting.txn.period < month))
        txns = await (JournalTxn.select(JournalTxn.id, JournalTxn.kind, JournalTxn.reference, JournalTxn.created_at)
                      .where(JournalTxn.id.is_in(
                          Posting.select(Posting.txn).where(Posting.account.code == code)),
                          JournalTxn.period == month)
                      .order_by(JournalTxn.id))
        legs = await _legs([t["id"] for t in txns])
        orders = await _orders({t["reference"] for t in txns})
    opening = -sum(r["amount_fen"] for r in before)
    balance = opening
    movements = []
    for txn in txns:
        m = _movement(txn, legs.get(txn["id"], {}), code, orders.get(txn["reference"]))
        balance += m["net_fen"]
        movements.append({**m, "balance_fen": balance})
    totals = {k: sum(m[k] for m in movements) for k in ("gross_fen", "commission_fen", "fund_share_fen", "net_fen")}
    by_kind = {k: sum(m["net_fen"] for m in movements if m["kind"] == k) for k in
               (TxnKind.RELEASE.value, TxnKind.REFUND.value, TxnKind.PAYOUT.value, TxnKind.DISBURSEMENT.value,
                TxnKind.LINEAGE_SHARE.value)}
    return {"holder": {"org_id": org["id"], "name": org["name"], "credit_code": org["credit_code"]},
            "month": month, "opening_fen": opening, "closing_fen": balance, "movements": movements,
            "totals": totals, "net_by_kind": by_kind}


def to_csv(s: dict) -> bytes:
    """The statement as CSV (UTF-8 with a BOM, so Excel opens the Chinese right): a header, the opening
    balance, one line per movement, the totals and the closing balance; amounts in 元."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    w.writerow([f"{s['month']}-01", "期初余额", "", "", "", "", "", "", "", "", plain(s["opening_fen"])])
    for m in s["movements"]:
        w.writerow([m["date"], KIND_NAMES.get(m["kind"], m["kind"]), m["txn_id"], m["reference"], m["listing_title"],
                    m["buyer_name"], plain(m["gross_fen"]), plain(m["commission_fen"]), plain(m["fund_share_fen"]),
                    plain(m["net_fen"]), plain(m["balance_fen"])])
    t = s["totals"]
    w.writerow(["", "本月合计", "", "", "", "", plain(t["gross_fen"]), plain(t["commission_fen"]),
                plain(t["fund_share_fen"]), plain(t["net_fen"]), ""])
    w.writerow(["", "期末余额", "", "", "", "", "", "", "", "", plain(s["closing_fen"])])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def pdf_context(s: dict) -> dict:
    """What templates/pdf/statement/v1.html prints, every amount already written out."""
    t = s["totals"]
    return {
        "title": "持有方月度结算对账单", "month": s["month"],
        "month_text": f"{s['month'][:4]}年{int(s['month'][5:])}月",
        "holder": s["holder"], "opening": plain(s["opening_fen"]), "closing": plain(s["closing_fen"]),
        "movements": [{"date": m["date"], "kind": KIND_NAMES.get(m["kind"], m["kind"]), "txn_id": m["txn_id"],
                       "reference": m["reference"], "listing_title": m["listing_title"],
                       "buyer_name": m["buyer_name"], "gross": plain(m["gross_fen"]),
                       "commission": plain(m["commission_fen"]), "fund_share": plain(m["fund_share_fen"]),
                       "net": plain(m["net_fen"]), "balance": plain(m["balance_fen"])} for m in s["movements"]],
        "totals": {k.removesuffix("_fen"): plain(v) for k, v in t.items()},
        "released": plain(s["net_by_kind"]["release"]), "refunded": plain(s["net_by_kind"]["refund"]),
        "paid_out": plain(-s["net_by_kind"]["payout"]), "granted": plain(s["net_by_kind"]["disbursement"]),
    }


def _subject(holder_org_id: int, month: str) -> str:
    return f"{holder_org_id}:{month}"


async def statement_documents(*, holder_org_id: int, month: str | None = None) -> list[dict]:
    """The statement PDFs issued to the holder (for one month, or all), newest first."""
    where = [Document.kind == DocumentKind.STATEMENT.value, Document.subject_type == SUBJECT]
    if month:
        where.append(Document.subject_id == _subject(holder_org_id, check_month(month)))
    else:
        where.append(Document.subject_id.like(f"{holder_org_id}:%"))
    rows = await (Document.select(Document.id, Document.subject_id, Document.status, Document.sha256,
                                  Document.created_at, Document.rendered_at)
                  .where(*where).order_by(Document.id, ascending=False))
    return [{**r, "month": r["subject_id"].partition(":")[2]} for r in rows]


async def request_pdf(*, holder_org_id: int, month: str) -> dict:
    """Issue the month's statement as a PDF (rendered by a job after commit). When the latest one issued
    for the month says the same, that one is returned: asking twice issues one document."""
    s = await statement(holder_org_id=holder_org_id, month=month)
    context = pdf_context(s)
    frozen = json.dumps(context, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    async with db.atomic():
        latest = await (Document.select(Document.id, Document.context)
                        .where(Document.kind == DocumentKind.STATEMENT.value, Document.subject_type == SUBJECT,
                               Document.subject_id == _subject(holder_org_id, month))
                        .order_by(Document.id, ascending=False).first())
        if latest is not None and latest["context"] == frozen:
            return await documents.get_document(latest["id"])
        return await documents.create_document(
            kind=DocumentKind.STATEMENT.value, context=context, title=f"{context['title']} {month}",
            subject_type=SUBJECT, subject_id=_subject(holder_org_id, month),
            parties=[{"role": "holder", "org_id": holder_org_id, "name": s["holder"]["name"],
                      "credit_code": s["holder"]["credit_code"]}])


async def statement_pdf(*, holder_org_id: int, month: str) -> tuple[str, bytes]:
    """(file name, bytes) of the latest statement PDF issued for the month; 404 before one was asked for,
    409 while it is being rendered."""
    docs = await statement_documents(holder_org_id=holder_org_id, month=month)
    if not docs:
        raise NotFound("statement.no_pdf", "该月的对账单 PDF 尚未生成，请先生成")
    doc = docs[0]
    if doc["status"] != DocumentStatus.RENDERED.value:
        await documents.pdf_bytes(doc["id"])  # raises document.not_rendered (409)
    return f"对账单-{month}.pdf", await documents.pdf_bytes(doc["id"])
