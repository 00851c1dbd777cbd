"""The catalogue through the browser: a holder lists a table in a few minutes of typing
(upload → confirm → submit), the platform approves it, and a buyer finds it by a Chinese keyword
and by pinyin, in headless Chromium against the real server with the demo loaded."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from ui_steps import login as _login
from ui_steps import logout as _logout

TABLE = ("区县,区划代码,年份,养老机构数,养老床位数\n"
         "上城区,330102,2024,41,6120\n拱墅区,330105,2024,38,5540\n西湖区,330106,2024,45,7010\n"
         "滨江区,330108,2024,19,2630\n萧山区,330109,2024,66,9870\n余杭区,330110,2024,52,8150\n")


async def test_holder_lists_a_table_and_a_buyer_finds_it(page: Page, tmp_path):
    csv_path = tmp_path / "杭州市各区县养老机构床位统计.csv"
    csv_path.write_text(TABLE, encoding="utf-8")
    typed = 0

    # the holder uploads: the only input is the file itself
    await _login(page, "holder@demo.cn")
    await page.goto("/my/data/upload")
    await page.locator("input[type=file]").set_input_files(str(csv_path))
    await page.get_by_role("button", name="上传").click()
    await expect(page).to_have_url(re.compile(r"/my/data/\d+$"))
    # profiling runs in the background; the page polls and reloads when it is done
    await expect(page.locator("[data-testid=profile-status]")).to_have_attribute("data-status", "done",
                                                                                 timeout=60_000)
    await expect(page.locator("[data-testid=columns]")).to_contain_text("养老床位数")
    await expect(page.locator("[data-testid=columns]")).to_contain_text("行政区划代码")

    # confirm: everything is pre-filled; the holder changes nothing but the title and submits
    await page.locator("[data-testid=confirm-link]").click()
    form = page.locator("[data-testid=confirm-form]")
    await expect(form.locator("input[name=title]")).not_to_have_value("")
    await form.locator("input[name=title]").fill("杭州市各区县养老机构床位统计")
    typed += 1
    await form.get_by_role("button", name="提交审核").click()
    await expect(page).to_have_url(re.compile(r"/listings/\d+$"))
    await expect(page.locator("[data-testid=listing-status]")).to_have_attribute("data-status", "submitted")
    listing_url = page.url
    assert typed <= 5
    await _logout(page)

    # the platform reviews it; with no notice period configured it goes on sale at once
    await _login(page, "admin@demo.cn")
    await page.goto("/review")
    item = page.locator(".review-item", has_text="杭州市各区县养老机构床位统计").first
    await item.get_by_role("button", name="通过并公示").click()
    await page.goto(listing_url)
    await expect(page.locator("[data-testid=listing-status]")).to_have_attribute("data-status", "listed")
    await expect(page.locator("[data-testid=registration-code]")).to_have_text(re.compile(r"^SJDJ-\d{6}-\d{4}-\d{6}$"))
    await _logout(page)

    # a buyer finds it by a Chinese keyword and by pinyin
    await _login(page, "buyer@demo.cn")
    for query in ("养老机构", "yanglao"):
        await page.goto(f"/search?q={query}")
        await expect(page.locator("main")).to_contain_text("杭州市各区县养老机构床位统计")
    # the public-welfare purpose costs nothing
    await page.goto(listing_url + "?purpose=public_welfare")
    await expect(page.locator("main")).to_contain_text("依规免费")
