"""The bank statement parser: the styles banks write amounts, dates and encodings in all read back to
the same 分 (a property over random rows), and what it skips or refuses."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from hypothesis import given, settings, strategies as st

from billing.payments import _statement
from market.errors import DomainError


def _yuan(fen: int, style: str) -> str:
    major, minor = divmod(fen, 100)
    plain = f"{major}.{minor:02d}"
    grouped = f"{major:,}.{minor:02d}"
    return {
        "plain": plain,
        "grouped": grouped,
        "yen": f"¥{grouped}",
        "fullwidth_yen": f"￥{plain}",
        "unit": f"{grouped}元",
        "short": f"{major}.{minor:02d}".rstrip("0").rstrip(".") if minor % 10 == 0 else plain,
        "spaced": f" {plain} ",
        "plus": f"+{plain}",
    }[style]


def _date(day: date, style: str) -> str:
    return {
        "iso": day.isoformat(),
        "slash": f"{day.year}/{day.month}/{day.day}",
        "compact": day.strftime("%Y%m%d"),
        "chinese": f"{day.year}年{day.month}月{day.day}日",
        "time": f"{day.isoformat()} 10:23:45",
        "dots": f"{day.year}.{day.month:02d}.{day.day:02d}",
    }[style]


LAYOUTS = {
    # header, and how a credit of `amount` is written into a row
    "credit": (["交易日期", "借方发生额", "贷方发生额(元)", "对方户名", "摘要"], lambda d, a, p, t: [d, "", a, p, t]),
    "income": (["记账日期", "支出金额", "收入金额", "付款人名称", "用途"], lambda d, a, p, t: [d, "", a, p, t]),
    "signed": (["交易日期", "交易金额", "对方户名", "附言"], lambda d, a, p, t: [d, a, p, t]),
    "amount": (["日期", "金额（人民币）", "对方账户名称", "备注"], lambda d, a, p, t: [d, a, p, t]),
}

rows = st.lists(st.tuples(
    st.integers(1, 10**11),
    st.dates(date(2000, 1, 1), date(2099, 12, 31)),
    st.sampled_from(["plain", "grouped", "yen", "fullwidth_yen", "unit", "short", "spaced", "plus"]),
    st.sampled_from(["iso", "slash", "compact", "chinese", "time", "dots"]),
    st.text(alphabet="杭州数据有限公司科技 ABC,\"", max_size=12),
), min_size=1, max_size=20)


@settings(max_examples=150, deadline=None)
@given(rows=rows, layout=st.sampled_from(sorted(LAYOUTS)), encoding=st.sampled_from(["utf-8", "utf-8-sig", "gbk"]),
       delimiter=st.sampled_from([",", "\t"]), preamble=st.booleans())
def test_rows_in_any_accepted_style_parse_back_to_the_same_fen(rows, layout, encoding, delimiter, preamble):
    header, make = LAYOUTS[layout]
    out = io.StringIO()
    if preamble:
        out.write("账号：3301040000000000000\n户名：杭州数据交易所有限公司\n")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    for fen, day, amount_style, date_style, payer in rows:
        writer.writerow(make(_date(day, date_style), _yuan(fen, amount_style), payer, "货款"))
    text = out.getvalue()
    if encoding == "gbk":
        text = text.replace("¥", "￥")  # GBK has only the full-width yen sign
    lines = _statement.parse(text.encode(encoding))
    assert [(line.amount_fen, line.booked_on) for line in lines] == [(fen, day) for fen, day, *_ in rows]
    assert [line.payer_name for line in lines] == [p.strip() for *_, p in rows]
    prints = _statement.fingerprints(lines)
    assert len(set(prints)) == len(prints)  # identical rows are still distinct lines (both are money)


def test_debits_blank_and_totals_are_skipped_and_identical_rows_both_kept():
    text = ("交易日期,借方发生额,贷方发生额,对方户名,摘要\n"
            "2026-12-01,100.00,,电力公司,电费\n"
            "2026-12-01,,200.00,某公司,货款\n"
            "2026-12-01,,200.00,某公司,货款\n"
            ",,,,\n"
            "合计,100.00,400.00,,\n")
    lines = _statement.parse(text.encode())
    assert [line.amount_fen for line in lines] == [20_000, 20_000]
    assert [line.row_no for line in lines] == [3, 4]
    a, b = _statement.fingerprints(lines)
    assert a != b and _statement.fingerprints(_statement.parse(text.encode())) == [a, b]


def test_too_many_rows_is_refused():
    text = "交易日期,金额\n" + "2026-12-01,1.00\n" * (_statement.MAX_ROWS + 40)
    with pytest.raises(DomainError) as exc:
        _statement.parse(text.encode())
    assert exc.value.code == "statement.too_many_rows"
