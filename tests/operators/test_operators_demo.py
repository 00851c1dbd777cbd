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
