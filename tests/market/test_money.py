"""Money is the ledger's unit: these tests pin the rules finance and invoices depend on."""

from __future__ import annotations

import decimal
import pickle
import random
from decimal import Decimal

import pytest

from market.money import ROUNDING, Money, MoneyError, sum_money


def yuan(text: str) -> Money:
    return Money.of_yuan(text)


# ---- 大写金额 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fen", "expected"),
    [
        (123450, "壹仟贰佰叁拾肆元伍角整"),
        (0, "零元整"),
        (100, "壹元整"),
        (1, "壹分"),
        (50, "伍角整"),
        (52, "伍角贰分"),
        (100400, "壹仟零肆元整"),
        (10000005, "壹拾万元零伍分"),
        (1020, "壹拾元贰角整"),
        (1002, "壹拾元零贰分"),
        (1000, "壹拾元整"),
        (101000, "壹仟零壹拾元整"),
        (10001000000, "壹亿零壹万元整"),
        (100000000, "壹佰万元整"),
        (2000000100, "贰仟万零壹元整"),
        (123456789012, "壹拾贰亿叁仟肆佰伍拾陆万柒仟捌佰玖拾元壹角贰分"),
    ],
)
def test_chinese_upper_examples(fen: int, expected: str) -> None:
    assert Money(fen).to_chinese_upper() == expected


@pytest.mark.parametrize(
    ("fen", "expected"),
    [
        (10000000500, "壹亿零伍元整"),  # zero 万 group collapses into one 零
        (10000100000, "壹亿零壹仟元整"),
        (11000000000, "壹亿壹仟万元整"),
        (10100000000, "壹亿零壹佰万元整"),
        (100050000, "壹佰万零伍佰元整"),
        (10**14, "壹万亿元整"),
        (12345 * 10**10, "壹万贰仟叁佰肆拾伍亿元整"),
        (10**14 + 10**10 + 5, "壹万零壹亿元零伍分"),
        (10**14 + 10**6, "壹万亿零壹万元整"),
        (1000000001, "壹仟万元零壹分"),
    ],
)
def test_chinese_upper_zero_placement(fen: int, expected: str) -> None:
    assert Money(fen).to_chinese_upper() == expected


def test_chinese_upper_negative_prefix() -> None:
    assert Money(-123450).to_chinese_upper() == "负壹仟贰佰叁拾肆元伍角整"
    assert Money(-1).to_chinese_upper() == "负壹分"


def test_chinese_upper_only_cny_and_bounded() -> None:
    with pytest.raises(MoneyError) as exc:
        Money(100, "USD").to_chinese_upper()
    assert exc.value.code == "money.currency_unsupported"
    with pytest.raises(MoneyError) as exc:
        Money(10**18).to_chinese_upper()
    assert exc.value.code == "money.out_of_range"
    # the largest supported amount still renders
    assert Money(10**18 - 1).to_chinese_upper().startswith("玖仟玖佰玖拾玖万")


# ---- formatting -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("money", "expected"),
    [
        (Money(123450), "¥1,234.50"),
        (Money(-123450), "-¥1,234.50"),
        (Money(0), "¥0.00"),
        (Money(1), "¥0.01"),
        (Money(-5), "-¥0.05"),
        (Money(123456789012), "¥1,234,567,890.12"),
        (Money(99999), "¥999.99"),
        (Money(123450, "USD"), "USD 1,234.50"),
        (Money(-123450, "USD"), "-USD 1,234.50"),
    ],
)
def test_format(money: Money, expected: str) -> None:
    assert money.format() == expected
    assert str(money) == expected


def test_format_en_matches_zh_for_cny_and_unknown_locale_rejected() -> None:
    assert Money(123450).format("en") == "¥1,234.50"
    with pytest.raises(MoneyError) as exc:
        Money(1).format("fr")
    assert exc.value.code == "money.unsupported_locale"


def test_to_decimal_is_exact_with_two_places() -> None:
    assert Money(123450).to_decimal() == Decimal("1234.50")
    assert str(Money(123450).to_decimal()) == "1234.50"
    assert str(Money(0).to_decimal()) == "0.00"
    assert str(Money(-7).to_decimal()) == "-0.07"
    big = 10**40 + 1
    as_tuple = Money(big).to_decimal().as_tuple()  # no context rounding on huge amounts
    assert (as_tuple.digits, as_tuple.exponent) == (tuple(int(d) for d in str(big)), -2)


# ---- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("1234.5", 123450),
        ("1,234.50", 123450),
        ("¥1,234.50", 123450),
        ("￥1,234.50", 123450),
        ("-3", -300),
        ("0.01", 1),
        ("  12.3 ", 1230),
        ("+7", 700),
        ("-¥1,000", -100000),
        ("¥-2.5", -250),
        ("1,234,567.89", 123456789),
        ("0", 0),
        ("1.230", 123),  # trailing zeros are exact, nothing is rounded
    ],
)
def test_of_yuan_parses_user_input(text: str, fen: int) -> None:
    assert Money.of_yuan(text) == Money(fen)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("1.234", "money.too_precise"),
        ("0.001", "money.too_precise"),
        ("abc", "money.invalid_amount"),
        ("", "money.invalid_amount"),
        ("   ", "money.invalid_amount"),
        ("1,23.00", "money.invalid_amount"),
        ("12,34", "money.invalid_amount"),
        ("1.2.3", "money.invalid_amount"),
        (".5", "money.invalid_amount"),
        ("5.", "money.invalid_amount"),
        ("--1", "money.invalid_amount"),
        ("-¥-1", "money.invalid_amount"),
        ("1e3", "money.invalid_amount"),
        ("NaN", "money.invalid_amount"),
        ("１２", "money.invalid_amount"),  # full-width digits are not accepted silently
        ("$5", "money.invalid_amount"),
    ],
)
def test_of_yuan_rejects_bad_input(text: str, code: str) -> None:
    with pytest.raises(MoneyError) as exc:
        Money.of_yuan(text)
    assert exc.value.code == code
    assert isinstance(exc.value, ValueError)


def test_of_yuan_int_and_decimal() -> None:
    assert Money.of_yuan(12) == Money(1200)
    assert Money.of_yuan(-3) == Money(-300)
    assert Money.of_yuan(Decimal("1234.50")) == Money(123450)
    assert Money.of_yuan(Decimal("0.1")) == Money(10)
    assert Money.of_yuan(Decimal("5E+2")) == Money(50000)
    assert Money.of_yuan("9", "USD") == Money(900, "USD")
    with pytest.raises(MoneyError) as exc:
        Money.of_yuan(Decimal("0.005"))
    assert exc.value.code == "money.too_precise"
    for bad in (Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")):
        with pytest.raises(MoneyError) as exc:
            Money.of_yuan(bad)
        assert exc.value.code == "money.invalid_amount"


def test_of_yuan_refuses_floats_and_other_types() -> None:
    with pytest.raises(TypeError):
        Money.of_yuan(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money.of_yuan(1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money.of_yuan(True)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money.of_yuan(None)  # type: ignore[arg-type]


# ---- construction invariants ------------------------------------------------------------------


def test_amount_must_be_int_never_float_or_bool() -> None:
    with pytest.raises(TypeError):
        Money(1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(True)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(Decimal(1))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money("100")  # type: ignore[arg-type]


@pytest.mark.parametrize("currency", ["cny", "CN", "CNYY", "", "人民币", "C1Y", None])
def test_currency_must_be_three_upper_letters(currency: object) -> None:
    with pytest.raises(MoneyError) as exc:
        Money(1, currency)  # type: ignore[arg-type]
    assert exc.value.code == "money.invalid_currency"


def test_money_is_frozen_hashable_and_slotted() -> None:
    m = Money(100)
    with pytest.raises(AttributeError):
        m.amount = 5  # type: ignore[misc]
    assert not hasattr(m, "__dict__")
    assert {Money(100), Money(100), Money(100, "USD")} == {Money(100), Money(100, "USD")}
    assert Money.zero() == Money(0, "CNY")
    assert Money.zero("USD") == Money(0, "USD")


def test_no_float_ever_appears_in_results() -> None:
    m = Money(333)
    results = [
        m + m,
        m - Money(1),
        -m,
        abs(-m),
        m * 3,
        3 * m,
        m.apply_bps(600),
        *m.allocate([1, 1, 1, 7]),
        Money.of_yuan("1.5"),
        Money.of_yuan(Decimal("2.25")),
        sum_money([m, m]),
    ]
    for r in results:
        assert type(r.amount) is int


def test_money_error_keeps_code_when_pickled() -> None:
    err = pickle.loads(pickle.dumps(MoneyError("money.too_precise", "x")))
    assert err.code == "money.too_precise"
    assert str(err) == "x"


# ---- arithmetic -------------------------------------------------------------------------------


def test_arithmetic() -> None:
    a, b = yuan("10.50"), yuan("0.75")
    assert a + b == yuan("11.25")
    assert a - b == yuan("9.75")
    assert b - a == yuan("-9.75")
    assert -a == Money(-1050)
    assert +a == a
    assert abs(Money(-5)) == Money(5)
    assert a * 3 == Money(3150)
    assert 3 * a == Money(3150)
    assert a * 0 == Money(0)
    assert a * -2 == Money(-2100)


def test_multiplication_only_by_int() -> None:
    for factor in (1.5, Decimal("1.5"), True, "2", Money(2)):
        with pytest.raises(TypeError):
            Money(100) * factor  # type: ignore[operator]
        with pytest.raises(TypeError):
            factor * Money(100)  # type: ignore[operator]


def test_add_requires_money() -> None:
    with pytest.raises(TypeError):
        Money(1) + 1  # type: ignore[operator]
    with pytest.raises(TypeError):
        1 + Money(1)  # type: ignore[operator]


def test_currency_mismatch() -> None:
    cny, usd = Money(100), Money(100, "USD")
    for op in (
        lambda: cny + usd,
        lambda: cny - usd,
        lambda: cny < usd,
        lambda: cny <= usd,
        lambda: cny > usd,
        lambda: cny >= usd,
    ):
        with pytest.raises(MoneyError) as exc:
            op()
        assert exc.value.code == "money.currency_mismatch"
    assert cny != usd  # equality never raises; different currencies are simply unequal


def test_comparisons_and_truthiness() -> None:
    assert Money(1) < Money(2)
    assert Money(2) <= Money(2)
    assert Money(3) > Money(-3)
    assert Money(3) >= Money(3)
    assert max(Money(5), Money(9), Money(-1)) == Money(9)
    assert sorted([Money(3), Money(-1), Money(2)]) == [Money(-1), Money(2), Money(3)]
    with pytest.raises(TypeError):
        Money(1) < 2  # type: ignore[operator]
    assert not Money(0)
    assert Money(1)
    assert Money(-1)
    assert Money(0).is_zero and not Money(1).is_zero
    assert Money(-1).is_negative and not Money(0).is_negative and not Money(1).is_negative


def test_sum_money() -> None:
    assert sum_money([]) == Money(0)
    assert sum_money([], "USD") == Money(0, "USD")
    assert sum_money(iter([Money(1), Money(2), Money(-4)])) == Money(-1)
    assert sum_money([Money(5, "USD")], currency="USD") == Money(5, "USD")
    with pytest.raises(MoneyError) as exc:
        sum_money([Money(5, "USD")])
    assert exc.value.code == "money.currency_mismatch"
    with pytest.raises(TypeError):
        sum_money([Money(1), 2])  # type: ignore[list-item]


# ---- apply_bps --------------------------------------------------------------------------------


def test_rounding_constant_is_half_up() -> None:
    assert ROUNDING == decimal.ROUND_HALF_UP


@pytest.mark.parametrize(
    ("amount", "bps", "expected"),
    [
        (333, 600, 20),  # 19.98 → 20
        (25, 1000, 3),  # 2.5 → 3 (half up)
        (15, 1000, 2),  # 1.5 → 2
        (24, 1000, 2),  # 2.4 → 2
        (-25, 1000, -3),  # half away from zero: a refund mirrors its charge
        (-333, 600, -20),
        (-24, 1000, -2),
        (10000, 10000, 10000),
        (12345, 0, 0),
        (0, 600, 0),
        (100, -500, -5),
        (1, 5000, 1),  # 0.5 → 1
        (1, 4999, 0),
    ],
)
def test_apply_bps_half_up(amount: int, bps: int, expected: int) -> None:
    assert Money(amount).apply_bps(bps) == Money(expected)


def test_apply_bps_other_rounding_modes_and_currency() -> None:
    assert Money(25).apply_bps(1000, decimal.ROUND_HALF_EVEN) == Money(2)
    assert Money(35).apply_bps(1000, decimal.ROUND_HALF_EVEN) == Money(4)
    assert Money(333).apply_bps(600, decimal.ROUND_DOWN) == Money(19)
    assert Money(-25).apply_bps(1000, decimal.ROUND_FLOOR) == Money(-3)
    assert Money(-25).apply_bps(1000, decimal.ROUND_CEILING) == Money(-2)
    assert Money(333, "USD").apply_bps(600) == Money(20, "USD")


def test_apply_bps_rounds_once_on_huge_amounts() -> None:
    big = 10**30 + 5  # beyond the default 28-digit decimal context
    assert Money(big).apply_bps(5000) == Money(5 * 10**29 + 3)


def test_apply_bps_rejects_bad_arguments() -> None:
    with pytest.raises(TypeError):
        Money(100).apply_bps(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(100).apply_bps(True)  # type: ignore[arg-type]
    with pytest.raises(MoneyError) as exc:
        Money(100).apply_bps(100, "ROUND_SOMETIMES")
    assert exc.value.code == "money.invalid_rounding"


# ---- allocate ---------------------------------------------------------------------------------


def test_allocate_examples() -> None:
    assert Money(100).allocate([1, 1, 1]) == [Money(34), Money(33), Money(33)]
    assert Money(-100).allocate([1, 1, 1]) == [Money(-34), Money(-33), Money(-33)]
    assert Money(5).allocate([3, 7]) == [Money(2), Money(3)]  # 1.5/3.5: tie → earlier
    assert Money(1).allocate([1, 1]) == [Money(1), Money(0)]
    assert Money(1000).allocate([70, 30]) == [Money(700), Money(300)]
    assert Money(0).allocate([1, 2]) == [Money(0), Money(0)]
    assert Money(7).allocate([5]) == [Money(7)]
    assert Money(10).allocate([0, 1, 0]) == [Money(0), Money(10), Money(0)]
    assert Money(3, "USD").allocate([1, 1]) == [Money(2, "USD"), Money(1, "USD")]
    # largest remainder, not position: 0.4 / 0.6 → second gets the spare 分
    assert Money(1).allocate([2, 3]) == [Money(0), Money(1)]
    assert Money(1).allocate((1, 1)) == [Money(1), Money(0)]  # any sequence


@pytest.mark.parametrize(
    "weights", [[], [0], [0, 0], [1, -1], [-1]],
)
def test_allocate_rejects_bad_weights(weights: list[int]) -> None:
    with pytest.raises(MoneyError) as exc:
        Money(100).allocate(weights)
    assert exc.value.code == "money.invalid_weights"


def test_allocate_rejects_non_int_weights() -> None:
    with pytest.raises(TypeError):
        Money(100).allocate([1.0, 2])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        Money(100).allocate([True, 1])


def test_allocate_property_sums_exactly_and_is_fair() -> None:
    rng = random.Random(42)
    for _ in range(3000):
        amount = rng.choice([rng.randint(-10**6, 10**6), rng.randint(-100, 100), rng.randint(-10**15, 10**15)])
        n = rng.randint(1, 8)
        weights = [rng.choice([0, rng.randint(0, 10), rng.randint(0, 10_000)]) for _ in range(n)]
        if sum(weights) == 0:
            weights[rng.randrange(n)] = rng.randint(1, 50)
        parts = Money(amount, "CNY").allocate(weights)

        assert len(parts) == n
        assert sum_money(parts) == Money(amount)
        total = sum(weights)
        for part, w in zip(parts, weights):
            assert type(part.amount) is int
            if w == 0:
                assert part.amount == 0
            # every part is within one 分 of its exact share
            exact_times_total = amount * w
            assert abs(part.amount * total - exact_times_total) < total
            # parts never cross zero: a charge never produces a credit line and vice versa
            assert part.amount == 0 or (part.amount < 0) == (amount < 0)
        # deterministic: same input, same split
        assert Money(amount).allocate(weights) == parts
        # symmetric: a refund allocates as the mirror image of its charge
        assert [-p for p in Money(-amount).allocate(weights)] == parts
