"""Routes of the sandbox: run an aggregate query over an entitlement's data, read the query log, review and
download released results, the holder's review policy; and their pages."""

from __future__ import annotations

import msgspec
from litestar import Request, Response, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Redirect

from listings.sandbox import service
from market.errors import DomainError
from market.storage import content_disposition
from market.tables import Role
from market.web import AUTHENTICATED, page, roles

TAKERS = roles(Role.BUYER, Role.HOLDER, Role.OPERATOR, Role.AGENCY)  # organizations that use data
HOLDERS = roles(Role.HOLDER, Role.OPERATOR)
READERS = roles(Role.HOLDER, Role.OPERATOR, Role.REGULATOR, Role.ADMIN)
MAX_SQL = 10_000


class QueryIn(msgspec.Struct):
    sql: str = msgspec.field(default="")


class NoteIn(msgspec.Struct):
    note: str = ""


class PolicyIn(msgspec.Struct):
    review_required: bool


def query_json(row: dict) -> dict:
    return {"id": row["id"], "status": row["decision"], "code": row["code"] or None, "message": row["message"] or None,
            "columns": row["columns"], "rows": row["rows"], "suppressed": row["suppressed"], "k": row["k"],
            "release": row["release"], "review_note": row["review_note"], "near_duplicate": row["near_duplicate"],
            "duration_ms": row["duration_ms"], "version": row["version"], "sql": row["sql"],
            "entitlement_id": row["entitlement"], "listing_id": row["listing"], "buyer_id": row["buyer"],
            "user_id": row["user"], "via": row["via"], "downloads": row["downloads"], "created_at": row["created_at"]}


def _roles(request: Request) -> frozenset[str]:
    return frozenset(request.user.roles)


@get("/sandbox/{entitlement_id:int}", opt=TAKERS,
     summary="The sandbox of an entitlement: schema with personal flags, example queries, k, budget left today")
async def api_overview(request: Request, entitlement_id: FromPath[int]) -> dict:
    data = await service.overview(entitlement_id=entitlement_id, org_id=request.user.org_id)
    return {"entitlement_id": entitlement_id, "listing_id": data["listing"]["id"], "version": data["version"],
            "row_count": data["row_count"], "columns": data["columns"], "examples": data["examples"], "k": data["k"],
            "budget": data["budget"], "review_required": data["review_required"]}


@post("/sandbox/{entitlement_id:int}/queries", opt={**TAKERS, "error_statuses": ("422",)}, status_code=201,
      summary="Run an aggregate SQL query over the entitled version as the table `data`; a refused query is "
              "answered 422 {code, message} and logged")
async def api_run(request: Request, entitlement_id: FromPath[int], data: JSONBody[QueryIn]) -> dict:
    row = await service.run_query(entitlement_id=entitlement_id, sql=data.sql[:MAX_SQL + 1],
                                  org_id=request.user.org_id, user_id=request.user.user_id, via=request.user.via)
    return query_json(row)


@get("/sandbox/{entitlement_id:int}/queries", opt=AUTHENTICATED,
     summary="The query log of an entitlement's sandbox (its buyer, the holder, regulators, admins)")
async def api_queries(request: Request, entitlement_id: FromPath[int]) -> dict:
    rows = await service.queries_of_entitlement(entitlement_id=entitlement_id, org_id=request.user.org_id,
                                                roles=_roles(request))
    return {"items": [query_json(r) for r in rows]}


@get("/sandbox/queries/{query_id:int}", opt=AUTHENTICATED, summary="One logged sandbox query and its decision")
async def api_query(request: Request, query_id: FromPath[int]) -> dict:
    return query_json(await service.get_query(query_id=query_id, org_id=request.user.org_id, roles=_roles(request)))


async def _result(request: Request, query_id: int) -> Response:
    filename, body = await service.open_result(query_id=query_id, org_id=request.user.org_id)
    return Response(body, media_type="text/csv", headers={"Content-Disposition": content_disposition(filename),
                                                          "Cache-Control": "no-store"})


@get("/sandbox/queries/{query_id:int}/result.csv", opt=TAKERS, media_type="text/csv",
     summary="Download a released sandbox result as CSV (the buyer)")
async def api_result(request: Request, query_id: FromPath[int]) -> Response:
    return await _result(request, query_id)


@post("/sandbox/queries/{query_id:int}/approve", opt=HOLDERS, status_code=200,
      summary="Release a result waiting for the holder's review")
async def api_approve(request: Request, query_id: FromPath[int], data: JSONBody[NoteIn]) -> dict:
    return query_json(await service.review(query_id=query_id, org_id=request.user.org_id,
                                           user_id=request.user.user_id, approve=True, note=data.note))


@post("/sandbox/queries/{query_id:int}/reject", opt=HOLDERS, status_code=200,
      summary="Refuse to release a result, with a note")
async def api_reject(request: Request, query_id: FromPath[int], data: JSONBody[NoteIn]) -> dict:
    return query_json(await service.review(query_id=query_id, org_id=request.user.org_id,
                                           user_id=request.user.user_id, approve=False, note=data.note))


@get("/sandbox/log", opt=READERS,
     summary="Sandbox queries on the holder's listings (regulators and admins: every listing), newest first")
async def api_log(request: Request, release: FromQuery[str | None] = None) -> dict:
    rows = await service.log(org_id=request.user.org_id, roles=_roles(request), release=release)
    return {"items": [query_json(r) for r in rows]}


@put("/sandbox/listings/{listing_id:int}/policy", opt=HOLDERS, status_code=200,
     summary="Whether the listing's sandbox results wait for the holder's review before release")
async def api_policy(request: Request, listing_id: FromPath[int], data: JSONBody[PolicyIn]) -> dict:
    policy = await service.set_policy(listing_id=listing_id, org_id=request.user.org_id,
                                      user_id=request.user.user_id, review_required=data.review_required)
    return {"listing_id": listing_id, "review_required": policy["review_required"]}


api_routes = [api_overview, api_run, api_queries, api_query, api_result, api_approve, api_reject, api_log,
              api_policy]


# ---- pages -------------------------------------------------------------------------------


async def _sandbox_page(request: Request, entitlement_id: int, *, sql: str = "", result: dict | None = None,
                        error: DomainError | None = None) -> Response:
    sb = await service.overview(entitlement_id=entitlement_id, org_id=request.user.org_id)
    history = await service.queries_of_entitlement(entitlement_id=entitlement_id, org_id=request.user.org_id)
    shown = result
    if shown is None and request.query_params.get("q", "").isdigit():
        shown = next((h for h in history if h["id"] == int(request.query_params["q"])), None)
    return page(request, "listings/sandbox.html", sb=sb, history=history, result=shown, sql=sql,
                sandbox_error=error)


@get("/my/entitlements/{entitlement_id:int}/sandbox", opt=TAKERS, include_in_schema=False)
async def sandbox_page(request: Request, entitlement_id: FromPath[int]) -> Response:
    return await _sandbox_page(request, entitlement_id)


@post("/my/entitlements/{entitlement_id:int}/sandbox", opt=TAKERS, include_in_schema=False, status_code=200)
async def sandbox_run(request: Request, entitlement_id: FromPath[int]) -> Response:
    form = await request.form()
    sql = str(form.get("sql", ""))[:MAX_SQL + 1]
    try:
        row = await service.run_query(entitlement_id=entitlement_id, sql=sql, org_id=request.user.org_id,
                                      user_id=request.user.user_id, via=request.user.via)
    except DomainError as e:
        if e.status_code != 422:
            raise
        return await _sandbox_page(request, entitlement_id, sql=sql, error=e)
    return await _sandbox_page(request, entitlement_id, sql=sql, result=row)


@get("/my/sandbox/queries/{query_id:int}/result.csv", opt=TAKERS, include_in_schema=False)
async def result_page(request: Request, query_id: FromPath[int]) -> Response:
    return await _result(request, query_id)


@get("/my/sandbox", opt=READERS, include_in_schema=False)
async def log_page(request: Request) -> Response:
    oversight = bool(_roles(request) & service.OVERSIGHT)
    rows = await service.log(org_id=request.user.org_id, roles=_roles(request))
    policies = [] if oversight else await service.policies(org_id=request.user.org_id)
    return page(request, "listings/sandbox_log.html", rows=rows, policies=policies, oversight=oversight,
                pending=[r for r in rows if r["release"] == "pending"])


@post("/my/sandbox/queries/{query_id:int}/review", opt=HOLDERS, include_in_schema=False)
async def review_form(request: Request, query_id: FromPath[int]) -> Response:
    form = await request.form()
    await service.review(query_id=query_id, org_id=request.user.org_id, user_id=request.user.user_id,
                         approve=form.get("decision") == "approve", note=str(form.get("note", "")))
    return Redirect("/my/sandbox")


@post("/my/sandbox/policy/{listing_id:int}", opt=HOLDERS, include_in_schema=False)
async def policy_form(request: Request, listing_id: FromPath[int]) -> Response:
    form = await request.form()
    await service.set_policy(listing_id=listing_id, org_id=request.user.org_id, user_id=request.user.user_id,
                             review_required=form.get("review_required") == "on")
    return Redirect("/my/sandbox")


page_routes = [sandbox_page, sandbox_run, result_page, log_page, review_form, policy_form]
