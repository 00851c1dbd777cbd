"""The demo's organisations: district populations, enterprises and public institutions, generated once."""

from __future__ import annotations

import datetime as dt
import functools
import random
from collections.abc import Sequence

from listings.demo._common import DISTRICTS, _BY_CODE, _District, _brand, _person, _phone, _place, _point, _registry_region, _rng, _street_address, credit_code


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
