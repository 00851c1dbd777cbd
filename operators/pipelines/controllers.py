"""Routes of pipelines: the JSON API (/api/v1/pipelines, /api/v1/pipeline-runs, /api/v1/assets/{id}/lineage)
and the operator's pages (list, editor with the sources' schemas, runs with status and lineage), with
read-only views for regulators and admins. Thin: the rules are in operators.pipelines."""

from __future__ import annotations

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath, JSONBody
from litestar.response import Redirect

from market.errors import DomainError
from market.tables import Role
from market.web import page, roles
from operators import service
from operators.pipelines import FUNCTION_DESCRIPTIONS
from operators.pipelines.schemas import PipelineIn, lineage_json, pipeline_json, run_json

OPERATORS = roles(Role.OPERATOR)
READERS = roles(Role.OPERATOR, Role.REGULATOR, Role.ADMIN)
# the operator that made a derived asset, holders of its sources, regulators and admins (filtered by the service)
LINEAGE_READERS = roles(Role.OPERATOR, Role.HOLDER, Role.REGULATOR, Role.ADMIN)


def _who(request: Request) -> dict:
    return {"org_id": request.user.org_id, "roles": frozenset(request.user.roles)}


# ---- JSON API ----------------------------------------------------------------------------------

@post("/pipelines", opt=OPERATORS, status_code=201,
      summary="Define a pipeline (operator): SQL over declared sources inside one of its agreements' scope")
async def api_create(request: Request, data: JSONBody[PipelineIn]) -> dict:
    row = await service.create_pipeline(
        operator_org_id=request.user.org_id, user_id=request.user.user_id, agreement_id=data.agreement_id,
        title=data.title, sources=dict(data.sources), sql=data.sql, k=data.k, k_columns=list(data.k_columns),
        drop_identifiers=data.drop_identifiers, rerun_on_new_version=data.rerun_on_new_version)
    return pipeline_json(row, detail=True)


@get("/pipelines", opt=READERS, summary="The caller's organization's pipelines (all for regulators and admins)")
async def api_list(request: Request) -> dict:
    return {"items": [pipeline_json(p) for p in await service.list_pipelines(**_who(request))]}


@get("/pipelines/{pipeline_id:int}", opt=READERS,
     summary="One pipeline with its sources' schemas (names and types, never rows) and its runs")
async def api_get(request: Request, pipeline_id: FromPath[int]) -> dict:
    return pipeline_json(await service.get_pipeline(pipeline_id=pipeline_id, **_who(request)), detail=True)


@post("/pipelines/{pipeline_id:int}/runs", opt=OPERATORS, status_code=202,
      summary="Queue a run (operator); the agreement and scope are checked again, and the run is a job")
async def api_run(request: Request, pipeline_id: FromPath[int]) -> dict:
    run = await service.start_run(pipeline_id=pipeline_id, user_id=request.user.user_id, **_who(request))
    return run_json(run)


@get("/pipeline-runs/{run_id:int}", opt=READERS,
     summary="A run: status (queued, running, done, failed), the asset version it made, its error")
async def api_run_get(request: Request, run_id: FromPath[int]) -> dict:
    return run_json(await service.get_run(run_id=run_id, **_who(request)))


@get("/assets/{asset_id:int}/lineage", opt=LINEAGE_READERS,
     summary="Where a derived asset's newest version came from: sources (asset, version, holder), pipeline SQL "
             "and its SHA-256, engine, times and row counts")
async def api_lineage(request: Request, asset_id: FromPath[int]) -> dict:
    return lineage_json(await service.lineage_of(asset_id=asset_id, **_who(request)))


api_router = Router(path="/api/v1", route_handlers=[api_create, api_list, api_get, api_run, api_run_get, api_lineage])


# ---- pages ---------------------------------------------------------------------------------------


def _int(text, field: str) -> int:
    text = str(text or "").strip()
    if not text:
        return 0
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise DomainError("pipeline.form_number", "请填写整数：{field}", field=field)
    return int(text)


def _sources(text: str) -> dict[str, int]:
    """One source a line: 名称 = 数据资源编号."""
    out = {}
    for line in str(text or "").splitlines():
        if not line.strip():
            continue
        name, sep, asset = line.replace("＝", "=").partition("=")
        if not sep:
            raise DomainError("pipeline.source_line", "数据来源每行应为“名称 = 数据资源编号”：{line}", line=line[:60])
        out[name.strip()] = _int(asset, name.strip()[:30])
    return out


async def _editor_context(request: Request) -> dict:
    agreements = [a for a in await service.list_agreements(**_who(request))
                  if a["operator_org"] == request.user.org_id and a["status"] == "active"]
    assets = sorted({i for a in agreements for i in a["asset_ids"]})[:50]
    try:
        schemas = await service.schemas_of(operator_org_id=request.user.org_id, asset_ids=assets) if assets else []
    except DomainError:
        schemas = []  # e.g. a shared source still waiting for its provider's consent: the form still works
    return {"agreements": agreements, "schemas": schemas, "functions": FUNCTION_DESCRIPTIONS}


@get("/pipelines", opt=READERS, include_in_schema=False)
async def list_page(request: Request) -> Response:
    rows = await service.list_pipelines(**_who(request))
    return page(request, "operators/pipelines.html", pipelines=rows,
                is_operator=Role.OPERATOR in request.user.roles)


@get("/pipelines/new", opt=OPERATORS, include_in_schema=False)
async def new_page(request: Request) -> Response:
    return page(request, "operators/pipeline_form.html", form={}, **await _editor_context(request))


@post("/pipelines", opt=OPERATORS, include_in_schema=False)
async def create_submit(request: Request) -> Response:
    form = await request.form()
    row = await service.create_pipeline(
        operator_org_id=request.user.org_id, user_id=request.user.user_id,
        agreement_id=_int(form.get("agreement_id"), "agreement_id"), title=str(form.get("title", "")),
        sources=_sources(form.get("sources", "")), sql=str(form.get("sql", "")), k=_int(form.get("k"), "k"),
        k_columns=[c.strip() for c in str(form.get("k_columns", "")).replace("，", ",").split(",") if c.strip()],
        drop_identifiers=form.get("drop_identifiers") == "on", rerun_on_new_version=form.get("rerun") == "on")
    return Redirect(f"/pipelines/{row['id']}")


@get("/pipelines/{pipeline_id:int}", opt=READERS, include_in_schema=False)
async def detail_page(request: Request, pipeline_id: FromPath[int]) -> Response:
    p = await service.get_pipeline(pipeline_id=pipeline_id, **_who(request))
    lineage = None
    if p["output_asset"]:
        try:
            lineage = await service.lineage_of(asset_id=p["output_asset"], **_who(request))
        except DomainError:
            lineage = None
    return page(request, "operators/pipeline.html", p=p, runs=p["runs"], lineage=lineage,
                can_run=Role.OPERATOR in request.user.roles and p["operator_org"] == request.user.org_id)


@post("/pipelines/{pipeline_id:int}/runs", opt=OPERATORS, include_in_schema=False)
async def run_submit(request: Request, pipeline_id: FromPath[int]) -> Response:
    await service.start_run(pipeline_id=pipeline_id, user_id=request.user.user_id, **_who(request))
    return Redirect(f"/pipelines/{pipeline_id}")


page_routes = [list_page, new_page, create_submit, detail_page, run_submit]
router = Router(path="/", route_handlers=[api_router, *page_routes])
