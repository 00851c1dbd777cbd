"""Reads of listings for pages: one listing as its viewer may see it, the review queue, a holder's
listings, public listings still waiting for the agency's cap."""

from __future__ import annotations

from market import db
from market.errors import NotFound
from listings.tables import Listing
from listings.tables import ListingStatus
from listings.tables import Objection
from listings.publication._common import _listing
from listings.publication._plans import current_cap, plans_of


async def get_listing(*, listing_id: int, viewer_org_id: int | None, viewer_roles: frozenset[str]) -> dict:
    """A listing as a viewer may see it: everyone sees listed ones; others only the holder and overseers.
    The view comes from this process's cache while the listing is unchanged (see listings.publication.view_cache);
    callers must not modify it."""
    from listings import search
    from listings.publication import view_cache as _view_cache

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
