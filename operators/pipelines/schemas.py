"""JSON shapes of the pipelines API."""

from __future__ import annotations

import msgspec

from market.api_contract import Id, Int32


class PipelineIn(msgspec.Struct):
    agreement_id: Id
    title: str
    sources: dict[str, Id]  # name as the SQL reads it → asset id
    sql: str  # one SELECT over the sources, in DuckDB's dialect, with the built-in functions
    k: Int32 = 0  # k-anonymity over k_columns of the output; 0: no check
    k_columns: list[str] = []
    drop_identifiers: bool = True  # leave out output columns that copy a direct identifier unchanged
    rerun_on_new_version: bool = False  # run again when a source gets a new version


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def run_json(run: dict) -> dict:
    return {"id": run["id"], "pipeline_id": run["pipeline"], "status": run["status"], "trigger": run["trigger"],
            "engine": run["engine"], "asset_id": run["asset"], "asset_version": run["asset_version"],
            "rows_in": run["rows_in"], "rows_out": run["rows_out"], "error_code": run["error_code"] or None,
            "error": run["error"],  # {message, params}: the message is the Chinese text of the code
            "created_at": _iso(run["created_at"]), "started_at": _iso(run["started_at"]),
            "finished_at": _iso(run["finished_at"])}


def pipeline_json(p: dict, *, detail: bool = False) -> dict:
    out = {"id": p["id"], "title": p["title"], "agreement_id": p["agreement"], "operator_org_id": p["operator_org"],
           "sources": p["sources"], "sql": p["sql"], "sql_sha256": p["sql_sha256"], "k": p["k"],
           "k_columns": p["k_columns"], "drop_identifiers": p["drop_identifiers"],
           "rerun_on_new_version": p["rerun_on_new_version"], "output_asset_id": p["output_asset"],
           "created_at": _iso(p["created_at"])}
    if detail:
        out["source_schemas"] = p["source_schemas"]
        out["runs"] = [run_json(r) for r in p["runs"]]
    return out


def lineage_json(lineage: dict) -> dict:
    return {**lineage, "started_at": _iso(lineage["started_at"]), "finished_at": _iso(lineage["finished_at"])}
