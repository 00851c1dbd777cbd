"""Suspending an agreement freezes what was made and sold under it; lifting it restores exactly that."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from billing import mandates, orders
from billing.orders.tables import Order
from billing.mandates import MandateFreeze, RefundProposal
from listings.tables import Entitlement, Listing
from market.context import Actor, acting_as
from market.errors import Conflict
from market.tables import AuditEvent
from operators import service
from derived_factories import derived_listing, order, paid


def test_pro_rata_is_the_unused_part_of_the_term():
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert mandates.pro_rata(paid_fen=120_000, starts_at=start, ends_at=start + timedelta(days=100),
                             now=start + timedelta(days=25)) == (90_000, 75 * 86400, 100 * 86400)
    assert mandates.pro_rata(paid_fen=120_000, starts_at=start, ends_at=start + timedelta(days=100),
                             now=start + timedelta(days=200))[0] == 0


async def _delivered(w, job_runtime) -> dict:
    row = await order(w)
    await paid(w, row["id"], job_runtime)
    await job_runtime.drain(timeout=120)
    return await Order.select().where(Order.id == row["id"]).first()


async def test_suspension_freezes_products_orders_and_entitlements_and_resuming_restores_them(job_runtime):
    w = await derived_listing(job_runtime)
    order = await _delivered(w, job_runtime)
    assert order["status"] == "delivered" and order["entitlement"] is not None
    agency = w["agency"]
    with acting_as(Actor(user_id=agency["id"], org_id=agency["org"]["id"], label="agency")):
        await service.suspend(agreement_id=w["agreement"]["id"], org_id=agency["org"]["id"],
                              roles=frozenset({"agency"}), reason="运营方数据安全检查")
    await job_runtime.drain(timeout=120)

    listing = await Listing.select(Listing.status).where(Listing.id == w["listing"]["id"]).first()
    ent = await Entitlement.select().where(Entitlement.id == order["entitlement"]).first()
    assert listing["status"] == "suspended" and ent["status"] == "suspended"
    assert await mandates.is_held(order["id"])
    assert await MandateFreeze.count().where(MandateFreeze.lifted_at.is_null()) == 3
    # the money of a held order stays in escrow, whoever asks for its release
    assert await orders.release_due(now=datetime.now(timezone.utc) + timedelta(days=365)) == []
    b = w["buyer"]
    with pytest.raises(Conflict) as exc, acting_as(Actor(user_id=b["id"], org_id=b["org"]["id"], label="b")):
        await orders.confirm(order_id=order["id"], org_id=b["org"]["id"])
    assert exc.value.code == "order.held"
    held = await Order.select(Order.status).where(Order.id == order["id"]).first()
    assert held["status"] == "delivered"  # the order keeps its state; the hold is beside it
    proposals = await RefundProposal.select().where(RefundProposal.entitlement == ent["id"])
    if ent["ends_at"] is not None:  # a subscription: a pro-rata refund is proposed, not paid
        assert len(proposals) == 1 and 0 < proposals[0]["amount_fen"] <= order["total_fen"]
    else:
        assert proposals == []
    actions = {r["action"] for r in await AuditEvent.select(AuditEvent.action)}
    assert {"mandate.frozen", "order.held", "entitlement.suspended", "listing.suspended"} <= actions

    # the event arrives again (at least once): nothing more is frozen
    assert await mandates.freeze(agreement_id=w["agreement"]["id"], number=w["agreement"]["number"],
                                 operator_org_id=w["operator"]["org"]["id"]) == {
        "listings": [], "orders": [], "entitlements": [], "refund_proposals": []}

    with acting_as(Actor(user_id=agency["id"], org_id=agency["org"]["id"], label="agency")):
        await service.resume(agreement_id=w["agreement"]["id"], org_id=agency["org"]["id"],
                             roles=frozenset({"agency"}), reason="检查完成")
    await job_runtime.drain(timeout=120)
    listing = await Listing.select(Listing.status).where(Listing.id == w["listing"]["id"]).first()
    ent = await Entitlement.select(Entitlement.status).where(Entitlement.id == order["entitlement"]).first()
    assert listing["status"] == "listed" and ent["status"] == "active"
    assert not await mandates.is_held(order["id"])
    assert await MandateFreeze.count().where(MandateFreeze.lifted_at.is_null()) == 0
    assert "mandate.lifted" in {r["action"] for r in await AuditEvent.select(AuditEvent.action)}
