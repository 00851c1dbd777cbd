"""Refunds: money sent back the way it came, never more than was paid.

The amount is reserved on the payment first (a compare-and-set on `refunded_fen`, committed), then the
provider is asked, then the outcome is recorded. A crash between the two leaves a pending refund a
person can see, never a refund that took money twice; Stripe deduplicates by the refund's id.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from billing.payments import _idempotency, _provider
from billing.payments.tables import Payment, PaymentStatus, Provider, Refund, RefundStatus
from market import audit, db
from market.errors import Conflict, DomainError, NotFound
from market.money import Money

RefundCallback = Callable[[dict], Awaitable[None]]
_callbacks: list[RefundCallback] = []


def on_refund_recorded(callback: RefundCallback) -> RefundCallback:
    """Register an async callback run in the transaction that marks a refund succeeded (the refund row)."""
    if callback not in _callbacks:
        _callbacks.append(callback)
    return callback


def remove_refund_callback(callback: RefundCallback) -> None:
    if callback in _callbacks:
        _callbacks.remove(callback)


async def _reserve(payment_id: int, amount_fen: int, reason: str, recorded_by: str) -> tuple[dict, dict]:
    async with db.atomic():
        payment = await Payment.select().where(Payment.id == payment_id).first()
        if payment is None:
            raise NotFound("payment.not_found", "未找到该笔收款")
        refundable = payment["amount_fen"] - payment["refunded_fen"]
        if amount_fen > refundable:
            raise DomainError("payment.refund_too_large", "退款金额 {amount} 超过可退金额 {refundable}",
                              amount=Money(amount_fen).format(), refundable=Money(refundable).format())
        won = await db.rowcount_update(Payment, {Payment.refunded_fen: payment["refunded_fen"] + amount_fen},
                                       Payment.id == payment_id, Payment.refunded_fen == payment["refunded_fen"])
        if won != 1:
            raise Conflict("state.concurrent_change", "该对象刚被他人修改，请刷新后重试")
        rows = await Refund.insert(Refund(payment_id=payment_id, order_ref=payment["order_ref"], amount_fen=amount_fen,
                                          reason=reason, recorded_by=recorded_by[:200])).returning(Refund.id)
        await audit.record(action="refund.requested", object_type="payment_refund", object_id=rows[0]["id"],
                           after={"payment_id": payment_id, "order_ref": payment["order_ref"],
                                  "amount_fen": amount_fen, "reason": reason})
        return payment, await Refund.select().where(Refund.id == rows[0]["id"]).first()


async def refund(*, payment_id: int, amount_fen: int, reason: str, recorded_by: str,
                 idempotency_key: str | None = None) -> dict:
    """Pay back part or all of a payment through its provider; returns the refund row. The same
    Idempotency-Key returns the refund made the first time, and refunds nothing more."""

    async def run() -> dict:
        row = await _refund(payment_id=payment_id, amount_fen=amount_fen, reason=reason, recorded_by=recorded_by)
        return {"refund_id": row["id"]}

    result, _ = await _idempotency.once(
        operation="payment_refund", org_id=None, key=idempotency_key,
        request={"payment_id": payment_id, "amount_fen": amount_fen, "reason": (reason or "").strip()}, run=run)
    return await Refund.select().where(Refund.id == result["refund_id"]).first()


async def _refund(*, payment_id: int, amount_fen: int, reason: str, recorded_by: str) -> dict:
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise DomainError("payment.refund_amount_invalid", "退款金额必须大于 0")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("payment.refund_reason_required", "请填写退款原因")
    payment, row = await _reserve(payment_id, amount_fen, reason[:500], recorded_by)
    provider = _provider.provider(Provider(payment["provider"]))
    try:
        provider_refund_id = await provider.refund(payment, amount_fen=amount_fen, refund_id=row["id"])
    except DomainError as exc:
        async with db.atomic():
            # give the reserved amount back, so the refund can be tried again
            await Payment.update({Payment.refunded_fen: Payment.refunded_fen - amount_fen}).where(
                Payment.id == payment_id)
            await db.transition(Refund, row["id"], to=RefundStatus.FAILED, action="refund.failed",
                                extra={Refund.error: exc.message}, audit_after={"error": exc.params.get("detail", "")})
        raise
    async with db.atomic():
        row = await db.transition(Refund, row["id"], to=RefundStatus.SUCCEEDED, action="refund.succeeded",
                                  extra={Refund.provider_refund_id: provider_refund_id},
                                  audit_after={"provider_refund_id": provider_refund_id})
        current = await Payment.select().where(Payment.id == payment_id).first()
        target = (PaymentStatus.REFUNDED if current["refunded_fen"] >= current["amount_fen"]
                  else PaymentStatus.PARTLY_REFUNDED)
        if current["status"] != target.value:
            await db.transition(Payment, payment_id, to=target, action="payment.refunded",
                                audit_after={"refunded_fen": current["refunded_fen"]})
        row = await Refund.select().where(Refund.id == row["id"]).first()
        for callback in list(_callbacks):
            await callback(row)
        return row
