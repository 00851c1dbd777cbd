"""Orders: a buyer orders a plan of a listing for a purpose; sign, pay, receive, accept.

  create_order → awaiting_approval (approve / decline by the holder) → awaiting_signature (sign, both)
  → awaiting_payment (record_receipt, card_payment + Stripe's webhook, statements: payments' callback)
  → paid → delivered
  (entitlement granted) → completed (confirm, or the acceptance window: release_due); dispute /
  resolve_dispute, refund, cancel, expire_due. A zero price skips payment, never the contract.

`install()` registers the payment and refund callbacks and the invoice reader; the app calls it at start and so does
billing.orders.tasks, which every worker process imports, so money recorded anywhere reaches its order.
"""

from billing import payments as _payments
from contracts import service as contracts_service
from billing.orders import _invoicing
from billing.orders._common import OVERSEERS, order_id_of, ref
from billing.orders._create import approve, contract_terms, create_order, decline
from billing.orders._flow import (
    advance_signed,
    card_payment,
    deliver,
    on_contract_signed,
    on_payment_recorded,
    record_receipt,
    sign,
)
from billing.orders._invoicing import invoice_pdf
from billing.orders._reads import contract_pdf, detail, get_order, invoice_of, list_orders, set_invoice_reader, summary
from billing.orders._settle import (
    cancel,
    confirm,
    dispute,
    expire_due,
    on_refund_recorded,
    refund,
    refundable_fen,
    release_due,
    release_split,
    resolve_dispute,
)
from billing.orders.tables import WAITING, Order, OrderStatus


def install() -> None:
    """Let payments tell orders of money in and out, and contracts of a completed signature (idempotent)."""
    _payments.on_payment_recorded(on_payment_recorded)
    contracts_service.on_signed(on_contract_signed)
    _payments.on_refund_recorded(on_refund_recorded)
    set_invoice_reader(_invoicing.reader)


__all__ = [
    "OVERSEERS", "WAITING", "Order", "OrderStatus", "advance_signed", "approve", "cancel", "card_payment", "confirm",
    "contract_pdf", "contract_terms", "create_order", "decline", "deliver", "detail", "dispute", "expire_due",
    "get_order", "install", "on_contract_signed", "invoice_of", "invoice_pdf", "list_orders", "on_payment_recorded", "on_refund_recorded",
    "order_id_of", "record_receipt", "ref", "refund", "refundable_fen", "release_due", "release_split",
    "resolve_dispute", "set_invoice_reader", "sign", "summary",
]
