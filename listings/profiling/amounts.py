"""Amounts written with their unit in the text: 30(万), 24,500(万元), 40万人民币, 0.0003万人民币, 1.2亿元,
¥1,000, 500万美元.

`parse_amount(text)` reads one value into an exact Decimal in the currency's main unit (元 for 人民币)
and its currency. Registries write these by hand, so a column mixes styles and multipliers; such a
column is useless for sums or comparisons until every value is in one unit.

The prepared table (what buyers receive) keeps the original column untouched and gets, right beside it,
a column named `<原列名>(元)` holding the value in 元 as a plain number (integer when whole, otherwise
exact decimals, never rounded: 0.0003万 is 3, 0.00001万 is 0.1). 元 rather than 万元: it is the unit
the platform counts money in (分 integers), it needs no decimals for whole 元 whatever the multiplier
was, and a buyer loading the CSV gets a number without having to know the convention of the register.
Values in another currency (美元, 港元 …) are NOT converted (no exchange rate is implied by the data):
their 元 cell stays empty and the profile counts them under ``not_normalised`` (e.g. {"USD": 3}); the
original text is still in the original column. So are bare numbers in a column whose other values carry
a unit and whose header names none (30 beside 40万元 could be 元 or 万元). Missing markers (N/A, —)
are already empty cells after reading and stay empty.
"""

from __future__ import annotations

import csv
import os
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from listings.reading._copy import _Writer

MULTIPLIERS = {"千": 10**3, "万": 10**4, "十万": 10**5, "百万": 10**6, "千万": 10**7, "亿": 10**8, "十亿": 10**9,
               "百亿": 10**10, "千亿": 10**11, "万亿": 10**12}
# currency words as written (after NFKC: ￥ becomes ¥, full-width brackets stay) -> ISO code
CURRENCIES = {"人民币": "CNY", "RMB": "CNY", "CNY": "CNY", "¥": "CNY", "元": "CNY", "圆": "CNY",
              "美元": "USD", "USD": "USD", "US$": "USD", "$": "USD", "港元": "HKD", "港币": "HKD", "HKD": "HKD",
              "HK$": "HKD", "欧元": "EUR", "EUR": "EUR", "€": "EUR", "日元": "JPY", "JPY": "JPY", "英镑": "GBP",
              "GBP": "GBP", "£": "GBP", "澳门元": "MOP", "新台币": "TWD"}
CURRENCY_NAMES = {"CNY": "人民币", "USD": "美元", "HKD": "港元", "EUR": "欧元", "JPY": "日元", "GBP": "英镑",
                  "MOP": "澳门元", "TWD": "新台币"}
NORMALISED_UNIT = "元"


def _alt(words) -> str:
    """A regex alternation, longest first (万亿 before 万)."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_PREFIX = _alt(["人民币", "RMB", "CNY", "¥", "US$", "$", "HK$", "USD", "HKD", "美元", "港元", "港币", "EUR", "€", "£"])
_SUFFIX_CUR = _alt([w for w in CURRENCIES if w not in ("元", "圆", "¥", "$", "€", "£")])
_MULT = _alt(MULTIPLIERS)
# [currency] number [ ( ] [multiplier][元][currency] [ ) ] [ (currency) ]
_AMOUNT = re.compile(
    rf"(?P<pre>{_PREFIX})?\s*(?P<num>[+-]?(?:\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.\d+)?|[+-]?\.\d+)\s*"
    rf"(?P<open>[(（])?\s*(?P<mult>{_MULT})?\s*(?P<unit>元|圆)?\s*(?P<cur>{_SUFFIX_CUR})?\s*(?P<close>[)）])?\s*"
    rf"(?:[(（]\s*(?P<cur2>{_SUFFIX_CUR})\s*[)）])?")
_NAME_UNIT = re.compile(r"\s*(?:[（(]\s*(?P<a>(?:" + _MULT + r")?元|" + _MULT + r")\s*[)）]|(?P<b>(?:" + _MULT
                        + r")?元)\s*$)")
_MONEY_HINT = re.compile(r"金额|资本|资金|价格|价款|费用|工资|薪酬|税额|余额|收入|营收|成本|投资|出资|注册资|实缴|"
                         r"(?:^|[^a-z])(?:amount|price|money|capital)(?:$|[^a-z])", re.I)

DETECT_ROWS = 2000  # head rows whose values decide whether a column holds amounts
AMOUNT_SHARE = 0.6  # share of non-empty values that must read as amounts
MARKED_SHARE = 0.3  # ... of which this share must carry a unit or currency in the text


@dataclass(frozen=True)
class Amount:
    value: Decimal  # in the currency's main unit (元 for CNY), exact
    currency: str | None  # ISO code; None: no currency written (元 implied only by a header or 元/万元 word)
    unit: str | None  # the unit as written, normalised: "万元", "亿元", "元", "万" … or None (a bare number)

    @property
    def marked(self) -> bool:
        return self.unit is not None or self.currency is not None


def parse_amount(text: str | None) -> Amount | None:
    """One amount as written, or None when the text is not an amount."""
    if text is None:
        return None
    v = unicodedata.normalize("NFKC", str(text)).strip()
    if not v:
        return None
    m = _AMOUNT.fullmatch(v)
    if not m or bool(m.group("open")) != bool(m.group("close")):
        return None
    mult, yuan = m.group("mult"), bool(m.group("unit"))
    if m.group("open") and not (mult or yuan or m.group("cur")):
        return None  # "30()" is not an amount
    codes = {CURRENCIES[w] for w in (m.group("pre"), m.group("cur"), m.group("cur2")) if w}
    if yuan:
        codes = codes or {"CNY"}  # 元 alone is 人民币
        if codes != {"CNY"}:
            return None  # 100元美元: contradictory
    if len(codes) > 1:
        return None
    number = Decimal(m.group("num").replace(",", ""))
    value = number * MULTIPLIERS[mult] if mult else number
    unit = (mult or "") + "元" if yuan else mult
    return Amount(value=value, currency=codes.pop() if codes else None, unit=unit)


def to_fen(amount: Amount) -> Decimal:
    return amount.value * 100


def format_yuan(value: Decimal) -> str:
    """Plain digits: an integer when whole, else the exact decimals (no exponent, no trailing zeros)."""
    if value == value.to_integral_value():
        return str(int(value))
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def header_unit(name: str) -> tuple[str, str | None]:
    """A header without its unit, and the unit it names: 注册资本(万元) -> ("注册资本", "万元")."""
    m = _NAME_UNIT.search(name)
    if not m:
        return name, None
    unit = m.group("a") or m.group("b")
    return name[:m.start()].rstrip(), unit if unit.endswith("元") else unit + "元"


def header_currency(name: str) -> str | None:
    """A foreign currency named by the header (注册资本(万美元) -> USD); None for 人民币 or none."""
    for word, code in CURRENCIES.items():
        if code != "CNY" and len(word) > 1 and word in name.upper():
            return code
    return None


def _currency(amount: Amount, facts: dict) -> str | None:
    return amount.currency or facts.get("header_currency")


def _in_yuan(amount: Amount, default_unit: str | None, currency: str | None = None) -> Decimal | None:
    """The value in 元, or None when it cannot be said (another currency; no unit anywhere)."""
    if (currency or amount.currency) not in (None, "CNY"):
        return None
    if amount.marked:
        return amount.value
    if default_unit is None:
        return None
    mult = default_unit[:-1]
    return amount.value * (MULTIPLIERS[mult] if mult else 1)


def amount_column(name: str, values: list[str]) -> dict | None:
    """Whether a column's (non-empty) values are amounts with their unit in the text; then the facts the
    profile records: {"unit": most used unit, "units": {...}, "header_unit": ...}. Plain numbers are not
    such a column (the profiler types them; their unit comes from the header)."""
    if not values:
        return None
    parsed = [parse_amount(v) for v in values]
    amounts = [a for a in parsed if a is not None]
    if len(amounts) < AMOUNT_SHARE * len(values):
        return None
    marked = [a for a in amounts if a.marked]
    if len(marked) < MARKED_SHARE * len(amounts):
        return None
    base, name_unit = header_unit(name)
    money = [a for a in marked if a.currency is not None or (a.unit or "").endswith("元")]
    # a bare multiplier (30(万)) means money only where the header says so: 1.2万 could be people
    if len(money) < MARKED_SHARE * len(amounts) and not (_MONEY_HINT.search(base) or name_unit):
        return None
    units = Counter(_unit_label(a) for a in marked)
    return {"unit": units.most_common(1)[0][0], "units": dict(units.most_common()), "header_unit": name_unit,
            "header_currency": header_currency(name)}


def _unit_label(a: Amount) -> str:
    if a.currency not in (None, "CNY"):
        return (a.unit or "").rstrip("元") + CURRENCY_NAMES.get(a.currency, a.currency)
    unit = a.unit or "元"
    return unit if unit.endswith("元") else unit + "元"


def normalised_name(name: str, taken: set[str]) -> str:
    base, _unit = header_unit(name)
    for candidate in (f"{base}({NORMALISED_UNIT})", f"{base}(折合{NORMALISED_UNIT})"):
        if candidate not in taken:
            return candidate
    n = 2
    while f"{base}({NORMALISED_UNIT}){n}" in taken:
        n += 1
    return f"{base}({NORMALISED_UNIT}){n}"


def add_normalised_columns(csv_path: Path, columns: list[str]) -> list[dict]:
    """Find amount columns with units in the text (on the first DETECT_ROWS rows) and rewrite the CSV with
    a `<name>(元)` column right after each. Returns one record per added column (empty: file untouched):
    {"column", "normalised_column", "unit", "units", "header_unit", "not_normalised": {...}}."""
    csv_path = Path(csv_path)
    with csv_path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if not header:
            return []
        head = [row for _i, row in zip(range(DETECT_ROWS), reader)]
    found = []
    for i, name in enumerate(header):
        values = [row[i].strip() for row in head if i < len(row) and row[i].strip()]
        facts = amount_column(name, values)
        if facts:
            found.append((i, facts))
    if not found:
        return []
    taken = set(header)
    added = []
    for i, facts in found:
        new = normalised_name(header[i], taken)
        taken.add(new)
        added.append({"index": i, "column": header[i], "normalised_column": new, **facts, "not_normalised": Counter()})
    by_index = {a["index"]: a for a in added}
    tmp = csv_path.with_name(csv_path.name + ".amounts")
    try:
        with csv_path.open(encoding="utf-8", newline="") as src, tmp.open("w", encoding="utf-8", newline="") as dst:
            reader, write = csv.reader(src), _Writer(dst)
            next(reader)
            width = len(header)
            write(_widen(header, by_index, lambda i, a: a["normalised_column"]))
            for row in reader:
                if len(row) < width:
                    row += [""] * (width - len(row))
                write(_widen(row, by_index, lambda i, a: _cell(row[i], a)))
        os.replace(tmp, csv_path)
    finally:
        tmp.unlink(missing_ok=True)
    out = []
    for a in added:
        a.pop("index")
        a["not_normalised"] = dict(a["not_normalised"].most_common())
        out.append(a)
    columns[:] = _widen(list(columns), by_index, lambda i, a: a["normalised_column"])
    return out


def _widen(row: list[str], by_index: dict, extra) -> list[str]:
    out = []
    for i, cell in enumerate(row):
        out.append(cell)
        if i in by_index:
            out.append(extra(i, by_index[i]))
    return out


def _cell(text: str, facts: dict) -> str:
    if not text.strip():
        return ""
    amount = parse_amount(text)
    if amount is None:
        facts["not_normalised"]["unreadable"] += 1
        return ""
    currency = _currency(amount, facts)
    yuan = _in_yuan(amount, facts["header_unit"], currency)
    if yuan is None:
        why = currency or "no_unit"  # an ISO currency code (USD, HKD …) or no unit at all
        facts["not_normalised"][why] += 1
        return ""
    return format_yuan(yuan)


def annotate(profile: dict, added: list[dict]) -> dict:
    """Record in the profile which column holds the normalised values of which, in what unit."""
    by_name = {c["name"]: c for c in profile.get("columns", [])}
    for a in added:
        original, normalised = by_name.get(a["column"]), by_name.get(a["normalised_column"])
        if original is not None:
            checked = (profile.get("row_count") or 0) - (original.get("null_count") or 0)
            unreadable = a["not_normalised"].get("unreadable", 0)
            original.update(semantic_type="amount", unit=original.get("unit") or a["unit"], units=a["units"],
                            normalised_column=a["normalised_column"], not_normalised=a["not_normalised"],
                            checked_count=checked, valid_count=checked - unreadable,
                            validity=round((checked - unreadable) / checked, 6) if checked else None)
        if normalised is not None:
            normalised.update(semantic_type="amount", unit=NORMALISED_UNIT, derived_from=a["column"])
    return profile
