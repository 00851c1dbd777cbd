"""Listings: an asset offered at a tier, with price plans, through review and public notice to sale.

draft → submitted → (platform review) → notice (公示, objections may be filed) → listed;
listed ⇄ suspended; → delisted. Every move goes through `db.transition` and is audited; the
search index follows every move.

Private modules: `_common` (rows, sample, tier rules), `_plans` (listing, plans, caps, quotes),
`_review` (submit → 公示 → listed), `_lifecycle` (suspend, versions, freshness), `_reads` (pages).
"""

from __future__ import annotations

from listings.publication._common import (  # noqa: F401
    AGENCY_ITEMS,
    NOTICE_DAYS,
    PUBLIC_KINDS,
    SAMPLE_ROWS,
    _latest_done_version,
    _listing,
    check_tier_rules,
)
from listings.publication._lifecycle import (  # noqa: F401
    approve_version,
    check_freshness,
    delist,
    on_new_version,
    reject_version,
    resume,
    suspend,
)
from listings.publication.guards import register_submit_guard  # noqa: F401
from listings.publication._plans import add_plan, create_listing, current_cap, plans_of, quote, set_cap  # noqa: F401
from listings.publication._reads import (  # noqa: F401
    get_listing,
    listings_for_review,
    listings_of_holder,
    public_listings_needing_caps,
)
from listings.publication._review import (  # noqa: F401
    approve,
    close_notices,
    file_objection,
    reject,
    resolve_objection,
    review_checklist,
    revise,
    submit,
)
