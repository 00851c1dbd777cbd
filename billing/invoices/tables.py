"""Tables of invoices: 数电发票 issued by the platform as seller of record, and the per-year counter
that numbers them without gaps.

An invoice is never edited: what it says is copied in when it is issued (parties, lines, totals,
remarks, the frozen order snapshot). A correction is a red-letter invoice (红字发票, kind `red`) with
negative amounts that names the original; an original fully reversed that way is `voided`, the only
change its row ever sees. Amounts are integer 分 in BigInt columns (STACK.md: Numeric is a float on
SQLite).
"""

from __future__ import annotations

import enum

from piccolo.columns import BigInt, Date, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from market.db import StatusEnum, set_transitions
from market.tables import Document, Organization


class InvoiceKind(enum.StrEnum):
    NORMAL = "normal"  # 蓝字发票: issued for an order
    RED = "red"  # 红字发票: negative amounts, reverses all or part of a normal invoice


class InvoiceStatus(StatusEnum):
    ISSUED = "issued"  # valid as issued (a red invoice stays issued; so does a partly credited original)
    VOIDED = "voided"  # fully reversed by red invoices (红冲); the row is otherwise unchanged


set_transitions(InvoiceStatus, {
    InvoiceStatus.ISSUED: {InvoiceStatus.VOIDED},
})


class InvoiceCounter(Table, tablename="invoice_counter"):
    """The last sequence number used in a year's series. Raised in the same transaction as the invoice
    insert, by the transaction that holds its row lock, so numbers are consecutive and never repeat."""

    id = Serial(primary_key=True)
    year = Integer(unique=True)
    last = BigInt(default=0)


class Invoice(Table, tablename="invoice"):
    id = Serial(primary_key=True)
    number = Varchar(length=20, unique=True)  # 20 digits, layout in billing/invoices/_numbers.py
    year = Integer(index=True)  # the series the number belongs to (year of issue, Asia/Shanghai)
    seq = BigInt()  # position in that year's series: 1, 2, 3 … without gaps
    kind = Varchar(length=10, choices=InvoiceKind, default=InvoiceKind.NORMAL.value, index=True)
    # a red invoice names the invoice it reverses (both by id and by the number printed on it)
    original_id = Integer(null=True, default=None, index=True)
    original_number = Varchar(length=20, default="")
    # one normal invoice per order: the order reference for a normal invoice, NULL for a red one
    order_key = Varchar(length=64, unique=True, null=True, default=None)
    order_ref = Varchar(length=64, index=True)
    order_id = Integer(null=True, default=None, index=True)
    issued_on = Date()  # 开票日期 (Asia/Shanghai)
    issued_at = Timestamptz(default=TimestamptzNow())
    seller_name = Varchar(length=200)
    seller_credit_code = Varchar(length=18)
    buyer_org = ForeignKey(references=Organization, index=True)
    buyer_name = Varchar(length=200)
    buyer_credit_code = Varchar(length=18)
    lines = Text()  # JSON list of lines as printed (item, unit, quantity, unit price, amount, rate, tax)
    amount_fen = BigInt()  # 合计金额 (net); negative on a red invoice
    tax_fen = BigInt()  # 合计税额
    total_fen = BigInt()  # 价税合计 = amount_fen + tax_fen
    total_upper = Varchar(length=120)  # 价税合计（大写）, as printed
    remarks = Text(default="")  # 备注: order, registration code, payment reference (red: the original)
    reason = Text(default="")  # why a red invoice was issued (refund, 开票有误 …)
    issuer = Varchar(length=50)  # 开票人
    snapshot = Text()  # canonical JSON of the order snapshot it was issued from (red: the credit asked)
    document = ForeignKey(references=Document, null=True, index=True)  # the PDF (market.documents)
    status = Varchar(length=10, choices=InvoiceStatus, default=InvoiceStatus.ISSUED.value, index=True)
