"""JSON shapes of the payments API."""

from __future__ import annotations

import msgspec

from market.api_contract import Id, Int64


class ReceiptIn(msgspec.Struct):
    order_ref: str
    amount_fen: Int64
    reference: str  # the bank's serial number of the transfer


class ResolveIn(msgspec.Struct):
    note: str
    record_for: str | None = None  # an order reference: count the line's money as its receipt


class RefundIn(msgspec.Struct):
    payment_id: Id
    amount_fen: Int64
    reason: str


class PaymentOut(msgspec.Struct):
    id: int
    order_ref: str
    provider: str
    reference: str
    amount_fen: int
    currency: str
    status: str
    refunded_fen: int
    received_at: str
    recorded_by: str


class RefundOut(msgspec.Struct):
    id: int
    payment_id: int
    order_ref: str
    amount_fen: int
    status: str
    provider_refund_id: str
    reason: str


class ImportOut(msgspec.Struct):
    import_id: int | None
    lines: int  # credit lines read from the file
    new: int  # of which not imported before
    already_imported: int
    matched: int
    partial: int
    over: int
    unmatched: int


class LineOut(msgspec.Struct):
    id: int
    import_id: int
    row_no: int
    booked_on: str
    amount_fen: int
    payer_name: str
    payer_account: str
    reference_text: str
    bank_serial: str
    order_ref: str
    due_fen: int
    payment_id: int | None
    status: str
    resolution_note: str
    resolved_by: str


def payment_out(row: dict) -> PaymentOut:
    return PaymentOut(id=row["id"], order_ref=row["order_ref"], provider=row["provider"], reference=row["reference"],
                      amount_fen=row["amount_fen"], currency=row["currency"], status=row["status"],
                      refunded_fen=row["refunded_fen"], received_at=row["received_at"].isoformat(),
                      recorded_by=row["recorded_by"])


def refund_out(row: dict) -> RefundOut:
    return RefundOut(**{f: row[f] for f in RefundOut.__struct_fields__})


def line_out(row: dict) -> LineOut:
    return LineOut(**{f: row[f] for f in LineOut.__struct_fields__})
