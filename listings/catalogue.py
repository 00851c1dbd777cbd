"""Plain-language cataloguing: from an uploaded table's profile, suggest every catalogue field of
政务信息资源目录编制指南 so the holder only confirms, and types at most five things.

Clerks could not answer the old forms (charset codes, DICOM vs NIfTI, "blood-line" causality): here
the system infers title, summary, category, tags, update cycle and sharing from the file name and
the profile, and asks only what it cannot infer, in plain words. Pure functions, no database:

- `suggest()` for the confirmation page, `validate()` for what the holder sends back;
- `load_tree()` / `category_choices()` for the shipped category tree (data/categories.json);
- `label()`, `sharing_label()`, `open_label()` for the Chinese names of the coded values.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import logging
import math
import re
from pathlib import Path
from typing import NamedTuple

from market.errors import N_, DomainError

UPDATE_CYCLES = ("realtime", "daily", "weekly", "monthly", "quarterly", "half_yearly", "yearly", "other")
SHARING_TYPES = ("unconditional", "conditional", "not_shared")
OPEN_TYPES = ("unconditional", "conditional", "not_open")
GRADES = ("general", "important", "core")  # GB/T 43697: 一般 / 重要 / 核心

MAX_QUESTIONS = 5
TITLE_MIN, TITLE_MAX = 2, 200
SUMMARY_MAX = 2000
TAGS_MAX, TAG_MAX_CHARS = 12, 20
SUGGESTED_TAGS_MAX = 8
CONDITION_MAX = 500
LOW_CONFIDENCE = 0.5  # below this the holder is asked

_CYCLE_LABELS = {
    "realtime": N_("实时"), "daily": N_("每日"), "weekly": N_("每周"), "monthly": N_("每月"),
    "quarterly": N_("每季度"), "half_yearly": N_("每半年"), "yearly": N_("每年"), "other": N_("其他"),
}
_SHARING_LABELS = {"unconditional": N_("无条件共享"), "conditional": N_("有条件共享"), "not_shared": N_("不予共享")}
_OPEN_LABELS = {"unconditional": N_("无条件开放"), "conditional": N_("有条件开放"), "not_open": N_("不予开放")}

_PROMPTS = {
    "title": N_("这份数据叫什么名字？"),
    "category_path": N_("这份数据属于哪一类？请从列表里选一个最接近的。"),
    "update_cycle": N_("这份数据多久更新一次？"),
    "sharing_condition": N_("别人要用这份数据，需要满足什么条件？"),
    "columns": N_("这份表没有列名，请告诉我们每一列是什么。"),
    "summary": N_("请用一两句话说说这份数据是什么、能用来做什么。"),
    "tags": N_("还有哪些词能帮别人找到这份数据？"),
}

_TREE_PATH = Path(__file__).parent / "data" / "categories.json"


def label(update_cycle: str) -> str:
    """Chinese name of an update cycle (其他 for anything unknown)."""
    return _CYCLE_LABELS.get(update_cycle, _CYCLE_LABELS["other"])


def sharing_label(sharing_type: str) -> str:
    return _SHARING_LABELS.get(sharing_type, sharing_type)


def open_label(open_type: str) -> str:
    return _OPEN_LABELS.get(open_type, open_type)


# ---------------------------------------------------------------------------------------------
# The category tree
# ---------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def load_tree() -> list[dict]:
    """The shipped tree (类/项/目/细目). Cached and shared: callers must not modify it."""
    return json.loads(_TREE_PATH.read_text(encoding="utf-8"))


class _Entry(NamedTuple):
    code: str
    path: tuple[str, ...]
    parent: str | None
    node: dict
    keywords: tuple[str, ...]


class _Index(NamedTuple):
    entries: dict[str, _Entry]  # by code, in tree order
    by_path: dict[tuple[str, ...], str]
    specificity: dict[str, float]  # keyword -> 1/sqrt(number of nodes listing it)


@functools.lru_cache(maxsize=1)
def _index() -> _Index:
    entries: dict[str, _Entry] = {}
    counts: dict[str, int] = {}

    def walk(nodes: list[dict], path: tuple[str, ...], parent: str | None) -> None:
        for node in nodes:
            here = path + (node["name"],)
            keywords = tuple(dict.fromkeys([node["name"], *node.get("keywords", [])]))
            entries[node["code"]] = _Entry(node["code"], here, parent, node, keywords)
            for kw in keywords:
                counts[kw] = counts.get(kw, 0) + 1
            walk(node.get("children") or [], here, node["code"])

    walk(load_tree(), (), None)
    return _Index(entries, {e.path: code for code, e in entries.items()},
                  {kw: 1 / math.sqrt(n) for kw, n in counts.items()})


def category_choices() -> list[tuple[str, str]]:
    """Every node as ("医疗卫生 > 诊疗服务 > 门诊人次", code), in tree order, for a <select>."""
    return [(" > ".join(e.path), code) for code, e in _index().entries.items()]


def browse(path: str | None, counts: dict[str, int]) -> dict:
    """One level of the category tree for drill-down browsing: the node, its ancestors, and its
    children with how many listed listings sit at or below each (from `counts`, per stored path).
    Listings filed under paths the tree does not know are counted under 其他 at the top."""
    entry = _resolve_category(path) if path else None
    if path and entry is None:
        raise DomainError("catalogue.unknown_category", "没有这个数据分类：{path}", path=path)
    prefix = entry.path if entry else ()
    by_path = _index().by_path

    def filed(path: str) -> bool:
        parts = tuple(p.strip() for p in path.split(" > "))
        return any(parts[:i] in by_path for i in range(1, len(parts) + 1))

    def total(node_path: tuple[str, ...]) -> int:
        joined = " > ".join(node_path)
        return sum(n for p, n in counts.items() if p == joined or p.startswith(joined + " > "))

    children = entry.node.get("children") or [] if entry else load_tree()
    items = [{"name": c["name"], "code": c["code"], "path": " > ".join(prefix + (c["name"],)),
              "count": total(prefix + (c["name"],)), "leaf": not c.get("children")} for c in children]
    crumbs = [{"name": name, "path": " > ".join(prefix[: i + 1])} for i, name in enumerate(prefix)]
    unfiled = 0 if entry else sum(n for p, n in counts.items() if not filed(p))
    return {"path": " > ".join(prefix), "name": prefix[-1] if prefix else "", "code": entry.code if entry else "",
            "breadcrumb": crumbs, "count": total(prefix) if prefix else sum(counts.values()),
            "children": items, "unfiled": unfiled}


def _resolve_category(path) -> _Entry | None:
    if isinstance(path, str):
        path = [p for p in re.split(r"\s*[>＞/]\s*", path) if p]
    code = _index().by_path.get(tuple(str(p).strip() for p in path))
    return _index().entries[code] if code else None


# ---------------------------------------------------------------------------------------------
# Words: file-name vocabulary (English, publisher acronyms, pinyin) and Chinese segmentation
# ---------------------------------------------------------------------------------------------

# word kind 中文. Kinds: t topic and m modifier (go into the title), r region and q "by region"
# (title prefix), g time granularity, p publisher acronym (a category hint, never in the title),
# c column word (translates English column names), x noise.
_GLOSSARY_TEXT = """
nbs p 统计|stats p 统计|statistics p 统计|moe p 教育|nhc p 卫生健康|cnemc p 环境监测|mee p 生态环境
mca p 民政|mps p 公安|samr p 市场监管|mohurd p 住房城乡建设|mot p 交通运输|cma p 气象|nhsa p 医保
mof p 财政|data x|dataset x|datasets x|table x|tables x|sheet x|sheet1 x|export x|final x|copy x
latest x|info x|information x|the x|of x|and x|in x|for x|all x|open x|opendata x|gov x|download x
file x|raw x|clean x|cleaned x|sample x|test x|demo x|tmp x|temp x|backup x|v1 x|v2 x|yearbook x|by x
list t 名单|directory t 名录|national r 全国|nationwide r 全国|china r 全国|cn r 全国|prc r 全国
by_region q 各地区|by_province q 各省|by_city q 各城市|regional q 各地区|provincial q 各省
daily g day|day g day|monthly g month|yearly g year|annual g year|quarterly g quarter|weekly g week
hourly g hour|realtime g hour|real_time g hour
health m 卫生|medical m 医疗|healthcare m 医疗卫生|hospital t 医院|hospitals t 医院|outpatient t 门诊
outpatients t 门诊|inpatient t 住院|emergency t 急诊|service m 服务|services m 服务|clinic t 诊所
clinics t 诊所|covid t 新冠肺炎疫情|covid19 t 新冠肺炎疫情|ncov t 新冠肺炎疫情|2019ncov t 新冠肺炎疫情
coronavirus t 新冠肺炎疫情|epidemic t 疫情|vaccine t 疫苗|vaccination t 疫苗接种|disease t 疾病
infectious m 传染|gdp t 国内生产总值|cpi t 居民消费价格指数|ppi t 工业生产者出厂价格指数|population t 人口
census t 人口普查|income t 收入|economy m 经济|economic m 经济|air m 空气|quality m 质量
air_quality t 空气质量|aqi t 空气质量指数|pm25 t PM2.5|water m 水|monitoring m 监测|monitor m 监测
station t 站|stations t 站|site t 站点|sites t 站点|pollution t 污染|emission t 排放|emissions t 排放
environment m 环境|environmental m 环境|enterprise t 企业|enterprises t 企业|company t 企业
companies t 企业|firms t 企业|business m 企业|registration t 登记|register t 登记|registry t 登记
license t 许可|licence t 许可|permit t 许可|permits t 许可|food m 食品|inspection t 抽检|sampling t 抽检
drug t 药品|drugs t 药品|bus m 公交|buses m 公交|stop t 站点|stops t 站点|bus_stops t 公交站点
bus_stop t 公交站点|line t 线路|lines t 线路|route t 线路|routes t 线路|metro t 地铁|subway t 地铁
traffic m 交通|parking t 停车场|taxi t 出租汽车|road m 道路|roads m 道路|transport m 交通|school t 学校
schools t 学校|university t 高等学校|universities t 高等学校|college t 高校|colleges t 高校
higher_education t 高等教育|higher_education_institutions t 高等学校|institutions t 机构
institution t 机构|education m 教育|students t 学生|kindergarten t 幼儿园|kindergartens t 幼儿园
resident t 居民|residents t 居民|household t 户籍|households t 户籍|people t 人员|persons t 人员
insurance t 保险|pension t 养老金|medical_insurance t 医保|housing m 住房|house m 房屋|property t 不动产
rent t 租赁|rental t 租赁|weather t 天气|meteorological m 气象|temperature t 气温|rainfall t 降水
precipitation t 降水|forecast t 预报|tourism m 旅游|tourist m 旅游|scenic t 景区|hotel t 酒店|hotels t 酒店
museum t 博物馆|museums t 博物馆|library t 图书馆|patent t 专利|patents t 专利|trademark t 商标
trademarks t 商标|credit m 信用|penalty t 行政处罚|penalties t 行政处罚|sanctions t 行政处罚|price t 价格
prices t 价格|agriculture m 农业|agricultural m 农业|grain t 粮食|land m 土地|forest t 森林
electricity t 电力|power t 电力|energy t 能源|gas t 燃气|charging m 充电|charger t 充电桩|chargers t 充电桩
job t 招聘岗位|jobs t 招聘岗位|recruitment t 招聘|employment t 就业|salary t 工资|wage t 工资|wages t 工资
budget t 预算|fiscal m 财政|finance m 财政|tax t 税收|procurement t 政府采购|court m 法院
judgment t 裁判文书|judgments t 裁判文书|lawyer t 律师|lawyers t 律师|police m 公安|crime t 案件
accident t 事故|accidents t 事故|fire t 火灾|waste t 垃圾|garbage t 垃圾|park t 公园|parks t 公园
toilet t 公共厕所|toilets t 公共厕所|division t 行政区划|divisions t 行政区划|region_codes t 行政区划代码
gb2260 t 行政区划代码|gbt2260 t 行政区划代码|admin_divisions t 行政区划|administrative_divisions t 行政区划
date c 日期|time c 时间|datetime c 时间|timestamp c 时间|year c 年份|month c 月份|country c 国家
province c 省份|city c 城市|county c 区县|district c 区县|region c 地区|code c 代码|name c 名称|id c 编号
address c 地址|lng c 经度|lon c 经度|longitude c 经度|lat c 纬度|latitude c 纬度|confirmed c 确诊
suspected c 疑似|cured c 治愈|recovered c 治愈|dead c 死亡|deaths c 死亡|death c 死亡|count c 数量
number c 数量|total c 合计|amount c 金额|value c 数值|type c 类型|status c 状态|phone c 电话
mobile c 手机号|gender c 性别|sex c 性别|age c 年龄|new c 新增
"""
_GLOSSARY: dict[str, tuple[str, str]] = {}
for _item in _GLOSSARY_TEXT.replace("\n", "|").split("|"):
    if _item.strip():
        _word, _kind, *_zh = _item.split()
        _GLOSSARY[_word] = (_kind, _zh[0] if _zh else "")

_GRANULARITY_WORDS = (("实时", "hour"), ("逐小时", "hour"), ("日报", "day"), ("每日", "day"), ("逐日", "day"),
                      ("周报", "week"), ("每周", "week"), ("月报", "month"), ("每月", "month"), ("月度", "month"),
                      ("季报", "quarter"), ("每季度", "quarter"), ("年报", "year"), ("年度", "year"),
                      ("每年", "year"))
_ACRONYMS = {"GDP", "CPI", "PPI", "PM2.5", "PM10", "AQI", "5G", "POI", "R&D", "12345", "12315"}
_GENERIC_TITLE_WORDS = ("新建", "工作表", "工作簿", "数据表", "统计表", "数据", "表格", "导出", "下载", "附件",
                        "明细", "副本", "最新", "文件", "汇总", "表", "Sheet")
_CJK = re.compile(r"[\u3400-\u9fff]")


def _has_cjk(text: str) -> bool:
    return bool(_CJK.search(text or ""))


@functools.lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


@functools.lru_cache(maxsize=4096)
def _tokens(text: str) -> frozenset[str]:
    return frozenset(t for t in _jieba().lcut(text) if t.strip())


def _ascii_words(text: str) -> list[str]:
    """snake_case, kebab-case, spaces and camelCase split into lower-case words."""
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    return [w.lower() for w in re.split(r"[^A-Za-z0-9]+", text) if w]


def _lookup_phrases(words: list[str]) -> list[tuple[str, str, str]]:
    """Greedy longest match (3, 2, 1 words) against the glossary, then pinyin: (word, kind, 中文)."""
    out, i = [], 0
    while i < len(words):
        for size in (3, 2, 1):
            key = "_".join(words[i:i + size])
            if len(words[i:i + size]) == size and key in _GLOSSARY:
                kind, zh = _GLOSSARY[key]
                out.append((key, kind, zh))
                i += size
                break
        else:
            for size in (4, 3, 2, 1):  # pinyin, possibly split over several words: men_zhen_ren_ci
                key = "".join(words[i:i + size])
                if len(words[i:i + size]) == size and (hit := _pinyin_map().get(key)):
                    out.append((key, *hit))
                    i += size
                    break
            else:
                out.append((words[i], "?", ""))
                i += 1
    return out


@functools.lru_cache(maxsize=1)
def _pinyin_map() -> dict[str, tuple[str, str]]:
    """Pinyin of region names and tree keywords -> (kind, 中文); ambiguous spellings are dropped."""
    from pypinyin import lazy_pinyin

    found: dict[str, set[tuple[str, str]]] = {}

    def add(word: str, kind: str, zh: str) -> None:
        key = "".join(lazy_pinyin(word)).lower()
        if len(key) >= 4 and key.isascii() and key.isalpha():
            found.setdefault(key, set()).add((kind, zh))

    for code, name in _region_names().items():
        if code.endswith("00"):
            short = re.sub(r"(特别行政区|維吾爾自治區|维吾尔自治区|壮族自治区|回族自治区|自治区|自治州|地区|省|市|盟)$", "", name)
            if len(short) >= 2:
                add(short, "r", name)
                add(name, "r", name)
    for entry in _index().entries.values():
        for kw in entry.keywords:
            if _has_cjk(kw) and not re.search(r"[A-Za-z0-9]", kw):
                add(kw, "t", kw)
    return {k: next(iter(v)) for k, v in found.items() if len(v) == 1}


@functools.lru_cache(maxsize=1)
def _region_names() -> dict[str, str]:
    """Current GB/T 2260 names by 6-digit code (python-stdnum's table, via listings.profiling)."""
    from listings.profiling import region_table

    names = {}
    for code, entries in region_table().items():
        current = [name for _start, end, name in entries if end is None] or [entries[-1][2]]
        names[code] = current[0]
    for code, name in list(names.items()):
        if name in ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"):
            names[code] = names.get(code[:2] + "0000", name)
    return names


def _translate_column(name: str) -> str | None:
    """Chinese for an English column name (provinceCode -> 省份代码), when every word is known."""
    if _has_cjk(name) or not name.strip():
        return None
    parts = []
    for _word, kind, zh in _lookup_phrases(_ascii_words(name)):
        if not zh or kind in ("x", "?"):
            return None
        parts.append(zh)
    return "".join(parts) or None


# ---------------------------------------------------------------------------------------------
# Titles from file names
# ---------------------------------------------------------------------------------------------

_EXT = re.compile(r"(\.(csv|tsv|txt|xlsx|xlsm|xls|et|ods|json|xml|zip|gz|dbf))+$", re.I)
_Y = r"(?:19|20)\d{2}"
_DATE_PATTERNS = [
    re.compile(rf"(?<!\d)({_Y})\s*年\s*\d{{1,2}}\s*月?\s*[-—–~～至到]\s*\d{{1,2}}\s*月(?:份)?"),  # 2023年1-6月
    re.compile(rf"(?<!\d)({_Y})\s*年?\s*(?:[-—–~～至到_]|－)\s*({_Y})\s*年?(?:度)?(?!\d)"),  # 1978-2014
    re.compile(rf"(?<!\d)({_Y})([-_./])(\d{{1,2}})\2(\d{{1,2}})(?!\d)"),  # 2020-02-05
    re.compile(rf"(?<!\d)({_Y})年(\d{{1,2}})月(\d{{1,2}})日"),
    re.compile(rf"(?<!\d)({_Y})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?!\d)"),  # 20200205
    re.compile(rf"(?<!\d)({_Y})\s*年\s*第?\s*[1-4一二三四]\s*季度"),
    re.compile(rf"(?<!\d)({_Y})\s*年\s*[上下]半年"),
    re.compile(rf"(?<!\d)({_Y})年(\d{{1,2}})月(?:份)?"),
    re.compile(rf"(?<!\d)({_Y})([-_./])(0?[1-9]|1[0-2])(?![\d])"),
    re.compile(rf"(?<![\dA-Za-z])({_Y})\s*(?:年度|年)?(?![\d])"),
]


def _clean_title(raw: str) -> tuple[str, list[str]]:
    """Strip path, extension, dates (returned apart), separators and, beside Chinese, Latin noise."""
    text = _EXT.sub("", re.split(r"[\\/]", str(raw).strip())[-1])
    dates: list[str] = []
    for pattern in _DATE_PATTERNS:
        def keep(m: re.Match) -> str:
            dates.append(m.group(0).strip(" _-."))
            return " "
        text = pattern.sub(keep, text)
    text = re.sub(r"副本|最新版?|最终版|终版|定稿|修订版|copy|final", " ", text, flags=re.I)
    text = re.sub(r"[（(\[【]\s*\d*\s*[)）\]】]", " ", text)  # (1) and brackets left empty
    text = re.sub(r"(^|\s)[至到~～]+(?=\s|$)", " ", text)  # the 至 of a removed date range
    text = re.sub(r"^[\s_\-]*(?:附件|附表)?\s*\d{1,3}\s*(?:[、.．_\-]|(?=[\u3400-\u9fff]))", " ", text)  # 附件1_, 01.
    text = re.sub(r"[_\-–—·,，;；]+|(?<!\d)\.|\.(?!\d)", " ", text)  # PM2.5 keeps its dot
    if _has_cjk(text):
        words = [w for w in text.split() if _has_cjk(w) or w.upper() in _ACRONYMS]
        text = ""
        for word in words:  # no space between Chinese words, one beside Latin acronyms
            if text and not (_has_cjk(text[-1]) and _has_cjk(word[0])):
                text += " "
            text += word
    text = re.sub(r"\s+", " ", text).strip(" ()（）[]【】")
    return text, dates


def _is_generic_title(title: str) -> bool:
    rest = title
    for word in _GENERIC_TITLE_WORDS:
        rest = rest.replace(word, "")
    return len(_CJK.findall(rest)) < 2


def _common_prefix(names: list[str]) -> str:
    """The shared start of indicator names (医疗卫生机构…), cut at a word boundary, or ''."""
    if len(names) < 2:
        return ""
    prefix = names[0]
    for name in names[1:]:
        while not name.startswith(prefix):
            prefix = prefix[:-1]
    if len(prefix) < 2 or any(len(n) - len(prefix) < 2 for n in names):
        return ""
    boundary, pos = "", 0
    for token in _jieba().lcut(names[0]):
        pos += len(token)
        if pos > len(prefix):
            break
        boundary = names[0][:pos]
    return boundary if len(boundary) >= 2 else ""


# ---------------------------------------------------------------------------------------------
# Reading the profile: time, regions, coordinates, indicators
# ---------------------------------------------------------------------------------------------

_PERSONAL_SEMANTICS = {"resident_id", "mobile", "person_name", "address"}
_NAMING = {"resident_id": "身份证号", "mobile": "手机号", "person_name": "姓名", "address": "地址",
           "uscc": "统一社会信用代码", "enterprise_name": "企业名称", "region_code": "行政区划代码",
           "longitude": "经度", "latitude": "纬度", "year": "年份", "amount": "金额"}
_GENERIC_COLUMN = re.compile(r"^\s*(列|字段|column|col|field|unnamed)?[\s_:：]*\d*\s*$", re.I)
_TIME_DIMENSION = re.compile(
    r"^(统计|监测|观测|采集|报告|数据|通报|发布|更新|填报|截止)?(年份|年度|年|日期|时间|月份|月|季度|期间|时段|日|小时)$"
    r"|^(统计期|报告期|data_?date|stat_?date|report_?date|date|time|datetime|timestamp|year|month|period|day|hour)$",
    re.I)
_NOT_A_CYCLE = re.compile(r"出生|生日|birth|有效期|截止|到期|失效|expire", re.I)
_PROVINCE_COL = re.compile(r"^(省|省份|省区|省市|省级|省级行政区|省级行政区划|所在省份?|province|prov)(名称|name)?$", re.I)
_CITY_COL = re.compile(r"^(市|城市|地市|地级市|地级行政区|所在城市|所在地|所在地区|所在市|city)(名称|name)?$", re.I)
_COUNTY_COL = re.compile(r"^(区|县|区县|县区|县级行政区|所在区县|county|district)(名称|name)?$", re.I)
_GRANULARITY_CYCLE = {"hour": "realtime", "day": "daily", "week": "weekly", "month": "monthly",
                      "quarter": "quarterly", "half": "half_yearly", "year": "yearly"}
_GRANULARITY_TAG = {"hour": "小时级", "day": "日度", "week": "周度", "month": "月度", "quarter": "季度",
                    "half": "半年度", "year": "年度"}
_GRANULARITY_BY = {"hour": "小时", "day": "日", "week": "周", "month": "月", "quarter": "季度", "half": "半年",
                   "year": "年份"}
_QUARTER = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}


def _parse_when(value) -> tuple[str, _dt.datetime] | None:
    """('year'|'quarter'|'half'|'month'|'day'|'time', start) for one cell value, or None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return ("year", _dt.datetime(int(value), 1, 1)) if value == int(value) and 1000 <= value <= 2999 else None
    s = str(value).strip()
    try:
        if m := re.fullmatch(r"(\d{4})\s*年?度?", s):
            return ("year", _dt.datetime(int(m[1]), 1, 1)) if 1000 <= int(m[1]) <= 2999 else None
        if m := re.fullmatch(r"(\d{4})\s*(?:年\s*第?\s*([1-4一二三四])\s*季度?|[-\s]?[Qq]([1-4]))", s):
            return "quarter", _dt.datetime(int(m[1]), 3 * _QUARTER[m[2] or m[3]] - 2, 1)
        if m := re.fullmatch(r"(\d{4})\s*年\s*([上下])半年", s):
            return "half", _dt.datetime(int(m[1]), 1 if m[2] == "上" else 7, 1)
        if m := re.fullmatch(r"(\d{4})(?:[-/.](\d{1,2})|年(\d{1,2})月?份?)", s):
            return "month", _dt.datetime(int(m[1]), int(m[2] or m[3]), 1)
        m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[T\s]+(\d{1,2})(?:[:时](\d{1,2}))?"
                         r"(?:[:分](\d{1,2}(?:\.\d+)?))?.*)?", s) \
            or re.fullmatch(r"(\d{4})(\d{2})(\d{2})(?:[T\s]?(\d{2})(\d{2})(\d{2})?)?", s)
        if m:
            hour, minute, sec = (int(float(g)) if g else 0 for g in (m[4], m[5], m[6]))
            when = _dt.datetime(int(m[1]), int(m[2]), int(m[3]), hour, minute, sec)
            return ("time" if m[4] is not None and (hour, minute, sec) != (0, 0, 0) else "day"), when
    except ValueError:  # 2021-02-30 and friends
        return None
    return None


def _top_values(col: dict) -> list:
    out = []
    for item in col.get("top_values") or []:
        if isinstance(item, dict):
            out.append(item.get("value"))
        elif isinstance(item, (list, tuple)) and item:
            out.append(item[0])
    return [v for v in out if v not in (None, "")]


class _Time(NamedTuple):
    column: str
    dimension: bool  # the table is "by" this column (年份, 日期), not a date of the thing (成立日期)
    granularity: str
    start: _dt.datetime
    end: _dt.datetime
    distinct: int


def _time_of(col: dict) -> _Time | None:
    name = str(col.get("name") or "")
    semantic = col.get("semantic_type")
    is_dim = bool(_TIME_DIMENSION.match(name.strip())) or semantic == "year"
    if col.get("type") not in ("date", "datetime") and semantic != "year" and not is_dim:
        return None
    parsed = [p for p in map(_parse_when, [col.get("min"), col.get("max"), *_top_values(col)]) if p]
    if not parsed or not all(map(_parse_when, [v for v in (col.get("min"), col.get("max")) if v is not None])):
        return None
    kinds = {k for k, _ in parsed}
    whens = [w for _, w in parsed]
    start, end = min(whens), max(whens)
    distinct = int(col.get("distinct_count") or len(set(whens)))
    for fixed in ("year", "half", "quarter", "month"):
        if kinds == {fixed}:
            return _Time(name, is_dim, fixed, start, end, distinct)
    if distinct >= 2 and "time" in kinds:
        hours = (end - start).total_seconds() / 3600 / (distinct - 1)
        if hours <= 1.5:
            return _Time(name, is_dim, "hour", start, end, distinct)
    granularity = "day"
    if distinct >= 2:
        gap = (end - start).days / (distinct - 1)
        for limit, grain in ((3, "day"), (10, "week"), (45, "month"), (120, "quarter"), (240, "half")):
            if gap <= limit:
                granularity = grain
                break
        else:
            granularity = "year"
    return _Time(name, is_dim, granularity, start, end, distinct)


def _format_when(when: _dt.datetime, granularity: str) -> str:
    if granularity == "year":
        return f"{when.year}年"
    if granularity == "half":
        return f"{when.year}年{'上' if when.month <= 6 else '下'}半年"
    if granularity == "quarter":
        return f"{when.year}年第{(when.month - 1) // 3 + 1}季度"
    if granularity == "month":
        return f"{when.year}年{when.month}月"
    return f"{when.year}年{when.month}月{when.day}日"


def _span(t: _Time) -> str:
    a, b = _format_when(t.start, t.granularity), _format_when(t.end, t.granularity)
    return a if a == b else f"{a}—{b}"


class _Region(NamedTuple):
    scope: str  # national / single / multi
    name: str | None
    level: str  # province / city / county
    count: int
    dimension: bool  # a column of places, so rows are "by region"


_LEVEL_WORD = {"province": "省级行政区", "city": "城市", "county": "区县"}


def _region_of(columns: list[dict]) -> _Region | None:
    found: dict[str, tuple[int, str | None]] = {}
    for col in columns:
        name = str(col.get("name") or "").strip()
        translated = _translate_column(name) or name
        distinct = int(col.get("distinct_count") or 0)
        values = [str(v) for v in _top_values(col)]
        if col.get("semantic_type") == "region_code":
            codes = [re.sub(r"\D", "", str(v))[:6] for v in (col.get("min"), col.get("max"), *values) if v]
            codes = [c for c in codes if len(c) == 6]
            if not codes:
                continue
            level = ("province" if all(c.endswith("0000") for c in codes)
                     else "city" if all(c.endswith("00") for c in codes) else "county")
            lo, hi = min(codes), max(codes)  # every code between two that share a prefix shares it too
            single = None
            if distinct <= 1:
                single = _region_names().get(lo)
            elif lo[:4] == hi[:4] and level == "county":
                single = _region_names().get(lo[:4] + "00")
            elif lo[:2] == hi[:2] and level != "province":
                single = _region_names().get(lo[:2] + "0000")
            found.setdefault(level, (distinct, single if distinct <= 1 else None))
            if single and distinct > 1:
                found.setdefault("within", (distinct, single))
            continue
        for level, pattern in (("province", _PROVINCE_COL), ("city", _CITY_COL), ("county", _COUNTY_COL)):
            if pattern.match(name) or pattern.match(translated):
                found.setdefault(level, (distinct, values[0] if distinct == 1 and values else None))
    if not found:
        return None
    within = found.pop("within", None)
    parent = within[1] if within else None
    levels = [level for level in ("province", "city", "county") if level in found]
    for i, level in enumerate(levels):
        count, single = found[level]
        if count >= {"province": 25, "city": 150, "county": 1000}[level]:  # of 34 / 333 / 2,800 or so
            return _Region("national", "全国", level, count, True)
        if count <= 1:
            if any(found[finer][0] > 1 for finer in levels[i + 1:]):
                parent = single or parent  # 浙江省, then its 11 cities
                continue
            return _Region("single", single, level, count, False)
        return _Region("multi", parent, level, count, True)
    return None


def _region_in_text(text: str) -> str | None:
    """A province or prefecture named in full (杭州市), or in short at the start (杭州公交站点)."""
    for code, name in _region_names().items():
        if code.endswith("00") and len(name) >= 3:
            short = re.sub(r"(市|省|自治区|地区)$", "", name)
            if name in text or (len(short) >= 2 and text.startswith(short)):
                return name
    return None


# ---------------------------------------------------------------------------------------------
# Category scoring
# ---------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _latin_keywords() -> dict[str, re.Pattern]:
    """Keywords without Chinese (AQI, PM2.5, 12345) match whole words only, never inside 110000."""
    return {kw: re.compile(rf"(?<![A-Za-z0-9.]){re.escape(kw)}(?![A-Za-z0-9])", re.I)
            for kw in _index().specificity if not _has_cjk(kw)}


def _keyword_hits(keyword: str, text: str) -> float:
    """1 for a whole-word match, 0.75 for a match inside a longer word, 0 for none."""
    pattern = _latin_keywords().get(keyword)
    if pattern is not None:
        return 1.0 if pattern.search(text) else 0.0
    if keyword not in text:
        return 0.0
    return 1.0 if keyword == text or keyword in _tokens(text) else 0.75


def _score(texts: list[tuple[str, float]]) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Own score of every node and, per node, the keywords that earned it."""
    index = _index()
    own: dict[str, float] = {}
    hits: dict[str, dict[str, float]] = {}
    for code, entry in index.entries.items():
        for text, weight in texts:
            matched = {kw: f for kw in entry.keywords if (f := _keyword_hits(kw, text))}
            for kw, factor in matched.items():
                if any(kw != other and kw in other for other in matched):
                    continue  # 门诊 inside 门诊人次 counts once, as the longer word
                gain = weight * factor * index.specificity[kw] * (0.6 + 0.1 * min(len(kw), 8))
                own[code] = own.get(code, 0.0) + gain
                hits.setdefault(code, {})[kw] = hits.get(code, {}).get(kw, 0.0) + gain
    return own, hits


def _classify(texts: list[tuple[str, float]]) -> tuple[_Entry | None, float, dict[str, float]]:
    """Best node (the deepest one with its own evidence), a 0..1 confidence, and its keywords."""
    index = _index()
    own, hits = _score(texts)
    total: dict[str, float] = {}
    for code, entry in index.entries.items():  # tree order: parents before children
        total[code] = own.get(code, 0.0) + (total[entry.parent] if entry.parent else 0.0)
    candidates = [c for c in own if own[c] > 0]
    if not candidates:
        return None, 0.0, {}
    best = max(candidates, key=lambda c: (round(total[c], 6), len(index.entries[c].path)))
    path = index.entries[best].path
    rivals = [total[c] for c in candidates
              if index.entries[c].path[:len(path)] != path and path[:len(index.entries[c].path)] != index.entries[c].path]
    s1, s2 = total[best], max(rivals, default=0.0)
    confidence = (1 - math.exp(-s1 / 3)) * (0.5 + 0.5 * (s1 - s2) / s1)
    keywords: dict[str, float] = {}
    code: str | None = best
    while code:
        for kw, gain in hits.get(code, {}).items():
            keywords[kw] = keywords.get(kw, 0.0) + gain
        code = index.entries[code].parent
    return index.entries[best], round(min(confidence, 0.99), 2), keywords


# ---------------------------------------------------------------------------------------------
# suggest()
# ---------------------------------------------------------------------------------------------

_FORMATS = {"csv": "电子表格/CSV", "tsv": "电子表格/TSV", "txt": "电子表格/TXT", "xls": "电子表格/XLS",
            "xlsx": "电子表格/XLSX", "xlsm": "电子表格/XLSX", "et": "电子表格/ET", "ods": "电子表格/ODS",
            "json": "结构化文本/JSON", "xml": "结构化文本/XML"}
_DATA_TYPES = {"integer": "数值型", "decimal": "数值型", "date": "日期型", "datetime": "日期型",
               "boolean": "布尔型"}
_MEASURE_WORDS = (("企业", "家"), ("公司", "家"), ("医院", "家"), ("机构", "家"), ("单位", "家"), ("药店", "家"),
                  ("学校", "所"), ("高校", "所"), ("大学", "所"), ("学院", "所"), ("幼儿园", "所"),
                  ("居民", "位"), ("人员", "名"), ("学生", "名"))


class _Table(NamedTuple):
    """What the profile says, in the terms the catalogue needs."""

    columns: list[dict]
    names: list[str]
    row_count: int
    headerless: bool
    dimension: _Time | None  # the time the rows are "by"
    attribute: _Time | None  # else the busiest date of the things listed (成立日期), never a birth date
    region: _Region | None
    has_coords: bool
    body: list[dict]  # columns other than the time and place dimensions
    indicators: list[dict]  # numeric measures among them
    stat_table: bool  # rows by time (and place), mostly measures: a statistical table
    prefix: str  # shared start of the indicators' names (医疗卫生机构)


class _Name(NamedTuple):
    """What the file name (or the title the holder typed) says."""

    raw: str
    cleaned: str
    dates: list[str]
    chinese: str  # a usable Chinese title, or ''
    words: list[tuple[str, str, str]]  # Latin/pinyin words as (word, kind, 中文), see _GLOSSARY_TEXT
    granularity: str | None

    def zh(self, *kinds: str) -> list[str]:
        return [zh for _w, kind, zh in self.words if kind in kinds and zh]


_NOT_INDICATOR = {"uscc", "resident_id", "mobile", "region_code", "longitude", "latitude", "year"}


def _read_table(profile: dict) -> _Table:
    columns = [c for c in profile.get("columns") or [] if isinstance(c, dict)]
    names = [str(c.get("name") or "") for c in columns]
    times = [t for t in map(_time_of, columns) if t]
    dimension = next((t for t in times if t.dimension), None)
    attribute = max((t for t in times if not t.dimension and not _NOT_A_CYCLE.search(t.column)),
                    key=lambda t: t.distinct, default=None)
    region = _region_of(columns)
    dimensions = {t.column for t in times if t.dimension}
    body = [c for c in columns if str(c.get("name") or "") not in dimensions and not (
        region and region.dimension and (c.get("semantic_type") == "region_code" or _is_region_column(c)))]
    indicators = [c for c in body if c.get("type") in ("integer", "decimal")
                  and c.get("semantic_type") not in _NOT_INDICATOR
                  and not re.search(r"序号|编号|代码|编码|^id$|code$", str(c.get("name") or ""), re.I)]
    stat_table = bool(dimension) and bool(indicators) and len(indicators) * 2 >= len(body)
    prefix = _common_prefix([str(c["name"]) for c in indicators if _has_cjk(str(c.get("name") or ""))]) \
        if stat_table else ""
    return _Table(columns, names, int(profile.get("row_count") or 0),
                  bool(columns) and all(_GENERIC_COLUMN.match(n) for n in names), dimension, attribute, region,
                  {"longitude", "latitude"} <= {c.get("semantic_type") for c in columns},
                  body, indicators, stat_table, prefix)


def _read_name(filename: str, title: str | None) -> _Name:
    raw = title or filename
    cleaned, dates = _clean_title(raw)
    chinese = cleaned if _has_cjk(cleaned) and not _is_generic_title(cleaned) else ""
    words = [] if _has_cjk(cleaned) else _lookup_phrases([w for w in _ascii_words(cleaned) if not w.isdigit()])
    granularity = next((zh for _w, kind, zh in words if kind == "g"), None) or next(
        (grain for word, grain in _GRANULARITY_WORDS if word in raw), None)
    return _Name(raw, cleaned, dates, chinese, words, granularity)


def _category_texts(name: _Name, table: _Table, *, filename: str, title: str | None) -> list[tuple[str, float]]:
    """(text, weight) evidence for the category: the name counts most, then columns, then values."""
    texts: list[tuple[str, float]] = []
    if name.chinese:
        texts.append((name.chinese, 3.0))
    if topic := "".join(name.zh("t", "m")):
        texts.append((topic, 3.0))
    if publisher := "".join(name.zh("p")):
        texts.append((publisher, 1.0))
    if title and filename and title != filename:
        other, _dates = _clean_title(filename)
        if _has_cjk(other):
            texts.append((other, 1.5))
    per_column = min(1.0, 12 / max(len(table.columns), 1))  # fifty columns must not outweigh the name
    for col, col_name in zip(table.columns, table.names):
        semantic = _NAMING.get(col.get("semantic_type") or "")
        if _GENERIC_COLUMN.match(col_name):
            if semantic:
                texts.append((semantic, per_column))
        else:
            texts.append((_translate_column(col_name) or col_name, per_column))
            if semantic and not _has_cjk(col_name):  # "Code" is a 行政区划代码, the profile says
                texts.append((semantic, per_column / 2))
        if col.get("type") in ("text", "category") and col.get("semantic_type") not in _PERSONAL_SEMANTICS:
            for value in map(str, _top_values(col)[:5]):  # never the values of personal columns
                if _has_cjk(value) and len(value) <= 30:
                    texts.append((value, 0.3))
    return texts


def _suggest_title(name: _Name, table: _Table, entry: _Entry | None, confident: bool) -> tuple[str, float]:
    """The holder's Chinese name as is; else built from translated words, the category and the columns."""
    if name.chinese:
        return name.chinese[:TITLE_MAX], 0.9
    topic = "".join(zh for zh in name.zh("t", "m") if not (table.prefix and zh in table.prefix))
    confidence = 0.7 if topic and confident else 0.4
    leaf_title = (entry.node.get("title") or entry.node["name"]) if entry else ""
    if confident and (not topic or topic in leaf_title):  # 监测站点 -> 空气质量监测站点
        topic = leaf_title
    if table.prefix and not topic.startswith(table.prefix):  # 医疗卫生机构 + 门诊服务
        topic = table.prefix + topic
    if table.stat_table and re.search(r"(服务|工作|活动|运行|发展|建设)$", topic):
        topic += "情况"
    if not topic:
        fallback = " ".join(w for w, kind, _zh in name.words if kind != "x") or name.cleaned or "未命名数据"
        return fallback[:TITLE_MAX], 0.1
    national = (table.region and table.region.scope == "national") or "全国" in name.zh("r")
    place = (next(iter(name.zh("q")), None) or next((zh for zh in name.zh("r") if zh != "全国"), None)
             or ("全国" if national else ""))
    title = topic if topic.startswith(place) else place + topic
    return title[:TITLE_MAX], (confidence if len(title) >= TITLE_MIN else 0.1)


def _suggest_update_cycle(name: _Name, table: _Table, entry: _Entry | None, confident: bool) -> tuple[str, bool]:
    """(cycle, read from the data): the time column's granularity, else the name's, else a guess."""
    dimension, attribute = table.dimension, table.attribute
    if dimension and (dimension.distinct >= 2 or dimension.granularity in ("year", "half", "quarter", "month")):
        return _GRANULARITY_CYCLE[dimension.granularity], True
    if name.granularity:  # one day of data called "daily"
        return _GRANULARITY_CYCLE[name.granularity], True
    if dimension:
        return _GRANULARITY_CYCLE[dimension.granularity], False
    if attribute and attribute.distinct >= 30:  # new 成立日期 every day: a register that grows daily
        return _GRANULARITY_CYCLE[attribute.granularity], False
    return ((entry.node.get("update_cycle") if entry and confident else None) or "other"), False


def _suggest_sharing(grade: str, personal: bool, holder_kind: str) -> tuple[str, str, str, str]:
    """(sharing type, open type, 共享条件, 共享方式): the grade decides, the holder does not have to."""
    if grade == "core":
        return "not_shared", "not_open", "核心数据，列入负面清单，不予共享", "不提供"
    if grade == "important":
        return ("conditional", "conditional", "仅以统计结果、模型或核验结果提供，需说明用途并经数据提供方审核同意",
                "沙箱/核验接口（数据可用不可见）")
    if personal:
        return ("conditional", "conditional",
                "需说明用途并经数据提供方审核同意；个人信息脱敏后提供，另有授权同意或法定依据的除外",
                "接口/沙箱（个人信息脱敏）")
    # an enterprise's own data is not public open data unless the enterprise says so
    return "unconditional", "conditional" if holder_kind == "enterprise" else "unconditional", "", "接口/文件"


def _suggest_tags(name: _Name, table: _Table, path: list[str], title: str, matched: dict[str, float],
                  personal: bool) -> list[str]:
    region = table.region
    if region and region.scope == "national":
        place = "全国"
    else:
        place = (region.name if region and region.name else None) or next(
            (zh for zh in name.zh("r") if zh != "全国"), None) or _region_in_text(title)
    candidates = [path[0] if path else None, path[-1] if len(path) > 1 else None, place,
                  _GRANULARITY_TAG.get(table.dimension.granularity) if table.dimension else None,
                  "含坐标" if table.has_coords else None, "含个人信息" if personal else None,
                  path[1] if len(path) > 2 else None]
    candidates += [kw for kw, _gain in sorted(matched.items(), key=lambda kv: -kv[1])
                   if _has_cjk(kw) and kw not in path]
    tags: list[str] = []
    for tag in candidates:
        if tag and len(tag) <= TAG_MAX_CHARS and not any(tag in t for t in tags):
            tags.append(tag)
        if len(tags) == SUGGESTED_TAGS_MAX:
            break
    return tags


def _information_items(table: _Table) -> list[dict]:
    """信息项: each column with its 数据类型, and what it is when the name does not say (列3 = 经度)."""
    items = []
    for col, col_name in zip(table.columns, table.names):
        semantic = col.get("semantic_type")
        item = {"名称": col_name,
                "数据类型": "日期型" if semantic == "year" else _DATA_TYPES.get(col.get("type"), "字符型")}
        note = _translate_column(col_name) or (_NAMING.get(semantic) if _GENERIC_COLUMN.match(col_name) else None)
        if note:
            item["说明"] = note
        items.append(item)
    return items


def suggest(*, filename: str, title: str | None = None, profile: dict, holder_name: str, holder_kind: str,
            grade: str = "general", personal: bool = False) -> dict:
    """Every catalogue field pre-filled from the file name and profile, plus at most five questions."""
    if grade not in GRADES:
        raise DomainError("catalogue.grade_invalid", "分级只能是一般、重要或核心", grade=grade)
    table = _read_table(profile)
    name = _read_name(filename, title)
    entry, category_confidence, matched = _classify(_category_texts(name, table, filename=filename, title=title))
    confident = entry is not None and category_confidence >= LOW_CONFIDENCE
    path = list(entry.path) if entry else []
    final_title, title_confidence = _suggest_title(name, table, entry, confident)
    update_cycle, cycle_from_data = _suggest_update_cycle(name, table, entry, confident)
    sharing_type, open_type, condition, channel = _suggest_sharing(grade, personal, holder_kind)
    summary = _summary(holder_name=holder_name, title=final_title, table=table, entry=entry if confident else None,
                       personal=personal, name_dates=name.dates)
    tags = _suggest_tags(name, table, path, final_title, matched, personal)
    catalogue = {
        "提供方": holder_name,
        "信息资源名称": final_title,
        "信息资源摘要": summary,
        "信息资源分类": " > ".join(path),
        "信息资源格式": _FORMATS.get(Path(filename).suffix.lower().lstrip("."), "电子表格"),
        "信息项": _information_items(table),
        "共享类型": sharing_label(sharing_type),
        "共享条件": condition,
        "共享方式": channel,
        "开放属性": open_label(open_type),
        "更新周期": label(update_cycle),
    }

    # most important first; whatever is past the fifth is left as suggested
    questions = []
    if not confident:
        questions.append(_ask("category_path", path, required=not path))
    if title_confidence < 0.6:
        questions.append(_ask("title", final_title, required=title_confidence < 0.3))
    if not cycle_from_data or update_cycle == "other":
        questions.append(_ask("update_cycle", update_cycle, required=False,
                              choices=[[c, label(c)] for c in UPDATE_CYCLES]))
    if sharing_type == "conditional":
        questions.append(_ask("sharing_condition", condition, required=False))
    if table.headerless:
        questions.append(_ask("columns", [_NAMING.get(c.get("semantic_type") or "", n)
                                          for c, n in zip(table.columns, table.names)], required=False))
    if not (table.dimension or table.attribute or table.indicators or (confident and entry.node.get("row"))):
        questions.append(_ask("summary", summary, required=False))
    if len(tags) < 3:
        questions.append(_ask("tags", tags, required=False))

    return {
        "title": final_title,
        "summary": summary,
        "category_path": path,
        "category_code": entry.code if entry else "",
        "category_confidence": category_confidence,
        "tags": tags,
        "update_cycle": update_cycle,
        "sharing_type": sharing_type,
        "sharing_condition": condition,
        "open_type": open_type,
        "catalogue": catalogue,
        "questions": questions[:MAX_QUESTIONS],
    }


def _ask(field: str, suggested, *, required: bool, **extra) -> dict:
    return {"field": field, "prompt": _PROMPTS[field], "suggested": suggested, "required": required, **extra}


def _is_region_column(col: dict) -> bool:
    name = str(col.get("name") or "").strip()
    name = _translate_column(name) or name
    return any(p.match(name) for p in (_PROVINCE_COL, _CITY_COL, _COUNTY_COL))


def _display_name(name: str, prefix: str) -> str:
    name = _translate_column(name) or name
    return name[len(prefix):] if prefix and name.startswith(prefix) and len(name) > len(prefix) + 1 else name


def _summary(*, holder_name: str, title: str, table: _Table, entry: _Entry | None, personal: bool,
             name_dates: list[str]) -> str:
    """One to three plain sentences, only from facts: who, what a row is, when, where, how much."""
    dimension, attribute, region, columns = table.dimension, table.attribute, table.region, table.columns
    parts = [f"{holder_name}提供的{title}" if holder_name else title]
    if dimension:
        by = _GRANULARITY_BY[dimension.granularity]
        by = f"按{by}分地区统计" if region and region.dimension else f"按{by}统计"
        parts.append(f"{by}（{_span(dimension)}）")
    else:
        row = entry.node.get("row") if entry else None
        if not row:
            named = next((str(c["name"])[:-2] for c in columns
                          if str(c.get("name") or "").endswith("名称") and len(str(c["name"])) > 3), None)
            if named:
                measure = next((m for word, m in _MEASURE_WORDS if named.endswith(word)), "个")
                row = f"一{measure}{named}"
        if row:
            parts.append(f"每行是{row}")
        if attribute:
            a, b = _format_when(attribute.start, "day"), _format_when(attribute.end, "day")
            parts.append(f"{attribute.column}为{a}" if a == b else f"{attribute.column}从{a}到{b}")
        elif name_dates:
            parts.append(f"时间为{'、'.join(name_dates[:2])}")
    if region:
        if region.scope == "national":
            parts.append(f"覆盖全国 {region.count} 个{_LEVEL_WORD[region.level]}")
        elif region.scope == "single" and region.name:
            parts.append(f"涉及{region.name}")
        elif region.scope == "multi":
            parts.append(f"涉及{region.name or ''} {region.count} 个{_LEVEL_WORD[region.level]}")
    parts.append(f"共 {table.row_count} 行")
    if table.stat_table:
        ranked = sorted(enumerate(table.indicators), key=lambda ic: (int(ic[1].get("null_count") or 0), ic[0]))
        shown = "、".join(_display_name(str(c["name"]), table.prefix) for _i, c in ranked[:2])
        count = len(table.indicators)
        parts.append(f"包括{shown}等 {count} 项指标" if count > 2 else f"指标为{shown}")
    elif table.headerless:
        parts[-1] = f"共 {table.row_count} 行、{len(columns)} 列（原表没有列名）"
    elif columns:
        meaningful = [_translate_column(str(c["name"])) or str(c["name"]) for c in table.body
                      if not re.fullmatch(r"序号|编号|id|no|备注|说明", str(c.get("name") or ""), re.I)
                      and str(c.get("name") or "").strip()]
        if meaningful:
            shown = "、".join(meaningful[:3])
            parts.append(f"包括{shown}等 {len(columns)} 个字段" if len(columns) > len(meaningful[:3])
                         else f"字段为{shown}")
    sentences = ["，".join(parts) + "。"]
    notes = []
    if table.has_coords:
        notes.append("含经纬度坐标，可在地图上展示")
    if personal:
        found = list(dict.fromkeys(_NAMING[c["semantic_type"]] for c in columns
                                   if c.get("semantic_type") in ("resident_id", "mobile", "person_name")))
        notes.append(f"含{'、'.join(found)}等个人信息，提供时自动脱敏" if found else "含个人信息，提供时自动脱敏")
    if notes:
        sentences.append("；".join(notes) + "。")
    return "".join(sentences)[:SUMMARY_MAX]


# ---------------------------------------------------------------------------------------------
# validate()
# ---------------------------------------------------------------------------------------------

def _code_of(value, allowed: tuple[str, ...], labels: dict[str, str]) -> str | None:
    if value in allowed:
        return value
    by_label = {v: k for k, v in labels.items()}
    return by_label.get(value.strip()) if isinstance(value, str) else None


def validate(fields: dict, *, grade: str = "general", personal: bool = False) -> dict:
    """The holder's confirmed catalogue fields, normalized; DomainError with a stable code if not valid.

    Only `title` is required: a field left out stays unset (raw data can be listed as it is)."""
    if grade not in GRADES:
        raise DomainError("catalogue.grade_invalid", "分级只能是一般、重要或核心", grade=grade)
    out: dict = {}
    title = fields.get("title")
    title = re.sub(r"\s+", " ", title).strip() if isinstance(title, str) else ""
    if not TITLE_MIN <= len(title) <= TITLE_MAX:
        raise DomainError("catalogue.title_invalid", "资源名称应为 2 到 200 个字符", length=len(title))
    out["title"] = title

    if fields.get("summary") is not None:
        summary = fields["summary"]
        if not isinstance(summary, str) or len(summary.strip()) > SUMMARY_MAX:
            raise DomainError("catalogue.summary_too_long", "摘要不能超过 2000 个字",
                              length=len(summary) if isinstance(summary, str) else 0)
        out["summary"] = summary.strip()

    path = fields.get("category_path")
    if path is None and fields.get("category_code"):
        entry = _index().entries.get(str(fields["category_code"]))
        if entry is None:
            raise DomainError("catalogue.category_unknown", "请从分类列表中选择一个分类",
                              category_code=str(fields["category_code"]))
        out["category_path"], out["category_code"] = list(entry.path), entry.code
    elif path is not None:
        if not isinstance(path, (str, list, tuple)):
            raise DomainError("catalogue.category_unknown", "请从分类列表中选择一个分类", path=str(path))
        if path in ("", [], ()):
            out["category_path"], out["category_code"] = [], ""
        else:
            entry = _resolve_category(path)
            if entry is None or (fields.get("category_code") and fields["category_code"] != entry.code):
                shown = path if isinstance(path, str) else " > ".join(map(str, path))
                raise DomainError("catalogue.category_unknown", "请从分类列表中选择一个分类", path=shown)
            out["category_path"], out["category_code"] = list(entry.path), entry.code

    if fields.get("update_cycle") is not None:
        cycle = _code_of(fields["update_cycle"], UPDATE_CYCLES, _CYCLE_LABELS)
        if cycle is None:
            raise DomainError("catalogue.update_cycle_invalid",
                              "更新周期只能是实时、每日、每周、每月、每季度、每半年、每年或其他",
                              value=str(fields["update_cycle"]))
        out["update_cycle"] = cycle

    if fields.get("tags") is not None:
        tags = fields["tags"]
        if isinstance(tags, str):
            tags = re.split(r"[,，、;；\s]+", tags)
        if not isinstance(tags, (list, tuple)):
            raise DomainError("catalogue.tag_invalid", "每个标签应为 1 到 20 个字", tag=str(tags)[:40])
        clean: list[str] = []
        for tag in tags:
            if not isinstance(tag, str):
                raise DomainError("catalogue.tag_invalid", "每个标签应为 1 到 20 个字", tag=str(tag)[:40])
            tag = tag.strip().lstrip("#")
            if not tag:
                continue
            if len(tag) > TAG_MAX_CHARS:
                raise DomainError("catalogue.tag_invalid", "每个标签应为 1 到 20 个字", tag=tag[:40])
            if tag not in clean:
                clean.append(tag)
        if len(clean) > TAGS_MAX:
            raise DomainError("catalogue.tags_too_many", "标签最多 12 个", count=len(clean))
        out["tags"] = clean

    if fields.get("sharing_type") is not None:
        sharing = _code_of(fields["sharing_type"], SHARING_TYPES, _SHARING_LABELS)
        if sharing is None:
            raise DomainError("catalogue.sharing_type_invalid", "共享类型只能是无条件共享、有条件共享或不予共享",
                              value=str(fields["sharing_type"]))
        out["sharing_type"] = sharing
    if fields.get("open_type") is not None:
        opening = _code_of(fields["open_type"], OPEN_TYPES, _OPEN_LABELS)
        if opening is None:
            raise DomainError("catalogue.open_type_invalid", "开放属性只能是无条件开放、有条件开放或不予开放",
                              value=str(fields["open_type"]))
        out["open_type"] = opening
    if grade == "core" and (out.get("sharing_type", "not_shared") != "not_shared"
                            or out.get("open_type", "not_open") != "not_open"):
        raise DomainError("catalogue.core_not_shared", "核心数据不予共享、不予开放")
    if (grade == "important" or personal) and "unconditional" in (out.get("sharing_type"), out.get("open_type")):
        raise DomainError("catalogue.sharing_too_open", "含个人信息或重要数据的资源只能有条件共享或开放")

    if fields.get("sharing_condition") is not None:
        condition = fields["sharing_condition"]
        if not isinstance(condition, str) or len(condition.strip()) > CONDITION_MAX:
            raise DomainError("catalogue.sharing_condition_too_long", "共享条件不能超过 500 个字")
        out["sharing_condition"] = condition.strip()
    return out
