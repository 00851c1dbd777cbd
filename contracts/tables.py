"""Tables of the contracts package: 数据产品购买合同 between a buyer and a holder."""

from __future__ import annotations

from piccolo.columns import BigInt, Boolean, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from market.db import StatusEnum, set_transitions
from market.tables import Document, Organization


class ContractStatus(StatusEnum):
    DRAFT = "draft"  # terms frozen, the PDF is being rendered; nobody can sign yet
    AWAITING_SIGNATURES = "awaiting_signatures"  # the PDF is issued; waiting for buyer and/or holder
    SIGNED = "signed"  # both parties signed the same bytes; the order may go on to payment
    VOID = "void"  # withdrawn before both signed (order cancelled, declined or expired)


set_transitions(ContractStatus, {
    ContractStatus.DRAFT: {ContractStatus.AWAITING_SIGNATURES, ContractStatus.VOID},
    ContractStatus.AWAITING_SIGNATURES: {ContractStatus.SIGNED, ContractStatus.VOID},
})


class PurchaseContract(Table, tablename="purchase_contract"):
    """The contract of one purchase. Its terms are copied in when drafted and never edited; the PDF
    is a market Document rendered from the template version stored here."""

    id = Serial(primary_key=True)
    number = Varchar(length=30, unique=True, null=True, default=None)  # HT-<year>-<id>, set at draft
    terms = Text()  # canonical JSON of everything the contract says (parties, product, price …)
    template_version = Integer()
    document = ForeignKey(references=Document, null=True, index=True)
    buyer_org = ForeignKey(references=Organization, index=True)
    holder_org = ForeignKey(references=Organization, index=True)
    listing_id = Integer(default=0, index=True)  # the order references the listing; kept for lookups
    total_fen = BigInt(default=0)  # copied from the terms for lists; the terms are the record
    auto_countersign = Boolean(default=False)  # the holder countersigns standard plans automatically
    status = Varchar(length=30, choices=ContractStatus, default=ContractStatus.DRAFT.value, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    # touched at the start of every signing transaction: on PostgreSQL that row lock makes two
    # parties signing at once see each other's signature, so exactly one of them completes it
    updated_at = Timestamptz(default=TimestamptzNow())
    signed_at = Timestamptz(null=True, default=None)
    void_reason = Text(default="")
