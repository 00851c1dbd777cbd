"""Routes for entitlements: the buyer's list, versions, downloads, the holder's view of who uses its data,
revoking, tracing. Data is taken by ordering it (billing's /api/v1/orders, free plans included); the
holder vets a buyer on the order (POST /api/v1/orders/{id}/approve or decline), not here."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody
from litestar.response import Redirect, Stream

from listings import service
from market.api_contract import FILE_UPLOAD
from market.errors import DomainError
from market.storage import content_disposition
from market.tables import Role
from market.web import AUTHENTICATED, page, roles

TAKER_ROLES = frozenset({Role.BUYER, Role.HOLDER, Role.OPERATOR, Role.AGENCY})  # organizations that use data
TAKERS = roles(*sorted(TAKER_ROLES))
HOLDERS = roles(Role.HOLDER, Role.OPERATOR)
TRACERS = roles(Role.REGULATOR, Role.ADMIN)
TRACE_LIMIT = 250 * 1024 * 1024


class ReasonIn(msgspec.Struct):
    reason: str = ""


def entitlement_json(row: dict) -> dict:
    keys = ("id", "status", "kind", "purpose", "purpose_note", "amount_fen", "source", "source_ref",
            "revision_access", "start_version", "starts_at", "ends_at", "quantity", "calls", "decision_note",
            "created_at")
    return {**{k: row[k] for k in keys}, "listing_id": row["listing"], "plan_id": row["plan"],
            "buyer_id": row["buyer"]}


def detail_json(data: dict) -> dict:
    return {**entitlement_json(data["entitlement"]), "listing_title": data["listing"]["title"],
            "downloadable": data["downloadable"],
            "versions": [{k: v[k] for k in ("number", "row_count", "created_at", "delivered_at", "downloads")}
                         for v in data["versions"]]}


def _roles(request: Request) -> frozenset[str]:
    return frozenset(request.user.roles)


@get("/entitlements", opt=AUTHENTICATED, summary="The caller's organization's entitlements")
async def api_entitlements(request: Request) -> dict:
    return {"items": [entitlement_json(r) | {"listing_title": r["listing_title"]}
                      for r in await service.entitlements_of_buyer(org_id=request.user.org_id)]}


@get("/entitlements/{entitlement_id:int}", opt=AUTHENTICATED,
     summary="An entitlement with the versions it reaches (buyer, holder, admin, regulator)")
async def api_entitlement(request: Request, entitlement_id: FromPath[int]) -> dict:
    return detail_json(await service.entitlement_detail(entitlement_id=entitlement_id, org_id=request.user.org_id,
                                                        roles=_roles(request)))


@post("/entitlements/{entitlement_id:int}/revoke", opt=roles(Role.HOLDER, Role.OPERATOR, Role.ADMIN),
      status_code=200, summary="Withdraw an entitlement (admin for any, holder for free claims on its data)")
async def api_revoke(request: Request, entitlement_id: FromPath[int], data: JSONBody[ReasonIn]) -> dict:
    own = None if Role.ADMIN in request.user.roles else request.user.org_id
    return entitlement_json(await service.revoke(entitlement_id=entitlement_id, reason=data.reason, org_id=own))


async def _download(request: Request, entitlement_id: int, number: int) -> Stream:
    filename, chunks = await service.open_download(entitlement_id=entitlement_id, version=number,
                                                   org_id=request.user.org_id, user_id=request.user.user_id)
    # Litestar adds "; charset=utf-8" to text/* itself (giving it here doubled the parameter)
    return Stream(chunks, media_type="text/csv",
                  headers={"Content-Disposition": content_disposition(filename), "Cache-Control": "no-store"})


@get("/entitlements/{entitlement_id:int}/versions/{number:int}/file", opt=TAKERS, media_type="text/csv",
     summary="Download a version as CSV, carrying this delivery's invisible signed mark")
async def api_download(request: Request, entitlement_id: FromPath[int], number: FromPath[int]) -> Stream:
    return await _download(request, entitlement_id, number)


async def _trace(data: dict) -> dict:
    file = data.get("file")
    if file is None or not isinstance(file, UploadFile):
        raise DomainError("upload.no_file", "请选择要上传的文件")
    try:
        result = await service.trace(read=file.read)
    finally:
        await file.close()
    found = [{"mark_id": r["id"], "listing_id": r["listing_id"], "listing_title": r["listing_title"],
              "version": r["version"], "recipient": r["recipient_name"],
              "recipient_credit_code": r["recipient_credit_code"], "purpose": r["purpose"],
              "entitlement_id": r["entitlement"], "order": r["source_ref"], "delivered_at": r["created_at"],
              "user_id": r["user"], "in_header": r["in_header"], "rows_supporting": r["rows_supporting"]}
             for r in result["marks"]]
    return {**result, "marks": found}


@post("/trace", opt=TRACERS, status_code=200, request_max_body_size=TRACE_LIMIT,
      summary="Who received a leaked file or an excerpt of its rows: the delivery marks found in it, with "
              "the rows supporting each and the marked rows that name nobody (regulator, admin)")
async def api_trace(data: Annotated[dict, FILE_UPLOAD]) -> dict:
    return await _trace(data)


api_routes = [api_entitlements, api_entitlement, api_revoke, api_download, api_trace]


# ---- pages -------------------------------------------------------------------------------


@get("/my/entitlements", opt=AUTHENTICATED, include_in_schema=False)
async def entitlements_page(request: Request) -> Response:
    rows = await service.entitlements_of_buyer(org_id=request.user.org_id)
    return page(request, "listings/entitlements.html", rows=rows)


@get("/my/entitlements/{entitlement_id:int}", opt=AUTHENTICATED, include_in_schema=False)
async def entitlement_page(request: Request, entitlement_id: FromPath[int]) -> Response:
    data = await service.entitlement_detail(entitlement_id=entitlement_id, org_id=request.user.org_id,
                                            roles=_roles(request))
    return page(request, "listings/entitlement.html", d=data,
                mine=data["entitlement"]["buyer"] == request.user.org_id)


@get("/my/entitlements/{entitlement_id:int}/versions/{number:int}/file", opt=TAKERS, include_in_schema=False)
async def download_page(request: Request, entitlement_id: FromPath[int], number: FromPath[int]) -> Stream:
    return await _download(request, entitlement_id, number)


@get("/my/requests", opt=HOLDERS, include_in_schema=False)
async def requests_page(request: Request) -> Response:
    """Who uses the holder's data (orders waiting for its approval are on billing's sales pages)."""
    active = await service.entitlements_of_holder(org_id=request.user.org_id)
    return page(request, "listings/requests.html", active=active)


@post("/my/requests/{entitlement_id:int}/revoke", opt=HOLDERS, include_in_schema=False)
async def request_revoke(request: Request, entitlement_id: FromPath[int]) -> Response:
    form = await request.form()
    await service.revoke(entitlement_id=entitlement_id, reason=str(form.get("note", "")), org_id=request.user.org_id)
    return Redirect("/my/requests")


@get("/trace", opt=TRACERS, include_in_schema=False)
async def trace_page(request: Request) -> Response:
    return page(request, "listings/trace.html", result=None)


@post("/trace", opt=TRACERS, include_in_schema=False, request_max_body_size=TRACE_LIMIT)
async def trace_submit(request: Request,
                       data: Annotated[dict, Body(media_type=RequestEncodingType.MULTI_PART)]) -> Response:
    return page(request, "listings/trace.html", result=await _trace(data))


page_routes = [entitlements_page, entitlement_page, download_page, requests_page, request_revoke, trace_page,
               trace_submit]
