"""Reading a profile for cataloguing: time span and granularity, regions, coordinates, indicators;
then scoring the category tree against the words found."""

from __future__ import annotations

import datetime as _dt
import functools
import math
import re
from typing import NamedTuple

from listings.catalogue._tree import _Entry, _index
from listings.catalogue._words import _has_cjk, _region_names, _tokens, _translate_column


# ---------------------------------------------------------------------------------------------
# Reading the profile: time, regions, coordinates, indicators
# ---------------------------------------------------------------------------------------------

_PERSONAL_SEMANTICS = {"resident_id", "mobile", "person_name", "address"}
_NAMING = {"resident_id": "身份证号", "mobile": "手机号", "person_name": "姓名", "address": "地址",
           "uscc": "统一社会信用代码", "enterprise_name": "企业名称", "region_code": "行政区划代码",
           "longitude": "经度", "latitude": "纬度", "year": "年份", "amount": "金额"}
_GENERIC_COLUMN = re.compile(r"^\s*(列|字段|column|col|field|unnamed)?[\s_:：]*\d*\s*$", re.I)
_TIME_DIMENSION = re.compile(
    r"^(统计|监测|观测|采集|报告|数据|通报|发布|更新|填报|截止)?(年份|年度|年|日期|时间|月份|月|季度|期间|时段|日|小时)$"
    r"|^(统计期|报告期|data_?date|stat_?date|report_?date|date|time|datetime|timestamp|year|month|period|day|hour)$",
    re.I)
_NOT_A_CYCLE = re.compile(r"出生|生日|birth|有效期|截止|到期|失效|expire", re.I)
_PROVINCE_COL = re.compile(r"^(省|省份|省区|省市|省级|省级行政区|省级行政区划|所在省份?|province|prov)(名称|name)?$", re.I)
_CITY_COL = re.compile(r"^(市|城市|地市|地级市|地级行政区|所在城市|所在地|所在地区|所在市|city)(名称|name)?$", re.I)
_COUNTY_COL = re.compile(r"^(区|县|区县|县区|县级行政区|所在区县|county|district)(名称|name)?$", re.I)
_GRANULARITY_CYCLE = {"hour": "realtime", "day": "daily", "week": "weekly", "month": "monthly",
                      "quarter": "quarterly", "half": "half_yearly", "year": "yearly"}
_GRANULARITY_TAG = {"hour": "小时级", "day": "日度", "week": "周度", "month": "月度", "quarter": "季度",
                    "half": "半年度", "year": "年度"}
_GRANULARITY_BY = {"hour": "小时", "day": "日", "week": "周", "month": "月", "quarter": "季度", "half": "半年",
                   "year": "年份"}
_QUARTER = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}


def _parse_when(value) -> tuple[str, _dt.datetime] | None:
    """('year'|'quarter'|'half'|'month'|'day'|'time', start) for one cell value, or None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return ("year", _dt.datetime(int(value), 1, 1)) if value == int(value) and 1000 <= value <= 2999 else None
    s = str(value).strip()
    try:
        if m := re.fullmatch(r"(\d{4})\s*年?度?", s):
            return ("year", _dt.datetime(int(m[1]), 1, 1)) if 1000 <= int(m[1]) <= 2999 else None
        if m := re.fullmatch(r"(\d{4})\s*(?:年\s*第?\s*([1-4一二三四])\s*季度?|[-\s]?[Qq]([1-4]))", s):
            return "quarter", _dt.datetime(int(m[1]), 3 * _QUARTER[m[2] or m[3]] - 2, 1)
        if m := re.fullmatch(r"(\d{4})\s*年\s*([上下])半年", s):
            return "half", _dt.datetime(int(m[1]), 1 if m[2] == "上" else 7, 1)
        if m := re.fullmatch(r"(\d{4})(?:[-/.](\d{1,2})|年(\d{1,2})月?份?)", s):
            return "month", _dt.datetime(int(m[1]), int(m[2] or m[3]), 1)
        m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[T\s]+(\d{1,2})(?:[:时](\d{1,2}))?"
                         r"(?:[:分](\d{1,2}(?:\.\d+)?))?.*)?", s) \
            or re.fullmatch(r"(\d{4})(\d{2})(\d{2})(?:[T\s]?(\d{2})(\d{2})(\d{2})?)?", s)
        if m:
            hour, minute, sec = (int(float(g)) if g else 0 for g in (m[4], m[5], m[6]))
            when = _dt.datetime(int(m[1]), int(m[2]), int(m[3]), hour, minute, sec)
            return ("time" if m[4] is not None and (hour, minute, sec) != (0, 0, 0) else "day"), when
    except ValueError:  # 2021-02-30 and friends
        return None
    return None


def _top_values(col: dict) -> list:
    out = []
    for item in col.get("top_values") or []:
        if isinstance(item, dict):
            out.append(item.get("value"))
        elif isinstance(item, (list, tuple)) and item:
            out.append(item[0])
    return [v for v in out if v not in (None, "")]


class _Time(NamedTuple):
    column: str
    dimension: bool  # the table is "by" this column (年份, 日期), not a date of the thing (成立日期)
    granularity: str
    start: _dt.datetime
    end: _dt.datetime
    distinct: int


def _time_of(col: dict) -> _Time | None:
    name = str(col.get("name") or "")
    semantic = col.get("semantic_type")
    is_dim = bool(_TIME_DIMENSION.match(name.strip())) or semantic == "year"
    if col.get("type") not in ("date", "datetime") and semantic != "year" and not is_dim:
        return None
    parsed = [p for p in map(_parse_when, [col.get("min"), col.get("max"), *_top_values(col)]) if p]
    if not parsed or not all(map(_parse_when, [v for v in (col.get("min"), col.get("max")) if v is not None])):
        return None
    kinds = {k for k, _ in parsed}
    whens = [w for _, w in parsed]
    start, end = min(whens), max(whens)
    distinct = int(col.get("distinct_count") or len(set(whens)))
    for fixed in ("year", "half", "quarter", "month"):
        if kinds == {fixed}:
            return _Time(name, is_dim, fixed, start, end, distinct)
    if distinct >= 2 and "time" in kinds:
        hours = (end - start).total_seconds() / 3600 / (distinct - 1)
        if hours <= 1.5:
            return _Time(name, is_dim, "hour", start, end, distinct)
    granularity = "day"
    if distinct >= 2:
        gap = (end - start).days / (distinct - 1)
        for limit, grain in ((3, "day"), (10, "week"), (45, "month"), (120, "quarter"), (240, "half")):
            if gap <= limit:
                granularity = grain
                break
        else:
            granularity = "year"
    return _Time(name, is_dim, granularity, start, end, distinct)


def _format_when(when: _dt.datetime, granularity: str) -> str:
    if granularity == "year":
        return f"{when.year}年"
    if granularity == "half":
        return f"{when.year}年{'上' if when.month <= 6 else '下'}半年"
    if granularity == "quarter":
        return f"{when.year}年第{(when.month - 1) // 3 + 1}季度"
    if granularity == "month":
        return f"{when.year}年{when.month}月"
    return f"{when.year}年{when.month}月{when.day}日"


def _span(t: _Time) -> str:
    a, b = _format_when(t.start, t.granularity), _format_when(t.end, t.granularity)
    return a if a == b else f"{a}—{b}"


class _Region(NamedTuple):
    scope: str  # national / single / multi
    name: str | None
    level: str  # province / city / county
    count: int
    dimension: bool  # a column of places, so rows are "by region"


_LEVEL_WORD = {"province": "省级行政区", "city": "城市", "county": "区县"}


def _region_of(columns: list[dict]) -> _Region | None:
    found: dict[str, tuple[int, str | None]] = {}
    for col in columns:
        name = str(col.get("name") or "").strip()
        translated = _translate_column(name) or name
        distinct = int(col.get("distinct_count") or 0)
        values = [str(v) for v in _top_values(col)]
        if col.get("semantic_type") == "region_code":
            codes = [re.sub(r"\D", "", str(v))[:6] for v in (col.get("min"), col.get("max"), *values) if v]
            codes = [c for c in codes if len(c) == 6]
            if not codes:
                continue
            level = ("province" if all(c.endswith("0000") for c in codes)
                     else "city" if all(c.endswith("00") for c in codes) else "county")
            lo, hi = min(codes), max(codes)  # every code between two that share a prefix shares it too
            single = None
            if distinct <= 1:
                single = _region_names().get(lo)
            elif lo[:4] == hi[:4] and level == "county":
                single = _region_names().get(lo[:4] + "00")
            elif lo[:2] == hi[:2] and level != "province":
                single = _region_names().get(lo[:2] + "0000")
            found.setdefault(level, (distinct, single if distinct <= 1 else None))
            if single and distinct > 1:
                found.setdefault("within", (distinct, single))
            continue
        for level, pattern in (("province", _PROVINCE_COL), ("city", _CITY_COL), ("county", _COUNTY_COL)):
            if pattern.match(name) or pattern.match(translated):
                found.setdefault(level, (distinct, values[0] if distinct == 1 and values else None))
    if not found:
        return None
    within = found.pop("within", None)
    parent = within[1] if within else None
    levels = [level for level in ("province", "city", "county") if level in found]
    for i, level in enumerate(levels):
        count, single = found[level]
        if count >= {"province": 25, "city": 150, "county": 1000}[level]:  # of 34 / 333 / 2,800 or so
            return _Region("national", "全国", level, count, True)
        if count <= 1:
            if any(found[finer][0] > 1 for finer in levels[i + 1:]):
                parent = single or parent  # 浙江省, then its 11 cities
                continue
            return _Region("single", single, level, count, False)
        return _Region("multi", parent, level, count, True)
    return None


def _region_in_text(text: str) -> str | None:
    """A province or prefecture named in full (杭州市), or in short at the start (杭州公交站点)."""
    for code, name in _region_names().items():
        if code.endswith("00") and len(name) >= 3:
            short = re.sub(r"(市|省|自治区|地区)$", "", name)
            if name in text or (len(short) >= 2 and text.startswith(short)):
                return name
    return None


# ---------------------------------------------------------------------------------------------
# Category scoring
# ---------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _latin_keywords() -> dict[str, re.Pattern]:
    """Keywords without Chinese (AQI, PM2.5, 12345) match whole words only, never inside 110000."""
    return {kw: re.compile(rf"(?<![A-Za-z0-9.]){re.escape(kw)}(?![A-Za-z0-9])", re.I)
            for kw in _index().specificity if not _has_cjk(kw)}


def _keyword_hits(keyword: str, text: str) -> float:
    """1 for a whole-word match, 0.75 for a match inside a longer word, 0 for none."""
    pattern = _latin_keywords().get(keyword)
    if pattern is not None:
        return 1.0 if pattern.search(text) else 0.0
    if keyword not in text:
        return 0.0
    return 1.0 if keyword == text or keyword in _tokens(text) else 0.75


def _score(texts: list[tuple[str, float]]) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Own score of every node and, per node, the keywords that earned it."""
    index = _index()
    own: dict[str, float] = {}
    hits: dict[str, dict[str, float]] = {}
    for code, entry in index.entries.items():
        for text, weight in texts:
            matched = {kw: f for kw in entry.keywords if (f := _keyword_hits(kw, text))}
            for kw, factor in matched.items():
                if any(kw != other and kw in other for other in matched):
                    continue  # 门诊 inside 门诊人次 counts once, as the longer word
                gain = weight * factor * index.specificity[kw] * (0.6 + 0.1 * min(len(kw), 8))
                own[code] = own.get(code, 0.0) + gain
                hits.setdefault(code, {})[kw] = hits.get(code, {}).get(kw, 0.0) + gain
    return own, hits


def _classify(texts: list[tuple[str, float]]) -> tuple[_Entry | None, float, dict[str, float]]:
    """Best node (the deepest one with its own evidence), a 0..1 confidence, and its keywords."""
    index = _index()
    own, hits = _score(texts)
    total: dict[str, float] = {}
    for code, entry in index.entries.items():  # tree order: parents before children
        total[code] = own.get(code, 0.0) + (total[entry.parent] if entry.parent else 0.0)
    candidates = [c for c in own if own[c] > 0]
    if not candidates:
        return None, 0.0, {}
    best = max(candidates, key=lambda c: (round(total[c], 6), len(index.entries[c].path)))
    path = index.entries[best].path
    rivals = [total[c] for c in candidates
              if index.entries[c].path[:len(path)] != path and path[:len(index.entries[c].path)] != index.entries[c].path]
    s1, s2 = total[best], max(rivals, default=0.0)
    confidence = (1 - math.exp(-s1 / 3)) * (0.5 + 0.5 * (s1 - s2) / s1)
    keywords: dict[str, float] = {}
    code: str | None = best
    while code:
        for kw, gain in hits.get(code, {}).items():
            keywords[kw] = keywords.get(kw, 0.0) + gain
        code = index.entries[code].parent
    return index.entries[best], round(min(confidence, 0.99), 2), keywords
