"""City tables: universities and schools, bus lines, stops and ridership, public bikes, traffic,
parking, scenic spots, enterprise credit."""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import math
from pathlib import Path

from listings.demo._common import COUNTIES, DISTRICTS, URBAN, _BY_CODE, _brand, _days, _months, _place, _point, _rng, _street_address, _write_csv, _write_xlsx
from listings.demo._orgs import _district_weights, _enterprises, _weighted
from listings.demo._statistics import _UNIVERSITIES


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
