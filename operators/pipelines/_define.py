"""Defining a pipeline: its sources, its SQL, its agreement; and the checks that run when it is created
and again whenever it runs (the agreement may have been suspended, a scope narrowed, a source
delivered as a product since).

Sources are read only through pipelines (原始数据不出域): what the operator sees of a source here is
its schema (column names and types), never its rows.
"""

from __future__ import annotations

import hashlib
import json

from listings.tables import AssetVersion, DataAsset, Entitlement, EntitlementStatus, Listing, ProfileStatus, Tier
from market import audit, db
from market.errors import DomainError, NotFound
from operators import _enforcement, _scope
from operators._agreements import effective
from operators.pipelines import engines, sql_check
from operators.tables import Lineage, Pipeline, PipelineRun

MAX_SOURCES = 20
MAX_TITLE = 200
MAX_K = 10_000
# profile semantic types that name a person directly (GB/T 35273 直接标识符): dropped from an output that
# copies them unchanged, when the pipeline asks (the default)
DIRECT_IDENTIFIERS = frozenset({"resident_id", "mobile", "person_name"})
OVERSEERS = frozenset({"regulator", "admin"})


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


async def source_versions(asset_ids: list[int]) -> dict[int, dict]:
    """asset id → its newest profiled version {asset, number, prepared_key, columns, profile, holder}."""
    ids = sorted(set(asset_ids))
    assets = {a["id"]: a for a in await DataAsset.select(DataAsset.id, DataAsset.holder, DataAsset.title)
              .where(DataAsset.id.is_in(ids))} if ids else {}
    out: dict[int, dict] = {}
    for asset_id in ids:
        if asset_id not in assets:
            raise DomainError("pipeline.source_not_found", "数据来源不存在：{asset_id}", status_code=404, asset_id=asset_id)
        version = await (AssetVersion.select(AssetVersion.id, AssetVersion.number, AssetVersion.prepared_key,
                                             AssetVersion.columns, AssetVersion.profile, AssetVersion.row_count)
                         .where((AssetVersion.asset == asset_id)
                                & (AssetVersion.profile_status == ProfileStatus.DONE.value))
                         .order_by(AssetVersion.number, ascending=False).first())
        if version is None or not version["prepared_key"]:
            raise DomainError("pipeline.source_not_ready", "数据来源 {asset_id} 还没有完成解析的版本", asset_id=asset_id)
        profile = json.loads(version["profile"] or "{}")
        by_name = {c["name"]: c for c in profile.get("columns", [])}
        names = json.loads(version["columns"] or "[]")
        out[asset_id] = {
            "asset_id": asset_id, "version": version["number"], "prepared_key": version["prepared_key"],
            "holder_id": assets[asset_id]["holder"], "title": assets[asset_id]["title"],
            "row_count": version["row_count"],
            "columns": [{"name": n, "type": engines.sql_type(by_name.get(n, {})),
                         "semantic_type": by_name.get(n, {}).get("semantic_type")} for n in names],
        }
    return out


def _schemas(sources: dict[str, int], versions: dict[int, dict]) -> tuple[dict, dict]:
    schemas = {name: {c["name"]: c["type"] for c in versions[aid]["columns"]} for name, aid in sources.items()}
    identifiers = {name: {c["name"] for c in versions[aid]["columns"] if c["semantic_type"] in DIRECT_IDENTIFIERS}
                   for name, aid in sources.items()}
    return schemas, identifiers


async def _refuse_delivered_products(operator_org_id: int, asset_ids: list[int]) -> None:
    """27号: the operator must not re-develop products already delivered within its scope; others may.
    A source that is sold as a product (a product-tier listing some buyer received) is refused, unless
    it is another organization's derived product (made by its own pipeline, with its own lineage)."""
    listings = await (Listing.select(Listing.id, Listing.asset, Listing.title)
                      .where(Listing.asset.is_in(sorted(set(asset_ids))) & (Listing.tier == Tier.PRODUCT.value)))
    for listing in listings:
        delivered = await Entitlement.exists().where(
            (Entitlement.listing == listing["id"])
            & Entitlement.status.is_in([EntitlementStatus.ACTIVE.value, EntitlementStatus.EXPIRED.value,
                                        EntitlementStatus.REVOKED.value]))
        if not delivered:
            continue
        others = await Lineage.exists().where((Lineage.asset == listing["asset"])
                                              & (Lineage.operator_org != operator_org_id))
        if not others:
            raise DomainError("pipeline.delivered_product", "数据资源 {asset_id}（{title}）已作为数据产品交付，运营机构不得在授权范围内对其再开发",
                              status_code=403, asset_id=listing["asset"], title=listing["title"])


async def authorize(*, operator_org_id: int, agreement_id: int, sources: dict[str, int], sql: str) -> dict:
    """Every check a pipeline passes to be created or run; returns {agreement, versions, checked}.
    Reads only: a refusal changes nothing."""
    agreement = await effective(agreement_id)
    if agreement["operator_org"] != operator_org_id:
        raise NotFound("agreement.not_found", "授权运营协议不存在")
    asset_ids = sorted(set(sources.values()))
    # scope first: nothing about an asset outside it (not even its columns) reaches the operator
    in_scope = await _scope.resolve(agreement["scope"])
    outside = [a for a in asset_ids if a not in in_scope]
    if outside:
        raise DomainError("agreement.out_of_scope", "数据资源 {asset_id} 不在授权运营协议 {number} 的授权范围内",
                          status_code=403, asset_id=outside[0], number=agreement["number"])
    _enforcement._refuse_unless_in_force(agreement)
    versions = await source_versions(asset_ids)
    schemas, identifiers = _schemas(sources, versions)
    checked = sql_check.check(sql, schemas, identifiers)
    columns = {sources[name]: cols for name, cols in checked.columns.items()}
    narrowed = agreement["scope"].get("columns") or {}
    for asset_id, names in columns.items():
        allowed = narrowed.get(str(asset_id))
        if allowed is not None and any(n not in allowed for n in names):
            column = next(n for n in names if n not in allowed)
            raise DomainError("agreement.column_out_of_scope", "数据资源 {asset_id} 的字段 {column} 不在授权范围内",
                              status_code=403, asset_id=asset_id, column=column)
    # the shared rules of every enforcement point: in force, consent of departments that shared a source
    await _enforcement.check_sources(operator_org_id=operator_org_id, asset_ids=asset_ids, columns=columns)
    await _refuse_delivered_products(operator_org_id, asset_ids)
    return {"agreement": agreement, "versions": versions, "checked": checked}


def _validate(title: str, sources: dict, k: int, k_columns: list) -> tuple[str, dict[str, int]]:
    title = (title or "").strip()
    if not title or len(title) > MAX_TITLE:
        raise DomainError("pipeline.title_invalid", "请填写加工任务名称，最长 {n} 个字符", n=MAX_TITLE)
    if not isinstance(sources, dict) or not sources or len(sources) > MAX_SOURCES:
        raise DomainError("pipeline.sources_invalid", "请声明 1 至 {n} 个数据来源（名称 → 数据资源编号）", n=MAX_SOURCES)
    sql_check.check_names(list(sources))
    lowered = [n.lower() for n in sources]
    if len(set(lowered)) != len(lowered):
        raise DomainError("pipeline.sources_invalid", "请声明 1 至 {n} 个数据来源（名称 → 数据资源编号）", n=MAX_SOURCES)
    out = {}
    for name, asset_id in sources.items():
        if isinstance(asset_id, bool) or not isinstance(asset_id, int) or not 1 <= asset_id <= 2**31 - 1:
            raise DomainError("pipeline.sources_invalid", "请声明 1 至 {n} 个数据来源（名称 → 数据资源编号）", n=MAX_SOURCES)
        out[name] = asset_id
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= MAX_K:
        raise DomainError("pipeline.k_invalid", "k 值应为 0 至 {n} 的整数（0 表示不做 k-匿名检查）", n=MAX_K)
    if not isinstance(k_columns, list) or len(k_columns) > 50 or not all(isinstance(c, str) and c for c in k_columns):
        raise DomainError("pipeline.k_columns_invalid", "k-匿名检查的字段列表不正确")
    if k and not k_columns:
        raise DomainError("pipeline.k_columns_invalid", "k-匿名检查的字段列表不正确")
    return title, out


async def create_pipeline(*, operator_org_id: int, user_id: int, agreement_id: int, title: str,
                          sources: dict[str, int], sql: str, k: int = 0, k_columns: list[str] | None = None,
                          drop_identifiers: bool = True, rerun_on_new_version: bool = False) -> dict:
    """Record a pipeline after every check (SQL, sources in scope and in force, no delivered product)."""
    k_columns = list(k_columns or [])
    title, sources = _validate(title, sources, k, k_columns)
    found = await authorize(operator_org_id=operator_org_id, agreement_id=agreement_id, sources=sources, sql=sql)
    async with db.atomic():
        rows = await Pipeline.insert(Pipeline(
            operator_org=operator_org_id, created_by=user_id, agreement=found["agreement"]["id"], title=title,
            sources=json.dumps(sources, sort_keys=True), sql=sql, sql_sha256=sha256(sql), k=k,
            k_columns=json.dumps(k_columns, ensure_ascii=False), drop_identifiers=bool(drop_identifiers),
            rerun_on_new_version=bool(rerun_on_new_version))).returning(Pipeline.id)
        await audit.record(action="pipeline.created", object_type="pipeline", object_id=rows[0]["id"],
                           after={"agreement_id": found["agreement"]["id"], "sources": sources,
                                  "sql_sha256": sha256(sql), "k": k, "k_columns": k_columns})
    return await get_pipeline(pipeline_id=rows[0]["id"], org_id=operator_org_id, roles=frozenset({"operator"}))


def _decode(row: dict) -> dict:
    return {**row, "sources": json.loads(row["sources"] or "{}"), "k_columns": json.loads(row["k_columns"] or "[]")}


async def _pipeline(pipeline_id: int, org_id: int | None, roles: frozenset[str]) -> dict:
    row = await Pipeline.select().where(Pipeline.id == pipeline_id).first()
    if row is None or (not roles & OVERSEERS and row["operator_org"] != org_id):
        raise NotFound("pipeline.not_found", "加工任务不存在")
    return _decode(row)


async def list_pipelines(*, org_id: int | None, roles: frozenset[str]) -> list[dict]:
    """The caller's organization's pipelines (all of them for regulators and admins), newest first."""
    query = Pipeline.select(*Pipeline.all_columns(), Pipeline.operator_org.name.as_alias("operator_name"))
    if not roles & OVERSEERS:
        query = query.where(Pipeline.operator_org == org_id)
    return [_decode(r) for r in await query.order_by(Pipeline.id, ascending=False)]


async def get_pipeline(*, pipeline_id: int, org_id: int | None, roles: frozenset[str]) -> dict:
    """A pipeline with its sources' schemas (names and types only: never rows) and its runs."""
    row = await _pipeline(pipeline_id, org_id, roles)
    try:
        versions = await source_versions(list(row["sources"].values()))
    except DomainError:
        versions = {}
    row["source_schemas"] = [
        {"name": name, "asset_id": aid, "title": versions.get(aid, {}).get("title", ""),
         "version": versions.get(aid, {}).get("version"),
         "columns": [{"name": c["name"], "type": c["type"]} for c in versions.get(aid, {}).get("columns", [])]}
        for name, aid in sorted(row["sources"].items())]
    runs = await (PipelineRun.select().where(PipelineRun.pipeline == pipeline_id)
                  .order_by(PipelineRun.id, ascending=False).limit(50))
    row["runs"] = [{**r, "error": json.loads(r["error"]) if r["error"] else None} for r in runs]
    return row


async def schemas_of(*, operator_org_id: int, asset_ids: list[int]) -> list[dict]:
    """For the editor: the schema of each asset inside one of the operator's agreements (refused otherwise)."""
    ids = sorted(set(asset_ids))[:MAX_SOURCES]
    if not ids:
        return []
    await _enforcement.check_sources(operator_org_id=operator_org_id, asset_ids=ids)
    out = []
    for aid in ids:
        try:
            v = (await source_versions([aid]))[aid]
        except DomainError:
            continue  # not profiled yet: nothing to show, and nothing a pipeline could read
        out.append({"asset_id": aid, "title": v["title"], "version": v["version"],
                    "columns": [{"name": c["name"], "type": c["type"]} for c in v["columns"]]})
    return out
