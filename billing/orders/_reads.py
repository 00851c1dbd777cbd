"""Reading orders: one order with its contract, invoice, payments and entitlement; lists by viewer.

The invoice is not built here: `set_invoice_reader(fn)` lets the invoice package say what invoice an
order has (`await fn(order) -> {"number", "status", ...} | None`); until one is set, `invoice` is None.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from billing import payments
from billing.orders import _common
from billing.orders.tables import Order
from contracts import service as contracts_service
from contracts.tables import PurchaseContract
from market import documents
from market.errors import NotFound

InvoiceReader = Callable[[dict], Awaitable[dict | None]]
_invoice_reader: InvoiceReader | None = None


def set_invoice_reader(reader: InvoiceReader | None) -> None:
    """The seam for billing.invoices: how an order finds its invoice (None: no invoices yet)."""
    global _invoice_reader
    _invoice_reader = reader


async def invoice_of(order: dict) -> dict | None:
    return await _invoice_reader(order) if _invoice_reader is not None else None


async def _contract(order: dict) -> dict | None:
    if order["contract"] is None:
        return None
    row = await PurchaseContract.select(PurchaseContract.id, PurchaseContract.number, PurchaseContract.status,
                                        PurchaseContract.document).where(
        PurchaseContract.id == order["contract"]).first()
    doc = await documents.get_document(row["document"]) if row["document"] else None
    signed = [s["party_role"] for s in await documents.signatures(row["document"])] if row["document"] else []
    # the digest of the bytes GET …/contract.pdf serves (None until the PDF is rendered)
    return {"id": row["id"], "number": row["number"], "status": row["status"],
            "sha256": doc["sha256"] if doc else None, "signed_by": sorted(signed)}


async def detail(order: dict) -> dict:
    """The order as the API shows it (to its parties and overseers)."""
    pays = await payments.payments_for(_common.ref(order["id"]))
    return {
        **summary(order),
        "contract": await _contract(order),
        "invoice": await invoice_of(order),
        "payments": [{"id": p["id"], "amount_fen": p["amount_fen"], "provider": p["provider"],
                      "reference": p["reference"], "refunded_fen": p["refunded_fen"]} for p in pays],
        "paid_fen": sum(p["amount_fen"] for p in pays),
        "refunded_fen": sum(p["refunded_fen"] for p in pays),
    }


def summary(order: dict) -> dict:
    """The order's frozen terms and status, without the rows of other packages (lists)."""
    def when(key: str) -> str | None:
        return order[key].isoformat() if order[key] else None

    return {
        "id": order["id"], "status": order["status"], "listing_id": order["listing"],
        "listing_title": order["listing_title"], "tier": order["tier"], "delivery_mode": order["delivery_mode"],
        "data_version": order["data_version"], "registration_code": order["registration_code"],
        "plan_id": order["plan"], "plan": json.loads(order["plan_terms"]), "purpose": order["purpose"],
        "purpose_note": order["purpose_note"], "quantity": order["quantity"],
        "unit_price_fen": order["unit_price_fen"], "amount_fen": order["amount_fen"],
        "tax_rate_bps": order["tax_rate_bps"], "tax_fen": order["tax_fen"], "total_fen": order["total_fen"],
        "cap_fen": order["cap_fen"], "buyer": {"org_id": order["buyer_org"], "name": order["buyer_name"],
                                               "credit_code": order["buyer_credit_code"]},
        "holder": {"org_id": order["holder_org"], "name": order["holder_name"],
                   "credit_code": order["holder_credit_code"]},
        "payment_reference": order["payment_reference"] or None, "entitlement_id": order["entitlement"],
        "decision_note": order["decision_note"], "dispute_reason": order["dispute_reason"],
        "created_at": when("created_at"), "signed_at": when("signed_at"), "paid_at": when("paid_at"),
        "delivered_at": when("delivered_at"), "completed_at": when("completed_at"),
        "closed_at": when("closed_at"),
    }


async def get_order(*, order_id: int, org_id: int | None, roles: frozenset[str]) -> dict:
    return await detail(await _common.visible(order_id, org_id=org_id, roles=roles))


async def list_orders(*, org_id: int | None, roles: frozenset[str], as_holder: bool = False,
                      status: str | None = None, page: int = 1, page_size: int = 20) -> tuple[list[dict], int]:
    """A buyer's own orders, a holder's sales (as_holder), or all of them for overseers; newest first."""
    where = []
    if as_holder:
        where.append(Order.holder_org == org_id)
    elif not roles & _common.OVERSEERS:
        where.append(Order.buyer_org == org_id)
    if status:
        where.append(Order.status == status)
    total = await Order.count().where(*where) if where else await Order.count()
    query = Order.select().order_by(Order.id, ascending=False).limit(page_size).offset((page - 1) * page_size)
    rows = await (query.where(*where) if where else query)
    return [summary(r) for r in rows], total


async def contract_pdf(*, order_id: int, org_id: int | None, roles: frozenset[str]) -> tuple[str, bytes]:
    order = await _common.visible(order_id, org_id=org_id, roles=roles)
    if order["contract"] is None:
        raise NotFound("order.no_contract", "该订单尚未生成合同")
    return await contracts_service.contract_pdf(contract_id=order["contract"], org_id=org_id, roles=roles)
