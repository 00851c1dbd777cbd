"""Listings: an asset offered at a tier, with price plans, through review and public notice to sale.

draft → submitted → (platform review) → notice (公示, objections may be filed) → listed;
listed ⇄ suspended; → delisted. Every move goes through `db.transition` and is audited; the
search index follows every move.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from datetime import datetime, timedelta, timezone

from market import audit, db, identity, notifications, runtime
from market.errors import Conflict, DomainError, Forbidden, NotFound
from market.i18n import N_
from listings import pricing
from listings.service._entitlements import tell_buyers, version_published
from listings.tables import (
    AssetVersion,
    DataAsset,
    Listing,
    ListingStatus,
    Objection,
    PriceCap,
    PricePlan,
    ProfileStatus,
)

AGENCY_ITEMS = frozenset({"cap_for_paid_public_data"})
NOTICE_DAYS = 5  # 公示期, overridable per call (configuration lives with the caller)
SAMPLE_ROWS = 10
PUBLIC_KINDS = ("government", "institution")  # their data is public data: 65号 caps apply


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _listed_column(col: dict) -> dict:
    """A column as a listing's 信息项 shows it: name, type, and the unit of amounts (万元, 元 …)."""
    out = {"name": col["name"], "type": col.get("type")}
    if col.get("unit"):
        out["unit"] = col["unit"]
    return out


async def _reindex(listing_id: int) -> None:
    from listings import search

    await search.index_listing(listing_id)


async def _listing(listing_id: int) -> dict:
    row = await Listing.select().where(Listing.id == listing_id).first()
    if row is None:
        raise NotFound("listing.not_found", "上架记录不存在")
    return row


async def _own_listing(listing_id: int, org_id: int) -> dict:
    row = await _listing(listing_id)
    if row["holder"] != org_id:
        raise Forbidden("listing.not_yours", "只有数据持有方本机构可以操作该上架记录")
    return row


async def _latest_done_version(asset_id: int) -> dict | None:
    return await (AssetVersion.select().where(
        (AssetVersion.asset == asset_id) & (AssetVersion.profile_status == ProfileStatus.DONE.value))
        .order_by(AssetVersion.number, ascending=False).first())


def _masked_sample(version: dict) -> list[dict]:
    """The first rows of the prepared table, with every personal column masked (sync: reads storage)."""
    from listings.masking import mask_rows

    if not version.get("prepared_key"):
        return []
    buf = bytearray()
    for chunk in runtime.storage().open(version["prepared_key"]):
        buf.extend(chunk)
        if buf.count(b"\n") > SAMPLE_ROWS + 1 or len(buf) > 256 * 1024:
            break
    text = bytes(buf).decode("utf-8", errors="ignore")
    rows = list(itertools.islice(csv.DictReader(io.StringIO(text)), SAMPLE_ROWS))
    if len(rows) < SAMPLE_ROWS and rows and not text.endswith("\n"):
        rows.pop()  # the read stopped mid-row: drop the partial last row
    return mask_rows(rows, json.loads(version["profile"])) if rows else []


def check_tier_rules(*, tier: str, delivery_mode: str, grade: str, sharing_type: str) -> None:
    """The platform's security defaults: the grade and tier decide what may leave and how."""
    from listings.classification import may_list

    ok, reason = may_list(grade, sharing_type)
    if not ok:
        raise DomainError("listing.not_listable", reason or "该数据不能上架")
    if tier not in pricing.TIER_DELIVERY:
        raise DomainError("listing.tier_invalid", "层级只能是原始数据、治理后数据或数据产品")
    if delivery_mode not in pricing.TIER_DELIVERY[tier]:
        raise DomainError("listing.delivery_not_for_tier",
                          "原始数据不出域：原始数据只能以沙箱（可用不可见）或核验服务方式交付")
    if grade == "important" and delivery_mode == "file":
        raise DomainError("listing.important_no_file", "重要数据只能以聚合结果、模型或核验结果的方式提供，不能下载文件")


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


async def submit(*, listing_id: int, org_id: int) -> dict:
    """The holder submits a draft for platform review."""
    await _own_listing(listing_id, org_id)
    # the cap is the agency's to set while the listing is under review: it blocks approval, not submission
    problems = [i for i in await review_checklist(listing_id)
                if i["blocking"] and not i["ok"] and i["code"] not in AGENCY_ITEMS]
    if problems:
        raise DomainError("listing.not_ready", "还不能提交：{problems}",
                          problems="；".join(i["label"] for i in problems))
    async with db.atomic():
        row = await db.transition(Listing, listing_id, to=ListingStatus.SUBMITTED, action="listing.submitted")
        await _reindex(listing_id)
    return row


async def review_checklist(listing_id: int) -> list[dict]:
    """The compliance and quality checklist the reviewer sees (computed, never typed)."""
    from listings.classification import may_list

    listing = await _listing(listing_id)
    asset = await DataAsset.select().where(DataAsset.id == listing["asset"]).first()
    version = await _latest_done_version(listing["asset"])
    plans = await plans_of(listing_id)
    cap = await current_cap(listing_id) if listing["public_data"] else None
    listable, _ = may_list(asset["grade"], listing["sharing_type"])
    paid = [p for p in plans if pricing.list_price(pricing.spec_from_row(p)) > 0]
    items = [
        ("has_data", N_("有可用数据（分析完成且非空）"), version is not None and version["row_count"] > 0, True),
        ("listable_grade", N_("分级与共享类型允许上架（非核心数据、非不予共享）"), listable, True),
        ("delivery_fits_tier", N_("交付方式符合层级与分级要求"),
         listing["delivery_mode"] in pricing.TIER_DELIVERY[listing["tier"]]
         and not (asset["grade"] == "important" and listing["delivery_mode"] == "file"), True),
        ("has_plan", N_("至少有一个在售价格方案"), bool(plans), True),
        ("cap_for_paid_public_data", N_("公共数据收费方案已有上限收费标准"),
         not (listing["public_data"] and paid) or cap is not None, True),
        ("within_cap", N_("价格不超过上限收费标准"),
         cap is None or all(pricing.comparable_price(pricing.spec_from_row(p)) <= cap for p in plans), True),
        ("title_summary", N_("名称与摘要已填写"), bool(listing["title"].strip()) and bool(listing["summary"].strip()), True),
        ("quality", N_("质量评分不低于 60"), listing["quality_score"] >= 60, False),
        ("sample_masked", N_("样例数据已对个人信息遮蔽"), True, False),
    ]
    return [{"code": c, "label": label, "ok": bool(ok), "blocking": blocking} for c, label, ok, blocking in items]


async def approve(*, listing_id: int, note: str = "", notice_days: int = NOTICE_DAYS) -> dict:
    """Platform review passed: the listing enters public notice (公示)."""
    problems = [i for i in await review_checklist(listing_id) if i["blocking"] and not i["ok"]]
    if problems:
        raise DomainError("listing.checklist_failed", "审核清单未通过：{problems}",
                          problems="；".join(i["label"] for i in problems))
    async with db.atomic():
        row = await db.transition(Listing, listing_id, to=ListingStatus.NOTICE, action="listing.approved",
                                  extra={Listing.notice_until: _now() + timedelta(days=notice_days),
                                         Listing.review_note: note},
                                  audit_after={"notice_days": notice_days, "note": note})
        await notifications.notify(kind="listing.notice", organization_id=row["holder"],
                                   subject=f"《{row['title']}》审核通过，进入公示期 {notice_days} 天",
                                   link=f"/listings/{listing_id}")
        await _reindex(listing_id)
    if notice_days <= 0:
        # no notice period configured: nothing to wait for, list it now
        await close_notices(now=_now() + timedelta(seconds=1))
        row = await _listing(listing_id)
    return row


async def reject(*, listing_id: int, reason: str) -> dict:
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise DomainError("listing.reason_required", "请填写理由")
    async with db.atomic():
        row = await db.transition(Listing, listing_id, to=ListingStatus.REJECTED, action="listing.rejected",
                                  extra={Listing.status_reason: reason}, audit_after={"reason": reason})
        await notifications.notify(kind="listing.rejected", organization_id=row["holder"],
                                   subject=f"《{row['title']}》未通过：{reason}", link=f"/listings/{listing_id}")
    await _reindex(listing_id)
    return row


async def revise(*, listing_id: int, org_id: int) -> dict:
    """A rejected (or submitted) listing goes back to draft for the holder to fix."""
    await _own_listing(listing_id, org_id)
    async with db.atomic():
        row = await db.transition(Listing, listing_id, to=ListingStatus.DRAFT, action="listing.revised")
        await _reindex(listing_id)
    return row


async def file_objection(*, listing_id: int, org_id: int, user_id: int, reason: str) -> int:
    """Anyone logged in may object to a listing during its public notice."""
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise DomainError("objection.reason_required", "请写明异议理由（至少 5 个字）")
    async with db.atomic():
        listing = await _listing(listing_id)
        if listing["status"] != ListingStatus.NOTICE.value:
            raise Conflict("objection.not_in_notice", "只有公示期内的上架申请可以提出异议")
        rows = await Objection.insert(Objection(listing=listing_id, organization=org_id, user=user_id,
                                                reason=reason)).returning(Objection.id)
        await audit.record(action="listing.objection_filed", object_type="listing", object_id=listing_id,
                           after={"objection_id": rows[0]["id"], "reason": reason})
        await notifications.notify(kind="listing.objection", organization_id=listing["holder"],
                                   subject=f"《{listing['title']}》在公示期收到异议", link=f"/listings/{listing_id}")
        await _reindex(listing_id)
    return rows[0]["id"]


async def resolve_objection(*, objection_id: int, upheld: bool, resolution: str) -> None:
    """The platform decides an objection; an upheld one rejects the listing."""
    resolution = (resolution or "").strip()
    if len(resolution) < 2:
        raise DomainError("objection.resolution_required", "请填写处理意见")
    async with db.atomic():
        objection = await Objection.select().where(Objection.id == objection_id).first()
        if objection is None:
            raise NotFound("objection.not_found", "异议不存在")
        status = "upheld" if upheld else "dismissed"
        changed = await db.rowcount_update(Objection, {Objection.status: status, Objection.resolution: resolution},
                                           Objection.id == objection_id, Objection.status == "open")
        if not changed:
            raise Conflict("objection.already_resolved", "该异议已处理")
        await audit.record(action=f"listing.objection_{status}", object_type="listing",
                           object_id=objection["listing"], after={"objection_id": objection_id,
                                                                  "resolution": resolution})
        if upheld:
            await db.transition(Listing, objection["listing"], to=ListingStatus.REJECTED,
                                action="listing.rejected", extra={Listing.status_reason: resolution},
                                audit_after={"reason": resolution, "objection_id": objection_id})
        await _reindex(objection["listing"])


def registration_code(listing: dict, region_code: str, when: datetime) -> str:
    """登记码: region of the holder, year of registration, and the listing's own number."""
    return f"SJDJ-{region_code or '000000'}-{when:%Y}-{listing['id']:06d}"


async def close_notices(*, now: datetime | None = None) -> list[int]:
    """List every listing whose notice ended without an open objection; assign its registration code."""
    now = now or _now()
    due = await Listing.select(Listing.id).where(
        (Listing.status == ListingStatus.NOTICE.value) & (Listing.notice_until <= now))
    listed = []
    for row in due:
        listing_id = row["id"]
        if await Objection.exists().where((Objection.listing == listing_id) & (Objection.status == "open")):
            continue  # waits for the platform to decide the objection
        async with db.atomic():
            listing = await _listing(listing_id)
            org = await identity.get_organization(listing["holder"])
            code = listing["registration_code"] or registration_code(listing, org["region_code"], now)
            await db.transition(Listing, listing_id, to=ListingStatus.LISTED, action="listing.listed",
                                extra={Listing.registration_code: code, Listing.listed_at: now},
                                audit_after={"registration_code": code})
            await _reindex(listing_id)
            await notifications.notify(kind="listing.listed", organization_id=listing["holder"],
                                       subject=f"《{listing['title']}》已上架，登记码 {code}",
                                       link=f"/listings/{listing_id}")
        listed.append(listing_id)
    return listed


async def suspend(*, listing_id: int, reason: str, org_id: int | None = None) -> dict:
    """Take a listing off sale for now (the holder for its own, the platform for any)."""
    if org_id is not None:
        await _own_listing(listing_id, org_id)
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise DomainError("listing.reason_required", "请填写理由")
    async with db.atomic():
        row = await db.transition(Listing, listing_id, to=ListingStatus.SUSPENDED, action="listing.suspended",
                                  extra={Listing.status_reason: reason}, audit_after={"reason": reason})
        await tell_buyers(listing=row, kind="listing.suspended",
                          subject=f"《{row['title']}》暂停销售：{reason}；已获取的版本仍可使用")
        await _reindex(listing_id)
    return row


async def resume(*, listing_id: int, org_id: int | None = None) -> dict:
    if org_id is not None:
        await _own_listing(listing_id, org_id)
    version_ok = await _latest_done_version((await _listing(listing_id))["asset"])
    if version_ok is None:
        raise DomainError("listing.no_data", "数据还没有可用的版本（上传后需要分析完成），不能上架空数据")
    async with db.atomic():
        row = await db.transition(Listing, listing_id, to=ListingStatus.LISTED, action="listing.resumed",
                                  extra={Listing.status_reason: ""})
        await _reindex(listing_id)
    return row


async def delist(*, listing_id: int, reason: str, org_id: int | None = None) -> dict:
    if org_id is not None:
        await _own_listing(listing_id, org_id)
    async with db.atomic():
        row = await db.transition(Listing, listing_id, to=ListingStatus.DELISTED, action="listing.delisted",
                                  extra={Listing.status_reason: (reason or "").strip()},
                                  audit_after={"reason": (reason or "").strip()})
        await tell_buyers(listing=row, kind="listing.delisted",
                          subject=f"《{row['title']}》已下架，不再发布新版本；已获取的版本仍可使用")
        await _reindex(listing_id)
    return row


# ---- versions and freshness -------------------------------------------------------------------


async def _publish_version(listing: dict, version: dict, sample: list[dict], *, action: str, note: str = "") -> None:
    """Put a version on sale on a listing (caller's transaction): data, 信息项, quality, sample; the
    subscribers get it by a job after commit; search and the listing view follow."""
    profile = json.loads(version["profile"])
    await Listing.update({
        Listing.data_version: version["number"], Listing.data_updated_at: version["created_at"],
        Listing.row_count: version["row_count"], Listing.quality_score: json.loads(version["quality"])["score"],
        Listing.columns: json.dumps([_listed_column(c) for c in profile["columns"]],
                                    ensure_ascii=False),
        Listing.sample: json.dumps(sample, ensure_ascii=False), Listing.overdue_since: None,
        Listing.pending_version: 0, Listing.updated_at: _now(),
    }).where(Listing.id == listing["id"])
    await audit.record(action=action, object_type="listing", object_id=listing["id"],
                       before={"data_version": listing["data_version"]},
                       after={"data_version": version["number"], **({"note": note} if note else {})})
    if listing["status"] == ListingStatus.LISTED.value:
        await version_published(listing_id=listing["id"], version=version["number"])
    await _reindex(listing["id"])


async def on_new_version(*, asset_id: int, version_id: int) -> None:
    """A newly profiled version: compatible changes go on sale at once (and a draft takes any change);
    incompatible ones on a listing under review or on sale wait for the platform's review, while buyers
    keep the version they have."""
    import asyncio

    from listings.service._assets import schema_diff

    version = await AssetVersion.select().where(AssetVersion.id == version_id).first()
    new_columns = json.loads(version["profile"])["columns"]
    listings = await Listing.select().where((Listing.asset == asset_id) & Listing.status.is_in(
        [ListingStatus.LISTED.value, ListingStatus.SUSPENDED.value, ListingStatus.NOTICE.value,
         ListingStatus.SUBMITTED.value, ListingStatus.DRAFT.value]))
    if not listings:
        return
    sample = await asyncio.to_thread(_masked_sample, version)
    for listing in listings:
        if version["number"] <= max(listing["data_version"], listing["pending_version"]):
            continue  # an older upload finished after a newer one: never go backwards
        # against what buyers of this listing have now, not the previous upload: v2 waiting for review
        # and a v3 compatible with v2 is still incompatible with the v1 on sale
        diff = schema_diff(json.loads(listing["columns"]), new_columns)
        if diff.get("compatible", True) or listing["status"] == ListingStatus.DRAFT.value:
            async with db.atomic():
                await _publish_version(listing, version, sample, action="listing.version_published")
            continue
        async with db.atomic():
            await Listing.update({Listing.pending_version: version["number"], Listing.updated_at: _now()}).where(
                Listing.id == listing["id"])
            await audit.record(action="listing.version_pending", object_type="listing", object_id=listing["id"],
                               after={"version": version["number"], "removed": diff.get("removed", []),
                                      "retyped": diff.get("retyped", [])})
            await notifications.notify(
                kind="listing.incompatible_version", organization_id=listing["holder"],
                subject=f"《{listing['title']}》的第 {version['number']} 版结构有不兼容变化，已提交平台审核；"
                        f"审核通过前买方仍使用第 {listing['data_version']} 版",
                link=f"/listings/{listing['id']}")
            await _reindex(listing["id"])


async def _pending(listing_id: int) -> tuple[dict, dict]:
    listing = await _listing(listing_id)
    if not listing["pending_version"]:
        raise Conflict("listing.no_pending_version", "没有待审核的新版本")
    version = await AssetVersion.select().where((AssetVersion.asset == listing["asset"])
                                                & (AssetVersion.number == listing["pending_version"])).first()
    return listing, version


async def approve_version(*, listing_id: int, note: str = "") -> dict:
    """The platform accepts an incompatible new version: it goes on sale and reaches the subscribers."""
    import asyncio

    listing, version = await _pending(listing_id)
    sample = await asyncio.to_thread(_masked_sample, version)
    async with db.atomic():
        await _publish_version(listing, version, sample, action="listing.version_approved", note=note.strip())
        await notifications.notify(kind="listing.version_approved", organization_id=listing["holder"],
                                   subject=f"《{listing['title']}》第 {version['number']} 版审核通过，已上架",
                                   link=f"/listings/{listing_id}")
    return await _listing(listing_id)


async def reject_version(*, listing_id: int, reason: str) -> dict:
    """The platform refuses an incompatible new version; the listing keeps selling the one it had."""
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise DomainError("listing.reason_required", "请填写理由")
    listing, version = await _pending(listing_id)
    async with db.atomic():
        await Listing.update({Listing.pending_version: 0, Listing.updated_at: _now()}).where(Listing.id == listing_id)
        await audit.record(action="listing.version_rejected", object_type="listing", object_id=listing_id,
                           after={"version": version["number"], "reason": reason})
        await notifications.notify(kind="listing.version_rejected", organization_id=listing["holder"],
                                   subject=f"《{listing['title']}》第 {version['number']} 版未通过：{reason}",
                                   link=f"/listings/{listing_id}")
        await _reindex(listing_id)
    return await _listing(listing_id)


async def check_freshness(*, now: datetime | None = None) -> dict:
    """Flag listed data overdue against its update cycle (telling the holder once), and suspend
    listings whose data can no longer be read (a dead source is shown as such, not sold)."""
    import asyncio

    from listings.quality import CYCLE_DAYS

    now = now or _now()
    overdue, dead = [], []
    rows = await Listing.select().where(Listing.status == ListingStatus.LISTED.value)
    for listing in rows:
        version = await (AssetVersion.select(AssetVersion.prepared_key).where(
            (AssetVersion.asset == listing["asset"]) & (AssetVersion.number == listing["data_version"])).first())
        key = version["prepared_key"] if version else ""
        if not key or not await asyncio.to_thread(runtime.storage().exists, key):
            await suspend(listing_id=listing["id"], reason="数据源不可用：数据文件缺失，已自动暂停销售")
            await notifications.notify(kind="listing.dead_source", organization_id=listing["holder"],
                                       subject=f"《{listing['title']}》的数据无法读取，已暂停销售",
                                       link=f"/listings/{listing['id']}")
            dead.append(listing["id"])
            continue
        days = CYCLE_DAYS.get(listing["update_cycle"])
        if not days or listing["overdue_since"] is not None or listing["data_updated_at"] is None:
            continue
        if now - listing["data_updated_at"] > timedelta(days=days):
            async with db.atomic():
                await Listing.update({Listing.overdue_since: now}).where(Listing.id == listing["id"])
                await audit.record(action="listing.overdue", object_type="listing", object_id=listing["id"],
                                   after={"update_cycle": listing["update_cycle"]})
                await _reindex(listing["id"])
                await notifications.notify(kind="listing.overdue", organization_id=listing["holder"],
                                           subject=f"《{listing['title']}》已超过声明的更新周期，请上传新版本",
                                           link=f"/my/data/{listing['asset']}")
            overdue.append(listing["id"])
    return {"overdue": overdue, "dead": dead}


async def get_listing(*, listing_id: int, viewer_org_id: int | None, viewer_roles: frozenset[str]) -> dict:
    """A listing as a viewer may see it: everyone sees listed ones; others only the holder and overseers.
    The view comes from this process's cache while the listing is unchanged (see listings._view_cache);
    callers must not modify it."""
    from listings import _view_cache, search

    await search.fresh_changes()
    view = _view_cache.get(listing_id)
    if view is None:
        generation = _view_cache.generation()
        async with db.reading():
            listing = await _listing(listing_id)
            view = {"listing": listing, "plans": await plans_of(listing_id),
                    "cap_fen": await current_cap(listing_id) if listing["public_data"] else None,
                    "objections": await Objection.select().where(Objection.listing == listing_id)
                    .order_by(Objection.id)}
        _view_cache.put(listing_id, view, generation)
    listing = view["listing"]
    visible = listing["status"] in (ListingStatus.LISTED.value, ListingStatus.NOTICE.value) \
        or listing["holder"] == viewer_org_id or bool(viewer_roles & {"admin", "regulator", "agency"})
    if not visible:
        raise NotFound("listing.not_found", "上架记录不存在")
    return view


async def listings_for_review(*, statuses: tuple[str, ...] = ("submitted", "notice")) -> list[dict]:
    """Listings waiting for the platform: new ones under review or in notice, and listed ones with an
    incompatible new version."""
    return await Listing.select().where(Listing.status.is_in(list(statuses)) | (Listing.pending_version > 0)
                                        ).order_by(Listing.id)


async def listings_of_holder(*, org_id: int) -> list[dict]:
    return await Listing.select().where(Listing.holder == org_id).order_by(Listing.id, ascending=False)


async def public_listings_needing_caps() -> list[dict]:
    """Public-data listings with paid plans and no cap yet: the agency's to-do list."""
    rows = await Listing.select().where((Listing.public_data == True)  # noqa: E712
                                        & Listing.status.is_in(["draft", "submitted", "notice", "listed"]))
    out = []
    for row in rows:
        if await current_cap(row["id"]) is None:
            out.append(row)
    return out
