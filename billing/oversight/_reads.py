"""What the desk reads across every organization: agreements, caps against actual prices, orders,
deliveries, invoices and the fund. Read only; each list is bounded."""

from __future__ import annotations

from billing import fund
from billing.invoices.tables import Invoice
from billing.orders.tables import Order
from contracts.tables import PurchaseContract
from listings import pricing
from listings import service as listings_service
from listings.tables import Listing, PriceCap
from operators import service as operators_service

OVERSEER = frozenset({"regulator"})
LIMIT = 200


async def agreements() -> list[dict]:
    """Every agreement version, newest first (the desk groups them by number)."""
    return await operators_service.list_agreements(org_id=None, roles=OVERSEER)


async def caps_and_prices() -> list[dict]:
    """Each capped listing: its current cap, its highest active plan price, and the highest unit price
    it was actually sold at (orders copy the cap in force when they were made)."""
    capped = await PriceCap.select(PriceCap.listing).distinct()
    out = []
    for row in capped[:LIMIT]:
        listing = await Listing.select(Listing.id, Listing.title, Listing.holder_name, Listing.status,
                                       Listing.registration_code).where(Listing.id == row["listing"]).first()
        cap = await listings_service.current_cap(row["listing"])
        plans = await listings_service.plans_of(row["listing"])
        top_plan = max((pricing.comparable_price(pricing.spec_from_row(p)) for p in plans), default=0)
        sold = await Order.select(Order.unit_price_fen).where(Order.listing == row["listing"])
        top_sold = max((o["unit_price_fen"] for o in sold), default=None)
        out.append({**listing, "cap_fen": cap, "top_plan_fen": top_plan, "top_sold_fen": top_sold,
                    "orders": len(sold), "above": cap is not None and (top_plan > cap or (top_sold or 0) > cap)})
    return sorted(out, key=lambda r: (not r["above"], r["title"]))


async def orders(*, limit: int = LIMIT) -> list[dict]:
    return await (Order.select(Order.id, Order.listing, Order.listing_title, Order.tier, Order.purpose,
                               Order.buyer_name, Order.holder_name, Order.unit_price_fen, Order.quantity,
                               Order.total_fen, Order.cap_fen, Order.status, Order.registration_code,
                               Order.created_at, Order.delivered_at, Order.contract)
                  .order_by(Order.id, ascending=False).limit(limit))


async def deliveries(*, limit: int = LIMIT) -> list[dict]:
    """Delivered orders with the state of their contract."""
    rows = await (Order.select(Order.id, Order.listing_title, Order.buyer_name, Order.holder_name, Order.delivery_mode,
                               Order.delivered_at, Order.status, Order.contract, Order.entitlement)
                  .where(Order.delivered_at.is_not_null()).order_by(Order.delivered_at, ascending=False).limit(limit))
    ids = [r["contract"] for r in rows if r["contract"]]
    contracts = {}
    if ids:
        contracts = {c["id"]: c for c in await PurchaseContract.select(
            PurchaseContract.id, PurchaseContract.number, PurchaseContract.status).where(PurchaseContract.id.is_in(ids))}
    return [{**r, "contract_number": contracts.get(r["contract"], {}).get("number"),
             "contract_status": contracts.get(r["contract"], {}).get("status")} for r in rows]


async def invoices(*, limit: int = LIMIT) -> list[dict]:
    return await (Invoice.select(Invoice.number, Invoice.kind, Invoice.order_id, Invoice.issued_on, Invoice.buyer_name,
                                 Invoice.amount_fen, Invoice.tax_fen, Invoice.total_fen, Invoice.status,
                                 Invoice.remarks)
                  .order_by(Invoice.id, ascending=False).limit(limit))


async def fund_summary() -> dict:
    return await fund.summary()
