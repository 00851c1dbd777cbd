"""JSON shapes of the contracts API."""

from __future__ import annotations

import msgspec


class SignIn(msgspec.Struct):
    # which side the caller signs for; optional when its organization is only one of the parties
    party: str | None = None
    # the digest of the PDF the signer read: refused if it is not what the platform issued
    sha256: str | None = None


def signature_json(s: dict, *, with_ip: bool) -> dict:
    out = {"party_role": s["party_role"], "organization_id": s["organization"],
           "organization": s.get("org_name") or s.get("organization_name", ""), "user_id": s["user"],
           "user": s.get("user_name") or "", "method": s["method"], "signed_at": s["signed_at"],
           "sha256": s["sha256"]}
    if with_ip:
        out["ip"] = s["ip"]
    return out


def contract_json(c: dict) -> dict:
    doc = c["document"]
    return {
        "id": c["id"], "number": c["number"], "status": c["status"], "template_version": c["template_version"],
        "buyer_org_id": c["buyer_org"], "holder_org_id": c["holder_org"], "listing_id": c["listing_id"],
        "total_fen": c["total_fen"], "auto_countersign": c["auto_countersign"], "created_at": c["created_at"],
        "signed_at": c["signed_at"], "void_reason": c["void_reason"], "terms": c["terms"],
        "document": {"id": doc["id"], "status": doc["status"], "sha256": doc["sha256"] or None,
                     "size": doc["size"], "rendered_at": doc["rendered_at"]},
        # parties and overseers see who signed from where (the public verification page does not)
        "signatures": [signature_json(s, with_ip=True) for s in c["signatures"]],
    }
