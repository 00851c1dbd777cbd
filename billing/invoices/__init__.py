"""Invoices (数电发票) issued by the platform as seller of record, and red-letter credit notes.

- `issue_invoice(order_snapshot=…)`: the order's invoice from its frozen snapshot (shape documented in
  `billing/invoices/_snapshot.py`; `platform_seller()` and `vat_bps()` give the platform's defaults).
  Issuing the same order again returns the invoice already issued.
- `issue_credit_note(invoice_number=…, reason=…, amount_fen=… | lines=…)`: a red invoice reversing all
  or part of one, never more than is left; the original is never edited (fully reversed: `voided`).
- Numbers: 20 digits, YY + province + channel + 15-digit sequence, gap-free per year (`_numbers`).
- The PDF is a market document (`templates/pdf/invoice/v1.html`, `credit_note/v1.html`), rendered by
  the documents job after commit; `get_invoice`, `invoice_pdf`, `list_invoices` read with visibility
  rules (the buyer organization, platform admins and regulators).
"""

from billing.invoices._credit import issue_credit_note
from billing.invoices._issue import issue_invoice
from billing.invoices._numbers import format_number, is_number, parse_number
from billing.invoices._read import get_invoice, invoice_pdf, list_invoices
from billing.invoices._snapshot import DEFAULT_ITEM, VAT_RATES_BPS, line_tax, normalise, platform_seller, vat_bps
from billing.invoices.tables import Invoice, InvoiceKind, InvoiceStatus

__all__ = [
    "DEFAULT_ITEM", "VAT_RATES_BPS", "Invoice", "InvoiceKind", "InvoiceStatus", "format_number", "get_invoice",
    "invoice_pdf", "is_number", "issue_credit_note", "issue_invoice", "line_tax", "list_invoices", "normalise",
    "parse_number", "platform_seller", "vat_bps",
]
