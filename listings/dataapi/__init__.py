"""Data delivered as a service (issue 10): the metered rows API and verification (核验) of entitlements
whose listing delivers as `api` or `verification`, their keys, meters, call trace and usage.
`service` is the API; `_meter` states the counting guarantee; `_table` builds every DuckDB query."""
