"""Getting data through the browser: browse the category tree; the buyer orders a listing for a
free purpose and the holder approves the order (through the order API with the browser's session:
the order pages are billing's), both sign, the buyer downloads a version (with its invisible mark)
and the regulator traces the file back to the buyer and the order, in headless Chromium against the
real server with the demo loaded."""

from __future__ import annotations

import asyncio
import time

from playwright.async_api import Page, expect

from ui_steps import login as _login
from ui_steps import logout as _logout
from ui_steps import nav

BUYER_ORG = "浙江安诚财产保险股份有限公司"
TITLE = "杭州市家庭医生签约服务情况（月度）"


async def _csrf(page: Page) -> str:
    """The session's CSRF token, from the logout form every page of a logged-in user carries."""
    return await page.locator("header form input[name=_csrf]").first.get_attribute("value")


async def _call(page: Page, method: str, url: str, body: dict | None = None, **headers) -> dict:
    resp = await page.request.fetch(url, method=method, data=body,
                                    headers={"X-CSRF-Token": await _csrf(page), **headers} if body is not None else None)
    assert resp.ok, f"{method} {url}: {resp.status} {await resp.text()}"
    return await resp.json()


async def _until(page: Page, url: str, done, timeout: float = 60.0) -> dict:
    """Poll the order until `done(order)`: the server's own worker renders the contract meanwhile."""
    deadline = time.monotonic() + timeout
    while True:
        order = await _call(page, "GET", url)
        if done(order):
            return order
        assert time.monotonic() < deadline, order
        await asyncio.sleep(0.2)


async def test_browse_the_category_tree(page: Page):
    await page.goto("/")
    await page.locator("header").get_by_role("link", name="数据目录").click()
    await page.get_by_test_id("categories").get_by_role("link", name="医疗卫生").click()
    await expect(page.get_by_test_id("breadcrumb")).to_contain_text("医疗卫生")
    await page.get_by_test_id("categories").get_by_role("link", name="诊疗服务").click()
    await expect(page.get_by_test_id("results")).to_contain_text("门诊服务情况")


async def test_order_approve_sign_download_and_trace(page: Page, tmp_path):
    # the buyer orders the monthly family-doctor data for a public-welfare use: free, but vetted
    await _login(page, "buyer@demo.cn")
    found = await _call(page, "GET", "/api/v1/search?q=家庭医生签约")
    [listing_id] = [item["id"] for item in found["items"] if item["title"] == TITLE and item["tier"] == "cleaned"]
    listing = await _call(page, "GET", f"/api/v1/listings/{listing_id}")
    order = await _call(page, "POST", "/api/v1/orders",
                        {"listing_id": listing_id, "plan_id": listing["plans"][0]["id"], "purpose": "public_welfare",
                         "purpose_note": "用于重点人群健康管理公益服务的覆盖评估"},
                        **{"Idempotency-Key": "e2e-family-doctor"})
    url = f"/api/v1/orders/{order['id']}"
    assert order["total_fen"] == 0 and "approval" in order["status"], order
    await _logout(page)

    # the holder checks the declared use and approves; both sign the rendered contract
    await _login(page, "holder@demo.cn")
    await _call(page, "POST", f"{url}/approve", {"note": "用途属实，同意免费使用"})
    await _until(page, url, lambda o: o["contract"] and o["contract"]["sha256"])
    await _call(page, "POST", f"{url}/sign", {})
    await _logout(page)
    await _login(page, "buyer@demo.cn")
    order = await _call(page, "POST", f"{url}/sign", {})
    assert order["status"] == "delivered" and order["entitlement_id"], order
    await _logout(page)

    # the buyer sees it active and downloads the version it reaches
    await _login(page, "buyer@demo.cn")
    await nav(page, "已获取的数据")
    await page.get_by_role("link", name=TITLE).click()
    await expect(page.get_by_test_id("entitlement-status")).to_have_attribute("data-status", "active")
    async with page.expect_download() as info:
        await page.get_by_test_id("download-v1").click()
    download = await info.value
    path = tmp_path / "downloaded.csv"
    await download.save_as(path)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and "区县" in data.decode("utf-8-sig").splitlines()[0]
    assert "\u2060" in data.decode("utf-8-sig")  # the mark is there, invisible
    await _logout(page)

    # the regulator traces the file back to the buyer
    await _login(page, "regulator@demo.cn")
    await nav(page, "文件溯源")
    await page.locator("input[type=file]").set_input_files(str(path))
    await page.get_by_role("button", name="溯源").click()
    await expect(page.get_by_test_id("trace")).to_contain_text(BUYER_ORG)
    await expect(page.get_by_test_id("trace")).to_contain_text("家庭医生签约")
    await expect(page.get_by_test_id("trace-order").first).to_contain_text(f"订单 {order['id']}")  # the mark names the order
