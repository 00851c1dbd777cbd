"""The operators package's service API (re-exported from private modules, one per domain idea)."""

from operators._agreements import (  # noqa: F401
    activate_due,
    agreement_pdf,
    amend,
    create_agreement,
    effective,
    expire_due,
    get_agreement,
    list_agreements,
    operator_choices,
    resume,
    sign,
    suspend,
    terminate,
    withdraw,
)
from operators._shares import shares_of_sale  # noqa: F401
from operators._consent import declare_shared_source, record_consent, shared_sources  # noqa: F401
from operators._enforcement import (  # noqa: F401
    alerts,
    check_price,
    check_product,
    check_purpose,
    check_sale,
    check_sources,
    mandate_of,
    record_revenue,
    revenue_this_year,
)
from operators.pipelines import (  # noqa: F401,E402
    create_pipeline,
    execute_run,
    get_pipeline,
    get_run,
    lineage_of,
    list_pipelines,
    rerun_due,
    schemas_of,
    start_run,
)
# registers the co-approval guard with listings' publication on import
from operators._coapproval import decide as decide_coapproval, list_coapprovals, remind_pending  # noqa: F401,E402
from operators.lineage_graph import derived_assets_by_agreement, graph as lineage_graph  # noqa: F401,E402
