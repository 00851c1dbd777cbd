"""JSON shapes of the orders API (ids and amounts bounded: market.api_contract)."""

from __future__ import annotations

import msgspec

from market.api_contract import Id, Int32, Int64


class OrderIn(msgspec.Struct):
    listing_id: Id
    plan_id: Id
    purpose: str  # public_governance, public_welfare, industry or sector (listings.pricing.PURPOSES)
    quantity: Int32 | None = None  # how many of the plan's unit; 1 when omitted
    purpose_note: str = ""


class NoteIn(msgspec.Struct):
    note: str = ""


class ReasonIn(msgspec.Struct):
    reason: str


class SignIn(msgspec.Struct):
    sha256: str | None = None  # the digest of the PDF the signer read; refused if it is not the one issued


class ReceiptIn(msgspec.Struct):
    amount_fen: Int64
    reference: str  # the bank's serial number of the transfer


class RefundIn(msgspec.Struct):
    amount_fen: Int64
    reason: str


class ResolveIn(msgspec.Struct):
    outcome: str  # release (to the holder) or refund (what is left, to the buyer)
    note: str


class PaymentIntentOut(msgspec.Struct):
    """What Stripe.js needs to take the card payment of an order."""

    client_secret: str
    payment_intent_id: str
    publishable_key: str
    amount_fen: int  # what is still due (价税合计 less what arrived), in 分
