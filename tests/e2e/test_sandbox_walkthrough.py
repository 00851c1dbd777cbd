"""The buyer's raw-tier sandbox entitlement from the demo, in the browser: 已获取的数据 → the outpatient
table's raw tier → the sandbox page → an aggregate query answered by district → the released result
downloaded as CSV; a query that asks for rows is refused on the page, in Chinese, and logged."""

from __future__ import annotations

import csv
import io

from playwright.async_api import expect

from ui_steps import login, nav

TITLE = "杭州市医疗卫生机构门诊服务情况（月度）"
QUERY = "SELECT 区县, sum(诊疗人次) AS 诊疗人次合计, count(*) AS 月数 FROM data GROUP BY 区县 ORDER BY 区县"


async def test_a_buyer_runs_an_aggregate_in_the_sandbox_and_downloads_the_released_result(page, tmp_path):
    await login(page, "buyer@demo.cn")
    await nav(page, "已获取的数据")
    # the raw tier is the entitlement delivered as a sandbox (the subscription of the cleaned tier is a file)
    await page.locator("main tr", has_text="原始数据").get_by_role("link", name=TITLE).first.click()
    panel = page.get_by_test_id("sandbox")
    await expect(panel).to_be_visible()
    await panel.get_by_role("link", name="查看表结构、示例查询、今日额度和历史查询").click()
    await expect(page.get_by_test_id("sandbox-schema")).to_contain_text("诊疗人次")
    budget = await page.get_by_test_id("sandbox-budget").inner_text()

    await page.get_by_test_id("sandbox-sql").fill(QUERY)
    await page.get_by_test_id("sandbox-run").click()
    result = page.get_by_test_id("sandbox-result")
    await expect(result).to_contain_text("西湖区", timeout=60_000)
    assert await page.get_by_test_id("sandbox-budget").inner_text() != budget  # the query spent budget

    async with page.expect_download() as info:
        await page.get_by_test_id("sandbox-download").click()
    saved = tmp_path / "result.csv"
    await (await info.value).save_as(saved)
    rows = list(csv.reader(io.StringIO(saved.read_bytes().decode("utf-8-sig"))))
    assert rows[0][:3] == ["区县", "诊疗人次合计", "月数"], rows[0]
    districts = {r[0]: r for r in rows[1:]}
    assert "西湖区" in districts and len(districts) >= 10
    assert all(int(r[2]) >= 10 and int(r[1]) > 0 for r in rows[1:])  # every group stands for at least k rows

    # asking for the rows themselves: refused with a clear message, and the refusal is in the history
    await page.get_by_test_id("sandbox-sql").fill("SELECT * FROM data")
    await page.get_by_test_id("sandbox-run").click()
    await expect(page.get_by_test_id("sandbox-error")).to_be_visible()
    await expect(page.get_by_test_id("sandbox-history").locator("tr[data-decision=refused]").first).to_be_visible()
