"""What an agreement allows, checked where the operator acts: its sources (building a derived product),
its items and caps (listing and pricing), its purposes (every order and delivery), and its revenue
against the permitted maximum (最高准许收入, 65号).

The checks only read: each returns what it found or raises a DomainError with a stable code and a
message saying why, and changes nothing. `record_revenue` is the one write, idempotent by reference.
Callers pass the id of any version of an agreement; the checks apply to its effective version, so a
product built under version 1 is judged by the amendment in force.
"""

from __future__ import annotations

import json
from datetime import date

from listings import pricing
from market import audit, db, notifications
from market.errors import Conflict, DomainError
from operators import _scope, events
from operators._agreements import effective, today
from operators.tables import AgreementRevenue, AgreementStatus, AuthorizationAgreement, OperatorAlert

STATUS_WORDS = {"draft": "尚未签署", "signed": "尚未生效", "suspended": "已暂停", "superseded": "已被变更取代",
                "expired": "已到期", "terminated": "已终止", "withdrawn": "已撤回"}


def _refuse_unless_in_force(row: dict, on: date | None = None) -> None:
    on = on or today()
    status = row["status"]
    if status == AgreementStatus.ACTIVE.value and row["ends_on"] < on:
        status = AgreementStatus.EXPIRED.value  # the expiry job has not run yet: the term decides
    if status == AgreementStatus.ACTIVE.value:
        return
    code = {"suspended": "agreement.suspended", "expired": "agreement.expired", "terminated": "agreement.terminated",
            "signed": "agreement.not_started"}.get(status, "agreement.not_in_force")
    raise Conflict(code, "授权运营协议 {number} {state}，不能据此运营", number=row["number"],
                   state=STATUS_WORDS.get(status, status))


async def _candidates(operator_org_id: int) -> list[dict]:
    """The effective version of each of the operator's agreements that was ever signed."""
    rows = await (AuthorizationAgreement.select(AuthorizationAgreement.id, AuthorizationAgreement.number)
                  .where(AuthorizationAgreement.operator_org == operator_org_id,
                         AuthorizationAgreement.status.is_in([AgreementStatus.ACTIVE.value,
                                                              AgreementStatus.SUSPENDED.value,
                                                              AgreementStatus.SIGNED.value,
                                                              AgreementStatus.EXPIRED.value,
                                                              AgreementStatus.TERMINATED.value]))
                  .order_by(AuthorizationAgreement.id))
    seen: dict[str, dict] = {}
    for r in rows:
        if r["number"] not in seen:
            seen[r["number"]] = await effective(r["id"])
    # the ones in force first, so an active agreement wins over an ended one with the same scope
    order = {AgreementStatus.ACTIVE.value: 0, AgreementStatus.SIGNED.value: 1, AgreementStatus.SUSPENDED.value: 2}
    return sorted(seen.values(), key=lambda a: (order.get(a["status"], 3), -a["id"]))


async def check_sources(*, operator_org_id: int, asset_ids: list[int],
                        columns: dict[int, list[str]] | None = None) -> dict:
    """The active agreement whose scope covers every one of these assets (and, where its scope narrows an
    asset to some columns, every column asked for). Refuses an asset outside every scope, an agreement
    suspended, expired or not yet in force, a column outside the scope, and a shared source whose
    providing department has not consented."""
    wanted = sorted({int(a) for a in asset_ids})
    if not wanted:
        raise DomainError("agreement.no_sources", "请至少指定一项数据来源")
    covering = []
    for agreement in await _candidates(operator_org_id):
        if set(wanted) <= await _scope.resolve(agreement["scope"]):
            covering.append(agreement)
    if not covering:
        in_any: set[int] = set()
        for agreement in await _candidates(operator_org_id):
            in_any |= await _scope.resolve(agreement["scope"])
        outside = [a for a in wanted if a not in in_any] or wanted
        raise DomainError("agreement.out_of_scope", "数据资源 {asset_id} 不在本机构任何一份授权运营协议的授权范围内",
                          status_code=403, asset_id=outside[0])
    agreement = covering[0]
    _refuse_unless_in_force(agreement)
    narrowed = agreement["scope"].get("columns") or {}
    for asset_id, names in (columns or {}).items():
        allowed = narrowed.get(str(asset_id))
        if allowed is None:
            continue  # the whole asset is in scope
        outside = [n for n in names if n not in allowed]
        if outside:
            raise DomainError("agreement.column_out_of_scope", "数据资源 {asset_id} 的字段 {column} 不在授权范围内",
                              status_code=403, asset_id=asset_id, column=outside[0])
    await _scope.require_consent(set(wanted))
    return agreement


async def check_price(*, agreement_id: int, item_name: str, price_fen: int) -> dict:
    """The agreement's item named so, if the agreement is in force and the price is within its cap."""
    agreement = await effective(agreement_id)
    _refuse_unless_in_force(agreement)
    item = next((i for i in agreement["items"] if i["name"] == item_name), None)
    if item is None:
        raise DomainError("agreement.item_not_listed", "“{name}”不在授权运营协议的产品和服务清单中",
                          status_code=403, name=str(item_name)[:100])
    if isinstance(price_fen, bool) or not isinstance(price_fen, int) or price_fen < 0:
        raise DomainError("price.not_integer", "价格和数量必须是整数（单位：分）：{field}", field="price_fen")
    if price_fen > item["cap_fen"]:
        from market.money import Money

        raise DomainError("agreement.price_above_cap", "价格 {price} 超过“{name}”的上限收费标准 {cap}",
                          price=Money(price_fen).format(), name=item["name"], cap=Money(item["cap_fen"]).format())
    return item


async def check_purpose(*, agreement_id: int, purpose: str) -> dict:
    """The agreement, if it is in force and permits this purpose of use."""
    if purpose not in pricing.PURPOSES:
        raise DomainError("agreement.purpose_invalid", "使用目的无效：{purpose}", purpose=str(purpose)[:50])
    agreement = await effective(agreement_id)
    _refuse_unless_in_force(agreement)
    if purpose not in agreement["purposes"]:
        raise DomainError("agreement.purpose_not_permitted", "授权运营协议 {number} 不允许用于“{purpose}”",
                          status_code=403, number=agreement["number"], purpose=pricing.PURPOSES[purpose])
    return agreement


async def check_product(*, agreement_id: int, tier: str, product_type: str | None = None) -> dict:
    """The agreement, if it is in force and allows products of this tier (and delivery type); an
    agreement that lists no tiers (or types) allows any."""
    agreement = await effective(agreement_id)
    _refuse_unless_in_force(agreement)
    if agreement["tiers"] and tier not in agreement["tiers"]:
        raise DomainError("agreement.tier_not_permitted", "授权运营协议 {number} 不允许该层级的产品：{tier}",
                          status_code=403, number=agreement["number"], tier=str(tier)[:20])
    if product_type and agreement["product_types"] and product_type not in agreement["product_types"]:
        raise DomainError("agreement.product_type_not_permitted", "授权运营协议 {number} 不允许该类型的产品：{kind}",
                          status_code=403, number=agreement["number"], kind=str(product_type)[:20])
    return agreement


# ---- revenue against the permitted maximum ------------------------------------------------------


async def _by_year(number: str) -> dict[int, int]:
    rows = await (AgreementRevenue.select(AgreementRevenue.year, AgreementRevenue.amount_fen)
                  .where(AgreementRevenue.number == number))
    out: dict[int, int] = {}
    for r in rows:
        out[r["year"]] = out.get(r["year"], 0) + r["amount_fen"]
    return out


def year_figures(*, base_max_fen: int, revenue_by_year: dict[int, int], first_year: int, year: int) -> dict:
    """The permitted maximum of `year`: the base, less what earlier years earned above theirs (65号:
    revenue above the maximum in a period is deducted from the next period's), never below 0."""
    carried = 0
    for y in range(min(first_year, year), year + 1):
        maximum = max(0, base_max_fen - carried)
        revenue = revenue_by_year.get(y, 0)
        if y == year:
            return {"year": year, "revenue_fen": revenue, "base_max_fen": base_max_fen, "carried_over_fen": carried,
                    "max_fen": maximum, "remaining_fen": max(0, maximum - revenue),
                    "over_fen": max(0, revenue - maximum)}
        carried = max(0, revenue - maximum)
    raise AssertionError("unreachable")


async def revenue_this_year(*, agreement_id: int, year: int | None = None) -> dict:
    """{year, revenue_fen, base_max_fen, carried_over_fen, max_fen, remaining_fen, over_fen} of an
    agreement (all its versions count; the base maximum is that of the version in force)."""
    agreement = await effective(agreement_id)
    year = year or today().year
    figures = year_figures(base_max_fen=agreement["max_revenue_fen"], revenue_by_year=await _by_year(agreement["number"]),
                           first_year=agreement["starts_on"].year, year=year)
    return {"agreement_id": agreement["id"], "number": agreement["number"], **figures}


async def record_revenue(*, agreement_id: int, amount_fen: int, ref: str, on: date | None = None,
                         note: str = "") -> dict:
    """Record revenue the operator earned under an agreement (a refund as a negative amount), once per
    `ref`; above the year's permitted maximum an alert is raised (and published) once per year."""
    ref = (ref or "").strip()
    if not ref or len(ref) > 100:
        raise DomainError("revenue.ref_required", "请提供收入的业务编号（如订单号），最长 100 个字符")
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen == 0 or abs(amount_fen) > 10**14:
        raise DomainError("revenue.amount_invalid", "收入金额必须是非零整数（单位：分）")
    agreement = await effective(agreement_id)
    if agreement["status"] not in (AgreementStatus.ACTIVE.value, AgreementStatus.SUSPENDED.value,
                                   AgreementStatus.EXPIRED.value, AgreementStatus.TERMINATED.value):
        _refuse_unless_in_force(agreement)
    on = on or today()
    async with db.atomic():
        rows = await AgreementRevenue.insert(AgreementRevenue(
            number=agreement["number"], agreement=agreement["id"], year=on.year, amount_fen=amount_fen, ref=ref,
            note=(note or "")[:500])).on_conflict(target=AgreementRevenue.ref, action="DO NOTHING").returning(
            AgreementRevenue.id)
        recorded = bool(rows)
        if recorded:
            await audit.record(action="agreement.revenue_recorded", object_type="authorization_agreement",
                               object_id=agreement["id"], after={"ref": ref, "amount_fen": amount_fen, "year": on.year})
        figures = await revenue_this_year(agreement_id=agreement["id"], year=on.year)
        if recorded and figures["over_fen"] > 0:
            await _alert_over_max(agreement, figures)
    return {**figures, "recorded": recorded}


async def _alert_over_max(agreement: dict, figures: dict) -> None:
    key = f"revenue_over_max:{agreement['number']}:{figures['year']}"
    rows = await OperatorAlert.insert(OperatorAlert(
        key=key, kind="revenue_over_max", object_type="authorization_agreement", object_id=str(agreement["id"]),
        agreement=agreement["id"], detail=json.dumps(figures))).on_conflict(
        target=OperatorAlert.key, action="DO NOTHING").returning(OperatorAlert.id)
    if not rows:
        return  # raised already this year
    await audit.record(action="agreement.revenue_over_max", object_type="authorization_agreement",
                       object_id=agreement["id"], after=figures)
    await events.publish(events.REVENUE_OVER_MAX, agreement_id=agreement["id"], number=agreement["number"],
                         year=figures["year"], revenue_fen=figures["revenue_fen"], max_fen=figures["max_fen"])
    await notifications.notify(kind="agreement.revenue_over_max", organization_id=agreement["agency_org"],
                               subject=f"运营机构收入超过协议 {agreement['number']} 的最高准许收入",
                               link=f"/agreements/{agreement['id']}")


async def alerts(*, kind: str | None = None) -> list[dict]:
    """Alerts raised, newest first (for the regulator)."""
    query = OperatorAlert.select()
    if kind:
        query = query.where(OperatorAlert.kind == kind)
    rows = await query.order_by(OperatorAlert.id, ascending=False)
    return [{**r, "detail": json.loads(r["detail"] or "{}")} for r in rows]


# ---- the mandate behind a derived product, at order, delivery and sale --------------------------------


async def mandate_of(asset_id: int) -> dict | None:
    """The agreement (its version in force) under which a derived asset was built, or None for data
    that no pipeline made (a holder's own table needs no mandate to be sold)."""
    from operators.tables import Lineage

    row = await (Lineage.select(Lineage.agreement).where(Lineage.asset == asset_id)
                 .order_by(Lineage.version, ascending=False).first())
    return None if row is None else await effective(row["agreement"])


async def check_sale(*, asset_id: int, purpose: str, tier: str) -> dict | None:
    """Billing asks before an order is written and again before it is delivered: a derived product is
    sold only while the agreement it was built under is in force, for a purpose and a tier it permits.
    None when the asset is not a derived product."""
    agreement = await mandate_of(asset_id)
    if agreement is None:
        return None
    await check_purpose(agreement_id=agreement["id"], purpose=purpose)
    return await check_product(agreement_id=agreement["id"], tier=tier)
