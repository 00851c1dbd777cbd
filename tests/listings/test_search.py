"""Search over listed listings: Chinese words, pinyin, initials, synonyms, facets, filters, sorts,
scenario bundles, hostile query syntax, and the API and page. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from factories import make_org, make_user
from listings import search
from listings.tables import DataAsset, Listing

NOW = datetime(2026, 11, 1, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
async def empty_index():
    """The index tables are not Piccolo tables, so the suite's cleaner leaves them alone (SQLite)."""
    await search.clear_index()
    yield
    search.invalidate()


@pytest.fixture
async def holder():
    return await make_user(["holder"], org=await make_org(name="杭州市数据资源管理局", kind="government"))


async def add_listing(user: dict, title: str, *, summary: str = "", tier: str = "cleaned", status: str = "listed",
                      price: int = 0, quality: int = 80, category: str = "卫生健康 > 综合", tags=(), columns=(),
                      cycle: str = "monthly", grade: str = "general", delivery: str = "api",
                      updated: datetime | None = NOW, index: bool = True) -> int:
    asset = await DataAsset.insert(DataAsset(holder=user["org"]["id"], created_by=user["id"], title=title)) \
        .returning(DataAsset.id)
    rows = await Listing.insert(Listing(
        asset=asset[0]["id"], holder=user["org"]["id"], holder_name=user["org"]["name"], tier=tier, status=status,
        title=title, summary=summary, category_path=category, tags=json.dumps(list(tags), ensure_ascii=False),
        columns=json.dumps([{"name": c, "type": "text"} for c in columns], ensure_ascii=False),
        update_cycle=cycle, grade=grade, delivery_mode=delivery, quality_score=quality, min_price_fen=price,
        data_updated_at=updated,
    )).returning(Listing.id)
    if index:
        await search.index_listing(rows[0]["id"])
    return rows[0]["id"]


def ids(result: dict) -> list[int]:
    return [item["id"] for item in result["items"]]


async def test_chinese_pinyin_initials_and_synonyms(holder):
    settle = await add_listing(holder, "医疗保障待遇结算数据", summary="参保人员门诊、住院费用结算明细（脱敏）",
                               tags=["医保", "结算"], columns=["参保人编号", "结算日期", "统筹支付金额"])
    fund = await add_listing(holder, "城乡居民医疗保障基金年度统计", summary="医疗保障基金收支情况", tags=["基金"])
    await add_listing(holder, "杭州市公交线路站点", summary="公交站点经纬度", category="交通运输 > 公共交通",
                      tags=["公交"])

    found = await search.search(q="医保")
    assert set(ids(found)) == {settle, fund}  # the fund says only 医疗保障: found through the synonym
    assert found["query"]["terms"] == ["医保"] and "医疗保障" in found["query"]["expanded"]["医保"]
    assert ids(await search.search(q="结算")) == [settle]
    assert ids(await search.search(q="统筹支付金额")) == [settle]  # a column name
    assert set(ids(await search.search(q="yibao"))) == {settle, fund}  # pinyin, and its synonyms
    assert ids(await search.search(q="yb")) == [settle]  # initials of 医保 (the tag)
    assert ids(await search.search(q="YiBao 结算")) == [settle]  # ASCII is lower-cased; terms are ANDed
    assert ids(await search.search(q="jiesuan")) == [settle]
    assert ids(await search.search(q="公共交通")) != []  # 公交 ⇄ 公共交通
    assert (await search.search(q="不存在的词语组合"))["total"] == 0


async def test_title_match_ranks_first(holder):
    in_summary = await add_listing(holder, "城乡居民基金年度统计", summary="包含医保基金收支", quality=99)
    in_title = await add_listing(holder, "医保基金收支明细", summary="年度统计", quality=50)
    assert ids(await search.search(q="医保"))[:2] == [in_title, in_summary]


async def test_only_listed_listings_are_found(holder):
    listed = await add_listing(holder, "医疗保障待遇结算数据")
    draft = await add_listing(holder, "医保药品目录", status="draft")
    assert ids(await search.search(q="医保")) == [listed]
    assert ids(await search.search()) == [listed]

    await Listing.update({Listing.status: "suspended"}).where(Listing.id == listed)
    await search.index_listing(listed)
    assert (await search.search(q="医保"))["total"] == 0
    await search.index_listing(listed)  # idempotent
    await search.index_listing(draft)
    assert (await search.search())["total"] == 0

    await Listing.update({Listing.status: "listed"}).where(Listing.id == listed)
    await search.index_listing(listed)
    assert ids(await search.search(q="yibao")) == [listed]
    await search.index_listing(999_999)  # a listing that does not exist: nothing to index, no error


async def test_reindex_all_rebuilds_the_index(holder):
    a = await add_listing(holder, "医疗保障待遇结算数据", index=False)
    b = await add_listing(holder, "门诊慢特病备案", category="卫生健康 > 门诊", index=False)
    await add_listing(holder, "医保草稿", status="draft", index=False)
    assert (await search.search(q="医保"))["total"] == 0
    assert await search.reindex_all() == 2
    assert ids(await search.search(q="医保")) == [a]
    assert ids(await search.search(q="诊疗")) == [b]  # 门诊 ⇄ 诊疗


async def test_facets_count_the_filtered_matches(holder):
    other = await make_user(["holder"], org=await make_org(name="杭州市公安局", kind="government"))
    await add_listing(holder, "医保结算明细", tier="raw", price=0, quality=95, category="卫生健康 > 医疗保障 > 结算",
                      cycle="daily", delivery="sandbox")
    await add_listing(holder, "医保定点药店名录", tier="cleaned", price=5_000, quality=80,
                      category="卫生健康 > 医疗保障 > 定点", grade="important")
    await add_listing(holder, "医保基金分析报告", tier="product", price=90_000, quality=62)
    await add_listing(other, "交通违法医保对账", tier="product", price=20_000, quality=40, category="公共安全 > 交通管理",
                      delivery="verification")
    await add_listing(holder, "公交线路", tier="raw", category="交通运输 > 公共交通")  # no 医保

    result = await search.search(q="医保")
    facets = result["facets"]
    assert result["total"] == 4
    assert facets["tier"] == [["product", 2], ["cleaned", 1], ["raw", 1]]
    assert facets["price"] == [["free", 1], ["paid", 3]]
    assert facets["quality"] == [["90+", 1], ["75-89", 1], ["60-74", 1], ["<60", 1]]
    assert facets["category"] == [["卫生健康", 3], ["公共安全", 1]]
    assert facets["holder"] == [["杭州市数据资源管理局", 3, holder["org"]["id"]], ["杭州市公安局", 1, other["org"]["id"]]]
    assert dict((v, n) for v, n in facets["update_cycle"]) == {"monthly": 3, "daily": 1}
    assert dict((v, n) for v, n in facets["grade"]) == {"general": 3, "important": 1}
    assert dict((v, n) for v, n in facets["delivery_mode"]) == {"api": 2, "sandbox": 1, "verification": 1}

    paid = await search.search(q="医保", price="paid")
    assert paid["total"] == 3 and paid["facets"]["price"] == [["free", 0], ["paid", 3]]
    assert (await search.search(q="医保", price="free"))["total"] == 1
    assert (await search.search(q="医保", tier="product"))["total"] == 2
    assert (await search.search(q="医保", quality_min=80))["total"] == 2
    assert (await search.search(q="医保", category="卫生健康 > 医疗保障"))["total"] == 2
    assert (await search.search(q="医保", category="卫生健康"))["total"] == 3
    assert (await search.search(q="医保", category="卫生健康 > 医疗保障 > 定点"))["total"] == 1
    assert (await search.search(q="医保", category="卫生健康 > 医疗保障 > 定点"))["items"][0]["title"] == "医保定点药店名录"
    assert (await search.search(q="医保", category="公共安全"))["total"] == 1
    assert (await search.search(q="医保", category="100%_"))["total"] == 0  # LIKE wildcards are literal
    assert (await search.search(q="医保", holder_id=other["org"]["id"]))["total"] == 1
    assert (await search.search(q="医保", update_cycle="daily"))["total"] == 1
    assert (await search.search(q="医保", grade="important"))["total"] == 1
    assert (await search.search(q="医保", delivery_mode="verification"))["total"] == 1
    assert (await search.search(q="医保", price_min_fen=10_000, price_max_fen=50_000))["total"] == 1
    assert (await search.search(tier="raw"))["total"] == 2  # filters without a query
    both = await search.search(q="医保", tier="product", price="paid", quality_min=60)
    assert [i["title"] for i in both["items"]] == ["医保基金分析报告"]


async def test_sorts_and_pages(holder):
    a = await add_listing(holder, "医保数据甲", price=300, quality=70, updated=NOW - timedelta(days=3))
    b = await add_listing(holder, "医保数据乙", price=100, quality=90, updated=NOW - timedelta(days=30))
    c = await add_listing(holder, "医保数据丙", price=200, quality=80, updated=NOW)
    d = await add_listing(holder, "医保数据丁", price=0, quality=60, updated=None)
    assert ids(await search.search(q="医保", sort="quality")) == [b, c, a, d]
    assert ids(await search.search(q="医保", sort="freshness")) == [c, a, b, d]
    assert ids(await search.search(q="医保", sort="price_asc")) == [d, b, c, a]
    assert ids(await search.search(q="医保", sort="price_desc")) == [a, c, b, d]
    assert ids(await search.search(sort="relevance")) == [b, c, a, d]  # no query: quality first

    first = await search.search(q="医保", sort="quality", page=1, page_size=3)
    second = await search.search(q="医保", sort="quality", page=2, page_size=3)
    assert ids(first) == [b, c, a] and ids(second) == [d]
    assert first["total"] == second["total"] == 4 and first["pages"] == 2

    item = first["items"][0]
    assert set(item) == {"id", "title", "tier", "summary", "holder_name", "category_path", "quality_score",
                         "min_price_fen", "update_cycle", "grade", "delivery_mode", "data_updated_at",
                         "registration_code", "tags"}
    assert item["data_updated_at"].startswith("2026-10-02")


async def test_scenario_bundle(holder):
    population = await add_listing(holder, "西湖区常住人口统计", category="人口与户籍 > 人口统计")
    tobacco = await add_listing(holder, "烟草专卖零售许可证信息", category="行政许可 > 经营许可")
    food = await add_listing(holder, "食品经营许可证发放记录", category="行政许可 > 经营许可")
    weather = await add_listing(holder, "逐日天气观测数据", category="气象 > 观测")
    await add_listing(holder, "不相干的疫苗接种统计")

    for q in ("我要开小卖部", "开小卖部", "小卖部", "想开一家便利店"):
        bundle = await search.scenario(q)
        assert bundle is not None and bundle["name"] == "convenience_store", q
    assert await search.scenario("医保") is None

    result = await search.search(q="我要开小卖部")
    bundle = result["scenario"]
    assert bundle["title"] == "我要开小卖部" and len(bundle["needs"]) == 12
    by_need = {n["need"]: [i["id"] for i in n["listings"]] for n in bundle["needs"]}
    assert by_need["周边人口"] == [population]
    assert by_need["烟草专卖许可"] == [tobacco]
    assert by_need["食品经营许可"] == [food]
    assert by_need["气象"] == [weather]
    assert sum(1 for v in by_need.values() if v) == 4, [(k, v) for k, v in by_need.items() if v]
    assert all(n["query"] for n in bundle["needs"])
    assert (await search.search(q="医保"))["scenario"] is None


@pytest.mark.parametrize("q", [
    '"', '""', '"医保', "医保\"", "*", "医保*", "AND", "医保 AND", "OR NOT", "医保 - 结算", "-医保", "(医保", "医保)",
    "NEAR(医保 结算)", "NEAR/2", "医保 NEAR 结算", "^医保", "title:医保", "tokens:医保", "{医保}", "医保 & 结算 | !x",
    "'", "''", "\\", "医保\\", "%", "_", "：", "；", "😀", "　", "医保" * 100, "a" * 300, "1=1; DROP TABLE listing; --",
    "yib:*", "!医保", "<->", "医保 <-> 结算", "x:*", ":*",
])
async def test_query_syntax_is_never_interpreted(holder, q):
    await add_listing(holder, "医疗保障待遇结算数据", tags=["医保"])
    result = await search.search(q=q)
    assert result["total"] in (0, 1) and set(result) >= {"items", "facets", "query"}


async def test_changes_show_in_every_process(holder, monkeypatch):
    """Another process's change reaches this one through the log; sort orders and facets follow it."""
    a = await add_listing(holder, "医保结算甲", quality=90, price=100)
    b = await add_listing(holder, "医保结算乙", quality=80, price=0)
    assert ids(await search.search(q="医保", sort="quality")) == [a, b]
    assert ids(await search.search(q="医保", sort="price_asc")) == [b, a]

    # as another process would: change the row, rewrite the document, log it; this process isn't told
    await Listing.update({Listing.quality_score: 99, Listing.min_price_fen: 0}).where(Listing.id == b)
    monkeypatch.setattr(search, "invalidate", lambda: None)
    await search.index_listing(b)
    monkeypatch.undo()
    monkeypatch.setattr(search, "REFRESH_SECONDS", 0.0)
    result = await search.search(q="医保", sort="quality")
    assert ids(result) == [b, a]
    assert result["facets"]["quality"] == [["90+", 2], ["75-89", 0], ["60-74", 0], ["<60", 0]]
    assert result["facets"]["price"] == [["free", 1], ["paid", 1]]
    assert [i["quality_score"] for i in result["items"]] == [99, 90]

    await Listing.update({Listing.status: "delisted"}).where(Listing.id == a)
    await search.index_listing(a)
    assert ids(await search.search(q="医保")) == [b]
    assert (await search.search())["facets"]["tier"] == [["cleaned", 1]]


async def test_bad_parameters_are_refused():
    from market.errors import DomainError

    for kwargs in ({"sort": "random"}, {"price": "cheap"}, {"tier": "gold"}, {"delivery_mode": "fax"}):
        with pytest.raises(DomainError):
            await search.search(**kwargs)


async def test_api_search(client, holder):
    listing = await add_listing(holder, "医疗保障待遇结算数据", tags=["医保"], price=12_345, tier="product")
    resp = await client.get("/api/v1/search", params={"q": "医保"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["total"] == 1 and body["items"][0]["id"] == listing
    assert body["items"][0]["title"] == "医疗保障待遇结算数据" and body["items"][0]["tier"] == "product"
    assert body["facets"]["tier"] == [["product", 1]] and body["facets"]["price"] == [["free", 0], ["paid", 1]]
    assert body["query"]["terms"] == ["医保"]

    resp = await client.get("/api/v1/search", params={"q": "yb", "tier": "product", "price": "paid",
                                                      "holder": holder["org"]["id"], "quality_min": 50,
                                                      "sort": "price_desc", "page": 1, "page_size": 5})
    assert resp.status_code == 200 and resp.json()["total"] == 1
    assert (await client.get("/api/v1/search", params={"page_size": 101})).status_code == 400
    bad = await client.get("/api/v1/search", params={"sort": "random"})
    assert bad.status_code == 400 and bad.json()["code"] == "search.bad_sort"
    assert (await client.get("/api/v1/search", params={"q": 'NEAR("医保" *'})).status_code == 200


async def test_search_page(client, holder):
    await add_listing(holder, "医疗保障待遇结算数据", tags=["医保"], price=0, summary="参保人员结算明细")
    await add_listing(holder, "西湖区常住人口统计", category="人口与户籍 > 人口统计")
    resp = await client.get("/search", params={"q": "医保"})
    assert resp.status_code == 200, resp.text
    html = resp.text
    assert "医疗保障待遇结算数据" in html and "免费" in html and "杭州市数据资源管理局" in html
    assert "/search?q=%E5%8C%BB%E4%BF%9D&amp;tier=cleaned" in html  # a facet link keeps the query
    resp = await client.get("/search", params={"q": "我要开小卖部"})
    assert resp.status_code == 200 and "西湖区常住人口统计" in resp.text and "周边人口" in resp.text
    resp = await client.get("/search", params={"tier": "cleaned", "sort": "quality", "page": 1})
    assert resp.status_code == 200 and "西湖区常住人口统计" in resp.text
