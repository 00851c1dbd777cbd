"""Incoming Stripe webhooks: verified, stored by event id, processed once by a job, answered 200.

The request handler only verifies the signature and stores the event (its id is unique, so a replay
or a concurrent redelivery stores nothing new) and enqueues the processing job in the same
transaction; the job records the payment. Processing is idempotent twice over: the event row is
marked processed by compare-and-set, and the payment's unique key (the PaymentIntent id) refuses a
second recording of the same money.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

from billing.payments import _receipts, _stripe
from billing.payments.tables import Payment, Provider, WebhookEvent
from market import audit, db, jobs, runtime
from market.errors import DomainError

log = logging.getLogger("billing.payments")
MAX_BODY = 256 * 1024  # Stripe events are a few KB


async def receive_stripe(*, payload: bytes, signature: str) -> dict:
    """Verify and store a Stripe event; returns {event_id, duplicate}. Forged: refused, nothing stored."""
    settings = runtime.settings()
    if not settings.stripe_api_key:
        raise DomainError("payment.stripe_disabled", "本平台未启用银行卡支付，请使用对公转账", status_code=404)
    try:
        event = _stripe.verify_event(settings, payload, signature or "")
    except _stripe.BadSignature:
        raise DomainError("webhook.bad_signature", "Webhook 签名无效") from None
    event_id, event_type = str(event.get("id", ""))[:100], str(event.get("type", ""))[:100]
    if not event_id:
        raise DomainError("webhook.bad_event", "Webhook 事件缺少编号")
    async with db.atomic():
        rows = await WebhookEvent.insert(WebhookEvent(
            provider=Provider.STRIPE.value, event_id=event_id, type=event_type, payload=payload.decode("utf-8"),
        )).on_conflict(target=WebhookEvent.event_id, action="DO NOTHING").returning(WebhookEvent.id)
        if rows:
            from billing.payments import tasks

            await jobs.enqueue(tasks.process_webhook, webhook_event_id=rows[0]["id"])
    return {"event_id": event_id, "duplicate": not rows}


async def _finish(row_id: int, error: str = "") -> bool:
    """Mark processed once; False if another run already did."""
    return await db.rowcount_update(
        WebhookEvent, {WebhookEvent.processed_at: datetime.now(timezone.utc), WebhookEvent.error: error[:2000]},
        WebhookEvent.id == row_id, WebhookEvent.processed_at.is_null()) == 1


async def _intent_succeeded(intent: dict) -> None:
    order_ref = (intent.get("metadata") or {}).get("order_ref", "")
    if not order_ref:
        raise DomainError("webhook.no_order", "支付记录未关联订单")
    if str(intent.get("currency", "")).lower() != "cny":
        raise DomainError("payment.currency_unsupported", "仅支持人民币结算")
    if await Payment.exists().where(Payment.unique_key == f"{Provider.STRIPE.value}:{intent['id']}"):
        return  # recorded by an earlier run of this job, or by another event about the same intent
    await _receipts.record_payment(order_ref=order_ref, provider=Provider.STRIPE, reference=intent["id"],
                                   amount_fen=int(intent["amount"]), recorded_by="stripe")


_HANDLERS = {"payment_intent.succeeded": _intent_succeeded}


async def process_event(webhook_event_id: int) -> None:
    """Job body: act on a stored event once. A rule that refuses it (the order was paid another way,
    was cancelled) is written on the event for finance to see, and the event counts as processed."""
    row = await WebhookEvent.select().where(WebhookEvent.id == webhook_event_id).first()
    if row is None or row["processed_at"] is not None:
        return
    event = json.loads(row["payload"])
    handler = _HANDLERS.get(row["type"])
    error = ""
    if handler is not None:
        try:
            # its own transaction: a refusal rolls back whatever the handler wrote before refusing
            async with db.atomic():
                await handler(event["data"]["object"])
        except DomainError as exc:
            error = f"{exc.code}: {exc.message.format(**exc.params) if exc.params else exc.message}"
            log.warning("stripe event %s (%s) not applied: %s", row["event_id"], row["type"], error)
    async with db.atomic():
        if await _finish(webhook_event_id, error):
            await audit.record(action="webhook.processed", object_type="webhook_event", object_id=webhook_event_id,
                               after={"event_id": row["event_id"], "type": row["type"], "error": error})
