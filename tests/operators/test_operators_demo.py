"""The demo's agreement: in force from agency@demo.cn's organization to operator@demo.cn's, over health
and transport data, signed by both through the services, and loaded once however often the demo runs."""

from __future__ import annotations

from agreement_factories import HEALTH, TRANSPORT, catalogued_asset, parties
from market.tables import Signature
from operators import demo, service
from operators.tables import AuthorizationAgreement


async def test_the_demo_agreement_is_active_signed_by_both_and_loaded_once(settings, job_runtime):
    p = await parties()
    clinic = await catalogued_asset(p["holder"], job_runtime, category=HEALTH, title="门诊人次")
    bus = await catalogued_asset(p["operator"], job_runtime, category=TRANSPORT + " > 公交站点", title="公交站点")
    org_ids = {k: p[k]["org"]["id"] for k in ("agency", "operator")}
    user_ids = {k: p[k]["id"] for k in ("agency", "operator")}
    lines = await demo.load_demo(settings, org_ids, user_ids)
    assert lines and "active" in lines[0]
    [row] = await AuthorizationAgreement.select()
    got = await service.get_agreement(agreement_id=row["id"], org_id=org_ids["operator"],
                                      roles=frozenset({"operator"}))
    assert got["status"] == "active" and got["agency_org"] == org_ids["agency"]
    assert {clinic["id"], bus["id"]} <= set(got["asset_ids"])
    assert await Signature.count().where(Signature.document == row["document"]) == 2
    assert await demo.load_demo(settings, org_ids, user_ids) == []
    assert await AuthorizationAgreement.count() == 1


RESOURCES = ("年份,区县,区划代码,医疗卫生机构数(个),实有床位数(张),卫生技术人员(人)\n" + "".join(
    f"{year},{name},{code},{100 + i},{5000 + 100 * i + year % 10},{9000 + 10 * i}\n"
    for year in (2024, 2025) for i, (name, code) in enumerate([("上城区", 330102), ("拱墅区", 330105),
                                                                ("西湖区", 330106)]))).encode()
VACCINATIONS = ("年月,区县,区划代码,疫苗名称,疫苗类别,接种剂次\n" + "".join(
    f"2025-0{m},{name},{code},{vaccine},免疫规划,{300 + 7 * m + i}\n"
    for m in (1, 2, 3) for i, (name, code) in enumerate([("上城区", 330102), ("拱墅区", 330105), ("西湖区", 330106)])
    for vaccine in ("乙肝疫苗", "麻腮风疫苗"))).encode()


async def test_the_demo_product_is_built_from_two_holders_co_approved_listed_and_loaded_once(settings, job_runtime):
    from factories import make_org, make_user
    from listings.tables import Listing
    from operators.tables import Coapproval, Lineage, Pipeline, PipelineRun

    p = await parties()
    cdc = await make_user(["holder"], org=await make_org(kind="institution"))
    admin = await make_user(["admin"])
    resources = await catalogued_asset(p["holder"], job_runtime, category="医疗卫生 > 医疗机构 > 卫生资源",
                                       title=demo.SOURCES[0][1], content=RESOURCES)
    doses = await catalogued_asset(cdc, job_runtime, category="医疗卫生 > 公共卫生 > 疫苗接种",
                                   title=demo.SOURCES[1][1], content=VACCINATIONS)
    people = {"agency": p["agency"], "operator": p["operator"], "holder": p["holder"], "institution": cdc,
              "admin": admin}
    org_ids = {k: u["org"]["id"] for k, u in people.items()}
    user_ids = {k: u["id"] for k, u in people.items()}
    lines = await demo.load_demo(settings, org_ids, user_ids)
    assert not [line for line in lines if line.startswith("!")], lines

    [pipeline] = await Pipeline.select()
    [lineage] = await Lineage.select().where(Lineage.asset == pipeline["output_asset"])
    got = await service.lineage_of(asset_id=pipeline["output_asset"], org_id=None, roles=frozenset({"regulator"}))
    assert {s["holder_id"] for s in got["sources"]} == {org_ids["holder"], org_ids["institution"]}
    assert {s["asset_id"] for s in got["sources"]} == {resources["id"], doses["id"]}
    assert lineage["rows_out"] == 3
    [listing] = await Listing.select().where(Listing.asset == pipeline["output_asset"])
    assert listing["status"] == "listed" and listing["holder"] == org_ids["operator"]
    approvals = await Coapproval.select().where(Coapproval.listing == listing["id"])
    assert {(a["holder_org"], a["status"]) for a in approvals} == {(org_ids["holder"], "approved"),
                                                                   (org_ids["institution"], "approved")}

    counts = [await t.count() for t in (Pipeline, PipelineRun, Lineage, Listing, Coapproval)]
    assert await demo.load_demo(settings, org_ids, user_ids) == []
    assert [await t.count() for t in (Pipeline, PipelineRun, Lineage, Listing, Coapproval)] == counts
