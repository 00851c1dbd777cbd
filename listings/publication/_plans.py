"""Creating a listing at a tier, its price plans (65号 shapes), the agency's caps on public data, and quotes."""

from __future__ import annotations

import json

from market import audit
from market import db
from market import identity
from market import notifications
from market.errors import Conflict
from market.errors import DomainError
from market.errors import NotFound
from listings import pricing
from listings.tables import DataAsset
from listings.tables import Listing
from listings.tables import ListingStatus
from listings.tables import PriceCap
from listings.tables import PricePlan
from listings.publication._common import _listed_column, PUBLIC_KINDS, _latest_done_version, _listing, _masked_sample, _now, _own_listing, _reindex, check_tier_rules


async def create_listing(*, asset_id: int, org_id: int, tier: str, delivery_mode: str, title: str, summary: str,
                         category_path: str, tags: list[str], update_cycle: str, sharing_type: str, open_type: str,
                         plans: list[pricing.PlanSpec]) -> dict:
    """List a profiled asset at one tier, as a draft with its price plans."""
    import asyncio

    async with db.atomic():
        asset = await DataAsset.select().where(DataAsset.id == asset_id).first()
        if asset is None or asset["holder"] != org_id:
            raise NotFound("asset.not_found", "数据资源不存在")
        version = await _latest_done_version(asset_id)
        if version is None or not version["row_count"]:
            raise DomainError("listing.no_data", "数据还没有可用的版本（上传后需要分析完成），不能上架空数据")
        check_tier_rules(tier=tier, delivery_mode=delivery_mode, grade=asset["grade"], sharing_type=sharing_type)
        if await Listing.exists().where((Listing.asset == asset_id) & (Listing.tier == tier)
                                        & (Listing.status != ListingStatus.DELISTED.value)):
            raise Conflict("listing.tier_exists", "该数据资源已在这一层级上架或正在审核")
        if not plans:
            raise DomainError("listing.no_plan", "请至少设置一个价格方案")
        for spec in plans:
            pricing.validate_plan(spec, tier=tier)
        holder = await identity.get_organization(org_id)
        profile = json.loads(version["profile"])
        sample = await asyncio.to_thread(_masked_sample, version)
        rows = await Listing.insert(Listing(
            asset=asset_id, holder=org_id, holder_name=holder["name"], tier=tier, delivery_mode=delivery_mode,
            title=title, summary=summary, category_path=category_path,
            tags=json.dumps(tags, ensure_ascii=False),
            columns=json.dumps([_listed_column(c) for c in profile["columns"]],
                               ensure_ascii=False),
            update_cycle=update_cycle, sharing_type=sharing_type, open_type=open_type, grade=asset["grade"],
            public_data=holder["kind"] in PUBLIC_KINDS, quality_score=json.loads(version["quality"])["score"],
            row_count=version["row_count"], data_version=version["number"], data_updated_at=version["created_at"],
            sample=json.dumps(sample, ensure_ascii=False),
            min_price_fen=min(pricing.list_price(p) for p in plans),
        )).returning(Listing.id)
        listing_id = rows[0]["id"]
        for spec in plans:
            await _insert_plan(listing_id, spec)
        await audit.record(action="listing.created", object_type="listing", object_id=listing_id,
                           after={"asset_id": asset_id, "tier": tier, "delivery_mode": delivery_mode,
                                  "title": title, "plans": [p.kind for p in plans]})
    return await _listing(listing_id)


async def _insert_plan(listing_id: int, spec: pricing.PlanSpec) -> int:
    rows = await PricePlan.insert(PricePlan(
        listing=listing_id, kind=spec.kind, name=spec.name.strip(), price_fen=spec.price_fen,
        unit_fen=spec.unit_fen, months=spec.months, calls=spec.calls, billing_unit=spec.billing_unit,
        revision_access=spec.revision_access, tiers=json.dumps([{"up_to": u, "unit_fen": p} for u, p in spec.tiers]),
    )).returning(PricePlan.id)
    return rows[0]["id"]


async def current_cap(listing_id: int) -> int | None:
    cap = await (PriceCap.select(PriceCap.cap_fen).where(PriceCap.listing == listing_id)
                 .order_by(PriceCap.id, ascending=False).first())
    return cap["cap_fen"] if cap else None


async def add_plan(*, listing_id: int, org_id: int, spec: pricing.PlanSpec) -> int:
    """Add a price plan; refused above the agency's cap for public data."""
    async with db.atomic():
        listing = await _own_listing(listing_id, org_id)
        pricing.validate_plan(spec, tier=listing["tier"])
        if listing["public_data"]:
            pricing.check_cap(spec, await current_cap(listing_id))
        plan_id = await _insert_plan(listing_id, spec)
        await _refresh_min_price(listing_id)
        await audit.record(action="listing.plan_added", object_type="listing", object_id=listing_id,
                           after={"plan_id": plan_id, "kind": spec.kind, "price_fen": spec.price_fen,
                                  "unit_fen": spec.unit_fen})
    await _reindex(listing_id)
    return plan_id


async def _refresh_min_price(listing_id: int) -> None:
    plans = await PricePlan.select().where((PricePlan.listing == listing_id) & (PricePlan.active == True))  # noqa: E712
    prices = [pricing.list_price(pricing.spec_from_row(p)) for p in plans]
    await Listing.update({Listing.min_price_fen: min(prices) if prices else 0, Listing.updated_at: _now()}).where(
        Listing.id == listing_id)


async def plans_of(listing_id: int, *, active_only: bool = True) -> list[dict]:
    query = PricePlan.select().where(PricePlan.listing == listing_id)
    if active_only:
        query = query.where(PricePlan.active == True)  # noqa: E712
    return await query.order_by(PricePlan.id)


async def set_cap(*, listing_id: int, agency_org_id: int, cap_fen: int, basis: str,
                  billing_unit: str = "per_product") -> None:
    """The agency sets the 上限收费标准 of a public-data listing; plans above it stop being sold."""
    if isinstance(cap_fen, bool) or not isinstance(cap_fen, int) or cap_fen < 0:
        raise DomainError("price.cap_invalid", "上限收费标准必须是非负整数（单位：分）")
    if len((basis or "").strip()) < 2:
        raise DomainError("price.cap_basis_required", "请注明上限收费标准的依据（文件或测算说明）")
    async with db.atomic():
        listing = await _listing(listing_id)
        if not listing["public_data"]:
            raise DomainError("price.cap_not_public", "只有公共数据产品适用上限收费标准")
        previous = await current_cap(listing_id)
        await PriceCap.insert(PriceCap(listing=listing_id, agency=agency_org_id, cap_fen=cap_fen,
                                       billing_unit=billing_unit, basis=basis.strip()))
        withdrawn = []
        for plan in await plans_of(listing_id):
            spec = pricing.spec_from_row(plan)
            if pricing.comparable_price(spec) > cap_fen:
                await PricePlan.update({PricePlan.active: False}).where(PricePlan.id == plan["id"])
                withdrawn.append(plan["id"])
        await _refresh_min_price(listing_id)
        await audit.record(action="listing.cap_set", object_type="listing", object_id=listing_id,
                           before={"cap_fen": previous}, after={"cap_fen": cap_fen, "basis": basis.strip(),
                                                                "plans_withdrawn": withdrawn})
        if withdrawn:
            await notifications.notify(kind="listing.plans_withdrawn", organization_id=listing["holder"],
                                       subject=f"《{listing['title']}》有 {len(withdrawn)} 个价格方案超过新的上限收费标准，已停止销售",
                                       link=f"/listings/{listing_id}")
    await _reindex(listing_id)


async def quote(*, listing_id: int, plan_id: int, purpose: str, calls: int = 0):
    """The price of a plan for a purpose (Money)."""
    listing = await _listing(listing_id)
    plan = await PricePlan.select().where((PricePlan.id == plan_id) & (PricePlan.listing == listing_id)).first()
    if plan is None or not plan["active"]:
        raise NotFound("price.plan_not_found", "价格方案不存在或已停售")
    cap = await current_cap(listing_id) if listing["public_data"] else None
    return pricing.quote(pricing.spec_from_row(plan), purpose=purpose, calls=calls, cap_fen=cap)


# ---- review and publication -----------------------------------------------------------------
