"""Parties and an active authorization agreement for the regulator's desk tests, made through the services
(the operators tests have their own, but test helpers are imported by basename from their own folder)."""

from __future__ import annotations

from datetime import date, timedelta

from factories import make_org, make_user
from market.context import Actor, acting_as


async def parties() -> dict:
    agency = await make_user(["agency"], org=await make_org(kind="government"))
    operator = await make_user(["operator", "holder"])
    holder = await make_user(["holder"], org=await make_org(kind="government"))
    return {"agency": agency, "operator": operator, "holder": holder}


async def active(p: dict, job_runtime, *, scope: dict, max_revenue_fen: int) -> dict:
    """An agreement from the agency to the operator, drafted, rendered and signed by both."""
    from operators import service

    today = date.today()
    data = {"modes": ["domain"], "scope": scope, "purposes": ["industry", "public_welfare"],
            "starts_on": (today - timedelta(days=1)).isoformat(), "ends_on": (today + timedelta(days=700)).isoformat(),
            "exclusive": False, "items": [{"name": "就医需求预测接口", "cap_fen": 500_000}],
            "max_revenue_fen": max_revenue_fen, "tiers": ["product"], "product_types": ["api", "file"]}
    agency = p["agency"]
    with acting_as(Actor(user_id=agency["id"], org_id=agency["org"]["id"], label="agency")):
        row = await service.create_agreement(agency_org_id=agency["org"]["id"], user_id=agency["id"],
                                             operator_org_id=p["operator"]["org"]["id"], data=data)
    await job_runtime.drain(timeout=120)  # the PDF is rendered by a job
    for who, roles in (("agency", {"agency"}), ("operator", {"operator", "holder"})):
        user = p[who]
        with acting_as(Actor(user_id=user["id"], org_id=user["org"]["id"], label=who)):
            row = await service.sign(agreement_id=row["id"], org_id=user["org"]["id"], roles=frozenset(roles),
                                     user_id=user["id"], ip="192.0.2.1")
    return row
