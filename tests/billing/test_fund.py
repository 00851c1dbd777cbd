"""The governance fund read model and its public API."""

from __future__ import annotations

import pytest

from billing import fund, ledger
from billing.tables import JournalTxn
from factories import make_org


@pytest.fixture
async def holders():
    return await make_org("杭州市卫生健康委员会", kind="government"), await make_org("杭州市疾病预防控制中心",
                                                                                   kind="institution")


async def sale(ref: str, holder: dict, amount_fen: int, tier: str) -> int:
    await ledger.record_payment(order_ref=ref, total_fen=amount_fen, provider="bank_transfer")
    return (await ledger.release(order_ref=ref, holder_org_id=holder["id"], amount_fen=amount_fen, tax_fen=0,
                                 tier=tier)).txn_id


async def test_fund_by_month_tier_and_holder(holders):
    h1, h2 = holders
    # fund share at the default rates (30% of 5% / 8% / 10%): raw 1.5%, cleaned 2.4%, product 3%
    await sale("order:1", h1, 1_000_000, "product")  # fund 30,000
    old = await sale("order:2", h2, 1_000_000, "cleaned")  # fund 24,000
    await sale("order:3", h2, 200_000, "raw")  # fund 3,000
    await ledger.refund(order_ref="order:1", amount_fen=500_000)  # reverses half: fund -15,000
    await ledger.disburse_fund(amount_fen=10_000, reference="proposal:1")
    # a sale of an earlier month: the period is fixed when posting, so move it as time would have
    await JournalTxn.update({JournalTxn.period: "2026-01"}).where(JournalTxn.id == old)
    now = (await JournalTxn.select(JournalTxn.period).where(JournalTxn.id != old).first())["period"]

    s = await fund.summary()
    assert (s["inflow_fen"], s["outflow_fen"], s["balance_fen"]) == (42_000, 10_000, 32_000)
    assert s["balance_fen"] == await ledger.balance(account_code="fund")
    assert s["by_month"] == [{"month": "2026-01", "inflow_fen": 24_000, "outflow_fen": 0},
                             {"month": now, "inflow_fen": 18_000, "outflow_fen": 10_000}]
    assert s["inflow_by_tier"] == [{"tier": "cleaned", "inflow_fen": 24_000}, {"tier": "product", "inflow_fen": 15_000},
                                   {"tier": "raw", "inflow_fen": 3_000}]
    assert s["inflow_by_holder"] == [
        {"holder_id": h2["id"], "holder_name": "杭州市疾病预防控制中心", "inflow_fen": 27_000},
        {"holder_id": h1["id"], "holder_name": "杭州市卫生健康委员会", "inflow_fen": 15_000}]


async def test_empty_fund():
    s = await fund.summary()
    assert s == {"balance_fen": 0, "inflow_fen": 0, "outflow_fen": 0, "by_month": [], "inflow_by_tier": [],
                 "inflow_by_holder": []}


async def test_public_fund_api(client, holders):
    await sale("order:1", holders[0], 1_000_000, "product")
    await ledger.disburse_fund(amount_fen=1_000, reference="proposal:1")
    resp = await client.get("/api/v1/fund")  # no login: the fund is public
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["balance_fen"], body["inflow_fen"], body["outflow_fen"]) == (29_000, 30_000, 1_000)
    assert [(m["inflow_fen"], m["outflow_fen"]) for m in body["by_month"]] == [(30_000, 1_000)]
    assert body["inflow_by_tier"] == [{"tier": "product", "inflow_fen": 30_000}]
    assert "inflow_by_holder" not in body


async def test_fund_api_refuses_writes(client):
    resp = await client.post("/api/v1/fund", json={})
    assert resp.status_code == 405
