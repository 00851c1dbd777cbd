"""Routes of the demand board (需求)."""

from __future__ import annotations

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Redirect

from listings import pricing, service
from market.api_contract import Id, Int64
from market.money import Money
from market.tables import Role
from market.web import AUTHENTICATED, PageNo, PageSize, page, page_params, paginated, roles

BUYERS = roles(Role.BUYER)
HOLDERS = roles(Role.HOLDER, Role.OPERATOR)


class DemandIn(msgspec.Struct):
    title: str
    description: str = ""
    purpose: str = "industry"
    budget_fen: Int64 = 0


class AnswerIn(msgspec.Struct):
    listing_id: Id
    note: str = ""


def _demand_json(data: dict) -> dict:
    d = data["demand"]
    return {**{k: d[k] for k in ("id", "title", "description", "purpose", "budget_fen", "status", "created_at")},
            "organization_id": d["organization"], "responses": data["responses"]}


@post("/demands", opt=BUYERS, status_code=201, summary="Post a demand; matching listings are suggested")
async def api_post_demand(request: Request, data: JSONBody[DemandIn]) -> dict:
    result = await service.post_demand(org_id=request.user.org_id, user_id=request.user.user_id, title=data.title,
                                       description=data.description, purpose=data.purpose,
                                       budget_fen=data.budget_fen)
    return _demand_json(result)


@get("/demands", opt=AUTHENTICATED, summary="Open demands")
async def api_demands(page: PageNo = None, page_size: PageSize = None,
                      status: FromQuery[str | None] = "open") -> dict:
    p, size = page_params(page, page_size)
    rows, total = await service.list_demands(status=status, page=p, page_size=size)
    return paginated([{k: r[k] for k in ("id", "title", "purpose", "budget_fen", "status", "created_at")}
                      for r in rows], total, p, size)


@get("/demands/{demand_id:int}", opt=AUTHENTICATED, summary="A demand with its suggested and offered listings")
async def api_demand(demand_id: FromPath[int]) -> dict:
    return _demand_json(await service.get_demand(demand_id=demand_id))


@post("/demands/{demand_id:int}/answers", opt=HOLDERS, status_code=201, summary="Answer a demand with a listing")
async def api_answer(request: Request, demand_id: FromPath[int], data: JSONBody[AnswerIn]) -> dict:
    await service.answer_demand(demand_id=demand_id, org_id=request.user.org_id, listing_id=data.listing_id,
                                note=data.note)
    return _demand_json(await service.get_demand(demand_id=demand_id))


@post("/demands/{demand_id:int}/close", opt=BUYERS, status_code=200, summary="Close one's own demand")
async def api_close(request: Request, demand_id: FromPath[int]) -> dict:
    await service.close_demand(demand_id=demand_id, org_id=request.user.org_id)
    return _demand_json(await service.get_demand(demand_id=demand_id))


api_routes = [api_post_demand, api_demands, api_demand, api_answer, api_close]


@get("/demands", opt=AUTHENTICATED, include_in_schema=False)
async def demands_page(request: Request, page_no: FromQuery[int | None] = None) -> Response:
    p, size = page_params(page_no, 50)
    rows, total = await service.list_demands(status=None, page=p, page_size=size)
    return page(request, "listings/demands.html", demands=rows, paging=paginated([], total, p, size),
                purposes=pricing.PURPOSES)


@post("/demands", opt=BUYERS, include_in_schema=False)
async def demand_submit(request: Request) -> Response:
    form = await request.form()
    budget = str(form.get("budget_yuan", "")).strip()
    result = await service.post_demand(org_id=request.user.org_id, user_id=request.user.user_id,
                                       title=str(form.get("title", "")), description=str(form.get("description", "")),
                                       purpose=str(form.get("purpose", "industry")),
                                       budget_fen=Money.of_yuan(budget).amount if budget else 0)
    return Redirect(f"/demands/{result['demand']['id']}")


@get("/demands/{demand_id:int}", opt=AUTHENTICATED, include_in_schema=False)
async def demand_page(request: Request, demand_id: FromPath[int]) -> Response:
    data = await service.get_demand(demand_id=demand_id)
    mine = []
    if request.user.roles & {Role.HOLDER, Role.OPERATOR}:
        mine = [r for r in await service.listings_of_holder(org_id=request.user.org_id)
                if r["status"] not in ("delisted", "rejected")]
    return page(request, "listings/demand.html", demand=data["demand"], responses=data["responses"],
                my_listings=mine, purposes=pricing.PURPOSES)


@post("/demands/{demand_id:int}/answers", opt=HOLDERS, include_in_schema=False)
async def answer_submit(request: Request, demand_id: FromPath[int]) -> Response:
    form = await request.form()
    await service.answer_demand(demand_id=demand_id, org_id=request.user.org_id,
                                listing_id=int(str(form.get("listing_id", "0")) or 0), note=str(form.get("note", "")))
    return Redirect(f"/demands/{demand_id}")


page_routes = [demands_page, demand_submit, demand_page, answer_submit]
