"""Demo catalogue for `market demo`: the generated tables of listings.demo.tables, uploaded,
profiled, catalogued and listed at their tiers through the same services a holder uses, so the
demo shows what the product really does (including GBK files, title rows and masked personal data).
Idempotent: a table whose asset already exists for its holder is skipped.
"""

from __future__ import annotations

import tempfile
import zlib
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from market import runtime
from market.config import Settings
from market.context import Actor, acting_as
from listings import pricing, service
from listings.tables import DataAsset

# which demo organization holds each table: the department the data naturally belongs to
HOLDER_BY_CATEGORY = {
    "市场监管": "market_supervision", "综合统计": "statistics", "教育": "education",
    "城乡建设": "housing",
}
HOLDER_BY_KEY = {
    "air_quality_daily": "ecology", "monitoring_stations": "ecology", "water_quality_monthly": "ecology",
    "weather_daily": "meteorology", "housing_fund_monthly": "housing_fund",
    "medical_insurance_monthly": "medical_insurance",
}
# left in the review queue so the admin has something to do in the demo
LEFT_FOR_REVIEW = {"enterprise_credit", "parking_realtime"}


def _holder_key(table) -> str:
    if table.holder != "agency":
        return table.holder
    return HOLDER_BY_KEY.get(table.key) or HOLDER_BY_CATEGORY.get(table.category_hint.split(" > ")[0], "statistics")


def _price_fen(table, tier: str) -> int:
    """A stable, plausible price per table and tier (whole yuan)."""
    seed = zlib.crc32(f"{table.key}:{tier}".encode())
    if tier == "product":
        return (2_000 + seed % 18_000) * 100  # ¥2,000 – ¥20,000
    return (500 + seed % 4_500) * 100


async def _category(table, asset_id: int, org_id: int) -> str:
    """The table's own category when the shipped tree has it, else what the catalogue suggests."""
    from listings import catalogue
    from market.errors import DomainError

    try:
        catalogue.validate({"title": table.title, "category_path": table.category_hint})
        return table.category_hint
    except DomainError:
        suggested = await service.suggestion(asset_id=asset_id, org_id=org_id)
        return " > ".join(suggested["category_path"])


async def load_demo(settings: Settings, org_ids: dict[str, int], user_ids: dict[str, int]) -> list[str]:
    from listings.demo.tables import demo_tables
    from market import jobs

    lines: list[str] = []
    todo = []
    for table in demo_tables():
        holder_key = _holder_key(table)
        org_id = org_ids[holder_key]
        if await DataAsset.exists().where((DataAsset.holder == org_id) & (DataAsset.title == table.title)):
            continue
        todo.append((table, holder_key, org_id))
    if not todo:
        return lines

    # the demo runs its own in-process worker, whatever broker production uses
    runtime_jobs = jobs.JobRuntime(replace(settings, broker_url=""), with_worker=True, with_dispatcher=False)
    await runtime_jobs.start()
    try:
        with tempfile.TemporaryDirectory(prefix="demo-tables-") as tmp:
            uploaded = []
            for table, holder_key, org_id in todo:
                path = Path(tmp) / table.filename
                table.write(path)
                user_id = user_ids[holder_key]
                with acting_as(Actor(user_id=user_id, org_id=org_id, label="demo")), path.open("rb") as fh:
                    result = await service.upload(storage=runtime.storage(), holder_org_id=org_id, user_id=user_id,
                                                  stream=fh, filename=table.filename)
                uploaded.append((table, holder_key, org_id, user_id, result["id"]))
            await runtime_jobs.drain(timeout=600)
    finally:
        await runtime_jobs.stop()

    now = datetime.now(timezone.utc)
    listed = 0
    for table, holder_key, org_id, user_id, asset_id in uploaded:
        data = await service.get_asset(asset_id=asset_id)
        if data["version"]["profile_status"] != "done":
            lines.append(f"! {table.title}: {data['version']['error_code']}")
            continue
        category = await _category(table, asset_id, org_id)
        with acting_as(Actor(user_id=user_id, org_id=org_id, label="demo")):
            await service.update_catalogue(asset_id=asset_id, org_id=org_id, fields={
                "title": table.title, "summary": table.summary, "category_path": category,
                "tags": list(table.tags), "update_cycle": table.update_cycle,
                "sharing_type": "conditional" if data["asset"]["personal"] else "unconditional",
                "open_type": "conditional" if data["asset"]["personal"] else "unconditional"})
            for tier in table.tiers:
                delivery = table.delivery if table.delivery in pricing.TIER_DELIVERY[tier] else "sandbox"
                if data["asset"]["grade"] == "important" and delivery == "file":
                    delivery = "sandbox"
                if tier == "raw":
                    plans = [pricing.PlanSpec(kind="free", name="免费使用（沙箱内，原始数据不出域）")]
                elif tier == "cleaned":
                    plans = [pricing.PlanSpec(kind="subscription", name="年度订阅", months=12,
                                              billing_unit="per_period", price_fen=_price_fen(table, tier)),
                             pricing.PlanSpec(kind="call_pack", name="10 万次调用包", calls=100_000,
                                              billing_unit="per_call",
                                              tiers=((20_000, 5), (60_000, 4), (None, 3)))]
                else:
                    plans = [pricing.PlanSpec(kind="one_time", name="按次购买", price_fen=_price_fen(table, tier)),
                             pricing.PlanSpec(kind="base_usage", name="基础费+按量", price_fen=_price_fen(table, tier) // 2,
                                              unit_fen=2, calls=50_000, billing_unit="per_call")]
                title = table.title if tier != "product" else f"{table.title}（数据产品）"
                listing = await service.create_listing(
                    asset_id=asset_id, org_id=org_id, tier=tier, delivery_mode=delivery, title=title,
                    summary=table.summary, category_path=category, tags=list(table.tags),
                    update_cycle=table.update_cycle,
                    sharing_type="conditional" if data["asset"]["personal"] else "unconditional",
                    open_type="conditional" if data["asset"]["personal"] else "unconditional", plans=plans)
                if listing["public_data"] and any(pricing.list_price(p) for p in plans):
                    with acting_as(Actor(org_id=org_ids["agency"], label="demo")):
                        cap = max(pricing.comparable_price(p) for p in plans) * 12 // 10
                        await service.set_cap(listing_id=listing["id"], agency_org_id=org_ids["agency"],
                                              cap_fen=cap, basis="杭州市公共数据授权运营上限收费标准（示范）")
                await service.submit(listing_id=listing["id"], org_id=org_id)
                if table.key in LEFT_FOR_REVIEW:
                    continue
                with acting_as(Actor(org_id=org_ids["admin"], label="demo")):
                    await service.approve(listing_id=listing["id"], note="示范数据，审核通过", notice_days=0)
                listed += 1
    with acting_as(Actor(org_id=org_ids["admin"], label="demo")):
        await service.close_notices(now=now + timedelta(seconds=1))
    lines.append(f"catalogue: {len(uploaded)} tables uploaded and profiled, {listed} listings on sale")
    return lines
