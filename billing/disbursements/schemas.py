"""JSON shapes of governance-fund disbursement proposals (amounts in integer 分)."""

from __future__ import annotations

import msgspec

from market.api_contract import Id, Int64


class ProposalIn(msgspec.Struct):
    purpose: str  # cleaning_bounty / governance / quality / security / other
    title: str  # what is paid for, in a line (public once approved)
    reason: str  # why the fund should pay it
    amount_fen: Int64
    recipient_org_id: Id  # a verified organisation
    pay_to: str = "payable"  # 'payable' (credited to the recipient's payable) or 'bank' (paid from the bank)
    demand_id: Id | None = None  # the demand-board entry it answers, if any
    asset_id: Id | None = None  # the data asset it concerns, if any


class ApproveIn(msgspec.Struct):
    note: str = ""


class ReasonIn(msgspec.Struct):
    reason: str  # required: why it is rejected or withdrawn


class ProposalOut(msgspec.Struct):
    id: int
    status: str  # proposed / approved / paid / rejected / cancelled
    purpose: str
    title: str
    reason: str
    amount_fen: int
    recipient_org_id: int
    recipient_name: str
    pay_to: str
    demand_id: int | None
    demand_title: str | None
    asset_id: int | None
    asset_title: str | None
    proposed_by: str
    proposed_at: str
    decided_by: str
    decided_at: str | None
    decision_note: str  # the agency's note; the reason when rejected
    cancel_reason: str
    paid_at: str | None
    txn_id: int | None  # the ledger transaction that paid it


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def proposal_out(row: dict) -> ProposalOut:
    return ProposalOut(
        id=row["id"], status=row["status"], purpose=row["purpose"], title=row["title"], reason=row["reason"],
        amount_fen=row["amount_fen"], recipient_org_id=row["recipient"], recipient_name=row["recipient_name"] or "",
        pay_to=row["pay_to"], demand_id=row["demand_id"], demand_title=row["demand_title"], asset_id=row["asset_id"],
        asset_title=row["asset_title"], proposed_by=row["proposed_by"], proposed_at=_iso(row["proposed_at"]) or "",
        decided_by=row["decided_by"], decided_at=_iso(row["decided_at"]), decision_note=row["decision_note"],
        cancel_reason=row["cancel_reason"], paid_at=_iso(row["paid_at"]), txn_id=row["txn"])
