"""Creating an order: every check before anything is written, then the terms frozen in one row.

What could not be delivered is refused here, before anything is charged: a listing not on sale, data
graded 核心, a raw tier as a file, a plan of another listing, a holder buying its own data, a wrong
purpose, a price above the agency's cap. The same Idempotency-Key from the same buyer returns the
same order (the API answers 201 the first time and 200 after); the same key with a different body
is refused.

Approval: the holder vets the buyer when `listings.service.needs_approval` says so. A zero price is
a claim in all but name and goes through that rule unchanged (free-by-purpose must be believed). A
paid order goes through the listing's own conditions only (conditionally shared, or not 一般 grade),
which are the rule for a free plan: the buyer's money is no reason to skip vetting, nor to add it.

Countersigning: an order the holder did not need to vet was on a standard plan the holder offers to
anyone, so the holder countersigns automatically when the contract's PDF is ready; an order it
vetted is signed by the holder in person (it may want to read what it agreed to).
"""

from __future__ import annotations

import calendar
import hashlib
import json

from billing import commission
from billing.orders import _common
from billing.orders.tables import Order, OrderStatus
from contracts import service as contracts_service
from listings import pricing
from listings import service as listings_service
from listings.tables import DataAsset, Listing, PricePlan
from market import audit, db, identity, notifications, runtime
from market.errors import Conflict, DomainError, NotFound
from market.money import Money
from operators import service as operators_service

GRADES = ("general", "important", "core")
MAX_NOTE = 500


def _digest(**request) -> str:
    return hashlib.sha256(json.dumps(request, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _key(idempotency_key: str | None) -> str:
    key = (idempotency_key or "").strip()
    if not key or len(key) > 200 or not key.isprintable():
        raise DomainError("order.idempotency_key_required",
                          "请在请求头 Idempotency-Key 中提供幂等键（1 到 200 个可见字符）")
    return key


async def _replay(scope: str, digest: str) -> dict | None:
    row = await Order.select().where(Order.idempotency_scope == scope).first()
    if row is not None and row["request_digest"] != digest:
        raise Conflict("order.idempotency_mismatch", "幂等键 {key} 已用于另一笔不同的订单", key=row["idempotency_key"])
    return row


async def _listing_and_plan(listing_id: int, plan_id: int, buyer_org_id: int) -> tuple[dict, dict]:
    listing = await Listing.select().where(Listing.id == listing_id).first()
    if listing is None:
        raise NotFound("listing.not_found", "上架记录不存在")
    if listing["status"] != "listed":
        raise DomainError("order.not_on_sale", "该数据目前不在售（已暂停、下架或尚未上架），不能下单")
    plan = await PricePlan.select().where(PricePlan.id == plan_id).first()
    if plan is not None and plan["listing"] != listing_id:
        raise DomainError("order.plan_of_other_listing", "所选价格方案不属于该数据产品")
    if plan is None or not plan["active"]:
        raise NotFound("price.plan_not_found", "价格方案不存在或已停售")
    if listing["holder"] == buyer_org_id:
        raise DomainError("order.own_data", "这是本机构的数据，不能向自己下单")
    asset = await DataAsset.select(DataAsset.grade).where(DataAsset.id == listing["asset"]).first()
    # 就高从严: the asset's grade may have been raised since the listing was approved
    grade = max(listing["grade"], asset["grade"] if asset else "general", key=GRADES.index)
    if grade == "core":
        raise DomainError("order.core_data", "该数据已定为核心数据，不对外提供，不能下单")
    if listing["tier"] == "raw" and listing["delivery_mode"] == "file":
        raise DomainError("order.raw_as_file", "原始数据不出域，不能以文件方式交付，不能下单")
    # the platform's other delivery rules, as at listing (重要 data never as a file, …)
    listings_service.check_tier_rules(tier=listing["tier"], delivery_mode=listing["delivery_mode"], grade=grade,
                                      sharing_type=listing["sharing_type"])
    if listing["delivery_mode"] == "file" and await listings_service.file_refusal(listing_id) is not None:
        # the download would refuse it (personal information, a grade raised since listing): refuse the
        # order now, before anything is signed or charged
        raise DomainError("order.file_not_deliverable",
                          "该数据含个人信息或重要数据，不能以文件方式交付，因此不能下单")
    return {**listing, "grade": grade}, plan


def _plan_terms(plan: dict) -> dict:
    return {"name": plan["name"], "kind": plan["kind"], "months": plan["months"], "calls": plan["calls"],
            "price_fen": plan["price_fen"], "unit_fen": plan["unit_fen"], "billing_unit": plan["billing_unit"],
            "revision_access": plan["revision_access"], "tiers": json.loads(plan["tiers"] or "[]")}


def _party(org: dict) -> dict:
    # organizations do not record addresses or bank details yet; the contract prints them when known
    return {"org_id": org["id"], "name": org["name"], "credit_code": org["credit_code"], "address": "",
            "bank_name": "", "bank_account": ""}


async def create_order(*, listing_id: int, plan_id: int, purpose: str, purpose_note: str = "",
                       quantity: int | None = None, buyer_org_id: int, user_id: int | None,
                       idempotency_key: str | None) -> tuple[dict, bool]:
    """Order a plan for a purpose; (order, created). The same key returns the same order, created False."""
    key = _key(idempotency_key)
    note = (purpose_note or "").strip()
    scope = f"{buyer_org_id}:{key}"
    digest = _digest(listing_id=listing_id, plan_id=plan_id, purpose=purpose, purpose_note=note, quantity=quantity)
    existing = await _replay(scope, digest)
    if existing is not None:
        return existing, False
    if purpose not in pricing.PURPOSES:
        raise DomainError("price.purpose_invalid", "请选择用途：公共治理、公益事业、产业发展或行业发展")
    if len(note) > MAX_NOTE:
        raise DomainError("order.note_too_long", "用途说明不能超过 {n} 个字", n=MAX_NOTE)
    listing, plan = await _listing_and_plan(listing_id, plan_id, buyer_org_id)
    # a derived product is sold under its operator's mandate: in force, this purpose, this tier (27号)
    mandate = await operators_service.check_sale(asset_id=listing["asset"], purpose=purpose, tier=listing["tier"])
    qty = listings_service.check_quantity(plan, quantity)  # the rule the entitlement applies when granted
    unit = await listings_service.quote(listing_id=listing_id, plan_id=plan_id, purpose=purpose)  # cap enforced
    cap = await listings_service.current_cap(listing_id) if listing["public_data"] else None
    settings = runtime.settings()
    amount = Money(unit.amount * qty)
    tax = amount.apply_bps(settings.vat_bps)
    rates = commission.rates_from(settings)
    buyer = await identity.get_organization(buyer_org_id)
    holder = await identity.get_organization(listing["holder"])
    if buyer["verification"] != "verified":
        raise DomainError("order.buyer_unverified", "本机构尚未通过平台核验，核验后才能下单签约")
    approval = listings_service.needs_approval(listing, plan) if amount.amount == 0 else \
        listings_service.needs_approval(listing, {**plan, "kind": "free"})
    async with db.atomic():
        rows = await Order.insert(Order(
            listing=listing_id, listing_title=listing["title"], tier=listing["tier"],
            delivery_mode=listing["delivery_mode"], data_version=listing["data_version"],
            registration_code=listing["registration_code"], plan=plan_id,
            plan_terms=json.dumps(_plan_terms(plan), ensure_ascii=False, sort_keys=True),
            purpose=purpose, purpose_note=note, quantity=qty, unit_price_fen=unit.amount, amount_fen=amount.amount,
            tax_rate_bps=settings.vat_bps, tax_fen=tax.amount, total_fen=(amount + tax).amount, cap_fen=cap,
            commission_bps=rates.commission_bps(listing["tier"]), fund_share_bps=rates.fund_share_bps,
            buyer_org=buyer_org_id, buyer_user=user_id, buyer_name=buyer["name"],
            buyer_credit_code=buyer["credit_code"], holder_org=holder["id"], holder_name=holder["name"],
            holder_credit_code=holder["credit_code"],
            parties=json.dumps({"buyer": _party(buyer), "holder": _party(holder)}, ensure_ascii=False),
            idempotency_key=key, idempotency_scope=scope, request_digest=digest,
        )).on_conflict(target=Order.idempotency_scope, action="DO NOTHING").returning(Order.id)
        if not rows:
            # the same key arrived twice at once: the other request created the order
            return await _replay(scope, digest), False
        order_id = rows[0]["id"]
        await audit.record(action="order.created", object_type="purchase_order", object_id=order_id,
                           after={"listing": listing_id, "plan": plan_id, "purpose": purpose, "quantity": qty,
                                  "amount_fen": amount.amount, "tax_fen": tax.amount,
                                  "total_fen": (amount + tax).amount, "buyer": buyer_org_id,
                                  "mandate": mandate["number"] if mandate else None})
        if approval:
            await db.transition(Order, order_id, to=OrderStatus.AWAITING_APPROVAL, action="order.awaiting_approval")
            await notifications.notify(kind="order.awaiting_approval", organization_id=holder["id"],
                                       subject=f"《{listing['title']}》收到订单，请审核买方与用途",
                                       link=f"/orders/{order_id}")
        else:
            await to_signature(order_id, auto_countersign=True)
        return await _common.get(order_id), True


# what one of the quantity is, as the contract prints it
_UNITS = {"subscription": "期", "call_pack": "包"}


def contract_terms(order: dict) -> dict:
    """The order's frozen terms as the purchase contract prints them."""
    parties = json.loads(order["parties"])
    plan = json.loads(order["plan_terms"])
    settings = runtime.settings()
    start = _common.now().date()
    if plan["kind"] == "subscription" and plan["months"]:
        # calendar months, clamped to the month's end, as the entitlement counts its term: every period bought
        month = start.month - 1 + plan["months"] * order["quantity"]
        year, month = start.year + month // 12, month % 12 + 1
        end = start.replace(year=year, month=month, day=min(start.day, calendar.monthrange(year, month)[1]))
        term = {"start": start.isoformat(), "end": end.isoformat()}
    else:
        term = {"one_time": True}
    return {
        "buyer": parties["buyer"], "holder": parties["holder"],
        "platform": {"name": settings.collection_account_name, "credit_code": ""},
        "product": {"listing_id": order["listing"], "title": order["listing_title"],
                    "registration_code": order["registration_code"] or "—", "version": f"v{order['data_version']}",
                    "tier": order["tier"], "delivery_mode": order["delivery_mode"], "plan_name": plan["name"]},
        "purpose": order["purpose"], "purpose_note": order["purpose_note"], "term": term,
        "quantity": order["quantity"], "unit": _UNITS.get(plan["kind"], "份"),
        "price": {"amount_fen": order["amount_fen"], "tax_fen": order["tax_fen"], "total_fen": order["total_fen"],
                  "tax_rate_bps": order["tax_rate_bps"]},
        "revision_access": plan["revision_access"] if plan["revision_access"] in ("all", "from_start") else "all",
        "order_ref": _common.ref(order["id"]),
    }


async def to_signature(order_id: int, *, auto_countersign: bool) -> dict:
    """Draft the contract from the frozen terms and wait for signatures (caller's transaction)."""
    order = await _common.get(order_id)
    contract = await contracts_service.draft_purchase_contract(terms=contract_terms(order),
                                                               auto_countersign=auto_countersign)
    return await db.transition(Order, order_id, to=OrderStatus.AWAITING_SIGNATURE, action="order.awaiting_signature",
                               extra={Order.contract: contract["id"]},
                               audit_after={"contract": contract["id"], "auto_countersign": auto_countersign})


async def approve(*, order_id: int, org_id: int, note: str = "") -> dict:
    """The holder accepts the buyer and purpose: the contract is drafted for both to sign."""
    async with db.atomic():
        order = await _common.as_holder(order_id, org_id)
        if order["status"] != OrderStatus.AWAITING_APPROVAL.value:
            raise Conflict("order.not_awaiting_approval", "该订单不在待审核状态")
        await Order.update({Order.approved_at: _common.now(), Order.decision_note: (note or "").strip()[:500]}).where(
            Order.id == order_id)
        await to_signature(order_id, auto_countersign=False)
        await notifications.notify(kind="order.approved", organization_id=order["buyer_org"],
                                   subject=f"《{order['listing_title']}》的订单已通过审核，请签署合同",
                                   link=f"/orders/{order_id}")
        return await _common.get(order_id)


async def decline(*, order_id: int, org_id: int, reason: str) -> dict:
    """The holder refuses the buyer or the purpose, with a reason the buyer reads."""
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise DomainError("order.reason_required", "请填写理由")
    async with db.atomic():
        order = await _common.as_holder(order_id, org_id)
        if order["status"] != OrderStatus.AWAITING_APPROVAL.value:
            raise Conflict("order.not_awaiting_approval", "该订单不在待审核状态")
        await db.transition(Order, order_id, to=OrderStatus.DECLINED, action="order.declined",
                            extra={Order.decision_note: reason[:500], Order.closed_at: _common.now()},
                            audit_after={"reason": reason[:500]})
        await notifications.notify(kind="order.declined", organization_id=order["buyer_org"],
                                   subject=f"《{order['listing_title']}》的订单未通过审核：{reason[:100]}",
                                   link=f"/orders/{order_id}")
        return await _common.get(order_id)
