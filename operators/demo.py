"""Demo content of the operators package for `market demo`: an agreement in force from the data bureau
(agency@demo.cn) to the city's operator (operator@demo.cn) over the demo's health and transport data,
drafted, rendered and signed by both through the services. Idempotent: nothing is done when the
operator already has an agreement from that agency."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from market import jobs
from market.config import Settings
from market.context import Actor, acting_as
from operators import service
from operators._terms import add_years
from operators.tables import AuthorizationAgreement

CATEGORIES = ["医疗卫生", "交通运输"]


async def load_demo(settings: Settings, org_ids: dict[str, int], user_ids: dict[str, int]) -> list[str]:
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
    # the PDF is rendered by a job: the demo runs its own in-process worker, whatever production uses
    runtime_jobs = jobs.JobRuntime(replace(settings, broker_url=""), with_worker=True, with_dispatcher=False)
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
