"""msgspec Structs of billing's JSON API (amounts in integer 分)."""

from __future__ import annotations

import msgspec


class FundMonthOut(msgspec.Struct):
    month: str  # 'YYYY-MM', China time
    inflow_fen: int
    outflow_fen: int


class FundTierOut(msgspec.Struct):
    tier: str | None  # raw / cleaned / product; null for an adjustment not tied to a sale
    inflow_fen: int


class FundOut(msgspec.Struct):
    balance_fen: int
    inflow_fen: int  # the fund's share of commissions, net of refunds that reversed it
    outflow_fen: int  # approved disbursements paid out
    by_month: list[FundMonthOut]
    inflow_by_tier: list[FundTierOut]
