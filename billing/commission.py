"""How one sale splits between the holder, the platform, the governance fund and the tax office.

Pure functions over integer 分: the ledger posts what `split` returns, and a page or a statement
that shows the split calls the same function, so they cannot disagree. Each rate is applied once,
half up (`Money.apply_bps`); everything else is subtraction, so the parts add up to the total
exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from listings.tables import Tier
from market.config import Settings
from market.errors import DomainError
from market.money import Money

TIERS = tuple(t.value for t in Tier)  # raw, cleaned, product
BPS_MAX = 10_000


@dataclass(frozen=True)
class Rates:
    """Commission per tier and the fund's share of it, all in basis points."""

    by_tier: dict[str, int]
    fund_share_bps: int

    def commission_bps(self, tier: str) -> int:
        try:
            return self.by_tier[tier]
        except KeyError:
            raise DomainError("ledger.unknown_tier", "未知的数据层级：{tier}", tier=tier) from None


def rates_from(settings: Settings) -> Rates:
    """The rates configured by MARKET_COMMISSION_BPS_* and MARKET_FUND_SHARE_BPS."""
    return Rates(by_tier={"raw": settings.commission_bps_raw, "cleaned": settings.commission_bps_cleaned,
                          "product": settings.commission_bps_product},
                 fund_share_bps=settings.fund_share_bps)


@dataclass(frozen=True)
class Split:
    """Where the total T = A + X of one order goes when it is released from escrow."""

    amount: Money  # A, net of tax
    tax: Money  # X, VAT: the platform invoices as seller of record, so it owes this
    commission_bps: int
    fund_share_bps: int
    commission: Money  # C = A × commission_bps, the platform's gross share
    fund: Money  # F = C × fund_share_bps, the part of C that goes to the governance fund

    @property
    def total(self) -> Money:
        return self.amount + self.tax

    @property
    def holder(self) -> Money:
        return self.amount - self.commission

    @property
    def platform(self) -> Money:
        return self.commission - self.fund

    @property
    def vat(self) -> Money:
        return self.tax


def _bps(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= BPS_MAX:
        raise DomainError("ledger.invalid_rate", "费率必须是 0 到 10000 之间的整数基点（{what}）", what=what)
    return value


def split(*, amount_fen: int, tax_fen: int, commission_bps: int, fund_share_bps: int) -> Split:
    """The split of one sale at the given rates (each rounded once, half up)."""
    amount, tax = Money(amount_fen), Money(tax_fen)
    commission = amount.apply_bps(_bps(commission_bps, "commission"))
    fund = commission.apply_bps(_bps(fund_share_bps, "fund share"))
    return Split(amount=amount, tax=tax, commission_bps=commission_bps, fund_share_bps=fund_share_bps,
                 commission=commission, fund=fund)


def split_for_tier(*, amount_fen: int, tax_fen: int, tier: str, rates: Rates) -> Split:
    """The split of one sale of a listing at `tier`, at the configured rates."""
    return split(amount_fen=amount_fen, tax_fen=tax_fen, commission_bps=rates.commission_bps(tier),
                 fund_share_bps=rates.fund_share_bps)
