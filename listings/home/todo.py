"""What waits for an organization, as counts: the home page's to-do lists (one query per count).

Each function reads inside `db.reading()` so the counts come from one consistent view (and, on
SQLite, one connection). The few newest rows of the lists a holder acts on item by item come
along, so the home page can link straight to them.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from market import db
from listings.tables import (AssetVersion, DataAsset, DeliveryMark, Demand, DemandResponse, Entitlement,
                             EntitlementStatus, Listing, ListingStatus, Objection, PriceCap, ProfileStatus)

RECENT_DOWNLOAD_DAYS = 30
EXAMPLES = 3
_IN_REVIEW = [ListingStatus.SUBMITTED.value, ListingStatus.NOTICE.value]
_DRAFT = [ListingStatus.DRAFT.value, ListingStatus.REJECTED.value]
# listings the agency must cap: public data not yet withdrawn (as public_listings_needing_caps)
_CAPPABLE = [ListingStatus.DRAFT.value, ListingStatus.SUBMITTED.value, ListingStatus.NOTICE.value,
             ListingStatus.LISTED.value]


def _now() -> datetime:
    return datetime.now(timezone.utc)


async def holder_todo(*, org_id: int, now: datetime | None = None) -> dict:
    """Counts of what needs this holder: `confirm` (profiled tables not yet listed, and draft or
    rejected listings), `review` (listings under review, in 公示, or with a new version waiting), `overdue` (listed data behind its update cycle), `demands`
    (open demands matched to its listings) and `downloads` (files of its data delivered in the last
    RECENT_DOWNLOAD_DAYS days); plus the newest few of `unconfirmed`, `review` and `overdue`."""
    since = (now or _now()) - timedelta(days=RECENT_DOWNLOAD_DAYS)
    mine = Listing.holder == org_id
    unconfirmed = (DataAsset.holder == org_id) \
        & DataAsset.id.is_in(AssetVersion.select(AssetVersion.asset).where(
            AssetVersion.profile_status == ProfileStatus.DONE.value)) \
        & DataAsset.id.not_in(Listing.select(Listing.asset).where(mine))
    review = mine & (Listing.status.is_in(_IN_REVIEW) | (Listing.pending_version > 0))
    overdue = mine & (Listing.status == ListingStatus.LISTED.value) & Listing.overdue_since.is_not_null()
    async with db.reading():
        counts = {
            "unconfirmed": await DataAsset.count().where(unconfirmed),
            "drafts": await Listing.count().where(mine & Listing.status.is_in(_DRAFT)),
            "review": await Listing.count().where(review),
            "overdue": await Listing.count().where(overdue),
            "demands": await Demand.count().where(
                (Demand.status == "open") & Demand.id.is_in(DemandResponse.select(DemandResponse.demand).where(
                    (DemandResponse.listing.holder == org_id) & (DemandResponse.source == "match")))),
            "downloads": await DeliveryMark.count().where(
                (DeliveryMark.entitlement.listing.holder == org_id) & (DeliveryMark.created_at >= since)),
        }
        examples = {
            "unconfirmed": await DataAsset.select(DataAsset.id, DataAsset.title).where(unconfirmed)
            .order_by(DataAsset.id, ascending=False).limit(EXAMPLES),
            "review": await Listing.select(Listing.id, Listing.title, Listing.status, Listing.pending_version)
            .where(review).order_by(Listing.id, ascending=False).limit(EXAMPLES),
            "overdue": await Listing.select(Listing.id, Listing.title, Listing.asset).where(overdue)
            .order_by(Listing.id, ascending=False).limit(EXAMPLES),
        }
    counts["confirm"] = counts["unconfirmed"] + counts["drafts"]
    return {**counts, "examples": examples}


async def buyer_todo(*, org_id: int) -> dict:
    """Counts for a buyer: `active` entitlements, and its open `demands` that have answers (matched or
    offered). What waits for holders or for payment is an order: billing counts those."""
    async with db.reading():
        return {
            "active": await Entitlement.count().where(
                (Entitlement.buyer == org_id) & (Entitlement.status == EntitlementStatus.ACTIVE.value)),
            "demands": await Demand.count().where(
                (Demand.organization == org_id) & (Demand.status != "closed")
                & Demand.id.is_in(DemandResponse.select(DemandResponse.demand))),
        }


async def review_todo() -> dict:
    """Counts for the platform's review queue: `submitted` listings, listings in `notice`, listed ones
    with a `new_version` waiting, and `objections` still open."""
    async with db.reading():
        return {
            "submitted": await Listing.count().where(Listing.status == ListingStatus.SUBMITTED.value),
            "notice": await Listing.count().where(Listing.status == ListingStatus.NOTICE.value),
            "new_version": await Listing.count().where(Listing.pending_version > 0),
            "objections": await Objection.count().where(Objection.status == "open"),
        }


async def caps_todo() -> dict:
    """Counts for an agency: public-data listings still without a 上限收费标准 (`uncapped`)."""
    return {"uncapped": await Listing.count().where(
        (Listing.public_data == True) & Listing.status.is_in(_CAPPABLE)  # noqa: E712
        & Listing.id.not_in(PriceCap.select(PriceCap.listing)))}
