"""Paying an order by card, against localstripe: the buyer asks for the order's PaymentIntent, confirms it
(as Stripe.js would), Stripe's signed webhook records the payment and the order is paid and delivered;
a replayed, a forged and 50 concurrent deliveries change nothing more."""

from __future__ import annotations

import asyncio
import time

import httpx

from billing.payments import _stripe
from billing.payments.tables import Payment, WebhookEvent
from factories import make_user
from listings.tables import Entitlement
from order_factories import market, order, sign_both
from stripe_fixture import SECRET, stripe_app, wait_for  # noqa: F401 (stripe_app: a fixture)
from stripe_server import event_payload, sign


async def _session(http: httpx.AsyncClient, user: dict) -> dict:
    http.cookies.clear()
    resp = await http.post("/api/v1/session", json={"email": user["email"], "password": user["password"]})
    assert resp.status_code == 201, resp.text
    return {"X-CSRF-Token": resp.json()["csrf_token"]}


async def _webhook(http: httpx.AsyncClient, payload: bytes, signature: str) -> httpx.Response:
    return await http.post("/api/v1/payments/stripe/webhook", content=payload,
                           headers={"Stripe-Signature": signature, "Content-Type": "application/json"})


async def test_an_order_paid_by_card_is_delivered_once(stripe_app):
    m = await market(stripe_app.jobs)
    o = await sign_both(m, (await order(m))["id"], stripe_app.jobs)
    assert o["status"] == "awaiting_payment" and o["total_fen"] == 53_000
    async with httpx.AsyncClient(base_url=stripe_app.url, timeout=120) as http:
        # only the order's buyer asks for its PaymentIntent
        for stranger in (m["holder"], await make_user(["buyer"])):
            headers = await _session(http, stranger)
            resp = await http.post(f"/api/v1/orders/{o['id']}/payment-intent", headers=headers)
            assert resp.status_code in (403, 404), resp.text
        headers = await _session(http, m["buyer"])
        resp = await http.post(f"/api/v1/orders/{o['id']}/payment-intent",
                               headers={**headers, "Idempotency-Key": "card-1"})
        assert resp.status_code == 201, resp.text
        intent = resp.json()
        assert set(intent) == {"client_secret", "payment_intent_id", "publishable_key", "amount_fen"}
        assert intent["amount_fen"] == 53_000 and intent["client_secret"]
        # a retry with the key, or without one, gets the same PaymentIntent
        again = await http.post(f"/api/v1/orders/{o['id']}/payment-intent",
                                headers={**headers, "Idempotency-Key": "card-1"})
        assert again.status_code == 201 and again.json() == intent
        plain = await http.post(f"/api/v1/orders/{o['id']}/payment-intent", headers=headers)
        assert plain.json()["payment_intent_id"] == intent["payment_intent_id"]

        # the buyer's browser gives Stripe the card and confirms (Stripe.js; here straight to localstripe),
        # localstripe sends its signed webhook, a job records it
        async with httpx.AsyncClient(base_url=stripe_app.settings.stripe_api_base) as stripe_http:
            resp = await stripe_http.post(f"/v1/payment_intents/{intent['payment_intent_id']}",
                                          data={"payment_method": "pm_card_visa"}, auth=("sk_test_market", ""))
            assert resp.status_code == 200, resp.text
        confirmed = await _stripe.confirm_intent(stripe_app.settings, intent["payment_intent_id"])
        assert (confirmed["status"], confirmed["currency"], confirmed["amount"]) == ("succeeded", "cny", 53_000)
        await wait_for(lambda: WebhookEvent.exists().where(WebhookEvent.type == "payment_intent.succeeded"))
        await stripe_app.jobs.drain(timeout=60)
        o = (await http.get(f"/api/v1/orders/{o['id']}")).json()
        assert o["status"] == "delivered" and o["entitlement_id"]
        assert [(p["provider"], p["reference"], p["amount_fen"]) for p in o["payments"]] == \
            [("stripe", intent["payment_intent_id"], 53_000)]

        # paid: no new intent; the replayed event, a forged one and 50 concurrent deliveries change nothing
        resp = await http.post(f"/api/v1/orders/{o['id']}/payment-intent", headers=headers)
        assert resp.status_code == 409 and resp.json()["code"] == "payment.already_paid"
        event = await WebhookEvent.select().where(WebhookEvent.type == "payment_intent.succeeded").first()
        payload = event["payload"].encode()
        resp = await _webhook(http, payload, sign(payload, SECRET, int(time.time())))
        assert resp.status_code == 200 and resp.json()["duplicate"] is True
        forged_obj = {**confirmed, "id": "pi_forged_for_order", "amount": 1}
        forged = event_payload("evt_forged_order", "payment_intent.succeeded", forged_obj)
        resp = await _webhook(http, forged, sign(forged, "whsec_not_ours", int(time.time())))
        assert resp.status_code == 400 and resp.json()["code"] == "webhook.bad_signature"
        burst = event_payload("evt_order_burst", "payment_intent.succeeded", confirmed)
        signature = sign(burst, SECRET, int(time.time()))
        answers = await asyncio.gather(*(_webhook(http, burst, signature) for _ in range(50)))
        assert [r.status_code for r in answers] == [200] * 50
        assert sum(not r.json()["duplicate"] for r in answers) == 1
        await stripe_app.jobs.drain(timeout=60)
    assert await Payment.count().where(Payment.order_ref == f"order:{o['id']}") == 1
    assert await Entitlement.count() == 1
    assert not await WebhookEvent.exists().where(WebhookEvent.event_id == "evt_forged_order")
    assert await WebhookEvent.count().where(WebhookEvent.processed_at.is_null()) == 0


async def test_card_payment_is_refused_while_cards_are_off_or_nothing_is_due(client, job_runtime):
    m = await market(job_runtime)
    waiting = await order(m)  # not signed yet
    client.cookies.clear()
    resp = await client.post("/api/v1/session", json={"email": m["buyer"]["email"], "password": m["buyer"]["password"]})
    headers = {"X-CSRF-Token": resp.json()["csrf_token"]}
    resp = await client.post(f"/api/v1/orders/{waiting['id']}/payment-intent", headers=headers)
    assert resp.status_code == 409 and resp.json()["code"] == "order.not_awaiting_payment"
    o = await sign_both(m, waiting["id"], job_runtime)
    resp = await client.post(f"/api/v1/orders/{o['id']}/payment-intent", headers=headers)
    assert resp.status_code == 404 and resp.json()["code"] == "payment.stripe_disabled"  # bank transfer only
    resp = await client.post(f"/api/v1/orders/{o['id']}/payment-intent", headers={**headers, "Idempotency-Key": " "})
    assert resp.status_code == 400 and resp.json()["code"] == "payment.idempotency_key_invalid"
