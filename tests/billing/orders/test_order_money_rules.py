"""Quantities (periods of a subscription, packs of calls), Idempotency-Key on payment calls, a refund
refused once the holder's share was paid out, and the periodic jobs (expiry, the acceptance window)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from billing import ledger, orders
from billing.orders import tasks
from billing.orders.tables import Order
from billing.payments.tables import IdempotentCall, Payment, Refund
from billing.tables import JournalTxn
from factories import login
from listings import pricing
from listings.tables import Entitlement
from market import jobs
from market.context import Actor, acting_as
from market.errors import DomainError
from market.tables import AuditEvent
from order_factories import market, order, sign_both

FINANCE = Actor(label="finance@platform.cn")


async def _get(order_id: int) -> dict:
    return await orders.get_order(order_id=order_id, org_id=None, roles=frozenset({"admin"}))


async def _delivered(m: dict, job_runtime, **kw) -> dict:
    o = await sign_both(m, (await order(m, **kw))["id"], job_runtime)
    with acting_as(FINANCE):
        await orders.record_receipt(order_id=o["id"], amount_fen=o["total_fen"], reference=f"B-{o['id']}",
                                    recorded_by="finance")
    return await _get(o["id"])


async def test_several_periods_make_one_longer_term(job_runtime):
    m = await market(job_runtime, plans=[pricing.PlanSpec(kind="subscription", name="季度订阅", price_fen=30_000,
                                                          months=3)])
    o = await _delivered(m, job_runtime, quantity=4)
    assert (o["quantity"], o["amount_fen"], o["total_fen"]) == (4, 120_000, 127_200)
    ent = await Entitlement.select().where(Entitlement.id == o["entitlement_id"]).first()
    assert (ent["quantity"], ent["source"]) == (4, "order")
    days = (ent["ends_at"] - ent["starts_at"]).days
    assert 364 <= days <= 366  # 4 × 3 calendar months
    assert (await ledger.check()).ok


async def test_several_packs_make_one_quota(job_runtime):
    m = await market(job_runtime, delivery="api", plans=[pricing.PlanSpec(kind="call_pack", name="万次调用包",
                                                                          price_fen=5_000, calls=10_000)])
    o = await _delivered(m, job_runtime, quantity=3)
    assert (o["amount_fen"], o["quantity"]) == (15_000, 3)
    ent = await Entitlement.select().where(Entitlement.id == o["entitlement_id"]).first()
    assert (ent["quantity"], ent["calls"], ent["ends_at"]) == (3, 30_000, None)


async def test_receipt_with_the_same_idempotency_key_records_once(client, job_runtime):
    m = await market(job_runtime)
    o = await sign_both(m, (await order(m))["id"], job_runtime)
    headers = {"X-CSRF-Token": await login(client, m["admin"]), "Idempotency-Key": "receipt-7"}
    body = {"amount_fen": 20_000, "reference": "ICBC-PART-1"}
    first = await client.post(f"/api/v1/orders/{o['id']}/payments", json=body, headers=headers)
    assert first.status_code == 201, first.text
    journal = await JournalTxn.count()
    again = await client.post(f"/api/v1/orders/{o['id']}/payments", json=body, headers=headers)
    assert again.status_code == 201 and again.json()["payments"] == first.json()["payments"]
    # payments' own receipt route knows the same key for the same receipt
    same = await client.post("/api/v1/payments/receipts", headers=headers,
                             json={"order_ref": orders.ref(o["id"]), **body})
    assert same.status_code == 201 and same.json()["id"] == first.json()["payments"][0]["id"]
    assert await Payment.count() == 1 and await JournalTxn.count() == journal
    # the same key for another receipt is refused; without a key the bank serial still guards
    other = await client.post(f"/api/v1/orders/{o['id']}/payments", headers=headers,
                              json={"amount_fen": 33_000, "reference": "ICBC-PART-2"})
    assert other.status_code == 409 and other.json()["code"] == "payment.idempotency_mismatch"
    dup = await client.post(f"/api/v1/orders/{o['id']}/payments", json=body,
                            headers={"X-CSRF-Token": headers["X-CSRF-Token"]})
    assert dup.status_code == 409 and dup.json()["code"] == "payment.duplicate"
    # a refused call does not spend its key: the right receipt under a new key completes the order
    rest = await client.post(f"/api/v1/orders/{o['id']}/payments", json={"amount_fen": 33_000, "reference": "ICBC-2"},
                             headers={**headers, "Idempotency-Key": "receipt-8"})
    assert rest.status_code == 201 and rest.json()["status"] == "delivered"
    assert await IdempotentCall.count() == 2 and await Payment.count() == 2


async def test_refund_with_the_same_idempotency_key_refunds_once(client, job_runtime):
    m = await market(job_runtime)
    o = await _delivered(m, job_runtime)
    headers = {"X-CSRF-Token": await login(client, m["admin"]), "Idempotency-Key": "refund-1"}
    for _ in range(2):
        resp = await client.post(f"/api/v1/orders/{o['id']}/refund", headers=headers,
                                 json={"amount_fen": 10_000, "reason": "部分数据缺失"})
        assert resp.status_code == 200, resp.text
        assert resp.json()["refunded_fen"] == 10_000
    assert await Refund.count() == 1 and await ledger.held_in_escrow(reference=orders.ref(o["id"])) == 43_000


async def test_refund_after_payout_is_refused_before_anything_is_written(client, job_runtime):
    m = await market(job_runtime)
    o = await _delivered(m, job_runtime)
    with acting_as(Actor(user_id=m["buyer"]["id"], org_id=m["buyer"]["org"]["id"], label="buyer")):
        await orders.confirm(order_id=o["id"], org_id=m["buyer"]["org"]["id"])  # released to the holder
    payable = ledger.payable_code(m["holder"]["org"]["id"])
    with acting_as(FINANCE):
        await ledger.payout(holder_org_id=m["holder"]["org"]["id"],
                            amount_fen=await ledger.balance(account_code=payable))
    before = (await AuditEvent.count(), await JournalTxn.count(), await Refund.count())
    with acting_as(FINANCE), pytest.raises(DomainError) as exc:
        await orders.refund(order_id=o["id"], amount_fen=o["total_fen"], reason="买方投诉", recorded_by="finance")
    assert exc.value.code == "ledger.refund_overdraft" and "已部分支付给持有方" in exc.value.message
    assert (await AuditEvent.count(), await JournalTxn.count(), await Refund.count()) == before
    [payment] = await Payment.select().where(Payment.order_ref == orders.ref(o["id"]))
    assert payment["refunded_fen"] == 0 and payment["status"] == "received"
    assert (await _get(o["id"]))["status"] == "completed"
    # the same refusal through the API, in English
    headers = {"X-CSRF-Token": await login(client, m["admin"])}
    client.cookies.set("lang", "en")
    resp = await client.post(f"/api/v1/orders/{o['id']}/refund", headers=headers,
                             json={"amount_fen": 1_000, "reason": "buyer complaint"})
    assert resp.status_code == 400 and resp.json()["code"] == "ledger.refund_overdraft"
    assert "paid out to the holder" in resp.json()["message"]
    assert await Refund.count() == 0 and (await ledger.check()).ok


async def test_the_periodic_jobs_expire_waiting_orders_and_release_accepted_ones(job_runtime):
    registry = jobs.registry()
    assert registry["billing.orders.expire_due"].every_seconds and registry["billing.orders.release_due"].every_seconds
    m = await market(job_runtime, sharing="conditional")
    waiting = await order(m)  # awaiting the holder's approval
    assert waiting["status"] == "awaiting_approval"
    delivered = await _delivered(await market(job_runtime), job_runtime)
    await tasks.expire_due()
    await tasks.release_due()
    assert (await _get(waiting["id"]))["status"] == "awaiting_approval"
    assert (await _get(delivered["id"]))["status"] == "delivered"
    # time passes: the order left waiting expires, the delivery not disputed is accepted and released
    old = orders._common.now() - timedelta(days=30)
    await Order.update({Order.created_at: old}).where(Order.id == waiting["id"])
    await Order.update({Order.delivered_at: old}).where(Order.id == delivered["id"])
    await tasks.expire_due()
    await tasks.release_due()
    assert (await _get(waiting["id"]))["status"] == "expired"
    done = await _get(delivered["id"])
    assert done["status"] == "completed" and await ledger.held_in_escrow(reference=orders.ref(done["id"])) == 0
    # a second run finds nothing to do
    assert await orders.expire_due() == [] and await orders.release_due() == []
    assert (await ledger.check()).ok
