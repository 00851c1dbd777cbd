"""Issuing invoices: a normal invoice for an order (from its frozen snapshot) and red-letter credit
notes that reverse all or part of one. Both take the next number of the year's series in the
transaction that inserts them (see _numbers), are audited in it, and have their PDF rendered by the
documents job after commit."""

from __future__ import annotations

import json

from billing.invoices import _document, _numbers, _snapshot
from billing.invoices.tables import Invoice, InvoiceKind
from market import audit, db, identity, runtime
from market.errors import NotFound
from market.i18n import N_
from market.money import Money


def canonical(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def not_found() -> NotFound:
    return NotFound("invoice.not_found", N_("发票不存在"))


def remarks_for(s: dict) -> str:
    """备注 of a normal invoice: what ties it to the order, the product and the payment."""
    parts = [f"订单编号：{s['order_ref']}"]
    if s["listing_title"]:
        parts.append(f"数据产品：{s['listing_title']}")
    if s["registration_code"]:
        parts.append(f"登记编码：{s['registration_code']}")
    pay = s["payment"]
    if pay["reference"]:
        parts.append(f"付款参考号：{pay['reference']}")
    if pay["account_number"]:
        parts.append(f"收款账户：{pay['account_name']} {pay['bank']} {pay['account_number']}".strip())
    return "；".join(parts)


async def _existing_for(order_ref: str) -> dict | None:
    return await (Invoice.select().where(Invoice.order_key == order_ref)
                  .where(Invoice.kind == InvoiceKind.NORMAL.value).first())


async def insert_numbered(values: dict, *, year: int, last: int, action: str, audit_after: dict) -> dict:
    """Take the next number of the locked series, record the PDF document and insert the invoice;
    the caller holds the series lock (`_numbers.lock_series`) inside `db.atomic()`."""
    seq = await _numbers.take_next(year, last)
    number = _numbers.format_number(year, seq)
    row = {**values, "number": number, "year": year, "seq": seq}
    doc = await _document.create(row)
    inserted = await Invoice.insert(Invoice(**row, document=doc["id"])).returning(*Invoice.all_columns())
    invoice = inserted[0]
    await audit.record(action=action, object_type="invoice", object_id=number,
                       after={"number": number, "kind": values["kind"], "order_ref": values["order_ref"],
                              "total_fen": values["total_fen"], "document": doc["id"], **audit_after})
    return invoice


async def issue_invoice(*, order_snapshot: dict, issuer: str | None = None) -> dict:
    """Issue the order's 数电发票 from its frozen snapshot (the same order again returns its invoice)."""
    s = _snapshot.normalise(order_snapshot)
    existing = await _existing_for(s["order_ref"])
    if existing is not None:
        return existing
    await identity.get_organization(s["buyer"]["org_id"])  # a clear 404 instead of a foreign key failure
    issued_on = _numbers.today()
    values = {
        "kind": InvoiceKind.NORMAL.value, "original_id": None, "original_number": "",
        "order_key": s["order_ref"], "order_ref": s["order_ref"], "order_id": s["order_id"],
        "issued_on": issued_on,
        "seller_name": s["seller"]["name"], "seller_credit_code": s["seller"]["credit_code"],
        "buyer_org": s["buyer"]["org_id"], "buyer_name": s["buyer"]["name"],
        "buyer_credit_code": s["buyer"]["credit_code"],
        "lines": canonical(s["lines"]), "amount_fen": s["amount_fen"], "tax_fen": s["tax_fen"],
        "total_fen": s["total_fen"], "total_upper": Money(s["total_fen"]).to_chinese_upper(),
        "remarks": remarks_for(s), "reason": "", "issuer": (issuer or runtime.settings().invoice_issuer)[:50],
        "snapshot": canonical(s),
    }
    async with db.atomic():
        last = await _numbers.lock_series(issued_on.year)
        # under the series lock: a concurrent call for the same order committed before we got here
        existing = await _existing_for(s["order_ref"])
        if existing is not None:
            return existing
        return await insert_numbered(values, year=issued_on.year, last=last, action="invoice.issued",
                                     audit_after={"buyer_org": s["buyer"]["org_id"]})
