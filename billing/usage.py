"""Monthly usage invoices of base + usage plans: the calls of a calendar month above those the plan
includes, priced at their tiers (or the unit price), invoiced through billing.invoices and, once paid,
posted to the ledger exactly as a sale is (payment into escrow, then release to the holder's payable,
the platform's commission, the fund's share and VAT).

The count comes from listings.dataapi (its meters, one per entitlement and month, advanced by a
compare-and-set on every answered call). A job per month visits every base + usage entitlement with
calls; `invoice_month` is idempotent (the invoice's order reference is "<order ref>:usage:<YYYY-MM>",
and billing.invoices issues one normal invoice per reference), so a rerun, or two workers, issue one.
Only a month that has ended is invoiced: its count no longer moves.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from billing import invoices, ledger
from billing.orders import _common
from billing.orders.tables import Order
from listings import pricing
from listings.dataapi import _meter
from listings.dataapi import service as dataapi
from listings.tables import PlanKind
from market import jobs, runtime
from market.errors import DomainError, NotFound
from market.i18n import N_


def usage_ref(order_id: int, period: str) -> str:
    return f"{_common.ref(order_id)}:usage:{period}"


def _check_period(period: str, now: datetime) -> None:
    try:
        start = datetime.strptime(period, "%Y-%m")
    except ValueError:
        raise DomainError("usage.period_invalid", N_("月份格式应为 YYYY-MM")) from None
    if period >= _meter.period_of(now) or start.year < 2000:
        raise DomainError("usage.period_open", N_("只能为已结束的月份开具用量发票"))


def lines_for(calls: int, *, included: int, unit_fen: int, tiers: tuple, vat_bps: int) -> list[dict]:
    """Invoice lines of a month's billable calls: one line per tier reached (quantity × the tier's
    unit), or one line at the unit price; each line's amount is exactly unit × quantity."""
    over = max(0, calls - included)
    segments: list[tuple[int, int]] = []
    if tiers:
        start = 0
        for up_to, unit in tiers:
            end = over if up_to is None else min(over, up_to)
            if end > start:
                segments.append((end - start, unit))
                start = end
            if up_to is not None and over <= up_to:
                break
    elif over:
        segments.append((over, unit_fen))
    return [{"item": invoices.DEFAULT_ITEM, "spec": "数据接口调用", "unit": "次", "quantity": n,
             "unit_price_fen": unit, "amount_fen": n * unit, "tax_rate_bps": vat_bps,
             "tax_fen": invoices.line_tax(n * unit, vat_bps)} for n, unit in segments if n * unit > 0]


async def invoice_month(*, entitlement_id: int, period: str, now: datetime | None = None) -> dict | None:
    """The usage invoice of one base + usage entitlement for one ended month (the same again returns
    it); None when the month has nothing billable."""
    now = now or datetime.now(timezone.utc)
    _check_period(period, now)
    usage = await dataapi.month_usage(entitlement_id=entitlement_id, period=period)
    e = usage["entitlement"]
    if e["kind"] != PlanKind.BASE_USAGE.value:
        raise DomainError("usage.not_usage_plan", N_("只有基础费加用量方案按月开具用量发票"))
    order_id = _common.order_id_of(e["source_ref"] or "")
    order = await Order.select().where(Order.id == order_id).first() if order_id else None
    if order is None:
        raise NotFound("order.not_found", N_("订单不存在"))
    spec = pricing.spec_from_row(usage["plan"])
    lines = lines_for(usage["calls"], included=usage["included"], unit_fen=spec.unit_fen, tiers=spec.tiers,
                      vat_bps=order["tax_rate_bps"])
    if not lines:
        return None
    amount = sum(line["amount_fen"] for line in lines)
    assert amount == usage["amount_fen"]  # the invoice and the meter's price rule are the same rule
    tax = sum(line["tax_fen"] for line in lines)
    parties = json.loads(order["parties"])
    ref = usage_ref(order["id"], period)
    return await invoices.issue_invoice(order_snapshot={
        "order_ref": ref, "order_id": order["id"], "seller": invoices.platform_seller(runtime.settings()),
        "buyer": {key: parties["buyer"].get(key, "") for key in
                  ("org_id", "name", "credit_code", "address", "bank_name", "bank_account")},
        "lines": lines, "amount_fen": amount, "tax_fen": tax, "total_fen": amount + tax,
        "registration_code": order["registration_code"],
        "listing_title": f"{order['listing_title']}（{period} 调用 {usage['calls']} 次，含 {usage['included']} 次）",
        "payment": {"reference": ref, "account_name": runtime.settings().collection_account_name,
                    "account_number": runtime.settings().collection_account_number,
                    "bank": runtime.settings().collection_bank},
    })


async def settle_month(*, entitlement_id: int, period: str, provider: str = "bank_transfer",
                       now: datetime | None = None) -> None:
    """The buyer paid a month's usage invoice: post it as a sale (payment into escrow, then release to
    the holder, commission, fund and VAT at the order's frozen rates); idempotent."""
    invoice = await invoice_month(entitlement_id=entitlement_id, period=period, now=now)
    if invoice is None:
        return
    order = await Order.select().where(Order.id == invoice["order_id"]).first()
    ref = invoice["order_ref"]
    await ledger.record_payment(order_ref=ref, total_fen=invoice["total_fen"], provider=provider)
    await ledger.release(order_ref=ref, holder_org_id=order["holder_org"], amount_fen=invoice["amount_fen"],
                         tax_fen=invoice["tax_fen"], tier=order["tier"], commission_bps=order["commission_bps"],
                         fund_share_bps=order["fund_share_bps"])


async def invoice_period(*, period: str) -> list[int]:
    """Send one job per base + usage entitlement with calls in the month (ids returned)."""
    ids = await dataapi.usage_entitlements(period=period)
    for entitlement_id in ids:
        await jobs.enqueue("billing.usage.invoice_month", entitlement_id=entitlement_id, period=period)
    return ids


@jobs.job(name="billing.usage.invoice_month", max_retries=5)
async def invoice_month_job(entitlement_id: int, period: str) -> None:
    await invoice_month(entitlement_id=entitlement_id, period=period)


@jobs.job(name="billing.usage.invoice_last_month", every_seconds=6 * 3600)
async def invoice_last_month() -> None:
    """Periodic: the month that ended is invoiced (every run after the first finds the invoices issued)."""
    now = datetime.now(_meter.CHINA)
    last = (now.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    await invoice_period(period=last)
