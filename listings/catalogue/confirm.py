"""The one-page confirmation after an upload: accept the suggested catalogue, pick tiers, submit.

Everything is pre-filled from the profile (listings.catalogue); the holder types at most five
things. Each chosen tier becomes a listing with a default plan and goes straight to review.
"""

from __future__ import annotations

import json

from market import audit, db, identity
from market.errors import DomainError
from listings import pricing
from listings.assets.service import _owned_asset, _now
from listings.publication.service import _latest_done_version, create_listing, submit
from listings.tables import DataAsset

DEFAULT_DELIVERY = {"raw": "sandbox", "cleaned": "api", "product": "api"}


async def suggestion(*, asset_id: int, org_id: int) -> dict:
    """What the system proposes for the asset's catalogue fields, from its latest profile."""
    from listings import catalogue

    asset = await _owned_asset(asset_id, org_id)
    version = await _latest_done_version(asset_id)
    if version is None:
        raise DomainError("listing.no_data", "数据还没有可用的版本（上传后需要分析完成），不能上架空数据")
    holder = await identity.get_organization(org_id)
    profile = json.loads(version["profile"])
    suggested = catalogue.suggest(filename=version["filename"], title=None if asset["title"] == "" else asset["title"],
                                  profile=profile, holder_name=holder["name"], holder_kind=holder["kind"],
                                  grade=asset["grade"], personal=asset["personal"])
    quality = json.loads(version["quality"])
    suggested["cleaned_price_fen"] = pricing.suggest_cleaned_price(quality_score=quality["score"],
                                                                   row_count=version["row_count"])
    suggested["public_data"] = holder["kind"] in ("government", "institution")
    suggested["grade"] = asset["grade"]
    return suggested


async def update_catalogue(*, asset_id: int, org_id: int, fields: dict) -> dict:
    """Save the holder's confirmed catalogue fields on the asset (audited)."""
    from listings import catalogue

    asset = await _owned_asset(asset_id, org_id)
    clean = dict(catalogue.validate(fields, grade=asset["grade"], personal=asset["personal"]))
    path = clean.get("category_path") or []
    clean["category_path"] = " > ".join(path) if isinstance(path, (list, tuple)) else str(path)
    clean.setdefault("summary", "")
    clean.setdefault("tags", [])
    clean.setdefault("update_cycle", "other")
    clean.setdefault("sharing_type", fields.get("sharing_type") or "conditional")
    clean.setdefault("open_type", fields.get("open_type") or "conditional")
    async with db.atomic():
        values = {
            DataAsset.title: clean["title"], DataAsset.summary: clean["summary"],
            DataAsset.category_path: clean["category_path"], DataAsset.tags: json.dumps(clean["tags"], ensure_ascii=False),
            DataAsset.update_cycle: clean["update_cycle"], DataAsset.sharing_type: clean["sharing_type"],
            DataAsset.open_type: clean["open_type"], DataAsset.updated_at: _now(),
        }
        await DataAsset.update(values).where(DataAsset.id == asset_id)
        await audit.record(action="asset.catalogued", object_type="data_asset", object_id=asset_id,
                           before={k: asset[k] for k in ("title", "category_path", "update_cycle", "sharing_type")},
                           after={k: clean[k] for k in ("title", "category_path", "update_cycle", "sharing_type")})
    return clean


async def confirm_and_submit(*, asset_id: int, org_id: int, fields: dict, tiers: list[str],
                             product_price_fen: int | None = None, cleaned_price_fen: int | None = None) -> list[dict]:
    """Confirm the catalogue and list the asset at the chosen tiers, each submitted for review."""
    if not tiers:
        raise DomainError("listing.no_tier", "请至少选择一个上架层级")
    clean = await update_catalogue(asset_id=asset_id, org_id=org_id, fields=fields)
    plans_by_tier = {
        "raw": [pricing.PlanSpec(kind="free", name="免费使用（沙箱内，原始数据不出域）", billing_unit="per_product")],
        "cleaned": [pricing.PlanSpec(kind="subscription", name="年度订阅", months=12, billing_unit="per_period",
                                     price_fen=cleaned_price_fen or 0)],
        "product": [pricing.PlanSpec(kind="one_time", name="按次购买", billing_unit="per_product",
                                     price_fen=product_price_fen or 0)],
    }
    created = []
    async with db.atomic():
        for tier in tiers:
            if tier not in plans_by_tier:
                raise DomainError("listing.tier_invalid", "层级只能是原始数据、治理后数据或数据产品")
            if tier == "product" and not product_price_fen:
                raise DomainError("price.missing", "请填写价格")
            listing = await create_listing(
                asset_id=asset_id, org_id=org_id, tier=tier, delivery_mode=DEFAULT_DELIVERY[tier],
                title=clean["title"] if tier != "product" else f"{clean['title']}（数据产品）",
                summary=clean["summary"], category_path=clean["category_path"], tags=clean["tags"],
                update_cycle=clean["update_cycle"], sharing_type=clean["sharing_type"], open_type=clean["open_type"],
                plans=plans_by_tier[tier])
            created.append(await submit(listing_id=listing["id"], org_id=org_id))
    return created
