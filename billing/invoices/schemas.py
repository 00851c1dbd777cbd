"""JSON shapes of the invoices API."""

from __future__ import annotations


def line_json(line: dict) -> dict:
    out = {k: line.get(k) for k in ("item", "spec", "unit", "quantity", "unit_price_fen", "amount_fen",
                                    "tax_rate_bps", "tax_fen")}
    out["total_fen"] = line["amount_fen"] + line["tax_fen"]
    if "line" in line:
        out["line"] = line["line"]  # a red line names the original line it reverses
    return out


def invoice_json(inv: dict) -> dict:
    doc = inv.get("document") if isinstance(inv.get("document"), dict) else None
    out = {
        "number": inv["number"], "kind": inv["kind"], "status": inv["status"],
        "issued_on": inv["issued_on"].isoformat(), "order_ref": inv["order_ref"], "order_id": inv["order_id"],
        "original_number": inv["original_number"] or None,
        "seller": {"name": inv["seller_name"], "credit_code": inv["seller_credit_code"]},
        "buyer": {"org_id": inv["buyer_org"], "name": inv["buyer_name"], "credit_code": inv["buyer_credit_code"]},
        "lines": [line_json(line) for line in inv["lines"]],
        "amount_fen": inv["amount_fen"], "tax_fen": inv["tax_fen"], "total_fen": inv["total_fen"],
        "total_upper": inv["total_upper"], "remarks": inv["remarks"], "reason": inv["reason"] or None,
        "issuer": inv["issuer"],
    }
    if doc is not None:
        out["document"] = {"id": doc["id"], "status": doc["status"], "sha256": doc["sha256"] or None,
                           "template_version": doc["template_version"]}
    if "credit_notes" in inv:
        out["credit_notes"] = [{"number": c["number"], "total_fen": c["total_fen"],
                                "issued_on": c["issued_on"].isoformat()} for c in inv["credit_notes"]]
    return out
