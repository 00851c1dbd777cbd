"""What a holder sees of its trade (销售): orders waiting for its approval, its sales, its buyers,
what it is owed and what it was paid, month by month.

Every figure of money is read from the ledger (the holder's `payable:<org>` account and the escrow
postings of its orders), never recomputed from order rows, so this page and the ledger cannot
disagree. Orders are read for what they say about the sale (buyer, listing, plan, purpose, status).
"""

from __future__ import annotations

import json

from piccolo.query.functions.aggregate import Count, Sum

from billing import ledger, orders, statements
from billing._accounts import ESCROW
from billing.orders.tables import Order, OrderStatus
from billing.tables import Posting, TxnKind
from market import db
from market.errors import DomainError
from market.i18n import N_

ORDER_STATUS_NAMES = {
    OrderStatus.CREATED.value: N_("已创建"),
    OrderStatus.AWAITING_APPROVAL.value: N_("待审核"),
    OrderStatus.AWAITING_SIGNATURE.value: N_("待签署"),
    OrderStatus.AWAITING_PAYMENT.value: N_("待付款"),
    OrderStatus.PAID.value: N_("已付款"),
    OrderStatus.DELIVERED.value: N_("已交付"),
    OrderStatus.COMPLETED.value: N_("已完成"),
    OrderStatus.CANCELLED.value: N_("已取消"),
    OrderStatus.DECLINED.value: N_("已拒绝"),
    OrderStatus.EXPIRED.value: N_("已过期"),
    OrderStatus.REFUNDED.value: N_("已退款"),
    OrderStatus.DISPUTED.value: N_("有异议"),
}
# a sale counts (buyers summary, monthly sales) once the buyer's money is in: paid and after, refunds aside
SOLD = (OrderStatus.PAID.value, OrderStatus.DELIVERED.value, OrderStatus.COMPLETED.value,
        OrderStatus.DISPUTED.value, OrderStatus.REFUNDED.value)


def sale_row(order: dict) -> dict:
    """One sale as the holder's list shows it."""
    plan = json.loads(order["plan_terms"] or "{}")
    return {"id": order["id"], "status": order["status"], "created_at": order["created_at"],
            "paid_at": order["paid_at"], "buyer_org_id": order["buyer_org"], "buyer_name": order["buyer_name"],
            "listing_id": order["listing"], "listing_title": order["listing_title"], "tier": order["tier"],
            "plan_name": plan.get("name", ""), "purpose": order["purpose"], "purpose_note": order["purpose_note"],
            "quantity": order["quantity"], "amount_fen": order["amount_fen"], "tax_fen": order["tax_fen"],
            "total_fen": order["total_fen"]}


async def awaiting_approval(*, holder_org_id: int) -> list[dict]:
    """Orders that wait for this holder to approve or decline, oldest first (first come, first served)."""
    rows = await (Order.select().where(Order.holder_org == holder_org_id,
                                       Order.status == OrderStatus.AWAITING_APPROVAL.value)
                  .order_by(Order.id))
    return [sale_row(r) for r in rows]


async def sales(*, holder_org_id: int, status: str | None = None, page: int = 1,
                page_size: int = 50) -> tuple[list[dict], int]:
    """The holder's orders, newest first, optionally of one status."""
    where = [Order.holder_org == holder_org_id]
    if status:
        if status not in ORDER_STATUS_NAMES:
            raise DomainError("sales.status_invalid", "订单状态无效：{status}", status=status)
        where.append(Order.status == status)
    rows = await (Order.select().where(*where).order_by(Order.id, ascending=False)
                  .limit(page_size).offset((page - 1) * page_size))
    return [sale_row(r) for r in rows], await Order.count().where(*where)


async def buyers(*, holder_org_id: int) -> list[dict]:
    """Per buyer: orders placed, orders paid, and the net amount of the paid ones; biggest first."""
    rows = await (Order.select(Order.buyer_org, Order.buyer_name, Order.status, Order.amount_fen, Order.created_at)
                  .where(Order.holder_org == holder_org_id))
    out: dict[int, dict] = {}
    for r in rows:
        b = out.setdefault(r["buyer_org"], {"buyer_org_id": r["buyer_org"], "buyer_name": r["buyer_name"],
                                            "orders": 0, "paid_orders": 0, "amount_fen": 0, "last_order_at": None})
        b["orders"] += 1
        if r["status"] in SOLD and r["status"] != OrderStatus.REFUNDED.value:
            b["paid_orders"] += 1
            b["amount_fen"] += r["amount_fen"]
        if b["last_order_at"] is None or r["created_at"] > b["last_order_at"]:
            b["last_order_at"] = r["created_at"]
    return sorted(out.values(), key=lambda b: (-b["amount_fen"], -b["orders"], b["buyer_org_id"]))


async def amount_due(*, holder_org_id: int) -> dict:
    """What the platform owes the holder now (its payable), what escrow still holds for its orders (to
    be released on acceptance), and what it was paid out so far, in 分."""
    code = ledger.payable_code(holder_org_id)
    async with db.reading():
        payable = await ledger.balance(account_code=code)
        refs = [orders.ref(r["id"]) for r in await Order.select(Order.id).where(Order.holder_org == holder_org_id)]
        escrow = 0
        for i in range(0, len(refs), 500):
            row = await (Posting.select(Sum(Posting.amount_fen).as_alias("total"))
                         .where(Posting.account.code == ESCROW, Posting.txn.reference.is_in(refs[i:i + 500]))
                         .first())
            escrow -= int(row["total"] or 0)  # escrow is a liability: money held is a credit
        paid = await (Posting.select(Sum(Posting.amount_fen).as_alias("total"))
                      .where(Posting.account.code == code, Posting.txn.kind == TxnKind.PAYOUT).first())
    return {"payable_fen": payable, "in_escrow_fen": escrow, "paid_out_fen": int(paid["total"] or 0)}


async def payouts(*, holder_org_id: int) -> list[dict]:
    """Payouts the platform made to the holder, newest first (amount, bank reference, date)."""
    code = ledger.payable_code(holder_org_id)
    rows = await (Posting.select(Posting.txn.id.as_alias("txn_id"), Posting.txn.reference.as_alias("reference"),
                                 Posting.txn.created_at.as_alias("created_at"), Posting.txn.period.as_alias("period"),
                                 Posting.amount_fen)
                  .where(Posting.account.code == code, Posting.txn.kind == TxnKind.PAYOUT)
                  .order_by(Posting.txn.id, ascending=False))
    # billing.finance posts a payout under 'payout:<the bank's serial number>'
    return [{"txn_id": r["txn_id"], "reference": r["reference"], "bank_reference": r["reference"].removeprefix("payout:"),
             "paid_at": r["created_at"], "month": r["period"],
             "amount_fen": r["amount_fen"]} for r in rows]


async def monthly(*, holder_org_id: int) -> list[dict]:
    """Per accounting month: released to the holder (net), reversed by refunds, and paid out, in 分 —
    the series of the page's chart, read from the holder's payable like its statements."""
    code = ledger.payable_code(holder_org_id)
    rows = await (Posting.select(Posting.txn.period.as_alias("month"), Posting.txn.kind.as_alias("kind"),
                                 Sum(Posting.amount_fen).as_alias("total"), Count().as_alias("n"))
                  .where(Posting.account.code == code)
                  .group_by(Posting.txn.period, Posting.txn.kind))
    by_month: dict[str, dict] = {}
    for r in rows:
        m = by_month.setdefault(r["month"], {"month": r["month"], "released_fen": 0, "refunded_fen": 0,
                                             "paid_out_fen": 0, "sales": 0})
        total = int(r["total"] or 0)
        if r["kind"] == TxnKind.RELEASE.value:
            m["released_fen"] += -total
            m["sales"] += r["n"]
        elif r["kind"] == TxnKind.REFUND.value:
            m["refunded_fen"] += total
        elif r["kind"] == TxnKind.PAYOUT.value:
            m["paid_out_fen"] += total
    return [by_month[k] for k in sorted(by_month)]


async def overview(*, holder_org_id: int) -> dict:
    """Everything the 销售 page shows at the top."""
    return {"due": await amount_due(holder_org_id=holder_org_id),
            "awaiting": await awaiting_approval(holder_org_id=holder_org_id),
            "monthly": await monthly(holder_org_id=holder_org_id),
            "months": await statements.months(holder_org_id=holder_org_id)}

