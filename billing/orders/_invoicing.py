"""Orders and their invoices: the platform invoices a paid order once it awaits payment, and credits it
(红字发票) for every refund.

The invoice is issued from the order's frozen terms (never from the listing as it is now), in the
transaction that opens the payment request, so an order awaiting payment always has the invoice that
carries its payment reference and the platform's collection account. A zero-price order has none.
Issuing is idempotent (billing.invoices returns the invoice already issued for the same order).
"""

from __future__ import annotations

import json

from billing import invoices
from billing.invoices.tables import Invoice, InvoiceKind
from billing.orders import _common
from market import runtime
from market.errors import NotFound
from market.i18n import N_


def snapshot(order: dict, *, payment_reference: str) -> dict:
    """What the invoice prints, from the order as frozen at creation."""
    parties = json.loads(order["parties"])
    settings = runtime.settings()
    return {
        "order_ref": _common.ref(order["id"]), "order_id": order["id"],
        "seller": invoices.platform_seller(settings),
        "buyer": {key: parties["buyer"].get(key, "") for key in
                  ("org_id", "name", "credit_code", "address", "bank_name", "bank_account")},
        "lines": [{"item": invoices.DEFAULT_ITEM, "unit": "份", "quantity": order["quantity"],
                   "unit_price_fen": order["unit_price_fen"], "amount_fen": order["amount_fen"],
                   "tax_rate_bps": order["tax_rate_bps"]}],
        # given so that an invoice that would not add up to the order's total is refused, not issued
        "amount_fen": order["amount_fen"], "tax_fen": order["tax_fen"], "total_fen": order["total_fen"],
        "registration_code": order["registration_code"], "listing_title": order["listing_title"],
        "payment": {"reference": payment_reference, "account_name": settings.collection_account_name,
                    "account_number": settings.collection_account_number, "bank": settings.collection_bank},
    }


async def issue_for(order: dict, *, payment_reference: str) -> dict | None:
    """The order's invoice (caller's transaction); None for a zero-price order."""
    if order["total_fen"] == 0:
        return None
    return await invoices.issue_invoice(order_snapshot=snapshot(order, payment_reference=payment_reference))


async def _normal_of(order_id: int) -> dict | None:
    return await (Invoice.select().where(Invoice.order_key == _common.ref(order_id))
                  .where(Invoice.kind == InvoiceKind.NORMAL.value).first())


async def credit_refund(*, order_id: int, amount_fen: int, reason: str) -> dict | None:
    """A red invoice for a refund of `amount_fen` (tax included); None when the order has no invoice."""
    invoice = await _normal_of(order_id)
    if invoice is None:
        return None
    return await invoices.issue_credit_note(invoice_number=invoice["number"], amount_fen=amount_fen,
                                            reason=reason)


async def reader(order: dict) -> dict | None:
    """`invoice` of GET /api/v1/orders/{id} (installed with set_invoice_reader)."""
    invoice = await _normal_of(order["id"])
    if invoice is None:
        return None
    return {"number": invoice["number"], "status": invoice["status"], "total_fen": invoice["total_fen"]}


async def invoice_pdf(*, order_id: int, org_id: int | None, roles: frozenset[str]) -> tuple[str, bytes]:
    """The order's invoice PDF: the order must be visible, then the invoice's own rule applies (the buyer
    organization, admins and regulators)."""
    await _common.visible(order_id, org_id=org_id, roles=roles)
    invoice = await _normal_of(order_id)
    if invoice is None:
        raise NotFound("order.no_invoice", N_("该订单尚未开具发票"))
    return await invoices.invoice_pdf(number=invoice["number"], org_id=org_id, roles=roles)
