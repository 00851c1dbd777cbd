"""Plain-language cataloguing: suggestions from hand-built profiles shaped like the real files of
../shared/realdata (and the synthetic residents register), the shipped category tree, and the
refusals of validate(). Pure functions: no database, no app."""

from __future__ import annotations

import json

import pytest

from listings import catalogue
from market.errors import DomainError

CATALOGUE_KEYS = {"提供方", "信息资源名称", "信息资源摘要", "信息资源分类", "信息资源格式", "信息项", "共享类型",
                  "共享条件", "共享方式", "开放属性", "更新周期"}


def col(name, type="text", semantic=None, *, nulls=0, distinct=None, lo=None, hi=None, top=(), unit=None):
    return {"name": name, "type": type, "semantic_type": semantic, "null_count": nulls, "distinct_count": distinct,
            "min": lo, "max": hi, "top_values": [list(t) for t in top], "unit": unit}


# nbs_health_outpatient_services_1978-2014.csv: 225 of 259 cells empty, years written 1978年
OUTPATIENT = {"row_count": 37, "columns": [
    col("年份", "text", "year", distinct=37, lo="1978年", hi="2014年", top=[("1978年", 1), ("1979年", 1)]),
    *[col(name, "decimal", nulls=nulls, distinct=37 - nulls, lo="0.05", hi="99.0") for name, nulls in [
        ("医疗卫生机构急诊抢救成功率", 35), ("医疗卫生机构急诊病死率", 32), ("医疗卫生机构观察室留观病例数", 32),
        ("医疗卫生机构观察室病死率", 32), ("医疗卫生机构诊疗人次", 30), ("医疗卫生机构门急诊诊疗人次数", 32),
        ("医疗卫生机构门诊健康检查人数", 32)]]]}

GDP = {"row_count": 37, "columns": [
    col("年份", "text", "year", distinct=37, lo="1978年", hi="2014年"),
    *[col(name, "decimal", "amount", distinct=37, lo="381.75", hi="635910.0", unit="亿元") for name in [
        "人均国内生产总值", "国内生产总值", "国民总收入", "第一产业增加值", "第三产业增加值", "第二产业增加值"]]]}

SITES = {"row_count": 2026, "columns": [
    col("监测点编码", distinct=2026, lo="1001A", hi="3671A"),
    col("监测点名称", distinct=1990, top=[("市监测站", 12), ("开发区", 6)]),
    col("城市", "category", distinct=367, top=[("北京", 12), ("上海", 10)]),
    col("经度", "decimal", "longitude", nulls=10, distinct=2010, lo="73.5", hi="134.2"),
    col("纬度", "decimal", "latitude", nulls=10, distinct=2010, lo="18.2", hi="53.5"),
    col("对照点", "boolean", distinct=2, top=[("N", 1900), ("Y", 126)]),
    col("省级行政区", "category", distinct=31, top=[("广东省", 140), ("江苏省", 120)]),
    col("地级行政区", "category", distinct=339, top=[("北京市", 12)])]}

ENTERPRISES = {"row_count": 12000, "columns": [
    col("统一社会信用代码", "text", "uscc", distinct=12000),
    col("企业名称", "text", "enterprise_name", distinct=12000),
    col("法定代表人", "text", "person_name", distinct=11000, top=[("王建国", 3)]),
    col("注册资本", "decimal", "amount", distinct=900, lo="1", hi="500000", unit="万元"),
    col("成立日期", "date", distinct=6800, lo="1992-03-01", hi="2024-06-28", top=[("2021-03-15", 12)]),
    col("企业类型", "category", distinct=12, top=[("有限责任公司(自然人投资或控股)", 7000), ("股份有限公司", 300)]),
    col("经营状态", "category", distinct=4, top=[("存续", 10000), ("注销", 1500), ("吊销", 500)]),
    col("住所", "text", "address", distinct=11500),
    col("行政区划代码", "text", "region_code", distinct=13, lo="330102", hi="330127", top=[("330106", 3000)])]}

# hangzhou_bus_stops_hzbus.csv: `;`, no header row, GUIDs, coordinates, a list in the last field
BUS = {"row_count": 5589, "columns": [
    col("列1", distinct=5589, top=[("0c3c09f4-3014-4b00-9431-44461e09e798", 1)]),
    col("列2", distinct=4100, top=[("小和山公交站", 2), ("冲天庙", 2), ("火车东站", 4)]),
    col("列3", "decimal", "longitude", distinct=5500, lo="119.7", hi="120.5"),
    col("列4", "decimal", "latitude", distinct=5500, lo="29.9", hi="30.5"),
    col("列5", distinct=1800, top=[("留和路", 20), ("文一西路", 18)]),
    col("列6", nulls=5400, distinct=80),
    col("列7", distinct=5400)]}

COVID = {"row_count": 431, "columns": [
    col("date", "date", distinct=1, lo="2020-02-05", hi="2020-02-05", top=[("2020-02-05", 431)]),
    col("country", "category", distinct=1, top=[("中国", 431)]),
    col("countryCode", "category", distinct=1, top=[("CN", 431)]),
    col("province", "category", nulls=1, distinct=31, top=[("湖北省", 18), ("广东省", 22)]),
    col("provinceCode", "text", "region_code", nulls=1, distinct=31, lo="110000", hi="650000", top=[("420000", 18)]),
    col("city", "text", nulls=32, distinct=370, top=[("外地来京", 1), ("武汉", 1)]),
    col("cityCode", "text", "region_code", nulls=45, distinct=340, lo="110101", hi="659001"),
    *[col(name, "integer", distinct=100, lo="0", hi="28018") for name in ("confirmed", "suspected", "cured", "dead")]]}

MOE = {"row_count": 2919, "columns": [
    col("序号", "integer", distinct=2919, lo="1", hi="2919"),
    col("学校名称", distinct=2919, top=[("北京大学", 1)]),
    col("学校标识码", distinct=2919, lo="4111010001", hi="4165014673"),
    col("主管部门", "category", distinct=80, top=[("教育部", 76), ("江苏省", 160), ("广东省教育厅", 90)]),
    col("所在地", "category", distinct=316, top=[("北京市", 92), ("武汉市", 80)]),
    col("办学层次", "category", distinct=2, top=[("本科", 1300), ("专科", 1600)]),
    col("备注", "category", nulls=2100, distinct=3, top=[("民办", 780), ("中外合作办学", 10)])]}

# listings.demo.residents.generate_residents: 姓名, 性别, 出生日期, 身份证号, 手机号, 住址, 参保状态
RESIDENTS = {"row_count": 500, "columns": [
    col("姓名", "text", "person_name", distinct=480, top=[("张伟", 3)]),
    col("性别", "category", distinct=2, top=[("男", 251), ("女", 249)]),
    col("出生日期", "date", distinct=497, lo="1940-01-03", hi="2020-12-30"),
    col("身份证号", "text", "resident_id", distinct=500, top=[("33010619850312001X", 1)]),
    col("手机号", "text", "mobile", distinct=500, top=[("13512342210", 1)]),
    col("住址", "text", "address", distinct=500, top=[("浙江省杭州市西湖区学府路12号3单元501", 1)]),
    col("参保状态", "category", nulls=15, distinct=8, top=[("正常参保", 200), ("正常", 70), ("退休", 60)])]}

GOV = {"holder_kind": "government"}
CASES = {
    "outpatient": ("nbs_health_outpatient_services_1978-2014.csv", OUTPATIENT,
                   {**GOV, "holder_name": "杭州市卫生健康委员会"}),
    "gdp": ("nbs_gdp_1978-2014.csv", GDP, {**GOV, "holder_name": "国家统计局"}),
    "sites": ("cnemc_national_monitoring_sites.csv", SITES,
              {"holder_name": "中国环境监测总站", "holder_kind": "institution"}),
    "enterprises": ("2024年企业注册登记信息.xlsx", ENTERPRISES, {**GOV, "holder_name": "杭州市市场监督管理局"}),
    "bus": ("hangzhou_bus_stops_hzbus.csv", BUS,
            {"holder_name": "杭州市公共交通集团有限公司", "holder_kind": "enterprise"}),
    "covid": ("covid19_nhc_daily_by_region_2020-02-05.csv", COVID, {**GOV, "holder_name": "国家卫生健康委员会"}),
    "moe": ("moe_higher_education_institutions_list.xls", MOE, {**GOV, "holder_name": "教育部"}),
    "residents": ("社区居民名册.csv", RESIDENTS,
                  {**GOV, "holder_name": "西湖区民政局", "grade": "important", "personal": True}),
}

# case: (category path, title, update cycle, sharing type, open type, phrases the summary must contain)
EXPECTED = {
    "outpatient": (["医疗卫生", "诊疗服务", "门诊人次"], "医疗卫生机构门诊服务情况", "yearly", "unconditional",
                   "unconditional", ["1978年—2014年", "共 37 行", "诊疗人次", "7 项指标"]),
    "gdp": (["经济统计", "国民经济核算", "国内生产总值"], "国内生产总值", "yearly", "unconditional", "unconditional",
            ["1978年—2014年", "共 37 行", "6 项指标"]),
    "sites": (["生态环境", "大气环境", "空气质量监测站点"], "全国空气质量监测站点", "yearly", "unconditional",
              "unconditional", ["共 2026 行", "31 个省级行政区", "经纬度"]),
    "enterprises": (["市场监管", "企业登记", "企业基本信息"], "企业注册登记信息", "daily", "unconditional",
                    "unconditional", ["1992年3月1日", "2024年6月28日", "杭州市", "共 12000 行", "每行是一家企业"]),
    "bus": (["交通运输", "公共交通", "公交站点"], "杭州市公交站点", "monthly", "unconditional", "conditional",
            ["共 5589 行", "7 列", "经纬度"]),
    "covid": (["医疗卫生", "公共卫生", "传染病疫情"], "各地区新冠肺炎疫情", "daily", "unconditional",
              "unconditional", ["2020年2月5日", "共 431 行", "31 个省级行政区", "确诊"]),
    "moe": (["教育", "高等教育", "院校名录"], "全国高等学校名单", "yearly", "unconditional", "unconditional",
            ["共 2919 行", "每行是一所高等学校"]),
    "residents": (["人口与户籍", "户籍管理", "居民基本信息"], "社区居民名册", "other", "conditional", "conditional",
                  ["共 500 行", "每行是一位居民", "脱敏"]),
}


def _suggest(case: str) -> dict:
    filename, profile, kwargs = CASES[case]
    return catalogue.suggest(filename=filename, profile=profile, **kwargs)


def _walk(nodes, depth=1):
    for node in nodes:
        yield node, depth
        yield from _walk(node["children"], depth + 1)


# --- the tree ---------------------------------------------------------------------------------

def test_tree_has_the_domains_of_chinese_open_data_portals():
    tree = catalogue.load_tree()
    assert catalogue.load_tree() is tree  # cached
    top = [node["name"] for node in tree]
    assert len(top) >= 20
    for name in ("医疗卫生", "生态环境", "市场监管", "交通运输", "教育", "经济统计", "人口与户籍", "社会保障",
                 "住房与不动产", "民政", "公共安全", "司法", "财政税务", "农业农村", "自然资源", "气象", "文化旅游",
                 "科技创新", "信用", "城乡建设", "能源", "水利", "就业"):
        assert name in top, name


def test_tree_nodes_are_well_formed():
    nodes = list(_walk(catalogue.load_tree()))
    codes = [node["code"] for node, _depth in nodes]
    assert len(codes) == len(set(codes))
    depths = set()
    for node, depth in nodes:
        assert set(node) >= {"code", "name", "keywords", "children"}
        assert node["keywords"] and all(isinstance(k, str) and k for k in node["keywords"])
        assert len(node["code"]) == 1 + 2 * depth
        for child in node["children"]:
            assert child["code"].startswith(node["code"])
        if not node["children"]:
            depths.add(depth)
            assert depth >= 3, node["name"]
        if "update_cycle" in node:
            assert node["update_cycle"] in catalogue.UPDATE_CYCLES
    assert depths == {3, 4}


@pytest.mark.parametrize("path, cycle", [
    ("医疗卫生 > 诊疗服务 > 门诊人次", "monthly"),
    ("医疗卫生 > 诊疗服务 > 住院人次", "monthly"),
    ("医疗卫生 > 公共卫生 > 传染病疫情", "daily"),
    ("医疗卫生 > 公共卫生 > 疫苗接种", "daily"),
    ("医疗卫生 > 医疗机构 > 医院名录", "monthly"),
    ("医疗卫生 > 医疗机构 > 基层医疗机构", "monthly"),
    ("生态环境 > 大气环境 > 空气质量 > 空气质量小时数据", "realtime"),
    ("生态环境 > 大气环境 > 空气质量 > 空气质量日报", "daily"),
    ("生态环境 > 水环境 > 水质监测", "monthly"),
    ("市场监管 > 企业登记 > 企业基本信息", "daily"),
    ("市场监管 > 企业登记 > 注销吊销", "daily"),
    ("市场监管 > 食品安全 > 食品经营许可", "daily"),
    ("市场监管 > 食品安全 > 食品抽检", "monthly"),
    ("交通运输 > 公共交通 > 公交站点", "monthly"),
    ("交通运输 > 公共交通 > 公交线路", "monthly"),
    ("教育 > 高等教育 > 院校名录", "yearly"),
    ("经济统计 > 国民经济核算 > 国内生产总值", "yearly"),
    ("社会保障 > 医疗保障 > 医保结算", "daily"),
    ("社会保障 > 医疗保障 > 参保登记", "monthly"),
    ("社会保障 > 养老保险 > 养老金发放", "monthly"),
])
def test_tree_has_the_expected_branches_and_cycle_hints(path, cycle):
    choices = dict(catalogue.category_choices())
    assert path in choices
    node = catalogue._tree._index().entries[choices[path]].node
    assert node.get("update_cycle") == cycle


def test_category_choices_cover_every_node_in_order():
    choices = catalogue.category_choices()
    assert len(choices) == sum(1 for _ in _walk(catalogue.load_tree()))
    assert choices[0] == ("医疗卫生", "A01")
    assert ("医疗卫生 > 诊疗服务 > 门诊人次", "A010101") in choices


def test_labels():
    assert [catalogue.label(c) for c in catalogue.UPDATE_CYCLES] == [
        "实时", "每日", "每周", "每月", "每季度", "每半年", "每年", "其他"]
    assert catalogue.label("fortnightly") == "其他"
    assert catalogue.sharing_label("conditional") == "有条件共享"
    assert catalogue.open_label("not_open") == "不予开放"


# --- suggestions from realistic profiles --------------------------------------------------------

@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_suggestion(case):
    path, title, cycle, sharing, opening, phrases = EXPECTED[case]
    s = _suggest(case)
    assert s["category_path"] == path
    assert dict(catalogue.category_choices())[" > ".join(path)] == s["category_code"]
    assert s["category_confidence"] >= 0.5
    assert s["title"] == title
    assert s["update_cycle"] == cycle
    assert (s["sharing_type"], s["open_type"]) == (sharing, opening)
    for phrase in phrases:
        assert phrase in s["summary"], (phrase, s["summary"])
    assert 1 <= s["summary"].count("。") <= 3

    assert set(s["catalogue"]) == CATALOGUE_KEYS
    assert s["catalogue"]["信息资源名称"] == title and s["catalogue"]["信息资源摘要"] == s["summary"]
    assert s["catalogue"]["信息资源分类"] == " > ".join(path)
    assert s["catalogue"]["提供方"] == CASES[case][2]["holder_name"]
    assert s["catalogue"]["更新周期"] == catalogue.label(cycle)
    assert [i["名称"] for i in s["catalogue"]["信息项"]] == [c["name"] for c in CASES[case][1]["columns"]]
    assert all(i["数据类型"] in ("字符型", "数值型", "日期型", "布尔型") for i in s["catalogue"]["信息项"])

    assert 1 <= len(s["tags"]) <= 8 and all(len(t) <= 20 for t in s["tags"])
    assert path[0] in s["tags"]
    assert len(s["questions"]) <= 5
    for q in s["questions"]:
        assert set(q) >= {"field", "prompt", "suggested", "required"} and q["prompt"]
    # nothing the confident cases were sure about is asked again
    assert not {"title", "category_path"} & {q["field"] for q in s["questions"]}
    # what the holder confirms unchanged is valid
    kwargs = CASES[case][2]
    confirmed = catalogue.validate({k: s[k] for k in ("title", "summary", "category_path", "update_cycle", "tags",
                                                      "sharing_type", "open_type", "sharing_condition")},
                                   grade=kwargs.get("grade", "general"), personal=kwargs.get("personal", False))
    assert confirmed["category_code"] == s["category_code"]


def test_outpatient_summary_reads_like_a_person_wrote_it():
    s = _suggest("outpatient")
    assert s["summary"] == ("杭州市卫生健康委员会提供的医疗卫生机构门诊服务情况，按年份统计（1978年—2014年），"
                            "共 37 行，包括诊疗人次、急诊病死率等 7 项指标。")
    assert "年度" in s["tags"] and "诊疗服务" in s["tags"]
    assert s["catalogue"]["信息项"][0] == {"名称": "年份", "数据类型": "日期型"}
    assert s["catalogue"]["信息资源格式"] == "电子表格/CSV" and s["catalogue"]["共享方式"] == "接口/文件"
    assert s["questions"] == []  # the year column says yearly, the columns say 门诊: nothing to ask


def test_covid_daily_by_region_translates_english_columns():
    s = _suggest("covid")
    assert "按日分地区统计（2020年2月5日）" in s["summary"]
    assert {"全国", "日度"} <= set(s["tags"])
    items = {i["名称"]: i for i in s["catalogue"]["信息项"]}
    assert items["confirmed"] == {"名称": "confirmed", "数据类型": "数值型", "说明": "确诊"}
    assert items["provinceCode"]["说明"] == "省份代码"
    assert s["questions"] == []  # one day of data, and the file says daily


def test_headerless_bus_stops_ask_for_column_names_and_have_coordinates():
    s = _suggest("bus")
    assert {"杭州市", "含坐标", "交通运输"} <= set(s["tags"])
    assert "每行是一个公交站点" in s["summary"]
    asked = {q["field"]: q for q in s["questions"]}
    assert asked["columns"]["suggested"][2:4] == ["经度", "纬度"]
    assert asked["update_cycle"]["prompt"] == "这份数据多久更新一次？"
    assert asked["update_cycle"]["suggested"] == "monthly" and not asked["update_cycle"]["required"]
    assert s["catalogue"]["信息项"][2] == {"名称": "列3", "数据类型": "数值型", "说明": "经度"}
    assert s["catalogue"]["开放属性"] == "有条件开放"  # an enterprise's data is not open by default


def test_enterprise_register_guesses_daily_and_asks():
    s = _suggest("enterprises")
    assert "杭州市" in s["tags"] and "市场监管" in s["tags"]
    assert "涉及杭州市 13 个区县" in s["summary"]
    asked = {q["field"]: q for q in s["questions"]}
    # 成立日期 dates the enterprises, not the table: a good guess, but the holder confirms it
    assert asked["update_cycle"]["suggested"] == "daily"
    assert s["catalogue"]["信息资源格式"] == "电子表格/XLSX"


def test_monitoring_sites_are_national_with_coordinates():
    s = _suggest("sites")
    assert {"全国", "含坐标"} <= set(s["tags"])
    assert "每行是一个空气质量监测点" in s["summary"]
    assert [q["field"] for q in s["questions"]] == ["update_cycle"]  # from the category's hint, so asked


def test_residents_are_personal_conditional_and_masked():
    s = _suggest("residents")
    assert "含个人信息" in s["tags"]
    assert s["catalogue"]["共享类型"] == "有条件共享" and s["catalogue"]["开放属性"] == "有条件开放"
    assert "沙箱" in s["catalogue"]["共享方式"] and s["catalogue"]["共享条件"]
    assert "身份证号" in s["summary"] and "脱敏" in s["summary"]
    asked = {q["field"]: q for q in s["questions"]}
    assert asked["update_cycle"]["suggested"] == "other"  # 出生日期 says nothing about updates
    assert asked["update_cycle"]["prompt"] == "这份数据多久更新一次？"
    assert "sharing_condition" in asked
    # no value of a personal column reaches the suggestion
    dumped = json.dumps(s, ensure_ascii=False)
    for value in ("张伟", "33010619850312001X", "13512342210", "学府路"):
        assert value not in dumped


def test_personal_data_of_general_grade_is_conditional_too():
    filename, profile, kwargs = CASES["residents"]
    s = catalogue.suggest(filename=filename, profile=profile, **{**kwargs, "grade": "general"})
    assert (s["sharing_type"], s["open_type"]) == ("conditional", "conditional")
    assert "脱敏" in s["catalogue"]["共享方式"]


def test_core_data_is_not_shared():
    filename, profile, kwargs = CASES["gdp"]
    s = catalogue.suggest(filename=filename, profile=profile, **{**kwargs, "grade": "core"})
    assert (s["sharing_type"], s["open_type"]) == ("not_shared", "not_open")
    assert s["catalogue"]["共享类型"] == "不予共享" and s["catalogue"]["开放属性"] == "不予开放"


def test_unknown_grade_is_refused():
    with pytest.raises(DomainError) as exc:
        catalogue.suggest(filename="a.csv", profile=GDP, holder_name="x", holder_kind="government", grade="secret")
    assert exc.value.code == "catalogue.grade_invalid"


def test_a_file_that_says_nothing_gets_plain_questions_and_no_more_than_five():
    profile = {"row_count": 3, "columns": [col("a"), col("b", "integer")]}
    s = catalogue.suggest(filename="新建 Microsoft Excel 工作表.xlsx", profile=profile, holder_name="某局",
                          holder_kind="government")
    assert s["category_path"] == [] and s["category_code"] == "" and s["category_confidence"] < 0.5
    asked = {q["field"]: q for q in s["questions"]}
    assert asked["category_path"]["required"] and asked["title"]["required"]
    assert asked["update_cycle"]["prompt"] == "这份数据多久更新一次？" and s["update_cycle"] == "other"
    assert len(s["questions"]) <= 5
    assert "共 3 行" in s["summary"]

    empty = catalogue.suggest(filename="data.csv", profile={"row_count": 0, "columns": []}, holder_name="",
                              holder_kind="government")
    assert len(empty["questions"]) == 5 and set(empty["catalogue"]) == CATALOGUE_KEYS


def test_pinyin_file_name_and_year_month_column():
    profile = {"row_count": 12, "columns": [col("月份", distinct=12, lo="2020-01", hi="2020-12"),
                                             col("门诊人次", "integer", distinct=12)]}
    s = catalogue.suggest(filename="menzhen_renci_2020.csv", profile=profile, holder_name="某医院",
                          holder_kind="institution")
    assert s["category_path"] == ["医疗卫生", "诊疗服务", "门诊人次"]
    assert s["title"] == "门诊人次" and s["update_cycle"] == "monthly"
    assert "按月统计（2020年1月—2020年12月）" in s["summary"] and "月度" in s["tags"]


@pytest.mark.parametrize("filename, title", [
    ("2023年1-6月杭州市空气质量小时数据（最新）.csv", "杭州市空气质量小时数据"),
    ("附件1_2024年度企业名录(1).xlsx", "企业名录"),
    ("2019-2021年全市公交线路.xls", "全市公交线路"),
    ("杭州市_PM2.5_日均值_20230101.csv", "杭州市 PM2.5 日均值"),
    ("xx区2020年1月至2020年12月医保结算明细_副本.xlsx", "xx区医保结算明细"),
    ("C:\\导出\\食品抽检结果（2023年第三季度）.csv", "食品抽检结果"),
])
def test_titles_lose_dates_extensions_and_noise(filename, title):
    s = catalogue.suggest(filename=filename, profile={"row_count": 1, "columns": [col("名称")]},
                          holder_name="某局", holder_kind="government")
    assert s["title"] == title
    assert "title" not in {q["field"] for q in s["questions"]}


def test_a_typed_title_wins_over_the_file_name():
    s = catalogue.suggest(filename="export.csv", title="居民收支 2022-2023", holder_name="某局",
                          holder_kind="government",
                          profile={"row_count": 8, "columns": [
                              col("季度", distinct=8, lo="2022年第一季度", hi="2023年第四季度"),
                              col("居民人均可支配收入", "decimal"), col("人均消费支出", "decimal")]})
    assert s["title"] == "居民收支"
    assert s["category_path"] == ["经济统计", "人民生活", "居民收支"]
    assert s["update_cycle"] == "quarterly" and "2022年第1季度—2023年第4季度" in s["summary"]


@pytest.mark.parametrize("column, cycle", [
    (col("监测时间", "datetime", distinct=4344, lo="2023-01-01 00:00:00", hi="2023-06-30 23:00:00"), "realtime"),
    (col("日期", "date", distinct=365, lo="2023-01-01", hi="2023-12-31"), "daily"),
    (col("统计日期", "date", distinct=52, lo="2023-01-02", hi="2023-12-25"), "weekly"),
    (col("日期", "date", distinct=24, lo="2022-01-01", hi="2023-12-01"), "monthly"),
    (col("月份", distinct=24, lo="2022年1月", hi="2023年12月"), "monthly"),
    (col("年份", "integer", "year", distinct=10, lo=2011, hi=2020), "yearly"),
    (col("年度", distinct=6, lo="2018年", hi="2023年"), "yearly"),
])
def test_update_cycle_from_the_time_column(column, cycle):
    profile = {"row_count": 100, "columns": [column, col("数量", "integer")]}
    s = catalogue.suggest(filename="统计表.csv", profile=profile, holder_name="某局", holder_kind="government")
    assert s["update_cycle"] == cycle
    assert "update_cycle" not in {q["field"] for q in s["questions"]}


# --- validate -----------------------------------------------------------------------------------

def test_validate_normalizes_what_the_holder_confirmed():
    out = catalogue.validate({
        "title": "  医疗卫生机构门诊服务情况 ", "summary": " 一句话。 ", "category_path": "医疗卫生 > 诊疗服务 > 门诊人次",
        "update_cycle": "每年", "tags": "门诊，急诊、 年度 门诊", "sharing_type": "有条件共享",
        "open_type": "conditional", "sharing_condition": "需说明用途"})
    assert out == {"title": "医疗卫生机构门诊服务情况", "summary": "一句话。",
                   "category_path": ["医疗卫生", "诊疗服务", "门诊人次"], "category_code": "A010101",
                   "update_cycle": "yearly", "tags": ["门诊", "急诊", "年度"], "sharing_type": "conditional",
                   "open_type": "conditional", "sharing_condition": "需说明用途"}
    assert catalogue.validate({"title": "名册", "category_code": "A0702"})["category_path"] == ["人口与户籍", "户籍管理"]
    assert catalogue.validate({"title": "名册", "category_path": []})["category_code"] == ""  # raw data may stay uncategorized


@pytest.mark.parametrize("fields, kwargs, code", [
    ({}, {}, "catalogue.title_invalid"),
    ({"title": "表"}, {}, "catalogue.title_invalid"),
    ({"title": "名" * 201}, {}, "catalogue.title_invalid"),
    ({"title": 42}, {}, "catalogue.title_invalid"),
    ({"title": "名册", "summary": "字" * 2001}, {}, "catalogue.summary_too_long"),
    ({"title": "名册", "category_path": ["医疗卫生", "不存在"]}, {}, "catalogue.category_unknown"),
    ({"title": "名册", "category_path": "医疗卫生 > 诊疗服务 > 门诊人次", "category_code": "A0102"}, {},
     "catalogue.category_unknown"),
    ({"title": "名册", "category_code": "Z99"}, {}, "catalogue.category_unknown"),
    ({"title": "名册", "update_cycle": "hourly"}, {}, "catalogue.update_cycle_invalid"),
    ({"title": "名册", "tags": [f"标签{i}" for i in range(13)]}, {}, "catalogue.tags_too_many"),
    ({"title": "名册", "tags": ["字" * 21]}, {}, "catalogue.tag_invalid"),
    ({"title": "名册", "tags": [3]}, {}, "catalogue.tag_invalid"),
    ({"title": "名册", "sharing_type": "public"}, {}, "catalogue.sharing_type_invalid"),
    ({"title": "名册", "open_type": "open"}, {}, "catalogue.open_type_invalid"),
    ({"title": "名册", "sharing_type": "unconditional"}, {"personal": True}, "catalogue.sharing_too_open"),
    ({"title": "名册", "open_type": "unconditional"}, {"grade": "important"}, "catalogue.sharing_too_open"),
    ({"title": "名册", "sharing_type": "conditional"}, {"grade": "core"}, "catalogue.core_not_shared"),
    ({"title": "名册"}, {"grade": "secret"}, "catalogue.grade_invalid"),
    ({"title": "名册", "sharing_condition": "条" * 501}, {}, "catalogue.sharing_condition_too_long"),
])
def test_validate_refuses_with_stable_codes(fields, kwargs, code):
    with pytest.raises(DomainError) as exc:
        catalogue.validate(fields, **kwargs)
    assert exc.value.code == code
    assert exc.value.status_code == 400
    assert any("\u4e00" <= ch <= "\u9fff" for ch in exc.value.message)  # a Chinese msgid, translated when shown
