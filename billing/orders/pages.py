"""The buyer's pages of checkout, and the forms of the order page for its holder and platform finance.

- POST /listings/{id}/order: the listing page's order form (one form for every plan, free or paid);
  its idempotency key was generated when the form was rendered, so a double click makes one order.
- GET /listings/{id}/order/quote: the price, VAT and total of one plan × purpose × quantity, as the
  HTML the form shows (htmx swaps it in); the figures come from the same service rule as the order.
- /orders/{id}: the stepper, the frozen terms, and the actions of the viewer's side and the order's
  state; every form posts to a route here that calls the service and redirects back with a flash.
- /orders (我的订单), /contracts (合同), /invoices (发票).

Thin: rules, visibility and every refusal are in the services; a refusal comes back as a flash in the
reader's language. A 404 stays a 404 (a stranger learns nothing about an order).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote as urlquote

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template

from billing import invoices, orders, payments
from billing.orders.tables import Order, OrderStatus
from contracts import service as contracts_service
from listings import pricing
from listings import service as listings_service
from market.errors import DomainError, NotFound
from market.i18n import N_
from market.money import Money, MoneyError
from market.tables import Role
from market.web import AUTHENTICATED, PUBLIC, flash, flash_error, page, page_params, roles

BUYERS = roles(Role.BUYER)
HOLDERS = roles(Role.HOLDER, Role.OPERATOR)
SIGNERS = roles(Role.BUYER, Role.HOLDER, Role.OPERATOR)
PARTIES = roles(Role.BUYER, Role.HOLDER, Role.OPERATOR)
FINANCE = roles(Role.ADMIN)
QUANTITY_KINDS = ("subscription", "call_pack")  # plans sold in units a buyer may want more than one of
MAX_QUANTITY = 1000
PageArg = Annotated[str | None, QueryParameter(name="page")]  # lenient: a bad page shows the first


def _page_no(value: str | None) -> int:
    text = (value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else 1

STATUS_NAMES = {
    "created": N_("已创建"), "awaiting_approval": N_("待持有方审核"), "awaiting_signature": N_("待签署合同"),
    "awaiting_payment": N_("待付款"), "paid": N_("已付款"), "delivered": N_("已交付，待验收"),
    "completed": N_("已完成"), "cancelled": N_("已取消"), "declined": N_("未通过审核"), "expired": N_("已过期"),
    "refunded": N_("已退款"), "disputed": N_("有异议"),
}
CONTRACT_STATUS_NAMES = {"draft": N_("生成中"), "awaiting_signatures": N_("待签署"), "signed": N_("已签署"),
                         "void": N_("已作废")}
STEPS = (("approval", N_("审核")), ("signature", N_("签约")), ("payment", N_("付款")), ("delivery", N_("交付")),
         ("acceptance", N_("验收")))
# the step each status waits at (0-based); a status past the last step has them all done
_AT_STEP = {"created": 0, "awaiting_approval": 0, "awaiting_signature": 1, "awaiting_payment": 2, "paid": 3,
            "delivered": 4, "disputed": 4, "completed": 5, "refunded": 5}
_ENDED = ("cancelled", "declined", "expired")


def steps(order: dict) -> list[dict]:
    """The stepper: each step done, current or to come; a closed order stops where it was closed."""
    status = order["status"]
    if status in _ENDED:
        # closed while waiting: the step it waited at is where it stopped
        reached = 0 if order["signed_at"] is None and order["contract"] is None else (
            1 if order["signed_at"] is None else 2)
    else:
        reached = _AT_STEP.get(status, 0)
    out = []
    for i, (key, label) in enumerate(STEPS):
        state = "done" if i < reached else ("current" if i == reached else "todo")
        if state == "current" and status in _ENDED:
            state = "stopped"
        out.append({"key": key, "label": label, "state": state,
                    "skipped": key == "payment" and order["total_fen"] == 0})
    return out


def _who(request: Request) -> dict:
    return {"org_id": request.user.org_id, "roles": frozenset(request.user.roles)}


def _int(value, default: int | None = None) -> int | None:
    text = str(value if value is not None else "").strip()
    if not text:
        return default
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise DomainError("order.number_invalid", "请填写正整数")
    return int(text)


def _back(request: Request, url: str, message: str, **params) -> Response:
    return flash(request, Redirect(url), message, **params)


async def _act(request: Request, back: str, call, done: str) -> Response:
    """Run a form's service call; back to the page with what happened, or why it was refused."""
    try:
        await call
    except NotFound:
        raise  # the error page: a stranger learns nothing about the order
    except DomainError as exc:
        return flash_error(request, Redirect(back), exc)
    return _back(request, back, done)


# ---- ordering from the listing page ---------------------------------------------------------


def price_figures(unit_fen: int, quantity: int, vat_bps: int) -> dict:
    """What the buyer pays, as create_order freezes it: unit × quantity, VAT on that, rounded once."""
    amount = Money(unit_fen * quantity)
    tax = amount.apply_bps(vat_bps)
    return {"unit_fen": unit_fen, "quantity": quantity, "amount_fen": amount.amount, "tax_fen": tax.amount,
            "total_fen": (amount + tax).amount, "vat_bps": vat_bps}


def vat_percent(bps: int) -> str:
    whole, rest = divmod(bps, 100)
    return f"{whole}.{rest:02d}".rstrip("0").rstrip(".")


@get("/listings/{listing_id:int}/order/quote", opt=PUBLIC, include_in_schema=False)
async def quote_fragment(request: Request, listing_id: FromPath[int], plan_id: FromQuery[str | None] = None,
                         purpose: FromQuery[str | None] = None, quantity: FromQuery[str | None] = None) -> Template:
    """The order form's price box for one plan, purpose and quantity (an HTML fragment)."""
    principal = request.user
    view = await listings_service.get_listing(
        listing_id=listing_id, viewer_org_id=principal.org_id if principal else None,
        viewer_roles=frozenset(principal.roles) if principal else frozenset())
    vat_bps = request.app.state.settings.vat_bps
    context: dict = {"plan": None, "figures": None, "error": None, "vat_pct": vat_percent(vat_bps),
                     "quantity_kinds": QUANTITY_KINDS, "max_quantity": MAX_QUANTITY}
    try:
        wanted = _int(plan_id)
        plan = next((p for p in view["plans"] if p["id"] == wanted), None)
        if plan is None:
            raise NotFound("price.plan_not_found", "价格方案不存在或已停售")
        context["plan"] = plan
        qty = _int(quantity, 1) if plan["kind"] in QUANTITY_KINDS else 1
        if not 1 <= qty <= MAX_QUANTITY:
            raise DomainError("order.quantity_invalid", "购买数量必须是正整数")
        unit = await listings_service.quote(listing_id=listing_id, plan_id=plan["id"], purpose=purpose or "")
        context["figures"] = price_figures(unit.amount, qty, vat_bps)
    except DomainError as exc:
        context["error"] = {"code": exc.code, "message": exc.message, "params": exc.params or {}}
    return Template(template_name="billing/_quote.html", context=context)


@post("/listings/{listing_id:int}/order", opt=BUYERS, include_in_schema=False)
async def order_submit(request: Request, listing_id: FromPath[int]) -> Response:
    form = await request.form()
    purpose = str(form.get("purpose", ""))
    back = f"/listings/{listing_id}?purpose={urlquote(purpose)}&plan={urlquote(str(form.get('plan_id', '')))}#order"
    try:
        plan_id = _int(form.get("plan_id"), 0)
        quantity = _int(form.get("quantity"))
        order, created = await orders.create_order(
            listing_id=listing_id, plan_id=plan_id, purpose=purpose,
            purpose_note=str(form.get("purpose_note", "")), quantity=quantity, buyer_org_id=request.user.org_id,
            user_id=request.user.user_id, idempotency_key=str(form.get("idempotency_key", "")))
    except DomainError as exc:
        if exc.code == "listing.not_found":
            raise
        return flash_error(request, Redirect(back), exc)
    done = N_("订单已提交") if created else N_("这是刚才已提交的订单")
    return _back(request, f"/orders/{order['id']}", done)


# ---- the order page and its forms -----------------------------------------------------------


async def _invoice_view(order: dict, who: dict) -> dict | None:
    """The order's invoice with its PDF state, for those the invoice is shown to (buyer, overseers)."""
    if not order["invoice"]:
        return None
    try:
        inv = await invoices.get_invoice(number=order["invoice"]["number"], **who)
    except NotFound:
        return None  # the holder: the invoice is between the platform and the buyer
    doc = inv["document"]
    return {"number": inv["number"], "status": inv["status"], "total_fen": inv["total_fen"],
            "ready": bool(doc and doc["status"] == "rendered"),
            "credit_notes": [c["number"] for c in inv["credit_notes"]]}


@get("/orders/{order_id:int}", opt=AUTHENTICATED, include_in_schema=False)
async def order_page(request: Request, order_id: FromPath[int]) -> Template:
    who = _who(request)
    order = await orders.get_order(order_id=order_id, **who)
    row = await Order.select(Order.contract, Order.signed_at, Order.approved_at).where(Order.id == order_id).first()
    user_roles = who["roles"]
    org = who["org_id"]
    is_buyer = org == order["buyer"]["org_id"] and Role.BUYER in user_roles
    is_holder = org == order["holder"]["org_id"] and bool(user_roles & {Role.HOLDER, Role.OPERATOR})
    contract = order["contract"]
    signed_by = contract["signed_by"] if contract else []
    side = "buyer" if is_buyer else ("holder" if is_holder else None)
    settings = request.app.state.settings
    status = order["status"]
    awaiting_payment = status == OrderStatus.AWAITING_PAYMENT.value
    invoice = await _invoice_view(order, who)
    contract_pending = status == OrderStatus.AWAITING_SIGNATURE.value and contract is not None \
        and not contract["sha256"]
    return page(
        request, "billing/order.html", order=order, steps=steps({**order, **row}), status_names=STATUS_NAMES,
        contract_status_names=CONTRACT_STATUS_NAMES, purposes=pricing.PURPOSES, is_buyer=is_buyer,
        is_holder=is_holder, is_admin=Role.ADMIN in user_roles, side=side, invoice=invoice,
        can_sign=(side is not None and status == OrderStatus.AWAITING_SIGNATURE.value and contract is not None
                  and bool(contract["sha256"]) and side not in signed_by),
        can_cancel=is_buyer and status in {s.value for s in orders.WAITING},
        bank=payments.collection_account(settings) if awaiting_payment else None,
        due_fen=order["total_fen"] - order["paid_fen"],
        stripe=awaiting_payment and is_buyer and settings.payments_provider == "stripe",
        stripe_key=getattr(settings, "stripe_publishable_key", ""),
        refresh=contract_pending or bool(invoice and not invoice["ready"]),
        vat_pct=vat_percent(order["tax_rate_bps"]), approved=row["approved_at"] is not None)


def _back_to(order_id: int) -> str:
    return f"/orders/{order_id}"


@post("/orders/{order_id:int}/sign", opt=SIGNERS, include_in_schema=False)
async def sign_form(request: Request, order_id: FromPath[int]) -> Response:
    form = await request.form()
    sha256 = str(form.get("sha256", "")).strip() or None
    return await _act(request, _back_to(order_id), orders.sign(
        order_id=order_id, org_id=request.user.org_id, roles=frozenset(request.user.roles),
        user_id=request.user.user_id, ip=request.client.host if request.client else "", expected_sha256=sha256),
        N_("合同已签署"))


@post("/orders/{order_id:int}/cancel", opt=BUYERS, include_in_schema=False)
async def cancel_form(request: Request, order_id: FromPath[int]) -> Response:
    return await _act(request, _back_to(order_id), orders.cancel(order_id=order_id, org_id=request.user.org_id),
                      N_("订单已取消"))


@post("/orders/{order_id:int}/confirm", opt=BUYERS, include_in_schema=False)
async def confirm_form(request: Request, order_id: FromPath[int]) -> Response:
    return await _act(request, _back_to(order_id), orders.confirm(order_id=order_id, org_id=request.user.org_id),
                      N_("已确认验收"))


@post("/orders/{order_id:int}/dispute", opt=BUYERS, include_in_schema=False)
async def dispute_form(request: Request, order_id: FromPath[int]) -> Response:
    form = await request.form()
    return await _act(request, _back_to(order_id), orders.dispute(
        order_id=order_id, org_id=request.user.org_id, reason=str(form.get("reason", ""))), N_("异议已提交"))


@post("/orders/{order_id:int}/approve", opt=HOLDERS, include_in_schema=False)
async def approve_form(request: Request, order_id: FromPath[int]) -> Response:
    form = await request.form()
    return await _act(request, _back_to(order_id), orders.approve(
        order_id=order_id, org_id=request.user.org_id, note=str(form.get("note", ""))), N_("已通过审核"))


@post("/orders/{order_id:int}/decline", opt=HOLDERS, include_in_schema=False)
async def decline_form(request: Request, order_id: FromPath[int]) -> Response:
    form = await request.form()
    # the approval form has one text box: declining makes it the reason
    reason = str(form.get("reason") or form.get("note") or "")
    return await _act(request, _back_to(order_id), orders.decline(
        order_id=order_id, org_id=request.user.org_id, reason=reason), N_("已拒绝该订单"))


def _fen_of(text) -> int:
    try:
        return Money.of_yuan(str(text or "").strip()).amount
    except MoneyError:
        raise DomainError("payment.amount_format", "请按元填写金额，最多两位小数，例如 5000 或 5000.50") from None


@post("/orders/{order_id:int}/receipt", opt=FINANCE, include_in_schema=False)
async def receipt_form(request: Request, order_id: FromPath[int]) -> Response:
    form = await request.form()
    back = _back_to(order_id)
    try:
        amount = _fen_of(form.get("amount_yuan"))
    except DomainError as exc:
        return flash_error(request, Redirect(back), exc)
    return await _act(request, back, orders.record_receipt(
        order_id=order_id, amount_fen=amount, reference=str(form.get("reference", "")),
        recorded_by=request.user.label), N_("收款已登记"))


# ---- lists -------------------------------------------------------------------------------------


@get("/orders", opt=BUYERS, include_in_schema=False)
async def orders_page(request: Request, status: FromQuery[str | None] = None,
                      page_no: PageArg = None) -> Template:
    status = status if status in STATUS_NAMES else None
    p, size = page_params(_page_no(page_no), 50)
    # a buyer's own orders, also for a user who oversees as well: this is 我的订单
    rows, total = await orders.list_orders(org_id=request.user.org_id, roles=frozenset({Role.BUYER}),
                                           status=status, page=p, page_size=size)
    return page(request, "billing/orders.html", rows=rows, total=total, status=status, status_names=STATUS_NAMES,
                purposes=pricing.PURPOSES, pager={"page": p, "pages": (total + size - 1) // size})


@get("/contracts", opt=PARTIES, include_in_schema=False)
async def contracts_page(request: Request, page_no: PageArg = None) -> Template:
    p, size = page_params(_page_no(page_no), 50)
    rows, total = await contracts_service.list_contracts(org_id=request.user.org_id, page=p, page_size=size)
    ids = [r["id"] for r in rows]
    by_contract = {}
    if ids:
        for o in await Order.select(Order.id, Order.contract).where(Order.contract.is_in(ids)):
            by_contract[o["contract"]] = o["id"]
    org = request.user.org_id
    return page(request, "billing/contracts.html", rows=[
        {**r, "order_id": by_contract.get(r["id"]), "side": "buyer" if r["buyer_org"] == org else "holder"}
        for r in rows], status_names=CONTRACT_STATUS_NAMES, pager={"page": p, "pages": (total + size - 1) // size})


@get("/invoices", opt=BUYERS, include_in_schema=False)
async def invoices_page(request: Request, page_no: PageArg = None) -> Template:
    p, size = page_params(_page_no(page_no), 50)
    # the buyer organization's own (an overseer's view of all invoices is finance's page)
    rows, total = await invoices.list_invoices(org_id=request.user.org_id, roles=frozenset({Role.BUYER}),
                                               page=p, page_size=size)
    return page(request, "billing/invoices.html", rows=rows,
                pager={"page": p, "pages": (total + size - 1) // size})


router = Router(path="/", route_handlers=[
    quote_fragment, order_submit, order_page, sign_form, cancel_form, confirm_form, dispute_form, approve_form,
    decline_form, receipt_form, orders_page, contracts_page, invoices_page,
], include_in_schema=False)

__all__ = ["price_figures", "router", "steps"]
