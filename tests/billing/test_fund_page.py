"""The public 治理基金 page: the figures, the chart's data, the disbursements, how the fund is fed; no
holder's sales; in Chinese and in English."""

from __future__ import annotations

import html
import json
import re

from billing import ledger
from billing.disbursements import service
from billing.tables import JournalTxn
from factories import make_org

CHART = re.compile(r'data-fund-chart="([^"]*)"')


async def _fund_with_history() -> dict:
    h1 = await make_org("杭州市卫生健康委员会", kind="government")
    h2 = await make_org("杭州市疾病预防控制中心", kind="institution")
    agency = await make_org("杭州市数据资源管理局", kind="government")
    recipient = await make_org("杭州数据清洗服务有限公司")
    for ref, holder, amount, tier in [("order:1", h1, 1_000_000, "product"), ("order:2", h2, 1_000_000, "cleaned"),
                                      ("order:3", h2, 200_000, "raw")]:
        await ledger.record_payment(order_ref=ref, total_fen=amount, provider="bank_transfer")
        await ledger.release(order_ref=ref, holder_org_id=holder["id"], amount_fen=amount, tax_fen=0, tier=tier)
    # fund: product 30,000 + cleaned 24,000 + raw 3,000 = 57,000; the cleaned sale in an earlier month
    old = await JournalTxn.select(JournalTxn.id).where(JournalTxn.reference == "order:2",
                                                       JournalTxn.kind == "release").first()
    await JournalTxn.update({JournalTxn.period: "2026-01"}).where(JournalTxn.id == old["id"])
    paid = await service.propose(purpose="cleaning_bounty", title="清洗公交站点原始数据的悬赏", reason="多家买方需要",
                                 amount_fen=12_345, recipient_org_id=recipient["id"])
    await service.approve(proposal_id=paid["id"], agency_org_id=agency["id"])
    await service.pay(proposal_id=paid["id"])
    approved = await service.propose(purpose="quality", title="空气质量数据质量评估", reason="质量评分偏低",
                                     amount_fen=5_000, recipient_org_id=recipient["id"])
    await service.approve(proposal_id=approved["id"], agency_org_id=agency["id"])
    await service.propose(purpose="other", title="尚未批准的提议", reason="待定", amount_fen=1_000,
                          recipient_org_id=recipient["id"])
    now = (await JournalTxn.select(JournalTxn.period).where(JournalTxn.id != old["id"]).first())["period"]
    return {"now": now}


async def test_public_page_shows_figures_chart_and_spends(client):
    w = await _fund_with_history()
    resp = await client.get("/fund")  # anyone, without logging in
    assert resp.status_code == 200, resp.text
    page = resp.text
    # balance 57,000 - 12,345 = 44,655; inflow 57,000; outflow 12,345
    assert re.search(r'data-testid="fund-balance">¥446\.55<', page)
    assert re.search(r'data-testid="fund-inflow">¥570\.00<', page)
    assert re.search(r'data-testid="fund-outflow">¥123\.45<', page)
    chart = json.loads(html.unescape(CHART.search(page).group(1)))
    assert chart == {"months": ["2026-01", w["now"]], "inflow_fen": [24_000, 33_000], "outflow_fen": [0, 12_345]}
    assert '/static/vendor/chartjs-4.6.2/chart.umd.min.js' in page and "cdn" not in page.lower()
    tiers = page[page.index('data-testid="fund-tiers"'):]
    assert "¥240.00" in tiers and "¥300.00" in tiers and "¥30.00" in tiers
    purposes = page[page.index('data-testid="fund-purposes"'):]
    assert "数据清洗悬赏" in purposes and "¥123.45" in purposes
    spends = page[page.index('data-testid="fund-spends"'):]
    assert "清洗公交站点原始数据的悬赏" in spends and "空气质量数据质量评估" in spends
    assert "杭州数据清洗服务有限公司" in spends
    assert "尚未批准的提议" not in page  # only approved and paid spends are public
    # how the fund is fed, from the configured rates: 30% of a 10% commission on ¥10,000 = ¥300
    assert "30%" in page and "¥300.00" in page
    # a holder's inflows would reveal its sales: no holder is named on the public page
    assert "杭州市卫生健康委员会" not in page and "杭州市疾病预防控制中心" not in page


async def test_empty_fund_page(client):
    resp = await client.get("/fund")
    assert resp.status_code == 200
    assert "data-fund-chart" not in resp.text and "基金尚无收支" in resp.text
    assert re.search(r'data-testid="fund-balance">¥0\.00<', resp.text)


async def test_english_switch(client):
    await _fund_with_history()
    client.cookies.set("lang", "en")
    page = (await client.get("/fund")).text
    assert "Governance fund" in page and "Cleaning bounty" in page and "Inflow" in page
    text = _visible(page)
    for data in ["杭州数据清洗服务有限公司", "清洗公交站点原始数据的悬赏", "空气质量数据质量评估", "中文"]:
        text = text.replace(data, "")  # what people wrote, and the switch back to Chinese
    assert not re.findall(r"[\u4e00-\u9fff]+", text)


def _visible(page: str) -> str:
    return re.sub(r"<[^>]+>", " ", page[page.index("<body"):])


async def test_linked_from_the_top_bar_and_the_landing_page(client):
    page = (await client.get("/")).text
    assert page.count('href="/fund"') >= 2  # the bar and the landing page
