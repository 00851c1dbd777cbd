"""Payments: the service API the order service calls (keyed by an order reference).

- `open_request(order_ref=, amount_fen=)` → the request, with the payment `reference` for the invoice
  (bank transfer: 'SJ' + a checksum-protected code); `payment_reference(order_ref)` reads it again.
- `start_payment(order_ref=, provider_name=)` → bank details or a Stripe PaymentIntent.
- `record_receipt(...)` (finance, by hand), `import_statement(...)` (bank statement CSV, reconciled),
  `list_lines` / `resolve_line` (the reconciliation queue), `receive_stripe` (webhooks).
- `on_payment_recorded(callback)`: the order service learns of money inside the recording transaction.
- `refund(payment_id=, amount_fen=, reason=, recorded_by=)`, `on_refund_recorded(callback)`.
- `once(operation=, org_id=, key=, request=, run=)`: the Idempotency-Key of every payment call (receipts,
  refunds, card payments): the same key returns the same result and moves no money twice.
"""

from billing.payments._idempotency import check_key as check_idempotency_key
from billing.payments._idempotency import once
from billing.payments._provider import available, collection_account, provider, start_payment
from billing.payments._receipts import (
    PaymentRecorded,
    cancel_request,
    get_request,
    on_payment_recorded,
    open_request,
    payment_reference,
    payments_for,
    record_payment,
    receipt_request,
    record_receipt,
    remove_payment_callback,
    summary,
)
from billing.payments._reconcile import import_statement, import_uploaded_statement, list_lines, resolve_line
from billing.payments._refunds import on_refund_recorded, refund, remove_refund_callback
from billing.payments._webhooks import process_event, receive_stripe
from billing.payments.tables import LineStatus, PaymentStatus, Provider, RefundStatus, RequestStatus

__all__ = [
    "LineStatus", "PaymentRecorded", "PaymentStatus", "Provider", "RefundStatus", "RequestStatus", "available",
    "cancel_request", "check_idempotency_key", "collection_account", "get_request", "import_statement", "import_uploaded_statement",
    "list_lines", "on_payment_recorded", "on_refund_recorded", "once", "open_request", "payment_reference",
    "payments_for", "process_event", "provider", "receipt_request", "receive_stripe", "record_payment",
    "record_receipt", "refund", "remove_payment_callback", "remove_refund_callback", "resolve_line",
    "start_payment", "summary",
]
