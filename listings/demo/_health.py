"""Health tables: outpatient statistics, institutions, resources, family doctors, infectious disease,
vaccination sites and doses, health records (personal: the demo's 重要 table)."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

from listings.demo._common import COUNTIES, DISTRICTS, URBAN, _home_address, _mobile, _months, _person, _phone, _rng, _wave, _write_csv, resident_id
from listings.demo._orgs import _institutions, _population, _weighted


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
