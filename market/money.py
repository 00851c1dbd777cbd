"""Money as integer minor units (分), because binary floats cannot hold 0.01 and a ledger must add up to the 分.

Every price, fee, refund and invoice line on the platform goes through `Money`, so the rules live here
once: no floats are accepted anywhere, rounding happens in exactly one place (`apply_bps`) with one
mode (`ROUNDING`), and splitting an amount (`allocate`) never creates or loses a 分.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

# The platform's one rounding rule. Chinese invoicing (发票) and accounting round half up — 四舍五入 —
# so fees computed here match what appears on a 增值税发票 and what a finance team recomputes by hand.
# Decimal's ROUND_HALF_UP rounds halves away from zero, so a refund (negative) mirrors its charge.
ROUNDING = decimal.ROUND_HALF_UP

_ROUNDING_MODES = frozenset(
    {
        decimal.ROUND_UP,
        decimal.ROUND_DOWN,
        decimal.ROUND_CEILING,
        decimal.ROUND_FLOOR,
        decimal.ROUND_HALF_UP,
        decimal.ROUND_HALF_DOWN,
        decimal.ROUND_HALF_EVEN,
        decimal.ROUND_05UP,
    }
)

# Minor units per major unit. Every currency we settle in (CNY, and USD/EUR/HKD for cross-border
# buyers) has 100; a zero-decimal currency such as JPY would need its own table before use.
_MINOR_PER_MAJOR = 100
_BPS_PER_UNIT = 10_000

_CURRENCY_RE = re.compile(r"[A-Z]{3}")

# What people type into a price box: optional sign, optional ¥/￥, optional thousands commas.
# ASCII digits only, so look-alike digits from other scripts cannot slip into a price.
_AMOUNT_RE = re.compile(
    r"""
    (?P<sign1>[+-])?\s*
    (?P<symbol>[¥￥])?\s*
    (?P<sign2>[+-])?
    (?P<int>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)
    (?:\.(?P<frac>[0-9]+))?
    """,
    re.VERBOSE,
)


class MoneyError(ValueError):
    """A money value or operation is invalid; `code` is stable so API clients can translate it."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        ValueError.__init__(self, message)

    def __reduce__(self):  # keep `code` across pickling (e.g. when raised inside a worker)
        return (type(self), (self.code, str(self)))


def _check_int(value: object, what: str) -> int:
    # bool is an int subclass; True as an amount or a weight is always a bug, never 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    return value


def _decimal_places(amount: int, places: int) -> Decimal:
    # Built from the digit tuple so the result is exact regardless of the decimal context precision.
    sign = 1 if amount < 0 else 0
    digits = tuple(int(d) for d in str(abs(amount)))
    return Decimal((sign, digits, -places))


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units of one currency; immutable so it is safe to share and to hash."""

    amount: int
    currency: str = "CNY"

    def __post_init__(self) -> None:
        _check_int(self.amount, "Money.amount")
        if not isinstance(self.currency, str) or not _CURRENCY_RE.fullmatch(self.currency):
            raise MoneyError(
                "money.invalid_currency",
                f"currency must be a 3-letter upper-case ISO 4217 code, got {self.currency!r}",
            )

    # ---- constructors -------------------------------------------------------------------------

    @classmethod
    def zero(cls, currency: str = "CNY") -> Money:
        return cls(0, currency)

    @classmethod
    def of_yuan(cls, value: str | int | Decimal, currency: str = "CNY") -> Money:
        """Parse a major-unit amount from user input; never rounds, so a typo cannot silently lose 分."""
        if isinstance(value, float):
            raise TypeError("floats are not accepted for money; pass a str, int or Decimal")
        if isinstance(value, bool):
            raise TypeError("bool is not a money amount")
        if isinstance(value, int):
            return cls(value * _MINOR_PER_MAJOR, currency)
        if isinstance(value, Decimal):
            return cls(cls._minor_from_decimal(value, repr(value)), currency)
        if isinstance(value, str):
            return cls(cls._minor_from_str(value), currency)
        raise TypeError(f"cannot make Money from {type(value).__name__}")

    @staticmethod
    def _minor_from_str(text: str) -> int:
        m = _AMOUNT_RE.fullmatch(text.strip())
        if m is None or (m["sign1"] and m["sign2"]):
            raise MoneyError("money.invalid_amount", f"not a money amount: {text!r}")
        negative = (m["sign1"] or m["sign2"]) == "-"
        frac = m["frac"] or ""
        # Trailing zeros are exact ("1.230" is 1.23); any other third decimal would need rounding.
        if len(frac.rstrip("0")) > 2:
            raise MoneyError("money.too_precise", f"more than 2 decimal places: {text!r}")
        frac = frac[:2].ljust(2, "0")
        minor = int(m["int"].replace(",", "")) * _MINOR_PER_MAJOR + int(frac)
        return -minor if negative else minor

    @staticmethod
    def _minor_from_decimal(value: Decimal, shown: str) -> int:
        if not value.is_finite():
            raise MoneyError("money.invalid_amount", f"not a finite amount: {shown}")
        with decimal.localcontext() as ctx:
            ctx.prec = max(28, len(value.as_tuple().digits) + 5)
            ctx.Emax = decimal.MAX_EMAX
            ctx.Emin = decimal.MIN_EMIN
            scaled = value * _MINOR_PER_MAJOR
            if scaled != scaled.to_integral_value():
                raise MoneyError("money.too_precise", f"more than 2 decimal places: {shown}")
            return int(scaled)

    # ---- predicates ---------------------------------------------------------------------------

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    @property
    def is_negative(self) -> bool:
        return self.amount < 0

    def __bool__(self) -> bool:
        return self.amount != 0

    # ---- arithmetic ---------------------------------------------------------------------------

    def _same_currency(self, other: Money) -> None:
        if self.currency != other.currency:
            raise MoneyError(
                "money.currency_mismatch",
                f"cannot combine {self.currency} with {other.currency}",
            )

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __pos__(self) -> Money:
        return self

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __mul__(self, factor: object) -> Money:
        # Only whole multiples (quantities); fractional factors must go through apply_bps so the
        # rounding is explicit and happens once.
        if isinstance(factor, bool) or not isinstance(factor, int):
            return NotImplemented
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    # ---- comparisons (same currency only: 1 USD vs 1 CNY has no answer without a rate) ---------

    def _cmp_amounts(self, other: object) -> tuple[int, int] | None:
        if not isinstance(other, Money):
            return None
        self._same_currency(other)
        return self.amount, other.amount

    def __lt__(self, other: object) -> bool:
        pair = self._cmp_amounts(other)
        return NotImplemented if pair is None else pair[0] < pair[1]

    def __le__(self, other: object) -> bool:
        pair = self._cmp_amounts(other)
        return NotImplemented if pair is None else pair[0] <= pair[1]

    def __gt__(self, other: object) -> bool:
        pair = self._cmp_amounts(other)
        return NotImplemented if pair is None else pair[0] > pair[1]

    def __ge__(self, other: object) -> bool:
        pair = self._cmp_amounts(other)
        return NotImplemented if pair is None else pair[0] >= pair[1]

    # ---- rates and splits ---------------------------------------------------------------------

    def apply_bps(self, bps: int, rounding: str = ROUNDING) -> Money:
        """amount × bps / 10000, rounded once — rounding per step would drift across chained fees."""
        _check_int(bps, "bps")
        if rounding not in _ROUNDING_MODES:
            raise MoneyError("money.invalid_rounding", f"unknown rounding mode {rounding!r}")
        exact = _decimal_places(self.amount * bps, 4)
        with decimal.localcontext() as ctx:
            ctx.prec = max(28, len(exact.as_tuple().digits) + 2)
            rounded = exact.quantize(Decimal(1), rounding=rounding)
        return Money(int(rounded), self.currency)

    def allocate(self, weights: Sequence[int]) -> list[Money]:
        """Split by integer weights; parts always sum to self (largest remainder, ties to earlier)."""
        weights = list(weights)
        if not weights:
            raise MoneyError("money.invalid_weights", "allocate needs at least one weight")
        for w in weights:
            _check_int(w, "weight")
            if w < 0:
                raise MoneyError("money.invalid_weights", f"weights must be >= 0, got {w}")
        total = sum(weights)
        if total == 0:
            raise MoneyError("money.invalid_weights", "weights must not all be zero")

        # Split the magnitude and reapply the sign, so a refund allocates as the mirror of its charge.
        magnitude = abs(self.amount)
        shares: list[int] = []
        remainders: list[int] = []
        for w in weights:
            q, r = divmod(magnitude * w, total)
            shares.append(q)
            remainders.append(r)
        leftover = magnitude - sum(shares)  # always < len(weights); only non-zero weights receive it
        order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
        for i in order[:leftover]:
            shares[i] += 1
        sign = -1 if self.amount < 0 else 1
        return [Money(sign * s, self.currency) for s in shares]

    # ---- output -------------------------------------------------------------------------------

    def to_decimal(self) -> Decimal:
        return _decimal_places(self.amount, 2)

    def format(self, locale: str = "zh") -> str:
        # zh and en currently agree for CNY ("¥1,234.50"); the parameter is kept so call sites
        # already pass a locale when the two diverge.
        if locale not in ("zh", "en"):
            raise MoneyError("money.unsupported_locale", f"unsupported locale {locale!r}")
        major, minor = divmod(abs(self.amount), _MINOR_PER_MAJOR)
        number = f"{major:,}.{minor:02d}"
        prefix = "¥" if self.currency == "CNY" else f"{self.currency} "
        sign = "-" if self.amount < 0 else ""
        return f"{sign}{prefix}{number}"

    def __str__(self) -> str:
        return self.format()

    def to_chinese_upper(self) -> str:
        """大写金额 as written on invoices and cheques, which cannot be altered by adding a stroke."""
        if self.currency != "CNY":
            raise MoneyError(
                "money.currency_unsupported", f"大写金额 is only defined for CNY, not {self.currency}"
            )
        magnitude = abs(self.amount)
        if magnitude >= _UPPER_LIMIT:
            raise MoneyError("money.out_of_range", "amount too large for 大写金额 (≥ 1亿亿元)")
        yuan, cents = divmod(magnitude, _MINOR_PER_MAJOR)
        jiao, fen = divmod(cents, 10)

        if yuan == 0 and cents == 0:
            return "零元整"
        parts: list[str] = []
        if yuan:
            parts.append(_upper_integer(yuan) + "元")
        if jiao:
            parts.append(_DIGITS[jiao] + "角")
        if fen:
            if yuan and not jiao:
                parts.append("零")  # 10.02 → 壹拾元零贰分: the 零 shows the 角 place was not left blank
            parts.append(_DIGITS[fen] + "分")
        else:
            parts.append("整")
        text = "".join(parts)
        return ("负" + text) if self.amount < 0 else text


# ---- 大写 helpers ---------------------------------------------------------------------------------

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("仟", "佰", "拾", "")
# Up to 9999万亿 元 (the largest group is 万亿); beyond that Chinese would need 亿亿, which no invoice uses.
_UPPER_LIMIT = 10**16 * _MINOR_PER_MAJOR


def _upper_group(n: int) -> str:
    """1..9999 → e.g. 1004 → 壹仟零肆, 10 → 壹拾 (invoices keep the 壹 before 拾)."""
    out: list[str] = []
    pending_zero = False
    for digit, unit in zip(f"{n:04d}", _SMALL_UNITS):
        d = int(digit)
        if d == 0:
            pending_zero = bool(out)  # inner zeros collapse to one 零; leading/trailing ones vanish
            continue
        if pending_zero:
            out.append("零")
            pending_zero = False
        out.append(_DIGITS[d] + unit)
    return "".join(out)


def _upper_integer(n: int) -> str:
    """n ≥ 1 in 大写, grouping by 亿 then 万 so 1_0000_0000_0000 reads 壹万亿."""
    if n >= 10**8:
        high, low = divmod(n, 10**8)
        text = _upper_integer(high) + "亿"
        if low:
            # a gap at the top of the lower 8 digits is read aloud as 零 (壹亿零壹万)
            text += ("零" if low < 10**7 else "") + _upper_integer(low)
        return text
    if n >= 10**4:
        high, low = divmod(n, 10**4)
        text = _upper_group(high) + "万"
        if low:
            text += ("零" if low < 1000 else "") + _upper_group(low)
        return text
    return _upper_group(n)


def sum_money(items: Iterable[Money], currency: str = "CNY") -> Money:
    """Sum with a typed zero, since builtin sum() starts from int 0 and an empty cart still has a currency."""
    total = Money.zero(currency)
    for item in items:
        if not isinstance(item, Money):
            raise TypeError(f"sum_money expects Money, got {type(item).__name__}")
        total = total + item
    return total
