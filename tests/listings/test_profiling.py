"""Profiling on real government files (../shared/realdata) and on generated residents.

Each real file is first turned into what listings.reading hands over: a clean UTF-8 comma CSV whose
first line holds the column names (GBK decoded, TSV/semicolon re-delimited, the XLS header taken
from its third row with the group rows like 北京市（92所） dropped, headerless columns named 列1…).
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from listings import profiling
from listings.profiling import profile_csv, region_codes, region_table, ric_is_valid, uscc_is_valid
from listings.demo.residents import generate_residents

REALDATA = Path(__file__).resolve().parents[3] / "shared" / "realdata"


def _write(path: Path, header: list[str], rows: list[list[str]]) -> tuple[Path, list[str]]:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path, header


def _text_table(name: str, encoding: str = "utf-8", delimiter: str = ",", header: list[str] | None = None):
    with (REALDATA / name).open(encoding=encoding, newline="") as fh:
        rows = list(csv.reader(fh, delimiter=delimiter))
    if header is None:
        header, rows = rows[0], rows[1:]
    return header, rows


@pytest.fixture(scope="module")
def profiles(tmp_path_factory) -> dict[str, dict]:
    out = tmp_path_factory.mktemp("profiles")
    tables: dict[str, tuple[Path, list[str]]] = {}
    h, r = _text_table("cnemc_national_monitoring_sites.csv", encoding="gbk")
    tables["cnemc"] = _write(out / "cnemc.csv", h, r)
    h, r = _text_table("covid19_nhc_daily_by_region_2020-02-05.csv")
    tables["covid"] = _write(out / "covid.csv", h, r)
    h, r = _text_table("gb2260_mca_201904.tsv", delimiter="\t")
    tables["gb2260"] = _write(out / "gb2260.csv", h, r)
    h, r = _text_table("nbs_health_outpatient_services_1978-2014.csv")
    tables["outpatient"] = _write(out / "outpatient.csv", h, r)
    h, r = _text_table("nbs_gdp_1978-2014.csv")
    tables["gdp"] = _write(out / "gdp.csv", h, r)
    h, r = _text_table("hangzhou_bus_stops_hzbus.csv", delimiter=";", header=[])
    tables["bus"] = _write(out / "bus.csv", [f"列{i + 1}" for i in range(len(r[0]))], r)
    h, r = _text_table("cn_id_checkdigit_test_vectors.csv")
    tables["vectors"] = _write(out / "vectors.csv", h, r)
    tables["moe"] = _moe(out / "moe.csv")
    generate_residents(out / "residents.csv", 2000)
    with (out / "residents.csv").open(encoding="utf-8") as fh:
        tables["residents"] = (out / "residents.csv", next(csv.reader(fh)))
    return {k: profile_csv(p, cols) for k, (p, cols) in tables.items()}


def _moe(path: Path):
    import xlrd

    sheet = xlrd.open_workbook(str(REALDATA / "moe_higher_education_institutions_list.xls")).sheet_by_index(0)
    header = [str(v) for v in sheet.row_values(2)]
    rows = []
    for i in range(3, sheet.nrows):
        cells = sheet.row(i)
        if cells[0].ctype != xlrd.XL_CELL_NUMBER:  # group rows: 北京市（92所）
            continue
        rows.append([str(int(c.value)) if c.ctype == xlrd.XL_CELL_NUMBER and float(c.value).is_integer()
                     else str(c.value) for c in cells])
    return _write(path, header, rows)


def col(profile: dict, name: str) -> dict:
    return next(c for c in profile["columns"] if c["name"] == name)


def test_profile_is_json_able_and_complete(profiles):
    import json

    keys = {"name", "type", "semantic_type", "personal", "sensitive", "sensitive_kind", "null_count",
            "distinct_count", "min", "max", "top_values", "valid_count", "checked_count", "validity", "unit",
            "mean", "sum", "examples", "variants"}
    for name, profile in profiles.items():
        json.dumps(profile, ensure_ascii=False)
        assert {"row_count", "duplicate_rows", "columns"} <= profile.keys(), name
        for c in profile["columns"]:
            assert keys <= c.keys(), (name, c["name"])
            assert c["type"] in profiling.TYPES
            assert c["semantic_type"] in (None, *profiling.SEMANTIC_TYPES)
            assert len(c["top_values"]) <= 10 and len(c["examples"]) <= 3
            assert c["validity"] is None or 0 <= c["validity"] <= 1
            assert (c["validity"] is None) == (c["semantic_type"] is None)


def test_cnemc_monitoring_sites(profiles):
    p = profiles["cnemc"]
    assert p["row_count"] == 2026 and p["duplicate_rows"] == 0
    lng, lat = col(p, "经度"), col(p, "纬度")
    assert (lng["type"], lng["semantic_type"]) == ("decimal", "longitude")
    assert (lat["type"], lat["semantic_type"]) == ("decimal", "latitude")
    # 10 sites have no coordinates; every given one lies inside China
    assert lng["null_count"] == lat["null_count"] == 10
    assert lng["validity"] == lat["validity"] == 1.0 and lng["checked_count"] == 2016
    assert float(lng["min"]) > 73 and float(lng["max"]) < 136
    flag = col(p, "对照点")
    assert flag["type"] == "boolean" and dict(flag["top_values"]) == {"N": 1776, "Y": 250}
    assert col(p, "城市")["type"] == "category"
    assert col(p, "省级行政区")["type"] == "category" and col(p, "省级行政区")["distinct_count"] == 31
    assert col(p, "监测点编码")["type"] == "text" and col(p, "监测点编码")["distinct_count"] == 2026
    assert not p["personal"]


def test_covid_region_codes(profiles):
    p = profiles["covid"]
    assert p["row_count"] == 431
    assert col(p, "date")["type"] == "date"
    province, city = col(p, "provinceCode"), col(p, "cityCode")
    assert province["semantic_type"] == city["semantic_type"] == "region_code"
    assert province["type"] in ("text", "category") and city["type"] == "text"
    # the national total has no province code; 45 rows have no city code (外地来京, 第七师, totals …)
    assert province["null_count"] == 1 and city["null_count"] == 45
    # every code the file does give exists in GB/T 2260: the gaps are nulls, not invalid codes
    assert city["validity"] == 1.0 and city["checked_count"] == 386
    assert province["validity"] == 1.0
    for name in ("confirmed", "suspected", "cured", "dead"):
        assert col(p, name)["type"] == "integer"
    confirmed = col(p, "confirmed")
    assert confirmed["max"] == "28018" and confirmed["min"] == "0"
    assert int(confirmed["sum"]) > 28018  # national + provincial + city rows are all summed
    assert col(p, "country")["type"] == "category"


def test_gb2260_codes_validate_against_stdnum(profiles):
    code = col(profiles["gb2260"], "Code")
    assert code["type"] == "text" and code["semantic_type"] == "region_code"
    # stdnum's table holds every code that has existed (with years of validity), so all 3,219 codes
    # of the 2019-04 list are found; a list newer than stdnum's data could contain a few unknown
    # codes, hence the margin
    assert code["validity"] >= 0.95
    assert code["validity"] == 1.0 and code["checked_count"] == 3219
    assert col(profiles["gb2260"], "Revision")["type"] == "integer"


def test_gb2260_list_is_contained_in_stdnum_regions():
    with (REALDATA / "gb2260_mca_201904.tsv").open(encoding="utf-8") as fh:
        codes = [row["Code"] for row in csv.DictReader(fh, delimiter="\t")]
    known = region_codes()
    assert len(codes) == 3219
    assert sum(c in known for c in codes) / len(codes) >= 0.95


def test_nbs_outpatient_years_and_sparse_decimals(profiles):
    p = profiles["outpatient"]
    assert p["row_count"] == 37
    first = p["columns"][0]
    assert first["name"] == "" and first["semantic_type"] == "year" and first["type"] == "integer"
    assert (first["min"], first["max"]) == ("1978年", "2014年") and first["validity"] == 1.0
    rest = p["columns"][1:]
    assert all(c["type"] == "decimal" for c in rest)
    assert [c["null_count"] for c in rest] == [35, 32, 32, 32, 30, 32, 32]
    assert sum(c["null_count"] for c in p["columns"]) == 225  # 225 of 259 cells are empty
    # a statistics table about health is not health information about a person
    assert not p["personal"] and not p["sensitive"]


def test_nbs_gdp_decimals(profiles):
    p = profiles["gdp"]
    assert p["columns"][0]["semantic_type"] == "year"
    for c in p["columns"][1:]:
        assert c["type"] == "decimal" and c["null_count"] == 0, c["name"]
    gdp = col(p, "国内生产总值")
    assert float(gdp["min"]) == pytest.approx(3650.16851182) and float(gdp["max"]) == pytest.approx(635910.0)
    assert float(gdp["sum"]) > 0 and gdp["mean"] is not None


def test_hangzhou_bus_stops_headerless(profiles):
    p = profiles["bus"]
    assert p["row_count"] == 5589
    # the file lists every stop three times over
    assert p["duplicate_rows"] == 3726
    guid = col(p, "列1")
    assert guid["type"] == "text" and guid["semantic_type"] is None and guid["distinct_count"] == 1863
    lng, lat = col(p, "列3"), col(p, "列4")
    assert (lng["type"], lng["semantic_type"]) == ("decimal", "longitude")
    assert (lat["type"], lat["semantic_type"]) == ("decimal", "latitude")
    assert lng["null_count"] == lat["null_count"] == 99 and lng["validity"] == 1.0
    assert 119.9 < float(lng["min"]) < float(lng["max"]) < 120.5  # Hangzhou
    assert not p["personal"]


def test_moe_institutions(profiles):
    p = profiles["moe"]
    assert p["row_count"] == 2919
    code = col(p, "学校标识码")
    assert code["type"] == "text" and code["distinct_count"] == 2919
    assert code["min"].isdigit() and len(code["min"]) == 10
    assert col(p, "序号")["type"] == "integer"
    assert col(p, "所在地")["type"] == "category"
    assert col(p, "办学层次")["type"] == "category" and col(p, "办学层次")["distinct_count"] == 2
    assert col(p, "学校名称")["semantic_type"] == "enterprise_name"
    # the register itself is messy: “江西省” is also written with trailing spaces
    variants = col(p, "主管部门")["variants"]
    assert any("江西省" in group and any(v != v.strip() for v in group) for group in variants)
    assert col(p, "备注")["null_count"] == 2074


def test_id_vectors_mixed_column(profiles):
    p = profiles["vectors"]
    assert p["row_count"] == 218
    value = col(p, "value")
    # 206 credit codes and 12 ID numbers in one column: the majority decides the semantic type
    assert value["semantic_type"] == "uscc"
    assert value["checked_count"] == 218 and value["valid_count"] == 202
    assert value["validity"] == pytest.approx(202 / 218)
    # the valid ID numbers among them still make the column sensitive; one belongs to a child
    # born 2014-10-05 (44011320141005001x)
    assert "resident_id" in value["sensitive_kind"] and value["personal"] and value["sensitive"]
    assert value["minors"] is True
    assert col(p, "checksum_ok_by_own_impl")["type"] == "boolean"


def test_validators_on_the_vectors():
    """Credit codes: stdnum's verdict. ID numbers: stdnum's verdict except where stdnum refuses a region
    code only because it did not exist in the birth year (the code is where the number was issued,
    possibly long after birth: 110111 房山区 dates from 1986, 110201 昌平县 was renamed in 1982)."""
    with (REALDATA / "cn_id_checkdigit_test_vectors.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    impossible = []
    for row in rows:
        v = row["value"]
        assert uscc_is_valid(v) == uscc.is_valid(v), v
        if row["id_type"] != "ric":
            continue
        if row["expected"] == "invalid (place)":
            assert ric_is_valid(v) and not ric.is_valid(v), row
        else:
            assert ric_is_valid(v) == ric.is_valid(v) == row["expected"].startswith("valid"), row
        if row["checksum_ok_by_own_impl"] == "True" and not ric_is_valid(v):
            impossible.append(v)
    # a correct check digit with an impossible date (month 13) or a code that never existed (990426)
    assert sorted(impossible) == ["360426199113010079", "990426199112010074"]


def test_validators_agree_with_stdnum_on_generated_numbers():
    rng = random.Random(3)
    codes = sorted(region_table())
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    for _ in range(3000):
        born = dt.date(1900, 1, 1) + dt.timedelta(days=rng.randrange(125 * 365))
        body = f"{rng.choice(codes)}{born:%Y%m%d}{rng.randrange(1000):03d}"
        good = body + ric.calc_check_digit(body + "0")
        bad = body + rng.choice("0123456789X")
        for v in (good, bad, good.lower()):
            # stdnum's "valid" implies ours; ours differs only on the birth-year rule for the region
            assert ric_is_valid(v) == ric.is_valid(v) or (ric_is_valid(v) and _only_place_year_fails(v)), v
        credit = "".join(rng.choice(alphabet[:10]) for _ in range(8)) + "".join(rng.choice(alphabet) for _ in range(9))
        spaced = credit[:6] + " " + credit[6:] + "0"
        for v in (credit + uscc.calc_check_digit(credit + "0"), credit + rng.choice(alphabet), spaced):
            assert uscc_is_valid(v) == uscc.is_valid(v), v


def _only_place_year_fails(value: str) -> bool:
    """stdnum refuses the number for its region code alone: a real date, a known code, the right check
    digit, and still InvalidComponent (the code did not exist in the birth year)."""
    from stdnum.exceptions import InvalidComponent

    v = value.upper()
    if v[:6] not in region_table() or v[-1] != ric.calc_check_digit(v):
        return False
    try:
        ric.validate(v)
    except InvalidComponent:
        return True
    return False


def test_residents(profiles):
    p = profiles["residents"]
    assert p["row_count"] == 2000 and p["personal"] and p["sensitive"]
    name = col(p, "姓名")
    assert name["semantic_type"] == "person_name" and name["personal"] and not name["sensitive"]
    ident = col(p, "身份证号")
    assert ident["semantic_type"] == "resident_id" and ident["type"] == "text"
    assert ident["personal"] and ident["sensitive"] and "resident_id" in ident["sensitive_kind"]
    assert ident["validity"] == 1.0 and ident["checked_count"] == 2000
    assert ident["minors"] is True and "minors" in ident["sensitive_kind"] and p["minors"]
    mobile = col(p, "手机号")
    assert mobile["semantic_type"] == "mobile" and mobile["type"] == "text" and mobile["personal"]
    assert mobile["validity"] == 1.0
    addr = col(p, "住址")
    assert addr["semantic_type"] == "address" and addr["personal"] and addr["validity"] == 1.0
    assert col(p, "出生日期")["type"] == "date"
    status = col(p, "参保状态")
    assert status["type"] == "category" and status["null_count"] > 0
    assert any({"正常参保", "正常", "正常缴费"} <= set(group) for group in status["variants"])
    assert col(p, "性别")["type"] == "category" and col(p, "性别")["personal"]


def test_generated_residents_are_valid_and_deterministic(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    generate_residents(a, 300, seed=11)
    generate_residents(b, 300, seed=11)
    assert a.read_bytes() == b.read_bytes()
    with a.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 300
    assert all(ric.is_valid(r["身份证号"]) for r in rows)
    assert all((int(r["身份证号"][16]) % 2 == 1) == (r["性别"] == "男") for r in rows)
    assert all(r["出生日期"].replace("-", "") == r["身份证号"][6:14] for r in rows)


def test_types_dates_booleans_codes_and_units(tmp_path):
    path = tmp_path / "mixed.csv"
    rows = [["统计日期", "登记时间", "启用", "邮编", "金额(万元)", "营收", "年份", "占比", "备注代码"]]
    for i in range(120):
        rows.append([f"2024年{i % 12 + 1}月{i % 28 + 1}日", f"2024-01-{i % 28 + 1:02d} 08:{i % 60:02d}:00",
                     "是" if i % 3 else "否", f"0{i % 9 + 1}0000", f"{i * 1.5:.1f}", f"{i}.5万元", str(1990 + i % 30),
                     f"{i % 100}%", f"{i:04d}"])
    _write(path, rows[0], rows[1:])
    p = profile_csv(path, rows[0])
    assert col(p, "统计日期")["type"] == "date" and col(p, "统计日期")["min"] == "2024年1月1日"
    assert col(p, "登记时间")["type"] == "datetime"
    assert col(p, "启用")["type"] == "boolean"
    assert col(p, "邮编")["type"] in ("text", "category")  # leading zeros: a code, not a number
    amount = col(p, "金额(万元)")
    assert amount["type"] == "decimal" and amount["semantic_type"] == "amount" and amount["unit"] == "万元"
    revenue = col(p, "营收")
    assert revenue["type"] == "decimal" and revenue["unit"] == "万元" and revenue["semantic_type"] == "amount"
    assert revenue["max"] == "119.5万元"
    assert col(p, "年份")["semantic_type"] == "year" and col(p, "年份")["type"] == "integer"
    assert col(p, "占比")["type"] == "integer" and col(p, "占比")["semantic_type"] is None
    assert col(p, "备注代码")["type"] == "text"


def test_bank_cards_and_health_are_sensitive(tmp_path):
    from stdnum import luhn

    rng = random.Random(5)
    path = tmp_path / "patients.csv"
    header = ["姓名", "银行卡号", "诊断", "就诊日期"]
    rows = []
    for i in range(200):
        body = "622202" + "".join(rng.choice("0123456789") for _ in range(12))
        rows.append([rng.choice("王李张刘陈") + rng.choice("伟芳娜敏静") + rng.choice(["", "强"]),
                     body + luhn.calc_check_digit(body), rng.choice(["高血压", "糖尿病", "上呼吸道感染"]),
                     f"2024-03-{i % 28 + 1:02d}"])
    _write(path, header, rows)
    p = profile_csv(path, header)
    card = col(p, "银行卡号")
    assert card["semantic_type"] is None and "bank_card" in card["sensitive_kind"] and card["sensitive"]
    assert card["type"] == "text"
    diagnosis = col(p, "诊断")
    assert "health" in diagnosis["sensitive_kind"] and diagnosis["personal"] and diagnosis["sensitive"]
    assert col(p, "姓名")["semantic_type"] == "person_name"


def test_empty_and_header_only(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("a,b\n", encoding="utf-8")
    p = profile_csv(path, ["a", "b"])
    assert p["row_count"] == 0 and p["duplicate_rows"] == 0
    assert [c["null_count"] for c in p["columns"]] == [0, 0]
    assert all(c["validity"] is None and c["top_values"] == [] for c in p["columns"])


def test_duplicates_blanks_and_progress(tmp_path):
    path = tmp_path / "dups.csv"
    path.write_text("名称,数量\n甲,1\n甲,1\n乙, \n丙,\n甲,1\n", encoding="utf-8")
    calls: list[tuple[float, str]] = []
    p = profile_csv(path, ["名称", "数量"], progress=lambda f, s: calls.append((f, s)))
    assert p["row_count"] == 5 and p["duplicate_rows"] == 2
    assert col(p, "数量")["null_count"] == 2  # an empty and a blank cell
    assert col(p, "名称")["top_values"][0] == ["甲", 3]
    fractions = [f for f, _s in calls]
    assert len(calls) >= 5 and fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert all(isinstance(s, str) and s for _f, s in calls)


def test_sample_bounds_expensive_checks(tmp_path):
    path = tmp_path / "ids.csv"
    generate_residents(path, 1500)
    with path.open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    p = profile_csv(path, header, sample_size=400)
    ident = col(p, "身份证号")
    assert ident["semantic_type"] == "resident_id" and ident["checked_count"] <= 400 and ident["validity"] == 1.0
    # cheap checks still cover every row
    assert col(p, "手机号")["checked_count"] == 1500
    again = profile_csv(path, header, sample_size=400)
    assert again == p  # deterministic


def test_type_is_verified_on_every_row_not_only_the_sample(tmp_path):
    path = tmp_path / "tricky.csv"
    rows = 40_000
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["数量", "备注"])
        for i in range(rows):
            # the sample takes every 2nd row: all of those are numbers, 10 % of the others are not
            w.writerow([str(i) if i % 2 == 0 or i % 20 != 1 else "暂无", "x"])
    p = profile_csv(path, ["数量", "备注"], sample_size=20_000)
    assert p["row_count"] == rows
    assert col(p, "数量")["type"] == "text"


def test_coordinates_of_identified_people_are_whereabouts(tmp_path):
    path = tmp_path / "track.csv"
    rng = random.Random(9)
    header = ["手机号", "经度", "纬度", "行程"]
    rows = [[f"139{rng.randrange(10**8):08d}", f"{120 + rng.random():.6f}", f"{30 + rng.random():.6f}",
             rng.choice(["杭州东站-西湖", "萧山机场-滨江"])] for _ in range(300)]
    _write(path, header, rows)
    p = profile_csv(path, header)
    assert col(p, "手机号")["semantic_type"] == "mobile"
    for name in ("经度", "纬度", "行程"):
        assert "whereabouts" in col(p, name)["sensitive_kind"] and col(p, name)["personal"], name


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("元年%％万亿 \n\t,.-+:/eE年月日中文aZ０１") + ["\u3000"]), max_size=12))
def test_a_value_without_a_digit_is_only_checked_for_its_unit(value):
    """_type_stats skips the number, date and time patterns for a value without a digit and looks for a unit only
    when the value ends like one: what that relies on, for any such value."""
    from listings.profiling._rules import _RX
    from listings.profiling._typing import _UNIT_LAST

    for kind in ("integer", "number", "thousands", "coordinate", "date_like", "datetime_like"):
        assert not _RX[kind].match(value) and not _RX[kind].fullmatch(value)
    if _RX["unit_suffix"].search(value):
        assert value[-1:] in _UNIT_LAST


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ﬀßŉXxAB -\t\u3000+８６１３１２３中文省市路号王伟")), max_size=20))
def test_a_value_without_a_digit_matches_no_identifier(value):
    """Semantic detection counts identifier matches (ID numbers, credit codes, mobiles, region codes) only over the
    values with a digit: no value without one matches, however it is cleaned or upper-cased."""
    from listings.profiling._semantics import DIGIT_KINDS
    from listings.profiling._typing import _Typing

    assert not any(_Typing._matches(None, kind, value) for kind in DIGIT_KINDS)
