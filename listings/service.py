"""The catalogue's service API (re-exported from private modules, one per domain idea)."""

from listings.assets.service import (  # noqa: F401
    ALLOWED_SUFFIXES,
    GRADES,
    MAX_UPLOAD_BYTES,
    abandon_profile,
    asset_ids_under_categories,
    asset_summaries,
    correct_grade,
    correct_personal,
    get_asset,
    list_assets,
    run_profile,
    schema_diff,
    upload,
    version_file_url,
)
from listings.demand.service import (  # noqa: F401
    answer_demand,
    close_demand,
    get_demand,
    list_demands,
    post_demand,
)
from listings.publication.service import (  # noqa: F401
    NOTICE_DAYS,
    add_plan,
    approve,
    approve_version,
    check_freshness,
    check_tier_rules,
    close_notices,
    create_listing,
    current_cap,
    delist,
    file_objection,
    get_listing,
    listings_for_review,
    listings_of_holder,
    on_new_version,
    plans_of,
    public_listings_needing_caps,
    quote,
    reject,
    reject_version,
    resolve_objection,
    resume,
    review_checklist,
    revise,
    set_cap,
    submit,
    suspend,
)
from listings.assets.encoding import choose_encoding  # noqa: F401,E402
from listings.catalogue.confirm import confirm_and_submit, suggestion, update_catalogue  # noqa: F401,E402
from listings.entitlements.service import (  # noqa: F401,E402
    MULTIPLE_KINDS,
    check_quantity,
    deliver_version,
    expire_due,
    file_refusal,
    grant,
    needs_approval,
    open_download,
    reaches,
    revoke,
    trace,
)
from listings.entitlements.service import detail as entitlement_detail  # noqa: F401,E402
from listings.entitlements.service import of_buyer as entitlements_of_buyer  # noqa: F401,E402
from listings.entitlements.service import of_holder as entitlements_of_holder  # noqa: F401,E402
from listings.entitlements.service import resume as resume_entitlement  # noqa: F401,E402
from listings.entitlements.service import suspend as suspend_entitlement  # noqa: F401,E402
from listings.home.todo import buyer_todo, caps_todo, holder_todo, review_todo  # noqa: F401,E402
