"""From signature to delivery: signing moves the order on, the payment callback delivers it.

Money is learnt of inside the transaction that records it (`payments.on_payment_recorded`): each
payment is posted to the ledger (Dr bank / Cr escrow) in that transaction, and the payment that
completes the total moves the order to paid and delivers it (the entitlement, through
`listings.service.grant`) in the same commit. A callback that raises undoes the payment, so money
is never recorded for an order that cannot take it. A zero-price order skips payment, not the contract.
"""

from __future__ import annotations

from billing import ledger
from billing import payments
from billing.orders import _common, _invoicing
from billing.orders.tables import Order, OrderStatus
from billing.payments import PaymentRecorded
from billing.payments.tables import Payment
from contracts import service as contracts_service
from contracts.tables import ContractStatus, PurchaseContract
from listings import service as listings_service
from listings.tables import Listing
from market import db, notifications, runtime
from market.errors import Conflict, DomainError
from operators import service as operators_service


async def sign(*, order_id: int, org_id: int, roles: frozenset[str], user_id: int, ip: str = "",
               expected_sha256: str | None = None) -> dict:
    """The buyer or the holder signs the order's contract; the last signature moves the order on."""
    async with db.atomic():
        order = await _common.visible(order_id, org_id=org_id, roles=frozenset())  # parties only
        if order["status"] != OrderStatus.AWAITING_SIGNATURE.value or order["contract"] is None:
            raise Conflict("order.not_awaiting_signature", "该订单当前不需要签署合同")
        await contracts_service.sign_as(contract_id=order["contract"], org_id=org_id, roles=roles, user_id=user_id,
                                        ip=ip, expected_sha256=expected_sha256)
        await advance_signed(order_id)
        return await _common.get(order_id)


async def on_contract_signed(contract_id: int) -> None:
    """contracts' callback on a contract's second signature, whoever gave it (the holder's automatic
    countersignature in a job, the contracts API): the order moves on in the same transaction."""
    row = await Order.select(Order.id).where(Order.contract == contract_id).first()
    if row is not None:
        await advance_signed(row["id"])


async def advance_signed(order_id: int) -> bool:
    """If the order's contract is signed by both, go on to payment (or, at a zero price, to delivery).
    Told by contracts when the second signature lands (on_contract_signed); also run periodically as
    a safety net. False when there is nothing to do."""
    async with db.atomic():
        order = await _common.get(order_id)
        if order["status"] != OrderStatus.AWAITING_SIGNATURE.value or order["contract"] is None:
            return False
        contract = await PurchaseContract.select(PurchaseContract.status).where(
            PurchaseContract.id == order["contract"]).first()
        if contract["status"] != ContractStatus.SIGNED.value:
            return False
        now = _common.now()
        if order["total_fen"] == 0:
            await db.transition(Order, order_id, to=OrderStatus.PAID, action="order.paid",
                                extra={Order.signed_at: now, Order.paid_at: now}, audit_after={"free": True})
            await deliver(order_id)
            return True
        request = await payments.open_request(order_ref=_common.ref(order_id), amount_fen=order["total_fen"])
        await db.transition(Order, order_id, to=OrderStatus.AWAITING_PAYMENT, action="order.awaiting_payment",
                            extra={Order.signed_at: now, Order.payment_reference: request["reference"]},
                            audit_after={"payment_reference": request["reference"]})
        await _invoicing.issue_for(order, payment_reference=request["reference"])
        await notifications.notify(kind="order.awaiting_payment", organization_id=order["buyer_org"],
                                   subject=f"《{order['listing_title']}》的合同已签署，请按付款编号 "
                                           f"{request['reference']} 付款",
                                   link=f"/orders/{order_id}")
        return True


async def deliver(order_id: int) -> dict:
    """Paid → delivered: the entitlement is created, named after the order (caller's transaction)."""
    order = await _common.get(order_id)
    # a derived product is delivered only while its mandate still permits the sale (suspended since the
    # order? the payment that would deliver it is undone by the raise, see on_payment_recorded)
    asset = await Listing.select(Listing.asset).where(Listing.id == order["listing"]).first()
    await operators_service.check_sale(asset_id=asset["asset"], purpose=order["purpose"], tier=order["tier"])
    entitlement = await listings_service.grant(
        listing_id=order["listing"], plan_id=order["plan"], buyer_org_id=order["buyer_org"],
        user_id=order["buyer_user"], purpose=order["purpose"], purpose_note=order["purpose_note"],
        amount_fen=order["amount_fen"], source_ref=_common.ref(order_id), quantity=order["quantity"])
    row = await db.transition(Order, order_id, to=OrderStatus.DELIVERED, action="order.delivered",
                              extra={Order.entitlement: entitlement["id"], Order.delivered_at: _common.now()},
                              audit_after={"entitlement": entitlement["id"]})
    await notifications.notify(kind="order.delivered", organization_id=order["buyer_org"],
                               subject=f"《{order['listing_title']}》已交付，请在验收期内确认或提出异议",
                               link=f"/orders/{order_id}")
    return row


async def on_payment_recorded(event: PaymentRecorded) -> None:
    """Payments' callback, in the recording transaction: post the money, and deliver when paid in full."""
    order_id = _common.order_id_of(event.order_ref)
    if order_id is None:
        return  # a payment for something other than an order
    order = await _common.get(order_id)
    if order["status"] != OrderStatus.AWAITING_PAYMENT.value:
        raise Conflict("order.not_awaiting_payment", "该订单当前不在待付款状态，不能登记收款")
    await ledger.record_payment(order_ref=event.order_ref, total_fen=event.amount_fen, provider=event.provider,
                                idempotency_key=f"payment:{event.order_ref}:{event.payment_id}")
    if event.paid_in_full:
        await db.transition(Order, order_id, to=OrderStatus.PAID, action="order.paid",
                            extra={Order.paid_at: _common.now()}, audit_after={"paid_fen": event.paid_fen})
        await deliver(order_id)


async def record_receipt(*, order_id: int, amount_fen: int, reference: str, recorded_by: str,
                         idempotency_key: str | None = None) -> dict:
    """Platform finance records a bank transfer for the order (the payment callback does the rest).
    The same Idempotency-Key returns the payment recorded the first time, recording nothing more."""
    order_ref = _common.ref(order_id)

    async def run() -> dict:
        order = await _common.get(order_id)
        if order["status"] != OrderStatus.AWAITING_PAYMENT.value:
            if order["paid_at"] is not None:
                raise Conflict("payment.already_paid", "该订单已付款")
            raise Conflict("order.not_awaiting_payment", "该订单当前不在待付款状态，不能登记收款")
        if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
            raise DomainError("payment.amount_invalid", "收款金额必须大于 0")
        row = await payments.record_receipt(order_ref=order_ref, amount_fen=amount_fen, reference=reference,
                                            recorded_by=recorded_by)
        return {"payment_id": row["id"]}

    # the same operation and request as payments' own receipt route: a key is one receipt either way
    result, _ = await payments.once(
        operation="receipt", org_id=None, key=idempotency_key,
        request=payments.receipt_request(order_ref=order_ref, amount_fen=amount_fen, reference=reference), run=run)
    return await Payment.select().where(Payment.id == result["payment_id"]).first()


async def card_payment(*, order_id: int, org_id: int, idempotency_key: str | None = None) -> dict:
    """The buyer pays the order by card: its Stripe PaymentIntent in CNY for what is due (created once,
    the same one again while it can be paid). Stripe's webhook then records the payment, which moves
    the order on like any other payment."""
    settings = runtime.settings()

    async def run() -> dict:
        order = await _common.as_buyer(order_id, org_id)
        if order["status"] != OrderStatus.AWAITING_PAYMENT.value:
            if order["paid_at"] is not None:
                raise Conflict("payment.already_paid", "该订单已付款")
            raise Conflict("order.not_awaiting_payment", "该订单当前不在待付款状态，不能付款")
        if settings.payments_provider != payments.Provider.STRIPE.value:
            raise DomainError("payment.stripe_disabled", "本平台未启用银行卡支付，请使用对公转账", status_code=404)
        started = await payments.start_payment(order_ref=_common.ref(order_id),
                                               provider_name=payments.Provider.STRIPE.value)
        return {"payment_intent_id": started["intent_id"], "client_secret": started["client_secret"],
                "amount_fen": started["amount_fen"]}

    result, _ = await payments.once(operation="payment_intent", org_id=org_id, key=idempotency_key,
                                    request={"order": order_id}, run=run)
    return {**result, "publishable_key": settings.stripe_publishable_key}
