"""The demand board (需求): buyers say what they need; the catalogue answers with listings."""

from __future__ import annotations

from market import audit, db, notifications
from market.errors import Conflict, DomainError, Forbidden, NotFound
from listings import pricing
from listings.tables import Demand, DemandResponse, Listing, ListingStatus

MATCHES = 5


async def post_demand(*, org_id: int, user_id: int, title: str, description: str = "", purpose: str = "industry",
                      budget_fen: int = 0) -> dict:
    """Post a demand; matching listings are attached and their holders told."""
    from listings import search

    title = (title or "").strip()
    if not 2 <= len(title) <= 200:
        raise DomainError("demand.title_invalid", "请用 2 到 200 个字描述需要什么数据")
    if purpose not in pricing.PURPOSES:
        raise DomainError("price.purpose_invalid", "请选择用途：公共治理、公益事业、产业发展或行业发展")
    if isinstance(budget_fen, bool) or not isinstance(budget_fen, int) or budget_fen < 0:
        raise DomainError("demand.budget_invalid", "预算必须是非负整数（单位：分）")
    found = await search.search(q=f"{title} {description}"[:200], page_size=MATCHES)
    if not found["items"]:
        found = await search.search(q=title, page_size=MATCHES)
    async with db.atomic():
        rows = await Demand.insert(Demand(organization=org_id, user=user_id, title=title,
                                          description=(description or "").strip(), purpose=purpose,
                                          budget_fen=budget_fen)).returning(Demand.id)
        demand_id = rows[0]["id"]
        await audit.record(action="demand.posted", object_type="demand", object_id=demand_id,
                           after={"title": title, "purpose": purpose, "budget_fen": budget_fen})
        told = set()
        for rank, item in enumerate(found["items"]):
            await DemandResponse.insert(DemandResponse(demand=demand_id, listing=item["id"], source="match",
                                                       score=MATCHES - rank))
            listing = await Listing.select(Listing.holder).where(Listing.id == item["id"]).first()
            if listing and listing["holder"] not in told:
                told.add(listing["holder"])
                await notifications.notify(kind="demand.match", organization_id=listing["holder"],
                                           subject=f"有需求方在找：{title}", link=f"/demands/{demand_id}")
    return await get_demand(demand_id=demand_id)


async def get_demand(*, demand_id: int) -> dict:
    demand = await Demand.select().where(Demand.id == demand_id).first()
    if demand is None:
        raise NotFound("demand.not_found", "需求不存在")
    responses = await DemandResponse.select(
        DemandResponse.id, DemandResponse.source, DemandResponse.score, DemandResponse.note,
        DemandResponse.listing.id.as_alias("listing_id"), DemandResponse.listing.title.as_alias("title"),
        DemandResponse.listing.tier.as_alias("tier"), DemandResponse.listing.holder_name.as_alias("holder_name"),
        DemandResponse.listing.status.as_alias("status"),
    ).where(DemandResponse.demand == demand_id).order_by(DemandResponse.score, ascending=False)
    return {"demand": demand, "responses": responses}


async def list_demands(*, status: str | None = "open", page: int = 1, page_size: int = 50) -> tuple[list[dict], int]:
    query = Demand.select().order_by(Demand.id, ascending=False)
    count = Demand.count()
    if status:
        query = query.where(Demand.status == status)
        count = count.where(Demand.status == status)
    return await query.limit(page_size).offset((page - 1) * page_size), await count


async def answer_demand(*, demand_id: int, org_id: int, listing_id: int, note: str = "") -> None:
    """A holder answers a demand with one of its listings (a new one, typically)."""
    async with db.atomic():
        demand = await Demand.select().where(Demand.id == demand_id).first()
        if demand is None:
            raise NotFound("demand.not_found", "需求不存在")
        if demand["status"] == "closed":
            raise Conflict("demand.closed", "该需求已关闭")
        listing = await Listing.select().where(Listing.id == listing_id).first()
        if listing is None:
            raise NotFound("listing.not_found", "上架记录不存在")
        if listing["holder"] != org_id:
            raise Forbidden("listing.not_yours", "只有数据持有方本机构可以操作该上架记录")
        if listing["status"] in (ListingStatus.DELISTED.value, ListingStatus.REJECTED.value):
            raise DomainError("demand.listing_unavailable", "该上架记录已下架或未通过，不能用来回应需求")
        await DemandResponse.insert(DemandResponse(demand=demand_id, listing=listing_id, source="holder",
                                                   score=100, note=(note or "").strip()))
        await db.rowcount_update(Demand, {Demand.status: "answered"}, Demand.id == demand_id,
                                 Demand.status == "open")
        await audit.record(action="demand.answered", object_type="demand", object_id=demand_id,
                           after={"listing_id": listing_id, "holder_id": org_id})
        await notifications.notify(kind="demand.answered", organization_id=demand["organization"],
                                   subject=f"您的需求“{demand['title']}”有了回应：{listing['title']}",
                                   link=f"/demands/{demand_id}")


async def close_demand(*, demand_id: int, org_id: int) -> None:
    async with db.atomic():
        demand = await Demand.select().where(Demand.id == demand_id).first()
        if demand is None or demand["organization"] != org_id:
            raise NotFound("demand.not_found", "需求不存在")
        changed = await db.rowcount_update(Demand, {Demand.status: "closed"}, Demand.id == demand_id,
                                           Demand.status != "closed")
        if changed:
            await audit.record(action="demand.closed", object_type="demand", object_id=demand_id,
                               before={"status": demand["status"]}, after={"status": "closed"})
