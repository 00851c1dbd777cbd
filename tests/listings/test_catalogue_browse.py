"""Browsing the category tree: drill-down with counts, listings at a node, unknown paths refused."""

from __future__ import annotations

from factories import make_listing, make_user
from listings import catalogue, search

POP = "人口与户籍 > 人口统计 > 常住人口"
BUS = "交通运输 > 公共交通 > 公交站点"


async def test_drill_down_counts_and_results(client, job_runtime):
    holder = await make_user(["holder"])
    await make_listing(holder, job_runtime, title="杭州市区县常住人口", category=POP)
    await make_listing(holder, job_runtime, title="公交站点分布", category=BUS, tier="cleaned")
    await make_listing(holder, job_runtime, title="还在草稿的公交线路", category="交通运输 > 公共交通 > 公交线路",
                       listed=False)
    await make_listing(holder, job_runtime, title="自定义分类的数据", category="自编分类 > 其他")
    top = (await client.get("/api/v1/categories")).json()
    counts = {c["name"]: c["count"] for c in top["children"]}
    assert counts["人口与户籍"] == 1 and counts["交通运输"] == 1 and counts["医疗卫生"] == 0
    assert top["count"] == 3 and top["unfiled"] == 1 and top["breadcrumb"] == []
    mid = (await client.get("/api/v1/categories", params={"path": "交通运输 > 公共交通"})).json()
    assert mid["name"] == "公共交通" and [c["name"] for c in mid["breadcrumb"]] == ["交通运输", "公共交通"]
    assert {c["name"]: c["count"] for c in mid["children"]}["公交站点"] == 1
    assert {c["name"]: c["count"] for c in mid["children"]}["公交线路"] == 0  # drafts are not on sale
    page = await client.get("/catalogue", params={"path": "交通运输"})
    assert page.status_code == 200 and "公交站点分布" in page.text and "杭州市区县常住人口" not in page.text
    assert 'data-testid="breadcrumb"' in page.text
    leaf = await client.get("/catalogue", params={"path": BUS})
    assert "公交站点分布" in leaf.text


async def test_unknown_path_is_a_clear_error(client):
    resp = await client.get("/api/v1/categories", params={"path": "不存在的分类"})
    assert resp.status_code == 400 and resp.json()["code"] == "catalogue.unknown_category"
    client.cookies.set("lang", "en")
    resp = await client.get("/api/v1/categories", params={"path": "不存在的分类"})
    assert "category" in resp.json()["message"].lower()


async def test_category_filter_matches_whole_segments(job_runtime):
    holder = await make_user(["holder"])
    await make_listing(holder, job_runtime, title="公交站点分布", category=BUS)
    assert (await search.search(category="交通运输"))["total"] == 1
    assert (await search.search(category="交通"))["total"] == 0  # 交通 is not 交通运输
    node = catalogue.browse("交通运输 > 公共交通 > 公交站点", await search.category_counts())
    assert node["count"] == 1 and node["children"] == []
