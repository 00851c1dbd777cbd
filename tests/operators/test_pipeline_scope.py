"""Scope at the pipeline enforcement point: a source outside every scope, an agreement suspended or
expired, a column outside the scope, and a product already delivered within the scope are refused,
when the pipeline is created and when it runs, with a clear error and nothing changed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from agreement_factories import HEALTH, TRANSPORT, active, catalogued_asset, parties
from factories import make_listing, make_org, make_user
from market.context import Actor, acting_as
from market.errors import DomainError
from market.tables import AuditEvent
from operators.tables import AuthorizationAgreement, Lineage, Pipeline, PipelineRun
from pipeline_factories import AGGREGATE_SQL, CLINICS, VISITS, pipeline, run, world

OPERATOR = frozenset({"operator", "holder"})


async def _counts() -> tuple:
    return (await Pipeline.count(), await PipelineRun.count(), await AuditEvent.count())


async def _refused(w, code: str, **kwargs) -> DomainError:
    before = await _counts()
    with pytest.raises(DomainError) as info:
        await pipeline(w, **kwargs)
    assert info.value.code == code, info.value
    assert await _counts() == before  # nothing changed, not even the audit chain
    return info.value


async def test_a_source_outside_the_scope_is_refused(job_runtime):
    w = await world(job_runtime)
    bus = await catalogued_asset(w["holder"], job_runtime, category=TRANSPORT + " > 公交站点", title="公交站点")
    err = await _refused(w, "agreement.out_of_scope", sources={"visits": w["visits"]["id"], "bus": bus["id"]},
                         sql="SELECT count(*) AS n FROM visits, bus")
    assert err.status_code == 403 and err.params["asset_id"] == bus["id"]


async def test_an_agreement_of_another_operator_is_not_found(job_runtime):
    w = await world(job_runtime)
    other = await make_user(["operator"])
    from operators import service

    with pytest.raises(DomainError) as info:
        await service.create_pipeline(operator_org_id=other["org"]["id"], user_id=other["id"],
                                      agreement_id=w["agreement"]["id"], title="x",
                                      sources={"visits": w["visits"]["id"]}, sql=AGGREGATE_SQL)
    assert info.value.status_code == 404 and not await Pipeline.exists()


async def test_a_suspended_agreement_refuses_creating_and_running(job_runtime):
    from operators import service

    w = await world(job_runtime)
    p = await pipeline(w)
    agency = w["agency"]
    with acting_as(Actor(user_id=agency["id"], org_id=agency["org"]["id"], label="agency")):
        await service.suspend(agreement_id=w["agreement"]["id"], org_id=agency["org"]["id"],
                              roles=frozenset({"agency"}), reason="安全检查")
    await _refused(w, "agreement.suspended")
    before = await _counts()
    with pytest.raises(DomainError) as info:
        await service.start_run(pipeline_id=p["id"], org_id=w["operator"]["org"]["id"], user_id=w["operator"]["id"],
                                roles=OPERATOR)
    assert info.value.code == "agreement.suspended" and await _counts() == before


async def test_an_expired_agreement_refuses_and_a_queued_run_fails_with_the_reason(job_runtime):
    from operators import service

    w = await world(job_runtime)
    p = await pipeline(w)
    op = w["operator"]
    with acting_as(Actor(user_id=op["id"], org_id=op["org"]["id"], label="op")):
        queued = await service.start_run(pipeline_id=p["id"], org_id=op["org"]["id"], user_id=op["id"], roles=OPERATOR)
    # the term ends before the job runs: the run is refused by the same check, with its reason
    await AuthorizationAgreement.update({AuthorizationAgreement.ends_on: date.today() - timedelta(days=1)}).where(
        AuthorizationAgreement.id == w["agreement"]["id"])
    await job_runtime.drain(timeout=120)
    got = await service.get_run(run_id=queued["id"], org_id=op["org"]["id"], roles=OPERATOR)
    assert got["status"] == "failed" and got["error_code"] == "agreement.expired" and got["asset"] is None
    assert not await Lineage.exists()
    await _refused(w, "agreement.expired")


async def test_a_column_outside_a_narrowed_scope_is_refused(job_runtime):
    p = await parties()
    visits = await catalogued_asset(p["holder"], job_runtime, category=HEALTH, title="门诊就诊明细", content=VISITS)
    agreement = await active(p, job_runtime, scope={"asset_ids": [visits["id"]], "categories": [],
                                                    "columns": {str(visits["id"]): ["区划代码", "就诊日期", "次数"]}})
    w = {**p, "visits": visits, "agreement": agreement}
    err = await _refused(w, "agreement.column_out_of_scope",
                         sql="SELECT mask_id(身份证号) AS 证件, count(*) AS n FROM visits GROUP BY 1")
    assert err.params["column"] == "身份证号"
    assert (await pipeline(w))["id"]  # the aggregate reads only columns in scope


async def test_a_product_delivered_within_the_scope_cannot_be_built_on(job_runtime):
    from listings import service as listings_service

    w = await world(job_runtime)
    listing = (await make_listing(w["holder"], job_runtime, tier="product", category=HEALTH, content=CLINICS, cap_fen=100_000,
                                  title="医疗机构数产品"))["listing"]
    holder = w["holder"]
    with acting_as(Actor(user_id=holder["id"], org_id=holder["org"]["id"], label="holder")):
        await listings_service.update_catalogue(asset_id=listing["asset"], org_id=holder["org"]["id"],
                                                fields={"title": "医疗机构数", "category_path": HEALTH})  # in scope
    sql = "SELECT region_city(区划代码) AS 地市, sum(机构数) AS n FROM clinics GROUP BY 1"
    listed = {"clinics": listing["asset"]}
    assert (await pipeline(w, sources=listed, sql=sql))["id"]  # listed but not delivered yet: allowed
    buyer = await make_user(["buyer"], org=await make_org())
    plans = await listings_service.plans_of(listing["id"])
    with acting_as(Actor(user_id=buyer["id"], org_id=buyer["org"]["id"], label="buyer")):
        await listings_service.grant(listing_id=listing["id"], plan_id=plans[0]["id"], buyer_org_id=buyer["org"]["id"],
                                     user_id=buyer["id"], purpose="industry", purpose_note="保险精算",
                                     amount_fen=50_000, source_ref="DD-TEST-1")
    err = await _refused(w, "pipeline.delivered_product", sources=listed, sql=sql)
    assert err.status_code == 403
    # another organization's derived product (it has that organization's lineage) may be built on
    other = await make_user(["operator"])
    await Lineage.insert(Lineage(key=f"{listing['asset']}:1", asset=listing["asset"], version=1, run=None,
                                 pipeline=None, operator_org=other["org"]["id"], agreement=w["agreement"]["id"],
                                 sources="[]", pipeline_sql="SELECT 1", pipeline_sha256="0" * 64, engine="duckdb",
                                 started_at=listing["created_at"], finished_at=listing["created_at"]))
    assert (await pipeline(w, sources=listed, sql=sql))["id"]


async def test_a_run_refused_at_start_queues_nothing(job_runtime):
    from operators import service

    w = await world(job_runtime)
    p = await pipeline(w)
    with pytest.raises(DomainError) as info:
        await service.start_run(pipeline_id=p["id"], org_id=w["holder"]["org"]["id"], user_id=w["holder"]["id"],
                                roles=frozenset({"holder"}))
    assert info.value.status_code == 404 and not await PipelineRun.exists()
    assert (await run(w, p["id"], job_runtime))["status"] == "done"
