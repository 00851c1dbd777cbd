"""The regulator's desk's service API (re-exported from private modules, one per domain idea):
`_alerts` (kinds, the scan, alerts raised at an event), `_reads` (what the desk lists across every
organization), `_reports` (the annual operating report and the 31 March disclosures, pages and PDFs)."""

from billing.oversight._alerts import (  # noqa: F401
    KINDS,
    alerts,
    counts_by_kind,
    raise_alert,
    record_revenue_alert,
    scan,
    sources_of,
)
from billing.oversight._reads import agreements, caps_and_prices, deliveries, fund_summary, invoices, orders  # noqa: F401
from billing.oversight._reports import (  # noqa: F401
    KINDS as REPORT_KINDS,
    agency_disclosure,
    annual_report,
    check_kind,
    may_issue,
    operator_disclosure,
    report,
    report_documents,
    report_pdf,
    request_pdf,
)
