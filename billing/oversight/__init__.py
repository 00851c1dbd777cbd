"""The regulator's desk (监管工作台): read-only across every organization — agreements, caps against
actual prices, orders, deliveries, invoices, the governance fund — with alerts computed and stored, the
audit chain verified on demand, and the yearly reports (年度经营情况报告, 31 March disclosures) as PDFs
and public pages. It lives in billing, the top package, because it reads every package below."""
