"""销售 and 财务 in a real browser: the holder finds its sales page in the top bar, sees what it is owed
and the monthly chart drawn; finance records a payout from its page (a double click pays once); the
holder then sees the payout and a smaller balance. At 1280 px and on a 390 px phone, without
console errors, requests elsewhere or sideways scrolling."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from playwright.async_api import Page, expect

from ui_steps import login, logout, nav

# Releases reach a holder's payable when buyers accept deliveries; the demo has no orders of its own yet,
# so two sales are posted through billing.ledger inside the server's own database.
SEED = r'''
import asyncio
from market import cli, db

async def main():
    settings = cli._prepare(cli._settings())
    await db.start(settings)
    try:
        from billing import ledger
        from market.tables import Organization
        holder = await Organization.select(Organization.id).where(Organization.name == "杭州市卫生健康委员会").first()
        for ref in ("e2e-sales:1", "e2e-sales:2"):
            await ledger.record_payment(order_ref=ref, total_fen=530_000, provider="bank_transfer")
            await ledger.release(order_ref=ref, holder_org_id=holder["id"], amount_fen=500_000, tax_fen=30_000,
                                 tier="product")
        print(holder["id"])
    finally:
        await db.stop()

asyncio.run(main())
'''

_FITS = """() => ({scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth,
  drawn: (document.querySelector('canvas[data-fund-chart]') || {dataset: {}}).dataset.drawn || null})"""


@pytest.fixture(scope="module")
def holder_id(live_env):
    done = subprocess.run([sys.executable, "-c", SEED], env=live_env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip().splitlines()[-1])


def _watch(page: Page, live_server: str) -> tuple[list[str], list[str]]:
    errors: list[str] = []
    foreign: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda req: None if req.url.startswith(live_server) else foreign.append(req.url))
    return errors, foreign


async def _summary(page: Page) -> dict:
    return json.loads(await (await page.request.get("/api/v1/sales/summary")).text())


def _yuan(fen: int) -> str:
    return "¥{:,.2f}".format(fen / 100)


async def test_holder_sees_sales_and_finance_pays_once(page: Page, holder_id, live_server, tmp_path):
    errors, foreign = _watch(page, live_server)
    await page.set_viewport_size({"width": 1280, "height": 800})
    await login(page, "holder@demo.cn")
    await nav(page, "销售")
    await expect(page.get_by_role("heading", name="销售", exact=True)).to_be_visible()
    before = await _summary(page)
    assert before["payable_fen"] >= 900_000  # the two sales, net of 10% commission
    for width, height in [(1280, 800), (390, 844)]:
        await page.set_viewport_size({"width": width, "height": height})
        await page.goto("/sales")
        await expect(page.get_by_test_id("payable")).to_have_text(_yuan(before["payable_fen"]))
        await expect(page.locator("canvas[data-fund-chart]")).to_have_attribute("data-drawn", "true")
        fits = await page.evaluate(_FITS)
        assert fits["scrollWidth"] <= fits["clientWidth"], (width, fits)
        await page.screenshot(path=str(tmp_path / f"sales-{width}.png"), full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 800})  # the phone folds 退出 behind 菜单
    await logout(page)

    await login(page, "admin@demo.cn")
    await nav(page, "财务")
    await expect(page.get_by_role("heading", name="财务", exact=True)).to_be_visible()
    await expect(page.get_by_test_id("ledger-check")).to_have_text("通过")
    row = page.locator(f"tr[data-holder='{holder_id}']")
    await row.locator("input[name=amount_yuan]").fill("100.00")
    await row.locator("input[name=bank_reference]").fill("ICBC-E2E-0001")
    # a double click sends the form twice with the same token: one payout
    await row.get_by_role("button", name="登记付款").dblclick()
    await expect(page.get_by_test_id("recent-payouts")).to_contain_text("ICBC-E2E-0001")
    await page.goto("/finance")
    assert await page.get_by_test_id("recent-payouts").locator("tr", has_text="ICBC-E2E-0001").count() == 1
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto("/finance")
    fits = await page.evaluate(_FITS)
    assert fits["scrollWidth"] <= fits["clientWidth"], fits
    await page.screenshot(path=str(tmp_path / "finance-390.png"), full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 800})
    await logout(page)

    await login(page, "holder@demo.cn")
    await page.goto("/sales")
    after = await _summary(page)
    assert after["payable_fen"] == before["payable_fen"] - 10_000
    assert after["paid_out_fen"] == before["paid_out_fen"] + 10_000
    await expect(page.get_by_test_id("payouts")).to_contain_text("ICBC-E2E-0001")
    await expect(page.get_by_test_id("closing")).to_have_text(_yuan(after["payable_fen"]))
    assert not errors, errors
    assert not foreign, foreign
