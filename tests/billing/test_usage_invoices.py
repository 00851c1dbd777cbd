"""Base + usage plans: a month's calls above those included are invoiced at their tiers, once (the same
month again returns the same invoice), and a paid usage invoice is posted like a sale. The price rule
of a single call (its tier) adds up to the plan's price for every count (Hypothesis)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from billing import ledger, usage
from billing.invoices.tables import Invoice
from listings import pricing
from listings.dataapi import _meter
from listings.dataapi.tables import ApiCall
from market.errors import DomainError
from data_api_steps import api_entitlement, bearer, key_for

TIERS = ((2, 50), (None, 20))


async def test_month_invoice_is_exact_idempotent_and_posted_like_a_sale(client, job_runtime):
    plan = pricing.PlanSpec(kind="base_usage", name="基础费加用量", price_fen=10_000, calls=3, tiers=TIERS)
    _holder, buyer, _listing, eid = await api_entitlement(client, job_runtime, plan=plan)
    secret = await key_for(client, buyer, eid)
    for _ in range(8):
        resp = await client.get(f"/api/v1/data/{eid}/rows", headers=bearer(secret), params={"limit": "1"})
        assert resp.status_code == 200 and "X-Quota-Limit" not in resp.headers  # no quota on a usage plan
    period = _meter.period_of(datetime.now(timezone.utc))
    with pytest.raises(DomainError) as refused:  # the month is still running: its count still moves
        await usage.invoice_month(entitlement_id=eid, period=period)
    assert refused.value.code == "usage.period_open"
    later = datetime.now(timezone.utc) + timedelta(days=32)
    assert await usage.invoice_period(period=period) == [eid]
    invoice = await usage.invoice_month(entitlement_id=eid, period=period, now=later)
    # 8 calls, 3 included: 5 billable = 2 at 50 + 3 at 20 = 160 分; VAT per line, half up (6 + 3.6→4)
    assert (invoice["amount_fen"], invoice["tax_fen"], invoice["total_fen"]) == (160, 10, 170)
    prices = await ApiCall.select(ApiCall.price_fen).where(ApiCall.entitlement == eid)
    assert sum(p["price_fen"] for p in prices) == 160  # every call priced at its tier when it was answered
    again = await usage.invoice_month(entitlement_id=eid, period=period, now=later)
    assert again["number"] == invoice["number"] and await Invoice.count() == 2  # the order's own + this one
    await usage.settle_month(entitlement_id=eid, period=period, now=later)
    await usage.settle_month(entitlement_id=eid, period=period, now=later)
    ref = usage.usage_ref(invoice["order_id"], period)
    assert await ledger.held_in_escrow(reference=ref) == 0
    assert (await ledger.check()).ok


async def test_a_month_within_the_included_calls_has_no_invoice(client, job_runtime):
    plan = pricing.PlanSpec(kind="base_usage", name="基础费加用量", price_fen=10_000, calls=3, unit_fen=7)
    _holder, buyer, _listing, eid = await api_entitlement(client, job_runtime, plan=plan)
    secret = await key_for(client, buyer, eid)
    for _ in range(3):
        assert (await client.get(f"/api/v1/data/{eid}/rows", headers=bearer(secret))).status_code == 200
    period = _meter.period_of(datetime.now(timezone.utc))
    later = datetime.now(timezone.utc) + timedelta(days=32)
    assert await usage.invoice_month(entitlement_id=eid, period=period, now=later) is None
    assert (await client.get(f"/api/v1/data/{eid}/rows", headers=bearer(secret))).status_code == 200
    invoice = await usage.invoice_month(entitlement_id=eid, period=period, now=later)
    assert (invoice["amount_fen"], invoice["tax_fen"]) == (7, 0)


tiers_strategy = st.lists(st.tuples(st.integers(1, 50), st.integers(0, 10_000)), min_size=1, max_size=4).map(
    lambda parts: tuple((sum(p[0] for p in parts[:i + 1]), p[1]) for i, p in enumerate(parts[:-1]))
    + ((None, parts[-1][1]),))


@settings(max_examples=200, deadline=None)
@given(tiers=tiers_strategy, n=st.integers(0, 300), included=st.integers(0, 50), unit=st.integers(0, 1000),
       flat=st.booleans())
def test_each_call_at_its_tier_adds_up_to_the_plan_price(tiers, n, included, unit, flat):
    tiers = () if flat else tiers
    pack = [_meter.call_price(i, kind="call_pack", included=0, unit_fen=unit, tiers=tiers) for i in range(1, n + 1)]
    assert sum(pack) == (pricing.tiered_amount(n, tiers) if tiers else 0)
    if tiers:  # the n-th call costs the unit of the tier it falls in
        for i, price in enumerate(pack, start=1):
            assert price == next(u for up_to, u in tiers if up_to is None or i <= up_to)
    used = [_meter.call_price(i, kind="base_usage", included=included, unit_fen=unit, tiers=tiers)
            for i in range(1, n + 1)]
    spec = pricing.PlanSpec(kind="base_usage", name="x", price_fen=0, calls=included, unit_fen=unit, tiers=tiers)
    assert sum(used) == pricing.list_price(spec, calls=n) == _meter.usage_amount(n, included=included, unit_fen=unit,
                                                                                 tiers=tiers)
    assert all(p == 0 for p in used[:included])
    lines = usage.lines_for(n, included=included, unit_fen=unit, tiers=tiers, vat_bps=600)
    assert sum(line["amount_fen"] for line in lines) == sum(used)
    assert all(line["amount_fen"] == line["quantity"] * line["unit_price_fen"] for line in lines)
