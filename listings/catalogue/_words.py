"""Words from file names and columns: glossary, acronyms, pinyin, Chinese segmentation, and titles
cleaned from file names (dates, extensions and generic words removed)."""

from __future__ import annotations

import functools
import logging
import re

from listings.catalogue._tree import _index


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
