"""The buyer's API entitlement from the demo, in the browser: 已获取的数据 → the air-quality call pack →
the "how to use it" panel → 创建密钥 shows the key once with a copyable curl call, and that very call,
run as shown, answers rows with the quota in its headers; the usage then shows the call."""

from __future__ import annotations

import json
import subprocess

from playwright.async_api import expect

from ui_steps import login, nav

TITLE = "杭州市环境空气质量日报"


async def test_the_example_call_on_the_entitlement_page_works(page):
    await login(page, "buyer@demo.cn")
    await nav(page, "已获取的数据")
    await page.locator("main").get_by_role("link", name=TITLE).first.click()
    panel = page.get_by_test_id("use-api")
    await expect(panel.get_by_test_id("example-call")).to_be_visible()
    await panel.get_by_test_id("create-key").click()
    secret = (await page.get_by_test_id("new-secret").inner_text()).strip()
    assert secret.startswith("pdm_")
    example = (await page.get_by_test_id("example-call").inner_text()).strip()
    assert example.startswith("curl ") and secret in example
    # run the command exactly as the page shows it (headers included, -i to see them)
    done = subprocess.run(["bash", "-c", example.replace("curl ", "curl -s -i ", 1)], capture_output=True,
                          text=True, timeout=30)
    head, _, body = done.stdout.partition("\n\n")  # text mode reads curl's CRLFs as newlines
    assert head.startswith("HTTP/1.1 200"), done.stdout[:500]
    assert "x-quota-limit: 100000" in head.lower() and "x-quota-remaining: 99999" in head.lower()
    data = json.loads(body)
    assert data["total"] > 5 and len(data["items"]) == 5
    await page.reload()
    await expect(page.get_by_test_id("usage")).to_contain_text("已用 1 / 100000 次")
