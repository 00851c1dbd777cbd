"""Routes of authorization agreements: the JSON API under /api/v1/agreements and the pages for the
agency (list, draft, amend, sign, suspend/resume), the operator (its agreements and scope, sign) and
the regulator (read only). Thin: the rules are in operators.service."""

from __future__ import annotations

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Redirect

from listings import catalogue
from market import documents
from market.errors import DomainError
from market.i18n import N_
from market.money import Money, MoneyError
from market.storage import content_disposition
from market.tables import Role
from market.web import page, roles
from operators import _terms, service
from operators.coapproval_controllers import router as coapproval_router
from operators.pipelines.controllers import router as pipelines_router
from operators.schemas import AgreementIn, AmendmentIn, ReasonIn, SignIn, agreement_json, terms_of
from operators.tables import AgreementStatus

AGENCIES = roles(Role.AGENCY)
SIGNERS = roles(Role.AGENCY, Role.OPERATOR)
GOVERNORS = roles(Role.AGENCY, Role.ADMIN)
READERS = roles(Role.AGENCY, Role.OPERATOR, Role.REGULATOR, Role.ADMIN)


def _ip(request: Request) -> str:
    return request.client.host if request.client else ""


def _who(request: Request) -> dict:
    return {"org_id": request.user.org_id, "roles": frozenset(request.user.roles)}


async def _detail(request: Request, agreement_id: int) -> dict:
    return await service.get_agreement(agreement_id=agreement_id, **_who(request))


# ---- JSON API ----------------------------------------------------------------------------------

@post("/", opt=AGENCIES, status_code=201,
      summary="Draft an authorization agreement with an operator (agency); its PDF is rendered, then both sign")
async def api_create(request: Request, data: JSONBody[AgreementIn]) -> dict:
    terms = terms_of(data)
    operator_org_id = terms.pop("operator_org_id")
    row = await service.create_agreement(agency_org_id=request.user.org_id, user_id=request.user.user_id,
                                         operator_org_id=operator_org_id, data=terms)
    return agreement_json(await _detail(request, row["id"]), detail=True)


@get("/", opt=READERS, summary="The agreement versions the caller may see (its agency's or operator's; all for "
                               "regulators and admins), newest first")
async def api_list(request: Request, status: FromQuery[str | None] = None) -> dict:
    rows = await service.list_agreements(status=status, **_who(request))
    return {"items": [agreement_json(r) for r in rows]}


@get("/{agreement_id:int}", opt=READERS,
     summary="One agreement version: status, version, parties, scope with asset ids resolved, PDF, signatures")
async def api_get(request: Request, agreement_id: FromPath[int]) -> dict:
    return agreement_json(await _detail(request, agreement_id), detail=True)


@get("/{agreement_id:int}/agreement.pdf", opt=READERS, media_type=documents.PDF_CONTENT_TYPE,
     summary="The version's issued PDF, the exact bytes signed (its parties, regulators and admins)")
async def api_pdf(request: Request, agreement_id: FromPath[int]) -> Response:
    filename, data = await service.agreement_pdf(agreement_id=agreement_id, **_who(request))
    return Response(data, media_type=documents.PDF_CONTENT_TYPE,
                    headers={"Content-Disposition": content_disposition(filename, "inline"), "Cache-Control": "no-store"})


@post("/{agreement_id:int}/sign", opt=SIGNERS, status_code=200,
      summary="Sign the version's issued PDF as its agency or its operator (both signed → active or signed)")
async def api_sign(request: Request, agreement_id: FromPath[int], data: JSONBody[SignIn]) -> dict:
    await service.sign(agreement_id=agreement_id, user_id=request.user.user_id, ip=_ip(request),
                       expected_sha256=data.sha256, **_who(request))
    return agreement_json(await _detail(request, agreement_id), detail=True)


@post("/{agreement_id:int}/suspend", opt=GOVERNORS, status_code=200,
      summary="Suspend the agreement in force, with a reason (its agency, or an admin); published as an event")
async def api_suspend(request: Request, agreement_id: FromPath[int], data: JSONBody[ReasonIn]) -> dict:
    row = await service.suspend(agreement_id=agreement_id, reason=data.reason, **_who(request))
    return agreement_json(await _detail(request, row["id"]), detail=True)


@post("/{agreement_id:int}/resume", opt=GOVERNORS, status_code=200,
      summary="Resume a suspended agreement, with a reason (its agency, or an admin); published as an event")
async def api_resume(request: Request, agreement_id: FromPath[int], data: JSONBody[ReasonIn]) -> dict:
    row = await service.resume(agreement_id=agreement_id, reason=data.reason, **_who(request))
    return agreement_json(await _detail(request, row["id"]), detail=True)


@post("/{agreement_id:int}/terminate", opt=GOVERNORS, status_code=200,
      summary="End the agreement early, with a reason (its agency, or an admin); published as an event")
async def api_terminate(request: Request, agreement_id: FromPath[int], data: JSONBody[ReasonIn]) -> dict:
    row = await service.terminate(agreement_id=agreement_id, reason=data.reason, **_who(request))
    return agreement_json(await _detail(request, row["id"]), detail=True)


@post("/{agreement_id:int}/amendments", opt=AGENCIES, status_code=201,
      summary="Draft the next version of an agreement in force (agency): given terms replace, the rest carries over")
async def api_amend(request: Request, agreement_id: FromPath[int], data: JSONBody[AmendmentIn]) -> dict:
    changes = terms_of(data)
    note = changes.pop("note")
    row = await service.amend(agreement_id=agreement_id, agency_org_id=request.user.org_id,
                              user_id=request.user.user_id, changes=changes, note=note)
    return agreement_json(await _detail(request, row["id"]), detail=True)


api_router = Router(path="/api/v1/agreements", route_handlers=[
    api_create, api_list, api_get, api_pdf, api_sign, api_suspend, api_resume, api_terminate, api_amend,
], tags=["authorization agreements"])


# ---- pages ---------------------------------------------------------------------------------------

def _fen_of(text: str, field: str) -> int:
    try:
        return Money.of_yuan(str(text or "").strip()).amount
    except MoneyError:
        raise DomainError("agreement.amount_invalid", "请按元填写金额，最多两位小数：{field}", field=field) from None


def _asset_ids(text: str) -> list[int]:
    out = []
    for part in str(text or "").replace("，", ",").replace(" ", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isascii() or not part.isdigit() or len(part) > 9:
            raise DomainError("agreement.scope_invalid", "授权范围不正确：{field}", field=part[:20])
        out.append(int(part))
    return out


def _items(text: str) -> list[dict]:
    """One item a line: 名称, 上限（元）[, 计费单位]."""
    items = []
    for line in str(text or "").splitlines():
        parts = [p.strip() for p in line.replace("，", ",").split(",")]
        if not parts[0]:
            continue
        if len(parts) < 2:
            raise DomainError("agreement.item_line", "产品和服务清单每行应为“名称, 上限（元）”：{line}", line=line[:60])
        item = {"name": parts[0], "cap_fen": _fen_of(parts[1], parts[0])}
        if len(parts) > 2 and parts[2]:
            item["unit"] = parts[2]
        items.append(item)
    return items


def _form_terms(form) -> dict:
    return {
        "modes": form.getall("modes", []), "purposes": form.getall("purposes", []),
        "product_types": form.getall("product_types", []), "tiers": form.getall("tiers", []),
        "preapproved_product_types": form.getall("preapproved_product_types", []),
        "scope": {"asset_ids": _asset_ids(form.get("asset_ids", "")), "categories": form.getall("categories", [])},
        "scenarios": [s.strip() for s in str(form.get("scenarios", "")).splitlines() if s.strip()],
        "starts_on": str(form.get("starts_on", "")), "ends_on": str(form.get("ends_on", "")),
        "exclusive": form.get("exclusive") == "on", "items": _items(form.get("items", "")),
        "max_revenue_fen": _fen_of(form.get("max_revenue_yuan", ""), "max_revenue"),
        "security_duties": str(form.get("security_duties", "")), "exit_terms": str(form.get("exit_terms", "")),
    }


def _labels() -> dict:
    from listings import pricing

    return {"modes": _terms.MODE_LABELS, "purposes": dict(pricing.PURPOSES), "tiers": _terms.TIER_LABELS,
            "product_types": _terms.PRODUCT_TYPE_LABELS, "units": _terms.UNIT_LABELS,
            "statuses": STATUS_NAMES}


STATUS_NAMES = {
    AgreementStatus.DRAFT.value: N_("待签署"), AgreementStatus.SIGNED.value: N_("已签署待生效"),
    AgreementStatus.ACTIVE.value: N_("生效中"), AgreementStatus.SUSPENDED.value: N_("已暂停"),
    AgreementStatus.SUPERSEDED.value: N_("已被变更取代"), AgreementStatus.EXPIRED.value: N_("已到期"),
    AgreementStatus.TERMINATED.value: N_("已终止"), AgreementStatus.WITHDRAWN.value: N_("已撤回"),
}


@get("/agreements", opt=READERS, include_in_schema=False)
async def list_page(request: Request) -> Response:
    rows = await service.list_agreements(**_who(request))
    return page(request, "operators/agreements.html", agreements=rows, labels=_labels(),
                is_agency=Role.AGENCY in request.user.roles)


@get("/agreements/new", opt=AGENCIES, include_in_schema=False)
async def new_page(request: Request, amend: FromQuery[int | None] = None) -> Response:
    base = None
    if amend is not None:
        base = await service.effective(amend)
        base = await _detail(request, base["id"])
    return page(request, "operators/agreement_form.html", base=base, operators=await service.operator_choices(),
                categories=catalogue.category_choices(), labels=_labels())


@post("/agreements", opt=AGENCIES, include_in_schema=False)
async def create_submit(request: Request) -> Response:
    form = await request.form()
    terms = _form_terms(form)
    amend = str(form.get("amend", "")).strip()
    if amend.isdigit():
        row = await service.amend(agreement_id=int(amend), agency_org_id=request.user.org_id,
                                  user_id=request.user.user_id, changes=terms, note=str(form.get("note", "")))
    else:
        operator = str(form.get("operator_org_id", ""))
        if not operator.isdigit() or len(operator) > 9:
            raise DomainError("agreement.operator_required", "请选择运营机构")
        row = await service.create_agreement(agency_org_id=request.user.org_id, user_id=request.user.user_id,
                                             operator_org_id=int(operator), data=terms)
    return Redirect(f"/agreements/{row['id']}")


@get("/agreements/{agreement_id:int}", opt=READERS, include_in_schema=False)
async def detail_page(request: Request, agreement_id: FromPath[int]) -> Response:
    a = await _detail(request, agreement_id)
    r = request.user.roles
    is_agency = Role.AGENCY in r and a["agency_org"] == request.user.org_id
    is_operator = Role.OPERATOR in r and a["operator_org"] == request.user.org_id
    signed = {s["party_role"] for s in a["signatures"]}
    can_sign = a["status"] == "draft" and a["document_row"] and a["document_row"]["status"] == "rendered" and (
        (is_agency and "agency" not in signed) or (is_operator and "operator" not in signed))
    revenue = None
    if a["status"] in ("active", "suspended", "expired", "terminated"):
        revenue = await service.revenue_this_year(agreement_id=a["id"])
    return page(request, "operators/agreement.html", a=a, labels=_labels(), can_sign=can_sign,
                can_govern=(is_agency or Role.ADMIN in r), is_agency=is_agency, revenue=revenue)


@post("/agreements/{agreement_id:int}/sign", opt=SIGNERS, include_in_schema=False)
async def sign_submit(request: Request, agreement_id: FromPath[int]) -> Response:
    form = await request.form()
    await service.sign(agreement_id=agreement_id, user_id=request.user.user_id, ip=_ip(request),
                       expected_sha256=str(form.get("sha256", "")) or None, **_who(request))
    return Redirect(f"/agreements/{agreement_id}")


@post("/agreements/{agreement_id:int}/status", opt=GOVERNORS, include_in_schema=False)
async def status_submit(request: Request, agreement_id: FromPath[int]) -> Response:
    form = await request.form()
    action = str(form.get("action", ""))
    act = {"suspend": service.suspend, "resume": service.resume, "terminate": service.terminate,
           "withdraw": service.withdraw}.get(action)
    if act is None:
        raise DomainError("agreement.action_invalid", "不支持的操作")
    row = await act(agreement_id=agreement_id, reason=str(form.get("reason", "")), **_who(request))
    return Redirect(f"/agreements/{row['id']}")


page_routes = [list_page, new_page, create_submit, detail_page, sign_submit, status_submit]
router = Router(path="/", route_handlers=[api_router, *page_routes, pipelines_router, coapproval_router])
