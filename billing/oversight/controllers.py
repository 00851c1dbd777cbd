"""Routes of the regulator's desk (监管工作台) and of the public yearly reports. The desk is read only
(regulators and platform admins); its only writes are the ones that record what was seen: running the
alert scan, and issuing a report PDF. Thin: the rules are in billing.oversight.service."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter, QueryParameter
from litestar.response import Redirect

from billing.oversight import service
from listings import pricing
from market import audit, documents
from market.api_contract import Id
from market.errors import DomainError
from market.storage import content_disposition
from market.tables import DocumentKind, Role
from market.web import PUBLIC, page, roles
from operators import service as operators_service

DESK = roles(Role.REGULATOR, Role.ADMIN)
ISSUERS = roles(Role.REGULATOR, Role.ADMIN, Role.OPERATOR, Role.AGENCY)
Year = Annotated[int, QueryParameter(ge=2000, le=2999)]
KindPath = Annotated[str, PathParameter(pattern="^(annual_report|agency_disclosure|operator_disclosure)$")]


class AlertOut(msgspec.Struct):
    id: int
    kind: str
    object: str
    org_id: int | None
    summary: str
    detail: dict
    source: str
    created_at: str


class ReportIn(msgspec.Struct):
    kind: str  # annual_report, agency_disclosure or operator_disclosure
    org_id: Id
    year: Annotated[int, msgspec.Meta(ge=2000, le=2999)]


class ChainOut(msgspec.Struct):
    ok: bool
    events: int
    first_bad_seq: int | None
    reason: str


def _alert_out(a: dict) -> AlertOut:
    return AlertOut(id=a["id"], kind=a["kind"], object=a["object"], org_id=a["org"], summary=a["summary"],
                    detail=a["detail"], source=a["source"], created_at=a["created_at"].isoformat())


def _kind(kind: str | None) -> str | None:
    if kind and kind not in service.KINDS:
        raise DomainError("alert.kind_invalid", "预警类型无效：{kind}", kind=kind[:40])
    return kind or None


# ---- JSON API ----------------------------------------------------------------------------------

@get("/regulator/alerts", opt=DESK, summary="Alerts of the regulator's desk, newest first (each kind, object, created_at)")
async def api_alerts(kind: FromQuery[str | None] = None) -> dict:
    return {"items": [_alert_out(a) for a in await service.alerts(kind=_kind(kind))]}


@post("/regulator/alerts/scan", opt=DESK, status_code=200,
      summary="Run the alert scan now (idempotent): how many new alerts of each kind it stored")
async def api_scan() -> dict:
    return {"found": await service.scan()}


@get("/regulator/caps", opt=DESK, summary="Each capped listing: its cap, highest plan price and highest price sold")
async def api_caps() -> dict:
    rows = await service.caps_and_prices()
    return {"items": [{k: r[k] for k in ("id", "title", "holder_name", "status", "cap_fen", "top_plan_fen",
                                         "top_sold_fen", "orders", "above")} for r in rows]}


@post("/regulator/audit/verify", opt=DESK, status_code=200, summary="Verify the whole audit chain now")
async def api_verify() -> ChainOut:
    r = await audit.verify()
    return ChainOut(ok=r.ok, events=r.events, first_bad_seq=r.first_bad_seq, reason=r.reason)


@post("/regulator/reports", opt=ISSUERS, status_code=201,
      summary="Issue a yearly report as PDF (rendered by a job): regulators and admins any, an operator or "
              "agency its own")
async def api_issue(request: Request, data: JSONBody[ReportIn]) -> dict:
    service.check_kind(data.kind)
    service.may_issue(kind=data.kind, org_id=data.org_id, caller_org=request.user.org_id,
                      roles=frozenset(request.user.roles))
    doc = await service.request_pdf(kind=data.kind, org_id=data.org_id, year=data.year)
    return {"document_id": doc["id"], "status": doc["status"]}


@get("/reports/{kind:str}/{org_id:int}", opt=PUBLIC,
     summary="A yearly report as published: the operator's annual report, or the 31 March disclosures")
async def api_report(kind: KindPath, org_id: FromPath[Id], year: Year) -> dict:
    return json.loads(json.dumps(await service.report(kind=kind, org_id=org_id, year=year), default=str))


@get("/reports/{kind:str}/{org_id:int}/pdf", opt=PUBLIC, media_type=documents.PDF_CONTENT_TYPE,
     summary="The latest PDF issued of a yearly report (404 before one was issued, 409 while rendering)")
async def api_report_pdf(kind: KindPath, org_id: FromPath[Id], year: Year) -> Response:
    filename, data = await service.report_pdf(kind=kind, org_id=org_id, year=year)
    return Response(data, media_type=documents.PDF_CONTENT_TYPE,
                    headers={"Content-Disposition": content_disposition(filename, "attachment")})


api_routes = [api_alerts, api_scan, api_caps, api_verify, api_issue, api_report, api_report_pdf]


# ---- pages -------------------------------------------------------------------------------------

def _numbers(agreements: list[dict]) -> list[dict]:
    """Agreements grouped by number: the newest version first, and how many versions it has."""
    groups: dict[str, list[dict]] = {}
    for a in agreements:
        groups.setdefault(a["number"], []).append(a)
    return [{**versions[0], "versions": len(versions)} for versions in groups.values()]


async def _parties() -> dict:
    rows = await service.agreements()
    agencies = {r["agency_org"]: r["agency_name"] for r in rows}
    operators = {r["operator_org"]: r["operator_name"] for r in rows}
    return {"agencies": sorted(agencies.items(), key=lambda kv: kv[1]),
            "operators": sorted(operators.items(), key=lambda kv: kv[1])}


async def _desk(request: Request, *, kind: str | None = None, chain=None) -> Response:
    return page(request, "billing/oversight/desk.html", alerts=await service.alerts(kind=_kind(kind), limit=200),
                counts=await service.counts_by_kind(), kinds=service.KINDS, kind=kind or "",
                agreements=_numbers(await service.agreements()), chain=chain,
                derived=await operators_service.derived_assets_by_agreement())


@get("/regulator/lineage/{asset_id:int}", opt=DESK, include_in_schema=False)
async def lineage_page(request: Request, asset_id: FromPath[int]) -> Response:
    """A derived product's lineage drawn as a graph: every source, and their sources, with their holders."""
    return page(request, "billing/oversight/lineage.html", g=await operators_service.lineage_graph(asset_id))


@get("/regulator", opt=DESK, include_in_schema=False)
async def desk_page(request: Request, kind: FromQuery[str | None] = None) -> Response:
    return await _desk(request, kind=kind)


@post("/regulator/scan", opt=DESK, include_in_schema=False)
async def scan_submit() -> Response:
    await service.scan()
    return Redirect("/regulator#alerts")


@post("/regulator/audit", opt=DESK, include_in_schema=False)
async def audit_submit(request: Request) -> Response:
    return await _desk(request, chain=await audit.verify())


@get("/regulator/trade", opt=DESK, include_in_schema=False)
async def trade_page(request: Request) -> Response:
    caps = await service.caps_and_prices()
    chart = json.dumps({"labels": [c["title"][:16] for c in caps[:20]], "cap": [c["cap_fen"] or 0 for c in caps[:20]],
                        "plan": [c["top_plan_fen"] for c in caps[:20]],
                        "sold": [c["top_sold_fen"] or 0 for c in caps[:20]]}, ensure_ascii=False)
    return page(request, "billing/oversight/trade.html", caps=caps, chart=chart, orders=await service.orders(),
                deliveries=await service.deliveries(), invoices=await service.invoices(),
                fund=await service.fund_summary(), purposes=pricing.PURPOSES)


@get("/regulator/reports", opt=DESK, include_in_schema=False)
async def reports_page(request: Request) -> Response:
    return page(request, "billing/oversight/reports.html", parties=await _parties(),
                docs=await service.report_documents(), names=service.REPORT_KINDS, year=date.today().year)


def _form_int(value, what: str, low: int, high: int) -> int:
    text = str(value or "").strip()
    if not text.isascii() or not text.isdigit() or not low <= int(text[:10]) <= high:
        raise DomainError("report.field_invalid", "请填写正确的{field}", field=what)
    return int(text)


@post("/regulator/reports", opt=ISSUERS, include_in_schema=False)
async def issue_submit(request: Request) -> Response:
    form = await request.form()
    kind = service.check_kind(str(form.get("kind", "")))
    org_id = _form_int(form.get("org_id"), "机构", 1, 2**31 - 1)
    year = _form_int(form.get("year"), "年份", 2000, 2999)
    service.may_issue(kind=kind, org_id=org_id, caller_org=request.user.org_id, roles=frozenset(request.user.roles))
    await service.request_pdf(kind=kind, org_id=org_id, year=year)
    if set(request.user.roles) & {Role.REGULATOR, Role.ADMIN}:
        # no fragment: the page refreshes itself until the PDF is rendered, and a refresh of a URL with a
        # fragment is only a scroll in Chromium
        return Redirect("/regulator/reports")
    return Redirect(f"/disclosures/{kind}/{org_id}?year={year}")


@get("/disclosures", opt=PUBLIC, include_in_schema=False)
async def disclosures_page(request: Request, year: FromQuery[int | None] = None) -> Response:
    year = year if year and 2000 <= year <= 2999 else date.today().year
    return page(request, "billing/oversight/disclosures.html", parties=await _parties(), year=year,
                names=service.REPORT_KINDS)


@get("/disclosures/{kind:str}/{org_id:int}", opt=PUBLIC, include_in_schema=False)
async def disclosure_page(request: Request, kind: FromPath[str], org_id: FromPath[int],
                          year: FromQuery[int | None] = None) -> Response:
    year = year if year and 2000 <= year <= 2999 else date.today().year
    service.check_kind(kind)
    data = await service.report(kind=kind, org_id=org_id, year=year)
    docs = [d for d in await service.report_documents(kind=kind, org_id=org_id) if d["year"] == year]
    principal = request.scope.get("user")
    may_issue = False
    if principal is not None:
        try:
            service.may_issue(kind=kind, org_id=org_id, caller_org=principal.org_id, roles=frozenset(principal.roles))
            may_issue = True
        except DomainError:
            pass
    return page(request, f"billing/oversight/{kind}.html", r=data, kind=kind, org_id=org_id, year=year,
                doc=docs[0] if docs else None, may_issue=may_issue, kinds=service.KINDS,
                is_annual=kind == DocumentKind.ANNUAL_REPORT.value)


@get("/disclosures/{kind:str}/{org_id:int}/{year:int}/pdf", opt=PUBLIC, include_in_schema=False)
async def disclosure_pdf(kind: FromPath[str], org_id: FromPath[int], year: FromPath[int]) -> Response:
    filename, data = await service.report_pdf(kind=kind, org_id=org_id, year=year)
    return Response(data, media_type=documents.PDF_CONTENT_TYPE,
                    headers={"Content-Disposition": content_disposition(filename, "attachment")})


page_routes = [desk_page, lineage_page, scan_submit, audit_submit, trade_page, reports_page, issue_submit, disclosures_page,
               disclosure_page, disclosure_pdf]
router = Router(path="/", route_handlers=[Router(path="/api/v1", route_handlers=api_routes, tags=["regulator"]),
                                          *page_routes])
