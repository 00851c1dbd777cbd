"""The reading stage on the real public files in ../shared/realdata and on generated edge cases."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import string
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import pytest

from listings import reading
from listings.reading import _bytecopy, _fast
from listings.reading import _sources as _reading_sources
from listings.reading import PreparedTable, ReadError, prepare
from market.i18n import gettext as translate

REALDATA = Path(__file__).resolve().parents[3] / "shared" / "realdata"
MARKERS = {"N/A", "NA", "n/a", "-", "—", "--", "-;", "无", "null", "NULL", "None", "#N/A"}


def _run(tmp_path: Path, name: str, data: bytes | str, encoding: str = "utf-8") -> PreparedTable:
    src = tmp_path / ("src-" + name)
    src.write_bytes(data.encode(encoding) if isinstance(data, str) else data)
    return prepare(src, tmp_path / "out", filename=name)


def _rows(table: PreparedTable) -> list[list[str]]:
    with table.csv_path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def _check_duckdb(table: PreparedTable) -> None:
    """The profiler's exact call loads the output with the same row count and column names."""
    con = duckdb.connect()
    query = "select * from read_csv(?, header=true, all_varchar=true)"
    assert con.execute(f"select count(*) from ({query})", [str(table.csv_path)]).fetchone()[0] == table.row_count
    names = [r[0] for r in con.execute(f"describe {query}", [str(table.csv_path)]).fetchall()]
    assert names == table.columns
    raw = table.csv_path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert next(csv.reader(io.StringIO(raw.decode("utf-8"), newline=""))) == table.columns


def _real(tmp_path: Path, name: str) -> PreparedTable:
    table = prepare(REALDATA / name, tmp_path / "out", filename=name)
    _check_duckdb(table)
    assert len(_rows(table)) == table.row_count + 1
    return table


# --- the real files ------------------------------------------------------------------------------------------------

NBS_HEALTH = ["年份", "医疗卫生机构急诊抢救成功率", "医疗卫生机构急诊病死率", "医疗卫生机构观察室留观病例数",
              "医疗卫生机构观察室病死率", "医疗卫生机构诊疗人次", "医疗卫生机构门急诊诊疗人次数",
              "医疗卫生机构门诊健康检查人数"]
# file: format, encoding, delimiter, header_row, header_rows, skipped_rows, unit, group_column, sheet, columns, rows
REAL = {
    "cnemc_national_monitoring_sites.csv": (
        "csv", "gbk", ",", 0, 1, [], None, None, None,
        ["监测点编码", "监测点名称", "城市", "经度", "纬度", "对照点", "省级行政区", "地级行政区"], 2026),
    "covid19_nhc_daily_by_region_2020-02-05.csv": (
        "csv", "utf-8", ",", 0, 1, [], None, None, None,
        ["date", "country", "countryCode", "province", "provinceCode", "city", "cityCode", "confirmed", "suspected",
         "cured", "dead"], 431),
    "gb2260_mca_201904.tsv": (
        "tsv", "utf-8", "\t", 0, 1, [], None, None, None, ["Source", "Revision", "Code", "Name"], 3219),
    "hangzhou_bus_stops_hzbus.csv": (
        "csv", "utf-8", ";", None, 0, [], None, None, None, [f"列{i}" for i in range(1, 8)], 5589),
    "moe_higher_education_institutions_list.xls": (
        "xls", None, None, 2, 1, [0, 1], None, "分组", "全国普通高等学校名单",
        ["序号", "学校名称", "学校标识码", "主管部门", "所在地", "办学层次", "备注", "分组"], 2919),
    "nbs_gdp_1978-2014.csv": (
        "csv", "utf-8", ",", 0, 1, [], None, None, None,
        ["年份", "人均国内生产总值", "国内生产总值", "国民总收入", "第一产业增加值", "第三产业增加值",
         "第二产业增加值"], 37),
    "nbs_health_outpatient_services_1978-2014.csv": (
        "csv", "utf-8", ",", 0, 1, [], None, None, None, NBS_HEALTH, 37),
    "cn_id_checkdigit_test_vectors.csv": (
        "csv", "utf-8", ",", 0, 1, [], None, None, None,
        ["id_type", "value", "expected", "note", "checksum_ok_by_own_impl"], 218),
}


def test_every_real_file_is_covered():
    assert {p.name for p in REALDATA.iterdir() if p.name != "README.md"} == set(REAL)


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_file_detection(tmp_path, name):
    t = _real(tmp_path, name)
    got = (t.format, t.encoding, t.delimiter, t.header_row, t.header_rows, t.skipped_rows, t.unit, t.group_column,
           t.sheet, t.columns, t.row_count)
    assert got == REAL[name]
    assert t.missing_markers == []  # none of these files uses N/A, -, 无 …


def test_real_cnemc_gbk_content(tmp_path):
    rows = _rows(_real(tmp_path, "cnemc_national_monitoring_sites.csv"))
    assert rows[1] == ["1001A", "万寿西宫", "北京", "116.3621", "39.8784", "N", "北京市", "北京市"]
    assert sum(1 for r in rows[1:] if r[3] == "") == 10  # the sites without coordinates stay empty


def test_real_covid19_content(tmp_path):
    rows = _rows(_real(tmp_path, "covid19_nhc_daily_by_region_2020-02-05.csv"))
    assert rows[1] == ["2020-02-05", "中国", "CN", "", "", "", "", "28018", "24702", "1153", "563"]
    assert sum(1 for r in rows[1:] if r[6] == "") == 45


def test_real_gb2260_content(tmp_path):
    assert _rows(_real(tmp_path, "gb2260_mca_201904.tsv"))[1] == ["mca", "201904", "110000", "北京市"]


def test_real_hangzhou_bus_stops_keeps_the_list_in_the_last_field(tmp_path):
    t = _real(tmp_path, "hangzhou_bus_stops_hzbus.csv")
    first = _rows(t)[1]
    assert first[:5] == ["0c3c09f4-3014-4b00-9431-44461e09e798", "小和山公交站", "120.026069890142",
                         "30.2099284261988", "留和路"]
    assert first[6].startswith("f491b1b2-273f-4acd-9199-c07ebfb76412,1,f491b1b2") and first[6].count(",") >= 10
    assert any("列1" in w and "表头" in w for w in t.warnings)


def test_real_moe_xls_groups(tmp_path):
    t = _real(tmp_path, "moe_higher_education_institutions_list.xls")
    assert t.row_count == 2953 - 3 - 31  # minus 2 title rows, the header and 31 province group rows
    rows = _rows(t)
    assert rows[1] == ["1", "北京大学", "4111010001", "教育部", "北京市", "本科", "", "北京市（92所）"]
    assert rows[-1] == ["2919", "阜康职业技术学院", "4165014941", "新疆维吾尔自治区", "昌吉回族自治州", "专科", "",
                        "新疆维吾尔自治区（67所）"]
    assert [int(r[0]) for r in rows[1:]] == list(range(1, 2920))  # no group row left among the data
    assert all(len(r[2]) == 10 and r[2].isdigit() for r in rows[1:])
    assert any("31 个分组行" in w and "北京市（92所）" in w and "第 4 行" in w for w in t.warnings)


@pytest.mark.parametrize("name", ["nbs_gdp_1978-2014.csv", "nbs_health_outpatient_services_1978-2014.csv"])
def test_real_nbs_year_rows_are_data_not_groups(tmp_path, name):
    rows = _rows(_real(tmp_path, name))
    assert [r[0] for r in rows[1:]] == [f"{y}年" for y in range(1978, 2015)]


def test_real_cn_id_vectors_content(tmp_path):
    rows = _rows(_real(tmp_path, "cn_id_checkdigit_test_vectors.csv"))
    assert rows[1][3] == 'python-stdnum tests/test_cn_uscc.doctest (numbers "found online")'


# --- generated text cases ------------------------------------------------------------------------------------------

def test_utf8_bom(tmp_path):
    t = _run(tmp_path, "bom.csv", "\ufeff名称,数量\n苹果,3\n梨,5\n")
    assert (t.encoding, t.columns, t.row_count) == ("utf-8-sig", ["名称", "数量"], 2)
    _check_duckdb(t)


def test_gbk_title_and_unit_rows(tmp_path):
    text = "2024年各区学校数量统计表,,\n单位：个,,\n地区,小学,中学\n东城区,58,30\n西城区,61,35\n朝阳区,120,77\n"
    t = _run(tmp_path, "schools.csv", text, encoding="gbk")
    assert (t.encoding, t.delimiter, t.header_row, t.header_rows) == ("gbk", ",", 2, 1)
    assert t.skipped_rows == [0, 1] and t.unit == "个"
    assert t.columns == ["地区", "小学", "中学"] and t.row_count == 3
    assert _rows(t)[1] == ["东城区", "58", "30"]
    _check_duckdb(t)


@pytest.mark.parametrize("line, unit", [("单位:万元", "万元"), ("（单位：亿元）", "亿元"), ("计量单位：吨", "吨")])
def test_unit_row_variants(tmp_path, line, unit):
    t = _run(tmp_path, "u.csv", f"{line}\n地区,金额\n北京,1.5\n上海,2.5\n")
    assert (t.unit, t.skipped_rows, t.header_row, t.columns) == (unit, [0], 1, ["地区", "金额"])


def test_utf16_unicode_text_from_excel(tmp_path):
    t = _run(tmp_path, "u.txt", "名称\t数量\n甲\t1\n乙\t2\n".encode("utf-16"))
    assert (t.format, t.encoding, t.delimiter, t.columns, t.row_count) == ("tsv", "utf-16", "\t", ["名称", "数量"], 2)


def test_gb18030_only_characters(tmp_path):
    t = _run(tmp_path, "g.csv", "名称,值\n𠀀字,1\n乙,2\n", encoding="gb18030")
    assert t.encoding == "gb18030"
    assert _rows(t)[1] == ["𠀀字", "1"]


def test_gbk_after_an_ascii_start_beyond_the_sniffed_bytes(tmp_path):
    lines = ["code,name"] + [f"{i:06d},abc" for i in range(12_000)] + ["999999,北京市"]
    t = _run(tmp_path, "late.csv", "\n".join(lines) + "\n", encoding="gbk")
    assert t.encoding == "gb18030" and t.row_count == 12_001
    assert _rows(t)[-1] == ["999999", "北京市"]
    assert any("GB18030" in w for w in t.warnings)


def test_two_row_merged_header_csv(tmp_path):
    text = ("地区,2019年,,2020年,\n"
            ",门诊人次,住院人次,门诊人次,住院人次\n"
            "北京,100,20,110,25\n上海,90,18,95,19\n")
    t = _run(tmp_path, "merged.csv", text)
    assert (t.header_row, t.header_rows, t.skipped_rows) == (1, 2, [])
    assert t.columns == ["地区", "2019年 门诊人次", "2019年 住院人次", "2020年 门诊人次", "2020年 住院人次"]
    assert t.row_count == 2 and _rows(t)[2] == ["上海", "90", "18", "95", "19"]
    _check_duckdb(t)


def test_one_header_with_a_gap_over_text_data_is_not_two_rows(tmp_path):
    t = _run(tmp_path, "gap.csv", "姓名,,地址\n张三,男,北京市朝阳区\n李四,女,上海市浦东新区\n")
    assert (t.header_row, t.header_rows, t.row_count) == (0, 1, 2)
    assert t.columns == ["姓名", "列2", "地址"]


def test_headerless_numeric(tmp_path):
    t = _run(tmp_path, "nums.csv", "1,2.5,3\n4,5.5,6\n7,8.5,9\n")
    assert (t.header_row, t.header_rows, t.columns, t.row_count) == (None, 0, ["列1", "列2", "列3"], 3)
    assert _rows(t)[1] == ["1", "2.5", "3"]
    _check_duckdb(t)


def test_headerless_text_with_a_number_column(tmp_path):
    t = _run(tmp_path, "people.csv", "张三,北京,男,35\n李四,上海,女,28\n王五,广州,男,41\n")
    assert (t.header_rows, t.row_count) == (0, 3)


def test_tsv_detected_by_content(tmp_path):
    t = _run(tmp_path, "data.txt", "代码\t名称\t人口\n110000\t北京市\t2189\n310000\t上海市\t2487\n")
    assert (t.format, t.delimiter, t.columns, t.row_count) == ("tsv", "\t", ["代码", "名称", "人口"], 2)
    _check_duckdb(t)


def test_pipe_delimiter_and_quoted_fields(tmp_path):
    text = 'id|名称|备注\n1|"甲|乙"|"多行\n备注"\n2|丙|"他说""好"""\n'
    t = _run(tmp_path, "p.csv", text)
    assert t.delimiter == "|" and t.row_count == 2
    assert _rows(t)[1:] == [["1", "甲|乙", "多行\n备注"], ["2", "丙", '他说"好"']]
    _check_duckdb(t)


def test_line_breaks_inside_cells_survive(tmp_path):
    t = _run(tmp_path, "cr.csv", '名称,备注\n甲,"一\r二"\n乙,"三\r\n四"\n丙,五\n'.encode())
    _check_duckdb(t)
    got = duckdb.connect().execute("select 备注 from read_csv(?, header=true, all_varchar=true)",
                                   [str(t.csv_path)]).fetchall()
    assert got == [("一\r二",), ("三\r\n四",), ("五",)]


def test_missing_markers(tmp_path):
    text = "名称,值,备注\n甲,N/A,-\n乙,—,无\n丙,-;, 12 \n丁,NA,正常\n"
    t = _run(tmp_path, "m.csv", text)
    assert set(t.missing_markers) == {"N/A", "-", "—", "无", "-;", "NA"}
    assert _rows(t)[1:] == [["甲", "", ""], ["乙", "", ""], ["丙", "", "12"], ["丁", "", "正常"]]
    assert any("缺失" in w for w in t.warnings)
    con = duckdb.connect()
    assert con.execute("select count(*) from read_csv(?, header=true, all_varchar=true) where 值 is null",
                       [str(t.csv_path)]).fetchone()[0] == 4


def test_trailing_delimiter_short_and_blank_rows(tmp_path):
    t = _run(tmp_path, "ragged.csv", "a,b,c,\n1,2,3,\n\n9,10\n,,,\n4,5,6,\n")
    assert t.columns == ["a", "b", "c"]  # the trailing all-empty column is gone
    assert _rows(t)[1:] == [["1", "2", "3"], ["9", "10", ""], ["4", "5", "6"]]
    assert t.row_count == 3 and any("少" in w for w in t.warnings)
    _check_duckdb(t)


def test_extra_fields_join_the_last_column(tmp_path):
    t = _run(tmp_path, "extra.csv", "a,b,c\n1,2,3\n4,5,6,7,8\n")
    assert _rows(t)[1:] == [["1", "2", "3"], ["4", "5", "6,7,8"]]
    assert any("合并到最后一列“c”" in w for w in t.warnings)


def test_blank_sheet_column_between_data_is_dropped(tmp_path):
    t = _run(tmp_path, "blankcol.csv", "名称,,数量\n甲,,1\n乙,,2\n")
    assert t.columns == ["名称", "数量"] and _rows(t)[1] == ["甲", "1"]
    _check_duckdb(t)


def test_one_column_of_values_with_semicolons_still_loads_in_duckdb(tmp_path):
    t = _run(tmp_path, "one.csv", "名称\na;b\nc|d\ne\tf\n'g'\n普通\n")
    assert (t.columns, t.row_count) == (["名称"], 5)
    _check_duckdb(t)
    got = duckdb.connect().execute("select * from read_csv(?, header=true, all_varchar=true)",
                                   [str(t.csv_path)]).fetchall()
    assert got == [("a;b",), ("c|d",), ("e\tf",), ("'g'",), ("普通",)]


def test_unit_row_under_the_header(tmp_path):
    t = _run(tmp_path, "u.csv", "地区,GDP,人口\n单位：亿元,,\n北京,1,2\n上海,4,5\n")
    assert (t.unit, t.header_row, t.row_count, t.group_column) == ("亿元", 0, 2, None)


def test_repeated_header_lines_are_dropped(tmp_path):
    t = _run(tmp_path, "cat.csv", "名称,数量\n甲,1\n名称,数量\n乙,2\n")
    assert _rows(t)[1:] == [["甲", "1"], ["乙", "2"]] and any("重复的表头" in w for w in t.warnings)


def test_duplicate_and_multiline_header_names(tmp_path):
    t = _run(tmp_path, "dup.csv", '名称,数量,名称,"备注\n说明",数量\nA,1,B,x,2\nC,3,D,y,4\n')
    assert t.columns == ["名称", "数量", "名称_2", "备注 说明", "数量_2"]
    _check_duckdb(t)


def test_group_rows_in_csv_and_footer_note(tmp_path):
    text = ("序号,名称,代码\n北京市（2所）,,\n1,甲,1001\n2,乙,1002\n天津市（1所）,,\n3,丙,1201\n"
            "注：数据截至2025年6月,,\n")
    t = _run(tmp_path, "g.csv", text)
    assert t.group_column == "分组" and t.columns == ["序号", "名称", "代码", "分组"]
    assert _rows(t)[1:] == [["1", "甲", "1001", "北京市（2所）"], ["2", "乙", "1002", "北京市（2所）"],
                            ["3", "丙", "1201", "天津市（1所）"]]
    assert any("注：" in w for w in t.warnings)


def test_bracketed_header_is_csv_not_json(tmp_path):
    t = _run(tmp_path, "sql.csv", "[id],[name]\n1,甲\n2,乙\n")
    assert (t.format, t.columns, t.row_count) == ("csv", ["[id]", "[name]"], 2)


def test_extension_is_only_a_hint(tmp_path):
    t = _run(tmp_path, "looks.xlsx", "a,b\n1,2\n")
    assert (t.format, t.row_count) == ("csv", 1)
    assert any(".xlsx" in w for w in t.warnings)


# --- spreadsheets --------------------------------------------------------------------------------------------------

def _xlsx(path: Path, build) -> bytes:
    wb = openpyxl.Workbook()
    build(wb)
    wb.save(path)
    return path.read_bytes()


def test_xlsx_title_merged_two_row_header_and_cell_types(tmp_path):
    def build(wb):
        ws = wb.active
        ws.title = "门诊"
        ws.append(["2019–2020年各地区门诊情况"])
        ws.merge_cells("A1:F1")
        ws.append(["地区", "2019年", None, "2020年", None, "统计\n日期"])
        ws.append([None, "门诊人次", "住院人次", "门诊人次", "住院人次", None])
        ws.merge_cells("A2:A3")
        ws.merge_cells("B2:C2")
        ws.merge_cells("D2:E2")
        ws.merge_cells("F2:F3")
        ws.append(["北京", 100.0, 20, 110.5, 25, dt.date(2021, 1, 5)])
        ws.append(["  上海 ", 90, 18, 95, 19, dt.datetime(2021, 1, 5, 8, 30)])
        wb.create_sheet("说明")
    data = _xlsx(tmp_path / "m.xlsx", build)
    t = _run(tmp_path, "m.xlsx", data)
    assert (t.format, t.encoding, t.delimiter, t.sheet) == ("xlsx", None, None, "门诊")
    assert (t.header_row, t.header_rows, t.skipped_rows) == (2, 2, [0])
    assert t.columns == ["地区", "2019年 门诊人次", "2019年 住院人次", "2020年 门诊人次", "2020年 住院人次",
                         "统计 日期"]
    assert _rows(t)[1:] == [["北京", "100", "20", "110.5", "25", "2021-01-05"],
                            ["上海", "90", "18", "95", "19", "2021-01-05 08:30:00"]]
    _check_duckdb(t)


def test_xlsx_disguised_as_csv_with_big_codes_and_several_sheets(tmp_path):
    def build(wb):
        ws = wb.active
        ws.append(["学校标识码", "名称", "是否公办"])
        ws.append([4111010001.0, "北京大学", True])
        ws.append([4111010002, "中国人民大学", False])
        wb.create_sheet("空表")
        wb.create_sheet("备用").append(["x"])
    data = _xlsx(tmp_path / "d.xlsx", build)
    t = _run(tmp_path, "export.csv", data)
    assert t.format == "xlsx" and t.row_count == 2
    assert _rows(t)[1] == ["4111010001", "北京大学", "TRUE"]
    assert any("扩展名" in w for w in t.warnings) and any("“备用”" in w for w in t.warnings)


def test_xlsx_blank_leading_rows_and_columns(tmp_path):
    def build(wb):
        ws = wb.active
        ws["C3"], ws["D3"] = "名称", "数量"
        ws["C4"], ws["D4"] = "甲", 1
        ws["C5"], ws["D5"] = "乙", 2
    t = _run(tmp_path, "b.xlsx", _xlsx(tmp_path / "b.xlsx", build))
    assert (t.header_row, t.skipped_rows, t.columns, t.row_count) == (2, [0, 1], ["名称", "数量"], 2)
    _check_duckdb(t)


# --- JSON ----------------------------------------------------------------------------------------------------------

def test_json_array_of_records(tmp_path):
    records = [{"名称": "甲", "数量": 1, "标签": ["a", "b"], "属性": {"色": "红"}, "有效": True, "比例": 0.5},
               {"名称": "乙", "数量": None, "备注": "N/A", "比例": 2.0}]
    t = _run(tmp_path, "r.json", json.dumps(records, ensure_ascii=False, indent=2))
    assert (t.format, t.encoding, t.delimiter, t.header_row, t.header_rows) == ("json", "utf-8", None, None, 1)
    assert t.columns == ["名称", "数量", "标签", "属性", "有效", "比例", "备注"]
    assert _rows(t)[1:] == [["甲", "1", '["a", "b"]', '{"色": "红"}', "true", "0.5", ""],
                            ["乙", "", "", "", "", "2", ""]]
    assert t.missing_markers == ["N/A"]
    _check_duckdb(t)


def test_json_lines(tmp_path):
    t = _run(tmp_path, "r.jsonl", '{"a": 1, "b": "x"}\n{"a": 2, "c": [1]}\n\n')
    assert (t.format, t.columns, t.row_count) == ("json", ["a", "b", "c"], 2)
    assert _rows(t)[2] == ["2", "", "[1]"]


def test_geojson_feature_properties(tmp_path):
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [116.4, 39.9]},
         "properties": {"站名": "天安门", "线路": ["1路", "2路"]}},
        {"type": "Feature", "geometry": None, "properties": {"站名": "东单", "编号": 2}},
    ]}
    t = _run(tmp_path, "s.geojson", json.dumps(doc, ensure_ascii=False))
    assert (t.format, t.columns, t.row_count) == ("geojson", ["站名", "线路", "编号"], 2)
    assert _rows(t)[1:] == [["天安门", '["1路", "2路"]', ""], ["东单", "", "2"]]
    assert any("几何" in w for w in t.warnings)
    _check_duckdb(t)


# --- errors: a stable code, a Chinese message, nothing left behind ---------------------------------------------------

def _corrupt_xlsx(tmp_path: Path) -> bytes:
    data = _xlsx(tmp_path / "c.xlsx", lambda wb: wb.active.append(["a", "b"]))
    return data[: len(data) // 2]


def _zip(tmp_path: Path, names: list[str]) -> bytes:
    path = tmp_path / "z.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for n in names:
            zf.writestr(n, "x")
    return path.read_bytes()


ERROR_CASES = {
    "empty": ("e.csv", lambda p: b"", "read.empty"),
    "blank": ("e.csv", lambda p: "\ufeff \n\n ,, \n".encode(), "read.empty"),
    "header only": ("h.csv", lambda p: "名称,数量\n".encode(), "read.no_rows"),
    "header over blank rows": ("h.csv", lambda p: "名称,数量\n,\n-,N/A\n".encode(), "read.no_rows"),
    "binary": ("b.csv", lambda p: os.urandom(4096) + b"\x00", "read.format"),
    "pdf": ("b.xlsx", lambda p: b"%PDF-1.7\n...", "read.format"),
    "html as xls": ("b.xls", lambda p: "<html><table><tr><td>1</td></tr></table></html>".encode(), "read.format"),
    "zip not xlsx": ("z.xlsx", lambda p: _zip(p, ["a.txt"]), "read.format"),
    "docx": ("z.xlsx", lambda p: _zip(p, ["[Content_Types].xml", "word/document.xml"]), "read.format"),
    "corrupt xlsx": ("c.xlsx", _corrupt_xlsx, "read.xlsx_corrupt"),
    "corrupt xls": ("c.xls", lambda p: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1000, "read.xls_corrupt"),
    "encrypted": ("c.xlsx", lambda p: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100
                  + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 100, "read.encrypted"),
    "encoding": ("x.csv", lambda p: b"name,value\nab\x81\x20cd,1\n", "read.encoding"),
    "json object": ("j.json", lambda p: b'{"data": [{"a": 1}]}', "read.json_shape"),
    "json scalars": ("j.json", lambda p: b"[1, 2, 3]", "read.json_shape"),
    "json invalid": ("j.json", lambda p: b'[{"a": 1},', "read.json_shape"),
    "json bad feature": ("j.geojson", lambda p: b'{"type": "FeatureCollection", "features": [1]}', "read.json_shape"),
    "json no keys": ("j.json", lambda p: b"[{}, {}]", "read.no_columns"),
    "json empty": ("j.json", lambda p: b"[]", "read.empty"),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_read_errors(tmp_path, case):
    name, make, code = ERROR_CASES[case]
    src = tmp_path / "upload"
    src.write_bytes(make(tmp_path))
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(ReadError) as info:
        prepare(src, work, filename=name)
    assert info.value.code == code
    _check_message(info.value)
    assert list(work.iterdir()) == []


def _check_message(exc: ReadError) -> None:
    """Chinese, non-empty, and its placeholders are exactly the params (the service formats it where shown)."""
    assert exc.message and any("\u4e00" <= ch <= "\u9fff" for ch in exc.message)
    fields = {f for _, f, _, _ in string.Formatter().parse(exc.message) if f is not None}
    assert fields == set(exc.params)
    assert exc.text == exc.message.format(**exc.params) and "{" not in exc.text.replace('{"', "")
    assert translate(exc.message, **exc.params) == exc.text


def test_error_removes_a_workdir_it_created(tmp_path):
    src = tmp_path / "h.csv"
    src.write_text("a,b\n", encoding="utf-8")
    with pytest.raises(ReadError):
        prepare(src, tmp_path / "new" / "out", filename="h.csv")
    assert not (tmp_path / "new" / "out").exists()


def test_too_large(tmp_path):
    src = tmp_path / "big.csv"
    src.write_text("a,b\n1,2\n" * 100, encoding="utf-8")
    with pytest.raises(ReadError) as info:
        prepare(src, tmp_path / "w", filename="big.csv", max_bytes=100)
    assert info.value.code == "read.too_large" and info.value.params["limit"] == "100 字节"
    _check_message(info.value)


def test_json_too_large_asks_for_csv(tmp_path, monkeypatch):
    monkeypatch.setattr(_reading_sources, "JSON_MAX_BYTES", 10)
    src = tmp_path / "r.json"
    src.write_text('[{"a": 1}, {"a": 2}]', encoding="utf-8")
    with pytest.raises(ReadError) as info:
        prepare(src, tmp_path / "w", filename="r.json")
    assert info.value.code == "read.too_large" and "CSV" in info.value.message
    _check_message(info.value)


def test_malformed_unterminated_quote(tmp_path):
    old = csv.field_size_limit(1000)
    try:
        src = tmp_path / "q.csv"
        src.write_text('a,b\n1,"unterminated\n' + "x,y\n" * 600, encoding="utf-8")
        work = tmp_path / "w"
        work.mkdir()
        with pytest.raises(ReadError) as info:
            prepare(src, work, filename="q.csv")
    finally:
        csv.field_size_limit(old)
    assert info.value.code == "read.malformed" and "引号" in info.value.message
    _check_message(info.value)
    assert list(work.iterdir()) == []


# --- the fast copy: the same result as the row loop -------------------------------------------------------------------

def _body(rows: int, line: str = "{i},北京市朝阳区第{i}号站点,116.{i:06d},{d},正常运行", sep: str = ",") -> str:
    return "".join(line.format(i=i, d=f"2024-01-{i % 28 + 1:02d}").replace(",", sep) + "\n" for i in range(rows))


_HEAD = "编号,名称,经度,日期,状态\n"
_SEMI = "编号;名称;经度;日期;状态\n"
FAST_CASES = {
    # name: (file bytes, the path the fast copy must take: "verbatim", "routed" or "loop")
    "clean comma": ((_HEAD + _body(600)).encode(), "verbatim"),
    "clean crlf": ((_HEAD + _body(600)).replace("\n", "\r\n").encode(), "verbatim"),
    "clean tsv": ((_HEAD + _body(600)).replace(",", "\t").encode(), "verbatim"),
    "clean semicolon": ((_SEMI + _body(600, sep=";")).encode(), "verbatim"),
    "clean pipe, no final line end": ((_HEAD + _body(600)).replace(",", "|").rstrip("\n").encode(), "verbatim"),
    "bom": (("\ufeff" + _HEAD + _body(600)).encode(), "verbatim"),
    "headerless": (_body(600, "{i},{i}.5,7{i}").encode(), "verbatim"),
    "title and unit rows": (("2024年监测站点统计表,,,,\n单位：个,,,,\n" + _HEAD + _body(600)).encode(), "verbatim"),
    "gbk": ((_HEAD + _body(600)).encode("gbk"), "verbatim"),
    "markers after the sample": ((_HEAD + _body(400) + "1,-,N/A,—,无\n2,甲,NA,--,\n" + _body(50)).encode(), "routed"),
    "markers throughout": ((_HEAD + "".join(f"{i},站{i},-,2024,正常\n" if i % 7 == 0 else f"{i},站{i},1.5,2024,正常\n"
                                            for i in range(700))).encode(), "routed"),
    "spaces around cells": ((_HEAD + _body(300) + " 1 ,\u3000甲\u3000,2\xa0,x\t, y\n" + _body(300)).encode(), "routed"),
    "quoted cells": ((_HEAD + _body(300) + '1,"甲,乙","多行\n备注 ""引号""",\'单引号\',"a;b"\n'
                      + '2,"x\ny",3,4,"很长的\n\n两个空行"\n' + _body(300)).encode(), "routed"),
    "crlf in a quoted cell of an lf file": ((_HEAD + _body(300) + '2,"x\r\ny",3,4,5\n' + _body(300)).encode(), "loop"),
    "empty lines": ((_HEAD + _body(300) + "\n\n,,,,\n" + _body(300) + "\n").encode(), "routed"),
    "ragged rows after the sample": ((_HEAD + _body(300) + "1,2,3\n4,5,6,7,8,9\n1,2,3,4,5,,,\n" + _body(30)).encode(),
                                     "routed"),
    "repeated header, note and unit rows": ((_HEAD + _body(300) + _HEAD + _body(50) + "单位：万元,,,,\n"
                                             + "注：数据来源：统计局,,,,\n").encode(), "routed"),
    "gbk with markers": ((_HEAD + _body(300) + "1,-,N/A,—,无\n" + _body(300)).encode("gbk"), "routed"),
    "space before a quote": ((_HEAD + _body(300) + '1, "甲",2,3,4\n' + _body(10)).encode(), "routed"),
    "nul and control characters": ((_HEAD + _body(1500) + "1,a\x00b,\x1f,c\x0b,d\n" + _body(10)).encode(), "routed"),
    "lone cr": ((_HEAD + _body(300) + "1,2,3,4,5\r6,7,8,9,10\n" + _body(10)).encode(), "loop"),
    "mixed line ends": ((_HEAD.replace("\n", "\r\n") + _body(600)).encode(), "loop"),
    "a marker in every row": ((_HEAD + "".join(f"{i},站{i},-,2024,正常\n" for i in range(600))).encode(), "loop"),
    "trailing delimiters": ((_HEAD.replace("\n", ",\n") + _body(600).replace("\n", ",\n")).encode(), "loop"),
    "unnamed column filled late": (("编号,,名称\n" + "".join(f"{i},,站{i}\n" for i in range(300)) + "1,x,2\n").encode(),
                                   "loop"),
    "bad utf-8 late": ((_HEAD + _body(600)).encode() + b"1,\xff,2,3,4\n", "loop"),
    "gbk after an ascii start": (("code,name,x\n" + "".join(f"{i:06d},abc,1\n" for i in range(12_000))
                                  + "999999,北京市,1\n").encode("gbk"), "verbatim"),  # the GB18030 retry
}


def _paths(monkeypatch) -> list[str]:
    """Which copy ran, recorded as each fast-copy attempt ends."""
    seen: list[str] = []
    verbatim, routed = _fast._FastCopy._verbatim, _fast._FastCopy._rows

    def spy_verbatim(self, con):
        got = verbatim(self, con)
        if not got[2]:
            seen.append("verbatim")
        return got

    def spy_rows(self, *args):
        seen.append("routed")
        return routed(self, *args)

    monkeypatch.setattr(_fast._FastCopy, "_verbatim", spy_verbatim)
    monkeypatch.setattr(_fast._FastCopy, "_rows", spy_rows)
    return seen


def _outcome(tmp_path: Path, name: str, data: bytes, fast: bool):
    src = tmp_path / f"src-{fast}.csv"
    src.write_bytes(data)
    work = tmp_path / f"out-{fast}"
    try:
        t = prepare(src, work, filename=name, fast=fast)
    except ReadError as exc:
        return ("error", exc.code, exc.params), None, None
    fields = {k: v for k, v in vars(t).items() if k != "csv_path"}
    parsed = duckdb.connect().execute("select * from read_csv(?, header=true, all_varchar=true)",
                                      [str(t.csv_path)]).fetchall()
    assert sorted(p.name for p in work.iterdir()) == ["table.csv"]  # no temporary file left
    return fields, t.csv_path.read_bytes(), parsed


@pytest.mark.parametrize("chunk", [4 * 1024**2, 1000])  # small blocks: lines and quoted cells across block ends
@pytest.mark.parametrize("case", list(FAST_CASES))
def test_fast_copy_gives_what_the_row_loop_gives(tmp_path, monkeypatch, case, chunk):
    data, path = FAST_CASES[case]
    monkeypatch.setattr(_bytecopy, "_CHUNK", chunk)
    seen = _paths(monkeypatch)
    fast = _outcome(tmp_path, "t.csv", data, fast=True)
    assert seen == ([] if path == "loop" else [path])
    slow = _outcome(tmp_path, "t.csv", data, fast=False)
    assert fast[0] == slow[0]  # every PreparedTable field: columns, counts, markers, unit, warnings (in order)
    assert fast[1] == slow[1]  # the very same bytes
    assert fast[2] == slow[2]  # hence the same table for DuckDB


def test_fast_copy_markers_in_order_of_appearance(tmp_path, monkeypatch):
    seen = _paths(monkeypatch)
    data = (_HEAD + _body(300) + "1,无,2,3,4\n2,N/A,-,3,4\n3,--,—,null,无\n").encode()
    fast = _outcome(tmp_path, "t.csv", data, fast=True)
    assert seen == ["routed"]
    assert fast[0]["missing_markers"] == ["无", "N/A", "-", "--", "—", "null"]
    assert fast[0]["row_count"] == 303 and fast == _outcome(tmp_path, "t.csv", data, fast=False)


def test_fast_copy_by_size(tmp_path, monkeypatch):
    seen = _paths(monkeypatch)
    data = (_HEAD + _body(600)).encode()
    _run(tmp_path, "small.csv", data)
    assert seen == []  # below FAST_MIN_BYTES: the row loop
    monkeypatch.setattr(reading, "FAST_MIN_BYTES", 1000)
    t = _run(tmp_path, "big.csv", data)
    assert seen == ["verbatim"] and t.row_count == 600
    _check_duckdb(t)


def test_strip_set_is_what_str_strip_removes():
    import re

    spaces = "".join(ch for ch in map(chr, range(0x110000)) if ch.isspace())
    assert _fast._SPACE == spaces
    assert all(re.fullmatch(r"\s", ch) for ch in spaces)


def test_fast_copy_fuzz(tmp_path, monkeypatch):
    """Random tables with every oddity the rules care about, before and after the sample, in all encodings."""
    import random

    rng = random.Random(2026)
    monkeypatch.setattr(_fast, "_FAST_MAX_DIRTY", 0.95)  # route even mostly odd tables
    cells = ["", "中文", " x ", "\u3000y", "-", "N/A", "无", '"', 'q"q', ",", ";", "\t", "\n", "\r\n", "'", "|",
             "注：说明", "单位：万元", "x\xa0", " ", "2024年", "a\rb", "None"]
    raws = ['"a,b"', ' "a"', '"a" ', '"a"b', 'a"b', '""', '"x\ny"', '"x\r\ny"', "a\rb"]
    for case in range(40):
        sep, width = rng.choice([",", ",", "\t", ";", "|"]), rng.randint(1, 5)
        rows = [["标题"] + [""] * (width - 1)] if rng.random() < 0.2 else []
        rows += [[f"列{i}" for i in range(width)]] if rng.random() < 0.7 else []
        rate, late = rng.choice([0, 0.01, 0.05, 0.3]), rng.random() < 0.5
        for r in range(rng.choice([10, 240, 260])):
            row = [rng.choice(["1", "2.5", "北京", "abc"]) for _ in range(width)]
            if rng.random() < rate and (not late or r > 205):
                row[rng.randrange(width)] = rng.choice(cells)
                if rng.random() < 0.1:
                    row = row[: rng.randint(0, width)] + ([rng.choice(cells)] if rng.random() < 0.5 else [])
            rows.append(row)
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter=sep, lineterminator=rng.choice(["\n", "\r\n"]))
        for r, row in enumerate(rows):
            if rng.random() < rate / 3 and (not late or r > 205):
                buf.write(sep.join(rng.choice(raws) if rng.random() < 0.5 else c for c in row) + "\n")
            else:
                writer.writerow(row)
        text = buf.getvalue()
        try:
            data = text.encode(rng.choice(["utf-8", "gbk", "utf-8-sig"]))
        except UnicodeEncodeError:
            data = text.encode("utf-8")
        monkeypatch.setattr(_bytecopy, "_CHUNK", rng.choice([7, 100, 4 * 1024**2]))
        work = tmp_path / str(case)
        work.mkdir()
        assert _outcome(work, "f.csv", data, fast=True) == _outcome(work, "f.csv", data, fast=False), text[:300]


# --- a big file: streamed, bounded memory ----------------------------------------------------------------------------

_MEASURE = """
import json, resource, sys, time
from pathlib import Path
from listings.reading import prepare
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
t = prepare(Path(sys.argv[1]), Path(sys.argv[2]), filename="big.csv")
print(json.dumps({"grown_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base,
                  "seconds": time.perf_counter() - started, "rows": t.row_count, "encoding": t.encoding,
                  "missing": t.missing_markers, "csv": str(t.csv_path)}))
"""


def test_big_csv_is_streamed_in_bounded_memory(tmp_path):
    """A 40 MB GBK file is converted in a separate process whose peak memory barely grows."""
    import json
    import subprocess
    import sys

    src = tmp_path / "big.csv"
    line = "{i},北京市朝阳区第{i}号站点,116.{i:06d},39.{i:06d},N/A,2024-01-{d:02d},正常运行中的监测点\n"
    with src.open("w", encoding="gbk") as fh:
        fh.write("编号,名称,经度,纬度,备注,日期,状态\n")
        i = 0
        while fh.tell() < 40 * 1024**2:
            fh.writelines(line.format(i=j, d=j % 28 + 1) for j in range(i, i + 10_000))
            i += 10_000
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-c", _MEASURE, str(src), str(tmp_path / "out")], cwd=root,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"\n40 MB GBK CSV: {i:,} rows in {result['seconds']:.1f} s, peak RSS grew {result['grown_kb'] / 1024:.1f} MB")
    assert result["grown_kb"] < 40 * 1024  # the file is 40 MB: holding it (decoded, ×2–4) would exceed this
    assert (result["encoding"], result["rows"], result["missing"]) == ("gbk", i, ["N/A"])
    assert duckdb.connect().execute("select count(*) from read_csv(?, header=true, all_varchar=true)",
                                    [result["csv"]]).fetchone()[0] == i
