"""Synthetic residents (居民) for tests and the demo: realistic, never real.

`generate_residents(path, n)` writes a UTF-8 CSV with a header row:

    姓名, 性别, 出生日期, 身份证号, 手机号, 住址, 参保状态

- 身份证号: a region code that existed in the birth year (from the GB/T 2260 data python-stdnum
  ships), a real birth date, a sequence number whose parity matches 性别, and the GB 11643 check
  digit (`stdnum.cn.ric.calc_check_digit`); every number passes `stdnum.cn.ric.is_valid`.
- About 8 % are minors under 14 (as of today), so the minors rule can be exercised.
- 手机号: `1[3-9]\\d{9}`, a few written with a +86 prefix.
- 住址: province + prefecture + county of the ID's region, then a road, number and flat.
- 参保状态: the inconsistent spellings a real register has (正常参保 / 正常 / 正常缴费, 暂停参保 /
  暂停, 终止参保, 退休) and about 3 % left empty.

Deterministic for a given seed.
"""

from __future__ import annotations

import csv
import datetime as _dt
import random
from pathlib import Path

from stdnum.cn import ric

from listings.profiling import COMMON_SURNAMES, region_table

_GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红建国志强桂芝文辉力明永健世广"
    "浩宇子轩梓涵欣怡一诺雨泽思远佳琪俊杰晨曦嘉怡婷雪梅海燕春燕立新建华红梅丹凤金凤玉梅卫东晓东"
)
_ROADS = (
    "人民路", "解放路", "中山路", "建设路", "和平路", "新华路", "文化路", "胜利路", "青年路", "朝阳路",
    "光明街", "幸福街", "长江路", "黄河路", "友谊路", "学府路", "滨江大道", "工业大道", "环城东路",
)
_STATUS = (
    ("正常参保", 40), ("正常", 14), ("正常缴费", 10), ("暂停参保", 8), ("暂停", 4), ("终止参保", 6),
    ("退休", 12), ("", 3), ("正常参保 ", 1),
)
_MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "157",
    "158", "159", "166", "170", "173", "177", "180", "181", "182", "183", "185", "186", "187", "188",
    "189", "191", "195", "198", "199",
)


def _current_counties() -> list[tuple[str, int]]:
    """County-level codes (last two digits not 00) in use today, with the year they started."""
    out: list[tuple[str, int]] = []
    for code, entries in region_table().items():
        if code.endswith("00"):
            continue
        for start, end, _name in entries:
            if end is None:
                out.append((code, start or 1900))
                break
    out.sort()
    return out


def _name(rng: random.Random, surnames: list[str]) -> str:
    surname = rng.choice(surnames[:60]) if rng.random() < 0.8 else rng.choice(surnames)
    given = rng.choice(_GIVEN) + (rng.choice(_GIVEN) if rng.random() < 0.7 else "")
    return surname + given


def _address(rng: random.Random, code: str) -> str:
    table = region_table()

    def name(c: str) -> str:
        entries = table.get(c) or []
        for _s, end, n in entries:
            if end is None:
                return n
        return entries[-1][2] if entries else ""

    province = name(code[:2] + "0000")
    prefecture = name(code[:4] + "00")
    county = name(code)
    if prefecture in ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划", province):
        prefecture = ""
    road = rng.choice(_ROADS)
    parts = [province, prefecture, county, road, f"{rng.randint(1, 999)}号"]
    if rng.random() < 0.6:
        parts.append(f"{rng.randint(1, 30)}栋{rng.randint(1, 6)}单元{rng.randint(1, 33):02d}{rng.randint(1, 4):02d}室")
    return "".join(parts)


def generate_residents(path: Path, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    counties = _current_counties()
    surnames = list(COMMON_SURNAMES)
    statuses = [s for s, _w in _STATUS]
    weights = [w for _s, w in _STATUS]
    today = _dt.date.today()
    with Path(path).open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["姓名", "性别", "出生日期", "身份证号", "手机号", "住址", "参保状态"])
        for _ in range(n):
            if rng.random() < 0.08:  # a minor under 14
                birth = today - _dt.timedelta(days=rng.randint(200, 13 * 365))
            else:
                birth = today - _dt.timedelta(days=rng.randint(15 * 365, 90 * 365))
            while True:
                code, since = rng.choice(counties)
                if birth.year >= since:
                    break
            male = rng.random() < 0.51
            seq = rng.randint(0, 499) * 2 + (1 if male else 0)
            body = f"{code}{birth:%Y%m%d}{seq:03d}"
            rid = body + ric.calc_check_digit(body + "0")
            mobile = rng.choice(_MOBILE_PREFIXES) + f"{rng.randint(0, 99_999_999):08d}"
            if rng.random() < 0.03:
                mobile = "+86" + mobile
            status = rng.choices(statuses, weights)[0]
            w.writerow([
                _name(rng, surnames), "男" if male else "女", birth.isoformat(), rid, mobile,
                _address(rng, code), status,
            ])
