"""Amounts with units in the text (issue 7, finding 4): 30(万), 24,500(万元), 40万人民币, 0.0003万人民币,
1.2亿元 are amounts; the prepared table keeps them and gets a column in 元 beside them; foreign currencies
are never silently turned into 元; missing markers stay null."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings, strategies as st

from factories import login, make_listing, make_user
from listings.profiling import amounts
from listings.profiling.amounts import add_normalised_columns, amount_column, format_yuan, parse_amount
from listings.profiling import profile_csv

ISSUE_VALUES = ["30(万)", "24,500(万元)", "40万人民币", "0.0003万人民币", "1.2亿元", "N/A", "500万美元"]
EXPECTED_YUAN = {"30(万)": "300000", "24,500(万元)": "245000000", "40万人民币": "400000", "0.0003万人民币": "3",
                 "1.2亿元": "120000000", "N/A": "", "500万美元": ""}


def _plain(d: Decimal) -> str:
    text = format(d.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _thousands(text: str) -> str:
    whole, _, frac = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    whole = f"{int(whole.lstrip('-')):,}"
    return sign + whole + ("." + frac if frac else "")


STYLES = ("{n}({m})", "{n}({m}元)", "{n}（{m}元）", "{n}{m}人民币", "{n}{m}元", "人民币{n}{m}元", "RMB {n}{m}",
          "{n} {m}元", "{n}{m}元(人民币)", "¥{n}{m}")
MULTS = ("", "千", "万", "百万", "千万", "亿")


@settings(max_examples=400, deadline=None)
@given(fen=st.integers(0, 10**15), style=st.sampled_from(STYLES), mult=st.sampled_from(MULTS),
       commas=st.booleans())
def test_any_formatted_amount_parses_back_to_the_same_fen(fen, style, mult, commas):
    yuan = Decimal(fen) / 100
    factor = amounts.MULTIPLIERS.get(mult, 1)
    number = _plain(yuan / factor)
    if commas:
        number = _thousands(number)
    if not mult and "({m})" in style:
        return  # "30()" names no unit: not an amount, tested below
    text = style.format(n=number, m=mult)
    amount = parse_amount(text)
    assert amount is not None, text
    assert amount.currency in (None, "CNY") and amount.value == yuan, text
    assert amounts.to_fen(amount) == fen
    # the normalised cell reads back as the same amount
    assert Decimal(format_yuan(amount.value)) * 100 == fen
    assert "E" not in format_yuan(amount.value)


@settings(max_examples=200, deadline=None)
@given(fen=st.integers(1, 10**12), mult=st.sampled_from(MULTS),
       word=st.sampled_from(["美元", "港元", "港币", "USD", "欧元"]))
def test_foreign_currency_is_recognised_not_taken_for_yuan(fen, mult, word):
    yuan = Decimal(fen) / 100
    number = _plain(yuan / amounts.MULTIPLIERS.get(mult, 1))
    amount = parse_amount(f"{number}{mult}{word}")
    assert amount is not None and amount.currency not in (None, "CNY") and amount.value == yuan


def test_the_issue_values():
    for text, expected in EXPECTED_YUAN.items():
        amount = parse_amount(text)
        if text == "N/A":
            assert amount is None
        elif text == "500万美元":
            assert amount.currency == "USD" and amount.value == 5_000_000
        else:
            assert format_yuan(amount.value) == expected, text
    for text in ("30()", "100元美元", "5元/斤", "3万元以下", "2020年", "壹佰万", "约100万", "", "50%"):
        assert parse_amount(text) is None, text


def test_which_columns_are_amounts():
    assert amount_column("注册资本", [v for v in ISSUE_VALUES if v != "N/A"])["unit"] == "万元"
    assert amount_column("营收", ["1.5万元", "2万元", "0.8万元"])["unit"] == "万元"
    assert amount_column("人口", ["1.2万", "3万", "8000"]) is None  # a bare 万 is no money without a money header
    assert amount_column("注册资本", ["30(万)", "40(万)"])["unit"] == "万元"  # ... with one it is
    assert amount_column("金额", ["100", "200", "300"]) is None  # plain numbers: the profiler types them
    assert amount_column("备注", ["已核实", "待补充", "1万元"]) is None


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def _read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_prepared_table_gets_a_yuan_column_beside_the_original(tmp_path):
    path = tmp_path / "t.csv"
    values = ["30(万)", "24,500(万元)", "40万人民币", "0.0003万人民币", "1.2亿元", "", "500万美元", "100"]
    _write(path, ["企业名称", "注册资本", "成立日期"], [[f"杭州某{i}有限公司", v, "2020-01-01"] for i, v in
                                                     enumerate(values * 5)])
    columns = ["企业名称", "注册资本", "成立日期"]
    added = add_normalised_columns(path, columns)
    assert columns == ["企业名称", "注册资本", "注册资本(元)", "成立日期"]
    assert added[0]["normalised_column"] == "注册资本(元)" and added[0]["unit"] == "万元"
    # 美元 is not converted, and a bare 100 beside 万-valued cells could be 元 or 万元: both left empty, counted
    assert added[0]["not_normalised"] == {"USD": 5, "no_unit": 5}
    rows = _read(path)
    assert [r["注册资本"] for r in rows[:8]] == values  # the original column is untouched
    assert [r["注册资本(元)"] for r in rows[:8]] == ["300000", "245000000", "400000", "3", "120000000", "", "", ""]
    assert [r["成立日期"] for r in rows[:3]] == ["2020-01-01"] * 3


def test_a_header_unit_applies_to_bare_numbers(tmp_path):
    path = tmp_path / "t.csv"
    _write(path, ["注册资本(万元)"], [["30"], ["40万元"], ["1.5亿元"], ["0.5"]])
    columns = ["注册资本(万元)"]
    added = add_normalised_columns(path, columns)
    assert columns == ["注册资本(万元)", "注册资本(元)"] and added[0]["not_normalised"] == {}
    assert [r["注册资本(元)"] for r in _read(path)] == ["300000", "400000", "150000000", "5000"]


def test_a_file_without_amounts_is_not_rewritten(tmp_path):
    path = tmp_path / "t.csv"
    _write(path, ["区县", "金额(万元)"], [["上城区", "30"], ["西湖区", "40.5"]])
    before = path.read_bytes()
    assert add_normalised_columns(path, ["区县", "金额(万元)"]) == []
    assert path.read_bytes() == before


def test_mixed_units_are_not_summed_as_numbers(tmp_path):
    path = tmp_path / "t.csv"
    _write(path, ["营收"], [["1.2亿元"], ["500万元"], ["30万元"], ["8000元"]] * 10)
    col = profile_csv(path, ["营收"])["columns"][0]
    # stripping the units would add 1.2 and 500 as if they were the same unit
    assert col["type"] == "text" and col["semantic_type"] == "amount" and col["sum"] is None
    assert col["unit"] == "万元" and col["units"] == {"万元": 20, "亿元": 10, "元": 10}


async def test_upload_through_the_job(client, job_runtime, tmp_path):
    path = tmp_path / "企业登记.csv"
    rows = [[f"杭州市第{i}建设有限公司", ISSUE_VALUES[i % len(ISSUE_VALUES)], f"2019-0{i % 9 + 1}-15"]
            for i in range(70)]
    _write(path, ["企业名称", "注册资本", "成立日期"], rows)
    holder = await make_user(["holder"])
    listing = (await make_listing(holder, job_runtime, content=path.read_bytes(), price_fen=0))["listing"]
    await login(client, holder)
    asset = (await client.get(f"/api/v1/assets/{listing['asset']}")).json()
    assert asset["profile_status"] == "done"
    names = [c["name"] for c in asset["columns"]]
    assert names == ["企业名称", "注册资本", "注册资本(元)", "成立日期"]
    original = asset["columns"][1]
    assert original["type"] == "text" and original["semantic_type"] == "amount" and original["unit"] == "万元"
    assert original["normalised_column"] == "注册资本(元)" and original["not_normalised"] == {"USD": 10}
    assert original["null_count"] == 10  # N/A stays null
    yuan = asset["columns"][2]
    assert yuan["type"] in ("integer", "decimal") and yuan["semantic_type"] == "amount" and yuan["unit"] == "元"
    assert yuan["derived_from"] == "注册资本" and yuan["null_count"] == 20  # N/A and 美元
    assert (yuan["min"], yuan["max"]) == ("3", "245000000")
    assert any("注册资本(元)" in w for w in asset["reading"]["warnings"])
    # the prepared table (what buyers receive) holds both columns
    from listings.tables import AssetVersion
    from market import runtime

    version = await AssetVersion.select().where(AssetVersion.id == asset["version_id"]).first()
    text = b"".join(runtime.storage().open(version["prepared_key"])).decode("utf-8")
    prepared = list(csv.DictReader(io.StringIO(text)))
    assert [r["注册资本"] for r in prepared[:7]] == ["30(万)", "24,500(万元)", "40万人民币", "0.0003万人民币", "1.2亿元",
                                                "", "500万美元"]
    assert [r["注册资本(元)"] for r in prepared[:7]] == [EXPECTED_YUAN[v] for v in ISSUE_VALUES]
    # the unit is shown to the holder and on the listing
    page = await client.get(f"/my/data/{listing['asset']}")
    assert "万元" in page.text and 'data-testid="normalised"' in page.text
    page = await client.get(f"/listings/{listing['id']}")
    assert "注册资本(元)（单位：元）" in page.text and "注册资本（单位：万元）" in page.text
