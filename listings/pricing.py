"""Prices of listings: the rules of 发改价格〔2025〕65号 and the plan shapes local practice uses.

- The buyer's declared purpose decides the price: public governance and public welfare pay nothing
  (enforced here, whatever the plan says); industry and sector development pay the plan price.
- For public data the plan price may not exceed the agency's cap (上限收费标准).
- Raw data is free or at cost; cleaned data is priced from its measured quality; products at
  market price.
All amounts are integer 分; nothing here uses floats.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from market.errors import DomainError
from market.i18n import N_
from market.money import Money

PURPOSES = {
    "public_governance": N_("公共治理"),
    "public_welfare": N_("公益事业"),
    "industry": N_("产业发展"),
    "sector": N_("行业发展"),
}
FREE_PURPOSES = frozenset({"public_governance", "public_welfare"})
PLAN_KINDS = ("free", "one_time", "subscription", "call_pack", "base_usage")
BILLING_UNITS = ("per_product", "per_call", "per_period", "per_volume")
MAX_PRICE_FEN = 10**12  # ¥100 亿: a typo guard, not a business rule

# which delivery modes each tier allows: raw public data never leaves its domain (原始数据不出域)
TIER_DELIVERY = {
    "raw": ("sandbox", "verification"),
    "cleaned": ("api", "sandbox", "file", "verification"),
    "product": ("api", "sandbox", "file", "verification"),
}
TIER_PLAN_KINDS = {
    "raw": ("free", "one_time"),  # free or at cost
    "cleaned": PLAN_KINDS,
    "product": PLAN_KINDS,
}


@dataclass(frozen=True)
class PlanSpec:
    kind: str
    name: str
    price_fen: int = 0
    unit_fen: int = 0
    months: int = 0
    calls: int = 0
    tiers: tuple[tuple[int | None, int], ...] = ()  # (up_to calls or None for the rest, unit price 分)
    billing_unit: str = "per_product"
    revision_access: str = "all"  # listings.tables.RevisionAccess: which versions buyers may retrieve


REVISION_ACCESS = ("all", "from_start")


def _int(value, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DomainError("price.not_integer", "价格和数量必须是整数（单位：分）：{field}", field=field)
    if value < 0 or value > MAX_PRICE_FEN:
        raise DomainError("price.out_of_range", "{field} 超出允许范围", field=field)
    return value


def validate_plan(spec: PlanSpec, *, tier: str) -> PlanSpec:
    """Refuse a plan whose shape is inconsistent or not allowed at the tier."""
    if spec.kind not in PLAN_KINDS:
        raise DomainError("price.kind_invalid", "价格方案类型无效")
    if spec.kind not in TIER_PLAN_KINDS[tier]:
        raise DomainError("price.kind_not_for_tier", "原始数据只能免费或按成本一次性收费")
    if spec.billing_unit not in BILLING_UNITS:
        raise DomainError("price.unit_invalid", "计费单位无效")
    if spec.revision_access not in REVISION_ACCESS:
        raise DomainError("price.revision_access_invalid", "版本范围无效：应为全部版本（all）或获取时起的版本（from_start）")
    if not 1 <= len(spec.name.strip()) <= 100:
        raise DomainError("price.name_invalid", "请为价格方案填写 1 到 100 个字符的名称")
    for field in ("price_fen", "unit_fen", "months", "calls"):
        _int(getattr(spec, field), field)
    if spec.kind == "free" and (spec.price_fen or spec.unit_fen or spec.tiers):
        raise DomainError("price.free_has_price", "免费方案不能设置价格")
    if spec.kind in ("one_time", "subscription", "call_pack") and spec.price_fen <= 0 and not spec.tiers:
        raise DomainError("price.missing", "请填写价格")
    if spec.kind == "subscription" and not 1 <= spec.months <= 60:
        raise DomainError("price.months_invalid", "订阅期限应为 1 到 60 个月")
    if spec.kind == "call_pack" and spec.calls <= 0:
        raise DomainError("price.calls_invalid", "调用次数包需要填写次数")
    if spec.kind == "base_usage" and spec.unit_fen <= 0 and not spec.tiers:
        raise DomainError("price.unit_missing", "基础费加用量方案需要填写每次调用的单价")
    last = 0
    for i, (up_to, unit) in enumerate(spec.tiers):
        _int(unit, "tiers.unit_fen")
        if up_to is None:
            if i != len(spec.tiers) - 1:
                raise DomainError("price.tiers_invalid", "阶梯价格只有最后一档可以不设上限")
        elif _int(up_to, "tiers.up_to") <= last:
            raise DomainError("price.tiers_invalid", "阶梯价格的上限必须逐档递增")
        else:
            last = up_to
    return spec


def spec_from_row(row: dict) -> PlanSpec:
    tiers = tuple((t.get("up_to"), t["unit_fen"]) for t in json.loads(row.get("tiers") or "[]"))
    return PlanSpec(kind=row["kind"], name=row["name"], price_fen=row["price_fen"], unit_fen=row["unit_fen"],
                    months=row["months"], calls=row["calls"], tiers=tiers, billing_unit=row["billing_unit"],
                    revision_access=row.get("revision_access") or "all")


def tiered_amount(calls: int, tiers: tuple[tuple[int | None, int], ...]) -> int:
    """Progressive volume pricing: each call is charged at the rate of the tier it falls in."""
    total, start = 0, 0
    for up_to, unit in tiers:
        end = calls if up_to is None else min(calls, up_to)
        if end > start:
            total += (end - start) * unit
            start = end
        if up_to is not None and calls <= up_to:
            break
    return total


def list_price(spec: PlanSpec, *, calls: int = 0) -> int:
    """What the plan costs before purpose rules: for usage plans, `calls` is the expected volume."""
    if spec.kind == "free":
        return 0
    if spec.kind in ("one_time", "subscription"):
        return spec.price_fen
    if spec.kind == "call_pack":
        return tiered_amount(spec.calls, spec.tiers) if spec.tiers else spec.price_fen
    usage = max(0, calls - spec.calls)  # calls included in the base fee are not charged again
    per_call = tiered_amount(usage, spec.tiers) if spec.tiers else usage * spec.unit_fen
    return spec.price_fen + per_call


def comparable_price(spec: PlanSpec) -> int:
    """The amount compared with a cap: what one unit of the plan's billing unit costs."""
    if spec.kind == "base_usage":
        return max(spec.price_fen, spec.unit_fen)
    return list_price(spec)


def check_cap(spec: PlanSpec, cap_fen: int | None) -> None:
    if cap_fen is not None and comparable_price(spec) > cap_fen:
        raise DomainError("price.above_cap", "价格 {price} 超过实施机构核定的上限收费标准 {cap}",
                          price=Money(comparable_price(spec)).format(), cap=Money(cap_fen).format())


def quote(spec: PlanSpec, *, purpose: str, calls: int = 0, cap_fen: int | None = None) -> Money:
    """The price a buyer pays for a plan, for a declared purpose."""
    if purpose not in PURPOSES:
        raise DomainError("price.purpose_invalid", "请选择用途：公共治理、公益事业、产业发展或行业发展")
    if purpose in FREE_PURPOSES:
        return Money.zero()  # 65号: use for public governance or public welfare is free
    check_cap(spec, cap_fen)
    return Money(list_price(spec, calls=calls))


def suggest_cleaned_price(*, quality_score: int, row_count: int, base_fen_per_10k_rows: int = 20_000,
                          floor_fen: int = 10_000) -> int:
    """A starting price for the cleaned tier, growing with size and (squared) measured quality."""
    units = max(1, (row_count + 9_999) // 10_000)
    score = max(0, min(100, quality_score))
    price = units * base_fen_per_10k_rows * score * score // 10_000
    return max(floor_fen, price // 100 * 100)  # whole yuan
