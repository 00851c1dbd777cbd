"""Cascading suspension (issue 9 item 8): when an authorization agreement is suspended, what was made
and sold under it stops with it, and comes back exactly as it was when the suspension is lifted.

On `agreement.suspended` (operators.events, delivered after the agency's commit) billing freezes, for
every derived asset whose lineage names a version of the agreement: its listed listings (taken off
sale), its open orders (held: they keep their status, and `is_held` stops their release; payment and
delivery are refused by operators' check_sale already), and the active entitlements on those listings
(suspended: no download or API call reaches the data, whichever API key asks). Each frozen thing is
a `MandateFreeze` row with the state it had, so `agreement.resumed` restores exactly those and nothing
a person changed meanwhile. Subscriptions get a pro-rata refund proposal for finance (remaining term /
total term × amount, never paid automatically). Buyers and the operator are told; all is audited.
Handlers are idempotent (events arrive at least once).
"""

from __future__ import annotations

from datetime import datetime, timezone

from piccolo.columns import BigInt, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from market import audit, db, notifications
from market.errors import Conflict

OPEN_ORDERS = ("awaiting_approval", "awaiting_signature", "awaiting_payment", "paid", "delivered", "disputed")


class MandateFreeze(Table, tablename="mandate_freeze"):
    """One thing frozen because an agreement was suspended, with the state to restore."""

    id = Serial(primary_key=True)
    agreement_number = Varchar(length=30, index=True)
    object_type = Varchar(length=20)  # listing, order, entitlement
    object_id = Integer()
    previous = Varchar(length=30)  # the status it had
    frozen_at = Timestamptz(default=TimestamptzNow())
    lifted_at = Timestamptz(null=True, default=None)


class RefundProposal(Table, tablename="mandate_refund_proposal"):
    """A pro-rata refund finance may pay for a subscription cut short by a suspension (a proposal only)."""

    id = Serial(primary_key=True)
    agreement_number = Varchar(length=30, index=True)
    entitlement = Integer(index=True)
    order_id = Integer(null=True, default=None)
    buyer_org = Integer()
    paid_fen = BigInt(default=0)
    remaining_seconds = BigInt(default=0)
    term_seconds = BigInt(default=0)
    amount_fen = BigInt(default=0)
    status = Varchar(length=20, default="proposed")
    created_at = Timestamptz(default=TimestamptzNow())


def pro_rata(*, paid_fen: int, starts_at: datetime, ends_at: datetime, now: datetime) -> tuple[int, int, int]:
    """(amount, remaining seconds, term seconds): the unused part of the term, rounded down to the 分."""
    term = max(int((ends_at - starts_at).total_seconds()), 0)
    remaining = min(max(int((ends_at - now).total_seconds()), 0), term)
    return (paid_fen * remaining // term if term else 0), remaining, term


async def _frozen(number: str, object_type: str) -> set[int]:
    rows = await MandateFreeze.select(MandateFreeze.object_id).where(
        MandateFreeze.agreement_number == number, MandateFreeze.object_type == object_type,
        MandateFreeze.lifted_at.is_null())
    return {r["object_id"] for r in rows}


async def is_held(order_id: int) -> bool:
    return await MandateFreeze.exists().where(MandateFreeze.object_type == "order",
                                              MandateFreeze.object_id == order_id,
                                              MandateFreeze.lifted_at.is_null())


async def _derived_listings(number: str) -> list[dict]:
    from listings.tables import Listing
    from operators.tables import AuthorizationAgreement, Lineage

    versions = AuthorizationAgreement.select(AuthorizationAgreement.id).where(
        AuthorizationAgreement.number == number)
    assets = Lineage.select(Lineage.asset).where(Lineage.agreement.is_in(versions))
    return await Listing.select().where(Listing.asset.is_in(assets)).order_by(Listing.id)


async def freeze(*, agreement_id: int, number: str, operator_org_id: int, reason: str = "", **_) -> dict:
    """Freeze what depends on a suspended agreement; returns what was frozen now."""
    from billing.orders.tables import Order
    from listings import service as listings_service
    from listings.tables import Entitlement

    why = f"授权运营协议 {number} 已暂停" + (f"：{reason}" if reason else "")
    now = datetime.now(timezone.utc)
    done = {"listings": [], "orders": [], "entitlements": [], "refund_proposals": []}
    async with db.atomic():
        listings = await _derived_listings(number)
        ids = [row["id"] for row in listings]
        if not ids:
            return done
        seen = await _frozen(number, "listing")
        for row in listings:
            if row["status"] == "listed" and row["id"] not in seen:
                await listings_service.suspend(listing_id=row["id"], reason=why[:500])
                await MandateFreeze.insert(MandateFreeze(agreement_number=number, object_type="listing",
                                                         object_id=row["id"], previous="listed"))
                done["listings"].append(row["id"])
        seen = await _frozen(number, "entitlement")
        ents = await Entitlement.select().where(Entitlement.listing.is_in(ids), Entitlement.status == "active")
        for ent in ents:
            if ent["id"] in seen:
                continue
            await listings_service.suspend_entitlement(entitlement_id=ent["id"], reason=why[:500])
            await MandateFreeze.insert(MandateFreeze(agreement_number=number, object_type="entitlement",
                                                     object_id=ent["id"], previous="active"))
            done["entitlements"].append(ent["id"])
            if ent["ends_at"] is not None and ent["starts_at"] is not None and ent["amount_fen"] > 0:
                order = await Order.select(Order.id, Order.total_fen).where(Order.entitlement == ent["id"]).first()
                paid = order["total_fen"] if order else ent["amount_fen"]
                amount, remaining, term = pro_rata(paid_fen=paid, starts_at=ent["starts_at"],
                                                   ends_at=ent["ends_at"], now=now)
                rows = await RefundProposal.insert(RefundProposal(
                    agreement_number=number, entitlement=ent["id"], order_id=order["id"] if order else None,
                    buyer_org=ent["buyer"], paid_fen=paid, remaining_seconds=remaining, term_seconds=term,
                    amount_fen=amount)).returning(RefundProposal.id)
                await audit.record(action="mandate.refund_proposed", object_type="mandate_refund_proposal",
                                   object_id=rows[0]["id"],
                                   after={"entitlement": ent["id"], "amount_fen": amount, "paid_fen": paid,
                                          "remaining_seconds": remaining, "term_seconds": term})
                done["refund_proposals"].append(rows[0]["id"])
        seen = await _frozen(number, "order")
        orders = await Order.select(Order.id, Order.status, Order.buyer_org, Order.listing_title).where(
            Order.listing.is_in(ids), Order.status.is_in(list(OPEN_ORDERS)))
        for order in orders:
            if order["id"] in seen:
                continue
            await MandateFreeze.insert(MandateFreeze(agreement_number=number, object_type="order",
                                                     object_id=order["id"], previous=order["status"]))
            await audit.record(action="order.held", object_type="order", object_id=order["id"],
                               after={"agreement": number, "status": order["status"], "reason": why[:500]})
            await notifications.notify(kind="order.held", organization_id=order["buyer_org"],
                                       subject=f"订单 {order['id']}《{order['listing_title']}》暂停处理：{why}"[:200],
                                       link=f"/orders/{order['id']}")
            done["orders"].append(order["id"])
        if any(done.values()):
            await audit.record(action="mandate.frozen", object_type="agreement", object_id=agreement_id,
                               after={"number": number, **done})
            await notifications.notify(kind="mandate.frozen", organization_id=operator_org_id,
                                       subject=f"{why}：{len(done['listings'])} 个产品、{len(done['orders'])} 个订单、"
                                               f"{len(done['entitlements'])} 项使用权已冻结"[:200])
    return done


async def lift(*, agreement_id: int, number: str, operator_org_id: int, reason: str = "", **_) -> dict:
    """Restore exactly what the suspension froze (and is still as it was left)."""
    from billing.orders.tables import Order
    from listings import service as listings_service
    from listings.tables import Entitlement, Listing

    done = {"listings": [], "orders": [], "entitlements": []}
    async with db.atomic():
        rows = await MandateFreeze.select().where(MandateFreeze.agreement_number == number,
                                                  MandateFreeze.lifted_at.is_null()).order_by(MandateFreeze.id)
        for row in rows:
            kind, oid = row["object_type"], row["object_id"]
            if kind == "listing":
                current = await Listing.select(Listing.status).where(Listing.id == oid).first()
                if current and current["status"] == "suspended":  # not delisted by someone meanwhile
                    await listings_service.resume(listing_id=oid)
                    done["listings"].append(oid)
            elif kind == "entitlement":
                current = await Entitlement.select(Entitlement.status).where(Entitlement.id == oid).first()
                if current and current["status"] == "suspended":
                    await listings_service.resume_entitlement(entitlement_id=oid,
                                                              reason=f"授权运营协议 {number} 已恢复")
                    done["entitlements"].append(oid)
            else:
                order = await Order.select(Order.buyer_org, Order.listing_title).where(Order.id == oid).first()
                await audit.record(action="order.unheld", object_type="order", object_id=oid,
                                   after={"agreement": number})
                if order:
                    await notifications.notify(kind="order.unheld", organization_id=order["buyer_org"],
                                               subject=f"订单 {oid}《{order['listing_title']}》恢复处理"[:200],
                                               link=f"/orders/{oid}")
                done["orders"].append(oid)
            await MandateFreeze.update({MandateFreeze.lifted_at: datetime.now(timezone.utc)}).where(
                MandateFreeze.id == row["id"])
        if rows:
            await audit.record(action="mandate.lifted", object_type="agreement", object_id=agreement_id,
                               after={"number": number, "reason": reason, **done})
            await notifications.notify(kind="mandate.lifted", organization_id=operator_org_id,
                                       subject=f"授权运营协议 {number} 已恢复，冻结的产品、订单和使用权已恢复"[:200])
    return done


async def check_not_held(order_id: int) -> None:
    if await is_held(order_id):
        raise Conflict("order.held", "该订单所依据的授权运营协议已暂停，订单暂停处理")


def install() -> None:
    """Subscribe to agreement events (idempotent); billing.orders.tasks calls it in every process."""
    from operators import events

    events.subscribe(events.SUSPENDED, freeze)
    events.subscribe(events.RESUMED, lift)
