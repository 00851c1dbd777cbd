"""Card payments through Stripe, against localstripe on loopback: PaymentIntents in CNY, signed
webhooks delivered to the app served on loopback, processed once by a job; replays, forgeries,
concurrent deliveries and refunds."""

from __future__ import annotations

import asyncio
import json
import time

import httpx

from billing import payments
from billing.payments import _stripe
from billing.payments.tables import Payment, WebhookEvent
from factories import login, make_user
from market.context import Actor, acting_as
from stripe_fixture import SECRET, stripe_app, wait_for as _wait_for  # noqa: F401 (stripe_app: a fixture)
from stripe_server import event_payload, sign

FINANCE = Actor(label="finance@demo.cn")


async def _pay_by_card(env, order_ref: str, amount_fen: int) -> dict:
    with acting_as(FINANCE):
        await payments.open_request(order_ref=order_ref, amount_fen=amount_fen)
    started = await payments.start_payment(order_ref=order_ref, provider_name="stripe", payment_method="pm_card_visa")
    assert started["provider"] == "stripe" and started["amount_fen"] == amount_fen and started["client_secret"]
    intent = await _stripe.confirm_intent(env.settings, started["intent_id"])
    assert intent["status"] == "succeeded" and intent["currency"] == "cny" and intent["amount"] == amount_fen
    return intent


async def _post(env, payload: bytes, signature: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=env.url) as http:
        return await http.post("/api/v1/payments/stripe/webhook", content=payload,
                               headers={"Stripe-Signature": signature, "Content-Type": "application/json"})


async def test_card_payment_webhook_records_one_payment_and_a_replay_nothing(stripe_app):
    recorded = []

    async def callback(event):
        recorded.append(event)

    payments.on_payment_recorded(callback)
    try:
        intent = await _pay_by_card(stripe_app, "ORD-CARD-1", 12_345)
        await _wait_for(lambda: WebhookEvent.exists().where(WebhookEvent.type == "payment_intent.succeeded"))
        await stripe_app.jobs.drain(timeout=60)
        rows = await Payment.select().where(Payment.order_ref == "ORD-CARD-1")
        assert [(r["provider"], r["reference"], r["amount_fen"]) for r in rows] == [("stripe", intent["id"], 12_345)]
        assert (await payments.get_request(order_ref="ORD-CARD-1"))["status"] == "paid"
        event = await WebhookEvent.select().where(WebhookEvent.type == "payment_intent.succeeded").first()
        assert event["processed_at"] is not None and event["error"] == ""

        # Stripe resends an event it thinks was not received: same id, fresh signature
        payload = event["payload"].encode()
        resp = await _post(stripe_app, payload, sign(payload, SECRET, int(time.time())))
        assert resp.status_code == 200 and resp.json()["duplicate"] is True
        await stripe_app.jobs.drain(timeout=60)
        assert await Payment.count() == 1 and await WebhookEvent.count().where(
            WebhookEvent.event_id == event["event_id"]) == 1
        assert len(recorded) == 1 and recorded[0].paid_in_full
    finally:
        payments.remove_payment_callback(callback)


async def test_forged_webhooks_are_refused_and_store_nothing(stripe_app):
    with acting_as(FINANCE):
        await payments.open_request(order_ref="ORD-FORGED", amount_fen=5_000)
    obj = {"id": "pi_forged", "object": "payment_intent", "amount": 5_000, "currency": "cny",
           "status": "succeeded", "metadata": {"order_ref": "ORD-FORGED"}}
    payload = event_payload("evt_forged_1", "payment_intent.succeeded", obj)
    now = int(time.time())
    for signature in (sign(payload, "whsec_not_ours", now), "", "t=1,v1=deadbeef",
                      sign(payload, SECRET, now - 3600)):  # the right secret, but an old timestamp
        resp = await _post(stripe_app, payload, signature)
        assert resp.status_code == 400 and resp.json()["code"] == "webhook.bad_signature", resp.text
    tampered = payload.replace(b"5000", b"9000")
    resp = await _post(stripe_app, tampered, sign(payload, SECRET, now))
    assert resp.status_code == 400
    await stripe_app.jobs.drain(timeout=60)
    assert await WebhookEvent.count() == 0 and await Payment.count() == 0


async def test_fifty_concurrent_deliveries_of_one_event_record_one_payment(stripe_app):
    intent = await _pay_by_card(stripe_app, "ORD-CARD-50", 99_900)
    payload = event_payload("evt_concurrent_50", "payment_intent.succeeded", intent)
    signature = sign(payload, SECRET, int(time.time()))
    async with httpx.AsyncClient(base_url=stripe_app.url, timeout=120) as http:
        responses = await asyncio.gather(*(
            http.post("/api/v1/payments/stripe/webhook", content=payload,
                      headers={"Stripe-Signature": signature, "Content-Type": "application/json"})
            for _ in range(50)))
    assert [r.status_code for r in responses] == [200] * 50
    assert sum(not r.json()["duplicate"] for r in responses) == 1
    # localstripe's own event about the same intent arrives too: it must not pay the order twice
    await _wait_for(lambda: WebhookEvent.exists().where(WebhookEvent.event_id != "evt_concurrent_50"))
    await stripe_app.jobs.drain(timeout=60)
    assert await WebhookEvent.count().where(WebhookEvent.event_id == "evt_concurrent_50") == 1
    assert await Payment.count().where(Payment.order_ref == "ORD-CARD-50") == 1
    assert await WebhookEvent.count().where(WebhookEvent.processed_at.is_null()) == 0


async def test_refund_through_stripe_and_a_refund_larger_than_paid_is_refused(stripe_app):
    from litestar.testing import AsyncTestClient

    intent = await _pay_by_card(stripe_app, "ORD-REFUND", 20_000)
    await _wait_for(lambda: WebhookEvent.exists())
    await stripe_app.jobs.drain(timeout=60)
    payment = await Payment.select().where(Payment.reference == intent["id"]).first()
    admin = await make_user(["admin"])
    async with AsyncTestClient(app=stripe_app.app, base_url="http://127.0.0.1") as client:
        headers = {"X-CSRF-Token": await login(client, admin)}
        resp = await client.post("/api/v1/payments/refunds", headers=headers,
                                 json={"payment_id": payment["id"], "amount_fen": 5_000, "reason": "买方取消部分订阅"})
        assert resp.status_code == 201, resp.text
        body = resp.json()
        assert body["status"] == "succeeded" and body["provider_refund_id"].startswith("re_")
        resp = await client.post("/api/v1/payments/refunds", headers=headers,
                                 json={"payment_id": payment["id"], "amount_fen": 15_001, "reason": "超额退款"})
        assert resp.status_code == 400 and resp.json()["code"] == "payment.refund_too_large"
    current = await Payment.select().where(Payment.id == payment["id"]).first()
    assert current["status"] == "partly_refunded" and current["refunded_fen"] == 5_000
    # Stripe's side agrees: 50.00 of the charge was refunded
    charge = (await _stripe.retrieve_intent(stripe_app.settings, intent["id"]))["latest_charge"]
    charge_id = charge if isinstance(charge, str) else charge["id"]
    async with httpx.AsyncClient(base_url=stripe_app.settings.stripe_api_base) as http:
        resp = await http.get(f"/v1/charges/{charge_id}", auth=("sk_test_market", ""))
    assert json.loads(resp.text)["amount_refunded"] == 5_000
