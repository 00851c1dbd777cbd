"""Parties, catalogued assets and agreements for the operators tests, made through the services."""

from __future__ import annotations

from datetime import date, timedelta

from factories import make_asset, make_org, make_user
from market.context import Actor, acting_as

HEALTH = "医疗卫生 > 诊疗服务 > 门诊人次"
TRANSPORT = "交通运输 > 公共交通"


async def parties() -> dict:
    agency = await make_user(["agency"], org=await make_org(kind="government"))
    operator = await make_user(["operator", "holder"])
    holder = await make_user(["holder"], org=await make_org(kind="government"))
    return {"agency": agency, "operator": operator, "holder": holder}


async def catalogued_asset(user: dict, job_runtime, *, category: str, title: str, content: bytes | None = None) -> dict:
    """An asset uploaded, profiled and filed under `category` by its holder."""
    from listings import service

    asset = await make_asset(user, job_runtime, content=content)
    with acting_as(Actor(user_id=user["id"], org_id=user["org"]["id"], label=user["email"])):
        await service.update_catalogue(asset_id=asset["id"], org_id=user["org"]["id"],
                                       fields={"title": title, "category_path": category})
    return (await service.get_asset(asset_id=asset["id"]))["asset"]


def terms(operator_org_id: int, **overrides) -> dict:
    today = date.today()
    data = {
        "operator_org_id": operator_org_id, "modes": ["domain"],
        "scope": {"asset_ids": [], "categories": [HEALTH]},
        "purposes": ["industry", "public_welfare"], "starts_on": (today - timedelta(days=1)).isoformat(),
        "ends_on": (today + timedelta(days=365 * 3)).isoformat(), "exclusive": False,
        "items": [{"name": "就医需求预测接口", "cap_fen": 500_000}, {"name": "门诊统计报告", "cap_fen": 2_000_000}],
        "max_revenue_fen": 10_000_000, "tiers": ["product"], "product_types": ["api", "file"],
    }
    data.update(overrides)
    return data


async def draft(p: dict, **overrides) -> dict:
    from operators import service

    data = terms(p["operator"]["org"]["id"], **overrides)
    with acting_as(Actor(user_id=p["agency"]["id"], org_id=p["agency"]["org"]["id"], label="agency")):
        return await service.create_agreement(agency_org_id=p["agency"]["org"]["id"], user_id=p["agency"]["id"],
                                              operator_org_id=data.pop("operator_org_id"), data=data)


async def sign_both(p: dict, agreement_id: int, job_runtime) -> dict:
    from operators import service

    await job_runtime.drain(timeout=120)  # the PDF is rendered by a job
    for who, roles in (("agency", {"agency"}), ("operator", {"operator", "holder"})):
        user = p[who]
        with acting_as(Actor(user_id=user["id"], org_id=user["org"]["id"], label=who)):
            row = await service.sign(agreement_id=agreement_id, org_id=user["org"]["id"], roles=frozenset(roles),
                                     user_id=user["id"], ip="192.0.2.1")
    return row


async def active(p: dict, job_runtime, **overrides) -> dict:
    row = await draft(p, **overrides)
    return await sign_both(p, row["id"], job_runtime)
