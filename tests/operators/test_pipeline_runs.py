"""Running pipelines through the job: a profiled asset version of the operator's with its lineage,
k-anonymity failing a run, a run over its budget failing alone, re-runs on a new source version."""

from __future__ import annotations

import io
from dataclasses import replace

from pipeline_factories import AGGREGATE_SQL, MASKING_SQL, VISITS, as_operator, pipeline, run, world
from listings import service as listings_service
from listings.tables import AssetVersion, DataAsset
from market import runtime
from market.context import Actor, acting_as
from market.tables import AuditEvent
from operators.tables import Lineage, PipelineRun


async def test_a_run_makes_a_profiled_version_of_the_operators_asset_with_lineage(job_runtime):
    w = await world(job_runtime)
    p = await pipeline(w)
    done = await run(w, p["id"], job_runtime)
    assert done["status"] == "done", done["error"]
    assert done["rows_in"] == 24 and done["rows_out"] == 2 and done["engine"] == "duckdb"
    asset = await DataAsset.select().where(DataAsset.id == done["asset"]).first()
    assert asset["holder"] == w["operator"]["org"]["id"] and asset["title"] == "门诊人次月度统计"
    version = await AssetVersion.select().where((AssetVersion.asset == done["asset"]) & (AssetVersion.number == 1)).first()
    assert version["profile_status"] == "done" and version["row_count"] == 2
    from operators import service

    lineage = await service.lineage_of(asset_id=done["asset"], org_id=w["operator"]["org"]["id"],
                                       roles=frozenset({"operator"}))
    assert lineage["sources"] == [{"name": "visits", "asset_id": w["visits"]["id"], "version": 1,
                                   "holder_id": w["holder"]["org"]["id"]}]
    import hashlib

    assert lineage["pipeline_sha256"] == hashlib.sha256(AGGREGATE_SQL.encode()).hexdigest()
    assert lineage["rows_in"] == 24 and lineage["rows_out"] == 2 and lineage["engine"] == "duckdb"
    assert lineage["started_at"] <= lineage["finished_at"]
    assert await AuditEvent.exists().where(AuditEvent.action == "pipeline.run_done")
    # a second run is the next version of the same asset, with its own lineage
    again = await run(w, p["id"], job_runtime)
    assert again["asset"] == done["asset"] and again["asset_version"] == 2
    assert await Lineage.count().where(Lineage.asset == done["asset"]) == 2


async def test_masking_drops_unchanged_identifiers_and_masks_the_rest(job_runtime):
    w = await world(job_runtime)
    sql = MASKING_SQL.replace("SELECT ", "SELECT 身份证号, ", 1)
    p = await pipeline(w, sql=sql)
    done = await run(w, p["id"], job_runtime)
    assert done["status"] == "done", done["error"]
    version = await AssetVersion.select().where(AssetVersion.asset == done["asset"]).first()
    text = b"".join(runtime.storage().open(version["object_key"])).decode()
    header, first = text.splitlines()[:2]
    assert header == "证件,电话,地市,月份,次数"  # the ID number copied unchanged was left out
    assert first.startswith("3***************00,135****0000,330100,2024-05,")


async def test_k_anonymity_below_k_fails_the_run_and_publishes_nothing(job_runtime):
    w = await world(job_runtime)
    p = await pipeline(w, sql=MASKING_SQL, k=13, k_columns=["地市", "月份"])
    failed = await run(w, p["id"], job_runtime)
    assert failed["status"] == "failed" and failed["error_code"] == "pipeline.k_anonymity"
    assert failed["error"]["params"]["n"] == 12 and failed["asset"] is None
    assert not await Lineage.exists()
    ok = await pipeline(w, sql=MASKING_SQL, k=12, k_columns=["地市", "月份"])
    assert (await run(w, ok["id"], job_runtime))["status"] == "done"


async def test_a_run_over_its_time_budget_fails_alone(job_runtime, settings):
    w = await world(job_runtime)
    slow = await pipeline(w, sql="SELECT sum(length(concat(a.身份证号, f.手机号, g.区划代码))) AS n "
                                        "FROM visits a, visits b, visits c, visits d, visits e, visits f, visits g",
                          title="笛卡尔积")
    runtime.configure(replace(settings, pipeline_seconds=1))
    try:
        failed = await run(w, slow["id"], job_runtime)
    finally:
        runtime.configure(settings)
    assert failed["status"] == "failed" and failed["error_code"] == "pipeline.over_time", failed
    fine = await pipeline(w)
    assert (await run(w, fine["id"], job_runtime))["status"] == "done"


async def test_a_run_over_its_memory_budget_fails_alone(job_runtime, settings):
    w = await world(job_runtime)
    big = await pipeline(w, sql="SELECT string_agg(concat(a.身份证号, b.身份证号, c.身份证号, d.身份证号), ',') AS s "
                                "FROM visits a, visits b, visits c, visits d, visits e", title="大字符串")
    runtime.configure(replace(settings, pipeline_memory_mb=64))
    try:
        failed = await run(w, big["id"], job_runtime)
    finally:
        runtime.configure(settings)
    assert failed["status"] == "failed" and failed["error_code"] == "pipeline.over_memory", failed
    fine = await pipeline(w)
    assert (await run(w, fine["id"], job_runtime))["status"] == "done"


async def test_a_new_source_version_reruns_a_pipeline_that_asks_for_it(job_runtime):
    from operators import service

    w = await world(job_runtime)
    auto = await pipeline(w, rerun_on_new_version=True)
    manual = await pipeline(w, title="手动")
    for p in (auto, manual):
        assert (await run(w, p["id"], job_runtime))["status"] == "done"
    assert await service.rerun_due() == []  # nothing new yet
    holder = w["holder"]
    with acting_as(Actor(user_id=holder["id"], org_id=holder["org"]["id"], label="holder")):
        await listings_service.upload(storage=runtime.storage(), holder_org_id=holder["org"]["id"], user_id=holder["id"],
                                      stream=io.BytesIO(VISITS), filename="门诊就诊明细.csv", asset_id=w["visits"]["id"])
    await job_runtime.drain(timeout=120)
    queued = await service.rerun_due()
    assert len(queued) == 1
    await job_runtime.drain(timeout=180)
    rerun = await PipelineRun.select().where(PipelineRun.id == queued[0]).first()
    assert rerun["pipeline"] == auto["id"] and rerun["status"] == "done" and rerun["trigger"] == "source_version"
    lineage = await service.lineage_of(asset_id=rerun["asset"], org_id=None, roles=frozenset({"regulator"}))
    assert lineage["sources"][0]["version"] == 2 and lineage["version"] == 2
    assert await service.rerun_due() == []
