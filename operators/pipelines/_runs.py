"""Running a pipeline: a run is queued (after the checks, again), then a job stages the sources' prepared
tables from the object store, runs the engine within the configured budget, and hands the output to the
catalogue as a new version of the operator's derived asset (listings' upload: the same profiling and
listing path as any upload), recording its lineage in the same transaction.

DuckDB runs in a child process (market.bounded) as well as with its own limits: a run that breaks its
memory or time budget fails alone, with its reason, and the worker lives on. Spark runs in its own JVM;
its jobs are cancelled when the time is up.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from listings import service as listings_service
from market import audit, bounded, db, jobs, runtime
from market.context import Actor, acting_as
from market.errors import DomainError, NotFound
from market.i18n import N_
from operators.pipelines import _define, engines
from operators.tables import Lineage, Pipeline, PipelineRun, RunStatus

# what the fork server imports once, so that a run's child starts in milliseconds
PRELOAD = ("operators.pipelines.engines", "duckdb", "sqlglot")
# Python, the CSV staging and the child itself need room beside DuckDB's own memory limit
CHILD_HEADROOM_MB = 256


def _now() -> datetime:
    return datetime.now(timezone.utc)


async def start_run(*, pipeline_id: int, org_id: int | None, user_id: int | None, roles: frozenset[str],
                    trigger: str = "manual") -> dict:
    """Queue a run after checking again that the agreement is in force and every source in scope;
    a refusal queues nothing."""
    pipeline = await _define._pipeline(pipeline_id, org_id, roles)
    if pipeline["operator_org"] != org_id and trigger == "manual":
        raise NotFound("pipeline.not_found", "加工任务不存在")  # overseers read pipelines, they do not run them
    await _define.authorize(operator_org_id=pipeline["operator_org"], agreement_id=pipeline["agreement"],
                            sources=pipeline["sources"], sql=pipeline["sql"])
    async with db.atomic():
        rows = await PipelineRun.insert(PipelineRun(pipeline=pipeline_id, trigger=trigger, requested_by=user_id,
                                                    engine=runtime.settings().pipeline_engine)
                                        ).returning(PipelineRun.id)
        run_id = rows[0]["id"]
        await audit.record(action="pipeline.run_queued", object_type="pipeline_run", object_id=run_id,
                           after={"pipeline_id": pipeline_id, "trigger": trigger})
        await jobs.enqueue("operators.run_pipeline", run_id=run_id)
    return await get_run(run_id=run_id, org_id=org_id, roles=roles)


async def get_run(*, run_id: int, org_id: int | None, roles: frozenset[str]) -> dict:
    run = await PipelineRun.select().where(PipelineRun.id == run_id).first()
    if run is None:
        raise NotFound("pipeline.run_not_found", "加工运行记录不存在")
    pipeline = await Pipeline.select(Pipeline.operator_org, Pipeline.title).where(Pipeline.id == run["pipeline"]).first()
    if not roles & _define.OVERSEERS and pipeline["operator_org"] != org_id:
        raise NotFound("pipeline.run_not_found", "加工运行记录不存在")
    run["error"] = json.loads(run["error"]) if run["error"] else None
    run["pipeline_title"] = pipeline["title"]
    return run


async def _fail(run_id: int, code: str, message: str, params: dict) -> None:
    async with db.atomic():
        run = await PipelineRun.select(PipelineRun.status).where(PipelineRun.id == run_id).first()
        if run["status"] in (RunStatus.DONE.value, RunStatus.FAILED.value):
            return
        await db.transition(PipelineRun, run_id, to=RunStatus.FAILED, action="pipeline.run_failed",
                            extra={PipelineRun.error_code: code, PipelineRun.finished_at: _now(),
                                   PipelineRun.error: json.dumps({"message": message, "params": params},
                                                                 ensure_ascii=False, default=str)},
                            audit_after={"error_code": code})


def _filename(title: str) -> str:
    # the catalogue names a new asset after its file: keep the title, without path separators
    return re.sub(r"[\\/\x00-\x1f]+", " ", title).strip()[:150] + ".csv"


def _stage(storage, key: str, path: Path) -> None:
    with path.open("wb") as fh:
        for chunk in storage.open(key):
            fh.write(chunk)


def _run_engine(task: engines.Task, settings) -> engines.Result:
    """The engine within the budget (blocking: called in a thread)."""
    if settings.pipeline_engine == "spark":
        return engines.run_spark(task, master=settings.spark_master)
    bounded.preload(PRELOAD)
    budget = bounded.Budget(memory_bytes=(task.memory_mb + CHILD_HEADROOM_MB) * 1024**2,
                            seconds=task.seconds + 5)  # DuckDB's own interrupt answers first, with its reason
    try:
        return bounded.run(engines.run_duckdb, task, budget=budget).value
    except bounded.BudgetExceeded as exc:
        if exc.kind == "time":
            raise engines.PipelineFailed("pipeline.over_time", N_("加工超过时间上限 {seconds} 秒，已停止"),
                                         {"seconds": f"{task.seconds:g}"}) from None
        if exc.kind == "memory":
            raise engines.PipelineFailed("pipeline.over_memory", N_("加工超过内存上限 {mb} MB，已停止"),
                                         {"mb": task.memory_mb}) from None
        raise engines.PipelineFailed("pipeline.crashed", N_("加工进程异常终止：{detail}"), {"detail": exc.detail[:200]}) from None


async def execute_run(*, run_id: int) -> None:
    """The job: run the engine and publish its output as a new version of the derived asset (idempotent:
    a finished run is left alone; a run whose attempt died is started over)."""
    run = await PipelineRun.select().where(PipelineRun.id == run_id).first()
    if run is None or run["status"] in (RunStatus.DONE.value, RunStatus.FAILED.value):
        return
    pipeline = _define._decode(await Pipeline.select().where(Pipeline.id == run["pipeline"]).first())
    if run["status"] == RunStatus.QUEUED.value:
        await db.transition(PipelineRun, run_id, to=RunStatus.RUNNING, action="pipeline.run_started",
                            extra={PipelineRun.started_at: _now()})
    started = _now()
    try:
        found = await _define.authorize(operator_org_id=pipeline["operator_org"], agreement_id=pipeline["agreement"],
                                        sources=pipeline["sources"], sql=pipeline["sql"])
    except DomainError as exc:
        await _fail(run_id, exc.code, exc.message, exc.params)
        return
    settings = runtime.settings()
    storage = runtime.storage()
    versions = found["versions"]
    drop = found["checked"].identifier_outputs if pipeline["drop_identifiers"] else []
    workdir = Path(tempfile.mkdtemp(prefix="pipeline-"))
    try:
        sources = []
        for name, asset_id in sorted(pipeline["sources"].items()):
            v = versions[asset_id]
            path = workdir / f"{name}.csv"
            await asyncio.to_thread(_stage, storage, v["prepared_key"], path)
            sources.append(engines.Source(name=name, path=str(path),
                                          columns=tuple((c["name"], c["type"]) for c in v["columns"])))
        (workdir / "out").mkdir()
        task = engines.Task(sources=tuple(sources), sql=pipeline["sql"], out_path=str(workdir / "out" / "output.csv"),
                            k=pipeline["k"], k_columns=tuple(pipeline["k_columns"]), drop_columns=tuple(drop),
                            memory_mb=settings.pipeline_memory_mb, threads=settings.pipeline_threads,
                            seconds=settings.pipeline_seconds)
        try:
            result = await asyncio.to_thread(_run_engine, task, settings)
        except engines.PipelineFailed as exc:
            await _fail(run_id, exc.code, exc.message, exc.params)
            return
        user_id = run["requested_by"] or pipeline["created_by"]
        actor = Actor(user_id=user_id, org_id=pipeline["operator_org"], label=f"pipeline:{pipeline['id']}")
        with acting_as(actor):
            await _publish(run_id, pipeline, found, result, started, storage, Path(task.out_path), user_id)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


async def _publish(run_id: int, pipeline: dict, found: dict, result: engines.Result, started: datetime, storage,
                   out_path: Path, user_id: int) -> None:
    """Upload the output as the derived asset's next version and record its lineage, in one transaction."""
    if result.rows_out == 0:
        await _fail(run_id, "pipeline.empty_output", N_("加工结果为空（0 行），未生成新版本"), {})
        return
    sources = [{"name": name, "asset_id": aid, "version": found["versions"][aid]["version"],
                "holder_id": found["versions"][aid]["holder_id"]} for name, aid in sorted(pipeline["sources"].items())]
    finished = _now()
    async with db.atomic():
        with out_path.open("rb") as fh:
            uploaded = await listings_service.upload(
                storage=storage, holder_org_id=pipeline["operator_org"], user_id=user_id, stream=fh,
                filename=_filename(pipeline["title"]), content_type="text/csv; charset=utf-8",
                asset_id=pipeline["output_asset"])
        if pipeline["output_asset"] is None:
            await Pipeline.update({Pipeline.output_asset: uploaded["id"]}).where(Pipeline.id == pipeline["id"])
        await Lineage.insert(Lineage(
            key=f"{uploaded['id']}:{uploaded['version']}", asset=uploaded["id"], version=uploaded["version"],
            run=run_id, pipeline=pipeline["id"], operator_org=pipeline["operator_org"],
            agreement=found["agreement"]["id"], sources=json.dumps(sources), pipeline_sql=pipeline["sql"],
            pipeline_sha256=pipeline["sql_sha256"], engine=result.engine, rows_in=result.rows_in,
            rows_out=result.rows_out, started_at=started, finished_at=finished))
        await db.transition(PipelineRun, run_id, to=RunStatus.DONE, action="pipeline.run_done",
                            extra={PipelineRun.asset: uploaded["id"], PipelineRun.asset_version: uploaded["version"],
                                   PipelineRun.rows_in: result.rows_in, PipelineRun.rows_out: result.rows_out,
                                   PipelineRun.engine: result.engine, PipelineRun.finished_at: finished},
                            audit_after={"asset_id": uploaded["id"], "version": uploaded["version"],
                                         "rows_in": result.rows_in, "rows_out": result.rows_out,
                                         "engine": result.engine, "sources": sources})


async def rerun_due() -> list[int]:
    """Queue a run of every pipeline that asks for it whose sources have a newer profiled version than the
    one its last output was made from (periodic); a pipeline that can no longer run is left alone."""
    queued = []
    for pipeline in await Pipeline.select().where(Pipeline.rerun_on_new_version.eq(True)):
        pipeline = _define._decode(pipeline)
        if await PipelineRun.exists().where((PipelineRun.pipeline == pipeline["id"]) & PipelineRun.status.is_in(
                [RunStatus.QUEUED.value, RunStatus.RUNNING.value])):
            continue
        last = await (Lineage.select(Lineage.sources).where(Lineage.pipeline == pipeline["id"])
                      .order_by(Lineage.id, ascending=False).first())
        if last is None:
            continue  # never produced anything: the operator starts the first run
        used = {s["asset_id"]: s["version"] for s in json.loads(last["sources"])}
        try:
            current = await _define.source_versions(list(pipeline["sources"].values()))
        except DomainError:
            continue
        if all(current[aid]["version"] <= used.get(aid, 0) for aid in current):
            continue
        try:
            with acting_as(Actor(org_id=pipeline["operator_org"], label=f"pipeline:{pipeline['id']}")):
                run = await start_run(pipeline_id=pipeline["id"], org_id=pipeline["operator_org"], user_id=None,
                                      roles=frozenset({"operator"}), trigger="source_version")
        except DomainError:
            continue  # out of scope or no agreement in force any more: the operator sees it when it runs by hand
        queued.append(run["id"])
    return queued


async def lineage_of(*, asset_id: int, org_id: int | None, roles: frozenset[str], version: int | None = None) -> dict:
    """Where a derived asset's version (its newest by default) came from. Visible to the operator that made
    it, the holders of its sources, and regulators and admins."""
    query = Lineage.select().where(Lineage.asset == asset_id)
    if version is not None:
        query = query.where(Lineage.version == version)
    row = await query.order_by(Lineage.version, ascending=False).first()
    if row is None:
        raise NotFound("lineage.not_found", "该数据资源没有加工血缘记录")
    sources = json.loads(row["sources"])
    if not roles & _define.OVERSEERS and org_id != row["operator_org"] and org_id not in {
            s["holder_id"] for s in sources}:
        raise NotFound("lineage.not_found", "该数据资源没有加工血缘记录")
    versions = await (Lineage.select(Lineage.version).where(Lineage.asset == asset_id).order_by(Lineage.version))
    return {"asset_id": asset_id, "version": row["version"], "sources": sources, "pipeline_id": row["pipeline"],
            "pipeline_sql": row["pipeline_sql"], "pipeline_sha256": row["pipeline_sha256"], "engine": row["engine"],
            "run_id": row["run"], "agreement_id": row["agreement"], "operator_org_id": row["operator_org"],
            "rows_in": row["rows_in"], "rows_out": row["rows_out"], "started_at": row["started_at"],
            "finished_at": row["finished_at"], "versions": [v["version"] for v in versions]}
