"""Getting data through the browser: browse the category tree, the holder approves a free-purpose
request, the buyer downloads a version (with its invisible mark) and the regulator traces the file
back to the buyer, in headless Chromium against the real server with the demo loaded."""

from __future__ import annotations

from playwright.async_api import Page, expect

from ui_steps import login as _login
from ui_steps import logout as _logout
from ui_steps import nav

BUYER_ORG = "浙江安诚财产保险股份有限公司"


async def test_browse_the_category_tree(page: Page):
    await page.goto("/")
    await page.locator("header").get_by_role("link", name="数据目录").click()
    await page.get_by_test_id("categories").get_by_role("link", name="医疗卫生").click()
    await expect(page.get_by_test_id("breadcrumb")).to_contain_text("医疗卫生")
    await page.get_by_test_id("categories").get_by_role("link", name="诊疗服务").click()
    await expect(page.get_by_test_id("results")).to_contain_text("门诊服务情况")


async def test_request_approve_download_and_trace(page: Page, tmp_path):
    # the holder checks the declared use of the waiting request and approves it
    await _login(page, "holder@demo.cn")
    await nav(page, "使用申请")
    row = page.get_by_test_id("requests").locator("tr", has_text="家庭医生签约")
    await expect(row).to_contain_text(BUYER_ORG)
    await row.get_by_role("button", name="同意").click()
    await expect(page.get_by_test_id("requests")).not_to_contain_text("家庭医生签约")
    await _logout(page)

    # the buyer sees it active and downloads the version it reaches
    await _login(page, "buyer@demo.cn")
    await nav(page, "已获取的数据")
    await page.get_by_role("link", name="杭州市家庭医生签约服务情况（月度）").click()
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
