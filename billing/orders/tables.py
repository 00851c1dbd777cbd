"""The order table: one purchase of one plan of one listing, its terms frozen when it was created."""

from __future__ import annotations

from piccolo.columns import BigInt, ForeignKey, Integer, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from contracts.tables import PurchaseContract
from listings.tables import Entitlement, Listing, PricePlan
from market.db import StatusEnum, set_transitions
from market.tables import Organization, User


class OrderStatus(StatusEnum):
    CREATED = "created"  # terms frozen; moved on in the same transaction (to approval or signature)
    AWAITING_APPROVAL = "awaiting_approval"  # the holder vets the buyer and purpose (conditional/重要 data)
    AWAITING_SIGNATURE = "awaiting_signature"  # the contract is drafted; buyer and holder sign it
    AWAITING_PAYMENT = "awaiting_payment"  # signed; the bank transfer (or card payment) is awaited
    PAID = "paid"  # the total arrived in escrow (or the price is zero); delivery follows at once
    DELIVERED = "delivered"  # the entitlement exists; the acceptance window runs, money stays in escrow
    COMPLETED = "completed"  # confirmed (or the window passed, or a dispute was settled): money released
    CANCELLED = "cancelled"  # withdrawn by the buyer before paying
    DECLINED = "declined"  # the holder refused the buyer or the purpose (with a reason)
    EXPIRED = "expired"  # still waiting after MARKET_ORDER_EXPIRY_DAYS; nothing was charged
    REFUNDED = "refunded"  # everything paid went back to the buyer; the entitlement is revoked
    DISPUTED = "disputed"  # the buyer contested the delivery within the window; money held until resolved


# which statuses count as "still waiting": the expiry job and the buyer's cancel act on these only
WAITING = (OrderStatus.AWAITING_APPROVAL, OrderStatus.AWAITING_SIGNATURE, OrderStatus.AWAITING_PAYMENT)

set_transitions(OrderStatus, {
    OrderStatus.CREATED: {OrderStatus.AWAITING_APPROVAL, OrderStatus.AWAITING_SIGNATURE},
    OrderStatus.AWAITING_APPROVAL: {OrderStatus.AWAITING_SIGNATURE, OrderStatus.DECLINED, OrderStatus.CANCELLED,
                                    OrderStatus.EXPIRED},
    # a zero-price order goes from signed straight to paid: no payment, but the contract is signed
    OrderStatus.AWAITING_SIGNATURE: {OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID, OrderStatus.CANCELLED,
                                     OrderStatus.EXPIRED},
    OrderStatus.AWAITING_PAYMENT: {OrderStatus.PAID, OrderStatus.CANCELLED, OrderStatus.EXPIRED},
    OrderStatus.PAID: {OrderStatus.DELIVERED, OrderStatus.REFUNDED},
    OrderStatus.DELIVERED: {OrderStatus.COMPLETED, OrderStatus.DISPUTED, OrderStatus.REFUNDED},
    OrderStatus.DISPUTED: {OrderStatus.COMPLETED, OrderStatus.REFUNDED},
    OrderStatus.COMPLETED: {OrderStatus.REFUNDED},
})


class Order(Table, tablename="purchase_order"):
    """Everything above `status` is copied in at creation and never updated (STYLE rule 4)."""

    id = Serial(primary_key=True)
    # ---- the product, as it was on sale
    listing = ForeignKey(references=Listing, index=True, on_delete=OnDelete.restrict)
    listing_title = Varchar(length=200)
    tier = Varchar(length=10)
    delivery_mode = Varchar(length=20)
    data_version = Integer(default=0)  # the asset version on sale when ordered
    registration_code = Varchar(length=40, default="")
    plan = ForeignKey(references=PricePlan, index=True, on_delete=OnDelete.restrict)
    plan_terms = Text(default="{}")  # JSON: name, kind, months, calls, revision access, prices
    purpose = Varchar(length=30)
    purpose_note = Text(default="")
    quantity = Integer(default=1)
    # ---- the price, in 分: total = amount + tax; rates in basis points, frozen from the settings
    unit_price_fen = BigInt(default=0)
    amount_fen = BigInt(default=0)
    tax_rate_bps = Integer(default=0)
    tax_fen = BigInt(default=0)
    total_fen = BigInt(default=0)
    cap_fen = BigInt(null=True, default=None)  # the agency's cap when ordered (public data only)
    commission_bps = Integer(default=0)
    fund_share_bps = Integer(default=0)
    # ---- the parties (parties JSON: names, credit codes, addresses and bank details where known)
    buyer_org = ForeignKey(references=Organization, index=True, on_delete=OnDelete.restrict)
    buyer_user = ForeignKey(references=User, null=True, default=None, on_delete=OnDelete.restrict)
    buyer_name = Varchar(length=200)
    buyer_credit_code = Varchar(length=18)
    holder_org = ForeignKey(references=Organization, index=True, on_delete=OnDelete.restrict)
    holder_name = Varchar(length=200)
    holder_credit_code = Varchar(length=18)
    parties = Text(default="{}")
    # ---- idempotency: '<buyer org>:<key>' is unique, so the same key from the same buyer is one order
    idempotency_key = Varchar(length=200)
    idempotency_scope = Varchar(length=220, unique=True)
    request_digest = Varchar(length=64)  # what was asked with the key: a different body is refused
    # ---- what happened since
    status = Varchar(length=30, choices=OrderStatus, default=OrderStatus.CREATED.value, index=True)
    contract = ForeignKey(references=PurchaseContract, null=True, default=None, index=True,
                          on_delete=OnDelete.restrict)
    payment_reference = Varchar(length=20, default="")
    entitlement = ForeignKey(references=Entitlement, null=True, default=None, on_delete=OnDelete.restrict)
    decision_note = Text(default="")  # the holder's reason when declining, the admin's when settling
    dispute_reason = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    approved_at = Timestamptz(null=True, default=None)
    signed_at = Timestamptz(null=True, default=None)
    paid_at = Timestamptz(null=True, default=None)
    delivered_at = Timestamptz(null=True, default=None, index=True)
    completed_at = Timestamptz(null=True, default=None)
    disputed_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)  # cancelled, declined, expired or refunded
