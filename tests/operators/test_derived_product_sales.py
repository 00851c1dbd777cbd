"""A derived product is sold under its operator's mandate: the order and the delivery are refused when
the agreement it was built under is not in force or does not permit the purpose or tier, and each sale
released to the operator counts against its permitted revenue (最高准许收入), a refund taking it back."""

from __future__ import annotations

import pytest

from billing import ledger, orders
from billing.orders.tables import Order
from derived_factories import as_user, derived_listing, order, paid, signed
from market.context import Actor, acting_as
from market.errors import DomainError
from operators import service
from operators.tables import AgreementRevenue

async def test_the_mandate_decides_whether_a_derived_product_may_be_sold(job_runtime):
    w = await derived_listing(job_runtime)
    asset_id = w["listing"]["asset"]
    assert (await service.check_sale(asset_id=asset_id, purpose="industry", tier="product"))["id"]
    assert await service.check_sale(asset_id=w["visits"]["id"], purpose="sector", tier="raw") is None  # not derived
    with pytest.raises(DomainError) as exc:
        await service.check_sale(asset_id=asset_id, purpose="sector", tier="product")
    assert exc.value.code == "agreement.purpose_not_permitted"
    with pytest.raises(DomainError) as exc:
        await service.check_sale(asset_id=asset_id, purpose="industry", tier="cleaned")
    assert exc.value.code == "agreement.tier_not_permitted"

    # at order time: a purpose the agreement does not permit is refused and nothing is written
    with pytest.raises(DomainError) as exc:
        await order(w, purpose="sector")
    assert exc.value.code == "agreement.purpose_not_permitted" and await Order.count() == 0

    # an order made while the mandate held, paid after it was suspended: the payment is refused with it
    row = await order(w)
    awaiting = await signed(w, row["id"], job_runtime)
    assert awaiting["status"] == "awaiting_payment"
    agency = w["agency"]
    with acting_as(Actor(user_id=agency["id"], org_id=agency["org"]["id"], label="agency")):
        await service.suspend(agreement_id=w["agreement"]["id"], org_id=agency["org"]["id"],
                              roles=frozenset({"agency"}), reason="运营方数据安全检查")
    with pytest.raises(DomainError) as exc:
        await orders.record_receipt(order_id=row["id"], amount_fen=awaiting["total_fen"],
                                    reference=awaiting["payment_reference"], recorded_by="finance")
    assert exc.value.code == "agreement.suspended"
    after = await orders.get_order(order_id=row["id"], org_id=None, roles=frozenset({"admin"}))
    assert after["status"] == "awaiting_payment" and after["payments"] == []
    assert await ledger.balance(account_code="bank") == 0


async def test_a_released_sale_counts_against_the_permitted_revenue_and_a_refund_takes_it_back(job_runtime):
    w = await derived_listing(job_runtime)
    row = await order(w)
    waiting = await paid(w, row["id"], job_runtime)
    b = w["buyer"]
    assert await AgreementRevenue.count() == 0  # in escrow: not the operator's revenue yet
    with as_user(b):
        await orders.confirm(order_id=row["id"], org_id=b["org"]["id"])
    figures = await service.revenue_this_year(agreement_id=w["agreement"]["id"])
    assert figures["revenue_fen"] == 100_000  # the price net of VAT, once
    await orders.refund(order_id=row["id"], amount_fen=waiting["total_fen"] // 2, reason="部分数据缺失",
                        recorded_by="finance")
    figures = await service.revenue_this_year(agreement_id=w["agreement"]["id"])
    assert figures["revenue_fen"] == 100_000 - orders.release_split(waiting, waiting["total_fen"] // 2)[0]
    assert (await ledger.check()).ok
