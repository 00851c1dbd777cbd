"""The yearly reports of authorized operation (27号): the operator's annual operating report
(年度经营情况报告) and the disclosures due each year by 31 March — the agency's (its agreements and
price caps) and the operator's (its products, services and actual fees). Each is a public page and a PDF:
a market document rendered by the documents job from templates/pdf/<kind>/v1.html with every figure
written out in its frozen context, so an issued report reads the same forever. Asking again when the
figures did not change returns the document already issued."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from billing._accounts import FUND
from billing.orders.tables import Order, OrderStatus
from billing.oversight import _alerts
from billing.tables import Posting
from listings import pricing
from listings import service as listings_service
from listings.tables import Listing, PriceCap
from market import db, documents, identity
from market.errors import DomainError, Forbidden, NotFound
from market.i18n import N_
from market.money import Money
from market.tables import Document, DocumentKind, DocumentStatus
from operators import service as operators_service

CHINA = timezone(timedelta(hours=8))
SOLD = (OrderStatus.PAID.value, OrderStatus.DELIVERED.value, OrderStatus.COMPLETED.value,
        OrderStatus.DISPUTED.value)
KINDS = {DocumentKind.ANNUAL_REPORT.value: N_("年度经营情况报告"), DocumentKind.AGENCY_DISCLOSURE.value: N_("授权运营信息公开"),
         DocumentKind.OPERATOR_DISCLOSURE.value: N_("运营产品与收费信息公开")}
OVERSEER = frozenset({"regulator"})


def _yuan(fen: int | None) -> str:
    return "—" if fen is None else Money(int(fen)).format()


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    if not 2000 <= year <= 2999:
        raise DomainError("report.year_invalid", "年份应在 2000 到 2999 之间")
    return datetime(year, 1, 1, tzinfo=CHINA), datetime(year + 1, 1, 1, tzinfo=CHINA)


async def _org(org_id: int) -> dict:
    org = await identity.get_organization(org_id)
    if org is None:
        raise NotFound("organization.not_found", "机构不存在")
    return org


async def _effective_agreements(**party) -> list[dict]:
    """The effective version of each agreement the organization is party to (agency_org= or operator_org=)."""
    (column, org_id), = party.items()
    out, seen = [], set()
    for r in await operators_service.list_agreements(org_id=None, roles=OVERSEER):
        if r[column] != org_id or r["number"] in seen or r["status"] in ("draft", "withdrawn"):
            continue
        seen.add(r["number"])
        eff = await operators_service.effective(r["id"])
        out.append(await operators_service.get_agreement(agreement_id=eff["id"], org_id=None, roles=OVERSEER))
    return sorted(out, key=lambda a: a["number"])


def _agreement_line(a: dict) -> dict:
    return {"id": a["id"], "number": a["number"], "version": a["version"], "status": a["status"],
            "agency_name": a["agency_name"], "operator_name": a["operator_name"],
            "term": f"{a['starts_on']} 至 {a['ends_on']}", "assets": len(a["asset_ids"]),
            "categories": "、".join(a["scope"].get("categories") or []) or "—",
            "purposes": "、".join(pricing.PURPOSES.get(p, p) for p in a["purposes"]),
            "items": [{"name": i["name"], "cap": _yuan(i["cap_fen"]), "cap_fen": i["cap_fen"],
                       "unit": i.get("unit", "")} for i in a["items"]],
            "max_revenue": _yuan(a["max_revenue_fen"]), "exclusive": "是" if a["exclusive"] else "否"}


async def _sales(holder_org: int, year: int) -> list[dict]:
    start, end = _year_bounds(year)
    return await (Order.select(Order.id, Order.listing, Order.listing_title, Order.unit_price_fen, Order.quantity,
                               Order.amount_fen, Order.tax_fen, Order.total_fen, Order.status, Order.purpose)
                  .where(Order.holder_org == holder_org, Order.status.is_in(list(SOLD)),
                         Order.created_at >= start, Order.created_at < end).order_by(Order.id))


async def _fund_from(order_ids: list[int]) -> int:
    """What the governance fund received from these sales, read from the ledger (refund reversals net)."""
    total = 0
    refs = [f"order:{i}" for i in order_ids]
    for i in range(0, len(refs), 500):
        rows = await Posting.select(Posting.amount_fen).where(Posting.account.code == FUND,
                                                               Posting.txn.reference.is_in(refs[i:i + 500]))
        total += -sum(r["amount_fen"] for r in rows)  # the fund is a liability: money in is a credit
    return total


async def _products(holder_org: int) -> list[dict]:
    rows = await (Listing.select(Listing.id, Listing.title, Listing.tier, Listing.delivery_mode, Listing.status,
                                 Listing.registration_code, Listing.min_price_fen)
                  .where(Listing.holder == holder_org).order_by(Listing.id))
    out = []
    for r in rows:
        plans = await listings_service.plans_of(r["id"])
        out.append({**r, "registration_code": r["registration_code"] or "—",
                    "plans": [{"name": p["name"], "price": _yuan(pricing.comparable_price(pricing.spec_from_row(p))),
                               "unit": p["billing_unit"]} for p in plans]})
    return out


def _fees(sales: list[dict]) -> list[dict]:
    by_listing: dict[int, list[dict]] = {}
    for o in sales:
        by_listing.setdefault(o["listing"], []).append(o)
    out = []
    for rows in by_listing.values():
        prices = [o["unit_price_fen"] for o in rows]
        out.append({"title": rows[0]["listing_title"], "orders": len(rows), "min": _yuan(min(prices)),
                    "max": _yuan(max(prices)), "average": _yuan(sum(prices) // len(prices)),
                    "amount": _yuan(sum(o["amount_fen"] for o in rows))})
    return sorted(out, key=lambda f: f["title"])


async def annual_report(*, operator_org_id: int, year: int) -> dict:
    """The operator's 年度经营情况报告 for a year: agreements, products, sales, revenue against the permitted
    maximum, fund contributions and incidents (the desk's alerts about it)."""
    start, end = _year_bounds(year)
    org = await _org(operator_org_id)
    granted = await _effective_agreements(operator_org=operator_org_id)
    sales = await _sales(operator_org_id, year)
    revenue = []
    for a in granted:
        figures = await operators_service.revenue_this_year(agreement_id=a["id"], year=year)
        revenue.append({"number": a["number"], "revenue": _yuan(figures["revenue_fen"]), "max": _yuan(figures["max_fen"]),
                        "carried": _yuan(figures["carried_over_fen"]), "over": _yuan(figures["over_fen"]),
                        "over_fen": figures["over_fen"], "revenue_fen": figures["revenue_fen"],
                        "max_fen": figures["max_fen"]})
    incidents = await _alerts.alerts(org_id=operator_org_id, since=start, until=end)
    amount = sum(o["amount_fen"] for o in sales)
    fund_fen = await _fund_from([o["id"] for o in sales])
    return {
        "title": KINDS[DocumentKind.ANNUAL_REPORT.value], "year": year,
        "operator": {"id": org["id"], "name": org["name"], "credit_code": org["credit_code"]},
        "agreements": [_agreement_line(a) for a in granted],
        "products": await _products(operator_org_id),
        "sales": {"orders": len(sales), "amount": _yuan(amount), "amount_fen": amount,
                  "tax": _yuan(sum(o["tax_fen"] for o in sales)), "total": _yuan(sum(o["total_fen"] for o in sales))},
        "fees": _fees(sales), "revenue": revenue, "fund": _yuan(fund_fen), "fund_fen": fund_fen,
        "incidents": [{"date": i["created_at"].astimezone(CHINA).strftime("%Y-%m-%d"),
                       "kind": _alerts.KINDS[i["kind"]], "summary": i["summary"]} for i in incidents],
    }


async def agency_disclosure(*, agency_org_id: int, year: int) -> dict:
    """What the agency publishes by 31 March: its agreements (scope, purposes, term, items and caps) and
    the caps it set on public-data listings."""
    _year_bounds(year)
    org = await _org(agency_org_id)
    caps = await (PriceCap.select(PriceCap.listing, PriceCap.listing.title.as_alias("title"), PriceCap.cap_fen,
                                  PriceCap.billing_unit, PriceCap.basis, PriceCap.created_at)
                  .where(PriceCap.agency == agency_org_id).order_by(PriceCap.id, ascending=False))
    latest: dict[int, dict] = {}
    for c in caps:
        latest.setdefault(c["listing"], c)  # the cap in force is the latest one set
    return {"title": KINDS[DocumentKind.AGENCY_DISCLOSURE.value], "year": year,
            "agency": {"id": org["id"], "name": org["name"], "credit_code": org["credit_code"]},
            "agreements": [_agreement_line(a) for a in await _effective_agreements(agency_org=agency_org_id)],
            "caps": [{"title": c["title"], "cap": _yuan(c["cap_fen"]), "unit": c["billing_unit"],
                      "basis": c["basis"] or "—", "set_on": c["created_at"].astimezone(CHINA).strftime("%Y-%m-%d")}
                     for c in sorted(latest.values(), key=lambda c: c["title"])]}


async def operator_disclosure(*, operator_org_id: int, year: int) -> dict:
    """What the operator publishes by 31 March: its products, the services its agreements list (with
    their caps) and the fees it actually charged in the year."""
    org = await _org(operator_org_id)
    granted = await _effective_agreements(operator_org=operator_org_id)
    return {"title": KINDS[DocumentKind.OPERATOR_DISCLOSURE.value], "year": year,
            "operator": {"id": org["id"], "name": org["name"], "credit_code": org["credit_code"]},
            "products": await _products(operator_org_id),
            "services": [{"number": a["number"], **i} for a in granted for i in _agreement_line(a)["items"]],
            "fees": _fees(await _sales(operator_org_id, year))}


BUILDERS = {DocumentKind.ANNUAL_REPORT.value: ("operator_org_id", annual_report),
            DocumentKind.AGENCY_DISCLOSURE.value: ("agency_org_id", agency_disclosure),
            DocumentKind.OPERATOR_DISCLOSURE.value: ("operator_org_id", operator_disclosure)}


def check_kind(kind: str) -> str:
    if kind not in BUILDERS:
        raise DomainError("report.kind_invalid", "报告类型无效")
    return kind


async def report(*, kind: str, org_id: int, year: int) -> dict:
    arg, build = BUILDERS[check_kind(kind)]
    return await build(**{arg: org_id, "year": year})


def _subject(org_id: int, year: int) -> str:
    return f"{org_id}:{year}"


def may_issue(*, kind: str, org_id: int, caller_org: int | None, roles: frozenset[str]) -> None:
    """Regulators and admins issue any report; an operator its own, an agency its own disclosure."""
    if roles & {"regulator", "admin"}:
        return
    own = caller_org == org_id and (
        (kind == DocumentKind.AGENCY_DISCLOSURE.value and "agency" in roles)
        or (kind != DocumentKind.AGENCY_DISCLOSURE.value and "operator" in roles))
    if not own:
        raise Forbidden("report.not_allowed", "只能生成本机构的报告")


async def request_pdf(*, kind: str, org_id: int, year: int) -> dict:
    """Issue the report as a PDF (rendered by the documents job after commit); the same figures asked
    for again return the document already issued."""
    context = await report(kind=kind, org_id=org_id, year=year)
    frozen = json.dumps(context, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    context = json.loads(frozen)
    party = context.get("operator") or context.get("agency")
    async with db.atomic():
        latest = await (Document.select(Document.id, Document.context)
                        .where(Document.kind == kind, Document.subject_type == kind,
                               Document.subject_id == _subject(org_id, year))
                        .order_by(Document.id, ascending=False).first())
        if latest is not None and latest["context"] == frozen:
            return await documents.get_document(latest["id"])
        return await documents.create_document(
            kind=kind, context=context, title=f"{party['name']} {year} 年{KINDS[kind]}", subject_type=kind,
            subject_id=_subject(org_id, year),
            parties=[{"role": "agency" if kind == DocumentKind.AGENCY_DISCLOSURE.value else "operator",
                      "org_id": org_id, "name": party["name"], "credit_code": party["credit_code"]}])


async def report_documents(*, kind: str | None = None, org_id: int | None = None, limit: int = 100) -> list[dict]:
    """Report PDFs issued, newest first."""
    where = [Document.kind.is_in(list(BUILDERS)) if kind is None else Document.kind == check_kind(kind)]
    if org_id is not None:
        where.append(Document.subject_id.like(f"{org_id}:%"))
    rows = await (Document.select(Document.id, Document.kind, Document.title, Document.subject_id, Document.status,
                                  Document.sha256, Document.created_at, Document.rendered_at)
                  .where(*where).order_by(Document.id, ascending=False).limit(limit))
    return [{**r, "org_id": int(r["subject_id"].split(":")[0]), "year": int(r["subject_id"].split(":")[1])}
            for r in rows]


async def report_pdf(*, kind: str, org_id: int, year: int) -> tuple[str, bytes]:
    """(file name, bytes) of the latest report PDF issued; 404 before one was issued, 409 while rendering."""
    rows = await (Document.select(Document.id, Document.title)
                  .where(Document.kind == check_kind(kind), Document.subject_type == kind,
                         Document.subject_id == _subject(org_id, year))
                  .order_by(Document.id, ascending=False).first())
    if rows is None:
        raise NotFound("report.no_pdf", "该报告的 PDF 尚未生成")
    return f"{rows['title']}.pdf", await documents.pdf_bytes(rows["id"])


async def rendered(document_id: int) -> bool:
    return (await documents.get_document(document_id))["status"] == DocumentStatus.RENDERED.value
