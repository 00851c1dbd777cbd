"""suggest(): every catalogue field pre-filled from the file name and the profile, with the few
questions the holder must answer when the system is not confident."""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

from market.errors import DomainError
from listings.catalogue._fields import GRADES, LOW_CONFIDENCE, MAX_QUESTIONS, SUGGESTED_TAGS_MAX, SUMMARY_MAX, TAG_MAX_CHARS, TITLE_MAX, TITLE_MIN, UPDATE_CYCLES, _PROMPTS, label, open_label, sharing_label
from listings.catalogue._profile import _CITY_COL, _COUNTY_COL, _GENERIC_COLUMN, _GRANULARITY_BY, _GRANULARITY_CYCLE, _GRANULARITY_TAG, _LEVEL_WORD, _NAMING, _NOT_A_CYCLE, _PERSONAL_SEMANTICS, _PROVINCE_COL, _Region, _Time, _classify, _format_when, _region_in_text, _region_of, _span, _time_of, _top_values
from listings.catalogue._tree import _Entry
from listings.catalogue._words import _GRANULARITY_WORDS, _ascii_words, _clean_title, _common_prefix, _has_cjk, _is_generic_title, _lookup_phrases, _translate_column


# ---------------------------------------------------------------------------------------------
# suggest()
# ---------------------------------------------------------------------------------------------

_FORMATS = {"csv": "电子表格/CSV", "tsv": "电子表格/TSV", "txt": "电子表格/TXT", "xls": "电子表格/XLS",
            "xlsx": "电子表格/XLSX", "xlsm": "电子表格/XLSX", "et": "电子表格/ET", "ods": "电子表格/ODS",
            "json": "结构化文本/JSON", "xml": "结构化文本/XML"}
_DATA_TYPES = {"integer": "数值型", "decimal": "数值型", "date": "日期型", "datetime": "日期型",
               "boolean": "布尔型"}
_MEASURE_WORDS = (("企业", "家"), ("公司", "家"), ("医院", "家"), ("机构", "家"), ("单位", "家"), ("药店", "家"),
                  ("学校", "所"), ("高校", "所"), ("大学", "所"), ("学院", "所"), ("幼儿园", "所"),
                  ("居民", "位"), ("人员", "名"), ("学生", "名"))


class _Table(NamedTuple):
    """What the profile says, in the terms the catalogue needs."""

    columns: list[dict]
    names: list[str]
    row_count: int
    headerless: bool
    dimension: _Time | None  # the time the rows are "by"
    attribute: _Time | None  # else the busiest date of the things listed (成立日期), never a birth date
    region: _Region | None
    has_coords: bool
    body: list[dict]  # columns other than the time and place dimensions
    indicators: list[dict]  # numeric measures among them
    stat_table: bool  # rows by time (and place), mostly measures: a statistical table
    prefix: str  # shared start of the indicators' names (医疗卫生机构)


class _Name(NamedTuple):
    """What the file name (or the title the holder typed) says."""

    raw: str
    cleaned: str
    dates: list[str]
    chinese: str  # a usable Chinese title, or ''
    words: list[tuple[str, str, str]]  # Latin/pinyin words as (word, kind, 中文), see _GLOSSARY_TEXT
    granularity: str | None

    def zh(self, *kinds: str) -> list[str]:
        return [zh for _w, kind, zh in self.words if kind in kinds and zh]


_NOT_INDICATOR = {"uscc", "resident_id", "mobile", "region_code", "longitude", "latitude", "year"}


def _read_table(profile: dict) -> _Table:
    columns = [c for c in profile.get("columns") or [] if isinstance(c, dict)]
    names = [str(c.get("name") or "") for c in columns]
    times = [t for t in map(_time_of, columns) if t]
    dimension = next((t for t in times if t.dimension), None)
    attribute = max((t for t in times if not t.dimension and not _NOT_A_CYCLE.search(t.column)),
                    key=lambda t: t.distinct, default=None)
    region = _region_of(columns)
    dimensions = {t.column for t in times if t.dimension}
    body = [c for c in columns if str(c.get("name") or "") not in dimensions and not (
        region and region.dimension and (c.get("semantic_type") == "region_code" or _is_region_column(c)))]
    indicators = [c for c in body if c.get("type") in ("integer", "decimal")
                  and c.get("semantic_type") not in _NOT_INDICATOR
                  and not re.search(r"序号|编号|代码|编码|^id$|code$", str(c.get("name") or ""), re.I)]
    stat_table = bool(dimension) and bool(indicators) and len(indicators) * 2 >= len(body)
    prefix = _common_prefix([str(c["name"]) for c in indicators if _has_cjk(str(c.get("name") or ""))]) \
        if stat_table else ""
    return _Table(columns, names, int(profile.get("row_count") or 0),
                  bool(columns) and all(_GENERIC_COLUMN.match(n) for n in names), dimension, attribute, region,
                  {"longitude", "latitude"} <= {c.get("semantic_type") for c in columns},
                  body, indicators, stat_table, prefix)


def _read_name(filename: str, title: str | None) -> _Name:
    raw = title or filename
    cleaned, dates = _clean_title(raw)
    chinese = cleaned if _has_cjk(cleaned) and not _is_generic_title(cleaned) else ""
    words = [] if _has_cjk(cleaned) else _lookup_phrases([w for w in _ascii_words(cleaned) if not w.isdigit()])
    granularity = next((zh for _w, kind, zh in words if kind == "g"), None) or next(
        (grain for word, grain in _GRANULARITY_WORDS if word in raw), None)
    return _Name(raw, cleaned, dates, chinese, words, granularity)


def _category_texts(name: _Name, table: _Table, *, filename: str, title: str | None) -> list[tuple[str, float]]:
    """(text, weight) evidence for the category: the name counts most, then columns, then values."""
    texts: list[tuple[str, float]] = []
    if name.chinese:
        texts.append((name.chinese, 3.0))
    if topic := "".join(name.zh("t", "m")):
        texts.append((topic, 3.0))
    if publisher := "".join(name.zh("p")):
        texts.append((publisher, 1.0))
    if title and filename and title != filename:
        other, _dates = _clean_title(filename)
        if _has_cjk(other):
            texts.append((other, 1.5))
    per_column = min(1.0, 12 / max(len(table.columns), 1))  # fifty columns must not outweigh the name
    for col, col_name in zip(table.columns, table.names):
        semantic = _NAMING.get(col.get("semantic_type") or "")
        if _GENERIC_COLUMN.match(col_name):
            if semantic:
                texts.append((semantic, per_column))
        else:
            texts.append((_translate_column(col_name) or col_name, per_column))
            if semantic and not _has_cjk(col_name):  # "Code" is a 行政区划代码, the profile says
                texts.append((semantic, per_column / 2))
        if col.get("type") in ("text", "category") and col.get("semantic_type") not in _PERSONAL_SEMANTICS:
            for value in map(str, _top_values(col)[:5]):  # never the values of personal columns
                if _has_cjk(value) and len(value) <= 30:
                    texts.append((value, 0.3))
    return texts


def _suggest_title(name: _Name, table: _Table, entry: _Entry | None, confident: bool) -> tuple[str, float]:
    """The holder's Chinese name as is; else built from translated words, the category and the columns."""
    if name.chinese:
        return name.chinese[:TITLE_MAX], 0.9
    topic = "".join(zh for zh in name.zh("t", "m") if not (table.prefix and zh in table.prefix))
    confidence = 0.7 if topic and confident else 0.4
    leaf_title = (entry.node.get("title") or entry.node["name"]) if entry else ""
    if confident and (not topic or topic in leaf_title):  # 监测站点 -> 空气质量监测站点
        topic = leaf_title
    if table.prefix and not topic.startswith(table.prefix):  # 医疗卫生机构 + 门诊服务
        topic = table.prefix + topic
    if table.stat_table and re.search(r"(服务|工作|活动|运行|发展|建设)$", topic):
        topic += "情况"
    if not topic:
        fallback = " ".join(w for w, kind, _zh in name.words if kind != "x") or name.cleaned or "未命名数据"
        return fallback[:TITLE_MAX], 0.1
    national = (table.region and table.region.scope == "national") or "全国" in name.zh("r")
    place = (next(iter(name.zh("q")), None) or next((zh for zh in name.zh("r") if zh != "全国"), None)
             or ("全国" if national else ""))
    title = topic if topic.startswith(place) else place + topic
    return title[:TITLE_MAX], (confidence if len(title) >= TITLE_MIN else 0.1)


def _suggest_update_cycle(name: _Name, table: _Table, entry: _Entry | None, confident: bool) -> tuple[str, bool]:
    """(cycle, read from the data): the time column's granularity, else the name's, else a guess."""
    dimension, attribute = table.dimension, table.attribute
    if dimension and (dimension.distinct >= 2 or dimension.granularity in ("year", "half", "quarter", "month")):
        return _GRANULARITY_CYCLE[dimension.granularity], True
    if name.granularity:  # one day of data called "daily"
        return _GRANULARITY_CYCLE[name.granularity], True
    if dimension:
        return _GRANULARITY_CYCLE[dimension.granularity], False
    if attribute and attribute.distinct >= 30:  # new 成立日期 every day: a register that grows daily
        return _GRANULARITY_CYCLE[attribute.granularity], False
    return ((entry.node.get("update_cycle") if entry and confident else None) or "other"), False


def _suggest_sharing(grade: str, personal: bool, holder_kind: str) -> tuple[str, str, str, str]:
    """(sharing type, open type, 共享条件, 共享方式): the grade decides, the holder does not have to."""
    if grade == "core":
        return "not_shared", "not_open", "核心数据，列入负面清单，不予共享", "不提供"
    if grade == "important":
        return ("conditional", "conditional", "仅以统计结果、模型或核验结果提供，需说明用途并经数据提供方审核同意",
                "沙箱/核验接口（数据可用不可见）")
    if personal:
        return ("conditional", "conditional",
                "需说明用途并经数据提供方审核同意；个人信息脱敏后提供，另有授权同意或法定依据的除外",
                "接口/沙箱（个人信息脱敏）")
    # an enterprise's own data is not public open data unless the enterprise says so
    return "unconditional", "conditional" if holder_kind == "enterprise" else "unconditional", "", "接口/文件"


def _suggest_tags(name: _Name, table: _Table, path: list[str], title: str, matched: dict[str, float],
                  personal: bool) -> list[str]:
    region = table.region
    if region and region.scope == "national":
        place = "全国"
    else:
        place = (region.name if region and region.name else None) or next(
            (zh for zh in name.zh("r") if zh != "全国"), None) or _region_in_text(title)
    candidates = [path[0] if path else None, path[-1] if len(path) > 1 else None, place,
                  _GRANULARITY_TAG.get(table.dimension.granularity) if table.dimension else None,
                  "含坐标" if table.has_coords else None, "含个人信息" if personal else None,
                  path[1] if len(path) > 2 else None]
    candidates += [kw for kw, _gain in sorted(matched.items(), key=lambda kv: -kv[1])
                   if _has_cjk(kw) and kw not in path]
    tags: list[str] = []
    for tag in candidates:
        if tag and len(tag) <= TAG_MAX_CHARS and not any(tag in t for t in tags):
            tags.append(tag)
        if len(tags) == SUGGESTED_TAGS_MAX:
            break
    return tags


def _information_items(table: _Table) -> list[dict]:
    """信息项: each column with its 数据类型, and what it is when the name does not say (列3 = 经度)."""
    items = []
    for col, col_name in zip(table.columns, table.names):
        semantic = col.get("semantic_type")
        item = {"名称": col_name,
                "数据类型": "日期型" if semantic == "year" else _DATA_TYPES.get(col.get("type"), "字符型")}
        note = _translate_column(col_name) or (_NAMING.get(semantic) if _GENERIC_COLUMN.match(col_name) else None)
        if note:
            item["说明"] = note
        items.append(item)
    return items


def suggest(*, filename: str, title: str | None = None, profile: dict, holder_name: str, holder_kind: str,
            grade: str = "general", personal: bool = False) -> dict:
    """Every catalogue field pre-filled from the file name and profile, plus at most five questions."""
    if grade not in GRADES:
        raise DomainError("catalogue.grade_invalid", "分级只能是一般、重要或核心", grade=grade)
    table = _read_table(profile)
    name = _read_name(filename, title)
    entry, category_confidence, matched = _classify(_category_texts(name, table, filename=filename, title=title))
    confident = entry is not None and category_confidence >= LOW_CONFIDENCE
    path = list(entry.path) if entry else []
    final_title, title_confidence = _suggest_title(name, table, entry, confident)
    update_cycle, cycle_from_data = _suggest_update_cycle(name, table, entry, confident)
    sharing_type, open_type, condition, channel = _suggest_sharing(grade, personal, holder_kind)
    summary = _summary(holder_name=holder_name, title=final_title, table=table, entry=entry if confident else None,
                       personal=personal, name_dates=name.dates)
    tags = _suggest_tags(name, table, path, final_title, matched, personal)
    catalogue = {
        "提供方": holder_name,
        "信息资源名称": final_title,
        "信息资源摘要": summary,
        "信息资源分类": " > ".join(path),
        "信息资源格式": _FORMATS.get(Path(filename).suffix.lower().lstrip("."), "电子表格"),
        "信息项": _information_items(table),
        "共享类型": sharing_label(sharing_type),
        "共享条件": condition,
        "共享方式": channel,
        "开放属性": open_label(open_type),
        "更新周期": label(update_cycle),
    }

    # most important first; whatever is past the fifth is left as suggested
    questions = []
    if not confident:
        questions.append(_ask("category_path", path, required=not path))
    if title_confidence < 0.6:
        questions.append(_ask("title", final_title, required=title_confidence < 0.3))
    if not cycle_from_data or update_cycle == "other":
        questions.append(_ask("update_cycle", update_cycle, required=False,
                              choices=[[c, label(c)] for c in UPDATE_CYCLES]))
    if sharing_type == "conditional":
        questions.append(_ask("sharing_condition", condition, required=False))
    if table.headerless:
        questions.append(_ask("columns", [_NAMING.get(c.get("semantic_type") or "", n)
                                          for c, n in zip(table.columns, table.names)], required=False))
    if not (table.dimension or table.attribute or table.indicators or (confident and entry.node.get("row"))):
        questions.append(_ask("summary", summary, required=False))
    if len(tags) < 3:
        questions.append(_ask("tags", tags, required=False))

    return {
        "title": final_title,
        "summary": summary,
        "category_path": path,
        "category_code": entry.code if entry else "",
        "category_confidence": category_confidence,
        "tags": tags,
        "update_cycle": update_cycle,
        "sharing_type": sharing_type,
        "sharing_condition": condition,
        "open_type": open_type,
        "catalogue": catalogue,
        "questions": questions[:MAX_QUESTIONS],
    }


def _ask(field: str, suggested, *, required: bool, **extra) -> dict:
    return {"field": field, "prompt": _PROMPTS[field], "suggested": suggested, "required": required, **extra}


def _is_region_column(col: dict) -> bool:
    name = str(col.get("name") or "").strip()
    name = _translate_column(name) or name
    return any(p.match(name) for p in (_PROVINCE_COL, _CITY_COL, _COUNTY_COL))


def _display_name(name: str, prefix: str) -> str:
    name = _translate_column(name) or name
    return name[len(prefix):] if prefix and name.startswith(prefix) and len(name) > len(prefix) + 1 else name


def _summary(*, holder_name: str, title: str, table: _Table, entry: _Entry | None, personal: bool,
             name_dates: list[str]) -> str:
    """One to three plain sentences, only from facts: who, what a row is, when, where, how much."""
    dimension, attribute, region, columns = table.dimension, table.attribute, table.region, table.columns
    parts = [f"{holder_name}提供的{title}" if holder_name else title]
    if dimension:
        by = _GRANULARITY_BY[dimension.granularity]
        by = f"按{by}分地区统计" if region and region.dimension else f"按{by}统计"
        parts.append(f"{by}（{_span(dimension)}）")
    else:
        row = entry.node.get("row") if entry else None
        if not row:
            named = next((str(c["name"])[:-2] for c in columns
                          if str(c.get("name") or "").endswith("名称") and len(str(c["name"])) > 3), None)
            if named:
                measure = next((m for word, m in _MEASURE_WORDS if named.endswith(word)), "个")
                row = f"一{measure}{named}"
        if row:
            parts.append(f"每行是{row}")
        if attribute:
            a, b = _format_when(attribute.start, "day"), _format_when(attribute.end, "day")
            parts.append(f"{attribute.column}为{a}" if a == b else f"{attribute.column}从{a}到{b}")
        elif name_dates:
            parts.append(f"时间为{'、'.join(name_dates[:2])}")
    if region:
        if region.scope == "national":
            parts.append(f"覆盖全国 {region.count} 个{_LEVEL_WORD[region.level]}")
        elif region.scope == "single" and region.name:
            parts.append(f"涉及{region.name}")
        elif region.scope == "multi":
            parts.append(f"涉及{region.name or ''} {region.count} 个{_LEVEL_WORD[region.level]}")
    parts.append(f"共 {table.row_count} 行")
    if table.stat_table:
        ranked = sorted(enumerate(table.indicators), key=lambda ic: (int(ic[1].get("null_count") or 0), ic[0]))
        shown = "、".join(_display_name(str(c["name"]), table.prefix) for _i, c in ranked[:2])
        count = len(table.indicators)
        parts.append(f"包括{shown}等 {count} 项指标" if count > 2 else f"指标为{shown}")
    elif table.headerless:
        parts[-1] = f"共 {table.row_count} 行、{len(columns)} 列（原表没有列名）"
    elif columns:
        meaningful = [_translate_column(str(c["name"])) or str(c["name"]) for c in table.body
                      if not re.fullmatch(r"序号|编号|id|no|备注|说明", str(c.get("name") or ""), re.I)
                      and str(c.get("name") or "").strip()]
        if meaningful:
            shown = "、".join(meaningful[:3])
            parts.append(f"包括{shown}等 {len(columns)} 个字段" if len(columns) > len(meaningful[:3])
                         else f"字段为{shown}")
    sentences = ["，".join(parts) + "。"]
    notes = []
    if table.has_coords:
        notes.append("含经纬度坐标，可在地图上展示")
    if personal:
        found = list(dict.fromkeys(_NAMING[c["semantic_type"]] for c in columns
                                   if c.get("semantic_type") in ("resident_id", "mobile", "person_name")))
        notes.append(f"含{'、'.join(found)}等个人信息，提供时自动脱敏" if found else "含个人信息，提供时自动脱敏")
    if notes:
        sentences.append("；".join(notes) + "。")
    return "".join(sentences)[:SUMMARY_MAX]
