"""Where the table starts and what its columns are called (private to listings.reading): cell kinds,
the header row among title and unit rows, two-row merged headers, names for empty header cells,
de-duplicated names, and the width limit."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from dataclasses import field

from listings.reading._limits import ReadLimits
from listings.reading._limits import too_many_columns


SAMPLE_ROWS = 200
HEADER_SCAN = 15
MISSING_MARKERS = frozenset({"N/A", "NA", "n/a", "-", "—", "--", "-;", "无", "null", "NULL", "None", "#N/A"})
GROUP_COLUMN = "分组"

_NUMBER = re.compile(r"[+-]?[¥$]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][+-]?\d+)?%?")
_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?|\d{4}年\d{1,2}月\d{1,2}日"
                   r"|\d{1,2}:\d{2}(?::\d{2})?")
_PERIOD = re.compile(r"(?:19|20)\d{2}\s*(?:年|年度)?|(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月份?"
                     r"|(?:19|20)\d{2}\s*年?\s*第?[一二三四1-4]\s*季度")
_GUID = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-_/.]*")
_UNIT = re.compile(r"[（(【\[]?\s*(?:计量|数据|金额)?单位\s*[：:]\s*(.+?)\s*[）)】\]]?")
_NOTE = re.compile(r"(?:注|备注|说明|数据来源|资料来源|来源|制表|填报|填表)\s*[0-9一二三四五]*\s*[：:]")
_GROUP = re.compile(r"[（(]\s*(?:共\s*)?\d+\s*[所个家项条人户座处]?\s*[）)]")
_CONTENT_NAMES = (  # an empty header cell over values like these gets this name
    ("年份", re.compile(r"(?:19|20)\d{2}\s*年")),
    ("月份", re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月份?")),
    ("季度", re.compile(r"\d{4}\s*年?\s*第?[一二三四1-4]\s*季度")),
    ("日期", re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{4}年\d{1,2}月\d{1,2}日")),
    ("地区", re.compile(r".{1,15}(?:省|市|自治区|特别行政区|地区|县|区|旗|盟|州)")),
)


def kind(cell: str) -> str:
    if not cell:
        return ""
    if _PERIOD.fullmatch(cell):
        return "Y"
    if _NUMBER.fullmatch(cell) and any(ch.isdigit() for ch in cell):
        return "N"
    if _DATE.fullmatch(cell) or _GUID.fullmatch(cell) or cell.lower() in ("true", "false"):
        return "N"
    if _CODE.fullmatch(cell):
        digits = sum(ch.isdigit() for ch in cell)
        if digits >= 4 and digits * 2 >= len(cell):
            return "N"  # 1001A, 91152201078377449P — but not PM2.5 or SO2
    return "T"


def _filled(row: list[str]) -> list[str]:
    return [c for c in row if c]


def _cell(row: list[str], i: int) -> str:
    return row[i] if i < len(row) else ""


def _dominant(rows: list[list[str]]) -> dict[int, str]:
    """The most common kind of each column over rows with at least two filled cells."""
    tallies: dict[int, Counter] = {}
    for row in rows:
        if len(_filled(row)) >= 2:
            for i, c in enumerate(row):
                if c:
                    tallies.setdefault(i, Counter())[kind(c)] += 1
    return {i: t.most_common(1)[0][0] for i, t in tallies.items()}


def _header_like(row: list[str], width: int, *, distinct: bool = True, data: dict[int, str] | None = None) -> bool:
    """Mostly filled, mostly text, distinct, and no number where the data below has numbers too."""
    cells = _filled(row)
    if len(cells) < (1 if width <= 1 else max(2, math.ceil(width / 2))):
        return False
    kinds = [kind(c) for c in row]
    text, period = kinds.count("T"), kinds.count("Y")
    if text == 0 or (text + period) / len(cells) < 0.7:
        return False
    if distinct and len(set(cells)) * 2 <= len(cells):  # duplicates happen (名称, 名称) but not mostly
        return False
    return not any(k == "N" and (data or {}).get(i) == "N" for i, k in enumerate(kinds))


def _unit(row: list[str], width: int) -> str | None:
    cells = _filled(row)
    if len(cells) <= max(2, width // 2):
        for c in cells:
            if m := _UNIT.fullmatch(c):
                return m.group(1)
    return None


@dataclass
class Layout:
    header: list[int]  # raw indexes of the header rows: [], [i] or [upper, lower]
    data_start: int
    skipped: list[int] = field(default_factory=list)
    unit: str | None = None


def detect_layout(sample: list[list[str]], width: int) -> Layout:
    def next_filled(i: int | None) -> int | None:
        for j in range((i if i is not None else -1) + 1, len(sample)):
            if _filled(sample[j]):
                return j
        return None

    skipped: list[int] = []
    unit = None
    for i in range(min(len(sample), HEADER_SCAN)):
        row, cells = sample[i], _filled(sample[i])
        j = next_filled(i)
        if not cells:
            skipped.append(i)
            continue
        if (u := _unit(row, width)) is not None:
            unit = unit or u
            skipped.append(i)
            continue
        title = len(cells) == 1 and kind(cells[0]) != "N" and (
            width >= 3 or (width == 2 and j is not None and _header_like(sample[j], width)))
        if title or (len(cells) <= 2 and _NOTE.match(cells[0])):
            skipped.append(i)
            continue
        k = next_filled(j)
        lower, after = (sample[j] if j is not None else None), (sample[k] if k is not None else None)
        if lower is not None and _two_row(row, lower, after, width):
            return Layout([i, j], j + 1, skipped, unit)
        if _header_like(row, width, data=_dominant(sample[i + 1: i + 21])):
            return Layout([i], i + 1, skipped, unit)
        if all(kind(c) != "N" for c in cells) and len(cells) < width / 2:
            skipped.append(i)  # a sparse line of text before the header, e.g. “制表单位：…  日期：…”
            continue
        return Layout([], i, skipped, unit)  # the first row already looks like data
    first = next_filled(None) or 0
    return Layout([], first, list(range(first)), unit)


def _two_row(upper: list[str], lower: list[str], after: list[str] | None, width: int) -> bool:
    """A sparse upper row of group labels (value, then blanks under the merge) over a full row of names."""
    if after is None or not _header_like(lower, width, distinct=False):
        return False
    if any(kind(c) == "N" for c in upper if c) or not _filled(upper):
        return False
    n = max(len(upper), len(lower))
    gap = any(not _cell(upper, g) and _cell(lower, g) and any(upper[:g]) for g in range(n))
    if not gap:
        return False
    if _header_like(after, width, distinct=False) and not any(
            kind(_cell(lower, c)) == "T" and kind(_cell(after, c)) == "N" for c in range(n)):
        return False  # the row under it is text too: the "lower header" is just the first data row
    names = [n for n in merge_two_rows(upper, lower) if n]
    return len(set(names)) >= 0.8 * len(names)


def merge_two_rows(upper: list[str], lower: list[str]) -> list[str]:
    """“2019年” over “门诊人次”, “住院人次” → “2019年 门诊人次”, “2019年 住院人次”."""
    names, carry = [], ""
    for c in range(max(len(upper), len(lower))):
        top, bottom = _cell(upper, c), _cell(lower, c)
        if top:
            carry = top if bottom else ""  # a label with nothing under it is a vertical merge: carry nothing
        label = top or (carry if bottom else "")
        names.append(" ".join(p for p in (label, bottom) if p))
    return names


def header_cell(text: str) -> str:
    return re.sub(r"\s*[\r\n]+\s*", " ", text).strip()


def content_name(values: list[str]) -> str | None:
    values = [v for v in values if v]
    if values:
        for name, pattern in _CONTENT_NAMES:
            if sum(1 for v in values if pattern.fullmatch(v)) >= 0.8 * len(values):
                return name
    return None


def dedupe(names: list[str]) -> list[str]:
    seen: set[str] = set()
    last: dict[str, int] = {}  # the suffix a name last got: one name 10,000 times must not cost 10,000² lookups
    out = []
    for name in names:
        n = last.get(name, 1)
        unique = name if n == 1 else f"{name}_{n}"
        while unique in seen:
            n += 1
            unique = f"{name}_{n}"
        last[name] = n
        seen.add(unique)
        out.append(unique)
    return out


def _check_width(sample: list[list[str]], fixed_header: list[str] | None, limit: int) -> None:
    widest = len(fixed_header or ())
    for row in sample:
        if len(row) > limit:  # trailing empty cells (a trailing delimiter, a blank sheet column) do not count
            widest = max(widest, next((i + 1 for i in range(len(row) - 1, -1, -1) if row[i].strip()), 0))
    if widest > limit:
        raise too_many_columns(widest, ReadLimits(max_columns=limit))
