"""The split of a sale: exact figures, rounding once half up, parts that always add up, configured rates."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing import commission
from market.config import ConfigError, Settings
from market.errors import DomainError


def test_ten_thousand_yuan_product_at_ten_percent_with_thirty_percent_to_the_fund_and_six_percent_vat():
    s = commission.split(amount_fen=1_000_000, tax_fen=60_000, commission_bps=1_000, fund_share_bps=3_000)
    assert s.total.amount == 1_060_000
    assert (s.commission.amount, s.fund.amount, s.platform.amount, s.holder.amount, s.vat.amount) == (
        100_000, 30_000, 70_000, 900_000, 60_000)


def test_each_rate_rounds_once_half_up():
    # 12.35 元 × 8% = 98.8 分 → 99; 99 × 30% = 29.7 → 30
    s = commission.split(amount_fen=1_235, tax_fen=0, commission_bps=800, fund_share_bps=3_000)
    assert (s.commission.amount, s.fund.amount) == (99, 30)
    # the fund's share is of the commission as posted: 19 分 × 8% = 1.52 → 2, 2 × 30% = 0.6 → 1
    # (19 × 2.4% = 0.456 would round to 0 and leave the fund short of its share of what was charged)
    s = commission.split(amount_fen=19, tax_fen=0, commission_bps=800, fund_share_bps=3_000)
    assert (s.commission.amount, s.fund.amount) == (2, 1)
    s = commission.split(amount_fen=5, tax_fen=0, commission_bps=1_000, fund_share_bps=5_000)  # 0.5 → 1, 0.5 → 1
    assert (s.commission.amount, s.fund.amount, s.platform.amount, s.holder.amount) == (1, 1, 0, 4)


def test_configured_rates_per_tier():
    rates = commission.rates_from(Settings.from_env({}, env_file=None))
    assert rates.by_tier == {"raw": 500, "cleaned": 800, "product": 1_000} and rates.fund_share_bps == 3_000
    s = commission.split_for_tier(amount_fen=100_000, tax_fen=0, tier="cleaned", rates=rates)
    assert (s.commission.amount, s.fund.amount) == (8_000, 2_400)
    with pytest.raises(DomainError) as err:
        commission.split_for_tier(amount_fen=100_000, tax_fen=0, tier="gold", rates=rates)
    assert err.value.code == "ledger.unknown_tier"


def test_rates_come_from_the_environment_and_are_bounded():
    s = Settings.from_env({"MARKET_COMMISSION_BPS_PRODUCT": "1200", "MARKET_FUND_SHARE_BPS": "5000"}, env_file=None)
    assert commission.rates_from(s).by_tier["product"] == 1_200 and s.fund_share_bps == 5_000
    for var, value in [("MARKET_COMMISSION_BPS_RAW", "10001"), ("MARKET_FUND_SHARE_BPS", "-1")]:
        with pytest.raises(ConfigError, match=var):
            Settings.from_env({var: value}, env_file=None)


@pytest.mark.parametrize("bps", [-1, 10_001, 1.5, True])
def test_a_rate_outside_zero_to_ten_thousand_bps_is_refused(bps):
    with pytest.raises(DomainError) as err:
        commission.split(amount_fen=100, tax_fen=0, commission_bps=bps, fund_share_bps=0)
    assert err.value.code == "ledger.invalid_rate"


@given(amount=st.integers(0, 10**13), tax=st.integers(0, 10**12), commission_bps=st.integers(0, 10_000),
       fund_bps=st.integers(0, 10_000))
def test_parts_add_up_to_the_total_and_none_is_negative(amount, tax, commission_bps, fund_bps):
    s = commission.split(amount_fen=amount, tax_fen=tax, commission_bps=commission_bps, fund_share_bps=fund_bps)
    parts = [s.holder, s.platform, s.fund, s.vat]
    assert sum(p.amount for p in parts) == amount + tax
    assert all(p.amount >= 0 for p in parts)
    # within half a 分 of the exact rate: rounded once, not per step
    assert abs(s.commission.amount * 10_000 - amount * commission_bps) <= 5_000
    assert abs(s.fund.amount * 10_000 - s.commission.amount * fund_bps) <= 5_000
