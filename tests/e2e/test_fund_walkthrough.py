"""The governance fund in a real browser: the platform proposes a spend, the agency approves it, the
platform pays it; the public 治理基金 page lists it and its chart is drawn by the vendored Chart.js
(no network), at 1280 px and on a 390 px phone, without console errors or sideways scrolling."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from playwright.async_api import Page, expect

from ui_steps import login, logout

# Money reaches the fund only when a sale is released; no page does that on its own yet, so two sales
# are posted through billing.ledger inside the server's own database (one of them in an earlier month).
SEED = r'''
import asyncio
from market import cli, db

async def main():
    settings = cli._prepare(cli._settings())
    await db.start(settings)
    try:
        from billing import ledger
        from billing.tables import JournalTxn
        from market.tables import Organization
        holder = await Organization.select(Organization.id).where(Organization.name == "杭州市卫生健康委员会").first()
        for ref, amount, tier in [("e2e-fund:1", 2_000_000, "product"), ("e2e-fund:2", 1_000_000, "cleaned")]:
            await ledger.record_payment(order_ref=ref, total_fen=amount, provider="bank_transfer")
            await ledger.release(order_ref=ref, holder_org_id=holder["id"], amount_fen=amount, tax_fen=0, tier=tier)
        await JournalTxn.update({JournalTxn.period: "2026-01"}).where(JournalTxn.reference == "e2e-fund:2")
    finally:
        await db.stop()

asyncio.run(main())
'''

TITLE = "清洗公交站点原始数据的悬赏（浏览器测试）"

# what the chart drew: Chart.js's own record of it, the canvas's size, and whether any pixel is painted
_CHART = """() => {
  const canvas = document.querySelector('canvas[data-fund-chart]');
  if (!canvas) return null;
  const chart = window.Chart && window.Chart.getChart(canvas);
  const box = canvas.getBoundingClientRect();
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
  return {width: box.width, height: box.height, painted, drawn: canvas.dataset.drawn,
          labels: chart ? chart.data.labels : null,
          series: chart ? chart.data.datasets.map(d => d.data) : null,
          scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth};
}"""


@pytest.fixture(scope="module")
def funded(live_env):
    done = subprocess.run([sys.executable, "-c", SEED], env=live_env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return live_env


def _watch_console(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


async def test_propose_approve_pay_and_the_public_chart(page: Page, funded, live_server, tmp_path):
    errors = _watch_console(page)
    # nothing but the server itself may be asked for anything: a CDN request would show up here
    foreign: list[str] = []
    page.on("request", lambda req: None if req.url.startswith(live_server) else foreign.append(req.url))
    await page.set_viewport_size({"width": 1280, "height": 800})
    await login(page, "admin@demo.cn")
    await page.goto("/fund/proposals")
    form = page.get_by_test_id("propose-form")
    if not await form.is_visible():
        await page.locator("details.card > summary").click()
    await form.locator("select[name=purpose]").select_option("cleaning_bounty")
    await form.locator("input[name=title]").fill(TITLE)
    await form.locator("input[name=amount_yuan]").fill("100.00")
    await form.locator("select[name=recipient_org_id]").select_option(label="杭州城市大数据运营有限公司")
    await form.locator("textarea[name=reason]").fill("需求广场上多家买方需要清洗后的公交站点数据")
    await form.get_by_role("button", name="提交实施机构审批").click()
    card = page.locator("article.proposal", has_text=TITLE)
    await expect(card).to_have_attribute("data-status", "proposed")
    await logout(page)

    await login(page, "agency@demo.cn")
    await page.goto("/fund/proposals")
    card = page.locator("article.proposal", has_text=TITLE)
    await card.locator("input[name=note]").fill("同意，按期验收")
    await card.get_by_role("button", name="批准").click()
    await expect(page.locator("article.proposal", has_text=TITLE)).to_have_attribute("data-status", "approved")
    await logout(page)

    await login(page, "admin@demo.cn")
    await page.goto("/fund/proposals")
    await page.locator("article.proposal", has_text=TITLE).get_by_role("button", name="拨付 ¥100.00").click()
    await expect(page.locator("article.proposal", has_text=TITLE)).to_have_attribute("data-status", "paid")
    await logout(page)

    api = json.loads(await (await page.request.get("/api/v1/fund")).text())
    for width, height in [(1280, 800), (390, 844)]:
        await page.set_viewport_size({"width": width, "height": height})
        await page.goto("/fund")
        await expect(page.locator("canvas[data-fund-chart]")).to_have_attribute("data-drawn", "true")
        got = await page.evaluate(_CHART)
        assert got["width"] > 200 and got["height"] > 200, (width, got)
        assert got["painted"] > 1000, (width, got)  # bars, axes and legend, not a blank canvas
        assert got["labels"] == [m["month"] for m in api["by_month"]]
        assert got["series"] == [[m["inflow_fen"] / 100 for m in api["by_month"]],
                                 [m["outflow_fen"] / 100 for m in api["by_month"]]]
        assert got["scrollWidth"] <= got["clientWidth"], (width, got)
        assert got["width"] <= width
        spends = page.get_by_test_id("fund-spends")
        await expect(spends).to_contain_text(TITLE)
        await expect(spends).to_contain_text("¥100.00")
        await expect(page.get_by_test_id("fund-balance")).to_have_text(
            "¥{:,.2f}".format(api["balance_fen"] / 100))
        await page.screenshot(path=str(tmp_path / f"fund-{width}.png"), full_page=True)
    assert api["outflow_fen"] >= 10_000 and "2026-01" in [m["month"] for m in api["by_month"]]

    # the English switch: the same page, the chart's legend in English
    await page.set_viewport_size({"width": 1024, "height": 800})
    await page.goto("/lang/en?next=/fund")
    await expect(page.get_by_role("heading", name="Governance fund", exact=True)).to_be_visible()
    await expect(page.locator("canvas[data-fund-chart]")).to_have_attribute("data-label-in", "Inflow")
    await expect(page.locator("canvas[data-fund-chart]")).to_have_attribute("data-drawn", "true")
    await page.goto("/lang/zh?next=/fund")
    assert not errors, errors
    assert not foreign, foreign


async def test_fund_is_in_the_top_bar_for_everyone(page: Page, funded):
    await page.set_viewport_size({"width": 1024, "height": 800})
    await page.goto("/")
    await page.locator("header").get_by_role("link", name="治理基金", exact=True).click()
    await expect(page.get_by_role("heading", name="治理基金", exact=True)).to_be_visible()
    await page.goto("/")
    await page.locator("main").get_by_role("link", name="查看治理基金收支").click()
    await expect(page).to_have_url(re.compile(r"/fund$"))
