"""The regulator's desk in a real browser (demo data): regulator@demo.cn finds a price-above-cap alert, opens
the demo's authorization agreement and its amendment, verifies the audit chain, and downloads the
operator's annual operating report as a PDF with the operator's name and an embedded CJK font; at
1280 px and on a 390 px phone without sideways scrolling. On the way it opens the lineage graph of the
demo's derived product and finds both holders it was built from."""

from __future__ import annotations

import subprocess
import sys

import pytest
from playwright.async_api import Page, expect

from ui_steps import login, nav

OPERATOR = "杭州城市大数据运营有限公司"

# What no page does on its own: the agency lowers a cap below the price of an order still open or being
# delivered (the sale goes on above the new cap), and drafts an amendment of the demo agreement.
SEED = r'''
import asyncio
from market import cli, db

async def main():
    settings = cli._prepare(cli._settings())
    await db.start(settings)
    try:
        from billing.orders.tables import Order
        from listings import service as listings_service
        from market.context import Actor, acting_as
        from market.tables import Organization, User
        from operators import service as operators_service
        from operators.tables import AuthorizationAgreement
        agency = await Organization.select(Organization.id).where(Organization.name == "杭州市数据资源管理局").first()
        user = await User.select(User.id).where(User.email == "agency@demo.cn").first()
        order = await (Order.select(Order.listing, Order.unit_price_fen)
                       .where(Order.cap_fen.is_not_null(), Order.unit_price_fen > 100,
                              Order.status.not_in(["cancelled", "declined", "expired"]))
                       .order_by(Order.id).first())
        assert order is not None, "the demo has no capped order"
        with acting_as(Actor(user_id=user["id"], org_id=agency["id"], label="agency@demo.cn")):
            await listings_service.set_cap(listing_id=order["listing"], agency_org_id=agency["id"],
                                           cap_fen=order["unit_price_fen"] - 100, basis="浏览器测试：下调上限")
            agreement = await AuthorizationAgreement.select(AuthorizationAgreement.id).where(
                AuthorizationAgreement.agency_org == agency["id"]).order_by(AuthorizationAgreement.id).first()
            await operators_service.amend(agreement_id=agreement["id"], agency_org_id=agency["id"],
                                          user_id=user["id"], changes={"max_revenue_fen": 600_000_000},
                                          note="浏览器测试：提高最高准许收入")
    finally:
        await db.stop()

asyncio.run(main())
'''


@pytest.fixture(scope="module")
def seeded(live_env):
    done = subprocess.run([sys.executable, "-c", SEED], env=live_env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return live_env


def _pdf_text_and_fonts(data: bytes, tmp_path) -> tuple[str, list[list[str]]]:
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True,
                          check=True).stdout.decode("utf-8")
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    return text, [line.split() for line in fonts.splitlines()[2:]]


async def _no_sideways_scroll(page: Page) -> None:
    widths = await page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1] + 1, widths


async def test_walk_the_regulators_desk(page: Page, seeded, tmp_path):
    await page.set_viewport_size({"width": 1280, "height": 800})
    await login(page, "regulator@demo.cn")
    await nav(page, "监管工作台")
    await expect(page.get_by_role("heading", name="监管工作台")).to_be_visible()
    await page.get_by_role("button", name="立即扫描").click()
    alert = page.locator("[data-testid=alerts] tr[data-alert-kind=price_above_cap]").first
    await expect(alert).to_contain_text("超过上限收费标准")

    # the demo agreement opens at its newest version (the amendment), and the original is one click away
    row = page.get_by_test_id("desk-agreements").locator("tr[data-agreement]").first
    await expect(row).to_contain_text("第 2 版，共 2 版")
    await row.get_by_role("link").first.click()
    await expect(page.locator("h1")).to_contain_text("第 2 版")
    versions = page.get_by_test_id("versions")
    await expect(versions.locator("li")).to_have_count(2)
    await versions.get_by_role("link", name="第 1 版").click()
    await expect(page.locator("h1")).to_contain_text("第 1 版")

    # the lineage of the demo's derived product, built under that agreement from two holders' tables
    await page.goto("/regulator")
    row = page.get_by_test_id("desk-agreements").locator("tr[data-agreement]").first
    await row.get_by_test_id("lineage-link").first.click()
    graph = page.get_by_test_id("lineage-graph")
    await expect(graph).to_be_visible()
    await expect(graph.get_by_test_id("lineage-node")).to_have_count(3)
    await expect(graph).to_contain_text("杭州市卫生健康委员会")
    await expect(graph).to_contain_text("杭州市疾病预防控制中心")

    # the audit chain, verified on demand
    await page.goto("/regulator")
    await page.get_by_role("button", name="核验审计链").click()
    await expect(page.get_by_test_id("chain-result")).to_have_attribute("data-ok", "true")

    # the operator's annual operating report, issued as a PDF and downloaded
    await page.get_by_role("link", name="年度报告与公开").click()
    form = page.get_by_test_id("annual-form")
    await form.locator("select[name=org_id]").select_option(label=OPERATOR)
    await form.get_by_role("button", name="生成 PDF").click()
    link = page.locator("[data-testid=report-docs] tr[data-kind=annual_report]").get_by_test_id("report-pdf")
    await expect(link).to_be_visible(timeout=180_000)  # the page refreshes while the job renders it (a busy machine)
    async with page.expect_download() as info:
        await link.click()
    download = await info.value
    data = (tmp_path / "annual.pdf")
    await download.save_as(data)
    text, fonts = _pdf_text_and_fonts(data.read_bytes(), tmp_path)
    flat = "".join(text.split())
    assert OPERATOR in flat and "年度经营情况报告" in flat and "最高准许收入" in flat, flat[:400]
    cjk = [f for f in fonts if "CJK" in f[0]]
    assert cjk and all(f[-5] == "yes" for f in cjk), fonts

    # the same desk on a phone: nothing scrolls sideways but the tables inside their own boxes
    for path in ("/regulator", "/regulator/trade", "/regulator/reports"):
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.goto(path)
        await _no_sideways_scroll(page)
