"""Environment tables: monitoring stations, air quality (with IAQI), water quality."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

from listings.demo._common import DISTRICTS, _BY_CODE, _days, _months, _point, _rng, _wave, _write_csv
from listings.demo._market import _AIR_STATIONS, _NOISE_POINTS, _WATER_SECTIONS


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
