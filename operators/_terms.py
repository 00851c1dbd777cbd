"""The terms of an authorization agreement: checked, normalised, and given the wording its PDF prints.

The printed form (labels, amounts in figures and 大写, dates) is frozen with the terms when a version
is drafted, so a later change of a label never changes what a signed agreement says. The wording is
Chinese only: the agreement is a legal document issued in Chinese.
"""

from __future__ import annotations

from datetime import date

from listings import pricing
from market.errors import DomainError
from market.i18n import N_
from market.money import Money
from operators.tables import AgreementMode

MODE_LABELS = {AgreementMode.WHOLE.value: N_("整体授权"), AgreementMode.DOMAIN.value: N_("分领域授权"),
               AgreementMode.SCENARIO.value: N_("依场景授权")}
PURPOSE_LABELS = dict(pricing.PURPOSES)  # the Chinese msgids are the printed names
TIER_LABELS = {"raw": N_("原始数据"), "cleaned": N_("治理后数据"), "product": N_("数据产品/服务")}
PRODUCT_TYPE_LABELS = {"file": N_("数据文件"), "api": N_("数据接口（API）"), "sandbox": N_("隐私计算沙箱"),
                       "verification": N_("核验服务")}
MAX_FEN = 10**14
MAX_ITEMS = 200
TEXT_LIMIT = 4000
NAME_LIMIT = 100


def _bad(field: str) -> DomainError:
    return DomainError("agreement.bad_terms", "协议条款不完整或不正确：{field}", field=field)


def _choice_list(values, allowed, field: str, *, required: bool) -> list[str]:
    if values is None:
        values = []
    if not isinstance(values, list) or any(not isinstance(v, str) or v not in allowed for v in values):
        raise _bad(field)
    out = sorted(set(values))
    if required and not out:
        raise _bad(field)
    return out


def _text(value, field: str, *, limit: int = TEXT_LIMIT) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value.strip()) > limit:
        raise _bad(field)
    return value.strip()


def _fen(value, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_FEN:
        raise _bad(field)
    return value


def _day(value, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "")[:10])
    except ValueError:
        raise _bad(field) from None


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def normalise(data: dict, *, max_term_years: int) -> dict:
    """Everything but the scope, checked: modes, purposes, scenarios, product types and tiers, term,
    exclusivity, items with their caps, the permitted maximum revenue, duties and exit terms."""
    modes = _choice_list(data.get("modes"), MODE_LABELS, "modes", required=True)
    purposes = _choice_list(data.get("purposes"), PURPOSE_LABELS, "purposes", required=True)
    product_types = _choice_list(data.get("product_types"), PRODUCT_TYPE_LABELS, "product_types", required=False)
    tiers = _choice_list(data.get("tiers"), TIER_LABELS, "tiers", required=False)
    preapproved = _choice_list(data.get("preapproved_product_types"), PRODUCT_TYPE_LABELS,
                               "preapproved_product_types", required=False)
    if product_types and not set(preapproved) <= set(product_types):
        raise _bad("preapproved_product_types")  # only a type the operator may offer at all
    scenarios = data.get("scenarios") or []
    if not isinstance(scenarios, list) or len(scenarios) > 50:
        raise _bad("scenarios")
    scenarios = list(dict.fromkeys(_text(s, "scenarios", limit=200) for s in scenarios if str(s or "").strip()))
    if AgreementMode.SCENARIO.value in modes and not scenarios:
        raise DomainError("agreement.scenarios_required", "依场景授权须列明应用场景")
    starts_on, ends_on = _day(data.get("starts_on"), "starts_on"), _day(data.get("ends_on"), "ends_on")
    if ends_on <= starts_on:
        raise DomainError("agreement.term_invalid", "协议终止日期须晚于起始日期")
    if ends_on > add_years(starts_on, max_term_years):
        raise DomainError("agreement.term_too_long", "授权运营期限不得超过 {years} 年（起始 {starts_on}，最迟至 {latest}）",
                          years=max_term_years, starts_on=starts_on.isoformat(),
                          latest=add_years(starts_on, max_term_years).isoformat())
    exclusive = data.get("exclusive", False)
    if not isinstance(exclusive, bool):
        raise _bad("exclusive")
    raw_items = data.get("items") or []
    if not isinstance(raw_items, list) or not raw_items or len(raw_items) > MAX_ITEMS:
        raise DomainError("agreement.items_required", "请列明产品和服务清单及每项的上限收费标准")
    items, names = [], set()
    for item in raw_items:
        if not isinstance(item, dict):
            raise _bad("items")
        name = _text(item.get("name"), "items.name", limit=NAME_LIMIT)
        if not name:
            raise _bad("items.name")
        if name in names:
            raise DomainError("agreement.item_duplicate", "产品和服务清单中有重复的项目：{name}", name=name)
        names.add(name)
        unit = item.get("unit") or "per_product"
        if unit not in pricing.BILLING_UNITS:
            raise _bad("items.unit")
        items.append({"name": name, "cap_fen": _fen(item.get("cap_fen"), "items.cap_fen"), "unit": unit})
    return {
        "modes": modes, "purposes": purposes, "scenarios": scenarios, "product_types": product_types,
        "preapproved_product_types": preapproved, "tiers": tiers, "starts_on": starts_on, "ends_on": ends_on,
        "exclusive": exclusive, "items": items,
        "max_revenue_fen": _fen(data.get("max_revenue_fen"), "max_revenue_fen"),
        "security_duties": _text(data.get("security_duties"), "security_duties"),
        "exit_terms": _text(data.get("exit_terms"), "exit_terms"),
    }


UNIT_LABELS = {"per_product": N_("按产品（件）"), "per_call": N_("按次调用"), "per_period": N_("按时段"), "per_volume": N_("按数据量")}
DEFAULT_SECURITY = ("运营机构应落实数据分类分级保护（GB/T 43697—2024），原始数据不出域、数据可用不可见；"
                    "建立访问控制、操作日志与安全审计，发生安全事件时 24 小时内报告实施机构和监管方。")
DEFAULT_EXIT = ("协议终止或期满时，运营机构应停止使用授权数据，删除其持有的授权数据及副本并出具删除证明；"
                "已交付的数据产品按约定继续服务至合同期满，不得再开发新产品。")


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def document_context(*, number: str, version: int, issued_on: date, agency: dict, operator: dict, terms: dict,
                     scope: dict, assets: list[dict], previous_number: str = "", note: str = "") -> dict:
    """What the PDF prints, frozen: plain JSON values only."""
    return {
        "number": number, "version": version, "issued_on_text": chinese_date(issued_on),
        "agency": {"name": agency["name"], "credit_code": agency["credit_code"]},
        "operator": {"name": operator["name"], "credit_code": operator["credit_code"]},
        "modes": [MODE_LABELS[m] for m in terms["modes"]],
        "categories": scope["categories"],
        "assets": [{"id": a["id"], "title": a["title"], "holder_name": a["holder_name"],
                    "columns": scope["columns"].get(str(a["id"]), [])} for a in assets],
        "purposes": [PURPOSE_LABELS[p] for p in terms["purposes"]],
        "scenarios": terms["scenarios"],
        "product_types": [PRODUCT_TYPE_LABELS[p] for p in terms["product_types"]] or ["不限"],
        "tiers": [TIER_LABELS[t] for t in terms["tiers"]] or ["不限"],
        "items": [{"name": i["name"], "unit": UNIT_LABELS[i["unit"]], "cap_text": Money(i["cap_fen"]).format(),
                   "cap_upper": Money(i["cap_fen"]).to_chinese_upper()} for i in terms["items"]],
        "max_revenue_text": Money(terms["max_revenue_fen"]).format(),
        "max_revenue_upper": Money(terms["max_revenue_fen"]).to_chinese_upper(),
        "term_text": f"自{chinese_date(terms['starts_on'])}起至{chinese_date(terms['ends_on'])}止",
        "exclusive": terms["exclusive"],
        "security_duties": terms["security_duties"] or DEFAULT_SECURITY,
        "exit_terms": terms["exit_terms"] or DEFAULT_EXIT,
        "amends": previous_number, "note": note,
    }
