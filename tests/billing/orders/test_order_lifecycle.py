"""After delivery: confirm, dispute and its settlement, refunds, the acceptance window, expiry,
concurrent confirmations; and a property over random sequences of order actions against the ledger."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing import ledger, orders
from billing.invoices.tables import Invoice
from billing.payments.tables import Payment
from listings.tables import Entitlement
from market.context import Actor, acting_as
from market.errors import Conflict, DomainError
from order_factories import actor, market, order, sign_both

FINANCE = Actor(label="finance@platform.cn")


def _ref(o: dict) -> str:
    return orders.ref(o["id"])


async def _get(o: dict) -> dict:
    return await orders.get_order(order_id=o["id"], org_id=None, roles=frozenset({"admin"}))


async def _delivered(m: dict, job_runtime) -> dict:
    o = await sign_both(m, (await order(m))["id"], job_runtime)
    with acting_as(FINANCE):
        await orders.record_receipt(order_id=o["id"], amount_fen=o["total_fen"], reference=f"B-{o['id']}",
                                    recorded_by="finance")
    return await _get(o)


async def test_dispute_then_refund_revokes_and_returns_everything(job_runtime):
    m = await market(job_runtime)
    o = await _delivered(m, job_runtime)
    buyer = m["buyer"]["org"]["id"]
    with acting_as(actor(m["buyer"])):
        with pytest.raises(DomainError) as exc:
            await orders.dispute(order_id=o["id"], org_id=buyer, reason="短")
        assert exc.value.code == "order.dispute_reason_required"
        await orders.dispute(order_id=o["id"], org_id=buyer, reason="文件缺少约定的字段")
    assert (await _get(o))["status"] == "disputed"
    assert (await orders.release_due(now=orders._common.now() + timedelta(days=30))) == []  # held while disputed
    with acting_as(FINANCE):
        await orders.resolve_dispute(order_id=o["id"], outcome="refund", note="核实属实，全额退款", recorded_by="finance")
    o = await _get(o)
    assert o["status"] == "refunded" and o["refunded_fen"] == 53_000
    # the invoice is not edited: a red-letter credit note reverses it in full, and it is voided
    [red] = await Invoice.select().where(Invoice.original_number == o["invoice"]["number"])
    assert (red["kind"], red["total_fen"], red["order_ref"]) == ("red", -53_000, _ref(o))
    assert o["invoice"]["status"] == "voided"
    ent = await Entitlement.select(Entitlement.status).where(Entitlement.id == o["entitlement_id"]).first()
    assert ent["status"] == "revoked"
    assert await ledger.held_in_escrow(reference=_ref(o)) == 0
    assert (await ledger.check()).ok


async def test_window_release_after_partial_refund_releases_what_is_left(job_runtime):
    m = await market(job_runtime)
    o = await _delivered(m, job_runtime)
    with acting_as(FINANCE):
        await orders.refund(order_id=o["id"], amount_fen=13_000, reason="部分数据缺失", recorded_by="finance")
    assert (await _get(o))["status"] == "delivered"
    assert await ledger.held_in_escrow(reference=_ref(o)) == 40_000
    # a partial refund is credited for what went back, tax included; the invoice stays valid
    [red] = await Invoice.select().where(Invoice.order_ref == _ref(o)).where(Invoice.kind == "red")
    assert red["total_fen"] == -13_000 and "部分数据缺失" in red["remarks"]
    assert (await _get(o))["invoice"]["status"] == "issued"
    # inside the window nothing happens; after it the rest is released once
    assert await orders.release_due() == []
    with pytest.raises(Conflict) as exc:  # no dispute to settle
        await orders.resolve_dispute(order_id=o["id"], outcome="release", note="无异议", recorded_by="x")
    assert exc.value.code == "order.not_disputed"
    later = orders._common.now() + timedelta(days=8)
    assert await orders.release_due(now=later) == [o["id"]]
    assert await orders.release_due(now=later) == []
    assert (await _get(o))["status"] == "completed"
    assert await ledger.held_in_escrow(reference=_ref(o)) == 0
    net, tax = orders.release_split(o, 40_000)
    assert net + tax == 40_000 and tax == 2_264  # 3,000 × 40,000 / 53,000 = 2,264.15, half up
    assert await ledger.balance(account_code="vat_payable") == tax
    assert (await ledger.check()).ok


async def test_unpaid_orders_expire_and_cancel(job_runtime):
    m = await market(job_runtime)
    waiting = await sign_both(m, (await order(m))["id"], job_runtime)
    fresh = await order(m)
    assert waiting["status"] == "awaiting_payment"
    assert await orders.expire_due() == []
    with acting_as(FINANCE):
        expired = await orders.expire_due(now=orders._common.now() + timedelta(days=8))
    assert sorted(expired) == sorted([waiting["id"], fresh["id"]])
    assert (await _get(waiting))["status"] == "expired" and (await _get(fresh))["contract"]["status"] == "void"
    with acting_as(FINANCE), pytest.raises(DomainError) as exc:
        await orders.record_receipt(order_id=waiting["id"], amount_fen=53_000, reference="LATE", recorded_by="f")
    assert exc.value.code == "order.not_awaiting_payment"
    cancelled = await order(m)
    with acting_as(actor(m["buyer"])):
        await orders.cancel(order_id=cancelled["id"], org_id=m["buyer"]["org"]["id"])
    assert (await _get(cancelled))["status"] == "cancelled"


async def test_fifty_concurrent_confirmations_record_one_payment(job_runtime):
    m = await market(job_runtime)
    o = await sign_both(m, (await order(m))["id"], job_runtime)

    async def confirm(i: int):
        with acting_as(FINANCE):
            return await orders.record_receipt(order_id=o["id"], amount_fen=53_000, reference=f"BANK-{i}",
                                               recorded_by="finance")

    results = await asyncio.gather(*(confirm(i) for i in range(50)), return_exceptions=True)
    won = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(won) == 1 and len(refused) == 49, [r for r in results if not isinstance(r, (dict, Conflict))]
    assert await Payment.count().where(Payment.order_ref == _ref(o)) == 1
    o = await _get(o)
    assert o["status"] == "delivered" and await Entitlement.count() == 1
    assert await ledger.held_in_escrow(reference=_ref(o)) == 53_000
    assert (await ledger.check()).ok


# ---- the property ----------------------------------------------------------------------------

actions = st.lists(st.one_of(
    st.just(("pay",)), st.just(("confirm",)), st.just(("dispute",)), st.just(("expire",)), st.just(("window",)),
    st.tuples(st.just("refund"), st.integers(1, 60_000)), st.just(("refund_all",)),
    st.tuples(st.just("resolve"), st.sampled_from(["release", "refund"])),
), min_size=1, max_size=8)


@pytest.fixture
async def priced(job_runtime):
    return await market(job_runtime), job_runtime


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(steps=actions)
async def test_order_status_stays_consistent_with_the_ledger(priced, steps):
    m, job_runtime = priced
    o = await sign_both(m, (await order(m))["id"], job_runtime)
    ref, buyer = _ref(o), m["buyer"]["org"]["id"]
    far = orders._common.now() + timedelta(days=30)
    for step in steps:
        try:
            with acting_as(FINANCE):
                if step[0] == "pay":
                    await orders.record_receipt(order_id=o["id"], amount_fen=o["total_fen"],
                                                reference=f"P-{o['id']}-{len(steps)}", recorded_by="f")
                elif step[0] == "confirm":
                    await orders.confirm(order_id=o["id"], org_id=buyer)
                elif step[0] == "dispute":
                    await orders.dispute(order_id=o["id"], org_id=buyer, reason="交付内容与约定不符")
                elif step[0] == "expire":
                    await orders.expire_due(now=far)
                elif step[0] == "window":
                    await orders.release_due(now=far)
                elif step[0] == "refund":
                    await orders.refund(order_id=o["id"], amount_fen=step[1], reason="退款", recorded_by="f")
                elif step[0] == "refund_all":
                    left = await orders.refundable_fen(o["id"])
                    await orders.refund(order_id=o["id"], amount_fen=max(left, 1), reason="退款", recorded_by="f")
                else:
                    await orders.resolve_dispute(order_id=o["id"], outcome=step[1], note="平台处理", recorded_by="f")
        except DomainError:
            pass  # refused moves must change nothing: the invariants below say so
        cur = await _get(o)
        paid, refunded = cur["paid_fen"], cur["refunded_fen"]
        held = await ledger.held_in_escrow(reference=ref)
        releases = [t for t in await ledger.JournalTxn.select().where(ledger.JournalTxn.reference == ref)
                    if t["kind"] == "release"]
        assert len(releases) <= 1
        assert 0 <= refunded <= paid <= o["total_fen"]
        if cur["status"] in ("awaiting_payment", "expired", "cancelled"):
            assert paid == 0 and held == 0 and not releases
        elif not releases:
            assert held == paid - refunded, (cur["status"], held, paid, refunded)
            assert cur["status"] in ("delivered", "disputed", "refunded")
        else:
            assert held == 0 and cur["status"] in ("completed", "refunded")
        assert (cur["status"] == "refunded") == (paid > 0 and refunded == paid)
        if cur["status"] in ("delivered", "disputed", "completed"):
            ent = await Entitlement.select(Entitlement.status).where(Entitlement.id == cur["entitlement_id"]).first()
            assert ent["status"] == "active"
    assert (await ledger.check()).ok


async def test_a_buyer_signing_before_the_countersignature_still_moves_the_order_on(job_runtime):
    """The contract is signable once rendered, before the job that countersigns for the holder runs:
    the countersignature must still come and the order move on at once, without the periodic sweep."""
    from contracts import service as contracts_service
    from contracts.tables import PurchaseContract

    orders.install()
    m = await market(job_runtime)
    row = await order(m)
    assert row["status"] == "awaiting_signature"
    # hold back the automatic countersignature until the buyer has signed: the order of a busy worker
    await PurchaseContract.update({PurchaseContract.auto_countersign: False}).where(
        PurchaseContract.id == row["contract"])
    await job_runtime.drain(timeout=120)
    with acting_as(actor(m["buyer"])):
        await orders.sign(order_id=row["id"], org_id=m["buyer"]["org"]["id"], roles=frozenset({"buyer"}),
                          user_id=m["buyer"]["id"], ip="127.0.0.1")
    assert (await orders.get_order(order_id=row["id"], org_id=None, roles=frozenset({"admin"})))["status"] == \
        "awaiting_signature"
    await PurchaseContract.update({PurchaseContract.auto_countersign: True}).where(
        PurchaseContract.id == row["contract"])
    contract = await PurchaseContract.select(PurchaseContract.document).where(
        PurchaseContract.id == row["contract"]).first()
    await contracts_service.on_document_rendered(document_id=contract["document"])  # the late job
    after = await orders.get_order(order_id=row["id"], org_id=None, roles=frozenset({"admin"}))
    assert after["status"] == "awaiting_payment" and after["payment_reference"]
    assert sorted(after["contract"]["signed_by"]) == ["buyer", "holder"]
