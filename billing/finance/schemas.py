"""JSON shapes of the platform finance (财务) API (amounts in integer 分)."""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from market.api_contract import Id, Int64


class OpenInvoiceOut(msgspec.Struct):
    number: str
    order_ref: str
    order_id: int | None
    issued_on: date
    age_days: int
    buyer_name: str
    total_fen: int
    paid_fen: int
    due_fen: int
    payment_reference: str
    request_status: str | None  # open, cancelled (an order closed with its invoice still standing)


class ResolveLineIn(msgspec.Struct):
    outcome: str  # match (count as an order's payment), returned (sent back to the payer), ignored
    note: str
    order_id: Id | None = None  # match: the order, or
    invoice_number: str | None = None  # match: the invoice whose order it pays


class PayoutDueOut(msgspec.Struct):
    org_id: int
    org_name: str
    credit_code: str
    account: str
    payable_fen: int


class PayoutIn(msgspec.Struct):
    holder_org_id: Id
    amount_fen: Int64
    bank_reference: str  # the bank's serial number of the transfer to the holder


class PayoutOut(msgspec.Struct):
    txn_id: int
    holder_org_id: int
    holder_name: str
    amount_fen: int
    bank_reference: str
    recorded_by: str
    paid_at: datetime
    payable_after_fen: int


class AccountLineOut(msgspec.Struct):
    code: str
    kind: str
    name: str
    owner_name: str
    debit_fen: int
    credit_fen: int
    balance_fen: int  # on the account's normal side, from its postings
    kept_balance_fen: int  # the balance kept on the account row


class CheckOut(msgspec.Struct):
    ok: bool
    transactions: int
    accounts: int
    problem: str


class TrialBalanceOut(msgspec.Struct):
    accounts: list[AccountLineOut]
    total_debit_fen: int
    total_credit_fen: int
    balanced: bool
    check: CheckOut
