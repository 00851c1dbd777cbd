"""Reading assets across holders by category subtree, for authorization scopes (operators)."""

from __future__ import annotations

from factories import make_asset, make_user
from listings import catalogue, service
from market.context import Actor, acting_as


async def _filed(user, job_runtime, category: str) -> dict:
    asset = await make_asset(user, job_runtime)
    with acting_as(Actor(user_id=user["id"], org_id=user["org"]["id"], label="t")):
        await service.update_catalogue(asset_id=asset["id"], org_id=user["org"]["id"],
                                       fields={"title": "测试数据表", "category_path": category})
    return asset


async def test_a_category_reaches_every_asset_filed_at_or_below_it_whoever_holds_it(job_runtime):
    a, b = await make_user(["holder"]), await make_user(["holder"])
    clinic = await _filed(a, job_runtime, "医疗卫生 > 诊疗服务 > 门诊人次")
    beds = await _filed(b, job_runtime, "医疗卫生 > 诊疗服务 > 住院人次")
    school = await _filed(a, job_runtime, "教育 > 高等教育")
    found = await service.asset_ids_under_categories(["医疗卫生 > 诊疗服务", "医疗卫生 > 诊疗服务 > 门诊人次", "教育"])
    assert found == {"医疗卫生 > 诊疗服务": sorted([clinic["id"], beds["id"]]),
                     "医疗卫生 > 诊疗服务 > 门诊人次": [clinic["id"]], "教育": [school["id"]]}
    # a prefix of a name is not a parent: 医疗 is not 医疗卫生
    assert await service.asset_ids_under_categories(["医疗"]) == {"医疗": []}
    summaries = await service.asset_summaries([clinic["id"], 10**6])
    assert list(summaries) == [clinic["id"]]
    assert summaries[clinic["id"]]["columns"] == ["区划代码", "区县", "常住人口", "年份"]
    assert summaries[clinic["id"]]["holder"] == a["org"]["id"]


def test_a_category_is_named_by_code_or_path():
    assert catalogue.category_path("A0101") == "医疗卫生 > 诊疗服务"
    assert catalogue.category_path("医疗卫生 > 诊疗服务") == "医疗卫生 > 诊疗服务"
    assert catalogue.category_path("医疗卫生/诊疗服务") == "医疗卫生 > 诊疗服务"
    assert catalogue.category_path("没有") is None and catalogue.category_path("") is None
