"""The ORDER SNAPSHOT an invoice is issued from, and its validation.

The order service copies everything an invoice prints into the order when the order is created, and
hands it over frozen: `issue_invoice(order_snapshot=…)`. Shape (amounts are integer 分, rates basis
points; keys not listed are kept in the stored snapshot but not printed):

    {
      "order_ref": "DD-2026-000042",          # required, ≤ 64 characters; one normal invoice per order
      "order_id": 42,                          # optional int
      "seller": {                              # optional: defaults to platform_seller() (Settings);
        "name": "杭州数据交易所有限公司",          # the platform is the seller of record (统一开票)
        "credit_code": "91330100342910872R",   # 统一社会信用代码 (GB 32100, checked)
        "address": "…", "phone": "…", "bank_name": "…", "bank_account": "…"},
      "buyer": {                               # required
        "org_id": 7,                           # the buyer organization: who may read the invoice
        "name": "浙江安诚财产保险股份有限公司", "credit_code": "…",   # checked
        "address": "…", "phone": "…", "bank_name": "…", "bank_account": "…"},   # optional
      "lines": [{                              # 1..100 lines
        "item": "*信息技术服务*数据产品",          # 项目名称: *税收分类简称*名称, as 数电发票 require
        "spec": "",                            # 规格型号, optional
        "unit": "份",                           # 单位
        "quantity": 1,                         # int ≥ 1
        "unit_price_fen": 1234567,             # 单价 (net), int ≥ 0
        "amount_fen": 1234567,                 # 金额 = unit_price_fen × quantity, exactly
        "tax_rate_bps": 600,                   # 税率: one of VAT_RATES_BPS
        "tax_fen": 74074}],                    # optional; if given must be amount × rate, half up
      "amount_fen": …, "tax_fen": …, "total_fen": …,   # optional; if given must equal the lines' sums
      "registration_code": "ZJ-HZ-2026-000123",        # 登记编码 of the product (remarks)
      "listing_title": "杭州市区县常住人口",             # remarks
      "payment": {"reference": "SJ7K3M9QXA4",          # payment reference (remarks), optional
                  "account_name": "…", "account_number": "…", "bank": "…"}   # collection account
    }

`normalise` returns the same shape with every optional field filled in (tax computed where absent),
or raises DomainError("invoice.bad_snapshot" | "invoice.lines_mismatch" | …) naming what is wrong,
before anything is written.
"""

from __future__ import annotations

import re

from stdnum.cn import uscc

from market import runtime
from market.errors import DomainError
from market.i18n import N_
from market.money import Money

# VAT rates an 数电发票 line may carry (0 免税/零税率, 1%/3% 征收率 of small-scale taxpayers, 5%, 6% for
# information-technology and data services, 9%, 13%)
VAT_RATES_BPS = frozenset({0, 100, 300, 500, 600, 900, 1300})
DEFAULT_VAT_BPS = 600
DEFAULT_ITEM = "*信息技术服务*数据产品"
MAX_LINES = 100
_TOTAL_MISMATCH = {
    "amount_fen": N_("合计金额（{given} 分）与各行之和（{expected}）不符"),
    "tax_fen": N_("合计税额（{given} 分）与各行之和（{expected}）不符"),
    "total_fen": N_("价税合计（{given} 分）与各行之和（{expected}）不符"),
}
_ITEM_RE = re.compile(r"\*[^*\s]{1,30}\*\S.{0,90}")


def vat_bps(settings=None) -> int:
    """The VAT rate of data services. `vat_bps` may be added to Settings by the order service; until
    then (and when it is absent) the rate is 6% (DOMAIN.md: data services are usually taxed at 6%)."""
    s = settings or runtime.settings()
    return int(getattr(s, "vat_bps", DEFAULT_VAT_BPS))


def platform_seller(settings=None) -> dict:
    """The platform as seller of record, from Settings: what the order service copies into its snapshot."""
    s = settings or runtime.settings()
    return {"name": s.invoice_seller_name, "credit_code": s.invoice_seller_credit_code,
            "address": s.invoice_seller_address, "phone": s.invoice_seller_phone,
            "bank_name": s.collection_bank, "bank_account": s.collection_account_number}


def _bad(detail: str, **params) -> DomainError:
    return DomainError("invoice.bad_snapshot", "订单信息不完整或有误，无法开具发票：{detail}",
                       detail=detail.format(**params) if params else detail)


def _text(value, what: str, *, max_len: int, required: bool = True) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _bad("{what} 应为文本", what=what)
    value = value.strip()
    if required and not value:
        raise _bad("缺少{what}", what=what)
    if len(value) > max_len:
        raise _bad("{what}超过 {n} 个字符", what=what, n=max_len)
    return value


def _int(value, what: str, *, low: int, high: int = 10**15) -> int:
    # bool is an int subclass; True as a quantity is always a bug
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad("{what} 应为整数", what=what)
    if not low <= value <= high:
        raise _bad("{what} 超出允许范围", what=what)
    return value


def _party(value, what: str, *, with_org: bool) -> dict:
    if not isinstance(value, dict):
        raise _bad("缺少{what}信息", what=what)
    out = {"name": _text(value.get("name"), f"{what}名称", max_len=200),
           "credit_code": _text(value.get("credit_code"), f"{what}统一社会信用代码", max_len=18).upper()}
    if not uscc.is_valid(out["credit_code"]):
        raise _bad("{what}统一社会信用代码无效：{code}", what=what, code=out["credit_code"])
    for key, label, n in (("address", "地址", 200), ("phone", "电话", 40), ("bank_name", "开户银行", 100),
                          ("bank_account", "银行账号", 64)):
        out[key] = _text(value.get(key), f"{what}{label}", max_len=n, required=False)
    if with_org:
        out["org_id"] = _int(value.get("org_id"), f"{what}机构编号", low=1, high=2**31 - 1)
    return out


def _line(value, n: int) -> dict:
    what = f"第 {n} 行"
    if not isinstance(value, dict):
        raise _bad("{what}格式有误", what=what)
    item = _text(value.get("item"), f"{what}项目名称", max_len=100)
    if not _ITEM_RE.fullmatch(item):
        raise _bad("{what}项目名称应为“*税收分类简称*名称”，如 {example}", what=what, example=DEFAULT_ITEM)
    quantity = _int(value.get("quantity"), f"{what}数量", low=1, high=10**9)
    unit_price = _int(value.get("unit_price_fen"), f"{what}单价", low=0, high=10**13)
    amount = _int(value.get("amount_fen"), f"{what}金额", low=0, high=10**13)
    rate = value.get("tax_rate_bps")
    if isinstance(rate, bool) or not isinstance(rate, int) or rate not in VAT_RATES_BPS:
        raise _bad("{what}税率无效（可用：{rates}）", what=what,
                   rates="、".join(rate_text(r) for r in sorted(VAT_RATES_BPS)))
    if unit_price * quantity != amount:
        raise DomainError("invoice.lines_mismatch", "第 {line} 行金额（{amount}）不等于单价 × 数量（{expected}）",
                          line=n, amount=Money(amount).format(), expected=Money(unit_price * quantity).format())
    tax = line_tax(amount, rate)
    if "tax_fen" in value and value["tax_fen"] != tax:
        raise DomainError("invoice.lines_mismatch", "第 {line} 行税额（{given} 分）应为金额 × 税率（{expected}）",
                          line=n, given=str(value["tax_fen"]), expected=Money(tax).format())
    return {"item": item, "spec": _text(value.get("spec"), f"{what}规格型号", max_len=40, required=False),
            "unit": _text(value.get("unit"), f"{what}单位", max_len=20, required=False),
            "quantity": quantity, "unit_price_fen": unit_price, "amount_fen": amount,
            "tax_rate_bps": rate, "tax_fen": tax}


def line_tax(amount_fen: int, rate_bps: int) -> int:
    """税额 of one line: amount × rate, rounded once, half up (market.money)."""
    return Money(amount_fen).apply_bps(rate_bps).amount


def rate_text(bps: int) -> str:
    """600 → "6%", 150 → "1.5%"."""
    whole, frac = divmod(abs(bps), 100)
    return f"{whole}%" if not frac else f"{whole}.{frac:02d}".rstrip("0") + "%"


def normalise(snapshot) -> dict:
    """The snapshot checked and completed; DomainError naming the first thing wrong."""
    if not isinstance(snapshot, dict):
        raise _bad("订单快照应为对象")
    out = dict(snapshot)  # keys the invoice does not print are kept in the stored snapshot
    out["order_ref"] = _text(snapshot.get("order_ref"), "订单编号", max_len=64)
    if snapshot.get("order_id") is not None:
        out["order_id"] = _int(snapshot.get("order_id"), "订单 id", low=1, high=2**31 - 1)
    else:
        out["order_id"] = None
    out["seller"] = _party(snapshot.get("seller") or platform_seller(), "销售方", with_org=False)
    out["buyer"] = _party(snapshot.get("buyer"), "购买方", with_org=True)
    if out["buyer"]["credit_code"] == out["seller"]["credit_code"]:
        raise _bad("购买方与销售方不能是同一机构")
    lines = snapshot.get("lines")
    if not isinstance(lines, list) or not lines:
        raise _bad("缺少发票明细行")
    if len(lines) > MAX_LINES:
        raise _bad("发票明细行超过 {n} 行", n=MAX_LINES)
    out["lines"] = [_line(line, i) for i, line in enumerate(lines, start=1)]
    sums = {k: sum(line[k] for line in out["lines"]) for k in ("amount_fen", "tax_fen")}
    sums["total_fen"] = sums["amount_fen"] + sums["tax_fen"]
    for key, expected in sums.items():
        if key in snapshot and snapshot[key] != expected:
            raise DomainError("invoice.lines_mismatch", _TOTAL_MISMATCH[key], given=str(snapshot[key]),
                              expected=Money(expected).format())
    if sums["total_fen"] <= 0:
        raise DomainError("invoice.zero_total", "价税合计为零的订单无需开具发票")
    out.update(sums)
    out["registration_code"] = _text(snapshot.get("registration_code"), "登记编码", max_len=64, required=False)
    out["listing_title"] = _text(snapshot.get("listing_title"), "产品名称", max_len=200, required=False)
    payment = snapshot.get("payment") or {}
    if not isinstance(payment, dict):
        raise _bad("付款信息格式有误")
    out["payment"] = {key: _text(payment.get(key), label, max_len=100, required=False)
                      for key, label in (("reference", "付款参考号"), ("account_name", "收款户名"),
                                         ("account_number", "收款账号"), ("bank", "收款银行"))}
    return out
