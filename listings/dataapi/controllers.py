"""Routes of data delivered as a service: the metered rows API, verification, entitlement keys, usage
and the call trace (JSON), and the "how to use it" panel of the entitlement page."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated

import msgspec
from litestar import Request, Response, Router, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Redirect

from listings.dataapi import _meter, service
from market import runtime
from market.api_contract import ID_MAX
from market.errors import DomainError
from market.tables import Role
from market.web import AUTHENTICATED, PageNo, PageSize, error_body, page, page_params, paginated, roles

OptionalId = Annotated[int | None, QueryParameter(ge=1, le=ID_MAX)]
# the entitlement's own key only (refused: other keys and sessions 403, an ended entitlement 403, the wrong
# delivery mode 409, over quota / rate / daily cap 429)
KEY_ONLY = {**AUTHENTICATED, "key_scope": service.SCOPE_KIND, "csrf_exempt": True,
            "error_statuses": ("403", "409", "429")}
HOLDERS = roles(Role.HOLDER, Role.OPERATOR)
TRACE_READERS = roles(Role.HOLDER, Role.OPERATOR, Role.REGULATOR, Role.ADMIN)


def _refused(request: Request, exc: DomainError) -> Response:
    headers = getattr(exc, "headers", {})
    return Response(error_body(exc.code, exc.message, exc.params), status_code=exc.status_code, headers=headers,
                    media_type="application/json")


def _csv(fields: tuple[str, ...], items: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(fields)
    for item in items:
        writer.writerow(["" if item[f] is None else item[f] for f in fields])
    return buf.getvalue()


@get("/data/{entitlement_id:int}/rows", opt=KEY_ONLY, summary=(
    "Rows of the entitled version (API key scoped to the entitlement, metered). Query: fields=a,b; "
    "limit (1..1000, default 100); offset; order=col or -col (comma-separated); <col>=<value> equality; "
    "<col>__gte, <col>__lte, <col>__gt, <col>__lt ranges (numbers for numeric columns); format=csv or "
    "Accept: text/csv. Personal columns are masked and cannot be filtered or sorted on. Answers "
    "{items, total}; X-Quota-Limit / X-Quota-Remaining when the plan has a quota; 429 over quota or rate"))
async def api_rows(request: Request, entitlement_id: FromPath[int],
                   fields: FromQuery[str | None] = None, limit: Annotated[int | None, QueryParameter(ge=1, le=1000)] = None,
                   # 0 as a lower bound is dropped from the document (falsy): the 64-bit bounds of every integer
                   # query parameter apply, and the rows query refuses a negative offset itself
                   offset: FromQuery[int | None] = None,
                   order: FromQuery[str | None] = None, format: FromQuery[str | None] = None) -> Response:
    params = [(k, v) for k, v in request.query_params.multi_items()]
    as_csv = format == "csv" or (format is None and "text/csv" in request.headers.get("accept", ""))
    render = (lambda f, items, _total: _csv(f, items).encode()) if as_csv else \
        (lambda _f, items, total: msgspec.json.encode({"items": items, "total": total}))
    try:
        answer = await service.read_rows(principal=request.user, entitlement_id=entitlement_id,
                                         params=[(k, v) for k, v in params if k != "format"], render=render)
    except _meter.Refused as exc:
        return _refused(request, exc)
    headers = {**answer.headers, "Cache-Control": "no-store"}
    return Response(answer.body, media_type="text/csv" if as_csv else "application/json", headers=headers)


class VerifyIn(msgspec.Struct):
    values: dict[str, str]


@post("/verify/{entitlement_id:int}", opt=KEY_ONLY, status_code=200, summary=(
    "Verification (核验): send the declared columns' values, get {match} or {match, answer}; never the "
    "row. API key scoped to the entitlement; metered, rate limited per key, capped per day"))
async def api_verify(request: Request, entitlement_id: FromPath[int], data: JSONBody[VerifyIn]) -> Response:
    try:
        body, headers = await service.verify(principal=request.user, entitlement_id=entitlement_id,
                                             values=data.values)
    except _meter.Refused as exc:
        return _refused(request, exc)
    return Response(body, headers={**headers, "Cache-Control": "no-store"})


class KeyIn(msgspec.Struct):
    name: str = ""


@post("/entitlements/{entitlement_id:int}/keys", opt=AUTHENTICATED, status_code=201,
      summary="Make an API key for one entitlement delivered as api or verification (the buyer; secret shown once)")
async def api_create_key(request: Request, entitlement_id: FromPath[int], data: JSONBody[KeyIn]) -> dict:
    key, secret = await service.create_key(entitlement_id=entitlement_id, org_id=request.user.org_id,
                                           user_id=request.user.user_id, name=data.name)
    return {"id": key["id"], "prefix": key["prefix"], "name": key["name"], "scope": key["scope"], "secret": secret}


@get("/entitlements/{entitlement_id:int}/usage", opt=AUTHENTICATED,
     summary="Calls against quota, per month (usage plans) and per day, and the latest calls "
             "(buyer, the data's holder, admin, regulator)")
async def api_usage(request: Request, entitlement_id: FromPath[int]) -> dict:
    u = await service.usage_of_entitlement(entitlement_id=entitlement_id, org_id=request.user.org_id,
                                           roles=frozenset(request.user.roles))
    return {"quota": u["quota"], "used": u["used"], "remaining": u["remaining"], "months": u["months"],
            "days": [{"day": d, "calls": n} for d, n in u["days"]],
            "latest": [_call_json(c) for c in u["latest"]]}


def _call_json(c: dict) -> dict:
    return {"id": c["id"], "entitlement_id": c["entitlement"], "listing_id": c["listing"], "buyer_id": c["buyer"],
            "buyer_name": c.get("buyer_name"), "user_id": c["user"], "api_key_id": c["api_key"], "mode": c["mode"],
            "outcome": c["outcome"], "seq": c["seq"], "price_fen": c["price_fen"], "query": json.loads(c["query"]),
            "rows": c["rows"], "matched": c["matched"], "created_at": c["created_at"]}


@get("/data-calls", opt=TRACE_READERS, summary=(
    "The call trace of the data API and verification: who, when, which query, how many rows (holders: "
    "calls on their listings; regulators and admins: every call)"))
async def api_trace(request: Request, page: PageNo = None, page_size: PageSize = None,
                    listing_id: OptionalId = None, entitlement_id: OptionalId = None) -> dict:
    p, size = page_params(page, page_size)
    rows, total = await service.trace(org_id=request.user.org_id, roles=frozenset(request.user.roles),
                                      listing_id=listing_id, entitlement_id=entitlement_id, page=p, page_size=size)
    return paginated([_call_json(r) for r in rows], total, p, size)


@get("/data-usage", opt=HOLDERS, summary="Usage of the holder's data by listing, buyer and mode")
async def api_usage_by_buyer(request: Request) -> dict:
    return {"items": await service.usage_by_buyer(org_id=request.user.org_id)}


class RuleIn(msgspec.Struct):
    ask_columns: list[str]
    answer_column: str = ""
    daily_cap: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 1000


def _rule_json(rule: dict | None) -> dict:
    if rule is None:
        return {"ask_columns": [], "answer_column": "", "daily_cap": None}
    return {"ask_columns": rule["ask_columns"], "answer_column": rule["answer_column"], "daily_cap": rule["daily_cap"]}


@put("/listings/{listing_id:int}/verification-rule", opt=HOLDERS, summary=(
    "Declare what a verification listing asks (1..5 columns) and answers (match only, or one answer "
    "column) and its daily cap per entitlement (the holder)"))
async def api_set_rule(request: Request, listing_id: FromPath[int], data: JSONBody[RuleIn]) -> dict:
    return _rule_json(await service.set_rule(listing_id=listing_id, org_id=request.user.org_id,
                                             user_id=request.user.user_id, ask_columns=data.ask_columns,
                                             answer_column=data.answer_column, daily_cap=data.daily_cap))


@get("/listings/{listing_id:int}/verification-rule", opt=AUTHENTICATED,
     summary="What a verification listing asks and answers")
async def api_get_rule(listing_id: FromPath[int]) -> dict:
    return _rule_json(await service.get_rule(listing_id=listing_id))


api_router = Router(path="/api/v1", route_handlers=[
    api_rows, api_verify, api_create_key, api_usage, api_trace, api_usage_by_buyer, api_set_rule, api_get_rule,
], tags=["data services"])


# ---- pages -------------------------------------------------------------------------------


async def _panel(request: Request, entitlement_id: int, *, new_secret: str | None = None) -> dict:
    u = await service.usage_of_entitlement(entitlement_id=entitlement_id, org_id=request.user.org_id,
                                           roles=frozenset(request.user.roles))
    mine = True
    try:
        keys = await service.keys_of(entitlement_id=entitlement_id, org_id=request.user.org_id)
    except DomainError:
        keys, mine = [], False
    rule = None
    if u["mode"] == "verification":
        e = await service.entitlements.detail(entitlement_id=entitlement_id, org_id=request.user.org_id,
                                              roles=frozenset(request.user.roles))
        rule = await service.get_rule(listing_id=e["listing"]["id"])
    chart = json.dumps({"days": [d for d, _n in u["days"]], "calls": [n for _d, n in u["days"]]})
    return {"u": u, "keys": keys, "mine": mine, "new_secret": new_secret, "rule": rule, "chart": chart,
            "entitlement_id": entitlement_id, "base_url": runtime.settings().public_base_url.rstrip("/")
            if runtime.settings().base_url else str(request.base_url).rstrip("/")}


@get("/my/entitlements/{entitlement_id:int}/use", opt=AUTHENTICATED, include_in_schema=False)
async def use_panel(request: Request, entitlement_id: FromPath[int]) -> Response:
    return page(request, "listings/_usage_panel.html", **await _panel(request, entitlement_id))


@post("/my/entitlements/{entitlement_id:int}/keys", opt=AUTHENTICATED, include_in_schema=False)
async def create_key_page(request: Request, entitlement_id: FromPath[int]) -> Response:
    form = await request.form()
    _key, secret = await service.create_key(entitlement_id=entitlement_id, org_id=request.user.org_id,
                                            user_id=request.user.user_id, name=str(form.get("name", "")))
    return page(request, "listings/_usage_key.html", **await _panel(request, entitlement_id, new_secret=secret))


@get("/my/data-usage", opt=HOLDERS, include_in_schema=False)
async def holder_usage_page(request: Request, page_no: Annotated[int | None, QueryParameter(name="page")] = None
                            ) -> Response:
    p, size = page_params(page_no, 50)
    rows, total = await service.trace(org_id=request.user.org_id, roles=frozenset(request.user.roles), page=p,
                                      page_size=size)
    return page(request, "listings/_usage_holder.html", by_buyer=await service.usage_by_buyer(
        org_id=request.user.org_id), calls=rows, paging=paginated([], total, p, size))


@post("/listings/{listing_id:int}/verification-rule", opt=HOLDERS, include_in_schema=False)
async def rule_form(request: Request, listing_id: FromPath[int]) -> Response:
    form = await request.form()
    await service.set_rule(listing_id=listing_id, org_id=request.user.org_id, user_id=request.user.user_id,
                           ask_columns=[str(v) for v in form.getall("ask_columns", [])],
                           answer_column=str(form.get("answer_column", "")),
                           daily_cap=int(str(form.get("daily_cap", "1000")) or 1000)
                           if str(form.get("daily_cap", "1000")).isdigit() else 0)
    return Redirect(f"/listings/{listing_id}/verification-rule")


@get("/listings/{listing_id:int}/verification-rule", opt=HOLDERS, include_in_schema=False)
async def rule_page(request: Request, listing_id: FromPath[int]) -> Response:
    from listings.tables import Listing

    listing = await Listing.select().where(Listing.id == listing_id).first()
    if listing is None or listing["holder"] != request.user.org_id:
        raise DomainError("listing.not_found", "上架记录不存在", status_code=404)
    return page(request, "listings/_usage_rule.html", listing=listing, columns=json.loads(listing["columns"] or "[]"),
                rule=_rule_json(await service.get_rule(listing_id=listing_id)))


page_router = Router(path="/", route_handlers=[use_panel, create_key_page, holder_usage_page, rule_form, rule_page])
router = Router(path="/", route_handlers=[api_router, page_router])
