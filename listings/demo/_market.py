"""Market-supervision tables: the enterprise registry, individual businesses, food business licences."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from listings.demo._common import DISTRICTS, _brand, _person, _place, _registry_region, _rng, _street_address, _write_csv, credit_code
from listings.demo._orgs import INDUSTRIES, _district_weights, _enterprises, _weighted


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
