"""JSON shapes of the holder's 销售 API (amounts in integer 分, dates ISO 8601)."""

from __future__ import annotations

from datetime import datetime

import msgspec


class SaleOut(msgspec.Struct):
    id: int
    status: str
    created_at: datetime
    paid_at: datetime | None
    buyer_org_id: int
    buyer_name: str
    listing_id: int
    listing_title: str
    tier: str
    plan_name: str
    purpose: str
    purpose_note: str
    quantity: int
    amount_fen: int
    tax_fen: int
    total_fen: int


class BuyerOut(msgspec.Struct):
    buyer_org_id: int
    buyer_name: str
    orders: int
    paid_orders: int  # paid and not refunded
    amount_fen: int  # net amount of those
    last_order_at: datetime | None


class MonthOut(msgspec.Struct):
    month: str  # 'YYYY-MM', China time
    released_fen: int  # released to the holder's payable (net of commission)
    refunded_fen: int  # taken back from it by refunds
    paid_out_fen: int  # paid to the holder by the platform
    sales: int  # releases that month


class SummaryOut(msgspec.Struct):
    payable_fen: int  # what the platform owes the holder now (ledger: payable:<org>)
    in_escrow_fen: int  # buyers' money held for its orders, released on acceptance
    paid_out_fen: int  # everything paid out to it so far
    awaiting_approval: int
    statement_months: list[str]
    by_month: list[MonthOut]


class PayoutReceivedOut(msgspec.Struct):
    txn_id: int
    reference: str
    bank_reference: str  # the bank's serial number finance recorded with the payout
    paid_at: datetime
    month: str
    amount_fen: int


class MovementOut(msgspec.Struct):
    txn_id: int
    kind: str  # release, refund, payout, disbursement, adjustment
    date: str
    at: str
    reference: str
    order_id: int | None
    listing_title: str
    buyer_name: str
    gross_fen: int  # the sale's net amount (releases, refunds); = net_fen otherwise
    commission_fen: int  # the platform's commission, fund share included
    fund_share_fen: int
    net_fen: int  # what the holder's payable moved by (+ owed to it, - paid or taken back)
    balance_fen: int  # the payable after this movement


class HolderOut(msgspec.Struct):
    org_id: int
    name: str
    credit_code: str


class TotalsOut(msgspec.Struct):
    gross_fen: int
    commission_fen: int
    fund_share_fen: int
    net_fen: int


class StatementOut(msgspec.Struct):
    holder: HolderOut
    month: str
    opening_fen: int
    closing_fen: int  # = opening_fen + totals.net_fen
    movements: list[MovementOut]
    totals: TotalsOut


class StatementPdfOut(msgspec.Struct):
    document_id: int
    month: str
    status: str  # pending (being rendered by a job) or rendered
    sha256: str  # of the PDF served, once rendered


def statement_out(s: dict) -> StatementOut:
    return StatementOut(holder=HolderOut(**s["holder"]), month=s["month"], opening_fen=s["opening_fen"],
                        closing_fen=s["closing_fen"], movements=[MovementOut(**m) for m in s["movements"]],
                        totals=TotalsOut(**s["totals"]))
