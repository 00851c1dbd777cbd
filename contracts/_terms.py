"""The terms of a purchase contract: checked, normalised and given the wording the PDF prints.

Terms are copied in from the order when the contract is drafted and never edited. Besides the
values, the frozen terms carry their printed form (labels, amounts in figures and 大写, dates), so
a later change of a label or formatter never changes what an old contract says.

The wording is Chinese only: a contract is a legal document issued in Chinese, whatever language
the signer's screen uses (the pages around it are translated; the document is not).
"""

from __future__ import annotations

import re
from datetime import date

from listings import pricing
from market.errors import DomainError
from market.money import Money, MoneyError

TIER_LABELS = {"raw": "原始数据", "cleaned": "治理后数据", "product": "数据产品/服务"}
DELIVERY_LABELS = {
    "file": "文件下载（平台签名链接）",
    "api": "API 接口调用（平台签发密钥与额度）",
    "sandbox": "隐私计算沙箱（数据可用不可见，原始数据不出域）",
    "verification": "核验服务（仅返回核验结果）",
}
REVISION_LABELS = {"all": "可获取该数据产品的全部历史及后续版本",
                   "from_start": "可获取自合同生效时的版本及其后发布的版本"}
PURPOSE_LABELS = dict(pricing.PURPOSES)  # the Chinese msgids are the printed names
MAX_FEN = 10**14
_TEXT_LIMIT = 300


def _bad(field: str) -> DomainError:
    return DomainError("contract.bad_terms", "合同条款不完整或不正确：{field}", field=field)


def _text(value, field: str, *, required: bool = True, limit: int = _TEXT_LIMIT) -> str:
    if value is None:
        value = ""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise _bad(field)
    text = str(value).strip()
    if (required and not text) or len(text) > limit:
        raise _bad(field)
    return text


def _fen(value, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_FEN:
        raise _bad(field)
    return value


def _day(value, field: str) -> date:
    try:
        return date.fromisoformat(_text(value, field, limit=10))
    except ValueError:
        raise _bad(field) from None


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _party(raw, role: str) -> dict:
    if not isinstance(raw, dict):
        raise _bad(role)
    org_id = raw.get("org_id")
    if isinstance(org_id, bool) or not isinstance(org_id, int) or org_id <= 0:
        raise _bad(f"{role}.org_id")
    code = _text(raw.get("credit_code"), f"{role}.credit_code", limit=18)
    if not re.fullmatch(r"[0-9A-HJ-NPQRTUWXY]{18}", code):
        raise _bad(f"{role}.credit_code")
    return {
        "org_id": org_id,
        "name": _text(raw.get("name"), f"{role}.name", limit=200),
        "credit_code": code,
        "address": _text(raw.get("address"), f"{role}.address", required=False),
        "bank_name": _text(raw.get("bank_name"), f"{role}.bank_name", required=False, limit=100),
        "bank_account": _text(raw.get("bank_account"), f"{role}.bank_account", required=False, limit=40),
        "contact": _text(raw.get("contact"), f"{role}.contact", required=False, limit=100),
    }


def _choice(value, labels: dict, field: str) -> tuple[str, str]:
    key = _text(value, field, limit=30)
    if key not in labels:
        raise _bad(field)
    return key, labels[key]


def _term(raw) -> dict:
    if not isinstance(raw, dict):
        raise _bad("term")
    if raw.get("one_time"):
        return {"one_time": True, "start": "", "end": "", "text": "一次性交付，自合同生效之日起按本合同约定使用"}
    start, end = _day(raw.get("start"), "term.start"), _day(raw.get("end"), "term.end")
    if end < start:
        raise _bad("term.end")
    return {"one_time": False, "start": start.isoformat(), "end": end.isoformat(),
            "text": f"自{chinese_date(start)}起至{chinese_date(end)}止"}


def _price(raw) -> dict:
    if not isinstance(raw, dict):
        raise _bad("price")
    amount, tax = _fen(raw.get("amount_fen"), "price.amount_fen"), _fen(raw.get("tax_fen"), "price.tax_fen")
    total = _fen(raw.get("total_fen"), "price.total_fen")
    if amount + tax != total:
        raise DomainError("contract.price_mismatch", "价税合计应等于金额加税额（单位：分）")
    rate = raw.get("tax_rate_bps", 0)
    if isinstance(rate, bool) or not isinstance(rate, int) or not 0 <= rate <= 10_000:
        raise _bad("price.tax_rate_bps")
    try:
        upper = Money(total).to_chinese_upper()
    except MoneyError:
        raise _bad("price.total_fen") from None
    return {"amount_fen": amount, "tax_fen": tax, "total_fen": total, "tax_rate_bps": rate,
            "tax_rate_text": f"{rate / 100:g}%", "amount_text": Money(amount).format(),
            "tax_text": Money(tax).format(), "total_text": Money(total).format(), "total_upper": upper}


def normalise(terms) -> dict:
    """Checked terms with their printed form; a DomainError names the first field that is wrong."""
    if not isinstance(terms, dict):
        raise _bad("terms")
    buyer, holder = _party(terms.get("buyer"), "buyer"), _party(terms.get("holder"), "holder")
    if buyer["org_id"] == holder["org_id"]:
        raise DomainError("contract.same_party", "买方与数据持有方不能是同一机构")
    product = terms.get("product")
    if not isinstance(product, dict):
        raise _bad("product")
    tier, tier_label = _choice(product.get("tier"), TIER_LABELS, "product.tier")
    mode, mode_label = _choice(product.get("delivery_mode"), DELIVERY_LABELS, "product.delivery_mode")
    listing_id = product.get("listing_id", 0)
    if isinstance(listing_id, bool) or not isinstance(listing_id, int) or listing_id < 0:
        raise _bad("product.listing_id")
    purpose, purpose_label = _choice(terms.get("purpose"), PURPOSE_LABELS, "purpose")
    revision, revision_label = _choice(terms.get("revision_access", "all"), REVISION_LABELS, "revision_access")
    quantity = terms.get("quantity", 1)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= 1_000_000:
        raise _bad("quantity")
    platform = terms.get("platform") or {}
    if not isinstance(platform, dict):
        raise _bad("platform")
    return {
        "buyer": buyer, "holder": holder,
        "platform": {"name": _text(platform.get("name"), "platform.name", required=False, limit=200),
                     "credit_code": _text(platform.get("credit_code"), "platform.credit_code", required=False,
                                          limit=18)},
        "product": {
            "listing_id": listing_id,
            "title": _text(product.get("title"), "product.title", limit=200),
            "registration_code": _text(product.get("registration_code"), "product.registration_code", limit=60),
            "version": _text(product.get("version"), "product.version", limit=30),
            "plan_name": _text(product.get("plan_name"), "product.plan_name", required=False, limit=100),
            "tier": tier, "tier_label": tier_label, "delivery_mode": mode, "delivery_label": mode_label,
        },
        "purpose": purpose, "purpose_label": purpose_label,
        "purpose_note": _text(terms.get("purpose_note"), "purpose_note", required=False, limit=500),
        "term": _term(terms.get("term")),
        "quantity": quantity, "unit": _text(terms.get("unit"), "unit", required=False, limit=20) or "份",
        "price": _price(terms.get("price")),
        "revision_access": revision, "revision_label": revision_label,
        "order_ref": _text(terms.get("order_ref"), "order_ref", required=False, limit=60),
    }
