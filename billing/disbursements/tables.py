"""Tables of governance-fund disbursements: proposals made by the platform, decided by the agency,
paid through the ledger."""

from __future__ import annotations

import enum

from piccolo.columns import BigInt, ForeignKey, Integer, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from billing.tables import JournalTxn
from market.db import StatusEnum, set_transitions
from market.i18n import N_
from market.tables import Organization


class ProposalStatus(StatusEnum):
    PROPOSED = "proposed"  # made by the platform; waiting for the agency's decision
    APPROVED = "approved"  # the agency agreed; the platform may pay it (within the fund's balance)
    PAID = "paid"  # posted to the ledger: the fund paid it out (to the recipient's payable or the bank)
    REJECTED = "rejected"  # the agency refused it, with a reason; final
    CANCELLED = "cancelled"  # withdrawn by the platform before it was paid; final


set_transitions(ProposalStatus, {
    ProposalStatus.PROPOSED: {ProposalStatus.APPROVED, ProposalStatus.REJECTED, ProposalStatus.CANCELLED},
    ProposalStatus.APPROVED: {ProposalStatus.PAID, ProposalStatus.CANCELLED},
})

STATUS_NAMES = {
    ProposalStatus.PROPOSED.value: N_("待审批"),
    ProposalStatus.APPROVED.value: N_("已批准"),
    ProposalStatus.PAID.value: N_("已拨付"),
    ProposalStatus.REJECTED.value: N_("已驳回"),
    ProposalStatus.CANCELLED.value: N_("已撤回"),
}


class Purpose(enum.StrEnum):
    CLEANING_BOUNTY = "cleaning_bounty"  # a bounty to clean a raw dataset buyers asked for
    GOVERNANCE = "governance"  # a data governance project (standards, catalogue, metadata)
    QUALITY = "quality"  # quality assessment and repair of listed data
    SECURITY = "security"  # security, de-identification and compliance work
    OTHER = "other"


PURPOSE_NAMES = {
    Purpose.CLEANING_BOUNTY.value: N_("数据清洗悬赏"),
    Purpose.GOVERNANCE.value: N_("数据治理项目"),
    Purpose.QUALITY.value: N_("数据质量评估与修复"),
    Purpose.SECURITY.value: N_("安全与合规"),
    Purpose.OTHER.value: N_("其他"),
}


class PayTo(enum.StrEnum):
    PAYABLE = "payable"  # credited to the recipient's payable; leaves with its next payout
    BANK = "bank"  # paid straight from the platform's bank account to the recipient


PAY_TO_NAMES = {
    PayTo.PAYABLE.value: N_("计入收款机构应付款，随下次结算付款"),
    PayTo.BANK.value: N_("由平台收款账户直接付款"),
}


class DisbursementProposal(Table, tablename="fund_proposal"):
    """One proposed spend of the governance fund. Amount, recipient and purpose are fixed when
    proposed (a change is a new proposal), so what the agency approved is what gets paid."""

    id = Serial(primary_key=True)
    purpose = Varchar(length=20, choices=Purpose, index=True)
    title = Varchar(length=200)  # what is paid for, in a line: shown on the public page
    reason = Text()  # why the fund should pay it
    amount_fen = BigInt()
    recipient = ForeignKey(references=Organization, index=True, on_delete=OnDelete.restrict)
    pay_to = Varchar(length=10, choices=PayTo, default=PayTo.PAYABLE.value)
    # what it answers, read through listings.service (ids, not foreign keys: billing only reads the catalogue)
    demand_id = Integer(null=True, default=None)
    asset_id = Integer(null=True, default=None)
    status = Varchar(length=20, choices=ProposalStatus, default=ProposalStatus.PROPOSED.value, index=True)
    proposed_by = Varchar(length=200, default="")
    proposed_at = Timestamptz(default=TimestamptzNow())
    decided_by = Varchar(length=200, default="")
    decided_org = ForeignKey(references=Organization, null=True, default=None, on_delete=OnDelete.restrict)
    decided_at = Timestamptz(null=True, default=None)
    decision_note = Text(default="")  # the agency's note; the reason when rejected
    cancel_reason = Text(default="")
    paid_by = Varchar(length=200, default="")
    paid_at = Timestamptz(null=True, default=None)
    txn = ForeignKey(references=JournalTxn, null=True, default=None, on_delete=OnDelete.restrict)
