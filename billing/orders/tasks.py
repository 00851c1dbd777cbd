"""Jobs of orders: thin, idempotent, periodic. Importing this module (every worker does, through
market.app.TASK_MODULES) also installs the payment callbacks, so a payment recorded by a job (a Stripe
webhook, a statement import) moves its order on in that process too."""

from __future__ import annotations

from billing import mandates, orders
from market import jobs

orders.install()
mandates.install()  # agreement suspended / resumed: freeze and restore what depends on it


@jobs.job(name="billing.orders.release_due", every_seconds=3600)
async def release_due() -> None:
    """Release orders whose acceptance window passed without a dispute."""
    await orders.release_due()


@jobs.job(name="billing.orders.expire_due", every_seconds=3600)
async def expire_due() -> None:
    """Expire orders left waiting for approval, signature or payment too long."""
    await orders.expire_due()


@jobs.job(name="billing.orders.advance_signed", every_seconds=300)
async def advance_signed() -> None:
    """A safety net: contracts tell orders of a second signature at once (on_contract_signed); an
    order whose contract completed while that callback was not installed is found here."""
    from billing.orders.tables import Order, OrderStatus

    rows = await Order.select(Order.id).where(Order.status == OrderStatus.AWAITING_SIGNATURE.value).order_by(Order.id)
    for row in rows:
        await orders.advance_signed(row["id"])
