"""Reading invoices: the buyer organization sees its own, the platform admin (finance) and regulators
see all; anyone else is told the invoice does not exist."""

from __future__ import annotations

import json

from billing.invoices import _numbers
from billing.invoices._issue import not_found
from billing.invoices.tables import Invoice, InvoiceKind
from market import documents
from market.errors import DomainError
from market.tables import Role

OVERSEERS = frozenset({Role.ADMIN.value, Role.REGULATOR.value})


async def _visible(number: str, org_id: int | None, roles: frozenset[str]) -> dict:
    if not _numbers.is_number(number):
        raise not_found()
    row = await Invoice.select().where(Invoice.number == number).first()
    if row is None:
        raise not_found()
    if roles.intersection(OVERSEERS):
        return row
    if org_id is None or row["buyer_org"] != org_id:
        raise not_found()  # a stranger learns nothing, not even that the number was used
    return row


async def get_invoice(*, number: str, org_id: int | None, roles: frozenset[str]) -> dict:
    """An invoice with its lines, PDF state and the red invoices that reverse it."""
    row = await _visible(number, org_id, roles)
    doc = await documents.get_document(row["document"]) if row["document"] else None
    credits = []
    if row["kind"] == InvoiceKind.NORMAL.value:
        credits = await (Invoice.select(Invoice.number, Invoice.total_fen, Invoice.issued_on)
                         .where(Invoice.original_id == row["id"]).order_by(Invoice.seq).order_by(Invoice.year))
    return {**row, "lines": json.loads(row["lines"]), "document": doc, "credit_notes": credits}


async def invoice_pdf(*, number: str, org_id: int | None, roles: frozenset[str]) -> tuple[str, bytes]:
    """(file name, the exact PDF bytes issued) for the buyer or an overseer."""
    row = await _visible(number, org_id, roles)
    return f"发票-{row['number']}.pdf", await documents.pdf_bytes(row["document"])


async def list_invoices(*, org_id: int | None, roles: frozenset[str], page: int, page_size: int,
                        kind: str | None = None, order_ref: str | None = None) -> tuple[list[dict], int]:
    """Invoices newest first: all of them for overseers, the caller's organization's otherwise."""
    query, count = Invoice.select(), Invoice.count()
    where = []
    if not roles.intersection(OVERSEERS):
        where.append(Invoice.buyer_org == (org_id or 0))
    if kind:
        if kind not in {k.value for k in InvoiceKind}:
            raise DomainError("invoice.bad_kind", "发票类型应为 normal（蓝字）或 red（红字）")
        where.append(Invoice.kind == kind)
    if order_ref:
        where.append(Invoice.order_ref == order_ref[:64])
    if where:
        query, count = query.where(*where), count.where(*where)
    rows = await (query.order_by(Invoice.id, ascending=False).limit(page_size).offset((page - 1) * page_size))
    return [{**r, "lines": json.loads(r["lines"])} for r in rows], await count
