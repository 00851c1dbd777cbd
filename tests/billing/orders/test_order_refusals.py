"""What cannot be delivered or is not allowed is refused before anything is written, with a clear error."""

from __future__ import annotations

import pytest

from billing import ledger, orders
from billing.orders.tables import Order
from billing.tables import JournalTxn
from contracts.tables import PurchaseContract
from listings import service as listings_service
from listings.tables import DataAsset, Listing, PriceCap
from market.context import Actor, acting_as
from market.errors import DomainError
from market.tables import AuditEvent
from order_factories import actor, market, order, sign_both

ADMIN = Actor(label="admin@platform.cn")


async def _nothing_written() -> None:
    assert await Order.count() == 0 and await PurchaseContract.count() == 0 and await JournalTxn.count() == 0


async def _refused(m: dict, code: str, **kw) -> DomainError:
    before = await AuditEvent.count()
    with pytest.raises(DomainError) as exc:
        await order(m, **kw)
    assert exc.value.code == code, exc.value
    assert await AuditEvent.count() == before
    await _nothing_written()
    return exc.value


async def test_bad_orders_are_refused_and_write_nothing(job_runtime):
    m = await market(job_runtime)
    err = await _refused(m, "price.purpose_invalid", purpose="resale")
    assert "请选择用途" in err.message
    # a plan of another listing
    other = await market(job_runtime, price_fen=70_000)
    err = await _refused({**m, "plan": other["plan"]}, "order.plan_of_other_listing")
    assert "不属于" in err.message
    # a holder ordering its own data
    await _refused({**m, "buyer": {**m["buyer"], "org": m["holder"]["org"]}}, "order.own_data")
    err = await _refused(m, "price.quantity_unsupported", quantity=3)  # a one-time plan is bought once
    assert "只能购买 1 份" in err.message
    await _refused(m, "price.quantity_invalid", quantity=0)
    await _refused(m, "order.idempotency_key_required", key=" ")


async def test_a_price_above_the_cap_is_refused(job_runtime):
    m = await market(job_runtime, holder_kind="government", cap_fen=60_000)  # public data: 65号 caps apply
    assert m["listing"]["public_data"]
    # a cap lowered below the plan by a path that did not withdraw it: the quote still refuses it
    await PriceCap.insert(PriceCap(listing=m["listing"]["id"], agency=m["holder"]["org"]["id"], cap_fen=40_000,
                                   billing_unit="per_product", basis="测试：未撤下方案的新上限"))
    err = await _refused(m, "price.above_cap")
    assert "上限收费标准" in err.message
    # public welfare is free whatever the cap (65号)
    row = await order(m, purpose="public_welfare")
    assert row["total_fen"] == 0 and row["cap_fen"] == 40_000


async def test_what_could_not_be_delivered_is_refused(job_runtime):
    m = await market(job_runtime)
    with acting_as(actor(m["holder"])):
        await listings_service.correct_grade(asset_id=m["listing"]["asset"], org_id=m["holder"]["org"]["id"],
                                             grade="core", reason="涉及关键基础设施数据")
    await _refused(m, "order.core_data")

    m = await market(job_runtime)
    # a raw tier served as a file cannot be listed today; a listing changed underneath must still be refused
    await Listing.update({Listing.tier: "raw"}).where(Listing.id == m["listing"]["id"])
    await _refused(m, "order.raw_as_file")

    m = await market(job_runtime)
    with acting_as(ADMIN):
        await listings_service.suspend(listing_id=m["listing"]["id"], reason="数据源异常")
    err = await _refused(m, "order.not_on_sale")
    assert "不在售" in err.message

    m = await market(job_runtime)
    # personal information found in the data after listing: the download would refuse the file, so the
    # order is refused before a contract is drafted or anything is charged
    await DataAsset.update({DataAsset.personal: True}).where(DataAsset.id == m["listing"]["asset"])
    err = await _refused(m, "order.file_not_deliverable")
    assert "个人信息" in err.message


async def test_refund_larger_than_paid_and_second_payment_change_nothing(job_runtime):
    m = await market(job_runtime)
    o = await order(m)
    o = await sign_both(m, o["id"], job_runtime)
    with acting_as(ADMIN):
        await orders.record_receipt(order_id=o["id"], amount_fen=53_000, reference="B-1", recorded_by="finance")
        before = (await AuditEvent.count(), await JournalTxn.count())
        with pytest.raises(DomainError) as exc:
            await orders.record_receipt(order_id=o["id"], amount_fen=1, reference="B-2", recorded_by="finance")
        assert exc.value.code == "payment.already_paid"
        with pytest.raises(DomainError) as exc:
            await orders.refund(order_id=o["id"], amount_fen=53_001, reason="测试", recorded_by="finance")
        assert exc.value.code == "order.refund_exceeds_paid" and "超过" in exc.value.message
        assert (await AuditEvent.count(), await JournalTxn.count()) == before
    assert (await orders.get_order(order_id=o["id"], org_id=None, roles=frozenset({"admin"})))["status"] == "delivered"
    assert await ledger.held_in_escrow(reference=orders.ref(o["id"])) == 53_000
