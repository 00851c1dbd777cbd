"""The demo's tables: realistic Hangzhou (杭州市, 浙江省) public data that the project generates itself.

`demo_tables()` describes every table the demo lists; `table.write(path)` writes it and returns its
number of data rows. Everything is synthetic: names, credit codes, ID numbers and figures are drawn
from a seeded `random.Random` per table, so two runs write identical bytes. Only public reference
facts are hard-coded (GB/T 2260 district codes, road and street names, the HJ 633 AQI breakpoints,
the GB 3838 water classes, the GB/T 4754 industry sections). The real files under
../shared/realdata are for tests only and are never read here.

Some tables are deliberately untidy, as a real holder's would be, so detection and quality checks
have something to show: `individual_businesses` is GBK, `population_yearly` has a title row and a
unit row above its header, `universities` is an Excel workbook, `enterprise_registry` spells one
status four ways and mixes date formats, and a few sensor readings are missing.

Identifiers are valid: credit codes carry the GB 11714 organization-code check character and the
GB 32100 check character (`stdnum.cn.uscc`); ID numbers use a region code that existed in the birth
year, a real birth date and the GB 11643 check digit (`stdnum.cn.ric`). 临平区 (330113) and 钱塘区
(330114) date from 2021, so they appear as district codes and in credit codes issued since, but
never in an ID number (python-stdnum's region list predates them).

This file is longer than the house ~400 lines because every generator is a few lines of data
knowledge; split it into a `demo_tables/` subpackage (one module per holder) when it grows further.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import functools
import io
import math
import random
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from stdnum.cn import ric, uscc


@dataclass(frozen=True)
class DemoTable:
    key: str  # stable id
    title: str  # Chinese title of the asset
    filename: str  # name of the file `write` produces
    holder: str  # demo organization key: holder / institution / operator / agency (see market.demo)
    category_hint: str  # 类 > 项 > 目
    update_cycle: str  # realtime/daily/weekly/monthly/quarterly/half_yearly/yearly/other
    tiers: tuple[str, ...]  # tiers it is listed at: subset of raw / cleaned / product
    delivery: str  # api / file / sandbox / verification
    tags: tuple[str, ...]
    summary: str  # 1–2 Chinese sentences
    write: Callable[[Path], int]  # writes the file at the path (or at path/filename if path is a directory)
    encoding: str = "utf-8"  # text encoding of a CSV; "xlsx" for a workbook
    preamble_rows: int = 0  # rows above the header (title, unit)


# ---------------------------------------------------------------------------------------------------------------
# Shared reference data (public facts) and small builders
# ---------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _District:
    code: str  # GB/T 2260, as of 2021
    name: str
    pop2020: float  # 常住人口 at the 2020 census, 万人 (rounded)
    lon: float
    lat: float
    spread: float  # degrees: how far places scatter from the centre
    growth: float  # yearly resident growth since 2020
    roads: tuple[str, ...]
    streets: tuple[str, ...]  # 街道 and 镇


_D = _District
DISTRICTS: tuple[_District, ...] = (
    _D("330102", "上城区", 132.5, 120.171, 30.250, 0.035, 0.008,
       ("解放路", "延安路", "中山南路", "清泰街", "望江路", "秋涛路", "凤起东路", "庆春东路", "新塘路", "钱江路",
        "富春路", "复兴路", "笕桥路", "九堡大道", "丁兰路", "采荷路", "凯旋路"),
       ("湖滨街道", "清波街道", "小营街道", "望江街道", "南星街道", "紫阳街道", "四季青街道", "凯旋街道",
        "采荷街道", "闸弄口街道", "彭埠街道", "笕桥街道", "九堡街道", "丁兰街道")),
    _D("330105", "拱墅区", 111.6, 120.142, 30.319, 0.030, 0.008,
       ("莫干山路", "湖墅南路", "上塘路", "大关路", "文晖路", "登云路", "小河路", "沈半路", "东新路", "体育场路",
        "石祥路", "香积寺路", "潮王路", "中山北路", "绍兴路", "丽水路"),
       ("米市巷街道", "湖墅街道", "小河街道", "和睦街道", "拱宸桥街道", "大关街道", "上塘街道", "祥符街道",
        "康桥街道", "半山街道", "天水街道", "武林街道", "长庆街道", "潮鸣街道", "朝晖街道", "文晖街道",
        "东新街道", "石桥街道")),
    _D("330106", "西湖区", 114.6, 120.130, 30.259, 0.040, 0.015,
       ("文三路", "文二路", "教工路", "学院路", "天目山路", "古墩路", "文一西路", "留和路", "紫金港路", "西溪路",
        "保俶路", "之江路", "丰潭路", "益乐路", "西斗门路", "紫霞街", "申花路"),
       ("北山街道", "西溪街道", "翠苑街道", "古荡街道", "灵隐街道", "文新街道", "蒋村街道", "留下街道",
        "转塘街道", "西湖街道", "三墩镇", "双浦镇")),
    _D("330108", "滨江区", 50.4, 120.212, 30.208, 0.030, 0.030,
       ("江南大道", "滨盛路", "江虹路", "长河路", "网商路", "聚才路", "春晓路", "东信大道", "时代大道", "西兴路",
        "滨安路", "江陵路", "月明路", "物联网街"),
       ("西兴街道", "长河街道", "浦沿街道")),
    _D("330109", "萧山区", 201.1, 120.264, 30.185, 0.080, 0.015,
       ("市心路", "金城路", "人民路", "北干山南路", "萧绍路", "通惠路", "建设一路", "机场路", "鸿达路", "育才路",
        "山阴路", "博学路", "风情大道", "红垦路"),
       ("城厢街道", "北干街道", "蜀山街道", "新塘街道", "宁围街道", "新街街道", "闻堰街道", "盈丰街道",
        "瓜沥镇", "义桥镇", "所前镇", "临浦镇", "河上镇", "戴村镇")),
    _D("330110", "余杭区", 122.6, 120.000, 30.290, 0.070, 0.040,
       ("文一西路", "五常大道", "良睦路", "龙舟路", "高教路", "仓兴街", "余杭塘路", "良渚路", "闲林街",
        "荆长大道", "向往街", "海曙路", "绿汀路", "溪望路"),
       ("五常街道", "仓前街道", "余杭街道", "闲林街道", "中泰街道", "良渚街道", "仁和街道", "瓶窑镇",
        "径山镇", "黄湖镇", "百丈镇", "鸬鸟镇")),
    _D("330111", "富阳区", 83.3, 119.960, 30.049, 0.110, 0.006,
       ("桂花路", "金桥路", "江滨西大道", "恩波大道", "春秋北路", "迎宾北路", "富春街", "文教路", "金平路",
        "孙权路"),
       ("富春街道", "东洲街道", "银湖街道", "春江街道", "鹿山街道", "新登镇", "场口镇", "大源镇", "万市镇",
        "常安镇")),
    _D("330112", "临安区", 64.4, 119.724, 30.234, 0.140, 0.006,
       ("钱王街", "衣锦街", "武肃街", "城中街", "万马路", "科技大道", "环城北路", "石镜街", "农林大路"),
       ("锦城街道", "锦北街道", "锦南街道", "玲珑街道", "青山湖街道", "於潜镇", "昌化镇", "太湖源镇",
        "天目山镇", "清凉峰镇")),
    _D("330113", "临平区", 117.5, 120.299, 30.419, 0.060, 0.015,
       ("临平大道", "迎宾路", "世纪大道", "南苑街", "星光街", "藕花洲大街", "超山路", "东湖路", "北沙路",
        "望梅路"),
       ("临平街道", "东湖街道", "南苑街道", "星桥街道", "乔司街道", "运河街道", "崇贤街道", "塘栖镇")),
    _D("330114", "钱塘区", 76.9, 120.380, 30.300, 0.070, 0.030,
       ("学林街", "学源街", "文泽路", "文渊路", "金沙大道", "江东大道", "义蓬路", "青六路", "学正街", "幸福南路"),
       ("白杨街道", "下沙街道", "河庄街道", "义蓬街道", "新湾街道", "临江街道", "前进街道")),
    _D("330122", "桐庐县", 45.4, 119.691, 29.793, 0.130, 0.003,
       ("迎春南路", "学圣路", "瑶琳路", "白云源路", "富春路", "江滨路", "春江路", "毕浦路"),
       ("桐君街道", "城南街道", "旧县街道", "凤川街道", "分水镇", "富春江镇", "横村镇", "瑶琳镇")),
    _D("330127", "淳安县", 32.9, 119.042, 29.609, 0.180, -0.003,
       ("新安大街", "千岛湖大道", "环湖北路", "梦姑路", "阳光路", "排岭路", "青溪大道", "睦州路"),
       ("千岛湖镇", "文昌镇", "石林镇", "汾口镇", "威坪镇", "姜家镇", "临岐镇", "里商乡")),
    _D("330182", "建德市", 44.2, 119.281, 29.475, 0.150, -0.002,
       ("新安江路", "严州大道", "洋溪路", "江滨中路", "府前路", "白沙路", "新安东路", "政府路"),
       ("新安江街道", "洋溪街道", "更楼街道", "寿昌镇", "乾潭镇", "梅城镇", "大同镇", "下涯镇")),
)
_BY_CODE = {d.code: d for d in DISTRICTS}
URBAN = ("330102", "330105", "330106", "330108")  # 主城区 of the demo's statistics
COUNTIES = ("330122", "330127", "330182")  # 县 and 县级市: their names need no 杭州市 prefix


def _place(d: _District) -> str:
    """How a district is written after 杭州市 (counties are written on their own)."""
    return d.name if d.code in COUNTIES else "杭州市" + d.name


SURNAMES = tuple("王李张刘陈杨黄赵吴周徐孙朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁"
                 "任沈姚卢姜钟陆汪范金俞楼方施钱应毛戴邵章")
_MALE = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆旭宁龙林阳建国峰成文志海东亮晨轩睿博泽航振"
_FEMALE = "芳娜秀英敏静丽艳娟霞燕玲桂兰萍红婷雪琳洁梅琴慧颖倩莉佳欣怡雯萱涵诗语婉蓉月晓云"
_BRAND_A = "华云鼎瑞恒天博智启星锦宏中嘉新众德海亿科同汇金银远聚思安优乐禾青蓝数易立卓凯振永长富钱之西湖良临"
_BRAND_B = "创帆盛丰信成远汇明辰程达泰禾元合润纳联盛通诚河景力品享鲸智卓越凯华荣兴源泽宇峰拓途"
_COMMUNITY = ("翠苑", "文鼎", "金都", "绿城", "景和", "春江", "花园", "和家", "嘉绿", "香樟", "丹桂", "钱江",
              "湖畔", "桂语", "云栖", "紫金", "东方", "府苑", "锦绣", "万科", "新城", "阳光")
_MOBILE = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155", "157",
           "158", "159", "166", "177", "180", "181", "183", "185", "186", "187", "188", "189", "191", "199")
_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100 characters (no I, O, S, V, Z)


def _rng(key: str) -> random.Random:
    """One generator per table, seeded from its key (crc32 is stable across runs, unlike hash())."""
    return random.Random(zlib.crc32(key.encode("utf-8")))


def _person(rng: random.Random, male: bool | None = None) -> str:
    if male is None:
        male = rng.random() < 0.5
    pool = _MALE if male else _FEMALE
    surname = rng.choice(SURNAMES[:30]) if rng.random() < 0.75 else rng.choice(SURNAMES)
    given = rng.choice(pool) + (rng.choice(pool) if rng.random() < 0.7 else "")
    return surname + given


def _brand(rng: random.Random) -> str:
    return rng.choice(_BRAND_A) + rng.choice(_BRAND_B)


def _mobile(rng: random.Random) -> str:
    return rng.choice(_MOBILE) + f"{rng.randint(0, 99_999_999):08d}"


def _phone(rng: random.Random) -> str:
    return f"0571-{rng.choice('5678')}{rng.randint(0, 9_999_999):07d}"


def _point(rng: random.Random, d: _District) -> tuple[str, str]:
    lon = d.lon + rng.gauss(0, d.spread)
    lat = d.lat + rng.gauss(0, d.spread * 0.8)
    return f"{lon:.6f}", f"{lat:.6f}"


def _street_address(rng: random.Random, d: _District, *, province: bool = True) -> str:
    head = ("浙江省" if province else "") + _place(d)
    return f"{head}{rng.choice(d.roads)}{rng.randint(1, 1200)}号"


def _home_address(rng: random.Random, d: _District) -> str:
    street = rng.choice(d.streets)
    community = rng.choice(_COMMUNITY) + rng.choice(("苑", "小区", "新村", "家园", "公寓"))
    return (f"浙江省{_place(d)}{street}{community}{rng.randint(1, 40)}幢{rng.randint(1, 4)}单元"
            f"{rng.randint(1, 30)}{rng.randint(1, 4):02d}室")


def _org_check(body: str) -> str:
    """GB 11714 check character of an 8-character organization code body."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, weights))
    c9 = 11 - total % 11
    return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)


def credit_code(rng: random.Random, kind: str, region: str, modern: bool) -> str:
    """A GB 32100 统一社会信用代码: kind is the 2-character registration authority and type ('91' 企业,
    '92' 个体工商户, '12' 事业单位, '52' 民办非企业单位); modern codes (issued since 2015) start the
    organization code with MA."""
    if modern:
        body = "MA" + "".join(rng.choice(_ALPHABET) for _ in range(6))
    else:
        body = f"{rng.randint(10_000_000, 79_999_999)}"
    first17 = kind + region + body + _org_check(body)
    return first17 + uscc.calc_check_digit(first17)


def _registry_region(rng: random.Random, d: _District, year: int) -> str:
    """The region code a registration authority put in a credit code in a given year."""
    if year < 2021:  # before the 2021 redistricting 临平 registered under 余杭, 下沙 under the 市辖区 code
        if d.code == "330113":
            return "330110"
        if d.code == "330114":
            return "330101"
        if d.code in ("330102", "330105") and rng.random() < 0.5:
            return "330103" if d.code == "330105" else "330104"  # 下城区 / 江干区
    return d.code


# ID numbers: where people registered, tried in order until one existed in the birth year
_HANGZHOU_BIRTH = ("330102", "330103", "330104", "330105", "330106", "330108", "330109", "330110", "330111",
                   "330112", "330122", "330127", "330182", "330121", "330123", "330124", "330125", "330126",
                   "330181", "330183", "330184", "330185")
_ELSEWHERE_BIRTH = ("330203", "330302", "330402", "330502", "330602", "330702", "330802", "331002", "340104",
                    "341202", "360102", "410105", "420106", "430102", "510107", "320106", "310104", "362302")


def resident_id(rng: random.Random, birth: dt.date, male: bool, local: bool) -> str:
    """A GB 11643 身份证号 that passes stdnum.cn.ric.is_valid."""
    pool = [r for r in (_HANGZHOU_BIRTH if local else _ELSEWHERE_BIRTH) if _region_existed(r, birth.year)]
    seq = rng.randint(0, 499) * 2 + (1 if male else 0)
    body = f"{rng.choice(pool)}{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


@functools.cache
def _region_existed(region: str, year: int) -> bool:
    """Whether the region code was in use in the year, by GB/T 2260 as python-stdnum ships it."""
    body = f"{region}{year}0101001"
    return ric.is_valid(body + ric.calc_check_digit(body + "0"))


def _months(first: tuple[int, int], last: tuple[int, int]) -> list[tuple[int, int]]:
    out, (y, m) = [], first
    while (y, m) <= last:
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _wave(month: float, peak: float, amplitude: float) -> float:
    """1 ± amplitude over a year, highest at the peak month."""
    return 1 + amplitude * math.cos(2 * math.pi * (month - peak) / 12)


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]], *, encoding: str = "utf-8",
               preamble: Sequence[str] = ()) -> int:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    for line in preamble:  # as a spreadsheet exports a title above the table: text in A, the rest blank
        w.writerow([line] + [""] * (len(header) - 1))
    w.writerow(header)
    n = 0
    for row in rows:
        w.writerow(["" if v is None else v for v in row])
        n += 1
    path.write_bytes(buf.getvalue().encode(encoding))
    return n


_FIXED_ZIP_TIME = (2025, 12, 31, 0, 0, 0)


def _write_xlsx(path: Path, sheet: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> int:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    raw = io.BytesIO()
    wb.save(raw)
    # openpyxl stamps the save time into docProps/core.xml and the zip entries: pin both so the bytes repeat
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2025-12-31T00:00:00Z", data)
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, data)
    path.write_bytes(out.getvalue())
    return len(rows)


# ---------------------------------------------------------------------------------------------------------------
# Shared synthetic registers (several tables draw on the same enterprises, institutions, lines, stations)
# ---------------------------------------------------------------------------------------------------------------

def _population(code: str, year: int) -> float:
    """常住人口 (万人) of a district in a year: the 2020 census figure grown at the district's rate."""
    d = _BY_CODE[code]
    rate = d.growth if year >= 2020 else (0.03 if code in ("330108", "330110", "330114") else 0.012)
    return d.pop2020 * (1 + rate) ** (year - 2020)


INDUSTRIES = (  # GB/T 4754-2017 门类, the words enterprise names use, weight
    ("A", "农、林、牧、渔业", ("农业开发", "生态农业", "茶业", "家庭农场"), 2),
    ("C", "制造业", ("机械", "电子", "服饰", "新材料", "智能装备", "纺织", "食品", "家具"), 14),
    ("E", "建筑业", ("建设工程", "建筑装饰工程", "市政工程", "园林工程"), 7),
    ("F", "批发和零售业", ("贸易", "商贸", "电子商务", "供应链管理", "医疗器械"), 24),
    ("G", "交通运输、仓储和邮政业", ("物流", "货运代理", "快递服务"), 4),
    ("H", "住宿和餐饮业", ("餐饮管理", "酒店管理", "餐饮"), 5),
    ("I", "信息传输、软件和信息技术服务业", ("网络科技", "信息技术", "软件", "数据科技", "智能科技"), 16),
    ("K", "房地产业", ("房地产开发", "物业管理", "房地产经纪"), 3),
    ("L", "租赁和商务服务业", ("企业管理咨询", "广告", "人力资源", "会展服务"), 13),
    ("M", "科学研究和技术服务业", ("检测技术", "工程设计", "环境科技", "生物科技"), 7),
    ("O", "居民服务、修理和其他服务业", ("家政服务", "汽车服务", "美容"), 3),
    ("R", "文化、体育和娱乐业", ("文化传媒", "影视文化", "体育发展"), 2),
)
_COMPANY_TYPES = (("有限责任公司（自然人投资或控股）", 60), ("有限责任公司（自然人独资）", 20),
                  ("有限责任公司（非自然人投资或控股的法人独资）", 12), ("股份有限公司（非上市、自然人投资或控股）", 5),
                  ("有限责任公司（外商投资、非独资）", 3))
_STATUS = (("存续", 62), ("在业", 10), ("开业", 4), ("存续（在营、开业、在册）", 6), ("注销", 12),
           ("吊销，未注销", 4), ("迁出", 2))
_CAPITALS = (3, 5, 10, 30, 50, 100, 200, 300, 500, 1000, 2000, 3000, 5000, 10000, 20000)
_CAPITAL_W = (4, 6, 12, 8, 14, 22, 8, 6, 8, 6, 2, 1.5, 1.2, 0.8, 0.3)


def _weighted(rng: random.Random, pairs: Sequence[tuple[str, float]]) -> str:
    return rng.choices([p[0] for p in pairs], [p[1] for p in pairs])[0]


def _district_weights() -> list[float]:
    return [d.pop2020 for d in DISTRICTS]


@functools.cache
def _enterprises() -> tuple[dict, ...]:
    rng = _rng("enterprises")
    names: set[str] = set()  # membership only; never iterated (string hashing is randomized)
    out = []
    industries = list(INDUSTRIES)
    while len(out) < 5000:
        d = rng.choices(DISTRICTS, _district_weights())[0]
        ind = rng.choices(industries, [i[3] for i in industries])[0]
        ctype = _weighted(rng, _COMPANY_TYPES)
        prefix = "杭州" if rng.random() < 0.85 else "浙江"
        if ctype.startswith("股份"):
            name = f"{prefix}{_brand(rng)}{rng.choice(ind[2])}股份有限公司"
        elif "外商" in ctype:
            name = f"{_brand(rng)}（杭州）{rng.choice(ind[2])}有限公司"
        else:
            name = f"{prefix}{_brand(rng)}{rng.choice(ind[2])}有限公司"
        if name in names:
            continue
        names.add(name)
        year = min(2025, int(1994 + 31 * rng.random() ** 0.6))
        founded = dt.date(year, 1, 1) + dt.timedelta(days=rng.randint(0, 364))
        approved = min(dt.date(2025, 12, 31), founded + dt.timedelta(days=rng.choice((0, 0, 0, 200, 900, 2500))))
        status = _weighted(rng, _STATUS)
        code = credit_code(rng, "91", _registry_region(rng, d, year), modern=year >= 2015)
        out.append({
            "code": code, "name": name, "type": ctype, "legal": _person(rng),
            "capital": rng.choices(_CAPITALS, _CAPITAL_W)[0], "founded": founded, "approved": approved,
            "status": status, "district": d, "industry": ind, "address": _street_address(rng, d),
        })
    return tuple(out)


_INSTITUTION_KINDS = {  # 机构类别: (registration kind of the credit code, beds range)
    "综合医院": ("12", (150, 1200)), "中医医院": ("12", (100, 600)), "妇幼保健院": ("12", (60, 400)),
    "专科医院": ("52", (20, 300)), "社区卫生服务中心": ("12", (0, 60)), "卫生院": ("12", (10, 80)),
    "门诊部": ("91", (0, 0)), "诊所": ("92", (0, 0)),
}


@functools.cache
def _institutions() -> tuple[dict, ...]:
    rng = _rng("institutions")
    out: list[dict] = []

    def add(name: str, kind: str, nature: str, level: str, d: _District, reg: str | None = None,
            region: str | None = None) -> None:
        reg_kind, (lo, hi) = _INSTITUTION_KINDS[kind]
        reg = reg or reg_kind
        year = rng.randint(1996, 2025) if reg != "12" else rng.randint(1996, 2014)
        region = region or _registry_region(rng, d, year)
        lon, lat = _point(rng, d)
        beds = rng.randint(lo, hi)
        if level.startswith("三级"):
            beds = rng.randint(600, 2200)
        out.append({"name": name, "code": credit_code(rng, reg, region, year >= 2015),
                    "kind": kind, "nature": nature, "level": level, "district": d,
                    "address": _street_address(rng, d), "lon": lon, "lat": lat,
                    "beds": 0 if kind == "社区卫生服务中心" and rng.random() < 0.5 else beds,
                    "phone": _phone(rng)})

    city_hospitals = (("杭州市第一人民医院", "330102"), ("杭州市第三人民医院", "330102"), ("杭州市红十字会医院", "330102"),
                      ("杭州市中医院", "330105"), ("杭州市儿童医院", "330105"), ("杭州市肿瘤医院", "330105"),
                      ("杭州市西溪医院", "330106"), ("杭州市第七人民医院", "330106"), ("杭州市第九人民医院", "330114"),
                      ("杭州市妇产科医院", "330102"))
    for name, code in city_hospitals:
        kind = "中医医院" if "中医" in name else "专科医院" if any(k in name for k in ("儿童", "肿瘤", "妇产", "第七")) \
            else "综合医院"
        add(name, kind, "公立（非营利性）", "三级甲等" if rng.random() < 0.8 else "三级乙等", _BY_CODE[code], "12",
            "330100")  # registered with the city, not the district
    for d in DISTRICTS:
        big = d.code in ("330109", "330110", "330111", "330112", "330113")
        add(f"{_place(d)}第一人民医院", "综合医院", "公立（非营利性）", "三级乙等" if big else "二级甲等", d)
        add(f"{_place(d)}中医院", "中医医院", "公立（非营利性）", "二级甲等", d)
        add(f"{_place(d)}妇幼保健院", "妇幼保健院", "公立（非营利性）", "二级乙等", d)
        if big:
            add(f"{_place(d)}第二人民医院", "综合医院", "公立（非营利性）", "二级甲等", d)
        for street in d.streets:
            if street.endswith("街道"):
                add(f"{_place(d)}{street}社区卫生服务中心", "社区卫生服务中心", "公立（非营利性）", "未定级", d)
            else:
                center = "中心卫生院" if street.endswith("镇") and rng.random() < 0.5 else "卫生院"
                add(f"{_place(d)}{street}{center}", "卫生院", "公立（非营利性）", "一级甲等", d)
    names = {o["name"] for o in out}
    specialties = ("口腔医院", "眼科医院", "妇产医院", "康复医院", "中西医结合医院", "骨科医院", "医院", "美容医院")
    while len(out) < 800:
        d = rng.choices(DISTRICTS, _district_weights())[0]
        r = rng.random()
        if r < 0.15:
            name, kind, level = f"杭州{_brand(rng)}{rng.choice(specialties)}", "专科医院", rng.choice(
                ("二级乙等", "一级甲等", "未定级", "未定级"))
        elif r < 0.45:
            name, kind, level = (f"杭州{_brand(rng)}{rng.choice(('口腔', '中医', '综合', '医学影像', '眼科'))}"
                                 "门诊部有限公司"), "门诊部", "未定级"
        else:
            name, kind, level = (f"{_place(d)}{_person(rng)}{rng.choice(('口腔', '中医', '内科', '西医内科', ''))}"
                                 "诊所"), "诊所", "未定级"
        if name in names:
            continue
        names.add(name)
        add(name, kind, "民营（营利性）" if kind != "专科医院" or rng.random() < 0.6 else "民营（非营利性）", level, d)
    return tuple(out)


# ---------------------------------------------------------------------------------------------------------------
# holder: 杭州市卫生健康委员会
# ---------------------------------------------------------------------------------------------------------------

def _outpatient(path: Path) -> int:
    rng = _rng("outpatient_monthly")
    draw = {"330102": 2.2, "330105": 1.8, "330106": 1.5, "330108": 1.1}  # city hospitals draw patients inwards
    rows = []
    for y, m in _months((2019, 1), (2025, 12)):
        covid = {(2020, 2): 0.45, (2020, 3): 0.65, (2020, 4): 0.82, (2022, 12): 1.25, (2023, 1): 1.18}.get((y, m), 1.0)
        festival = 0.82 if m in (1, 2) and (y, m) not in ((2023, 1),) else 1.0
        for d in DISTRICTS:
            base = _population(d.code, y) * draw.get(d.code, 0.95) * 0.92 * (1 + 0.03 * (y - 2019))
            visits = int(base * 1e4 * _wave(m, 12, 0.08) * covid * festival * rng.uniform(0.96, 1.04))
            emergency = int(visits * rng.uniform(0.90, 0.95))
            inpatients = int(visits * rng.uniform(0.014, 0.019))
            occupancy = (88 if d.code in draw else 79) * (0.8 if y == 2020 and m < 6 else 1) + rng.uniform(-4, 4)
            rows.append((f"{y}-{m:02d}", d.name, d.code, visits, emergency, inpatients, f"{min(occupancy, 99.5):.1f}"))
    header = ("年月", "区县", "区划代码", "诊疗人次", "门急诊人次", "住院人次", "病床使用率(%)")
    return _write_csv(path, header, rows)


def _institutions_table(path: Path) -> int:
    header = ("机构名称", "统一社会信用代码", "机构类别", "经营性质", "医院等级", "区县", "区划代码", "地址", "经度",
              "纬度", "床位数", "联系电话")
    rows = [(o["name"], o["code"], o["kind"], o["nature"], o["level"], o["district"].name, o["district"].code,
             o["address"], o["lon"], o["lat"], o["beds"], o["phone"]) for o in _institutions()]
    return _write_csv(path, header, rows, encoding="utf-8-sig")


def _health_resources(path: Path) -> int:
    rng = _rng("health_resources_yearly")
    counts: dict[str, int] = {}
    for o in _institutions():
        counts[o["district"].code] = counts.get(o["district"].code, 0) + 1
    rows = []
    for year in range(2019, 2026):
        for d in DISTRICTS:
            pop = _population(d.code, year)
            per_k = (9.5 if d.code in URBAN else 5.6) * (1 + 0.02 * (year - 2019)) * rng.uniform(0.93, 1.07)
            beds = int(pop * 10 * per_k)
            staff = int(beds * rng.uniform(1.35, 1.6))
            doctors = int(staff * rng.uniform(0.38, 0.42))
            nurses = int(staff * rng.uniform(0.43, 0.47))
            institutions = int(counts[d.code] * (4.2 + 0.08 * (year - 2019)) * rng.uniform(0.95, 1.05))
            rows.append((year, d.name, d.code, institutions, beds, staff, doctors, nurses,
                         f"{beds / (pop * 10):.2f}"))
    header = ("年份", "区县", "区划代码", "医疗卫生机构数(个)", "实有床位数(张)", "卫生技术人员(人)",
              "执业(助理)医师(人)", "注册护士(人)", "每千人口床位数(张)")
    return _write_csv(path, header, rows)


def _family_doctor(path: Path) -> int:
    rng = _rng("family_doctor_monthly")
    rows = []
    for i, (y, m) in enumerate(_months((2023, 1), (2025, 12))):
        for d in DISTRICTS:
            pop = _population(d.code, y) * 1e4
            rate = min(0.55, 0.36 + 0.004 * i + rng.uniform(-0.01, 0.01)) * (1.1 if d.code in COUNTIES else 1)
            key_rate = min(0.93, 0.74 + 0.004 * i + rng.uniform(-0.015, 0.015))
            signed = int(pop * rate)
            key_pop = pop * rng.uniform(0.27, 0.31)
            teams = int(signed / rng.uniform(1400, 1800))
            rows.append((f"{y}-{m:02d}", d.name, d.code, signed, int(key_pop * key_rate), f"{rate * 100:.1f}",
                         f"{key_rate * 100:.1f}", teams))
    header = ("年月", "区县", "区划代码", "签约人数", "重点人群签约人数", "签约率(%)", "重点人群签约率(%)",
              "家庭医生团队数")
    return _write_csv(path, header, rows)


# ---------------------------------------------------------------------------------------------------------------
# institution: 杭州市疾病预防控制中心
# ---------------------------------------------------------------------------------------------------------------

_DISEASES = (  # 病种, 类别, weekly base count in the city, peak week, seasonal amplitude, deaths per 1000 cases
    ("病毒性肝炎", "乙类", 95, 14, 0.1, 2), ("肺结核", "乙类", 70, 14, 0.15, 8), ("梅毒", "乙类", 110, 26, 0.05, 0.5),
    ("淋病", "乙类", 28, 30, 0.1, 0), ("猩红热", "乙类", 14, 20, 0.6, 0), ("细菌性和阿米巴性痢疾", "乙类", 4, 32, 0.5, 0),
    ("艾滋病", "乙类", 12, 26, 0.05, 40), ("新型冠状病毒感染", "乙类", 160, 22, 0.6, 1),
    ("登革热", "乙类", 0.8, 38, 1.0, 0), ("百日咳", "乙类", 30, 14, 0.5, 0),
    ("流行性感冒", "丙类", 2400, 2, 0.85, 0.05), ("手足口病", "丙类", 380, 24, 0.7, 0),
    ("其他感染性腹泻病", "丙类", 650, 30, 0.3, 0), ("流行性腮腺炎", "丙类", 40, 20, 0.3, 0),
)


def _infectious(path: Path) -> int:
    rng = _rng("infectious_weekly")
    rows = []
    for year in (2024, 2025):
        for week in range(1, 53):
            monday = dt.date.fromisocalendar(year, week, 1)
            for name, klass, base, peak, amp, fatality in _DISEASES:
                level = base * (1 + amp * math.cos(2 * math.pi * (week - peak) / 52))
                if name == "百日咳" and year == 2024 and week <= 26:
                    level *= 6  # the 2024 spring pertussis wave
                if name == "登革热" and not 30 <= week <= 45:
                    level *= 0.1
                cases = max(0, round(rng.gauss(level, math.sqrt(level + 1) * 1.2)))
                deaths = sum(1 for _ in range(min(cases, 200)) if rng.random() < fatality / 1000)
                rows.append((year, week, f"{monday:%Y-%m-%d}至{monday + dt.timedelta(days=6):%Y-%m-%d}",
                             name, klass, cases, deaths))
    header = ("年份", "周次", "统计时段", "病种", "类别", "发病数", "死亡数")
    return _write_csv(path, header, rows)


def _vaccination_sites(path: Path) -> int:
    rng = _rng("vaccination_sites")
    rows = []
    for o in _institutions():
        if o["kind"] in ("社区卫生服务中心", "卫生院"):
            kinds = ["儿童预防接种门诊"] + (["成人预防接种门诊"] if rng.random() < 0.45 else [])
        elif o["kind"] in ("综合医院", "妇幼保健院") and o["nature"].startswith("公立"):
            kinds = ["产科接种室"] + (["狂犬病暴露预防处置门诊"] if rng.random() < 0.6 else [])
        else:
            continue
        for kind in kinds:
            hours = rng.choice(("周一至周五 8:00-11:30，13:30-16:30", "周一至周六 8:00-11:30，13:30-16:00",
                                "周二、周四、周六 8:00-11:30", "全天24小时"))
            if kind == "狂犬病暴露预防处置门诊":
                hours = "全天24小时"
            vaccines = {"儿童预防接种门诊": "免疫规划疫苗；流感疫苗；水痘疫苗；EV71疫苗",
                        "成人预防接种门诊": "流感疫苗；HPV疫苗；带状疱疹疫苗；乙肝疫苗；23价肺炎疫苗",
                        "产科接种室": "乙肝疫苗；卡介苗",
                        "狂犬病暴露预防处置门诊": "狂犬病疫苗；破伤风疫苗；狂犬病被动免疫制剂"}[kind]
            site = o["name"] + ("预防接种门诊" if kind == "儿童预防接种门诊" else kind)
            rows.append((site, kind, o["district"].name, o["district"].code, o["address"],
                         o["lon"], o["lat"], hours, vaccines, _phone(rng)))
    header = ("接种单位名称", "门诊类别", "区县", "区划代码", "地址", "经度", "纬度", "服务时间", "可接种疫苗",
              "咨询电话")
    return _write_csv(path, header, rows)


_VACCINES = (("乙肝疫苗", "免疫规划", 1.0), ("脊灰疫苗", "免疫规划", 1.3), ("百白破疫苗", "免疫规划", 1.3),
             ("麻腮风疫苗", "免疫规划", 0.7), ("乙脑减毒活疫苗", "免疫规划", 0.65), ("A群流脑多糖疫苗", "免疫规划", 0.7),
             ("流感疫苗", "非免疫规划", 2.5), ("HPV疫苗", "非免疫规划", 0.9))


def _vaccination_monthly(path: Path) -> int:
    rng = _rng("vaccination_monthly")
    rows = []
    for y, m in _months((2024, 1), (2025, 12)):
        births = 0.62 if y == 2024 else 0.58  # births per 100 residents a year, falling
        for d in DISTRICTS:
            cohort = _population(d.code, y) * 1e4 * births / 100 / 12 * 3  # doses a month per 'unit' of schedule
            for name, program, factor in _VACCINES:
                season = 1.0
                if name == "流感疫苗":
                    season = {9: 2.2, 10: 4.0, 11: 3.2, 12: 1.6, 1: 0.7}.get(m, 0.08)
                doses = int(cohort * factor * season * rng.uniform(0.9, 1.1))
                rows.append((f"{y}-{m:02d}", d.name, d.code, name, program, doses))
    header = ("年月", "区县", "区划代码", "疫苗名称", "疫苗类别", "接种剂次")
    return _write_csv(path, header, rows)


_CHRONIC = (("无", 46), ("高血压", 24), ("2型糖尿病", 8), ("高血压；2型糖尿病", 9), ("冠心病", 3), ("慢性阻塞性肺疾病", 2),
            ("高血压；冠心病", 3), ("脑卒中", 2), ("严重精神障碍", 1), ("肺结核", 0.5), ("高血压；高脂血症", 1.5))


def _health_records(path: Path) -> int:
    rng = _rng("health_records_sample")
    centers = [o for o in _institutions() if o["kind"] in ("社区卫生服务中心", "卫生院")]
    rows = []
    for i in range(2000):
        center = rng.choice(centers)
        d = center["district"]
        male = rng.random() < 0.49
        age = rng.choices((rng.randint(1, 13), rng.randint(14, 39), rng.randint(40, 59), rng.randint(60, 94)),
                          (6, 22, 30, 42))[0]
        birth = dt.date(2025 - age, 1, 1) + dt.timedelta(days=rng.randint(0, 364))
        chronic = "无" if age < 35 else _weighted(rng, _CHRONIC)
        opened = dt.date(2010, 1, 1) + dt.timedelta(days=rng.randint(0, 5800))
        opened = max(opened, birth + dt.timedelta(days=30))
        rows.append((f"{d.code}{i + 1:07d}", _person(rng, male), "男" if male else "女", f"{birth:%Y-%m-%d}",
                     resident_id(rng, birth, male, local=rng.random() < 0.62), _mobile(rng), _home_address(rng, d),
                     rng.choice(("A型", "B型", "O型", "AB型", "O型", "A型", "不详")), chronic, center["name"],
                     f"{opened:%Y-%m-%d}"))
    header = ("档案编号", "姓名", "性别", "出生日期", "身份证号", "手机号", "现住址", "血型", "慢性病", "建档机构",
              "建档日期")
    return _write_csv(path, header, rows)


# ---------------------------------------------------------------------------------------------------------------
# agency: 杭州市数据资源管理局 (the public data platform collects these from the departments)
# ---------------------------------------------------------------------------------------------------------------

def _enterprise_registry(path: Path) -> int:
    rng = _rng("enterprise_registry")
    rows = []
    for e in _enterprises():
        founded = f"{e['founded']:%Y-%m-%d}"
        if rng.random() < 0.01:  # a batch keyed in by hand: another date format
            founded = f"{e['founded'].year}/{e['founded'].month}/{e['founded'].day}"
        capital = "" if rng.random() < 0.008 else e["capital"]
        d = e["district"]
        rows.append((e["code"], e["name"], e["type"], e["legal"], capital, founded, f"{e['approved']:%Y-%m-%d}",
                     e["status"], f"{_place(d)}市场监督管理局", d.code, d.name, f"{e['industry'][0]} {e['industry'][1]}",
                     e["address"]))
    header = ("统一社会信用代码", "企业名称", "企业类型", "法定代表人", "注册资本(万元)", "成立日期", "核准日期",
              "登记状态", "登记机关", "行政区划代码", "所属区县", "行业门类", "住所")
    return _write_csv(path, header, rows)


_SHOPS = (("小吃店", "H"), ("面馆", "H"), ("便利店", "F"), ("水果店", "F"), ("理发店", "O"), ("五金店", "F"),
          ("服装店", "F"), ("家电维修部", "O"), ("烟酒商行", "F"), ("快餐店", "H"), ("茶叶店", "F"), ("超市", "F"),
          ("汽车美容店", "O"), ("文具店", "F"), ("副食品店", "F"), ("烧烤店", "H"), ("早餐店", "H"), ("推拿店", "O"))


def _individual_businesses(path: Path) -> int:
    rng = _rng("individual_businesses")
    sections = {i[0]: i[1] for i in INDUSTRIES}
    rows = []
    for _ in range(3000):
        d = rng.choices(DISTRICTS, _district_weights())[0]
        owner = _person(rng)
        shop, section = rng.choice(_SHOPS)
        year = min(2025, int(2000 + 26 * rng.random() ** 0.7))
        registered = dt.date(year, 1, 1) + dt.timedelta(days=rng.randint(0, 364))
        label = rng.choice((owner, owner[0] + rng.choice("记氏"), "老" + owner[0], _brand(rng)))
        name = f"{_place(d)}{label}{shop}" + ("（个体工商户）" if year >= 2022 else "")
        status = _weighted(rng, (("存续", 70), ("在业", 8), ("注销", 20), ("吊销，未注销", 2)))
        form = "个人经营" if rng.random() < 0.9 else "家庭经营"
        rows.append((credit_code(rng, "92", _registry_region(rng, d, year), modern=True), name, owner, form,
                     f"{section} {sections[section]}", f"{registered:%Y-%m-%d}", status, d.code,
                     _street_address(rng, d, province=False)))
    header = ("统一社会信用代码", "名称", "经营者", "组成形式", "行业门类", "注册日期", "登记状态", "行政区划代码",
              "经营场所")
    return _write_csv(path, header, rows, encoding="gbk")  # exported from an older system, as such files are


_FOOD_ITEMS = {
    "食品销售经营者": ("预包装食品（含冷藏冷冻食品）销售", "散装食品（不含冷藏冷冻食品）销售", "保健食品销售",
                 "特殊医学用途配方食品销售", "婴幼儿配方乳粉销售"),
    "餐饮服务经营者": ("热食类食品制售", "冷食类食品制售", "生食类食品制售", "糕点类食品（含裱花蛋糕）制售",
                 "自制饮品制售"),
    "单位食堂": ("热食类食品制售", "冷食类食品制售"),
}


def _food_licenses(path: Path) -> int:
    rng = _rng("food_licenses")
    firms = [e for e in _enterprises() if e["industry"][0] in ("F", "H", "C", "L") and e["status"] != "注销"]
    rows = []
    for i in range(2000):
        e = rng.choice(firms)
        d = e["district"]
        kind = {"F": "食品销售经营者", "H": "餐饮服务经营者"}.get(e["industry"][0], "单位食堂")
        digit = {"食品销售经营者": "1", "餐饮服务经营者": "2", "单位食堂": "3"}[kind]
        items = rng.sample(_FOOD_ITEMS[kind], k=min(len(_FOOD_ITEMS[kind]), rng.randint(1, 3)))
        issued = dt.date(2020, 1, 1) + dt.timedelta(days=rng.randint(0, 2190))
        expires = dt.date(issued.year + 5, issued.month, min(issued.day, 28)) - dt.timedelta(days=1)
        rows.append((f"JY{digit}{d.code}{i + 1 + rng.randint(0, 3) * 10000:06d}{rng.randint(0, 9)}", e["name"],
                     e["code"], e["legal"], e["address"], kind, "；".join(items), f"{issued:%Y-%m-%d}",
                     f"{expires:%Y-%m-%d}", f"{_place(d)}市场监督管理局"))
    header = ("许可证编号", "经营者名称", "统一社会信用代码", "法定代表人（负责人）", "经营场所", "主体业态", "经营项目",
              "发证日期", "有效期至", "发证机关")
    return _write_csv(path, header, rows)


_AIR_STATIONS = (  # 站点, 区县, 国控/省控
    ("西溪", "330106", "国控"), ("千岛湖", "330127", "国控"), ("下沙", "330114", "国控"), ("卧龙桥", "330106", "国控"),
    ("浙江农大", "330102", "国控"), ("朝晖五区", "330105", "国控"), ("和睦小学", "330105", "国控"),
    ("临平镇", "330113", "国控"), ("城厢镇", "330109", "国控"), ("云栖", "330106", "国控"), ("滨江", "330108", "国控"),
    ("富阳市政府", "330111", "省控"), ("临安青山湖", "330112", "省控"), ("桐庐城南", "330122", "省控"),
    ("建德新安江", "330182", "省控"), ("余杭良渚", "330110", "省控"), ("萧山瓜沥", "330109", "省控"),
)
_WATER_SECTIONS = (  # 断面, 水体, 区县, 目标类别 (2 or 3), 湖库
    ("闸口", "钱塘江", "330102", 3, False), ("七堡", "钱塘江", "330102", 3, False), ("闻家堰", "钱塘江", "330109", 2, False),
    ("珊瑚沙", "钱塘江", "330106", 2, False), ("东洲", "富春江", "330111", 2, False), ("窄溪", "富春江", "330122", 2, False),
    ("富春江大坝", "富春江", "330122", 2, False), ("洋溪", "新安江", "330182", 2, False), ("街口", "新安江", "330127", 2, False),
    ("小金山", "千岛湖", "330127", 2, True), ("三潭岛", "千岛湖", "330127", 2, True), ("大坝前", "千岛湖", "330127", 2, True),
    ("分水江口", "分水江", "330122", 2, False), ("瓶窑", "东苕溪", "330110", 2, False), ("奉口", "东苕溪", "330110", 3, False),
    ("塘栖", "京杭运河", "330113", 3, False), ("拱宸桥", "京杭运河", "330105", 3, False),
    ("三堡", "京杭运河", "330102", 3, False), ("临浦", "浦阳江", "330109", 3, False), ("义桥", "浦阳江", "330109", 3, False),
    ("湖心", "西湖", "330106", 3, True), ("小南湖", "西湖", "330106", 3, True), ("深潭口", "西溪湿地", "330106", 3, False),
    ("上塘河口", "上塘河", "330105", 3, False), ("余杭塘河", "余杭塘河", "330110", 3, False),
    ("青山水库", "青山水库", "330112", 2, True), ("昌化", "昌化溪", "330112", 2, False), ("於潜", "天目溪", "330112", 2, False),
    ("新登", "松溪", "330111", 3, False), ("寿昌", "寿昌江", "330182", 2, False), ("梅城", "兰江", "330182", 2, False),
    ("湘湖", "湘湖", "330109", 3, True), ("义蓬", "钱塘江", "330114", 3, False), ("新湾", "钱塘江", "330114", 3, False),
    ("南苕溪口", "南苕溪", "330110", 2, False), ("中河", "中河", "330102", 3, False), ("东河", "东河", "330102", 3, False),
    ("白马湖", "白马湖", "330108", 3, True), ("北塘河", "北塘河", "330108", 3, False), ("横村", "分水江", "330122", 2, False),
)
_NOISE_POINTS = ("城市道路交通噪声", "区域环境噪声", "功能区噪声")


def _monitoring_stations(path: Path) -> int:
    rng = _rng("monitoring_stations")
    rows = []
    for i, (name, code, level) in enumerate(_AIR_STATIONS):
        d = _BY_CODE[code]
        rows.append((f"A{code}{i + 1:03d}", name, f"环境空气质量{level}监测点", d.name, d.code, *_point(rng, d),
                     rng.randint(2000, 2016)))
    for i, (name, water, code, _target, lake) in enumerate(_WATER_SECTIONS):
        d = _BY_CODE[code]
        level = "国控" if i % 3 == 0 else "省控" if i % 3 == 1 else "市控"
        rows.append((f"W{code}{i + 1:03d}", f"{water}{name}", f"地表水{level}{'点位' if lake else '断面'}", d.name,
                     d.code, *_point(rng, d), rng.randint(1995, 2018)))
    for i in range(24):
        d = DISTRICTS[i % len(DISTRICTS)]
        rows.append((f"N{d.code}{i + 1:03d}", f"{d.name}{rng.choice(d.roads)}", _NOISE_POINTS[i % 3] + "监测点", d.name,
                     d.code, *_point(rng, d), rng.randint(2010, 2022)))
    header = ("站点编码", "站点名称", "站点类型", "区县", "区划代码", "经度", "纬度", "建站年份")
    return _write_csv(path, header, rows)


# HJ 633-2012: IAQI breakpoints of daily concentrations
_IAQI = (0, 50, 100, 150, 200, 300, 400, 500)
_BREAKS = {"SO2": (0, 50, 150, 475, 800, 1600, 2100, 2620), "NO2": (0, 40, 80, 180, 280, 565, 750, 940),
           "PM10": (0, 50, 150, 250, 350, 420, 500, 600), "CO": (0, 2, 4, 14, 24, 36, 48, 60),
           "O3_8h": (0, 100, 160, 215, 265, 800, 800, 800), "PM2.5": (0, 35, 75, 115, 150, 250, 350, 500)}
_GRADES = ((50, "优"), (100, "良"), (150, "轻度污染"), (200, "中度污染"), (300, "重度污染"), (10**9, "严重污染"))


def _iaqi(pollutant: str, c: float) -> int:
    bp = _BREAKS[pollutant]
    for i in range(1, len(bp)):
        if c <= bp[i] and bp[i] > bp[i - 1]:
            return math.ceil((_IAQI[i] - _IAQI[i - 1]) / (bp[i] - bp[i - 1]) * (c - bp[i - 1]) + _IAQI[i - 1])
    return 500


def _air_quality(path: Path) -> int:
    rng = _rng("air_quality_daily")
    stations = [s for s in _AIR_STATIONS if s[2] == "国控"]
    rows = []
    for day in _days(dt.date(2025, 1, 1), dt.date(2025, 12, 31)):
        month = day.month + day.day / 31
        weather = rng.lognormvariate(0, 0.35)  # the whole city shares the day's weather
        for name, code, _level in stations:
            clean = 0.75 if code == "330127" else 1.0  # 千岛湖
            pm25 = max(4, 30 * _wave(month, 1, 0.55) * weather * clean * rng.uniform(0.85, 1.15))
            pm10 = pm25 * rng.uniform(1.45, 1.8)
            no2 = max(5, 32 * _wave(month, 12, 0.3) * (0.6 if clean < 1 else 1) * rng.uniform(0.8, 1.2))
            o3 = max(20, 105 * _wave(month, 5.5, 0.4) / weather ** 0.3 * rng.uniform(0.85, 1.15))
            so2 = rng.uniform(4, 9)
            co = rng.uniform(0.5, 0.9) * _wave(month, 1, 0.2)
            values = {"PM2.5": round(pm25), "PM10": round(pm10), "NO2": round(no2), "O3_8h": round(o3),
                      "SO2": round(so2), "CO": round(co, 1)}
            iaqi = {p: _iaqi(p, v) for p, v in values.items()}
            aqi = max(iaqi.values())
            primary = "—" if aqi <= 50 else "、".join(p for p, v in iaqi.items() if v == aqi)
            grade = next(g for top, g in _GRADES if aqi <= top)
            row = [f"{day:%Y-%m-%d}", name, _BY_CODE[code].name, aqi, values["PM2.5"], values["PM10"], values["NO2"],
                   values["O3_8h"], values["SO2"], values["CO"], primary, grade]
            if rng.random() < 0.004:  # an instrument out for calibration
                row[3:12] = ["", "", "", "", "", "", "", "", ""]
            rows.append(row)
    header = ("日期", "监测点", "区县", "AQI", "PM2.5(μg/m³)", "PM10(μg/m³)", "NO2(μg/m³)", "O3_8h(μg/m³)",
              "SO2(μg/m³)", "CO(mg/m³)", "首要污染物", "质量等级")
    return _write_csv(path, header, rows)


_WATER_LIMITS = {  # GB 3838-2002 class limits for classes Ⅰ-Ⅴ
    "do": (7.5, 6, 5, 3, 2), "codmn": (2, 4, 6, 10, 15), "nh3n": (0.15, 0.5, 1.0, 1.5, 2.0),
    "tp": (0.02, 0.1, 0.2, 0.3, 0.4), "tp_lake": (0.01, 0.025, 0.05, 0.1, 0.2),
}
_CLASSES = ("Ⅰ类", "Ⅱ类", "Ⅲ类", "Ⅳ类", "Ⅴ类", "劣Ⅴ类")


def _water_class(do: float, codmn: float, nh3n: float, tp: float, lake: bool) -> int:
    worst = next((i for i, limit in enumerate(_WATER_LIMITS["do"]) if do >= limit), 5)
    for key, value in (("codmn", codmn), ("nh3n", nh3n), ("tp_lake" if lake else "tp", tp)):
        worst = max(worst, next((i for i, limit in enumerate(_WATER_LIMITS[key]) if value <= limit), 5))
    return worst


def _water_quality(path: Path) -> int:
    rng = _rng("water_quality_monthly")
    rows = []
    for y, m in _months((2024, 1), (2025, 12)):
        for name, water, code, target, lake in _WATER_SECTIONS:
            dirty = 1.0 if target == 2 else 1.9
            temp = 18 + 11 * math.cos(2 * math.pi * (m - 7.5) / 12) + rng.uniform(-1.5, 1.5)
            do = max(2.5, 11.5 - 0.2 * temp - (0.8 if target == 3 else 0) + rng.uniform(-0.8, 0.8))
            codmn = max(0.8, 1.9 * dirty * rng.uniform(0.75, 1.3))
            nh3n = max(0.02, 0.12 * dirty ** 1.6 * rng.lognormvariate(0, 0.45))
            tp = max(0.005, (0.018 if lake else 0.06) * dirty * rng.lognormvariate(0, 0.35))
            klass = _water_class(do, codmn, nh3n, tp, lake)
            rows.append((f"{y}-{m:02d}", f"{water}{name}", water, _BY_CODE[code].name, _CLASSES[target - 1],
                         f"{temp:.1f}", f"{rng.uniform(7.1, 8.2):.2f}", f"{do:.2f}", f"{codmn:.2f}", f"{nh3n:.3f}",
                         f"{tp:.3f}", _CLASSES[klass], "是" if klass <= target - 1 else "否"))
    header = ("年月", "断面名称", "所在水体", "区县", "目标水质", "水温(℃)", "pH", "溶解氧(mg/L)",
              "高锰酸盐指数(mg/L)", "氨氮(mg/L)", "总磷(mg/L)", "水质类别", "是否达标")
    return _write_csv(path, header, rows)


_URBAN_RATE = {"330102": 100, "330105": 100, "330106": 95.5, "330108": 100, "330109": 77.5, "330110": 84.0,
               "330113": 80.5, "330114": 82.0, "330111": 66.0, "330112": 62.5, "330122": 60.0, "330127": 48.0,
               "330182": 56.0}
_HUKOU = {"330102": 0.78, "330105": 0.80, "330106": 0.72, "330108": 0.55, "330109": 0.70, "330110": 0.52,
          "330113": 0.66, "330114": 0.50, "330111": 0.88, "330112": 0.86, "330122": 0.93, "330127": 1.35,
          "330182": 1.15}


def _population_table(path: Path) -> int:
    rng = _rng("population_yearly")
    rows = []
    for year in range(2016, 2026):
        for d in DISTRICTS:
            pop = _population(d.code, year) * rng.uniform(0.995, 1.005)
            hukou = pop * _HUKOU[d.code] * (1 + 0.004 * (2025 - year)) * rng.uniform(0.99, 1.01)
            rate = min(100.0, _URBAN_RATE[d.code] - 0.45 * (2025 - year) + rng.uniform(-0.2, 0.2))
            rows.append((year, d.name, d.code, f"{pop:.2f}", f"{hukou:.2f}", f"{pop * rate / 100:.2f}", f"{rate:.1f}"))
    header = ("年份", "区县", "区划代码", "常住人口", "户籍人口", "城镇人口", "城镇化率(%)")
    return _write_csv(path, header, rows, preamble=("杭州市统计局", "单位：万人"))


_GDP_2023 = {"330102": 2750, "330105": 1580, "330106": 1950, "330108": 2650, "330109": 2350, "330110": 3150,
             "330113": 1080, "330114": 1200, "330111": 1030, "330112": 700, "330122": 460, "330127": 300,
             "330182": 470}
_STRUCTURE = {  # shares of the primary and secondary industries
    "330102": (0.001, 0.10), "330105": (0.001, 0.15), "330106": (0.004, 0.17), "330108": (0.0, 0.45),
    "330109": (0.017, 0.42), "330110": (0.010, 0.22), "330113": (0.015, 0.45), "330114": (0.012, 0.60),
    "330111": (0.045, 0.45), "330112": (0.060, 0.45), "330122": (0.060, 0.42), "330127": (0.130, 0.30),
    "330182": (0.090, 0.45)}
_REAL_GROWTH = {2016: 9.5, 2017: 8.0, 2018: 6.7, 2019: 6.8, 2020: 3.9, 2021: 8.5, 2022: 1.5, 2023: 5.6, 2024: 4.7,
                2025: 5.2}


def _gdp(path: Path) -> int:
    rng = _rng("gdp_yearly")
    rows = []
    for d in DISTRICTS:
        level = {2023: float(_GDP_2023[d.code])}
        growth = {}
        for year in range(2016, 2026):
            growth[year] = _REAL_GROWTH[year] + rng.uniform(-1.6, 1.6)
        for year in range(2022, 2015, -1):  # back from 2023: undo real growth plus ~2% prices
            level[year] = level[year + 1] / (1 + (growth[year + 1] + 2.0) / 100)
        for year in (2024, 2025):
            level[year] = level[year - 1] * (1 + (growth[year] + 1.0) / 100)
        for year in range(2016, 2026):
            total = level[year]
            p1, p2 = _STRUCTURE[d.code]
            p2 *= 1 + 0.006 * (2020 - year)  # the secondary share shrinks slowly
            per_head = total * 1e8 / (_population(d.code, year) * 1e4)
            rows.append((year, d.name, d.code, f"{total:.2f}", f"{total * p1:.2f}", f"{total * p2:.2f}",
                         f"{total * (1 - p1 - p2):.2f}", f"{growth[year]:.1f}", round(per_head)))
    rows.sort(key=lambda r: (r[0], r[2]))
    header = ("年份", "区县", "区划代码", "地区生产总值(亿元)", "第一产业增加值(亿元)", "第二产业增加值(亿元)",
              "第三产业增加值(亿元)", "增速(%)", "人均地区生产总值(元)")
    return _write_csv(path, header, rows)


def _housing_fund(path: Path) -> int:
    rng = _rng("housing_fund_monthly")
    rows, balance = [], 1850.0
    for i, (y, m) in enumerate(_months((2019, 1), (2025, 12))):
        units = int(75000 * 1.011 ** i * rng.uniform(0.995, 1.005))
        workers = 330 * 1.0065 ** i * rng.uniform(0.997, 1.003)
        paid = workers * 0.19 * (1.25 if m == 7 else 1) * rng.uniform(0.97, 1.03)  # July: the new base takes effect
        withdrawn = paid * rng.uniform(0.62, 0.82) * (1.3 if m in (3, 4) else 1)
        loans = int(rng.uniform(3500, 7500) * (0.5 if (y, m) in ((2020, 2), (2020, 3)) else 1))
        amount = loans * rng.uniform(0.7, 0.95) / 100
        balance += paid - withdrawn
        rows.append((f"{y}-{m:02d}", units, f"{workers:.2f}", f"{paid:.2f}", f"{withdrawn:.2f}", loans,
                     f"{amount:.2f}", f"{balance:.2f}"))
    header = ("年月", "缴存单位数(个)", "实缴职工人数(万人)", "当月缴存额(亿元)", "当月提取额(亿元)",
              "个人住房贷款发放笔数", "个人住房贷款发放额(亿元)", "缴存余额(亿元)")
    return _write_csv(path, header, rows)


def _medical_insurance(path: Path) -> int:
    rng = _rng("medical_insurance_monthly")
    schemes = (("职工基本医疗保险", 0.62, (0.70, 0.82)), ("城乡居民基本医疗保险", 0.30, (0.50, 0.63)))
    rows = []
    for y, m in _months((2024, 1), (2025, 12)):
        for d in DISTRICTS:
            pop = _population(d.code, y) * 1e4
            for scheme, share, (fund_out, fund_in) in schemes:
                for kind, per_head, cost in (("门诊", 0.85, 210), ("住院", 0.0135, 14500)):
                    count = int(pop * share * per_head * _wave(m, 12.5, 0.1) * rng.uniform(0.95, 1.05))
                    total = count * cost * (0.85 if scheme.startswith("城乡") else 1) * rng.uniform(0.92, 1.08) / 1e4
                    fund = total * (fund_out if kind == "门诊" else fund_in) * rng.uniform(0.98, 1.02)
                    rows.append((f"{y}-{m:02d}", d.name, d.code, scheme, kind, count, f"{total:.2f}", f"{fund:.2f}",
                                 f"{total - fund:.2f}"))
    header = ("年月", "区县", "区划代码", "险种", "结算类别", "结算人次", "医疗总费用(万元)", "统筹基金支付(万元)",
              "个人负担(万元)")
    return _write_csv(path, header, rows)


_WEATHER_STATIONS = (("58457", "杭州", "330106", 0.0), ("58459", "萧山", "330109", 0.2), ("58543", "淳安", "330127", 0.6))


def _weather(path: Path) -> int:
    rng = _rng("weather_daily")
    rows = []
    for day in _days(dt.date(2024, 1, 1), dt.date(2025, 12, 31)):
        month = day.month + day.day / 31
        mean_city = 17.5 + 12 * math.cos(2 * math.pi * (month - 7.6) / 12) + rng.gauss(0, 2.2)
        wet = {6: 0.55, 7: 0.4, 5: 0.45, 3: 0.45, 4: 0.45, 8: 0.35, 9: 0.35}.get(day.month, 0.3)  # 梅雨 in June
        rain_city = rng.random() < wet
        for sid, name, code, cooler in _WEATHER_STATIONS:
            mean = mean_city - cooler + rng.gauss(0, 0.5)
            span = rng.uniform(4, 10) * (0.6 if rain_city else 1)
            rain = round(rng.expovariate(1 / (14 if day.month in (6, 7) else 7)), 1) if rain_city and \
                rng.random() < 0.9 else 0.0
            humidity = min(99, rng.uniform(78, 95) if rain else rng.uniform(50, 78))
            sunshine = 0.0 if rain > 10 else round(rng.uniform(0, 4) if rain else rng.uniform(3, 11), 1)
            rows.append((f"{day:%Y-%m-%d}", sid, name, _BY_CODE[code].name, f"{mean:.1f}", f"{mean + span / 2:.1f}",
                         f"{mean - span / 2:.1f}", f"{rain:.1f}", round(humidity), f"{rng.uniform(1.0, 3.6):.1f}",
                         f"{sunshine:.1f}"))
    header = ("日期", "站号", "站名", "区县", "平均气温(℃)", "最高气温(℃)", "最低气温(℃)", "降水量(mm)",
              "平均相对湿度(%)", "平均风速(m/s)", "日照时数(h)")
    return _write_csv(path, header, rows)


_HOUSE_PRICE = {"330102": 62000, "330105": 52000, "330106": 56000, "330108": 60000, "330109": 34000, "330110": 39000,
                "330113": 27000, "330114": 26000, "330111": 21000, "330112": 18000, "330122": 14000, "330127": 12000,
                "330182": 11000}


def _real_estate(path: Path) -> int:
    rng = _rng("real_estate_monthly")
    rows = []
    for i, (y, m) in enumerate(_months((2023, 1), (2025, 12))):
        market = 0.7 if m == 2 else 1.25 if m in (6, 12) else 1.0
        market *= 1.35 if (y, m) >= (2024, 10) and (y, m) <= (2024, 12) else 1  # after the autumn 2024 easing
        for d in DISTRICTS:
            new = int(_population(d.code, y) * 6.5 * market * rng.uniform(0.6, 1.4))
            area = new * rng.uniform(95, 125) / 1e4
            price = int(round(_HOUSE_PRICE[d.code] * (1 - 0.003 * i) * rng.uniform(0.93, 1.07), -1))
            second = int(_population(d.code, y) * (9 if d.code in URBAN else 5) * market * rng.uniform(0.75, 1.25))
            rows.append((f"{y}-{m:02d}", d.name, d.code, new, f"{area:.2f}", price, second))
    header = ("年月", "区县", "区划代码", "新建商品住宅成交套数", "新建商品住宅成交面积(万平方米)",
              "新建商品住宅成交均价(元/平方米)", "二手住宅成交套数")
    return _write_csv(path, header, rows)


_UNIVERSITIES = (  # 学校名称, 主管部门, 办学层次, 办学性质, 区县, 规模 (千人)
    ("浙江大学", "教育部", "本科", "公办", "330106", 66), ("浙江工业大学", "浙江省", "本科", "公办", "330105", 38),
    ("杭州电子科技大学", "浙江省", "本科", "公办", "330114", 33), ("中国美术学院", "浙江省", "本科", "公办", "330102", 11),
    ("浙江理工大学", "浙江省", "本科", "公办", "330114", 30), ("杭州师范大学", "浙江省", "本科", "公办", "330110", 27),
    ("浙江工商大学", "浙江省", "本科", "公办", "330114", 33), ("中国计量大学", "浙江省", "本科", "公办", "330114", 22),
    ("浙江财经大学", "浙江省", "本科", "公办", "330114", 22), ("浙江中医药大学", "浙江省", "本科", "公办", "330108", 20),
    ("浙江传媒学院", "浙江省", "本科", "公办", "330114", 14), ("浙江科技大学", "浙江省", "本科", "公办", "330106", 19),
    ("浙江外国语学院", "浙江省", "本科", "公办", "330106", 10), ("浙江警察学院", "浙江省", "本科", "公办", "330108", 7),
    ("浙大城市学院", "杭州市", "本科", "公办", "330105", 18), ("西湖大学", "浙江省", "本科", "民办", "330106", 3),
    ("浙江农林大学", "浙江省", "本科", "公办", "330112", 26), ("浙江水利水电学院", "浙江省", "本科", "公办", "330114", 13),
    ("杭州医学院", "浙江省", "本科", "公办", "330106", 9), ("浙江音乐学院", "浙江省", "本科", "公办", "330106", 4),
    ("浙江树人学院", "浙江省", "本科", "民办", "330105", 17), ("杭州城市学院", "杭州市", "本科", "民办", "330109", 6),
    ("浙江工业大学之江学院", "浙江省", "本科", "民办", "330109", 9),
    ("浙江外国语学院西溪校区", "浙江省", "本科", "公办", "330106", 2),
    ("浙江金融职业学院", "浙江省", "专科", "公办", "330114", 13), ("浙江经济职业技术学院", "浙江省", "专科", "公办", "330114", 13),
    ("杭州职业技术学院", "杭州市", "专科", "公办", "330114", 13), ("浙江交通职业技术学院", "浙江省", "专科", "公办", "330109", 12),
    ("浙江机电职业技术大学", "浙江省", "本科", "公办", "330108", 13), ("浙江建设职业技术学院", "浙江省", "专科", "公办", "330109", 11),
    ("浙江旅游职业学院", "浙江省", "专科", "公办", "330109", 10), ("浙江商业职业技术学院", "浙江省", "专科", "公办", "330108", 11),
    ("浙江艺术职业学院", "浙江省", "专科", "公办", "330108", 6), ("浙江经贸职业技术学院", "浙江省", "专科", "公办", "330114", 10),
    ("浙江育英职业技术学院", "浙江省", "专科", "民办", "330114", 8), ("浙江警官职业学院", "浙江省", "专科", "公办", "330114", 6),
    ("浙江体育职业技术学院", "浙江省", "专科", "公办", "330111", 3), ("浙江长征职业技术学院", "浙江省", "专科", "民办", "330114", 9),
    ("杭州科技职业技术学院", "杭州市", "专科", "公办", "330111", 12), ("浙江同济科技职业学院", "浙江省", "专科", "公办", "330109", 10),
    ("浙江特殊教育职业学院", "浙江省", "专科", "公办", "330108", 2), ("杭州万向职业技术学院", "浙江省", "专科", "民办", "330110", 6),
    ("浙江电力职业技术学院", "浙江省", "专科", "公办", "330110", 4), ("浙江横店影视职业学院", "浙江省", "专科", "民办", "330114", 4),
    ("浙江省林业职业技术学院", "浙江省", "专科", "公办", "330112", 5), ("杭州医学院临安校区", "浙江省", "本科", "公办", "330112", 3),
    ("杭州师范大学钱江学院", "浙江省", "本科", "民办", "330114", 7), ("浙江理工大学科技与艺术学院", "浙江省", "本科", "民办", "330109", 7),
    ("浙江财经大学东方学院", "浙江省", "本科", "民办", "330109", 8), ("中国计量大学现代科技学院", "浙江省", "本科", "民办", "330109", 6),
    ("浙江农林大学暨阳学院", "浙江省", "本科", "民办", "330112", 5), ("浙江广厦建设职业技术大学", "浙江省", "本科", "民办", "330113", 10),
)


def _universities(path: Path) -> int:
    rng = _rng("universities")
    rows = []
    for name, authority, level, nature, code, size in _UNIVERSITIES:
        students = int(size * 1000 * rng.uniform(0.93, 1.07))
        teachers = int(students / rng.uniform(15, 19))
        d = _BY_CODE[code]
        rows.append((name, authority, level, nature, "杭州市", d.name, _street_address(rng, d), students, teachers))
    header = ("学校名称", "主管部门", "办学层次", "办学性质", "所在城市", "区县", "地址", "在校生数(人)", "专任教师数(人)")
    return _write_xlsx(path, "高校名录", header, rows)


_CN_NUM = "一二三四五六七八九"


def _chinese_number(n: int) -> str:
    tens, ones = divmod(n, 10)
    return (("" if tens == 1 else _CN_NUM[tens - 1]) + "十" if tens else "") + (_CN_NUM[ones - 1] if ones else "")


def _schools(path: Path) -> int:
    rng = _rng("schools")
    names: set[str] = set()
    rows = []
    numbered = list(range(1, 50))
    rng.shuffle(numbered)
    while len(rows) < 700:
        d = rng.choices(DISTRICTS, _district_weights())[0]
        street = rng.choice(d.streets)
        r = rng.random()
        if street.endswith(("镇", "乡")) and r < 0.5:
            stage = rng.choice(("小学", "初中"))
            name = f"{_place(d)}{street}{'中心小学' if stage == '小学' else '初级中学'}"
        elif r < 0.8:
            stage = "小学" if r < 0.5 else "初中"
            stem = rng.choice((rng.choice(d.roads).removesuffix("路").removesuffix("街").removesuffix("大道"),
                               street.removesuffix("街道").removesuffix("镇").removesuffix("乡"), _brand(rng)))
            name = f"{_place(d)}{stem}{rng.choice(('', '', '实验'))}{stage.replace('初中', '中学')}"
        elif r < 0.87:
            stage = "九年一贯制"
            name = f"{_place(d)}{_brand(rng)}实验学校"
        elif numbered and d.code not in COUNTIES:
            stage = rng.choice(("高中", "完全中学"))
            name = f"杭州第{_chinese_number(numbered.pop())}中学"
        else:
            stage = "高中"
            name = f"{_place(d)}{street.removesuffix('街道').removesuffix('镇')}高级中学"
        if name in names:
            continue
        names.add(name)
        nature = "民办" if rng.random() < 0.1 else "公办"
        classes = {"小学": rng.randint(12, 48), "初中": rng.randint(9, 36), "九年一贯制": rng.randint(18, 54),
                   "高中": rng.randint(18, 45), "完全中学": rng.randint(24, 60)}[stage]
        students = classes * rng.randint(38, 45)
        rows.append((name, stage, nature, d.name, d.code, street, _street_address(rng, d, province=False), classes,
                     students, int(students / rng.uniform(12, 16)), *_point(rng, d)))
    header = ("学校名称", "学段", "办学性质", "区县", "区划代码", "街道（镇）", "地址", "班级数", "在校生数",
              "专任教师数", "经度", "纬度")
    return _write_csv(path, header, rows)


# ---------------------------------------------------------------------------------------------------------------
# operator: 杭州城市大数据运营有限公司
# ---------------------------------------------------------------------------------------------------------------

@functools.cache
def _bus_lines() -> tuple[dict, ...]:
    rng = _rng("bus_lines")
    numbers = rng.sample(range(1, 999), 150)
    out = []
    for n in numbers:
        d = rng.choices(DISTRICTS, [d.pop2020 * (2.5 if d.code in URBAN else 1) for d in DISTRICTS])[0]
        kind = _weighted(rng, (("常规公交", 80), ("快速公交", 3), ("微公交", 8), ("夜班公交", 4), ("定制公交", 5)))
        name = {"快速公交": f"B{n % 12 + 1}路", "夜班公交": f"夜{n % 40 + 1}路", "定制公交": f"定制{n % 60 + 1}号线"}.get(
            kind, f"{n}路" if kind == "常规公交" else f"{_place(d)[-3:-1]}微{n % 30 + 1}路")
        company = {"330109": "杭州萧山公共交通有限公司", "330110": "杭州余杭公共交通集团有限公司",
                   "330113": "杭州余杭公共交通集团有限公司", "330111": "杭州富阳公共交通有限公司",
                   "330112": "杭州临安公共交通有限公司", "330122": "桐庐县公共交通有限公司",
                   "330127": "淳安县公共交通有限公司", "330182": "建德市公共交通有限公司"}.get(d.code, "杭州公交集团")
        out.append({"name": name, "kind": kind, "district": d, "company": company,
                    "length": round(rng.uniform(6, 32), 1), "buses": rng.randint(4, 36)})
    seen: set[str] = set()
    unique = []
    for line in out:  # a few generated names collide (B3路 twice): keep the first
        if line["name"] not in seen:
            seen.add(line["name"])
            unique.append(line)
    return tuple(unique)


def _bus_stops(path: Path) -> int:
    rng = _rng("bus_stops")
    lines = _bus_lines()
    by_district: dict[str, list[str]] = {}
    for line in lines:
        by_district.setdefault(line["district"].code, []).append(line["name"])
    landmarks = ("地铁站", "公园", "医院", "小学", "社区", "农贸市场", "广场", "公交中心站", "村", "工业园")
    rows = []
    for i in range(3000):
        d = rng.choices(DISTRICTS, [d.pop2020 * (2 if d.code in URBAN else 1) for d in DISTRICTS])[0]
        a, b = rng.sample(d.roads, 2)
        if rng.random() < 0.6:
            name = f"{a}{b.removesuffix('路').removesuffix('街').removesuffix('大道')}路口"
        else:
            name = rng.choice((a, d.streets[0].removesuffix("街道"))) + rng.choice(landmarks)
        pool = by_district.get(d.code) or [line["name"] for line in lines]
        served = rng.sample(pool, k=min(len(pool), rng.choice((1, 1, 2, 2, 3, 4, 5))))
        rows.append((f"{d.code}{i + 1:05d}", name, d.name, *_point(rng, d), ";".join(served)))
    header = ("站点ID", "站点名称", "区县", "经度", "纬度", "所属线路")
    return _write_csv(path, header, rows)


def _bus_ridership(path: Path) -> int:
    rng = _rng("bus_ridership_monthly")
    rows = []
    for y, m in _months((2024, 1), (2025, 12)):
        days = calendar.monthrange(y, m)[1]
        for line in _bus_lines():
            per_bus = {"常规公交": 420, "快速公交": 900, "微公交": 160, "夜班公交": 90, "定制公交": 60}[line["kind"]]
            season = 0.82 if m == 2 else 0.9 if m in (7, 8) else 1.0
            daily = int(line["buses"] * per_bus * season * rng.uniform(0.9, 1.1))
            trips = int(line["buses"] * days * rng.uniform(7, 10))
            rows.append((f"{y}-{m:02d}", line["name"], line["kind"], line["company"], line["district"].name,
                         f"{line['length']:.1f}", line["buses"], trips, daily * days, daily))
    header = ("年月", "线路名称", "线路类型", "运营企业", "主要区县", "线路长度(km)", "配车数(辆)", "月运营班次",
              "月客运量(人次)", "日均客运量(人次)")
    return _write_csv(path, header, rows)


def _bike_stations(path: Path) -> int:
    rng = _rng("bike_stations")
    served = [d for d in DISTRICTS if d.code not in ("330127", "330182")]
    rows = []
    for i in range(1500):
        d = rng.choices(served, [d.pop2020 * (3 if d.code in URBAN else 1) for d in served])[0]
        a, b = rng.sample(d.roads, 2)
        town = rng.choice(d.streets).removesuffix("街道").removesuffix("镇")
        name = rng.choice((f"{a}{b}口", f"{a}{rng.choice(('公交站', '地铁站', '小区', '菜场', '学校'))}",
                           f"{town}{rng.choice(('文化站', '便民服务中心', '公园'))}"))
        docks = rng.choice((16, 20, 20, 24, 24, 30, 36, 40))
        rows.append((f"{i + 1:05d}", name, d.name, *_point(rng, d), docks,
                     "24小时" if rng.random() < 0.7 else "6:00-21:00",
                     _weighted(rng, (("正常", 94), ("暂停服务", 4), ("维护中", 2))), rng.randint(2008, 2024)))
    header = ("站点编号", "站点名称", "区县", "经度", "纬度", "锁止器数量", "服务时间", "运营状态", "建成年份")
    return _write_csv(path, header, rows)


_TRAFFIC_AREAS = (("主城区", 1.0), ("上城区", 1.05), ("拱墅区", 1.0), ("西湖区", 1.1), ("滨江区", 0.95),
                  ("萧山区", 0.8), ("余杭区", 0.9), ("临平区", 0.7), ("钱塘区", 0.65), ("快速路网", 1.15))
_TRAFFIC_GRADES = ((2, "畅通"), (4, "基本畅通"), (6, "轻度拥堵"), (8, "中度拥堵"), (10.01, "严重拥堵"))


def _traffic(path: Path) -> int:
    rng = _rng("traffic_congestion_hourly")
    rows = []
    for day in _days(dt.date(2025, 12, 1), dt.date(2025, 12, 14)):
        weekend = day.weekday() >= 5
        rain = 1.25 if rng.random() < 0.25 else 1.0
        for hour in range(24):
            if weekend:
                shape = 1.2 + 2.2 * math.exp(-((hour - 15) / 4) ** 2)
            else:
                shape = 1.0 + 4.2 * math.exp(-((hour - 8) / 1.1) ** 2) + 4.6 * math.exp(-((hour - 17.7) / 1.4) ** 2) \
                    + 1.6 * math.exp(-((hour - 12.5) / 3) ** 2)
            if hour < 6:
                shape = 0.4 + 0.1 * hour
            for area, weight in _TRAFFIC_AREAS:
                index = min(10.0, shape * weight * rain * rng.uniform(0.9, 1.1))
                speed = max(12.0, (62 if area == "快速路网" else 42) - 3.6 * index + rng.uniform(-2, 2))
                grade = next(g for top, g in _TRAFFIC_GRADES if index < top)
                rows.append((f"{day:%Y-%m-%d} {hour:02d}:00:00", area, f"{index:.2f}", f"{speed:.1f}", grade))
    header = ("时间", "区域", "交通指数", "平均车速(km/h)", "拥堵等级")
    return _write_csv(path, header, rows)


def _parking(path: Path) -> int:
    rng = _rng("parking_realtime")
    rows = []
    kinds = (("路外公共停车场", 40), ("配建停车场", 45), ("道路停车泊位", 15))
    for i in range(450):
        d = rng.choices(DISTRICTS, [d.pop2020 * (3 if d.code in URBAN else 1) for d in DISTRICTS])[0]
        kind = _weighted(rng, kinds)
        road = rng.choice(d.roads)
        if kind == "道路停车泊位":
            name, spaces = f"{road}（{rng.choice(d.roads)}—{rng.choice(d.roads)}）路内泊位", rng.randint(12, 80)
        elif kind == "配建停车场":
            name = f"{_brand(rng)}{rng.choice(('中心', '广场', '大厦', '天地', '印象城', '万象汇'))}地下停车库"
            spaces = rng.randint(150, 2200)
        else:
            name, spaces = f"{road}{rng.choice(('公共停车场', '立体停车库', 'P+R停车场'))}", rng.randint(60, 800)
        free = int(spaces * rng.betavariate(2, 3 if d.code in URBAN else 1.5))
        price = rng.choice(("首小时10元，之后每小时5元", "首小时8元，之后每小时4元", "每小时5元，单日封顶40元",
                            "首小时6元，之后每小时3元", "15分钟内免费，每小时4元"))
        stamp = dt.datetime(2025, 12, 15, 10, 0) + dt.timedelta(seconds=rng.randint(0, 299))
        rows.append((f"P{d.code}{i + 1:04d}", name, kind, d.name, _street_address(rng, d, province=False),
                     *_point(rng, d), spaces, free, price, f"{stamp:%Y-%m-%d %H:%M:%S}"))
    header = ("停车场编号", "停车场名称", "类型", "区县", "地址", "经度", "纬度", "总泊位", "空余泊位", "收费标准",
              "更新时间")
    return _write_csv(path, header, rows)


_SCENIC = (  # 景区, 等级, 区县, 月均客流 (万人次), 门票 (元, 0 = 免费)
    ("西湖风景名胜区", "5A", "330106", 260, 0), ("千岛湖风景区", "5A", "330127", 95, 130),
    ("西溪国家湿地公园", "5A", "330106", 45, 80), ("灵隐飞来峰景区", "4A", "330106", 60, 45),
    ("宋城", "4A", "330106", 35, 310), ("杭州动物园", "4A", "330106", 22, 20), ("杭州野生动物世界", "4A", "330111", 18, 220),
    ("湘湖旅游度假区", "4A", "330109", 40, 0), ("良渚古城遗址公园", "4A", "330110", 12, 60), ("超山风景区", "4A", "330113", 9, 40),
    ("瑶琳仙境", "4A", "330122", 6, 100), ("大奇山国家森林公园", "4A", "330122", 4, 70), ("天目山景区", "4A", "330112", 7, 110),
    ("大明山景区", "4A", "330112", 4, 110), ("新安江景区", "4A", "330182", 8, 0), ("灵栖洞天", "4A", "330182", 3, 90),
    ("龙门古镇", "4A", "330111", 6, 80), ("京杭大运河杭州景区", "4A", "330105", 70, 0), ("塘栖古镇", "3A", "330113", 18, 0),
    ("杭州植物园", "4A", "330106", 20, 10), ("钱塘江观潮城", "3A", "330114", 5, 0), ("白马湖生态创意城", "3A", "330108", 6, 0),
    ("径山景区", "4A", "330110", 5, 0), ("严州古城", "4A", "330182", 7, 0),
)


def _scenic(path: Path) -> int:
    rng = _rng("scenic_visitors_monthly")
    rows = []
    for y, m in _months((2023, 1), (2025, 12)):
        season = {2: 1.25, 4: 1.2, 5: 1.25, 7: 1.15, 8: 1.2, 10: 1.4, 1: 0.7, 12: 0.7, 11: 0.9, 3: 0.95}.get(m, 1.0)
        for name, level, code, base, ticket in _SCENIC:
            growth = {2023: 1.0, 2024: 1.06, 2025: 1.1}[y]
            visitors = base * season * growth * rng.uniform(0.9, 1.1)
            revenue = visitors * ticket * rng.uniform(0.55, 0.7)  # discounts, free groups, annual passes
            rows.append((f"{y}-{m:02d}", name, level, _BY_CODE[code].name, f"{visitors:.2f}",
                         f"{revenue:.1f}" if ticket else "0.0"))
    header = ("年月", "景区名称", "景区等级", "区县", "接待游客(万人次)", "门票收入(万元)")
    return _write_csv(path, header, rows)


def _enterprise_credit(path: Path) -> int:
    rng = _rng("enterprise_credit")
    live = [e for e in _enterprises() if e["status"] not in ("注销", "吊销，未注销", "迁出")]
    rows = []
    for e in rng.sample(live, 1500):
        score = min(1000, max(300, int(rng.gauss(760, 90))))
        grade = "A" if score >= 850 else "B" if score >= 700 else "C" if score >= 550 else "D"
        defaults = rng.randint(0, 3) if grade in ("C", "D") else 0
        rows.append((e["code"], e["name"], e["district"].name, 2025, score, grade, defaults, "2025-12-20"))
    header = ("统一社会信用代码", "企业名称", "所属区县", "评价年度", "评价得分", "信用等级", "失信记录数", "评价日期")
    return _write_csv(path, header, rows)


# ---------------------------------------------------------------------------------------------------------------
# The catalogue
# ---------------------------------------------------------------------------------------------------------------

ALL = ("raw", "cleaned", "product")
RC = ("raw", "cleaned")


def _writer(fn: Callable[[Path], int], filename: str) -> Callable[[Path], int]:
    def write(path: Path) -> int:
        path = Path(path)
        if path.is_dir():
            path = path / filename
        return fn(path)
    return write


def _t(key, title, filename, holder, category, cycle, tiers, delivery, tags, summary, fn, **extra) -> DemoTable:
    return DemoTable(key=key, title=title, filename=filename, holder=holder, category_hint=category,
                     update_cycle=cycle, tiers=tiers, delivery=delivery, tags=tuple(tags), summary=summary,
                     write=_writer(fn, filename), **extra)


def demo_tables() -> list[DemoTable]:
    """Every table the demo lists, in a stable order."""
    return [
        # 杭州市卫生健康委员会
        _t("outpatient_monthly", "杭州市医疗卫生机构门诊服务情况（月度）", "门诊服务情况_2019-2025.csv", "holder",
           "医疗卫生 > 诊疗服务 > 门诊人次", "monthly", ALL, "api", ("门诊", "诊疗人次", "住院", "病床使用率", "医疗服务"),
           "全市13个区县2019年以来每月的诊疗人次、门急诊人次、住院人次和病床使用率。可用于医疗资源规划与就医需求预测。",
           _outpatient),
        _t("medical_institutions", "杭州市医疗卫生机构名录", "医疗机构名录.csv", "holder",
           "医疗卫生 > 医疗机构 > 机构名录", "quarterly", ALL, "file", ("医院", "卫生院", "社区卫生服务中心", "诊所", "床位"),
           "全市医院、社区卫生服务中心、卫生院、门诊部和诊所的名称、统一社会信用代码、等级、地址、坐标与床位数。",
           _institutions_table, encoding="utf-8-sig"),
        _t("health_resources_yearly", "杭州市各区县卫生资源情况（年度）", "卫生资源_2019-2025.csv", "holder",
           "医疗卫生 > 卫生资源 > 床位与人员", "yearly", RC, "file", ("床位", "卫生技术人员", "医师", "护士"),
           "各区县医疗卫生机构数、床位数、卫生技术人员、执业（助理）医师和注册护士数量及每千人口床位数。",
           _health_resources),
        _t("family_doctor_monthly", "杭州市家庭医生签约服务情况（月度）", "家庭医生签约_2023-2025.csv", "holder",
           "医疗卫生 > 基层卫生 > 家庭医生签约", "monthly", RC, "file", ("家庭医生", "签约", "基层医疗", "重点人群"),
           "各区县家庭医生签约人数、重点人群签约率和团队数的月度汇总。", _family_doctor),
        # 杭州市疾病预防控制中心
        _t("infectious_weekly", "杭州市法定传染病疫情周报", "法定传染病周报_2024-2025.csv", "institution",
           "医疗卫生 > 疾病预防控制 > 传染病疫情", "weekly", ALL, "api", ("传染病", "流感", "手足口病", "疫情", "周报"),
           "全市14种法定传染病每周的发病数和死亡数。可用于流行趋势研判和药品、保险需求预测。", _infectious),
        _t("vaccination_sites", "杭州市预防接种门诊名录", "预防接种门诊.csv", "institution",
           "医疗卫生 > 疾病预防控制 > 预防接种", "quarterly", ALL, "api", ("疫苗", "接种点", "狂犬病", "HPV", "便民服务"),
           "全市儿童、成人预防接种门诊和狂犬病暴露预防处置门诊的地址、坐标、服务时间与可接种疫苗。", _vaccination_sites),
        _t("vaccination_monthly", "杭州市疫苗接种剂次统计（月度）", "疫苗接种剂次_2024-2025.csv", "institution",
           "医疗卫生 > 疾病预防控制 > 预防接种", "monthly", RC, "file", ("疫苗", "接种", "免疫规划", "流感疫苗"),
           "各区县免疫规划疫苗和流感、HPV等非免疫规划疫苗的月度接种剂次。", _vaccination_monthly),
        _t("health_records_sample", "社区居民健康档案样本", "居民健康档案样本.csv", "institution",
           "医疗卫生 > 基层卫生 > 居民健康档案", "half_yearly", ("product",), "sandbox",
           ("健康档案", "慢性病", "高血压", "糖尿病", "个人信息"),
           "社区卫生服务中心建立的居民健康档案样本，含姓名、身份证号、手机号和慢性病信息。仅在沙箱内使用，数据可用不可见。",
           _health_records),
        # 杭州市数据资源管理局
        _t("enterprise_registry", "杭州市企业登记信息", "企业登记信息.csv", "agency",
           "市场监管 > 市场主体 > 企业登记", "daily", ALL, "verification",
           ("企业", "工商登记", "统一社会信用代码", "法定代表人", "注册资本"),
           "全市企业的统一社会信用代码、名称、类型、法定代表人、注册资本、成立日期、登记状态与住所。产品形态为企业身份核验服务。",
           _enterprise_registry),
        _t("individual_businesses", "杭州市个体工商户登记信息", "个体工商户登记信息.csv", "agency",
           "市场监管 > 市场主体 > 个体工商户", "daily", RC, "file", ("个体工商户", "小店", "登记", "经营场所"),
           "全市个体工商户的名称、经营者、行业、注册日期、登记状态与经营场所（原系统导出，GBK编码）。",
           _individual_businesses, encoding="gbk"),
        _t("food_licenses", "杭州市食品经营许可信息", "食品经营许可.csv", "agency",
           "市场监管 > 行政许可 > 食品经营许可", "daily", ALL, "file", ("食品经营许可", "餐饮", "食品安全", "许可证"),
           "食品经营许可证编号、经营者、主体业态、经营项目、发证日期与有效期。开小卖部、餐馆前可据此了解周边竞争。",
           _food_licenses),
        _t("air_quality_daily", "杭州市环境空气质量日报", "空气质量日报_2025.csv", "agency",
           "生态环境 > 监测数据 > 大气监测", "daily", ALL, "api", ("空气质量", "AQI", "PM2.5", "臭氧", "环境监测"),
           "11个国控空气质量监测点2025年每日AQI、六项污染物浓度、首要污染物和质量等级。", _air_quality),
        _t("monitoring_stations", "杭州市生态环境监测站点", "环境监测站点.csv", "agency",
           "生态环境 > 监测数据 > 监测站点", "yearly", RC, "file", ("监测站点", "空气", "水质断面", "噪声"),
           "空气质量监测点、地表水监测断面和声环境监测点的编码、类型、区县与坐标。", _monitoring_stations),
        _t("water_quality_monthly", "杭州市地表水水质监测月报", "地表水水质月报_2024-2025.csv", "agency",
           "生态环境 > 监测数据 > 水环境监测", "monthly", ALL, "file", ("水质", "钱塘江", "千岛湖", "地表水", "断面"),
           "40个地表水断面每月的水温、pH、溶解氧、高锰酸盐指数、氨氮、总磷和水质类别，并与目标水质比对。",
           _water_quality),
        _t("population_yearly", "杭州市各区县人口主要指标", "人口主要指标_2016-2025.csv", "agency",
           "综合统计 > 人口 > 常住人口", "yearly", ALL, "file", ("人口", "常住人口", "户籍人口", "城镇化率", "统计"),
           "各区县常住人口、户籍人口、城镇人口和城镇化率（统计局报表格式，表头上方有标题行和单位行）。",
           _population_table, preamble_rows=2),
        _t("gdp_yearly", "杭州市各区县地区生产总值", "地区生产总值_2016-2025.csv", "agency",
           "综合统计 > 国民经济核算 > 地区生产总值", "yearly", ALL, "file", ("GDP", "地区生产总值", "三次产业", "经济"),
           "各区县地区生产总值、三次产业增加值、增速和人均地区生产总值。", _gdp),
        _t("housing_fund_monthly", "杭州住房公积金缴存使用情况（月度）", "住房公积金月报_2019-2025.csv", "agency",
           "社会保障 > 住房公积金 > 缴存与使用", "monthly", RC, "file", ("住房公积金", "缴存", "提取", "贷款"),
           "全市住房公积金缴存单位、实缴职工、缴存额、提取额、个人住房贷款和缴存余额的月度汇总。", _housing_fund),
        _t("medical_insurance_monthly", "杭州市医疗保障基金结算月度汇总", "医保结算月度汇总_2024-2025.csv", "agency",
           "社会保障 > 医疗保障 > 基金结算", "monthly", ALL, "file", ("医保", "结算", "基金支付", "门诊", "住院"),
           "按区县、险种和门诊/住院汇总的结算人次、医疗总费用和统筹基金支付，仅含汇总数，不含个人。", _medical_insurance),
        _t("weather_daily", "杭州市气象观测日值数据", "气象观测日值_2024-2025.csv", "agency",
           "生态环境 > 气象 > 地面观测", "daily", ALL, "api", ("气象", "气温", "降水", "湿度", "日照"),
           "杭州、萧山、淳安三个国家气象站每日的气温、降水、湿度、风速和日照时数。", _weather),
        _t("real_estate_monthly", "杭州市商品住宅成交情况（月度）", "商品住宅成交_2023-2025.csv", "agency",
           "城乡建设 > 房地产 > 住宅成交", "monthly", ALL, "file", ("房地产", "新房", "二手房", "成交", "房价"),
           "各区县新建商品住宅成交套数、面积、均价和二手住宅成交套数的月度数据。", _real_estate),
        _t("universities", "杭州市普通高等学校名录", "普通高等学校名录.xlsx", "agency",
           "教育 > 高等教育 > 学校名录", "yearly", RC, "file", ("高校", "大学", "职业院校", "在校生"),
           "在杭普通高等学校的名称、主管部门、办学层次、办学性质、所在区县和在校生、专任教师规模（Excel格式）。",
           _universities, encoding="xlsx"),
        _t("schools", "杭州市中小学校名录", "中小学校名录.csv", "agency", "教育 > 基础教育 > 学校名录", "yearly", ALL,
           "file", ("中小学", "小学", "初中", "高中", "学区"),
           "全市中小学校的名称、学段、办学性质、街道、地址、班级数、在校生数和坐标。可用于学区房和教育资源分析。", _schools),
        # 杭州城市大数据运营有限公司
        _t("bus_stops", "杭州市公交站点信息", "公交站点.csv", "operator", "交通出行 > 公共交通 > 公交站点", "monthly", ALL,
           "api", ("公交", "站点", "线路", "坐标", "出行"), "公交站点的编号、名称、所在区县、经纬度和途经线路。", _bus_stops),
        _t("bus_ridership_monthly", "杭州市公交线路客流（月度）", "公交线路客流_2024-2025.csv", "operator",
           "交通出行 > 公共交通 > 客流统计", "monthly", ALL, "file", ("公交", "客流", "客运量", "线路"),
           "各公交线路每月的运营班次、客运量和日均客运量，以及线路类型、长度和配车数。", _bus_ridership),
        _t("bike_stations", "杭州市公共自行车站点", "公共自行车站点.csv", "operator", "交通出行 > 慢行交通 > 公共自行车",
           "quarterly", RC, "file", ("公共自行车", "慢行", "站点", "锁止器"),
           "公共自行车租赁站点的编号、名称、坐标、锁止器数量、服务时间和运营状态。", _bike_stations),
        _t("traffic_congestion_hourly", "杭州市道路交通拥堵指数", "道路拥堵指数_202512.csv", "operator",
           "交通出行 > 道路交通 > 拥堵指数", "realtime", ALL, "api", ("拥堵指数", "实时", "交通", "车速", "高峰"),
           "主城区、各区和快速路网逐小时的交通指数、平均车速和拥堵等级，接口实时更新。", _traffic),
        _t("parking_realtime", "杭州市停车场泊位实时信息", "停车场泊位.csv", "operator", "交通出行 > 静态交通 > 停车泊位",
           "realtime", ("raw", "product"), "api", ("停车", "泊位", "实时", "停车场", "收费标准"),
           "公共停车场、配建停车库和路内泊位的位置、总泊位、空余泊位和收费标准，每5分钟更新。", _parking),
        _t("scenic_visitors_monthly", "杭州市A级旅游景区客流（月度）", "景区客流_2023-2025.csv", "operator",
           "文化旅游 > 旅游 > 景区客流", "monthly", ALL, "file", ("旅游", "景区", "客流", "西湖", "千岛湖"),
           "主要A级旅游景区每月的接待游客人次和门票收入。", _scenic),
        _t("enterprise_credit", "杭州市企业公共信用评价", "企业公共信用评价_2025.csv", "operator",
           "信用服务 > 企业信用 > 公共信用评价", "yearly", ("product",), "api", ("信用", "企业", "信用等级", "风控"),
           "基于企业登记、许可和失信记录加工的企业公共信用评价得分与等级，按统一社会信用代码查询。", _enterprise_credit),
    ]
