"""Data a holder obtained from another department by sharing (共享获取的数据) enters an authorization
scope only with that department's recorded consent (27号). The holder (or an agency) declares where an
asset came from; a user of the providing department records the consent and the document it rests on."""

from __future__ import annotations

from datetime import date, datetime, timezone

from listings import service as listings_service
from market import audit, db, identity
from market.errors import Conflict, DomainError, Forbidden
from market.i18n import N_
from market.tables import Role
from operators.tables import SharedSource


async def declare_shared_source(*, asset_id: int, provider_org_id: int, org_id: int, roles: frozenset[str],
                                user_id: int) -> dict:
    """Record that an asset was obtained from another department (its holder or an agency says so)."""
    summary = (await listings_service.asset_summaries([asset_id])).get(asset_id)
    if summary is None:
        raise DomainError("agreement.unknown_asset", "数据资源不存在：{asset_id}", asset_id=asset_id, status_code=404)
    if summary["holder"] != org_id and Role.AGENCY.value not in roles:
        raise Forbidden("consent.not_holder", N_("只有数据资源的持有方或实施机构可以登记其共享来源"))
    if provider_org_id == summary["holder"]:
        raise DomainError("consent.same_org", "共享来源部门不能是数据资源的持有方自身")
    await identity.get_organization(provider_org_id)
    async with db.atomic():
        rows = await SharedSource.insert(SharedSource(
            key=f"{asset_id}:{provider_org_id}", asset=asset_id, provider_org=provider_org_id, declared_by=user_id,
        )).on_conflict(target=SharedSource.key, action="DO NOTHING").returning(*SharedSource.all_columns())
        if not rows:
            raise Conflict("consent.already_declared", "该数据资源的这一共享来源已登记")
        await audit.record(action="source.shared_declared", object_type="shared_source", object_id=rows[0]["id"],
                           after={"asset": asset_id, "provider_org": provider_org_id})
    return rows[0]


async def record_consent(*, shared_source_id: int, org_id: int, user_id: int, consented_on: date,
                         document_note: str) -> dict:
    """The providing department consents to the asset's use in authorized operation (once)."""
    note = (document_note or "").strip()
    if not note:
        raise DomainError("consent.document_required", "请填写同意文件（文号、名称或存放位置）")
    row = await SharedSource.select().where(SharedSource.id == shared_source_id).first()
    if row is None:
        raise DomainError("consent.not_found", "共享来源登记不存在", status_code=404)
    if row["provider_org"] != org_id:
        raise Forbidden("consent.not_provider", N_("只有提供数据的部门可以记录同意"))
    async with db.atomic():
        changed = await db.rowcount_update(SharedSource, {
            SharedSource.consent_user: user_id, SharedSource.consented_on: consented_on,
            SharedSource.document_note: note[:2000], SharedSource.consented_at: datetime.now(timezone.utc)},
            SharedSource.id == shared_source_id, SharedSource.consented_at.is_null())
        if not changed:
            raise Conflict("consent.already_recorded", "该部门已记录过同意")
        await audit.record(action="source.consent_recorded", object_type="shared_source", object_id=shared_source_id,
                           after={"asset": row["asset"], "provider_org": org_id, "user": user_id,
                                  "consented_on": consented_on.isoformat(), "document": note[:2000]})
    return await SharedSource.select().where(SharedSource.id == shared_source_id).first()


async def shared_sources(*, asset_ids: list[int] | None = None, provider_org_id: int | None = None) -> list[dict]:
    query = SharedSource.select(*SharedSource.all_columns(), SharedSource.provider_org.name.as_alias("provider_name"))
    if asset_ids is not None:
        if not asset_ids:
            return []
        query = query.where(SharedSource.asset.is_in(list(asset_ids)))
    if provider_org_id is not None:
        query = query.where(SharedSource.provider_org == provider_org_id)
    return await query.order_by(SharedSource.id)

