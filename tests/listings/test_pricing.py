"""65号 pricing rules: purpose decides the price, caps bind public data, plan shapes are consistent."""

from __future__ import annotations

import pytest

from listings import pricing
from listings.pricing import PlanSpec
from market.errors import DomainError

ONE_TIME = PlanSpec(kind="one_time", name="按次购买", price_fen=50_000)
PACK = PlanSpec(kind="call_pack", name="1万次", calls=10_000, tiers=((1_000, 10), (5_000, 8), (None, 5)),
                billing_unit="per_call")
BASE = PlanSpec(kind="base_usage", name="基础费+用量", price_fen=100_000, unit_fen=3, calls=10_000,
                billing_unit="per_call")


@pytest.mark.parametrize("purpose", ["public_governance", "public_welfare"])
@pytest.mark.parametrize("plan", [ONE_TIME, PACK, BASE])
def test_public_governance_and_welfare_pay_nothing(purpose, plan):
    assert pricing.quote(plan, purpose=purpose, calls=50_000).amount == 0
    # even when the plan would be above the cap: free use is never refused for price
    assert pricing.quote(plan, purpose=purpose, cap_fen=1).amount == 0


def test_industry_pays_plan_price_within_cap():
    assert pricing.quote(ONE_TIME, purpose="industry", cap_fen=50_000).amount == 50_000
    assert pricing.quote(ONE_TIME, purpose="sector").amount == 50_000


def test_price_above_cap_is_refused():
    with pytest.raises(DomainError) as err:
        pricing.quote(ONE_TIME, purpose="industry", cap_fen=49_999)
    assert err.value.code == "price.above_cap"
    with pytest.raises(DomainError):
        pricing.check_cap(ONE_TIME, 49_999)


def test_unknown_purpose_refused():
    with pytest.raises(DomainError) as err:
        pricing.quote(ONE_TIME, purpose="personal_curiosity")
    assert err.value.code == "price.purpose_invalid"


def test_progressive_volume_tiers():
    # 1000×10 + 4000×8 + 5000×5 = 10000 + 32000 + 25000
    assert pricing.tiered_amount(10_000, PACK.tiers) == 67_000
    assert pricing.tiered_amount(500, PACK.tiers) == 5_000
    assert pricing.tiered_amount(0, PACK.tiers) == 0
    assert pricing.list_price(PACK) == 67_000


def test_base_fee_plus_usage_counts_included_calls_once():
    assert pricing.list_price(BASE, calls=10_000) == 100_000
    assert pricing.list_price(BASE, calls=12_000) == 100_000 + 2_000 * 3


@pytest.mark.parametrize("spec,code", [
    (PlanSpec(kind="free", name="免费", price_fen=1), "price.free_has_price"),
    (PlanSpec(kind="one_time", name="x", price_fen=0), "price.missing"),
    (PlanSpec(kind="subscription", name="x", price_fen=100, months=0), "price.months_invalid"),
    (PlanSpec(kind="call_pack", name="x", price_fen=100, calls=0), "price.calls_invalid"),
    (PlanSpec(kind="one_time", name="x", price_fen=-5), "price.out_of_range"),
    (PlanSpec(kind="one_time", name="x", price_fen=1.5), "price.not_integer"),
    (PlanSpec(kind="call_pack", name="x", calls=10, tiers=((100, 1), (50, 1))), "price.tiers_invalid"),
    (PlanSpec(kind="call_pack", name="x", calls=10, tiers=((None, 1), (50, 1))), "price.tiers_invalid"),
    (PlanSpec(kind="barter", name="x"), "price.kind_invalid"),
    (PlanSpec(kind="one_time", name="", price_fen=1), "price.name_invalid"),
])
def test_inconsistent_plans_refused(spec, code):
    with pytest.raises(DomainError) as err:
        pricing.validate_plan(spec, tier="product")
    assert err.value.code == code


def test_raw_tier_is_free_or_at_cost_only():
    pricing.validate_plan(PlanSpec(kind="free", name="免费"), tier="raw")
    pricing.validate_plan(PlanSpec(kind="one_time", name="成本价", price_fen=2_000), tier="raw")
    with pytest.raises(DomainError) as err:
        pricing.validate_plan(PlanSpec(kind="subscription", name="x", price_fen=1, months=1), tier="raw")
    assert err.value.code == "price.kind_not_for_tier"


def test_cleaned_price_grows_with_quality_and_size():
    low = pricing.suggest_cleaned_price(quality_score=60, row_count=50_000)
    high = pricing.suggest_cleaned_price(quality_score=95, row_count=50_000)
    big = pricing.suggest_cleaned_price(quality_score=95, row_count=500_000)
    assert low < high < big and low % 100 == 0
    assert pricing.suggest_cleaned_price(quality_score=0, row_count=10) == 10_000  # the floor
