"""Tables of payments: what is due per order, money received, webhooks, bank statement lines.

Payments are keyed by an order REFERENCE (a string the order service owns), not a foreign key, so
this module stands on its own and the order service calls it through `billing.payments`. Amounts
are integer 分 in BigInt columns (STACK.md: Numeric is a float on SQLite).
"""

from __future__ import annotations

import enum

from piccolo.columns import BigInt, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from market.db import StatusEnum, set_transitions


class Provider(enum.StrEnum):
    BANK_TRANSFER = "bank_transfer"  # 对公转账 to the platform's collection account (embedded default)
    STRIPE = "stripe"  # card payment through a Stripe PaymentIntent


class RequestStatus(StatusEnum):
    OPEN = "open"  # waiting for money (a part may have arrived)
    PAID = "paid"  # the full amount due has been recorded
    CANCELLED = "cancelled"  # the order was cancelled or expired; money arriving now goes to a person


set_transitions(RequestStatus, {
    RequestStatus.OPEN: {RequestStatus.PAID, RequestStatus.CANCELLED},
})


class PaymentStatus(StatusEnum):
    RECEIVED = "received"  # the money is in the platform's account
    PARTLY_REFUNDED = "partly_refunded"  # a part was paid back
    REFUNDED = "refunded"  # all of it was paid back


set_transitions(PaymentStatus, {
    PaymentStatus.RECEIVED: {PaymentStatus.PARTLY_REFUNDED, PaymentStatus.REFUNDED},
    PaymentStatus.PARTLY_REFUNDED: {PaymentStatus.REFUNDED},
})


class LineStatus(StatusEnum):
    MATCHED = "matched"  # reference and amount agree with an open request: a payment was recorded
    PARTIAL = "partial"  # the reference names a request but less than the amount still due arrived
    OVER = "over"  # more than the amount still due arrived (or the order was already paid)
    UNMATCHED = "unmatched"  # no payment reference found in the line
    RESOLVED = "resolved"  # a person dealt with it and wrote down how


set_transitions(LineStatus, {
    LineStatus.PARTIAL: {LineStatus.RESOLVED},
    LineStatus.OVER: {LineStatus.RESOLVED},
    LineStatus.UNMATCHED: {LineStatus.RESOLVED},
})


class PaymentRequest(Table, tablename="payment_request"):
    """What an order must pay, and the reference the buyer writes on the transfer."""

    id = Serial(primary_key=True)
    order_ref = Varchar(length=64, unique=True)  # one request per order
    reference = Varchar(length=16, unique=True)  # e.g. SJ7K3M9QXA4: printed on the invoice
    amount_fen = BigInt()  # amount due (价税合计)
    currency = Varchar(length=3, default="CNY")
    # what has arrived so far; raised only by compare-and-set, never past amount_fen
    paid_fen = BigInt(default=0)
    status = Varchar(length=20, choices=RequestStatus, default=RequestStatus.OPEN.value, index=True)
    provider_intent_id = Varchar(length=100, default="", index=True)  # Stripe PaymentIntent, if any
    created_at = Timestamptz(default=TimestamptzNow())
    paid_at = Timestamptz(null=True, default=None)


class Payment(Table, tablename="payment"):
    """Money received for an order. Never edited except its refund tally."""

    id = Serial(primary_key=True)
    order_ref = Varchar(length=64, index=True)
    provider = Varchar(length=20, choices=Provider)
    reference = Varchar(length=120)  # bank serial / statement line, or the PaymentIntent id
    # provider + ":" + reference: the same bank transfer or PaymentIntent can never be recorded twice
    unique_key = Varchar(length=150, unique=True)
    amount_fen = BigInt()
    currency = Varchar(length=3, default="CNY")
    status = Varchar(length=20, choices=PaymentStatus, default=PaymentStatus.RECEIVED.value)
    refunded_fen = BigInt(default=0)  # raised only by compare-and-set, never past amount_fen
    received_at = Timestamptz(default=TimestamptzNow())
    recorded_by = Varchar(length=200, default="")  # who recorded it: an e-mail, "stripe", "statement"
    statement_line_id = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class RefundStatus(StatusEnum):
    PENDING = "pending"  # reserved against the payment; the provider has not confirmed yet
    SUCCEEDED = "succeeded"  # the money went back to the payer
    FAILED = "failed"  # the provider refused; the reserved amount is refundable again


set_transitions(RefundStatus, {
    RefundStatus.PENDING: {RefundStatus.SUCCEEDED, RefundStatus.FAILED},
})


class Refund(Table, tablename="payment_refund"):
    id = Serial(primary_key=True)
    payment_id = Integer(index=True)
    order_ref = Varchar(length=64, index=True)
    amount_fen = BigInt()
    status = Varchar(length=20, choices=RefundStatus, default=RefundStatus.PENDING.value)
    error = Text(default="")  # what the provider said when it refused
    provider_refund_id = Varchar(length=100, default="")  # Stripe re_…; empty for a bank transfer back
    reason = Text(default="")
    recorded_by = Varchar(length=200, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class WebhookEvent(Table, tablename="webhook_event"):
    """An incoming provider event, stored by its id before anything else: a replay finds it here."""

    id = Serial(primary_key=True)
    provider = Varchar(length=20, choices=Provider)
    event_id = Varchar(length=100, unique=True)
    type = Varchar(length=100)
    payload = Text()  # the verified JSON body, as received
    received_at = Timestamptz(default=TimestamptzNow())
    processed_at = Timestamptz(null=True, default=None)
    error = Text(default="")  # why processing did not record anything (shown to finance)


class StatementImport(Table, tablename="bank_statement_import"):
    """One upload of a bank statement that brought at least one line not seen before."""

    id = Serial(primary_key=True)
    filename = Varchar(length=200, default="")
    sha256 = Varchar(length=64)
    imported_by = Varchar(length=200, default="")
    lines_new = Integer(default=0)
    imported_at = Timestamptz(default=TimestamptzNow())


class StatementLine(Table, tablename="bank_statement_line"):
    """A credit line of the platform's bank statement and what reconciliation made of it."""

    id = Serial(primary_key=True)
    import_id = Integer(index=True)
    # sha256 of the line's content and its occurrence number in the file: a re-import finds it
    fingerprint = Varchar(length=64, unique=True)
    row_no = Integer(default=0)  # the line's row in the uploaded file, for people comparing
    booked_on = Varchar(length=10)  # ISO date of the transaction
    amount_fen = BigInt()
    payer_name = Varchar(length=200, default="")
    payer_account = Varchar(length=64, default="")
    reference_text = Text(default="")  # 摘要 / 附言 / 用途 as the bank gave them
    bank_serial = Varchar(length=100, default="")
    order_ref = Varchar(length=64, default="", index=True)  # the order the reference named, if any
    due_fen = BigInt(default=0)  # what that order still owed when the line was reconciled
    payment_id = Integer(null=True, default=None)  # the payment a matched line recorded
    status = Varchar(length=20, choices=LineStatus, index=True)
    resolution_note = Text(default="")
    resolved_by = Varchar(length=200, default="")
    resolved_at = Timestamptz(null=True, default=None)


class IdempotentCall(Table, tablename="payment_idempotency"):
    """One payment call made with an Idempotency-Key: claimed before the call runs, its result kept after.
    The same key (in the same scope) with the same request gets the kept result; with another request,
    or while the first call still runs, a refusal."""

    id = Serial(primary_key=True)
    scope = Varchar(length=300, unique=True)  # operation : caller's organization : the key
    request_digest = Varchar(length=64)  # sha256 of what was asked (order, body)
    result = Text(default="")  # JSON of what the call returned (ids); empty while it runs
    created_at = Timestamptz(default=TimestamptzNow())
    done_at = Timestamptz(null=True, default=None)
