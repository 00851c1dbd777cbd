"""Demo content of the operators package for `market demo`: an agreement in force from the data bureau
(agency@demo.cn) to the city's operator (operator@demo.cn) over the demo's health and transport data,
drafted, rendered and signed by both through the services; and a derived product the operator builds
under it from two holders' health tables (卫健委's health resources and the CDC's vaccinations), run
through the pipeline service, listed by the operator once both holders approved it (upstream
co-approval). billing.demo sells it once to buyer@demo.cn.

Idempotent: the agreement is drafted only when the operator has none from that agency, the pipeline
is found by its title, it runs only while it has no output, the listing is found by its asset, and each
step is taken only from the state before it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from market import jobs
from market.config import Settings
from market.context import Actor, acting_as
from market.errors import DomainError
from operators import service
from operators._terms import add_years
from operators.tables import AuthorizationAgreement

CATEGORIES = ["医疗卫生", "交通运输"]


async def load_demo(settings: Settings, org_ids: dict[str, int], user_ids: dict[str, int]) -> list[str]:
    lines = await _agreement(settings, org_ids, user_ids)
    return lines + await _derived_product(settings, org_ids, user_ids)


def _in_process(settings: Settings) -> jobs.JobRuntime:
    # the demo runs its own in-process worker, whatever production uses
    return jobs.JobRuntime(replace(settings, broker_url=""), with_worker=True, with_dispatcher=False)


async def _agreement(settings: Settings, org_ids: dict[str, int], user_ids: dict[str, int]) -> list[str]:
    agency_org, operator_org = org_ids["agency"], org_ids["operator"]
    if await AuthorizationAgreement.exists().where((AuthorizationAgreement.agency_org == agency_org)
                                                   & (AuthorizationAgreement.operator_org == operator_org)):
        return []
    starts = date(date.today().year, 1, 1)
    data = {
        "modes": ["domain", "scenario"], "scope": {"asset_ids": [], "categories": CATEGORIES},
        "purposes": ["public_governance", "public_welfare", "industry", "sector"],
        "scenarios": ["医疗资源规划与就医需求预测", "公共交通出行服务与客流分析", "商业保险精算"],
        "product_types": ["api", "file", "sandbox", "verification"], "tiers": ["cleaned", "product"],
        "starts_on": starts.isoformat(), "ends_on": add_years(starts, 3).isoformat(), "exclusive": False,
        "items": [{"name": "就医需求预测接口", "cap_fen": 500_000, "unit": "per_call"},
                  {"name": "区县医疗资源分析报告", "cap_fen": 2_000_000, "unit": "per_product"},
                  {"name": "公交客流与站点分析服务", "cap_fen": 1_500_000, "unit": "per_period"}],
        "max_revenue_fen": 500_000_000,
    }
    with acting_as(Actor(user_id=user_ids["agency"], org_id=agency_org, label="agency@demo.cn")):
        row = await service.create_agreement(agency_org_id=agency_org, user_id=user_ids["agency"],
                                             operator_org_id=operator_org, data=data)
    # the PDF is rendered by a job
    runtime_jobs = _in_process(settings)
    await runtime_jobs.start()
    try:
        await runtime_jobs.drain(timeout=300)
    finally:
        await runtime_jobs.stop()
    for key, roles in (("agency", {"agency"}), ("operator", {"operator", "holder"})):
        with acting_as(Actor(user_id=user_ids[key], org_id=org_ids[key], label=f"{key}@demo.cn")):
            row = await service.sign(agreement_id=row["id"], org_id=org_ids[key], roles=frozenset(roles),
                                     user_id=user_ids[key], ip="127.0.0.1")
    got = await service.get_agreement(agreement_id=row["id"], org_id=agency_org, roles=frozenset({"agency"}))
    return [f"authorization agreement {row['number']} ({row['status']}): agency → operator over "
            f"{', '.join(CATEGORIES)}, {len(got['asset_ids'])} assets in scope"]


# ---- a derived product from two holders' tables ----------------------------------------------------

# (demo organization key of the holder, title of its table, the name the pipeline reads it by)
SOURCES = [("holder", "杭州市各区县卫生资源情况（年度）", "resources"),
           ("institution", "杭州市疫苗接种剂次统计（月度）", "vaccinations")]
PIPELINE_TITLE = "杭州市各区县医疗资源与预防接种综合分析"
# per district: the latest year's beds and health workers (卫健委) next to the vaccine doses given (疾控中心)
PIPELINE_SQL = (
    'SELECT r.区县 AS 区县, r."实有床位数(张)" AS 床位数, r."卫生技术人员(人)" AS 卫生技术人员数, v.剂次 AS 接种剂次 '
    "FROM resources r JOIN (SELECT 区划代码, sum(接种剂次) AS 剂次 FROM vaccinations GROUP BY 区划代码) v "
    "ON r.区划代码 = v.区划代码 WHERE r.年份 = (SELECT max(年份) FROM resources) ORDER BY r.区划代码")
PRODUCT = {"title": "杭州市各区县医疗资源与预防接种综合分析（加工产品）", "price_fen": 1_500_000,
           "summary": "运营机构依授权运营协议，以卫健委的卫生资源数据和疾控中心的疫苗接种数据加工而成："
                      "各区县最新年度的床位数、卫生技术人员数与接种剂次，用于医疗资源规划。",
           "category": "医疗卫生 > 医疗机构 > 卫生资源"}


def _as(org_ids: dict[str, int], user_ids: dict[str, int], key: str, roles: frozenset[str] = frozenset()) -> Actor:
    return Actor(user_id=user_ids.get(key), org_id=org_ids[key], label=f"{key}@demo.cn", roles=roles)


async def _derived_product(settings: Settings, org_ids: dict[str, int], user_ids: dict[str, int]) -> list[str]:
    from listings import pricing
    from listings import service as listings
    from listings.tables import DataAsset, Listing
    from operators.tables import Coapproval, Lineage, Pipeline

    if any(k not in org_ids or k not in user_ids for k in ("holder", "institution", "admin")):
        return []  # a partial demo (its own tests): no second holder to build from
    operator_org, operator_user = org_ids["operator"], user_ids["operator"]
    op_roles = frozenset({"operator", "holder"})
    agreement = await (AuthorizationAgreement.select(AuthorizationAgreement.id)
                       .where((AuthorizationAgreement.agency_org == org_ids["agency"])
                              & (AuthorizationAgreement.operator_org == operator_org)
                              & (AuthorizationAgreement.status == "active")).first())
    if agreement is None:
        return ["! derived product: no active agreement from agency@demo.cn to operator@demo.cn"]
    sources = {}
    for key, title, name in SOURCES:
        asset = await (DataAsset.select(DataAsset.id).where((DataAsset.holder == org_ids[key])
                                                            & (DataAsset.title == title)).first())
        if asset is None:
            return [f"! derived product: no table {title} of {key}"]
        sources[name] = asset["id"]
    lines: list[str] = []
    op = _as(org_ids, user_ids, "operator", op_roles)
    pipeline = await (Pipeline.select().where((Pipeline.operator_org == operator_org)
                                              & (Pipeline.title == PIPELINE_TITLE)).first())
    if pipeline is None:
        with acting_as(op):
            pipeline = await service.create_pipeline(operator_org_id=operator_org, user_id=operator_user,
                                                     agreement_id=agreement["id"], title=PIPELINE_TITLE,
                                                     sources=sources, sql=PIPELINE_SQL)
        lines.append(f"pipeline {PIPELINE_TITLE}")
    runtime_jobs = _in_process(settings)
    await runtime_jobs.start()
    try:
        if pipeline["output_asset"] is None or not await Lineage.exists().where(
                Lineage.pipeline == pipeline["id"]):
            with acting_as(op):
                queued = await service.start_run(pipeline_id=pipeline["id"], org_id=operator_org,
                                                 user_id=operator_user, roles=op_roles)
            await runtime_jobs.drain(timeout=600)  # the run, then the profiling of its output
            done = await service.get_run(run_id=queued["id"], org_id=operator_org, roles=op_roles)
            if done["status"] != "done":
                return lines + [f"! derived product: the pipeline run failed: {done['error']}"]
            lines.append(f"pipeline run {done['id']}: {done['rows_out']} rows")
        asset_id = (await Pipeline.select(Pipeline.output_asset).where(Pipeline.id == pipeline["id"]).first())[
            "output_asset"]
        listing = await Listing.select().where(Listing.asset == asset_id).first()
        if listing is None:
            with acting_as(op):
                listing = await listings.create_listing(
                    asset_id=asset_id, org_id=operator_org, tier="product", delivery_mode="file",
                    title=PRODUCT["title"], summary=PRODUCT["summary"], category_path=PRODUCT["category"],
                    tags=["医疗资源", "预防接种", "加工产品"], update_cycle="yearly", sharing_type="unconditional",
                    open_type="unconditional",
                    plans=[pricing.PlanSpec(kind="one_time", name="按次购买", price_fen=PRODUCT["price_fen"])])
            lines.append(f"listing 《{PRODUCT['title']}》 (derived, draft)")
        if listing["status"] == "draft":
            try:
                with acting_as(op):
                    await listings.submit(listing_id=listing["id"], org_id=operator_org)
            except DomainError as exc:
                if exc.code != "coapproval.pending":
                    raise
                # the holders of both sources answer the request the submission made
                for row in await Coapproval.select().where((Coapproval.listing == listing["id"])
                                                          & (Coapproval.status == "pending")):
                    key = next(k for k, _, _ in SOURCES if org_ids[k] == row["holder_org"])
                    with acting_as(_as(org_ids, user_ids, key)):
                        await service.decide_coapproval(coapproval_id=row["id"], org_id=org_ids[key],
                                                        user_id=user_ids[key], approve=True,
                                                        note="同意以区县汇总形式上架，不含个人信息")
                with acting_as(op):
                    await listings.submit(listing_id=listing["id"], org_id=operator_org)
                lines.append("co-approved by 卫健委 and 疾控中心; submitted for review")
        listing = await Listing.select().where(Listing.id == listing["id"]).first()
        if listing["status"] == "submitted":
            with acting_as(_as(org_ids, user_ids, "admin")):
                await listings.approve(listing_id=listing["id"], note="加工产品血缘与授权范围核验无误", notice_days=0)
            lines.append(f"listing 《{PRODUCT['title']}》 listed")
        await runtime_jobs.drain(timeout=600)
    finally:
        await runtime_jobs.stop()
    return lines
