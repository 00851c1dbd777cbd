"""JSON shapes of the agreements API (amounts in integer 分, dates as YYYY-MM-DD)."""

from __future__ import annotations

import msgspec

from market.api_contract import Id, Int64


class ScopeIn(msgspec.Struct):
    asset_ids: list[Id] = []
    categories: list[str] = []  # category codes (A0101) or paths (医疗卫生 > 诊疗服务): their whole subtree
    columns: dict[str, list[str]] = {}  # "<asset id>" → the only columns of it in scope


class ItemIn(msgspec.Struct):
    name: str  # a product or service the operator may offer
    cap_fen: Int64  # 上限收费标准
    unit: str = "per_product"  # per_product / per_call / per_period / per_volume


class AgreementIn(msgspec.Struct):
    operator_org_id: Id
    modes: list[str]  # whole / domain / scenario (combinations allowed)
    scope: ScopeIn
    purposes: list[str]  # public_governance / public_welfare / industry / sector
    starts_on: str
    ends_on: str
    items: list[ItemIn]
    max_revenue_fen: Int64  # 最高准许收入 per year
    exclusive: bool = False
    scenarios: list[str] = []
    product_types: list[str] = []  # file / api / sandbox / verification; empty: any
    preapproved_product_types: list[str] = []  # types the source holders approve in advance (no co-approval)
    tiers: list[str] = []  # raw / cleaned / product; empty: any
    security_duties: str = ""
    exit_terms: str = ""


class AmendmentIn(msgspec.Struct):
    note: str  # what changes and why
    modes: list[str] | None = None
    scope: ScopeIn | None = None
    purposes: list[str] | None = None
    starts_on: str | None = None
    ends_on: str | None = None
    items: list[ItemIn] | None = None
    max_revenue_fen: Int64 | None = None
    exclusive: bool | None = None
    scenarios: list[str] | None = None
    product_types: list[str] | None = None
    preapproved_product_types: list[str] | None = None
    tiers: list[str] | None = None
    security_duties: str | None = None
    exit_terms: str | None = None


class SignIn(msgspec.Struct):
    # the digest of the PDF the signer read: refused if it is not what the platform issued
    sha256: str | None = None


class ReasonIn(msgspec.Struct):
    reason: str


def terms_of(data) -> dict:
    """A request body as the plain dict the service checks (None fields left out)."""
    out = {}
    for field in data.__struct_fields__:
        value = getattr(data, field)
        if value is None:
            continue
        out[field] = msgspec.to_builtins(value)
    return out


def _iso(value):
    return value.isoformat() if value is not None else None


def agreement_json(a: dict, *, detail: bool = False) -> dict:
    out = {
        "id": a["id"], "number": a["number"], "version": a["version"], "previous_id": a["previous"],
        "status": a["status"], "status_reason": a["status_reason"], "agency_org_id": a["agency_org"],
        "operator_org_id": a["operator_org"], "modes": a["modes"], "exclusive": a["exclusive"],
        "scope": {"asset_ids": a["asset_ids"], "categories": a["scope"].get("categories", []),
                  "named_asset_ids": a["scope"].get("asset_ids", []), "columns": a["scope"].get("columns", {})},
        "purposes": a["purposes"], "scenarios": a["scenarios"], "product_types": a["product_types"],
        "preapproved_product_types": a.get("preapproved_product_types", []),
        "tiers": a["tiers"], "items": a["items"], "max_revenue_fen": a["max_revenue_fen"],
        "starts_on": _iso(a["starts_on"]), "ends_on": _iso(a["ends_on"]), "note": a["note"],
        "created_at": _iso(a["created_at"]), "signed_at": _iso(a["signed_at"]),
        "activated_at": _iso(a["activated_at"]), "ended_at": _iso(a["ended_at"]),
    }
    if detail:
        doc = a["document_row"]
        out.update({
            "agency_name": a["agency_name"], "operator_name": a["operator_name"],
            "security_duties": a["security_duties"], "exit_terms": a["exit_terms"],
            "document": {"id": doc["id"], "status": doc["status"], "sha256": doc["sha256"] or None} if doc else None,
            "signatures": [{"party_role": s["party_role"], "organization_id": s["organization"],
                            "user_id": s["user"], "signed_at": _iso(s["signed_at"]), "sha256": s["sha256"]}
                           for s in a["signatures"]],
            "versions": [{"id": v["id"], "version": v["version"], "status": v["status"], "note": v["note"]}
                         for v in a["versions"]],
        })
    return out
