"""The PDF of an invoice: the context a template version prints, made once from the invoice's row
and frozen into its market document (rendered by the documents job, never on the request path)."""

from __future__ import annotations

import json
from datetime import date

from billing.invoices._snapshot import rate_text
from billing.invoices.tables import InvoiceKind
from market import documents
from market.tables import DocumentKind

TITLE = "电子发票（普通发票）"


def plain(fen: int | None) -> str:
    """1234567 → "12345.67", -5 → "-0.05"; the invoice's table prints amounts without ¥ or separators."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    major, minor = divmod(abs(fen), 100)
    return f"{sign}{major}.{minor:02d}"


def chinese_date(d: date) -> str:
    return f"{d.year}年{d.month:02d}月{d.day:02d}日"


def document_kind(kind: str) -> str:
    return DocumentKind.CREDIT_NOTE.value if kind == InvoiceKind.RED.value else DocumentKind.INVOICE.value


def context(invoice: dict) -> dict:
    """What the template prints, every amount already written out (a frozen document renders the same
    forever, whatever later changes to the formatting code)."""
    snapshot = json.loads(invoice["snapshot"])
    seller = snapshot["seller"]
    buyer = snapshot["buyer"]
    lines = json.loads(invoice["lines"])
    return {
        "title": TITLE, "number": invoice["number"], "kind": invoice["kind"],
        "red": invoice["kind"] == InvoiceKind.RED.value, "original_number": invoice["original_number"],
        "issued_on": invoice["issued_on"].isoformat(), "issued_on_text": chinese_date(invoice["issued_on"]),
        "seller": {k: seller.get(k, "") for k in ("name", "credit_code", "address", "phone", "bank_name",
                                                   "bank_account")},
        "buyer": {k: buyer.get(k, "") for k in ("name", "credit_code", "address", "phone", "bank_name",
                                                 "bank_account")},
        "lines": [{"item": line["item"], "spec": line.get("spec", ""), "unit": line.get("unit", ""),
                   "quantity": "" if line.get("quantity") is None else str(line["quantity"]),
                   "unit_price": plain(line.get("unit_price_fen")), "amount": plain(line["amount_fen"]),
                   "tax_rate": rate_text(line["tax_rate_bps"]), "tax": plain(line["tax_fen"])} for line in lines],
        "amount_text": "¥" + plain(invoice["amount_fen"]), "tax_text": "¥" + plain(invoice["tax_fen"]),
        "total_text": "¥" + plain(invoice["total_fen"]), "total_upper": invoice["total_upper"],
        "remarks": invoice["remarks"], "issuer": invoice["issuer"],
    }


async def create(invoice: dict) -> dict:
    """Record the invoice's document (inside the issuing transaction); the job renders it after commit."""
    kind = document_kind(invoice["kind"])
    snapshot = json.loads(invoice["snapshot"])
    buyer = snapshot["buyer"]
    return await documents.create_document(
        kind=kind, context=context(invoice), title=f"{TITLE} {invoice['number']}", subject_type="invoice",
        subject_id=invoice["number"],
        parties=[{"role": "buyer", "org_id": invoice["buyer_org"], "name": buyer["name"],
                  "credit_code": buyer["credit_code"]}])
