"""Routes for listings: create, price, submit, review, notice and objections, caps, quotes."""

from __future__ import annotations

import json
import secrets

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Redirect

from listings import pricing, service
from market.api_contract import Id, Int32, Int64, QueryId
from market.errors import DomainError
from market.money import Money
from market.tables import Role
from market.web import AUTHENTICATED, PUBLIC, page, roles

HOLDERS = roles(Role.HOLDER, Role.OPERATOR)
ADMINS = roles(Role.ADMIN)
AGENCIES = roles(Role.AGENCY)


class PlanIn(msgspec.Struct):
    kind: str
    name: str
    price_fen: Int64 = 0
    unit_fen: Int64 = 0
    months: Int32 = 0  # an INTEGER column
    calls: Int64 = 0
    tiers: list[dict] = []
    billing_unit: str = "per_product"
    revision_access: str = "all"

    def spec(self) -> pricing.PlanSpec:
        try:
            tiers = tuple((t.get("up_to"), t["unit_fen"]) for t in self.tiers)
        except (KeyError, AttributeError):
            raise DomainError("price.tiers_invalid", "阶梯价格的上限必须逐档递增") from None
        return pricing.PlanSpec(kind=self.kind, name=self.name, price_fen=self.price_fen, unit_fen=self.unit_fen,
                                months=self.months, calls=self.calls, tiers=tiers, billing_unit=self.billing_unit,
                                revision_access=self.revision_access)


class ListingIn(msgspec.Struct):
    asset_id: Id
    tier: str
    delivery_mode: str
    title: str
    summary: str
    category_path: str = ""
    tags: list[str] = []
    update_cycle: str = "other"
    sharing_type: str = "conditional"
    open_type: str = "conditional"
    plans: list[PlanIn] = []


class ReasonIn(msgspec.Struct):
    reason: str = ""


class CapIn(msgspec.Struct):
    cap_fen: Int64
    basis: str
    billing_unit: str = "per_product"


class ResolveIn(msgspec.Struct):
    upheld: bool
    resolution: str


def _is_admin(request: Request) -> bool:
    return Role.ADMIN in request.user.roles


def listing_json(data: dict, *, checklist: list | None = None) -> dict:
    listing = data["listing"]
    return {
        **{k: listing[k] for k in ("id", "title", "summary", "tier", "delivery_mode", "status", "category_path",
                                   "update_cycle", "sharing_type", "open_type", "grade", "public_data",
                                   "registration_code", "quality_score", "row_count", "data_version",
                                   "pending_version",
                                   "data_updated_at", "min_price_fen", "notice_until", "holder_name",
                                   "status_reason", "listed_at")},
        "asset_id": listing["asset"], "holder_id": listing["holder"],
        "tags": json.loads(listing["tags"]), "columns": json.loads(listing["columns"]),
        "sample": json.loads(listing["sample"]),
        "plans": [{k: p[k] for k in ("id", "kind", "name", "price_fen", "unit_fen", "months", "calls",
                                     "billing_unit", "revision_access")} | {"tiers": json.loads(p["tiers"])} for p in data["plans"]],
        "cap_fen": data["cap_fen"],
        "objections": [{k: o[k] for k in ("id", "reason", "status", "resolution", "created_at")}
                       for o in data["objections"]],
        **({"checklist": checklist} if checklist is not None else {}),
    }


async def _visible(request: Request, listing_id: int) -> dict:
    principal = request.user
    return await service.get_listing(listing_id=listing_id, viewer_org_id=principal.org_id if principal else None,
                                     viewer_roles=frozenset(principal.roles) if principal else frozenset())


@post("/listings", opt=HOLDERS, status_code=201, summary="List a profiled asset at a tier (draft)")
async def api_create_listing(request: Request, data: JSONBody[ListingIn]) -> dict:
    row = await service.create_listing(
        asset_id=data.asset_id, org_id=request.user.org_id, tier=data.tier, delivery_mode=data.delivery_mode,
        title=data.title, summary=data.summary, category_path=data.category_path, tags=data.tags,
        update_cycle=data.update_cycle, sharing_type=data.sharing_type, open_type=data.open_type,
        plans=[p.spec() for p in data.plans])
    return listing_json(await _visible(request, row["id"]))


@get("/listings/{listing_id:int}", opt=PUBLIC, summary="A listing (listed or in notice: public)")
async def api_listing(request: Request, listing_id: FromPath[int]) -> dict:
    data = await _visible(request, listing_id)
    mine = request.user is not None and (data["listing"]["holder"] == request.user.org_id or _is_admin(request))
    return listing_json(data, checklist=await service.review_checklist(listing_id) if mine else None)


@post("/listings/{listing_id:int}/plans", opt=HOLDERS, status_code=201, summary="Add a price plan")
async def api_add_plan(request: Request, listing_id: FromPath[int], data: JSONBody[PlanIn]) -> dict:
    plan_id = await service.add_plan(listing_id=listing_id, org_id=request.user.org_id, spec=data.spec())
    return {"id": plan_id}


@post("/listings/{listing_id:int}/submit", opt=HOLDERS, status_code=200, summary="Submit for review")
async def api_submit(request: Request, listing_id: FromPath[int]) -> dict:
    await service.submit(listing_id=listing_id, org_id=request.user.org_id)
    return listing_json(await _visible(request, listing_id))


@post("/listings/{listing_id:int}/approve", opt=ADMINS, status_code=200,
      summary="Review passed: start public notice (admin)")
async def api_approve(request: Request, listing_id: FromPath[int], data: JSONBody[ReasonIn]) -> dict:
    settings = request.app.state.settings
    await service.approve(listing_id=listing_id, note=data.reason, notice_days=settings.listing_notice_days)
    return listing_json(await _visible(request, listing_id))


@post("/listings/{listing_id:int}/reject", opt=ADMINS, status_code=200, summary="Reject (admin)")
async def api_reject(request: Request, listing_id: FromPath[int], data: JSONBody[ReasonIn]) -> dict:
    await service.reject(listing_id=listing_id, reason=data.reason)
    return listing_json(await _visible(request, listing_id))


@post("/listings/{listing_id:int}/objections", opt=AUTHENTICATED, status_code=201,
      summary="Object to a listing during its public notice")
async def api_object(request: Request, listing_id: FromPath[int], data: JSONBody[ReasonIn]) -> dict:
    oid = await service.file_objection(listing_id=listing_id, org_id=request.user.org_id,
                                       user_id=request.user.user_id, reason=data.reason)
    return {"id": oid}


@post("/listings/{listing_id:int}/version/approve", opt=ADMINS, status_code=200,
      summary="Accept an incompatible new version: it goes on sale and reaches subscribers (admin)")
async def api_approve_version(request: Request, listing_id: FromPath[int], data: JSONBody[ReasonIn]) -> dict:
    await service.approve_version(listing_id=listing_id, note=data.reason)
    return listing_json(await _visible(request, listing_id))


@post("/listings/{listing_id:int}/version/reject", opt=ADMINS, status_code=200,
      summary="Refuse an incompatible new version; the listing keeps the version on sale (admin)")
async def api_reject_version(request: Request, listing_id: FromPath[int], data: JSONBody[ReasonIn]) -> dict:
    await service.reject_version(listing_id=listing_id, reason=data.reason)
    return listing_json(await _visible(request, listing_id))


@post("/objections/{objection_id:int}/resolve", opt=ADMINS, status_code=200, summary="Decide an objection (admin)")
async def api_resolve(objection_id: FromPath[int], data: JSONBody[ResolveIn]) -> dict:
    await service.resolve_objection(objection_id=objection_id, upheld=data.upheld, resolution=data.resolution)
    return {"ok": True}


@post("/listings/{listing_id:int}/suspend", opt=roles(Role.HOLDER, Role.OPERATOR, Role.ADMIN), status_code=200,
      summary="Take off sale (holder for its own, admin for any)")
async def api_suspend(request: Request, listing_id: FromPath[int], data: JSONBody[ReasonIn]) -> dict:
    await service.suspend(listing_id=listing_id, reason=data.reason,
                          org_id=None if _is_admin(request) else request.user.org_id)
    return listing_json(await _visible(request, listing_id))


@post("/listings/{listing_id:int}/resume", opt=roles(Role.HOLDER, Role.OPERATOR, Role.ADMIN), status_code=200,
      summary="Put a suspended listing back on sale")
async def api_resume(request: Request, listing_id: FromPath[int]) -> dict:
    await service.resume(listing_id=listing_id, org_id=None if _is_admin(request) else request.user.org_id)
    return listing_json(await _visible(request, listing_id))


@post("/listings/{listing_id:int}/delist", opt=roles(Role.HOLDER, Role.OPERATOR, Role.ADMIN), status_code=200,
      summary="Withdraw permanently")
async def api_delist(request: Request, listing_id: FromPath[int], data: JSONBody[ReasonIn]) -> dict:
    await service.delist(listing_id=listing_id, reason=data.reason,
                         org_id=None if _is_admin(request) else request.user.org_id)
    return listing_json(await _visible(request, listing_id))


@post("/listings/{listing_id:int}/cap", opt=AGENCIES, status_code=200,
      summary="Set the price cap (上限收费标准) of a public-data listing (agency)")
async def api_set_cap(request: Request, listing_id: FromPath[int], data: JSONBody[CapIn]) -> dict:
    await service.set_cap(listing_id=listing_id, agency_org_id=request.user.org_id, cap_fen=data.cap_fen,
                          basis=data.basis, billing_unit=data.billing_unit)
    return listing_json(await _visible(request, listing_id))


@get("/listings/{listing_id:int}/quote", opt=PUBLIC, summary="Price of a plan for a declared purpose")
async def api_quote(request: Request, listing_id: FromPath[int], plan_id: QueryId,
                    purpose: FromQuery[str], calls: FromQuery[int] = 0) -> dict:
    await _visible(request, listing_id)
    amount = await service.quote(listing_id=listing_id, plan_id=plan_id, purpose=purpose, calls=calls)
    return {"amount_fen": amount.amount, "currency": amount.currency, "formatted": amount.format(),
            "purpose": purpose, "free_by_rule": purpose in pricing.FREE_PURPOSES}


api_routes = [api_create_listing, api_listing, api_add_plan, api_submit, api_approve, api_reject, api_object,
              api_approve_version, api_reject_version,
              api_resolve, api_suspend, api_resume, api_delist, api_set_cap, api_quote]


# ---- pages -------------------------------------------------------------------------------


@get("/listings/{listing_id:int}", opt=PUBLIC, include_in_schema=False)
async def listing_page(request: Request, listing_id: FromPath[int], purpose: FromQuery[str] = "industry",
                       plan: FromQuery[str | None] = None) -> Response:
    data = await _visible(request, listing_id)
    view = listing_json(data)
    mine = request.user is not None and (data["listing"]["holder"] == request.user.org_id or _is_admin(request))
    vat_bps = request.app.state.settings.vat_bps
    # the price of each plan for the chosen purpose, with VAT as an order freezes it (quantity 1)
    quotes, taxed = {}, {}
    if purpose in pricing.PURPOSES:
        for row in data["plans"]:
            try:
                amount = pricing.quote(pricing.spec_from_row(row), purpose=purpose, cap_fen=data["cap_fen"])
            except DomainError:
                quotes[row["id"]] = None
                continue
            quotes[row["id"]] = amount.amount
            tax = amount.apply_bps(vat_bps)
            taxed[row["id"]] = {"tax_fen": tax.amount, "total_fen": (amount + tax).amount}
    checklist = await service.review_checklist(listing_id) if mine else None
    # one order form for every plan, free or paid: buyers order through billing (POST /listings/{id}/order)
    can_order = (request.user is not None and data["listing"]["status"] == "listed" and not mine
                 and Role.BUYER in request.user.roles)
    selected = next((p["id"] for p in data["plans"] if plan and str(p["id"]) == plan), None)
    if selected is None:
        selected = next((pid for pid, amount in quotes.items() if amount is not None),
                        data["plans"][0]["id"] if data["plans"] else None)
    return page(request, "listings/listing.html", listing=view, quotes=quotes, taxed=taxed, purpose=purpose,
                purposes=pricing.PURPOSES, checklist=checklist, mine=mine, can_order=can_order,
                selected_plan=selected, vat_pct=_percent(vat_bps),
                # generated with the form: the same key twice (a double click) is one order
                idempotency_key=secrets.token_urlsafe(18) if can_order else "",
                vetted=data["listing"]["sharing_type"] != "unconditional" or data["listing"]["grade"] != "general")


def _percent(bps: int) -> str:
    whole, rest = divmod(bps, 100)
    return f"{whole}.{rest:02d}".rstrip("0").rstrip(".")


@post("/listings/{listing_id:int}/objections", opt=AUTHENTICATED, include_in_schema=False)
async def objection_submit(request: Request, listing_id: FromPath[int]) -> Response:
    form = await request.form()
    await service.file_objection(listing_id=listing_id, org_id=request.user.org_id, user_id=request.user.user_id,
                                 reason=str(form.get("reason", "")))
    return Redirect(f"/listings/{listing_id}")


@post("/listings/{listing_id:int}/action", opt=roles(Role.HOLDER, Role.OPERATOR, Role.ADMIN, Role.AGENCY),
      include_in_schema=False)
async def listing_action(request: Request, listing_id: FromPath[int]) -> Response:
    """One form endpoint for the buttons on the listing and review pages."""
    form = await request.form()
    action = str(form.get("action", ""))
    reason = str(form.get("reason", ""))
    user = request.user
    own = None if _is_admin(request) else user.org_id
    if action not in ("submit", "approve", "reject", "suspend", "resume", "delist", "revise", "cap",
                      "approve_version", "reject_version"):
        raise DomainError("listing.action_invalid", "未知的操作")
    if action == "submit" and user.roles & {Role.HOLDER, Role.OPERATOR}:
        await service.submit(listing_id=listing_id, org_id=user.org_id)
    elif action == "approve" and _is_admin(request):
        await service.approve(listing_id=listing_id, note=reason,
                              notice_days=request.app.state.settings.listing_notice_days)
    elif action == "reject" and _is_admin(request):
        await service.reject(listing_id=listing_id, reason=reason)
    elif action == "approve_version" and _is_admin(request):
        await service.approve_version(listing_id=listing_id, note=reason)
    elif action == "reject_version" and _is_admin(request):
        await service.reject_version(listing_id=listing_id, reason=reason)
    elif action == "suspend" and user.roles & {Role.HOLDER, Role.OPERATOR, Role.ADMIN}:
        await service.suspend(listing_id=listing_id, reason=reason, org_id=own)
    elif action == "resume" and user.roles & {Role.HOLDER, Role.OPERATOR, Role.ADMIN}:
        await service.resume(listing_id=listing_id, org_id=own)
    elif action == "delist" and user.roles & {Role.HOLDER, Role.OPERATOR, Role.ADMIN}:
        await service.delist(listing_id=listing_id, reason=reason, org_id=own)
    elif action == "revise" and user.roles & {Role.HOLDER, Role.OPERATOR}:
        await service.revise(listing_id=listing_id, org_id=user.org_id)
    elif action == "cap" and Role.AGENCY in user.roles:
        yuan = str(form.get("cap_yuan", "")).strip()
        await service.set_cap(listing_id=listing_id, agency_org_id=user.org_id,
                              cap_fen=Money.of_yuan(yuan).amount if yuan else -1, basis=str(form.get("basis", "")))
    else:
        from market.errors import Forbidden

        raise Forbidden()
    back = str(form.get("back", "")) or f"/listings/{listing_id}"
    return Redirect(back if back.startswith("/") and not back.startswith("//") else f"/listings/{listing_id}")


@get("/review", opt=ADMINS, include_in_schema=False)
async def review_page(request: Request) -> Response:
    rows = await service.listings_for_review()
    items = [{"listing": r, "checklist": await service.review_checklist(r["id"])} for r in rows]
    objections = []
    for r in rows:
        data = await service.get_listing(listing_id=r["id"], viewer_org_id=None, viewer_roles=frozenset({"admin"}))
        objections.extend({"listing": r, **o} for o in data["objections"] if o["status"] == "open")
    return page(request, "listings/review.html", items=items, objections=objections)


@post("/review/objections/{objection_id:int}", opt=ADMINS, include_in_schema=False)
async def review_objection(request: Request, objection_id: FromPath[int]) -> Response:
    form = await request.form()
    await service.resolve_objection(objection_id=objection_id, upheld=form.get("upheld") == "1",
                                    resolution=str(form.get("resolution", "")))
    return Redirect("/review")


@get("/caps", opt=AGENCIES, include_in_schema=False)
async def caps_page(request: Request) -> Response:
    rows = await service.public_listings_needing_caps()
    return page(request, "listings/caps.html", listings=rows)


page_routes = [listing_page, objection_submit, listing_action, review_page, review_objection, caps_page]
