"""Stripe: the only module that imports `stripe`. PaymentIntents in CNY, refunds, webhook signatures.

stripe-python is synchronous, so every API call runs in a thread and never blocks the event loop.
Our own invoices are the documents of record; Stripe only collects the money. Stripe objects are
not dicts in stripe-python 16: they are turned into plain dicts (`to_dict()`) at this boundary.
"""

from __future__ import annotations

import asyncio
from functools import lru_cache

import stripe

from market.config import Settings
from market.errors import DomainError


class BadSignature(Exception):
    """The webhook's body or signature is not what Stripe (with our secret) would have sent."""


@lru_cache(maxsize=4)
def _client(api_key: str, api_base: str) -> stripe.StripeClient:
    kwargs = {"base_addresses": {"api": api_base}} if api_base else {}
    return stripe.StripeClient(api_key, max_network_retries=2, **kwargs)


def client(settings: Settings) -> stripe.StripeClient:
    if not settings.stripe_api_key:
        raise DomainError("payment.stripe_disabled", "本平台未启用银行卡支付，请使用对公转账", status_code=404)
    return _client(settings.stripe_api_key, settings.stripe_api_base)


async def _call(fn, *args, **kwargs) -> dict:
    try:
        obj = await asyncio.to_thread(fn, *args, **kwargs)
    except stripe.StripeError as exc:
        raise DomainError("payment.provider_error", "支付服务返回错误：{detail}",
                          detail=(exc.user_message or str(exc))[:200], status_code=502) from None
    return obj.to_dict()


async def create_intent(settings: Settings, *, amount_fen: int, metadata: dict, idempotency_key: str,
                        payment_method: str | None = None) -> dict:
    """A PaymentIntent for `amount_fen` 分 (Stripe's CNY amounts are in 分 too)."""
    params = {"amount": amount_fen, "currency": "cny", "metadata": metadata}
    if payment_method:
        params["payment_method"] = payment_method
    return await _call(client(settings).v1.payment_intents.create, params=params,
                       options={"idempotency_key": idempotency_key})


async def retrieve_intent(settings: Settings, intent_id: str) -> dict:
    return await _call(client(settings).v1.payment_intents.retrieve, intent_id)


async def confirm_intent(settings: Settings, intent_id: str) -> dict:
    """Confirm with the payment method given at creation (the browser does this with Stripe.js)."""
    return await _call(client(settings).v1.payment_intents.confirm, intent_id)


async def refund(settings: Settings, *, intent_id: str, amount_fen: int, idempotency_key: str) -> dict:
    return await _call(client(settings).v1.refunds.create,
                       params={"payment_intent": intent_id, "amount": amount_fen},
                       options={"idempotency_key": idempotency_key})


def verify_event(settings: Settings, payload: bytes, signature: str) -> dict:
    """The event, if the body carries a valid signature made with our webhook secret (and is recent)."""
    if not settings.stripe_webhook_secret:
        raise BadSignature("no webhook secret configured")
    try:
        event = stripe.Webhook.construct_event(payload, signature, settings.stripe_webhook_secret)
    except (stripe.SignatureVerificationError, ValueError) as exc:
        raise BadSignature(str(exc)) from None
    return event.to_dict()
