"""The demo's trade (billing/demo.py), loaded the way `market demo` loads it, twice: every order in the
state it should show exactly once, its PDFs rendered, the ledger balanced, the fund holding money, and
the second run changing nothing."""

from __future__ import annotations

from billing import demo as billing_demo
from billing import ledger
from billing.disbursements.tables import DisbursementProposal
from billing.invoices.tables import Invoice
from billing.orders.tables import Order
from billing.tables import JournalTxn
from listings.tables import Entitlement
from market import demo
from market.tables import AuditEvent, Document, OutboxMessage


async def _snapshot() -> dict:
    return {
        "orders": await Order.count(), "txns": await JournalTxn.count(), "invoices": await Invoice.count(),
        "documents": await Document.count(), "proposals": await DisbursementProposal.count(),
        "audit": await AuditEvent.count(),
    }


async def test_demo_trade_is_loaded_once_with_every_state(settings):
    first = await demo.load(settings)
    assert len([line for line in first if line.startswith("order ")]) == len(billing_demo.ORDERS), first
    assert not [line for line in first if line.startswith("!")], first
    before = await _snapshot()
    second = await demo.load(settings)
    assert second == ["demo data already present; nothing to do"], second
    assert await _snapshot() == before

    rows = await Order.select().where(Order.idempotency_key.like("demo-order-%")).order_by(Order.id)
    by_key = {r["idempotency_key"]: r for r in rows}
    assert len(rows) == len(by_key) == len(billing_demo.ORDERS)
    for spec in billing_demo.ORDERS:
        assert by_key[spec.key]["status"] == spec.target, spec.key
    statuses = [r["status"] for r in rows]
    for status in ("completed", "delivered", "refunded", "awaiting_approval", "awaiting_signature",
                   "awaiting_payment"):
        assert status in statuses, status

    free = by_key["demo-order-free"]
    assert free["total_fen"] == 0 and free["entitlement"] is not None
    sandbox = by_key["demo-order-sandbox"]  # data services build on the buyer's raw-tier sandbox entitlement
    assert sandbox["tier"] == "raw" and sandbox["delivery_mode"] == "sandbox" and sandbox["total_fen"] == 0
    entitlement = await Entitlement.select().where(Entitlement.id == sandbox["entitlement"]).first()
    assert entitlement["status"] == "active" and entitlement["source_ref"] == f"order:{sandbox['id']}"
    derived = by_key["demo-order-derived"]  # the operator's derived product: its sources' holders get their share
    shares = await JournalTxn.select().where(JournalTxn.reference == f"order:{derived['id']}",
                                             JournalTxn.kind == "lineage_share")
    assert derived["status"] == "completed" and len(shares) == 2, shares
    waiting = by_key["demo-order-payment"]
    assert waiting["payment_reference"].startswith("SJ") and waiting["total_fen"] > 0
    refunded = by_key["demo-order-refunded"]
    [red] = await Invoice.select().where(Invoice.order_ref == f"order:{refunded['id']}", Invoice.kind == "red")
    assert red["total_fen"] == -refunded["total_fen"]

    # every PDF (contracts, invoices, credit notes) rendered within `market demo`, no job left behind
    assert await Document.count().where(Document.status != "rendered") == 0
    assert await Document.count().where(Document.kind == "invoice") >= 3
    assert await OutboxMessage.count().where(OutboxMessage.done_at.is_null(), OutboxMessage.sent_at.is_null()) == 0

    report = await ledger.check()
    assert report.ok, report
    assert await ledger.balance(account_code="fund") > 0
    paid = await DisbursementProposal.select().where(DisbursementProposal.status == "paid")
    pending = await DisbursementProposal.select().where(DisbursementProposal.status == "proposed")
    assert len(paid) == 1 and len(pending) == 1
    assert await JournalTxn.count().where(JournalTxn.idempotency_key == billing_demo.PAYOUT_KEY) == 1
