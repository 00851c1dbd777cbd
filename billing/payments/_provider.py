"""One payment provider interface, chosen by configuration.

Bank transfer is always available (the embedded default: the invoice carries the collection account
and the payment reference, finance records receipts or imports statements). With
MARKET_STRIPE_API_KEY set, card payments through Stripe PaymentIntents are offered as well.
Refunds go back the way the money came: through Stripe for a card payment, by a transfer finance
makes for a bank payment (recorded here).
"""

from __future__ import annotations

from typing import Protocol

from billing.payments import _stripe
from billing.payments.tables import PaymentRequest, Provider
from market import runtime
from market.config import Settings


class PaymentProvider(Protocol):
    name: Provider

    async def instructions(self, request: dict) -> dict:
        """What the buyer needs to pay the request (account and reference, or a card form secret)."""

    async def refund(self, payment: dict, *, amount_fen: int, refund_id: int) -> str:
        """Send `amount_fen` of `payment` back; returns the provider's refund id ('' when none)."""


class BankTransfer:
    name = Provider.BANK_TRANSFER

    def __init__(self, settings: Settings):
        self.settings = settings

    async def instructions(self, request: dict) -> dict:
        return {"provider": self.name.value, **collection_account(self.settings),
                "reference": request["reference"], "amount_fen": request["amount_fen"] - request["paid_fen"]}

    async def refund(self, payment: dict, *, amount_fen: int, refund_id: int) -> str:
        return ""  # finance transfers the money back from the collection account; this records it


class StripeCard:
    name = Provider.STRIPE

    def __init__(self, settings: Settings):
        self.settings = settings

    async def instructions(self, request: dict, *, payment_method: str | None = None) -> dict:
        """A PaymentIntent for what is still due; the same one again while it can still be paid."""
        due = request["amount_fen"] - request["paid_fen"]
        intent = None
        if request["provider_intent_id"]:
            intent = await _stripe.retrieve_intent(self.settings, request["provider_intent_id"])
            if intent["amount"] != due or intent["status"] in ("succeeded", "canceled"):
                intent = None
        if intent is None:
            intent = await _stripe.create_intent(
                self.settings, amount_fen=due, payment_method=payment_method,
                metadata={"order_ref": request["order_ref"], "payment_reference": request["reference"]},
                idempotency_key=f"pi-{request['reference']}-{due}")
            await PaymentRequest.update({PaymentRequest.provider_intent_id: intent["id"]}).where(
                PaymentRequest.id == request["id"])
        return {"provider": self.name.value, "intent_id": intent["id"], "client_secret": intent["client_secret"],
                "status": intent["status"], "amount_fen": due, "reference": request["reference"]}

    async def refund(self, payment: dict, *, amount_fen: int, refund_id: int) -> str:
        result = await _stripe.refund(self.settings, intent_id=payment["reference"], amount_fen=amount_fen,
                                      idempotency_key=f"refund-{refund_id}")
        return result["id"]


def collection_account(settings: Settings | None = None) -> dict:
    """The platform's account buyers transfer to (printed on every invoice)."""
    s = settings or runtime.settings()
    return {"account_name": s.collection_account_name, "account_number": s.collection_account_number,
            "bank": s.collection_bank}


def available(settings: Settings | None = None) -> list[str]:
    s = settings or runtime.settings()
    return [Provider.BANK_TRANSFER.value] + ([Provider.STRIPE.value] if s.stripe_api_key else [])


def provider(name: str | Provider | None = None, settings: Settings | None = None) -> PaymentProvider:
    """The provider named (default: the configured one, MARKET_STRIPE_API_KEY deciding)."""
    s = settings or runtime.settings()
    chosen = Provider(name or s.payments_provider)
    if chosen is Provider.STRIPE:
        _stripe.client(s)  # refuses clearly when Stripe is not configured
        return StripeCard(s)
    return BankTransfer(s)


async def start_payment(*, order_ref: str, provider_name: str | None = None,
                        payment_method: str | None = None) -> dict:
    """How the buyer pays an order's open request: bank details and reference, or a PaymentIntent.
    `payment_method` (a Stripe PaymentMethod id) is for server-side confirmation in tests and demos."""
    from billing.payments import _receipts
    from billing.payments.tables import RequestStatus
    from market.errors import Conflict, DomainError, NotFound

    try:
        name = Provider(provider_name) if provider_name else None
    except ValueError:
        raise DomainError("payment.provider_invalid", "不支持的付款方式：{name}", name=str(provider_name)[:40]) from None
    request = await _receipts.get_request(order_ref=order_ref)
    if request is None:
        raise NotFound("payment.request_not_found", "未找到该订单的付款信息")
    if request["status"] == RequestStatus.PAID.value:
        raise Conflict("payment.already_paid", "该订单已付款")
    if request["status"] == RequestStatus.CANCELLED.value:
        raise Conflict("payment.request_cancelled", "该订单已取消，不能再登记收款")
    chosen = provider(name)
    if isinstance(chosen, StripeCard):
        return await chosen.instructions(request, payment_method=payment_method)
    return await chosen.instructions(request)
