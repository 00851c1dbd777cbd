"""Statistics and public-service tables: population, GDP, housing fund, medical insurance, weather,
real estate."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

from listings.demo._common import DISTRICTS, URBAN, _BY_CODE, _days, _months, _rng, _wave, _write_csv
from listings.demo._environment import _HUKOU, _URBAN_RATE
from listings.demo._orgs import _population


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
