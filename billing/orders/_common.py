"""What every order service shares: reading an order, who may see or act on it, its ledger reference."""

from __future__ import annotations

from datetime import datetime, timezone

from billing.orders.tables import Order
from market.errors import Forbidden, NotFound
from market.i18n import N_

OVERSEERS = frozenset({"admin", "regulator"})


def now() -> datetime:
    return datetime.now(timezone.utc)


def ref(order_id: int) -> str:
    """The reference under which payments and the ledger know the order."""
    return f"order:{order_id}"


def order_id_of(order_ref: str) -> int | None:
    head, _, tail = (order_ref or "").partition(":")
    return int(tail) if head == "order" and tail.isascii() and tail.isdigit() else None


def not_found() -> NotFound:
    return NotFound("order.not_found", N_("订单不存在"))


async def get(order_id: int) -> dict:
    row = await Order.select().where(Order.id == order_id).first()
    if row is None:
        raise not_found()
    return row


async def visible(order_id: int, *, org_id: int | None, roles: frozenset[str]) -> dict:
    """The order for its buyer, its holder and overseers; a stranger learns nothing (404)."""
    row = await get(order_id)
    if roles & OVERSEERS or (org_id is not None and org_id in (row["buyer_org"], row["holder_org"])):
        return row
    raise not_found()


async def as_buyer(order_id: int, org_id: int) -> dict:
    row = await get(order_id)
    if org_id == row["buyer_org"]:
        return row
    if org_id == row["holder_org"]:
        raise Forbidden("order.not_buyer", N_("只有买方可以进行此操作"))
    raise not_found()


async def as_holder(order_id: int, org_id: int) -> dict:
    row = await get(order_id)
    if org_id == row["holder_org"]:
        return row
    if org_id == row["buyer_org"]:
        raise Forbidden("order.not_holder", N_("只有数据持有方可以进行此操作"))
    raise not_found()
