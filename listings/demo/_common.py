"""What every demo table shares: the DemoTable record, Hangzhou's districts, seeded random helpers
(people, phones, addresses, coordinates, credit codes and ID numbers with correct check digits), and
the CSV/XLSX writers."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import math
import random
import re
import zipfile
import zlib
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from stdnum.cn import ric
from stdnum.cn import uscc


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
