"""A listing on sale: suspend, resume, delist; new versions (compatible ones go on sale, others wait
for review); freshness against the declared update cycle and dead sources."""

from __future__ import annotations

import json
from datetime import datetime
from datetime import timedelta

from market import audit
from market import db
from market import notifications
from market import runtime
from market.errors import Conflict
from market.errors import DomainError
from listings.entitlements.service import tell_buyers
from listings.entitlements.service import version_published
from listings.tables import AssetVersion
from listings.tables import Listing
from listings.tables import ListingStatus
from listings.publication._common import _listed_column, _latest_done_version, _listing, _masked_sample, _now, _own_listing, _reindex


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

    from listings.assets.service import schema_diff

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

    from listings.profiling.quality import CYCLE_DAYS

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
