"""Buying a paid data product end to end in a real browser, on the database engine the suite runs on
(PostgreSQL in `make test`'s second pass, SQLite otherwise): the buyer orders from the listing page, the
holder approves and signs, the buyer signs, the invoice PDF carries extractable Chinese and an embedded
CJK font, platform finance records the bank transfer, the buyer downloads a marked file, and the
regulator's trace of that file names the order."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys

import pytest

import pytest_asyncio
from playwright.async_api import Page, expect

from ui_steps import login, logout, nav

PRODUCT = "杭州市生态环境监测站点（有条件共享数据产品）"
HOLDER = "sthj@demo.cn"  # 杭州市生态环境局
BUYER_ORG = "浙江安诚财产保险股份有限公司"

# The demo's conditionally shared listings are conditional because they hold personal information, which
# never leaves as a file. The walk-through needs both (the holder vets the buyer, the buyer downloads a
# marked file), so the holder lists an already profiled demo table of its own once more, conditionally
# shared, through the listing services, in the server's own database.
SEED = r'''
import asyncio
from datetime import datetime, timedelta, timezone
from market import cli, db

async def main():
    settings = cli._prepare(cli._settings())
    await db.start(settings)
    try:
        from listings import pricing, service
        from listings.tables import DataAsset, Listing
        from market import identity
        from market.context import Actor, acting_as
        holder = await identity.find_user("sthj@demo.cn")
        agency = await identity.find_user("agency@demo.cn")
        if await Listing.exists().where(Listing.title == "%(title)s"):
            return
        asset = await DataAsset.select().where(DataAsset.title == "杭州市生态环境监测站点").first()
        org = holder["organization"]
        with acting_as(Actor(user_id=holder["id"], org_id=org, label="e2e")):
            listing = await service.create_listing(
                asset_id=asset["id"], org_id=org, tier="product", delivery_mode="file", title="%(title)s",
                summary="监测站点名录，有条件共享：持有方审核买方与用途", category_path=asset["category_path"],
                tags=["监测站点"], update_cycle="yearly", sharing_type="conditional", open_type="conditional",
                plans=[pricing.PlanSpec(kind="one_time", name="按次购买", price_fen=300_000)])
            if listing["public_data"]:
                await service.set_cap(listing_id=listing["id"], agency_org_id=agency["organization"],
                                      cap_fen=500_000, basis="杭州市公共数据授权运营上限收费标准（示范）")
            await service.submit(listing_id=listing["id"], org_id=org)
            await service.approve(listing_id=listing["id"], note="浏览器测试", notice_days=0)
            await service.close_notices(now=datetime.now(timezone.utc) + timedelta(seconds=1))
    finally:
        await db.stop()

asyncio.run(main())
''' % {"title": PRODUCT}


@pytest.fixture(scope="module")
def conditional_product(engine_env):
    done = subprocess.run([sys.executable, "-c", SEED], env=engine_env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return PRODUCT


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser, engine_server):
    context = await browser.new_context(base_url=engine_server, locale="zh-CN", accept_downloads=True)
    context.set_default_timeout(30_000)
    page = await context.new_page()
    try:
        yield page
    finally:
        await context.close()


def _yuan(fen: int) -> str:
    return "¥{:,}.{:02d}".format(fen // 100, fen % 100)


def _fen(text: str) -> int:
    yuan, _, fen = text.strip().lstrip("¥").replace(",", "").partition(".")
    return int(yuan) * 100 + int(fen or 0)


def _pdf_text_and_fonts(data: bytes, tmp_path) -> tuple[str, list[list[str]]]:
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True,
                          check=True).stdout.decode("utf-8")
    path = tmp_path / "invoice.pdf"
    path.write_bytes(data)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    return text, [line.split() for line in fonts.splitlines()[2:]]


async def _no_sideways_scroll(page: Page) -> None:
    widths = await page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], widths


async def test_buy_a_paid_product_end_to_end(page: Page, conditional_product, tmp_path):
    # ---- the buyer finds the product and orders it for industry use, on a phone
    await page.set_viewport_size({"width": 390, "height": 844})
    await login(page, "buyer@demo.cn")
    await page.goto("/search?q=" + "生态环境监测站点")
    await page.get_by_role("link", name=PRODUCT).first.click()
    form = page.get_by_test_id("order-form")
    plan = await form.locator("select[name=plan_id] option", has_text="按次购买").get_attribute("value")
    await form.locator("select[name=plan_id]").select_option(plan)
    await form.locator("select[name=purpose]").select_option("industry")
    await form.locator("textarea[name=purpose_note]").fill("用于餐饮门店选址与食品安全风险的保险精算")
    total = form.get_by_test_id("quote-total")
    await expect(total).to_be_visible()
    amount = _fen(await form.get_by_test_id("quote-amount").inner_text())
    tax = _fen(await form.get_by_test_id("quote-tax").inner_text())
    assert amount > 0 and tax == (amount * 6 + 50) // 100  # 6% VAT, rounded half up once
    await expect(total).to_have_text(_yuan(amount + tax))
    await _no_sideways_scroll(page)
    await form.get_by_test_id("order-submit").click()
    await expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", "awaiting_approval")
    await expect(page.get_by_test_id("order-total")).to_have_text(_yuan(amount + tax))
    order_url = re.sub(r"^https?://[^/]+", "", page.url)
    order_id = int(order_url.rsplit("/", 1)[1])
    await _no_sideways_scroll(page)
    await page.set_viewport_size({"width": 1280, "height": 900})  # the phone folds the menu away
    await logout(page)

    # ---- the holder approves the buyer and purpose, then signs the contract it reads
    await login(page, HOLDER)
    await page.goto(order_url)
    box = page.get_by_test_id("approve-box")
    await expect(box).to_contain_text("用于餐饮门店选址")
    await box.locator("input[name=note]").fill("用途符合有条件共享的要求")
    await box.get_by_role("button", name="通过").click()
    await expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", "awaiting_signature")
    sign = page.get_by_test_id("sign-form")  # shown once the contract PDF is rendered (the page refreshes)
    await expect(sign).to_be_visible()
    sha = await page.get_by_test_id("contract-sha256").inner_text()
    contract = await page.request.get(f"/api/v1/orders/{order_id}/contract.pdf")
    assert contract.ok
    assert hashlib.sha256(await contract.body()).hexdigest() == sha  # the digest shown is of the bytes served
    await sign.get_by_role("checkbox").check()
    await sign.get_by_role("button", name="签署合同").click()
    await expect(page.get_by_test_id("flash")).to_contain_text("合同已签署")
    await logout(page)

    # ---- the buyer signs from 我的订单; the bank-transfer details and the invoice appear
    await login(page, "buyer@demo.cn")
    await nav(page, "我的订单")
    await page.locator(f"tr[data-order='{order_id}']").get_by_role("link", name=PRODUCT).click()
    sign = page.get_by_test_id("sign-form")
    await sign.get_by_role("checkbox").check()
    await sign.get_by_role("button", name="签署合同").click()
    await expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", "awaiting_payment")
    reference = await page.get_by_test_id("payment-reference").inner_text()
    assert reference.startswith("SJ")
    await expect(page.get_by_test_id("amount-due")).to_have_text(_yuan(amount + tax))
    link = page.get_by_test_id("invoice-pdf")  # the page refreshes while the PDF is rendered
    await expect(link).to_be_visible()
    resp = await page.request.get(await link.get_attribute("href"))
    assert resp.ok and resp.headers["content-type"].startswith("application/pdf")
    text, fonts = _pdf_text_and_fonts(await resp.body(), tmp_path)
    flat = "".join(text.split())
    assert BUYER_ORG in flat and reference in flat and "价税合计" in flat, flat[:400]
    cjk = [f for f in fonts if "CJK" in f[0]]
    assert cjk and all(f[-5] == "yes" for f in cjk), fonts  # embedded
    await logout(page)

    # ---- platform finance records the transfer: the order is paid and delivered
    await login(page, "admin@demo.cn")
    await page.goto(order_url)
    receipt = page.get_by_test_id("receipt-form")
    await expect(receipt.locator("input[name=amount_yuan]")).to_have_value(_yuan(amount + tax)[1:].replace(",", ""))
    await receipt.locator("input[name=reference]").fill("ICBC-E2E-20260101-0001")
    await receipt.get_by_role("button", name="登记收款").click()
    await expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", "delivered")
    await logout(page)

    # ---- the buyer downloads the data: a marked file
    await login(page, "buyer@demo.cn")
    await page.goto(order_url)
    await expect(page.locator("[data-step=delivery]")).to_have_attribute("data-state", "done")
    await page.get_by_test_id("entitlement-link").click()
    async with page.expect_download() as info:
        await page.locator("[data-testid^=download-v]").first.click()
    download = await info.value
    path = tmp_path / "bought.csv"
    await download.save_as(path)
    data = path.read_bytes().decode("utf-8-sig")
    assert "\u2060" in data  # the invisible delivery mark
    await logout(page)

    # ---- the regulator traces the file to the buyer and the order
    await login(page, "regulator@demo.cn")
    await nav(page, "文件溯源")
    await page.locator("input[type=file]").set_input_files(str(path))
    await page.get_by_role("button", name="溯源").click()
    trace = page.get_by_test_id("trace")
    await expect(trace).to_contain_text(BUYER_ORG)
    order_cell = trace.get_by_test_id("trace-order").first
    await expect(order_cell).to_contain_text(f"订单 {order_id}")
    await order_cell.get_by_role("link").click()
    await expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", "delivered")
    await expect(page.get_by_test_id("stepper")).to_be_visible()
