"""Profile a prepared table: storage types, semantic types, personal-information flags, statistics.

`profile_csv(csv_path, columns)` reads the clean UTF-8 comma CSV that `listings.reading` prepares
(first line = column names) into an in-memory DuckDB table and describes every column:

- storage ``type``: integer, decimal, date, datetime, boolean, category or text, decided from how
  many non-null values parse as that type (>= 98 %). Digit strings that are codes (leading zeros,
  code-like headers such as 标识码/代码/编号, fixed-length identifiers) stay text.
- ``semantic_type``: uscc, resident_id, mobile, region_code, enterprise_name, person_name, address,
  amount, year, longitude, latitude or None, decided on a deterministic sample (>= 60 % of the
  sampled non-null values match; a matching column-name hint lowers the bar for identifiers).
- ``validity``: share of checked non-null values that are valid for the semantic type. Cheap checks
  (patterns, ranges, GB/T 2260 membership) run over every row in SQL; check-digit validation with
  python-stdnum (GB 32100 credit codes; GB 11643 ID numbers with a real, non-future birth date and a
  region code that exists or existed at any time) runs on a deterministic sample of at most
  ``sample_size`` non-null values (``checked_count``).
- ``personal`` / ``sensitive`` / ``sensitive_kind`` following GB/T 43697-2024 and GB/T 35273:
  resident IDs, bank cards (16-19 digits, Luhn), health, religion, biometrics, whereabouts and
  minors under 14 (birth dates inside valid ID numbers) are sensitive.
- statistics: null/distinct counts, min/max in the type's order, top values, mean/sum for numbers,
  the unit of amounts, examples, and ``variants`` (spellings of one category value, e.g.
  正常参保 / 正常 / 正常缴费).

Region codes come from the GB/T 2260 table that python-stdnum ships (stdnum/cn/loc.dat, every
code that has existed, with its years of validity) plus the few it lacks
(listings/data/gb2260_supplement.tsv), never from test data.

The heavy lifting is SQL: one load, one aggregate pass over all columns, one GROUP BY per column
(top values and exact distinct counts), plus bounded Python work on the sample.
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
import operator
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import duckdb
from stdnum import luhn
from stdnum.cn import ric, uscc

from listings.profiling import amounts

TYPES = ("integer", "decimal", "date", "datetime", "text", "category", "boolean")
SEMANTIC_TYPES = ("uscc", "resident_id", "mobile", "region_code", "enterprise_name", "person_name", "address",
                  "amount", "year", "longitude", "latitude")
PERSONAL_SEMANTIC = frozenset({"resident_id", "mobile", "person_name", "address"})

TYPE_SHARE = 0.98  # share of non-null values that must parse for a storage type
SEMANTIC_SHARE = 0.60  # share of sampled non-null values that must match for a semantic type
HINTED_SHARE = 0.30  # ... when the column name says what it is (identifiers only)
DETECT_VALUES = 2000  # values of the sample used to decide the semantic type
TYPE_SAMPLE = 4000  # rows of the sample whose parse rates decide the storage type
TOP_K = 10
CATEGORY_FETCH = 1000  # all values of a column with at most this many distinct values are fetched
# Memory and time by design: what Python holds grows with the sample, never with rows × columns. The sample
# is at most SAMPLE_CELLS cells (20,000 rows up to 100 columns, fewer rows for a wider table), and SQL over
# many columns runs in batches, so that a 5,000-column file costs what a long one does, not 5,000².
SAMPLE_CELLS = 2_000_000
SQL_BATCH = 100  # columns per query (DuckDB plans a query of thousands of expressions slowly)
WIDE = 64  # from this many columns, top values are grouped in batches of columns (one query each)

# ~300 most common Chinese surnames (single character), most frequent first, and compound surnames.
COMMON_SURNAMES = tuple(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金"
    "石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄"
    "聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶"
    "解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑"
    "郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "尉迟", "公孙", "夏侯", "长孙", "宇文",
                     "司徒", "端木", "独孤", "南宫", "西门", "轩辕", "百里", "呼延", "澹台", "万俟", "申屠", "闻人", "太史",
                     "钟离", "赫连", "公冶", "濮阳", "单于", "东郭", "第五")

UNIT_SUFFIX = r"\s*(亿元|万元|元|年|%|％)$"  # stripped before numbers are parsed

# ---- patterns: valid both for Python's re and DuckDB's RE2 (full match) ------------------------------
_HAN = "一-鿿㐀-䶿"
_PLACE_SUFFIXES = "区县市省镇乡村旗州路街站"


def _han_without(excluded: str) -> str:
    """A character-class body for CJK ideographs minus `excluded` (RE2 has no class subtraction)."""
    parts, start = [], 0x4E00
    for cp in sorted(ord(ch) for ch in excluded):
        if cp > start:
            parts.append(f"{chr(start)}-{chr(cp - 1)}" if cp - 1 > start else chr(start))
        start = cp + 1
    parts.append(f"{chr(start)}-{chr(0x9FFF)}")
    return "".join(parts) + "㐀-䶿"


_NAME_END = _han_without(_PLACE_SUFFIXES)
PATTERNS = {
    "mobile": r"(?:\+?86)?1[3-9][0-9]{9}",
    "resident_id": r"[0-9]{17}[0-9Xx]",
    "uscc": r"[0-9]{8}[0-9A-HJ-NPQRTUWXY]{10}",
    "region_code": r"[1-9][0-9]{5}",
    # 2-4 characters: a surname, then given-name characters, the last of which is not a place
    # suffix (丰台区, 常州市, 黄山路 are not people)
    "person_name": "(?:" + "|".join(COMPOUND_SURNAMES) + f")[{_HAN}]?[{_NAME_END}]"
                   + f"|[{''.join(COMMON_SURNAMES)}][{_HAN}]{{0,2}}[{_NAME_END}]",
    # searched (not full-matched): an organisation's name ends with its kind
    # (clinics, offices and public venues too: 预防接种门诊, 卫生服务站, 市场监督管理局, 图书馆 …)
    "enterprise_name": r"(?:公司|集团|厂|合作社|事务所|中心|银行|分行|支行|医院|卫生院|卫生室|学校|大学|学院|研究院|研究所"
                       r"|协会|商会|基金会|商行|幼儿园|小学|中学|委员会|经营部|门市部|营业部|工作室|个体工商户|社区|村委会|居委会|分校"
                       r"|门诊|门诊部|诊所|接种室|接种点|医务室|保健院|保健所|保健站|卫生站|卫生所|服务站|工作站|防疫站|监测站|检测站"
                       r"|药店|药房|局|厅|办公室|办事处|人民政府|法院|检察院|派出所|司法所|税务所|财政所|供电所|图书馆|博物馆|文化馆"
                       r"|纪念馆|体育馆|美术馆|科技馆|档案馆|少年宫|福利院|敬老院|养老院|疗养院|托儿所|救助站|消防站|大队|支队|信用社)"
                       r"(?:[（(][^）)]{1,12}[)）])?$",  # 中国矿业大学（北京）
    # an administrative level followed by a street-level part: 浙江省杭州市西湖区文三路 90 号
    "address": r"[省市区县旗州盟].*(?:路|街|道|巷|弄|号|村|组|镇|乡|楼|室|栋|幢|大厦|小区|花园|苑|社区)",
    "digits": r"[0-9]+",
    # an ID number with a plausible province, century and date (a cheap filter before ric_is_valid)
    "plausible_id": r"[1-8][0-9]{5}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]",
    "integer": r"[+-]?[0-9]+",
    "number": r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?",
    "thousands": r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?",
    "coordinate": r"[+-]?[0-9]{1,3}\.[0-9]{3,}",
}
_RX = {k: re.compile(v) for k, v in PATTERNS.items()}
_RX.update(
    date_like=re.compile(r"[0-9]{4}[-/年.][0-9]{1,2}"),
    datetime_like=re.compile(r"[0-9]{4}[-/年.][0-9]{1,2}.*[0-9]:[0-9]"),
    unit_suffix=re.compile(UNIT_SUFFIX),
)

DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y.%m.%d")
DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M",
                    "%Y/%m/%d %H:%M", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f", "%Y年%m月%d日 %H:%M:%S")

# ---- column-name hints -----------------------------------------------------------------------------
_EN = r"(?:^|[^a-z])(?:{})(?:$|[^a-z])"
HINTS = {
    "resident_id": r"身份证|证件号|身份号码|公民身份|" + _EN.format("id_?card|id_?no|idnumber|sfz"),
    "mobile": r"手机|移动电话|电话|联系方式|" + _EN.format("mobile|phone|tel|cellphone"),
    "uscc": r"统一社会信用代码|信用代码|社会信用|" + _EN.format("uscc|credit_?code"),
    "region_code": r"行政区划|区划代码|区划|行政代码|地区代码|区域代码|" + _EN.format(
        "region_?code|adcode|area_?code|(?:province|city|county|district)_?code"),
    "enterprise_name": r"企业名称|单位名称|机构名称|公司名称|学校名称|医院名称|组织名称|企业|单位|" + _EN.format(
        "company|enterprise|org|organization"),
    "person_name": r"姓名|名字|法定代表人|法人代表|负责人|联系人|户主|申请人|经办人|监护人|持卡人|患者|" + _EN.format(
        "person|full_?name|real_?name|person_?name"),
    "address": r"地址|住址|住所|居住地|户籍地|通讯地|" + _EN.format("address|addr"),
    "amount": r"金额|资本|资金|价格|价款|费用|工资|薪酬|税额|余额|元\)|元）|" + _EN.format("amount|price|money"),
    "year": r"年份|年度|^年$|" + _EN.format("year"),
    "longitude": r"经度|" + _EN.format("lng|lon|long|longitude|x"),
    "latitude": r"纬度|" + _EN.format("lat|latitude|y"),
}
_HINTS = {k: re.compile(v, re.I) for k, v in HINTS.items()}
_CODE_HINT = re.compile(r"代码|编码|编号|标识码|号码|代号|证号|账号|帐号|卡号|邮编|邮政编码|工号|学号|" + _EN.format(
    "code|id|no|number|zip|guid|uuid"), re.I)
_DATE_HINT = re.compile(r"日期|时间|生日|出生|年月日|" + _EN.format("date|time|day|dt"), re.I)
_UNIT_IN_NAME = re.compile(r"[（(]\s*(亿元|万元|元|分)\s*[)）]|(亿元|万元|元)\s*$")
SENSITIVE_HINTS = {
    "health": re.compile(r"病历|诊断|病史|疾病|健康|病情|症状|过敏|体检|就诊|处方|用药|化验|检验结果|残疾|慢性病|血型|既往史"),
    "religion": re.compile(r"宗教|信仰"),
    "biometrics": re.compile(r"指纹|人脸|虹膜|声纹|面部|掌纹|基因|面容|步态|" + _EN.format("face|fingerprint|iris"), re.I),
    "whereabouts": re.compile(r"轨迹|行程|位置|定位|行踪|出行|" + _EN.format("track|trajectory|location"), re.I),
    "bank_card": re.compile(r"银行卡|卡号|银行账号|银行账户|" + _EN.format("card_?no|bank_?card|card_?number"), re.I),
}
_PERSONAL_HINT = re.compile(r"民族|婚姻|籍贯|政治面貌|出生日期|生日|性别|学历|" + _EN.format("gender|birthday|ethnic"), re.I)

# empty and whitespace-only cells are nulls (matched exactly while parsing: trimming every value in
# SQL would cost more than the whole load)
_NULLSTR = "['', ' ', '  ', '   ', '    ', '\t', '　', '　　']"
_BOOL_PAIRS = ({"Y", "N"}, {"YES", "NO"}, {"是", "否"}, {"TRUE", "FALSE"}, {"T", "F"}, {"0", "1"}, {"有", "无"},
               {"√", "×"})
_BIRTH_HINT = re.compile(r"出生|生日|" + _EN.format("birth|birthday|dob"), re.I)
_IDENTIFIER_SEMANTIC = frozenset({"resident_id", "mobile", "person_name"})
# What a row describes decides whether names, addresses and phones in it are personal (see _subject):
# a header naming the person a row is about, ...
_PERSON_SUBJECT_HINT = re.compile(r"姓名|名字|户主|患者|居民|公民|申请人|持卡人|参保人|被保险人|就诊人|学生|职工|员工|"
                                  + _EN.format("full_?name|real_?name|person_?name|patient|resident"), re.I)
# ... a header naming an organisation or one of its attributes, ...
# (people have a 姓名, organisations and places a 名称: 停车场名称, 景区名称)
_ORG_HINT = re.compile(r"(?:机构|单位|企业|公司|医院|学校|门诊|网点|站点|场所|商户|组织|法人|部门|门店|场馆|诊所)"
                       r"(?:名称|全称|简称|地址|住所|电话)|名称$|^(?:单位|机构|企业)$|"
                       + _EN.format("org(?:anization)?_?name|company_?name|institution"), re.I)
# ... and, in an organisation's row, the headers that still hold a person's home or own phone
_HOME_HINT = re.compile(r"住址|家庭|居住|户籍|现住|户口|" + _EN.format("home"), re.I)
_ORG_PHONE_HINT = re.compile(r"(?:单位|机构|办公|咨询|服务|值班|门诊|预约|热线|客服|企业|公司|医院|学校|接种)(?:电话|热线|号码)")


# ---- GB/T 2260 region codes as python-stdnum ships them --------------------------------------------
@functools.lru_cache(maxsize=1)
def region_table() -> dict[str, list[tuple[int | None, int | None, str]]]:
    """6-digit code -> [(first year or None, last year or None, name), ...] from stdnum/cn/loc.dat.

    The file lists every county-level code that has existed; '[1986-]房山区' means "from 1986",
    '[-2010]崇文区' "until 2010". Province (xx0000) and prefecture (xxxx00) codes are included."""
    import stdnum

    path = Path(stdnum.__file__).parent / "cn" / "loc.dat"
    out: dict[str, list[tuple[int | None, int | None, str]]] = {}
    province = None
    entry = re.compile(r'\s+(\d{4})\s+county="([^"]*)"?')
    span = re.compile(r"\[(\d*)-(\d*)\](.*)")
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line[0].isspace():
            province = line[:2]
            continue
        m = entry.match(line)
        if not m or province is None:
            continue
        entries = []
        for part in m.group(2).split(","):
            start = end = None
            mm = span.match(part)
            if mm:
                start = int(mm.group(1)) if mm.group(1) else None
                end = int(mm.group(2)) if mm.group(2) else None
                part = mm.group(3)
            entries.append((start, end, part))
        out[province + m.group(1)] = entries
    return out


@functools.lru_cache(maxsize=1)
def region_codes() -> frozenset[str]:
    """Every code that exists or existed in GB/T 2260: stdnum's table plus the few codes it lacks
    (listings/data/gb2260_supplement.tsv, generated from jionlp by scripts/gb2260_supplement.py)."""
    extra = Path(__file__).resolve().parent.parent / "data" / "gb2260_supplement.tsv"
    codes = {line.split("\t", 1)[0] for line in extra.read_text(encoding="utf-8").splitlines()
             if line and not line.startswith("#")}
    return frozenset(region_table()) | codes


# ---- identifier validation (python-stdnum's algorithms, without its per-call overhead) -------------
# stdnum.cn.uscc.is_valid re-cleans the string on every call (~30 us) and profiling checks up to
# 20,000 values per column, so its check is restated here; tests/listings/test_profiling.py asserts
# the same verdicts as stdnum's. ID numbers use stdnum's check digit but not its birth-place rule
# (see ric_is_valid).
_USCC_ALPHABET = uscc._alphabet  # noqa: SLF001 - stdnum's own charset, not a copy
_USCC_INDEX = {ch: i for i, ch in enumerate(_USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_is_valid(value: str) -> bool:
    """Same verdict as stdnum.cn.uscc.is_valid (GB 32100 format and check character)."""
    v = value.replace(" ", "").replace("-", "").upper().strip()
    if len(v) != 18 or not v[:8].isdigit():
        return False
    try:
        total = sum(map(operator.mul, map(_USCC_INDEX.__getitem__, v[:17]), _USCC_WEIGHTS))
    except KeyError:
        return False
    return v[-1] == _USCC_ALPHABET[(31 - total) % 31]


def ric_birth_date(value: str) -> _dt.date | None:
    v = value.upper().strip()
    try:
        return _dt.date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return None


EARLIEST_BIRTH_YEAR = 1850  # no one alive (or with a number) was born earlier


def ric_is_valid(value: str) -> bool:
    """A GB 11643 居民身份证号: 18 characters, the check digit right (stdnum.cn.ric.calc_check_digit), a
    real birth date not in the future, and a region code that exists or existed in GB/T 2260 at ANY time.

    Deliberately not stdnum.cn.ric.is_valid: that also requires the code to have existed in the birth
    year, but the code is where the number was issued, often years after birth (310115 浦东新区 dates
    from 1992 and holds people born in 1979), so it refused most numbers of a real register."""
    v = value.upper().strip()
    if len(v) != 18 or not v[:17].isdigit():
        return False
    if v[-1] != ric.calc_check_digit(v):
        return False
    born = ric_birth_date(v)
    if born is None or born.year < EARLIEST_BIRTH_YEAR or born > _dt.date.today():
        return False
    return v[:6] in region_codes()


# ---- small helpers ---------------------------------------------------------------------------------
def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _num_str(x) -> str | None:
    if x is None:
        return None
    if isinstance(x, int):
        return str(x)
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        return str(x)
    if x.is_integer() and abs(x) < 1e18:
        return str(int(x))
    s = format(x, ".15g")
    if "e" in s:
        s = format(x, ".10f").rstrip("0").rstrip(".")
    return s


def _norm_key(value: str) -> str:
    v = unicodedata.normalize("NFKC", value).strip().lower()
    return re.sub(r"\s+", "", v)


def _compact_id(value: str) -> str:
    if value.isalnum():
        return value.upper()
    return re.sub(r"[\s\-]", "", value).upper()


def _evenly(values: list, k: int) -> list:
    if len(values) <= k:
        return values
    step = len(values) / k
    return [values[int(i * step)] for i in range(k)]


def _parses(value: str, formats: tuple[str, ...]) -> bool:
    for f in formats:
        try:
            _dt.datetime.strptime(value, f)
            return True
        except ValueError:
            continue
    return False


def _share(n: int, d: int) -> float:
    return n / d if d else 0.0


class _Column:
    def __init__(self, index: int, name: str, ident: str):
        self.index = index
        self.name = name
        self.ident = ident  # SQL identifier inside DuckDB
        self.sample: list[str] = []  # trimmed non-null sample values, in file order
        self.stats: dict = {}
        self.type = "text"
        self.clean = False  # numbers need unit suffixes / thousands separators stripped
        self.separators = False  # phone numbers written with spaces or hyphens
        self.date_formats: tuple[str, ...] = ()
        self.semantic: str | None = None
        self.candidates: dict[str, float] = {}
        self.unit: str | None = None
        self.sensitive_kind: list[str] = []
        self.personal = False
        self.minors = False
        self.minors_count = 0
        self.valid_count: int | None = None
        self.checked_count: int | None = None
        self.result: dict = {}

    @property
    def q(self) -> str:
        return _q(self.ident)

    def hint(self, kind: str) -> bool:
        return bool(_HINTS[kind].search(self.name))

    def num_expr(self, src: str | None = None) -> str:
        """SQL expression of the column's value as cleaned number text."""
        v = src or self.q
        if not self.clean:
            return f"trim({v})"
        stripped = f"regexp_replace(trim({v}), '{UNIT_SUFFIX}', '')"
        return (f"CASE WHEN regexp_full_match({stripped}, '{PATTERNS['thousands']}') "
                f"THEN replace({stripped}, ',', '') ELSE {stripped} END")


class _Loaded(Exception):
    """The table is there already: no load."""


def connect(*, threads: int = 2, memory_limit: str | None = None, spill: Path | None = None):
    """An in-memory DuckDB connection for profiling, within `threads` and `memory_limit` (e.g. "1024MB")."""
    config = {"threads": max(1, int(threads))}
    if memory_limit:  # DuckDB spills to disk (or raises OutOfMemory) instead of growing past it
        config["memory_limit"] = memory_limit
        if spill is not None:
            config["temp_directory"] = str(spill)
    con = duckdb.connect(":memory:", config=config)
    con.execute("SET enable_progress_bar = false")  # (it writes to stderr of a job's process)
    return con


class _Profiler:
    def __init__(self, csv_path: Path, columns: list[str], progress, sample_size: int, threads: int = 2,
                 memory_limit: str | None = None, con=None, loaded: bool = False):
        self.path = Path(csv_path)
        self.names = list(columns)
        self.progress = progress
        self.sample_size = max(100, int(sample_size))
        self.loaded = loaded  # `t` is already in `con` (listings.reading loaded it while checking the file)
        self.own = con is None
        self.con = con if con is not None else connect(threads=threads, memory_limit=memory_limit,
                                                       spill=self.path.parent / ".profile-spill")

    # -- stage 1: load ---------------------------------------------------------------------------
    def load(self) -> None:
        names = self.names
        if not names:
            import csv

            with self.path.open(encoding="utf-8", newline="") as fh:
                names = next(csv.reader(fh), [])
            self.names = names
        idents = [f"c{i}" for i in range(len(names))]
        spec = "{" + ", ".join(f"'{n}': 'VARCHAR'" for n in idents) + "}"
        path = _lit(self.path.as_posix())
        try:
            if self.loaded:
                raise _Loaded
            self.con.execute(
                f"CREATE TABLE t AS SELECT * FROM read_csv({path}, header=true, auto_detect=false, delim=',', "
                f"quote='\"', escape='\"', columns={spec}, null_padding=true, strict_mode=false, encoding='utf-8', "
                f"nullstr={_NULLSTR})")
        except _Loaded:
            pass
        except duckdb.Error:
            # a file whose width differs from `columns`: let DuckDB sniff it, keep names by position
            self.con.execute("DROP TABLE IF EXISTS t")
            self.con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv({path}, header=true, all_varchar=true, "
                             f"nullstr={_NULLSTR})")
            idents = [r[0] for r in self.con.execute("DESCRIBE t").fetchall()]
            names = [names[i] if i < len(names) else idents[i] for i in range(len(idents))]
            self.names = names
        self.cols = [_Column(i, n, ident) for i, (n, ident) in enumerate(zip(names, idents))]
        self.rows = self.con.execute("SELECT count(*) FROM t").fetchone()[0]
        # per column: the sample rows, and the values checked with stdnum (the same for up to 100 columns)
        self.sample_size = max(100, min(self.sample_size, SAMPLE_CELLS // max(1, len(self.cols))))

    # -- stage 2: sample and decide types ---------------------------------------------------------
    def sample(self) -> None:
        step = max(1, math.ceil(self.rows / self.sample_size))
        self.con.execute(f"CREATE TEMP TABLE s AS SELECT * FROM t WHERE rowid % {step} = 0 LIMIT {self.sample_size}")
        self.sample_rows = self.con.execute("SELECT count(*) FROM s").fetchone()[0]
        if not self.cols:
            return
        # types are decided on at most TYPE_SAMPLE rows of the sample (the full pass verifies them)
        k = max(1, math.ceil(self.sample_rows / TYPE_SAMPLE))
        # the sample's rows, turned into columns here (one ordered list aggregate per column costs DuckDB
        # memory in columns², over 20 GB at 5,000 columns); at most SAMPLE_CELLS values
        wide = len(self.cols) >= WIDE
        for start in range(0, len(self.cols), 10 * SQL_BATCH if wide else SQL_BATCH):
            batch = self.cols[start:start + (10 * SQL_BATCH if wide else SQL_BATCH)]
            if wide:  # (one expression per column costs DuckDB ~0.5 ms of planning: unpivot instead)
                names = ", ".join(c.q for c in batch)
                got: dict[str, list] = {c.ident: [] for c in batch}
                for col, r, v in self.con.execute(
                        f"SELECT col, r, trim(v) FROM (UNPIVOT (SELECT rowid AS r, {names} FROM s) ON {names} "
                        f"INTO NAME col VALUE v) WHERE trim(v) <> '' ORDER BY col, r").fetchall():
                    got[col].append((r, v))
                for c in batch:
                    c.sample = [v for _r, v in got[c.ident]]
                    c.stats = self._type_stats([v for r, v in got[c.ident] if r % k == 0])
                    self._decide_type(c)
                continue
            rows = self.con.execute("SELECT " + ", ".join(f"trim({c.q})" for c in batch)
                                    + " FROM s ORDER BY rowid").fetchall()
            for c, values in zip(batch, zip(*rows) if rows else [() for _ in batch]):
                c.sample = [v for v in values if v]
                c.stats = self._type_stats([v for i, v in enumerate(values) if v and i % k == 0])
                self._decide_type(c)
            del rows

    @staticmethod
    def _type_stats(vals: list[str]) -> dict:
        """Parse counts over (trimmed, non-null) sample values; the full pass re-checks in SQL."""
        rx_int, rx_num, rx_coord = _RX["integer"], _RX["number"], _RX["coordinate"]
        rx_date, rx_stamp = _RX["date_like"], _RX["datetime_like"]
        unit, thousands = _RX["unit_suffix"], _RX["thousands"]
        st = dict.fromkeys(("int", "num", "int_c", "num_c", "date", "datetime", "date8", "coord", "lead0"), 0)
        lengths = []
        units: set[str] = set()  # unit suffixes stripped before parsing (元, 万元, %, 年 …)
        for v in vals:
            lengths.append(len(v))
            if rx_num.fullmatch(v):
                st["num"] += 1
                if rx_int.fullmatch(v):
                    st["int"] += 1
                    digits = v.lstrip("+-")
                    if len(digits) > 1 and digits[0] == "0":
                        st["lead0"] += 1
                    if len(v) == 8 and v.isdigit() and _parses(v, ("%Y%m%d",)) and 1900 <= int(v[:4]) <= 2100:
                        st["date8"] += 1
                elif rx_coord.fullmatch(v):
                    st["coord"] += 1
                c = v
            else:
                c = unit.sub("", v)
                if len(c) != len(v):
                    units.add(v[len(c):].strip())
                if thousands.fullmatch(c):
                    c = c.replace(",", "")
            if rx_num.fullmatch(c):
                st["num_c"] += 1
                if rx_int.fullmatch(c):
                    st["int_c"] += 1
            elif rx_stamp.match(v):
                if _parses(v, DATETIME_FORMATS):
                    st["datetime"] += 1
            elif rx_date.match(v) and _parses(v, DATE_FORMATS):
                st["date"] += 1
        st.update(nn=len(vals), distinct=len(set(vals)), minlen=min(lengths, default=0),
                  maxlen=max(lengths, default=0), mixed_units=len(units & {"元", "万元", "亿元"}) > 1)
        return st

    def _decide_type(self, c: _Column) -> None:
        st = c.stats
        nn = st["nn"]
        if not nn:
            c.type = "text"
            return
        if _share(st["datetime"], nn) >= TYPE_SHARE and st["datetime"] > st["date"]:
            c.type, c.date_formats = "datetime", self._formats(c, DATETIME_FORMATS)
            return
        if _share(st["date"], nn) >= TYPE_SHARE:
            c.type, c.date_formats = "date", self._formats(c, DATE_FORMATS)
            return
        code_hint = bool(_CODE_HINT.search(c.name))
        if _share(st["date8"], nn) >= TYPE_SHARE and (_DATE_HINT.search(c.name) or not code_hint) \
                and st["minlen"] == st["maxlen"] == 8 and not st["lead0"]:
            c.type, c.date_formats = "date", ("%Y%m%d",)
            return
        if st["mixed_units"]:
            # 1.2亿元 beside 500万元: stripping the units would mix magnitudes; an amount column (see detect)
            c.type = "text"
            return
        int_share = max(st["int"], st["int_c"]) / nn
        num_share = max(st["num"], st["num_c"]) / nn
        if int_share >= TYPE_SHARE:
            c.clean = st["int_c"] > st["int"]
            if self._code_like(c, code_hint):
                c.type, c.clean = "text", False
            else:
                c.type = "integer"
            return
        if num_share >= TYPE_SHARE:
            c.clean = st["num_c"] > st["num"]
            c.type = "decimal"
            return
        c.type = "text"

    @staticmethod
    def _formats(c: _Column, formats: tuple[str, ...]) -> tuple[str, ...]:
        """The formats the sampled values are written in, most used first (the full pass parses only these)."""
        counts: Counter = Counter()
        for v in _evenly(c.sample, 400):
            for f in formats:
                try:
                    _dt.datetime.strptime(v, f)
                except ValueError:
                    continue
                counts[f] += 1
                break
        return tuple(f for f, _n in counts.most_common()) or formats

    def _code_like(self, c: _Column, code_hint: bool) -> bool:
        """Digit strings that identify rather than count: keep them as text."""
        st = c.stats
        if st["lead0"]:
            return True
        if st["maxlen"] >= 16:  # beyond exact integers: ID numbers, bank cards
            return True
        if code_hint and not c.hint("year") and not c.hint("amount"):
            return True
        vals = _evenly(c.sample, DETECT_VALUES)
        if st["maxlen"] >= 6:  # phone numbers (+86 …) and region codes are identifiers, not quantities
            for kind in ("mobile", "region_code"):
                if _share(sum(1 for v in vals if self._matches(kind, v)), len(vals)) >= SEMANTIC_SHARE:
                    return True
        if st["minlen"] == st["maxlen"] and st["minlen"] >= 8 and st["distinct"] >= min(10, st["nn"]):
            return True
        return False

    # -- semantic detection on the sample ------------------------------------------------------------
    def _matches(self, kind: str, v: str) -> bool:
        if kind == "region_code":
            return len(v) == 6 and v in region_codes()
        if kind in ("resident_id", "uscc"):
            return bool(_RX[kind].fullmatch(_compact_id(v)))
        if kind == "mobile":
            return bool(_RX["mobile"].fullmatch(v if v.isdigit() else re.sub(r"[\s\-]", "", v)))
        if kind == "address":
            return len(v) >= 6 and bool(_RX["address"].search(v))
        if kind == "enterprise_name":
            return len(v) >= 4 and bool(_RX["enterprise_name"].search(v))
        return bool(_RX[kind].fullmatch(v))

    def detect(self) -> None:
        for c in self.cols:
            vals = _evenly(c.sample, DETECT_VALUES)
            if not vals:
                continue
            self._detect_column(c, vals)
        self._pair_coordinates()

    def _detect_column(self, c: _Column, vals: list[str]) -> None:
        n = len(vals)

        def share(kind: str) -> float:
            s = _share(sum(1 for v in vals if self._matches(kind, v)), n)
            c.candidates[kind] = round(s, 4)
            return s

        def need(kind: str) -> float:
            return HINTED_SHARE if c.hint(kind) else SEMANTIC_SHARE

        if c.type in ("integer", "decimal"):
            nums = []
            for v in vals:
                x = self._py_number(v)
                if x is not None:
                    nums.append(x)
            if not nums:
                return
            in_year = _share(sum(1 for x in nums if float(x).is_integer() and 1900 <= x <= 2100), n)
            with_nian = _share(sum(1 for v in vals if v.endswith("年")), n)
            if c.type == "integer" and in_year >= SEMANTIC_SHARE and (
                    c.hint("year") or with_nian >= SEMANTIC_SHARE
                    or (in_year >= TYPE_SHARE and c.stats["minlen"] == c.stats["maxlen"] == 4
                        and not c.hint("amount"))):
                c.semantic = "year"
                return
            lng = _share(sum(1 for x in nums if 73 <= x <= 136), n)
            lat = _share(sum(1 for x in nums if 3 <= x <= 54), n)
            c.candidates.update({"longitude": round(lng, 4), "latitude": round(lat, 4)})
            if c.hint("longitude") and lng >= SEMANTIC_SHARE:
                c.semantic = "longitude"
                return
            if c.hint("latitude") and lat >= SEMANTIC_SHARE:
                c.semantic = "latitude"
                return
            unit = self._unit(c)
            if unit or c.hint("amount"):
                c.semantic, c.unit = "amount", unit
                return
            return
        if c.type not in ("text",):
            return
        ric_s, uscc_s = share("resident_id"), share("uscc")
        if ric_s >= need("resident_id") or uscc_s >= need("uscc"):
            if ric_s >= need("resident_id") and uscc_s >= need("uscc"):
                # 18 digits fit both formats: the check digits decide (a valid ID rarely passes mod 31)
                probe = vals[:500]
                r_ok = sum(1 for v in probe if ric_is_valid(v))
                u_ok = sum(1 for v in probe if uscc_is_valid(v))
                if c.hint("resident_id") or (r_ok > u_ok and not c.hint("uscc")):
                    c.semantic = "resident_id"
                else:
                    c.semantic = "uscc"
            elif ric_s >= need("resident_id") and (ric_s >= uscc_s or c.hint("resident_id")):
                c.semantic = "resident_id"
            else:
                c.semantic = "uscc"
            return
        if share("mobile") >= need("mobile"):
            c.semantic = "mobile"
            c.separators = any(re.search(r"[\s\-]", v) for v in vals)
            return
        if share("region_code") >= need("region_code"):
            c.semantic = "region_code"
            return
        ent = share("enterprise_name")
        addr = share("address")
        name = share("person_name")
        distinct_ratio = _share(c.stats["distinct"], c.stats["nn"])
        if name >= SEMANTIC_SHARE and (c.hint("person_name") or (name >= 0.85 and distinct_ratio >= 0.3)) \
                and name >= max(ent, addr):
            c.semantic = "person_name"
            return
        if ent >= SEMANTIC_SHARE and ent >= addr:
            c.semantic = "enterprise_name"
            return
        if addr >= SEMANTIC_SHARE or (c.hint("address") and addr >= HINTED_SHARE):
            c.semantic = "address"
            return
        facts = amounts.amount_column(c.name, vals)
        if facts:  # 30(万), 24,500(万元), 40万人民币: amounts whose unit is in the text (see listings.profiling.amounts)
            c.semantic, c.unit, c.amount_facts = "amount", facts["unit"], facts

    def _pair_coordinates(self) -> None:
        """Unnamed coordinates (e.g. a headerless file): decimals with >= 3 decimals, in China's
        longitude and latitude ranges, accepted only as a pair of columns."""
        def ready(c: _Column, kind: str) -> bool:
            return (c.semantic is None and c.type == "decimal" and c.candidates.get(kind, 0) >= 0.95
                    and _share(c.stats["coord"], c.stats["nn"]) >= SEMANTIC_SHARE)

        lngs = [c for c in self.cols if ready(c, "longitude")]
        lats = [c for c in self.cols if ready(c, "latitude")]
        has_lng = any(c.semantic == "longitude" for c in self.cols)
        has_lat = any(c.semantic == "latitude" for c in self.cols)
        if (lngs or has_lng) and (lats or has_lat):
            if lngs and not has_lng:
                lngs[0].semantic = "longitude"
            if lats and not has_lat:
                lat = next((c for c in lats if c is not (lngs[0] if lngs else None)), None)
                if lat is not None:
                    lat.semantic = "latitude"

    @staticmethod
    def _py_number(v: str) -> float | None:
        v = re.sub(UNIT_SUFFIX, "", v.strip())
        if _RX["thousands"].fullmatch(v):
            v = v.replace(",", "")
        if not _RX["number"].fullmatch(v):
            return None
        try:
            return float(v)
        except ValueError:
            return None

    @staticmethod
    def _unit(c: _Column) -> str | None:
        m = _UNIT_IN_NAME.search(c.name)
        if m:
            return m.group(1) or m.group(2)
        counts = Counter()
        for v in c.sample[:DETECT_VALUES]:
            for u in ("亿元", "万元", "元"):
                if v.endswith(u):
                    counts[u] += 1
                    break
        if counts:
            unit, n = counts.most_common(1)[0]
            if n >= 0.3 * min(len(c.sample), DETECT_VALUES):
                return unit
        return None

    # -- stage 3: one aggregate pass over the whole table -----------------------------------------------
    def aggregate(self) -> None:
        if not self.cols:
            return
        parts = [self._aggregates(c, c.q, f"{c.index}") for c in self.cols]
        keys = [ks for _inner, _outer, ks in parts]
        row: list = []
        if len(self.cols) >= WIDE:
            row = self._aggregate_unpivoted(parts)
        else:
            for start in range(0, len(self.cols), SQL_BATCH):  # one pass over the table per batch of columns
                batch = parts[start:start + SQL_BATCH]
                inner = [c.q for c in self.cols[start:start + SQL_BATCH]] + [e for p in batch for e in p[0]]
                outer = [e for p in batch for e in p[1]]
                row += self.con.execute(f"SELECT {', '.join(outer)} FROM (SELECT {', '.join(inner)} FROM t)").fetchone()
        pos = 0
        for c, ks in zip(self.cols, keys):
            c.full = dict(zip(ks, row[pos:pos + len(ks)]))
            pos += len(ks)
            nn = c.full["nonnull"]
            # the type must hold over all rows, not only the sample
            if c.type in ("integer", "decimal", "date", "datetime") and nn and c.full["typed"] < TYPE_SHARE * nn:
                c.type, c.clean = "text", False
                if c.semantic in ("year", "longitude", "latitude", "amount"):
                    c.semantic, c.unit = None, None
                    c.full.pop("sem_valid", None)

    def _aggregates(self, c: _Column, q: str, n: str) -> tuple[list[str], list[str], list[str]]:
        """(derived expressions, aggregates, their keys) of one column whose value is the SQL `q`; derived
        values are named x<n> / d<n>."""
        inner: list[str] = []
        outer = [f"count({q})"]
        keys = ["nonnull"]
        if c.type == "text" and c.stats.get("distinct", 0) > CATEGORY_FETCH // 2:
            # (columns with few values get min/max from their complete GROUP BY instead)
            outer += [f"min({q})", f"max({q})"]
            keys += ["smin", "smax"]
        if c.type in ("integer", "decimal"):
            x = f"x{n}"
            if c.clean:
                pat = PATTERNS["integer"] if c.type == "integer" else PATTERNS["number"]
                cast = "HUGEINT" if c.type == "integer" else "DOUBLE"
                inner.append(f"CASE WHEN regexp_full_match({c.num_expr(q)}, '{pat}') "
                             f"THEN TRY_CAST({c.num_expr(q)} AS {cast}) END AS {x}")
            elif c.type == "integer":
                # TRY_CAST alone would round '12.5' to 13
                inner.append(f"CASE WHEN contains({q}, '.') THEN NULL ELSE TRY_CAST({q} AS HUGEINT) END AS {x}")
            else:
                inner.append(f"TRY_CAST({q} AS DOUBLE) AS {x}")
            if c.clean:
                outer += [f"count({x})", f"arg_min({q}, {x})", f"arg_max({q}, {x})"]
            else:
                outer += [f"count({x})", f"min({x})", f"max({x})"]
            outer += [f"sum({x})", f"avg({x})"]
            keys += ["typed", "tmin", "tmax", "sum", "mean"]
            lo_hi = {"year": (1900, 2100), "longitude": (73, 136), "latitude": (3, 54)}.get(c.semantic)
            if lo_hi:
                outer.append(f"count(*) FILTER (WHERE {x} BETWEEN {lo_hi[0]} AND {lo_hi[1]})")
                keys.append("sem_valid")
            elif c.semantic == "amount":
                outer.append(f"count({x})")
                keys.append("sem_valid")
        elif c.type in ("date", "datetime"):
            d = f"d{n}"
            if c.date_formats == ("%Y-%m-%d",):
                inner.append(f"TRY_CAST({q} AS DATE) AS {d}")
            else:
                fmts = "[" + ", ".join(_lit(f) for f in c.date_formats) + "]"
                inner.append(f"try_strptime({q}, {fmts}) AS {d}")
            outer += [f"count({d})", f"arg_min({q}, {d})", f"arg_max({q}, {d})"]
            keys += ["typed", "tmin", "tmax"]
        if c.semantic in ("mobile", "person_name"):
            v = q
            if c.semantic == "mobile" and c.separators:
                v = f"regexp_replace({q}, '[\\s-]', '', 'g')"
            outer.append(f"count(*) FILTER (WHERE regexp_full_match({v}, {_lit(PATTERNS[c.semantic])}))")
            keys.append("sem_valid")
        return inner, outer, keys

    def _aggregate_unpivoted(self, parts) -> list:
        """aggregate() for a wide table: DuckDB spends ~2 ms planning each column's handful of aggregates
        (10 s at 5,000 columns), so columns whose aggregates read alike share one query over the
        unpivoted values, grouped by column. UNPIVOT drops nulls, which no aggregate counts anyway."""
        alike: dict[tuple, list[int]] = {}
        for i, c in enumerate(self.cols):
            inner, outer, _keys = self._aggregates(c, "v", "")
            alike.setdefault((tuple(inner), tuple(outer)), []).append(i)
        found: dict[int, tuple] = {}
        for (inner, outer), members in alike.items():
            for start in range(0, len(members), 10 * SQL_BATCH):
                batch = members[start:start + 10 * SQL_BATCH]
                names = ", ".join(self.cols[i].q for i in batch)
                rows = self.con.execute(
                    f"SELECT col, {', '.join(outer)} FROM (SELECT col, v{''.join(', ' + e for e in inner)} FROM "
                    f"(UNPIVOT (SELECT {names} FROM t) ON {names} INTO NAME col VALUE v)) GROUP BY col").fetchall()
                index = {self.cols[i].ident: i for i in batch}
                for r in rows:
                    found[index[r[0]]] = r[1:]
        row: list = []
        for i, (_inner, _outer, keys) in enumerate(parts):
            # a column with no value at all is missing from the unpivoted rows: counts 0, the rest null
            row += found.get(i) or [0 if k in ("nonnull", "typed", "sem_valid") else None for k in keys]
        return row

    # -- stage 4: top values and exact distinct counts --------------------------------------------------
    def group(self) -> None:
        batched: list[_Column] = []  # a wide table's columns, grouped a batch of columns per query
        for i, c in enumerate(self.cols):
            nn = c.full["nonnull"]
            sample_nn = c.stats.get("nn") or 0
            if not nn:
                c.distinct, c.groups = 0, []
            elif sample_nn and c.stats["distinct"] / sample_nn > 0.5 and self.rows > 50_000:
                self._group_repeated(c)
            elif len(self.cols) >= WIDE:
                batched.append(c)
                continue
            else:
                k = CATEGORY_FETCH + 1 if self._few(c) else TOP_K
                rows = self.con.execute(
                    f"SELECT v, n, count(*) OVER () FROM (SELECT {c.q} AS v, count(*) AS n FROM t "
                    f"WHERE {c.q} IS NOT NULL GROUP BY {c.q}) ORDER BY n DESC, v LIMIT {k}").fetchall()
                c.distinct = rows[0][2] if rows else 0
                c.groups = [(v, n) for v, n, _ in rows]
            self.progress(0.55 + 0.25 * (i + 1) / max(1, len(self.cols)), "top_values")
        for start in range(0, len(batched), 5 * SQL_BATCH):
            self._group_batch(batched[start:start + 5 * SQL_BATCH])
            self.progress(0.55 + 0.25 * min(1.0, (start + 5 * SQL_BATCH) / len(batched)), "top_values")

    @staticmethod
    def _few(c: _Column) -> bool:
        return c.stats.get("distinct", 0) <= CATEGORY_FETCH and c.type not in ("integer", "decimal", "date", "datetime")

    def _group_batch(self, batch: list[_Column]) -> None:
        """What group() does column by column, for a batch of columns in one query (UNPIVOT drops nulls)."""
        few = ", ".join(_lit(c.ident) for c in batch if self._few(c)) or "NULL"
        rows = self.con.execute(
            f"SELECT col, v, n, d FROM (SELECT col, v, n, count(*) OVER (PARTITION BY col) AS d, "
            f"row_number() OVER (PARTITION BY col ORDER BY n DESC, v) AS rk FROM (SELECT col, v, count(*) AS n "
            f"FROM (UNPIVOT (SELECT {', '.join(c.q for c in batch)} FROM t) ON {', '.join(c.q for c in batch)} "
            f"INTO NAME col VALUE v) GROUP BY col, v)) "
            f"WHERE rk <= CASE WHEN col IN ({few}) THEN {CATEGORY_FETCH + 1} ELSE {TOP_K} END "
            f"ORDER BY col, rk").fetchall()
        by_col: dict[str, list[tuple]] = {}
        for col, v, n, d in rows:
            by_col.setdefault(col, []).append((v, n, d))
        for c in batch:
            got = by_col.get(c.ident, [])
            c.distinct = got[0][2] if got else 0
            c.groups = [(v, n) for v, n, _ in got]

    def _group_repeated(self, c: _Column) -> None:
        """Mostly-unique column: aggregate only the values that repeat (a 1M-group window and sort
        cost more than the grouping itself). distinct = non-null - (rows in repeated groups - their
        number); top values are the repeated ones, padded with sampled values, which occur once."""
        q = c.q
        # Grouping a million strings costs more than grouping their 64-bit hashes: group the hashes, then the
        # values only of the rows whose hash repeats. Exact: a hash seen once is a value seen once; a hash
        # seen more often holds a repeated value, or values that collide, which the second grouping tells apart.
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE h AS SELECT hash({q}) AS h, count(*) AS n FROM t "
                         f"WHERE {q} IS NOT NULL GROUP BY 1 HAVING count(*) > 1")
        in_repeats = self.con.execute("SELECT coalesce(sum(n), 0) FROM h").fetchone()[0]
        few_repeat = in_repeats <= c.full["nonnull"] // 2  # else grouping the values at once is cheaper
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE g AS SELECT {q} AS v, count(*) AS n FROM t "
                         f"WHERE {q} IS NOT NULL {'AND hash(' + q + ') IN (SELECT h FROM h)' if few_repeat else ''} "
                         f"GROUP BY {q}")
        self.con.execute("DROP TABLE h")
        values_in_repeats = self.con.execute("SELECT count(*) FROM g").fetchone()[0]
        self.con.execute("DELETE FROM g WHERE n = 1")  # values seen once (hash collisions, or all of them)
        groups, rows_in = self.con.execute("SELECT count(*), coalesce(sum(n), 0) FROM g").fetchone()
        top = self.con.execute(f"SELECT v, n FROM g ORDER BY n DESC, v LIMIT {TOP_K}").fetchall()
        c.distinct = (c.full["nonnull"] - in_repeats + values_in_repeats) if few_repeat else values_in_repeats
        c.groups = [(v, n) for v, n in top]
        if len(c.groups) < TOP_K:
            repeated = set(self.con.execute("SELECT v FROM g").fetchall()) if groups <= 100_000 else None
            seen = {v for v, _n in c.groups}
            pad = []
            for v in sorted(set(self._raw_sample(c))):
                if v in seen or (repeated is not None and (v,) in repeated):
                    continue
                if repeated is None and self.con.execute("SELECT count(*) FROM g WHERE v = ?", [v]).fetchone()[0]:
                    continue
                pad.append((v, 1))
                if len(c.groups) + len(pad) >= TOP_K:
                    break
            c.groups += pad
        self.con.execute("DROP TABLE g")

    def _raw_sample(self, c: _Column) -> list[str]:
        return [r[0] for r in self.con.execute(f"SELECT {c.q} FROM s WHERE {c.q} IS NOT NULL LIMIT 200").fetchall()]

    def decide_categories(self) -> None:
        for c in self.cols:
            nn = c.full["nonnull"]
            if not nn:
                continue
            values = {v.strip().upper() for v, _n in c.groups} if c.distinct <= 2 else set()
            if values and c.semantic is None and any(values <= pair and (pair != {"0", "1"} or values == pair)
                                                     for pair in _BOOL_PAIRS):
                if len(values) == 2 or not values <= {"0", "1"}:
                    c.type, c.clean = "boolean", False
                    continue
            few = (c.distinct <= 50 and c.distinct / nn <= 0.5) or (
                c.distinct <= CATEGORY_FETCH and c.distinct / nn <= 0.2)
            if c.type == "text" and c.semantic in (None, "region_code", "enterprise_name", "address") and few:
                c.type = "category"

    # -- stage 5: validity of semantic types --------------------------------------------------------------
    def validate(self) -> None:
        for c in self.cols:
            nn = c.full["nonnull"]
            if c.semantic is None or not nn:
                continue
            if c.semantic in ("uscc", "resident_id"):
                values = self._stdnum_sample(c)
                check = uscc_is_valid if c.semantic == "uscc" else ric_is_valid
                ok = [v for v in values if check(v)]
                c.valid_count, c.checked_count = len(ok), len(values)
                if c.semantic == "resident_id":
                    self._minors(c, ok)
            elif c.semantic in ("enterprise_name", "address"):
                # free-text heuristics: a regex over long Chinese strings costs a third of the whole
                # load per million rows, so these two are checked on the sample like stdnum checks
                values = c.sample[: self.sample_size]
                c.valid_count = sum(1 for v in values if self._matches(c.semantic, v))
                c.checked_count = len(values)
            elif c.semantic == "amount" and c.type not in ("integer", "decimal"):
                values = c.sample[: self.sample_size]
                c.valid_count = sum(1 for v in values if amounts.parse_amount(v) is not None)
                c.checked_count = len(values)
            elif c.semantic == "region_code":
                regions = sorted(region_codes())
                self.con.execute("CREATE TEMP TABLE IF NOT EXISTS regions AS SELECT unnest(?::VARCHAR[]) AS code",
                                 [regions])
                c.valid_count = self.con.execute(
                    f"SELECT count(*) FROM t SEMI JOIN regions r ON t.{c.q} = r.code").fetchone()[0]
                c.checked_count = nn
            else:
                c.valid_count, c.checked_count = c.full.get("sem_valid", 0), nn
        # identifiers hidden in other columns: valid ID numbers inside a credit-code column
        for c in self.cols:
            if c.semantic == "uscc":
                probe = self._stdnum_sample(c)
                ids = [v for v in probe if _RX["plausible_id"].fullmatch(v) and ric_is_valid(v)]
                c.embedded_ids = len(ids)
                if len(ids) >= 5 or (probe and len(ids) / len(probe) >= 0.01):
                    c.sensitive_kind.append("resident_id")
                    self._minors(c, ids)

    def _stdnum_sample(self, c: _Column) -> list[str]:
        cached = getattr(c, "_stdnum_values", None)
        if cached is not None:
            return cached
        nn = c.full["nonnull"]
        values = c.sample
        want = min(nn, self.sample_size)
        if len(values) < 0.9 * want:
            # sparse column: a dedicated, evenly spaced sample of its non-null values
            step = max(1, nn // max(1, want))
            rows = self.con.execute(
                f"SELECT trim({c.q}) FROM t WHERE rowid % {step} = 0 AND {c.q} IS NOT NULL "
                f"AND trim({c.q}) <> '' LIMIT {self.sample_size}").fetchall()
            values = [r[0] for r in rows]
        c._stdnum_values = list(values[: self.sample_size])
        return c._stdnum_values

    @staticmethod
    def _minors(c: _Column, valid_ids: list[str]) -> None:
        today = _dt.date.today()
        limit = today.replace(year=today.year - 14) if not (today.month == 2 and today.day == 29) \
            else today.replace(year=today.year - 14, day=28)
        n = 0
        for v in valid_ids:
            born = ric_birth_date(v)
            if born is not None and born > limit:
                n += 1
        c.minors_count += n
        if n:
            c.minors = True

    # -- stage 6: personal / sensitive flags ---------------------------------------------------------------
    def _subject(self) -> str | None:
        """What a row describes: "person" (an ID number, or names under a header like 姓名), else
        "organisation" (a column of organisation names such as 杭州市第一人民医院 or 西湖区北山街道社区卫生服务
        中心, valid credit codes in the row, or headers like 机构名称/单位地址), else None (unknown: 从严)."""
        for c in self.cols:
            if c.semantic == "resident_id" or (c.semantic == "person_name" and _PERSON_SUBJECT_HINT.search(c.name)):
                return "person"
        for c in self.cols:
            if c.semantic == "enterprise_name" and not c.hint("person_name"):
                return "organisation"
            if c.semantic == "uscc" and c.checked_count and c.valid_count / c.checked_count >= SEMANTIC_SHARE \
                    and not getattr(c, "embedded_ids", 0):
                return "organisation"
            if _ORG_HINT.search(c.name):
                return "organisation"
        return None

    @staticmethod
    def _about_organisation(c: _Column) -> bool:
        """In a row describing an organisation: whether this column describes the organisation (its name,
        address, public phone) rather than a person (法定代表人, 联系人, a home address)."""
        if c.semantic == "address":
            return not _HOME_HINT.search(c.name)
        if c.semantic == "person_name":
            # names that look like a person's under a header naming an organisation (名称: 李记, 王府);
            # any other column of person names (法定代表人, 经营者, 医生) is about a person (从严)
            return bool(_ORG_HINT.search(c.name) or c.hint("enterprise_name")) and not c.hint("person_name")
        if c.semantic == "mobile":
            return bool(_ORG_PHONE_HINT.search(c.name))
        return False

    def flags(self) -> None:
        self.subject = self._subject()
        for c in self.cols:
            c.about_organisation = self.subject == "organisation" and self._about_organisation(c)
        person_in_table = any(c.semantic in _IDENTIFIER_SEMANTIC and not c.about_organisation for c in self.cols)
        strong_id = any(c.semantic in ("resident_id", "mobile") and not c.about_organisation for c in self.cols)
        for c in self.cols:
            kinds = c.sensitive_kind
            if c.semantic == "resident_id":
                kinds.insert(0, "resident_id")
            if self._bank_card(c):
                kinds.append("bank_card")
            for kind, rx in SENSITIVE_HINTS.items():
                if kind == "bank_card" or not rx.search(c.name):
                    continue
                if kind == "whereabouts":
                    if person_in_table:
                        kinds.append(kind)
                elif person_in_table or c.type == "text":
                    kinds.append(kind)
            if strong_id and c.semantic in ("longitude", "latitude") and "whereabouts" not in kinds:
                kinds.append("whereabouts")  # coordinates in a table of identified people
            if c.type == "date" and _BIRTH_HINT.search(c.name) and person_in_table and self._young(c):
                c.minors = True
            if c.minors:
                kinds.append("minors")
            c.sensitive_kind = list(dict.fromkeys(kinds))
            hinted_personal = bool(_PERSONAL_HINT.search(c.name)) and (person_in_table or c.type == "text")
            personal_semantic = c.semantic in PERSONAL_SEMANTIC and not c.about_organisation
            c.personal = bool(personal_semantic or c.sensitive_kind or hinted_personal)

    @staticmethod
    def _young(c: _Column) -> bool:
        """A birth-date column whose latest date is less than 14 years ago."""
        latest = c.full.get("tmax")
        if not latest:
            return False
        for f in c.date_formats:
            try:
                born = _dt.datetime.strptime(latest.strip(), f).date()
            except ValueError:
                continue
            today = _dt.date.today()
            return born > today.replace(year=today.year - 14, day=min(today.day, 28))
        return False

    def _bank_card(self, c: _Column) -> bool:
        if c.type not in ("text",) or c.semantic is not None:
            return False
        vals = [re.sub(r"[\s\-]", "", v) for v in _evenly(c.sample, DETECT_VALUES)]
        if not vals:
            return False
        digits = [v for v in vals if 16 <= len(v) <= 19 and v.isdigit()]
        hinted = bool(SENSITIVE_HINTS["bank_card"].search(c.name))
        if _share(len(digits), len(vals)) < (HINTED_SHARE if hinted else SEMANTIC_SHARE):
            return False
        ok = sum(1 for v in digits if luhn.is_valid(v))
        return hinted or _share(ok, len(digits)) >= SEMANTIC_SHARE

    # -- stage 7: duplicates and the result ------------------------------------------------------------------
    def duplicates(self) -> int:
        if self.rows < 2 or not self.cols:
            return 0
        if any(c.distinct == self.rows and c.full["nonnull"] == self.rows for c in self.cols):
            return 0  # a column with a distinct value in every row: no two rows are equal
        row = ", ".join(c.q for c in self.cols)
        return self.con.execute(f"SELECT count(*) - count(DISTINCT hash({row})) FROM t").fetchone()[0]

    def column_result(self, c: _Column) -> dict:
        full = c.full
        nn = full["nonnull"]
        if c.type in ("integer", "decimal"):
            lo, hi = full.get("tmin"), full.get("tmax")
            if not c.clean:
                lo, hi = _num_str(lo), _num_str(hi)
        elif c.type in ("date", "datetime"):
            lo, hi = full.get("tmin"), full.get("tmax")
        elif "smin" in full:
            lo, hi = full["smin"], full["smax"]
        elif c.groups and len(c.groups) >= c.distinct:
            vals = [v for v, _n in c.groups]
            lo, hi = min(vals), max(vals)
        elif nn:
            lo, hi = self.con.execute(f"SELECT min({c.q}), max({c.q}) FROM t").fetchone()
        else:
            lo = hi = None
        validity = None
        if c.semantic is not None and c.checked_count:
            validity = round(c.valid_count / c.checked_count, 6)
        examples = list(dict.fromkeys(c.sample))[:3]
        out = {
            "name": c.name,
            "type": c.type,
            "semantic_type": c.semantic,
            "personal": c.personal,
            "sensitive": bool(c.sensitive_kind),
            "sensitive_kind": c.sensitive_kind,
            "null_count": self.rows - nn,
            "distinct_count": c.distinct,
            "min": lo,
            "max": hi,
            "top_values": [[v, n] for v, n in c.groups[:TOP_K]],
            "valid_count": c.valid_count if c.semantic else None,
            "checked_count": c.checked_count if c.semantic else None,
            "validity": validity,
            "unit": c.unit if c.semantic == "amount" else None,
            "mean": None,
            "sum": None,
            "examples": examples,
            "variants": self._variants(c) if c.type == "category" else [],
            "minors": c.minors,
        }
        if getattr(c, "amount_facts", None):
            out["units"] = c.amount_facts["units"]  # every unit written in the text, with its count
        if getattr(c, "about_organisation", False):
            out["describes"] = "organisation"  # a name/address/phone of an organisation: not personal
        if c.type in ("integer", "decimal"):
            out["mean"] = _num_str(full.get("mean"))
            out["sum"] = _num_str(full.get("sum"))
            out["type_invalid_count"] = nn - full.get("typed", 0)
        elif c.type in ("date", "datetime"):
            out["type_invalid_count"] = nn - full.get("typed", 0)
        if c.minors:
            out["minors_in_sample"] = c.minors_count
        if getattr(c, "embedded_ids", 0):
            out["embedded_resident_ids"] = c.embedded_ids
        return out

    @staticmethod
    def _variants(c: _Column) -> list[list[str]]:
        """Spellings of one value: equal after NFKC/whitespace/case folding, or one a prefix of the other
        where the rest is short (正常 / 正常参保 / 正常缴费) or a bracketed or punctuated remark
        (存续 / 存续（在营、开业、在册）)."""
        groups = [(v, n) for v, n in c.groups if v is not None]
        if len(groups) < 2 or len(groups) > CATEGORY_FETCH:
            return []
        parent = list(range(len(groups)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        keys = [_norm_key(v) for v, _n in groups]
        # a prefix pair shares its first two characters: compare only within those buckets
        by_head: dict[str, list[int]] = {}
        for i, k in enumerate(keys):
            if re.search(r"[^\d.\-+]", k):
                by_head.setdefault(k[:2], []).append(i)
        for members in by_head.values():
            for x, i in enumerate(members):
                for j in members[x + 1:]:
                    a, b = keys[i], keys[j]
                    same = a == b
                    if not same:
                        short, long_ = (a, b) if len(a) <= len(b) else (b, a)
                        if len(short) >= 2 and long_.startswith(short):
                            rest = long_[len(short):]
                            same = len(rest) <= 2 or rest[0] in "(（[【,，、:：;；-—/"
                    if same:
                        parent[find(i)] = find(j)
        buckets: dict[int, list[tuple[str, int]]] = {}
        for i, g in enumerate(groups):
            buckets.setdefault(find(i), []).append(g)
        out = [[v for v, _n in sorted(members, key=lambda g: (-g[1], g[0]))]
               for members in buckets.values() if len(members) > 1]
        out.sort(key=lambda vs: -sum(n for v, n in groups if v in vs))
        return out

    def run(self) -> dict:
        p = self.progress
        p(0.0, "loading")
        self.load()
        p(0.3, "sampling")
        self.sample()
        p(0.4, "detecting")
        self.detect()
        p(0.45, "aggregating")
        self.aggregate()
        p(0.55, "top_values")
        self.group()
        self.decide_categories()
        p(0.8, "validating")
        self.validate()
        self.flags()
        p(0.9, "duplicates")
        dups = self.duplicates()
        cols = [self.column_result(c) for c in self.cols]
        result = {
            "row_count": self.rows,
            "duplicate_rows": dups,
            "sample_rows": self.sample_rows,
            "personal": any(c["personal"] for c in cols),
            "sensitive": any(c["sensitive"] for c in cols),
            "minors": any(c["minors"] for c in cols),
            "subject": getattr(self, "subject", None),  # what a row describes: person, organisation or None
            "columns": cols,
        }
        p(1.0, "done")
        return result


def profile_csv(csv_path: Path, columns: list[str], *, progress: Callable[[float, str], None] | None = None,
                sample_size: int = 20000, threads: int = 2, memory_limit: str | None = None, con=None,
                loaded: bool = False) -> dict:
    """Profile a clean UTF-8 comma CSV whose first line holds the column names (see module doc).

    `threads` and `memory_limit` (e.g. "1024MB") bound DuckDB; the job runs this in a bounded child process.
    `con`: a connection of `connect()` to use (not closed here); `loaded`: its table `t` holds the CSV already."""
    def report(fraction: float, stage: str) -> None:
        if progress is not None:
            progress(max(0.0, min(1.0, fraction)), stage)

    prof = _Profiler(Path(csv_path), list(columns), report, sample_size, threads, memory_limit, con, loaded)
    try:
        return prof.run()
    finally:
        if prof.own:
            prof.con.close()
