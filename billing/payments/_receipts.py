"""What each order must pay, and recording the money that arrives for it.

The order service opens a request when an order awaits payment (`open_request`, which hands back the
payment reference for the invoice), and learns that money arrived through `on_payment_recorded`
callbacks, which run inside the transaction that records the payment: the order moves to paid in
the same commit, or neither happens. Payments never go past the amount due: `paid_fen` is raised
only by a compare-and-set, so concurrent confirmations for one order record exactly one payment.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from billing.payments import _idempotency, _reference
from billing.payments.tables import Payment, PaymentRequest, Provider, RequestStatus
from market import audit, db
from market.errors import Conflict, DomainError, NotFound
from market.money import Money


@dataclass(frozen=True)
class PaymentRecorded:
    """Handed to `on_payment_recorded` callbacks, inside the recording transaction."""

    order_ref: str
    payment_id: int
    provider: str
    amount_fen: int
    paid_fen: int  # everything recorded for the order so far, this payment included
    due_fen: int  # the amount of the request
    paid_in_full: bool


PaymentCallback = Callable[[PaymentRecorded], Awaitable[None]]
_callbacks: list[PaymentCallback] = []


def on_payment_recorded(callback: PaymentCallback) -> PaymentCallback:
    """Register an async callback run in the transaction of every recorded payment (usable as a
    decorator). A callback that raises undoes the payment: the order must be able to take it."""
    if callback not in _callbacks:
        _callbacks.append(callback)
    return callback


def remove_payment_callback(callback: PaymentCallback) -> None:
    if callback in _callbacks:
        _callbacks.remove(callback)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _fmt(fen: int) -> str:
    return Money(fen).format()


async def _request(order_ref: str) -> dict:
    row = await PaymentRequest.select().where(PaymentRequest.order_ref == order_ref).first()
    if row is None:
        raise NotFound("payment.request_not_found", "未找到该订单的付款信息")
    return row


async def open_request(*, order_ref: str, amount_fen: int, currency: str = "CNY") -> dict:
    """What an order must pay, with its payment reference; the same order gets the same request."""
    order_ref = (order_ref or "").strip()
    if not order_ref or len(order_ref) > 64:
        raise DomainError("payment.order_ref_invalid", "订单编号无效")
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise DomainError("payment.amount_invalid", "应付金额必须大于 0")
    if currency != "CNY":
        raise DomainError("payment.currency_unsupported", "仅支持人民币结算")
    async with db.atomic():
        existing = await PaymentRequest.select().where(PaymentRequest.order_ref == order_ref).first()
        if existing is None:
            # 40 random bits: a collision is very unlikely, and checked rather than left to the unique
            # index, since a failed INSERT would abort the whole transaction on PostgreSQL
            for _ in range(10):
                reference = _reference.make_reference()
                if not await PaymentRequest.exists().where(PaymentRequest.reference == reference):
                    break
            inserted = await PaymentRequest.insert(PaymentRequest(
                order_ref=order_ref, reference=reference, amount_fen=amount_fen, currency=currency,
            )).on_conflict(target=PaymentRequest.order_ref, action="DO NOTHING").returning(PaymentRequest.id)
            if inserted:
                await audit.record(action="payment_request.opened", object_type="payment_request",
                                   object_id=inserted[0]["id"],
                                   after={"order_ref": order_ref, "amount_fen": amount_fen, "reference": reference})
            existing = await _request(order_ref)
        if existing["amount_fen"] != amount_fen:
            raise Conflict("payment.request_amount_differs", "该订单已有不同金额的付款信息（{amount}）",
                           amount=_fmt(existing["amount_fen"]))
        return existing


async def payment_reference(order_ref: str) -> str:
    """The payment reference printed on the order's invoice."""
    return (await _request(order_ref))["reference"]


async def get_request(*, order_ref: str | None = None, reference: str | None = None) -> dict | None:
    query = PaymentRequest.select()
    if order_ref is not None:
        query = query.where(PaymentRequest.order_ref == order_ref)
    elif reference is not None:
        query = query.where(PaymentRequest.reference == _reference.normalize(reference))
    else:
        return None
    return await query.first()


async def cancel_request(*, order_ref: str) -> dict:
    """The order was cancelled or expired: money arriving for it later goes to a person."""
    row = await _request(order_ref)
    return await db.transition(PaymentRequest, row["id"], to=RequestStatus.CANCELLED,
                               action="payment_request.cancelled")


async def payments_for(order_ref: str) -> list[dict]:
    return await Payment.select().where(Payment.order_ref == order_ref).order_by(Payment.id)


async def record_payment(*, order_ref: str, provider: Provider, reference: str, amount_fen: int,
                         recorded_by: str, statement_line_id: int | None = None,
                         received_at: datetime | None = None) -> dict:
    """Record money received for an order, at most up to what it still owes; runs the callbacks."""
    unique_key = f"{provider.value}:{reference}"
    async with db.atomic():
        request = await _request(order_ref)
        if await Payment.exists().where(Payment.unique_key == unique_key):
            raise Conflict("payment.duplicate", "该笔收款已登记（{reference}）", reference=reference)
        if request["status"] == RequestStatus.CANCELLED.value:
            raise Conflict("payment.request_cancelled", "该订单已取消，不能再登记收款")
        paid = request["paid_fen"]
        if request["status"] == RequestStatus.PAID.value or paid >= request["amount_fen"]:
            raise Conflict("payment.already_paid", "该订单已付款")
        remaining = request["amount_fen"] - paid
        if amount_fen > remaining:
            raise DomainError("payment.over_amount", "收款金额 {amount} 超过该订单待付金额 {remaining}",
                              amount=_fmt(amount_fen), remaining=_fmt(remaining))
        # the compare-and-set that makes concurrent confirmations safe: only one moves paid_fen on
        # from the value read; on PostgreSQL the others wait for its commit and then match no row
        won = await db.rowcount_update(
            PaymentRequest, {PaymentRequest.paid_fen: paid + amount_fen},
            PaymentRequest.id == request["id"], PaymentRequest.paid_fen == paid,
            PaymentRequest.status == RequestStatus.OPEN.value)
        if won != 1:
            raise Conflict("payment.already_paid", "该订单已付款")
        rows = await Payment.insert(Payment(
            order_ref=order_ref, provider=provider.value, reference=reference, unique_key=unique_key,
            amount_fen=amount_fen, currency=request["currency"], received_at=received_at or _now(),
            recorded_by=recorded_by[:200], statement_line_id=statement_line_id,
        )).returning(Payment.id)
        payment_id = rows[0]["id"]
        in_full = paid + amount_fen == request["amount_fen"]
        if in_full:
            await db.transition(PaymentRequest, request["id"], to=RequestStatus.PAID, action="payment_request.paid",
                                extra={PaymentRequest.paid_at: _now()})
        event = PaymentRecorded(order_ref=order_ref, payment_id=payment_id, provider=provider.value,
                                amount_fen=amount_fen, paid_fen=paid + amount_fen, due_fen=request["amount_fen"],
                                paid_in_full=in_full)
        await audit.record(action="payment.recorded", object_type="payment", object_id=payment_id,
                           after={**asdict(event), "reference": reference, "recorded_by": recorded_by})
        for callback in list(_callbacks):
            await callback(event)
        return await Payment.select().where(Payment.id == payment_id).first()


def receipt_request(*, order_ref: str, amount_fen: int, reference: str) -> dict:
    """What a receipt call asks, as its Idempotency-Key remembers it (the order's route and payments' alike)."""
    return {"order_ref": (order_ref or "").strip(), "amount_fen": amount_fen, "reference": (reference or "").strip()}


async def record_receipt(*, order_ref: str, amount_fen: int, reference: str, recorded_by: str,
                         idempotency_key: str | None = None) -> dict:
    """A bank transfer finance saw arrive, recorded by hand (the bank's serial as reference). The same
    Idempotency-Key returns the payment it recorded the first time."""

    async def run() -> dict:
        if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
            raise DomainError("payment.amount_invalid", "收款金额必须大于 0")
        ref = (reference or "").strip()
        if not ref or len(ref) > 100:
            raise DomainError("payment.reference_required", "请填写银行流水号或付款凭证号（最多 100 个字符）")
        row = await record_payment(order_ref=(order_ref or "").strip(), provider=Provider.BANK_TRANSFER,
                                   reference=ref, amount_fen=amount_fen, recorded_by=recorded_by)
        return {"payment_id": row["id"]}

    result, _ = await _idempotency.once(
        operation="receipt", org_id=None, key=idempotency_key,
        request=receipt_request(order_ref=order_ref, amount_fen=amount_fen, reference=reference), run=run)
    return await Payment.select().where(Payment.id == result["payment_id"]).first()


async def summary(order_ref: str) -> dict:
    """What the order API shows about paying: due, paid, the reference, and each payment."""
    request = await _request(order_ref)
    return {
        "payment_reference": request["reference"], "amount_fen": request["amount_fen"],
        "paid_fen": request["paid_fen"], "status": request["status"],
        "payments": [{"id": p["id"], "amount_fen": p["amount_fen"], "provider": p["provider"],
                      "reference": p["reference"], "status": p["status"], "refunded_fen": p["refunded_fen"],
                      "received_at": p["received_at"].isoformat()} for p in await payments_for(order_ref)],
    }
