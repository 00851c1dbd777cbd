"""Routes of upstream co-approval: the source holders' answers to a derived product's listing, as JSON
under /api/v1/coapprovals and as the page /coapprovals. Thin: the rules are in operators.service."""

from __future__ import annotations

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Redirect

from market.errors import DomainError
from market.tables import Role
from market.web import page, roles
from operators import service

HOLDERS = roles(Role.HOLDER)
PARTIES = roles(Role.HOLDER, Role.OPERATOR, Role.REGULATOR, Role.ADMIN)


class DecisionIn(msgspec.Struct):
    approve: bool  # true: the holder agrees to the listing; false: it declines (a note is then required)
    note: str = ""


def _who(request: Request) -> dict:
    return {"org_id": request.user.org_id, "roles": frozenset(request.user.roles)}


@get("/", opt=PARTIES, summary="Co-approval requests of derived products the caller is party to (as source "
                               "holder or operator; all for regulators and admins), newest first")
async def api_list(request: Request, status: FromQuery[str | None] = None) -> dict:
    return {"items": await service.list_coapprovals(status=status, **_who(request))}


@post("/{coapproval_id:int}/decision", opt=HOLDERS, status_code=200,
      summary="The source holder approves or declines a derived product's listing, with a note")
async def api_decide(request: Request, coapproval_id: FromPath[int], data: JSONBody[DecisionIn]) -> dict:
    return await service.decide_coapproval(coapproval_id=coapproval_id, org_id=request.user.org_id,
                                           user_id=request.user.user_id, approve=data.approve, note=data.note)


@get("/coapprovals", opt=PARTIES, include_in_schema=False)
async def list_page(request: Request) -> Response:
    rows = await service.list_coapprovals(**_who(request))
    org_id = request.user.org_id
    return page(request, "operators/coapprovals.html", asked=[r for r in rows if r["holder_org_id"] == org_id],
                asking=[r for r in rows if r["operator_org_id"] == org_id],
                others=[r for r in rows if org_id not in (r["holder_org_id"], r["operator_org_id"])],
                can_decide=Role.HOLDER in request.user.roles)


@post("/coapprovals/{coapproval_id:int}", opt=HOLDERS, include_in_schema=False)
async def decide_submit(request: Request, coapproval_id: FromPath[int]) -> Response:
    form = await request.form()
    action = str(form.get("action", ""))
    if action not in ("approve", "decline"):
        raise DomainError("coapproval.action_invalid", "不支持的操作")
    await service.decide_coapproval(coapproval_id=coapproval_id, org_id=request.user.org_id,
                                    user_id=request.user.user_id, approve=action == "approve",
                                    note=str(form.get("note", "")))
    return Redirect("/coapprovals")


api_router = Router(path="/api/v1/coapprovals", route_handlers=[api_list, api_decide],
                    tags=["upstream co-approval"])
router = Router(path="/", route_handlers=[api_router, list_page, decide_submit])
