"""After delivery: acceptance, disputes, release from escrow, refunds; and orders left waiting.

Money stays in escrow until the buyer confirms, the acceptance window (MARKET_ACCEPTANCE_DAYS)
passes without a dispute, or the platform settles a dispute. The release posts what escrow still
holds for the order: after a partial refund, the frozen net and tax shrink in proportion (tax
rounded once, half up; the net takes the rest), so release and refunds always add up to the total.
Refunds go through payments (each payment refunded the way it came); payments' refund callback
posts the ledger refund in the transaction that records it, and the refund that returns all that was
paid revokes the entitlement and marks the order refunded.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from billing import ledger, lineage_shares
from billing import payments
from billing.orders import _common, _invoicing
from billing.orders.tables import WAITING, Order, OrderStatus
from contracts import service as contracts_service
from contracts.tables import ContractStatus, PurchaseContract
from listings import service as listings_service
from listings.tables import Entitlement, Listing
from market import db, notifications, runtime
from market.errors import Conflict, DomainError
from market.money import Money
from operators import service as operators_service

REFUNDABLE = (OrderStatus.PAID.value, OrderStatus.DELIVERED.value, OrderStatus.DISPUTED.value,
              OrderStatus.COMPLETED.value)


def release_split(order: dict, held_fen: int) -> tuple[int, int]:
    """(net, tax) of what escrow still holds for the order, in the order's proportion of tax to total."""
    total = order["total_fen"]
    if held_fen >= total:
        return order["amount_fen"], order["tax_fen"]
    tax = (2 * order["tax_fen"] * held_fen + total) // (2 * total)  # half up, once
    return held_fen - tax, tax


async def _release(order: dict) -> None:
    """Post the release of what escrow holds for the order (nothing for a zero-price order)."""
    held = await ledger.held_in_escrow(reference=_common.ref(order["id"]))
    if held <= 0:
        return
    amount, tax = release_split(order, held)
    await ledger.release(order_ref=_common.ref(order["id"]), holder_org_id=order["holder_org"], amount_fen=amount,
                         tax_fen=tax, tier=order["tier"], commission_bps=order["commission_bps"],
                         fund_share_bps=order["fund_share_bps"])
    await lineage_shares.post_release(order, order_ref=_common.ref(order["id"]))
    await _operator_revenue(order, amount, ref=_common.ref(order["id"]))


async def _operator_revenue(order: dict, amount_fen: int, *, ref: str) -> None:
    """A derived product's sale counts against its operator's permitted maximum (最高准许收入) when the
    money is released to it, and a refund after that takes it back; data no pipeline made is not counted."""
    if amount_fen == 0:
        return
    asset = await Listing.select(Listing.asset).where(Listing.id == order["listing"]).first()
    mandate = await operators_service.mandate_of(asset["asset"])
    if mandate is not None:
        await operators_service.record_revenue(agreement_id=mandate["id"], amount_fen=amount_fen, ref=ref,
                                               note=f"订单 {order['id']}《{order['listing_title']}》")


async def _complete(order_id: int, *, action: str, audit_after: dict | None = None) -> dict:
    from billing import mandates  # imports billing.orders.tables: at call time

    await mandates.check_not_held(order_id)  # its agreement is suspended: the money stays in escrow
    async with db.atomic():
        row = await db.transition(Order, order_id, to=OrderStatus.COMPLETED, action=action,
                                  extra={Order.completed_at: _common.now()}, audit_after=audit_after)
        await _release(await _common.get(order_id))
        return row


def _window_ends(order: dict) -> datetime:
    return order["delivered_at"] + timedelta(days=runtime.settings().acceptance_days)


async def confirm(*, order_id: int, org_id: int) -> dict:
    """The buyer accepts the delivery: the money goes to the holder, the platform, the fund and VAT."""
    order = await _common.as_buyer(order_id, org_id)
    if order["status"] != OrderStatus.DELIVERED.value:
        raise Conflict("order.not_delivered", "该订单尚未交付或已验收，不能确认")
    await _complete(order_id, action="order.confirmed")
    return await _common.get(order_id)


async def dispute(*, order_id: int, org_id: int, reason: str) -> dict:
    """The buyer contests the delivery within the acceptance window: the money stays in escrow."""
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise DomainError("order.dispute_reason_required", "请说明异议的理由（至少 4 个字）")
    order = await _common.as_buyer(order_id, org_id)
    if order["status"] != OrderStatus.DELIVERED.value:
        raise Conflict("order.not_delivered", "该订单尚未交付或已验收，不能提出异议")
    if _common.now() >= _window_ends(order):
        raise Conflict("order.acceptance_over", "验收期已过，不能再提出异议")
    async with db.atomic():
        await db.transition(Order, order_id, to=OrderStatus.DISPUTED, action="order.disputed",
                            extra={Order.dispute_reason: reason[:1000], Order.disputed_at: _common.now()},
                            audit_after={"reason": reason[:1000]})
        await notifications.notify(kind="order.disputed", organization_id=order["holder_org"],
                                   subject=f"《{order['listing_title']}》的买方提出异议：{reason[:100]}",
                                   link=f"/orders/{order_id}")
    return await _common.get(order_id)


async def resolve_dispute(*, order_id: int, outcome: str, note: str, recorded_by: str) -> dict:
    """The platform settles a dispute: release the money to the holder, or refund what is left."""
    note = (note or "").strip()
    if len(note) < 2:
        raise DomainError("order.reason_required", "请填写理由")
    if outcome not in ("release", "refund"):
        raise DomainError("order.outcome_invalid", "处理结果只能是结算给持有方（release）或退款（refund）")
    order = await _common.get(order_id)
    if order["status"] != OrderStatus.DISPUTED.value:
        raise Conflict("order.not_disputed", "该订单没有待处理的异议")
    if outcome == "release":
        await Order.update({Order.decision_note: note[:500]}).where(Order.id == order_id)
        await _complete(order_id, action="order.dispute_released", audit_after={"note": note[:500]})
        return await _common.get(order_id)
    left = await refundable_fen(order_id)
    return await refund(order_id=order_id, amount_fen=left, reason=note, recorded_by=recorded_by)


async def refundable_fen(order_id: int) -> int:
    return sum(p["amount_fen"] - p["refunded_fen"] for p in await payments.payments_for(_common.ref(order_id)))


async def refund(*, order_id: int, amount_fen: int, reason: str, recorded_by: str,
                 idempotency_key: str | None = None) -> dict:
    """Pay back part or all of what the buyer paid (platform finance); all of it ends the order. The same
    Idempotency-Key returns the order as the first call left it, and refunds nothing more."""

    async def run() -> dict:
        return {"refund_ids": await _refund(order_id=order_id, amount_fen=amount_fen, reason=reason,
                                            recorded_by=recorded_by)}

    await payments.once(operation="order_refund", org_id=None, key=idempotency_key,
                        request={"order": order_id, "amount_fen": amount_fen, "reason": (reason or "").strip()},
                        run=run)
    return await _common.get(order_id)


async def _refund(*, order_id: int, amount_fen: int, reason: str, recorded_by: str) -> list[int]:
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise DomainError("payment.refund_amount_invalid", "退款金额必须大于 0")
    if not (reason or "").strip():
        raise DomainError("payment.refund_reason_required", "请填写退款原因")
    order = await _common.get(order_id)
    if order["status"] not in REFUNDABLE:
        raise Conflict("order.not_refundable", "该订单当前没有可退的款项")
    pays = await payments.payments_for(_common.ref(order_id))
    left = sum(p["amount_fen"] - p["refunded_fen"] for p in pays)
    if amount_fen > left:
        raise DomainError("order.refund_exceeds_paid", "退款金额 {amount} 超过该订单已付且未退的金额 {refundable}",
                          amount=Money(amount_fen).format(), refundable=Money(left).format())
    # the ledger posts the refund only once the money went back (a card refund is already with Stripe by
    # then): a reversal it would refuse — the holder's share or the fund's already paid out — is refused
    # here, before a refund is reserved, sent or recorded
    # (the lineage shares come back to the seller first, in the refund's transaction: count them in)
    await ledger.check_refund(order_ref=_common.ref(order_id), amount_fen=amount_fen,
                              also=await lineage_shares.refund_lines(order_ref=_common.ref(order_id),
                                                                     amount_fen=amount_fen))
    done = []
    remaining = amount_fen
    for payment in pays:  # oldest first, each the way it was paid
        take = min(remaining, payment["amount_fen"] - payment["refunded_fen"])
        if take > 0:
            row = await payments.refund(payment_id=payment["id"], amount_fen=take, reason=reason,
                                        recorded_by=recorded_by)
            done.append(row["id"])
            remaining -= take
    return done


async def on_refund_recorded(refund_row: dict) -> None:
    """Payments' callback, in the transaction that marks a refund done: the ledger refund, and the end
    of the order once all that was paid went back."""
    order_id = _common.order_id_of(refund_row["order_ref"])
    if order_id is None:
        return
    # the sources' shares go back to the seller before the refund reverses the seller's leg
    await lineage_shares.post_refund(order_ref=refund_row["order_ref"], refund_id=refund_row["id"],
                                     amount_fen=refund_row["amount_fen"])
    await ledger.refund(order_ref=refund_row["order_ref"], amount_fen=refund_row["amount_fen"],
                        idempotency_key=f"refund:{refund_row['id']}")
    # the invoice is never edited: each refund gets its red-letter credit note (tax included)
    await _invoicing.credit_refund(order_id=order_id, amount_fen=refund_row["amount_fen"],
                                   reason=refund_row["reason"] or "退款")
    order = await _common.get(order_id)
    if order["status"] == OrderStatus.COMPLETED.value:  # released already: the operator's revenue goes back too
        net, _tax = release_split(order, refund_row["amount_fen"])
        await _operator_revenue(order, -net, ref=f"{_common.ref(order_id)}:refund:{refund_row['id']}")
    if await refundable_fen(order_id) > 0:
        return
    order = await _common.get(order_id)
    if order["status"] not in REFUNDABLE:
        return
    if order["entitlement"] is not None:
        ent = await Entitlement.select(Entitlement.status).where(Entitlement.id == order["entitlement"]).first()
        if ent is not None and ent["status"] == "active":
            await listings_service.revoke(entitlement_id=order["entitlement"],
                                          reason=f"订单 {order_id} 已全额退款")
    await db.transition(Order, order_id, to=OrderStatus.REFUNDED, action="order.refunded",
                        extra={Order.closed_at: _common.now()}, audit_after={"reason": refund_row["reason"]})


# ---- orders that wait too long, or are withdrawn -------------------------------------------------


async def _close_waiting(order: dict, *, to: OrderStatus, action: str, reason: str) -> None:
    """Cancel or expire a waiting order: its payment request is closed and an unsigned contract voided."""
    async with db.atomic():
        await db.transition(Order, order["id"], to=to, action=action, extra={Order.closed_at: _common.now()},
                            audit_after={"reason": reason})
        request = await payments.get_request(order_ref=_common.ref(order["id"]))
        if request is not None and request["status"] == payments.RequestStatus.OPEN.value:
            if request["paid_fen"] > 0:
                # part of the money arrived: a person settles it (refund or collect the rest)
                raise Conflict("order.partly_paid", "该订单已收到部分款项，请由平台财务处理")
            await payments.cancel_request(order_ref=_common.ref(order["id"]))
        if order["contract"] is not None:
            contract = await PurchaseContract.select(PurchaseContract.status).where(
                PurchaseContract.id == order["contract"]).first()
            if contract["status"] in (ContractStatus.DRAFT.value, ContractStatus.AWAITING_SIGNATURES.value):
                await contracts_service.void(contract_id=order["contract"], reason=reason)


async def cancel(*, order_id: int, org_id: int) -> dict:
    """The buyer withdraws an order it has not paid."""
    order = await _common.as_buyer(order_id, org_id)
    if order["status"] not in {s.value for s in WAITING}:
        raise Conflict("order.not_cancellable", "该订单已付款或已结束，不能取消")
    await _close_waiting(order, to=OrderStatus.CANCELLED, action="order.cancelled", reason="买方取消订单")
    return await _common.get(order_id)


async def expire_due(*, now: datetime | None = None) -> list[int]:
    """Expire orders still waiting after MARKET_ORDER_EXPIRY_DAYS (periodic; a rerun finds nothing)."""
    cutoff = (now or _common.now()) - timedelta(days=runtime.settings().order_expiry_days)
    rows = await Order.select().where(Order.status.is_in([s.value for s in WAITING]),
                                      Order.created_at <= cutoff).order_by(Order.id)
    done = []
    for order in rows:
        try:
            await _close_waiting(order, to=OrderStatus.EXPIRED, action="order.expired", reason="订单超时未完成，已失效")
        except Conflict:
            continue  # paid meanwhile, partly paid, or moved on by someone else: not ours to expire
        done.append(order["id"])
    return done


async def release_due(*, now: datetime | None = None) -> list[int]:
    """Release delivered orders whose acceptance window passed without a dispute (periodic)."""
    cutoff = (now or _common.now()) - timedelta(days=runtime.settings().acceptance_days)
    rows = await Order.select(Order.id).where(Order.status == OrderStatus.DELIVERED.value,
                                              Order.delivered_at <= cutoff).order_by(Order.id)
    done = []
    for row in rows:
        try:
            await _complete(row["id"], action="order.accepted_by_window")
        except Conflict:
            continue  # confirmed, disputed or refunded meanwhile
        done.append(row["id"])
    return done
