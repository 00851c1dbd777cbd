"""Review and public notice: submit, the computed checklist, approve into 公示 or reject, objections,
and listing with the code the register (listings.registration) gives when the notice closes."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

from market import audit
from market import db
from market import notifications
from market.errors import Conflict
from market.errors import DomainError
from market.errors import NotFound
from market.i18n import N_
from listings import pricing
from listings.registration import service as registration
from listings.tables import DataAsset
from listings.tables import Listing
from listings.tables import ListingStatus
from listings.tables import Objection
from listings.publication._common import AGENCY_ITEMS, NOTICE_DAYS, _latest_done_version, _listing, _now, _own_listing, _reindex
from listings.publication._plans import current_cap, plans_of
from listings.publication import guards


async def submit(*, listing_id: int, org_id: int) -> dict:
    """The holder submits a draft for platform review."""
    await _own_listing(listing_id, org_id)
    # the cap is the agency's to set while the listing is under review: it blocks approval, not submission
    problems = [i for i in await review_checklist(listing_id)
                if i["blocking"] and not i["ok"] and i["code"] not in AGENCY_ITEMS]
    if problems:
        raise DomainError("listing.not_ready", "还不能提交：{problems}",
                          problems="；".join(i["label"] for i in problems))
    await guards.check_submit(await _listing(listing_id))  # e.g. the source holders' approval of a derived product
    async with db.atomic():
        row = await db.transition(Listing, listing_id, to=ListingStatus.SUBMITTED, action="listing.submitted")
        await _reindex(listing_id)
    return row


async def review_checklist(listing_id: int) -> list[dict]:
    """The compliance and quality checklist the reviewer sees (computed, never typed)."""
    from listings.profiling.classification import may_list

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
            # the listing's review and notice were its registration's acceptance and notice: the code
            # comes from the register (listings.registration), never from the listing's own id
            code = await registration.register_listed(listing_id=listing_id, now=now)
            await db.transition(Listing, listing_id, to=ListingStatus.LISTED, action="listing.listed",
                                extra={Listing.registration_code: code, Listing.listed_at: now},
                                audit_after={"registration_code": code})
            await _reindex(listing_id)
            await notifications.notify(kind="listing.listed", organization_id=listing["holder"],
                                       subject=f"《{listing['title']}》已上架，登记码 {code}",
                                       link=f"/listings/{listing_id}")
        listed.append(listing_id)
    return listed
