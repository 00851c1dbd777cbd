"""Where the table starts and what its columns are called, then the row-by-row copy to a clean CSV
(private to listings.reading).

Layout is decided on the first SAMPLE_ROWS rows only; the copy then streams every row once. Cells are
classified as "" (empty), "T" (text), "N" (number, date, code, GUID, boolean) or "Y" (a period label such as
1978年 / 2019年3月, which is a name in a header and a value in a data column).

The copy has a fast form for big delimited text files (write_table(fast=True), see the last section): DuckDB
finds the lines that need no change, which are copied as bytes; the loop handles the rest, with the very same
output; whenever that cannot be guaranteed the loop runs over everything as before.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path

from listings.reading._errors import ReadError
from listings.reading._limits import ReadLimits, too_many_columns
from listings.reading._sources import Source

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


@dataclass
class Written:
    columns: list[str]
    header_row: int | None
    header_rows: int
    skipped_rows: list[int]
    unit: str | None
    missing_markers: list[str]
    row_count: int
    group_column: str | None
    warnings: list[str]
    loaded: bool = False  # the table is also in the DuckDB connection handed to write_table, as listings.profiling
    # loads it (`t`, columns c0…)


def write_table(source: Source, out: Path, *, fast: bool = False, max_columns: int | None = None,
                con=None) -> Written:
    """Detect the layout on a sample, then copy every data row to `out` as UTF-8 comma CSV.

    `fast`: for a delimited text file, the fast copy (the same output, see the last section) where it applies.
    `max_columns`: a sampled row filled beyond it is refused (ReadError read.too_many_columns) before any copy.
    `con`: a DuckDB connection into which the fast copy may also load the table for profiling (Written.loaded)."""
    rows = source.rows
    raw_sample = list(islice(rows, SAMPLE_ROWS))
    if max_columns is not None:
        _check_width(raw_sample, source.fixed_header, max_columns)
    sample = [[c.strip() for c in r] for r in raw_sample]
    if not any(_filled(r) for r in sample):
        raise ReadError("read.empty")
    warnings = list(source.warnings)
    ends = [max((i + 1 for i, c in enumerate(r) if c), default=0) for r in sample]
    if source.fixed_header is not None:
        layout = Layout([], 0)
        raw_names = [header_cell(str(k)) for k in source.fixed_header]
    else:
        wide = Counter(e for e, r in zip(ends, sample) if len(_filled(r)) >= 2)
        guess = max(wide, key=lambda n: (wide[n], n)) if wide else max(ends)
        layout = detect_layout(sample, guess)
        heads = [[header_cell(c) for c in sample[i]] for i in layout.header]
        raw_names = merge_two_rows(*heads) if len(heads) == 2 else (heads[0] if heads else [])
    data_sample = sample[layout.data_start:]
    # how many columns: up to the last named one, plus unnamed ones the sample has values in (a spreadsheet's
    # columns are all real; in text a trailing delimiter after the header only opens a column if data fills it)
    named = max((i + 1 for i, n in enumerate(raw_names) if n), default=0)
    filled = max(ends[layout.data_start:], default=0)
    if source.fixed_header is not None:
        width = len(raw_names)
    elif source.sheet_like or not layout.header:
        width = max(named, filled)
    else:
        width = max(named, min(len(raw_names), filled))
    if width == 0:
        raise ReadError("read.no_columns")
    raw_names = (raw_names + [""] * width)[:width]
    names, auto = [], set()
    for c, name in enumerate(raw_names):
        if not name:
            auto.add(c)
            name = (layout.header and content_name([_cell(r, c) for r in data_sample])) or f"列{c + 1}"
        names.append(name)

    group = _group_rule(data_sample, width)
    if group:
        names.append(GROUP_COLUMN)
    names = dedupe(names)
    repeat = (sample[layout.header[0]] + [""] * width)[:width] if len(layout.header) == 1 else None

    def copy(data_rows, unnamed: set[int]) -> _Stats:
        return _copy(data_rows, out, names, width, source.join_with, group, unnamed, first_raw=layout.data_start,
                     ragged_ok=source.sheet_like, repeat=repeat)

    stats, loaded = None, False
    if fast and not group and source.fixed_header is None and not source.sheet_like:
        fast_copy = _FastCopy(source, out, raw_sample[layout.data_start:], names, width, layout.data_start, auto,
                              repeat, con)
        stats = fast_copy.run(lambda items: copy(items, set()))
        loaded = fast_copy.loaded
    if stats is None:
        stats = copy(chain(sample[layout.data_start:], rows), auto)
    headerless = not layout.header and source.fixed_header is None
    if stats.drop:
        names = _drop_columns(out, names, stats.drop, renumber=width - len(stats.drop) if headerless else 0)
        warnings.append(f"已去掉 {len(stats.drop)} 个完全空白的列")
    if not names:
        raise ReadError("read.no_columns")
    if stats.rows == 0:
        raise ReadError("read.no_rows" if layout.header or source.fixed_header is not None else "read.empty")
    if layout.skipped:
        where = f"表头在第 {layout.header[0] + 1} 行" if layout.header else f"数据从第 {layout.data_start + 1} 行开始"
        warnings.append(f"已跳过开头的 {len(layout.skipped)} 行（标题、单位、说明或空行），{where}")
    if headerless:
        named_as = "“列1”" if len(names) == 1 else f"“列1”…“列{len(names)}”"
        warnings.append(f"没有找到表头行（第一行看起来就是数据），已把列命名为{named_as}，请改成有意义的列名")
    warnings += stats.notes
    return Written(
        columns=names, header_row=layout.header[-1] if layout.header else None,
        header_rows=1 if source.fixed_header is not None else len(layout.header),
        skipped_rows=layout.skipped, unit=layout.unit or stats.unit, missing_markers=stats.markers, row_count=stats.rows,
        group_column=names[-1] if group and stats.groups else None, warnings=warnings, loaded=loaded)


def _group_rule(data: list[list[str]], width: int):
    """A test for group rows (“北京市（92所）” alone in the first cell, between data rows), or None when the sample has
    none. Such a row differs in kind from the first column's data (text over 序号 numbers) or names a count."""
    if width < 3:
        return None
    first_kind = _dominant(data).get(0)

    def is_group(row: list[str]) -> bool:
        return bool(row and row[0] and not any(row[1:]) and not _NOTE.match(row[0]) and not _UNIT.fullmatch(row[0])
                    and (kind(row[0]) != first_kind or _GROUP.search(row[0])))

    hits = [i for i, r in enumerate(data) if is_group(r)]
    if hits and any(len(_filled(r)) >= 2 for r in data[hits[0] + 1:]):
        return is_group
    return None


@dataclass
class _Stats:
    rows: int = 0
    groups: int = 0
    unit: str | None = None  # from a unit row under the header
    markers: list[str] = field(default_factory=list)
    drop: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _copy(rows: Iterator[list[str] | _Block], out: Path, names: list[str], width: int, join_with: str,
          group, auto: set[int], first_raw: int, ragged_ok: bool, repeat: list[str] | None) -> _Stats:
    """Every row to `out` under the rules; a _Block (clean lines from the fast copy) goes out as it is."""
    stats = _Stats()
    empty_cols = set(auto)  # columns without a header name that have shown no value yet
    found: dict[str, int] = {}
    longer = shorter = notes = repeats = 0
    first_group = example = current = None
    strip, markers, clean = str.strip, MISSING_MARKERS, MISSING_MARKERS.isdisjoint  # hot loop: local names
    wide, block = width >= 3, _Block
    with out.open("w", encoding="utf-8", newline="") as fh:
        write = _Writer(fh)
        write(names)
        for raw_index, cells in enumerate(rows, first_raw):
            if cells.__class__ is block:  # (no row loop rule applies to a clean line: it is one more row)
                if len(cells.data) > 65536:  # straight to the file, after what is pending (a flush: a system call)
                    fh.flush()
                    fh.buffer.write(cells.data)
                else:
                    fh.write(cells.data.decode("utf-8"))
                stats.rows += cells.rows
                continue
            cells = list(map(strip, cells))
            if len(cells) != width:
                if len(cells) > width:
                    while len(cells) > width and not cells[-1]:
                        cells.pop()
                    if len(cells) > width:
                        longer += 1
                        cells[width - 1:] = [join_with.join(cells[width - 1:])]
                else:
                    shorter += any(cells)
                    cells += [""] * (width - len(cells))
            if not clean(cells):
                for c in cells:
                    if c in markers:
                        found[c] = found.get(c, 0) + 1
                cells = ["" if c in markers else c for c in cells]
            if not any(cells):
                continue
            if cells == repeat:  # the header again: files concatenated from several exports
                repeats += 1
                continue
            if wide and not cells[1] and not any(cells[1:]):  # only the first cell: a note, a group or data
                unit = _UNIT.fullmatch(cells[0])
                if unit or _NOTE.match(cells[0]):
                    notes += 1
                    if unit and not stats.unit:
                        stats.unit = unit.group(1)
                    continue
                if group and group(cells):
                    current = cells[0]
                    stats.groups += 1
                    if first_group is None:
                        first_group, example = raw_index, current
                    continue
            if group:
                cells.append(current or "")
            if empty_cols:
                empty_cols -= {c for c in empty_cols if cells[c]}
            write(cells)
            stats.rows += 1
    stats.drop = sorted(empty_cols)
    stats.markers = list(found)
    if stats.groups:
        stats.notes.append(f"第 {first_group + 1} 行起有 {stats.groups} 个分组行（如“{example}”），已转为“{names[-1]}”列")
    if longer:
        stats.notes.append(f"有 {longer} 行的字段比表头多，多出的内容已合并到最后一列“{names[width - 1]}”")
    if shorter and not ragged_ok:  # spreadsheet rows simply end at their last filled cell
        stats.notes.append(f"有 {shorter} 行的字段比表头少，缺少的单元格已留空")
    if found:
        shown = "、".join(f"“{m}”" for m in found)
        stats.notes.append(f"已把 {sum(found.values())} 个表示缺失的标记（{shown}）转为空值")
    if repeats:
        stats.notes.append(f"表格中间有 {repeats} 行是重复的表头，已去掉")
    if notes:
        stats.notes.append(f"已忽略 {notes} 行说明文字（如“注：…”“数据来源：…”“单位：…”）")
    return stats


class _Writer:
    """Rows to the output CSV: RFC 4180 quoting, and every field quoted in a row holding ; | ' or a tab, so that
    DuckDB's sniffer never takes one of those for the delimiter or the quote (it would, in a one-column file of
    values like a;b, or in values wrapped in single quotes)."""

    def __init__(self, fh):
        self.plain = csv.writer(fh, lineterminator="\r\n").writerow
        self.quoted = csv.writer(fh, lineterminator="\r\n", quoting=csv.QUOTE_ALL).writerow

    def __call__(self, row: list[str]) -> None:
        joined = "".join(row)
        risky = ";" in joined or "|" in joined or "\t" in joined or "'" in joined
        (self.quoted if risky else self.plain)(row)


def _drop_columns(path: Path, names: list[str], drop: list[int], renumber: int) -> list[str]:
    """Rewrite the CSV without the given columns (a rare second pass: trailing delimiters, blank sheet columns).
    `renumber` > 0: a headerless table, whose first `renumber` kept columns are named 列1..列N again."""
    dropped = set(drop)
    keep = [i for i in range(len(names)) if i not in dropped]
    new_names = [names[i] for i in keep]
    new_names[:renumber] = [f"列{n}" for n in range(1, renumber + 1)]
    tmp = path.with_name(path.name + ".cols")
    try:
        with path.open(encoding="utf-8", newline="") as src, tmp.open("w", encoding="utf-8", newline="") as dst:
            reader, write = csv.reader(src), _Writer(dst)
            next(reader)
            write(new_names)
            for row in reader:
                write([row[i] for i in keep])
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return new_names


# --- the fast copy ---------------------------------------------------------------------------------------------------
#
# For a big delimited text file the row loop (csv.reader → checks → csv.writer, some 9 µs a row) is most of the
# reading time. Most lines of such a file need no change at all: no quote, no marker, no whitespace around a cell,
# not empty, not a note or a repeated header, exactly `width` fields, nothing _Writer would quote (, " CR LF ; | '
# tab). Written out, such a line is the same bytes with the delimiter turned into commas and a CRLF at the end.
#
# So DuckDB reads the data lines (as whole lines: one column, no quoting) and tests each with one regular
# expression — one call a line, which is what costs. When every line passes, a thread has meanwhile copied the bytes
# behind the new header line (the file is done in about the time DuckDB needs to read it). Otherwise DuckDB lists the
# lines that fail, and _copy runs as always over a stream of the file in which the runs of clean lines come as ready
# bytes and every other line is parsed by Python's csv module exactly as before (with any continuation lines of a
# quoted cell): the rules all stay in _copy, and a clean line adds nothing to its counts but the row.
#
# Checks that keep it exact: the data start is found with Python's csv (the preamble's lines and bytes); DuckDB's
# line count and byte count must equal Python's (DuckDB's line split goes wrong when CRLF and LF are mixed); any
# DuckDB error (bad UTF-8, a lone CR, a line over 2 MB) or a lone CR inside a line runs the plain loop instead;
# so does a table whose sampled rows are mostly not clean (nothing to gain), or has group rows, or an unnamed
# column that no clean sampled row fills (its emptiness could not be told). Other encodings (GBK, GB18030, UTF-16)
# are first transcoded in big chunks to a temporary UTF-8 file.

_SPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
          "\u2009\u200a\u2028\u2029\u202f\u205f\u3000")  # what str.strip() removes (a test checks)
_QUOTED = '",\r\n;|\'\t'  # a cell holding one of these is quoted by _Writer (or the whole row is)
_FAST_MAX_DIRTY = 0.3  # when more lines than this need the row loop, routing costs about what it saves
_CHUNK = 4 * 1024**2  # Python reads and writes in blocks of this size (a few copies each: memory stays ~100 MB)


class _Redo(Exception):
    """The fast copy found it cannot be exact after all: run the plain loop."""


@dataclass
class _Block:
    """Clean lines, as _Writer would write them (UTF-8)."""
    data: bytes
    rows: int


def _re2(text: str) -> str:
    """`text` as RE2 literals (letters as they are, everything else as \\x{…})."""
    return "".join(ch if ch.isalnum() else f"\\x{{{ord(ch):x}}}" for ch in text)


def _sql_str(text: str) -> str:
    """A SQL string literal; control characters go in as chr(n)."""
    parts = re.split(r"([\x00-\x1f])", text)
    out = [f"chr({ord(p)})" if len(p) == 1 and p < " " else "'" + p.replace("'", "''") + "'" for p in parts if p]
    return "(" + (" || ".join(out) or "''") + ")"


def _line(cells: list[str]) -> bytes:
    buf = io.StringIO()
    _Writer(buf)(cells)
    return buf.getvalue().encode("utf-8")


class _FastCopy:
    """Set up by write_table for a delimited text file; `run` gives the _Stats, or None for the plain loop."""

    def __init__(self, source: Source, out: Path, data: list[list[str]], names: list[str], width: int,
                 data_start: int, auto: set[int], repeat: list[str] | None, con=None):
        self.source, self.out, self.data, self.names, self.width = source, out, data, names, width
        self.data_start, self.auto, self.repeat = data_start, auto, repeat
        self.con = con  # the profiler's DuckDB connection, if any: a clean file is loaded into it (_reading_loaded)
        self.loaded = False
        self.d = source.delimiter or ""
        self.tmp = out.with_name(out.name + ".utf8")
        self.path: Path | None = None

    def clean(self, row: list[str]) -> bool:
        """Whether the row loop would write this raw row as it is (so its line is the output line)."""
        return (len(row) == self.width and any(row) and row != self.repeat
                and (self.width < 3 or any(row[1:]))  # not only the first cell: a note, a unit, a group
                and all(c == c.strip() and c not in MISSING_MARKERS and not any(ch in c for ch in _QUOTED + self.d)
                        for c in row))

    def run(self, copy) -> _Stats | None:
        """`copy(rows)`: _copy with the other arguments bound (no unnamed column left to watch: the clean sampled
        rows fill them all, or this returns None)."""
        if len(self.d) != 1 or self.d in '"\r\n' or self.source.path is None or not self.data:
            return None
        clean = [r for r in self.data if self.clean(r)]
        if len(clean) < (1 - _FAST_MAX_DIRTY) * len(self.data):
            return None
        if any(not any(r[c] for r in clean) for c in self.auto):
            return None  # an unnamed column no clean row fills: clean lines further on might, unseen by _copy
        import duckdb

        try:
            if self.source.codec in ("utf-8", "utf-8-sig"):
                self.path = self.source.path
            elif self.source.codec and _transcode(self.source.path, self.source.codec, self.tmp):
                self.path = self.tmp
            else:
                return None
            pre = _preamble(self.path, self.d, self.data_start)
            if pre is None:
                return None
            self.skip, self.offset = pre
            got = None
            if len(clean) == len(self.data) and self.con is not None:  # check, copy and load at once
                from listings.reading._loaded import load_and_check

                got = load_and_check(self, self.con)
                if got is not None and not got[2]:
                    self.loaded = True
                    return _Stats(rows=got[0])
            con = duckdb.connect(":memory:", config={"threads": 2, "preserve_insertion_order": True})
            try:
                if got is not None:  # some lines are dirty: which ones, below
                    lines, dirty = got[0], got[2]
                elif len(clean) == len(self.data):  # probably all clean: check and copy at once
                    lines, size, dirty = self._verbatim(con)
                    if not dirty:
                        return _Stats(rows=lines)
                else:
                    lines, dirty = _count_lines(self.path, self.offset), 0  # enough for the bit string
                if dirty > _FAST_MAX_DIRTY * lines:
                    return None
                lines, size, bits = con.execute(self._query(bits=max(lines, 1))).fetchone()
            finally:
                con.close()
            bits = bits or ""  # no dirty line after all
            if not lines or bits.count("1") > _FAST_MAX_DIRTY * lines:
                return None
            return copy(self._rows(bits, lines, size))
        except (duckdb.Error, _Redo):
            return None
        finally:
            self.tmp.unlink(missing_ok=True)

    def _query(self, bits: int = 0) -> str:
        """DuckDB's line count, byte count (line ends left out), and how many lines are not clean — or which: a bit
        string with a 1 for each (line `bits` ≥ the line count)."""
        d, n = _re2(self.d), self.width
        space = "[" + _re2(_SPACE.replace(self.d, "")) + "]"
        markers = "|".join(_re2(m) for m in sorted(MISSING_MARKERS, key=len, reverse=True))
        bad = ["[" + _re2("".join(ch for ch in _QUOTED if ch != self.d)) + "]",  # to quote (or odd: a lone CR)
               f"(?:^|{d}){space}", f"{space}(?:{d}|$)",  # a cell to strip
               f"(?:^|{d})(?:{markers})(?:{d}|$)",  # a marker
               f"^(?:{d})*$",  # an empty row
               f"^(?:[^{d}]*{d}){{{n}}}"]  # too many fields
        if n >= 2:
            bad.append(f"^[^{d}]*(?:{d}[^{d}]*){{0,{n - 2}}}$")  # too few
        if n >= 3:
            bad.append(f"{d}{{{n - 1}}}$")  # only the first cell filled
        test = f"l IS NULL OR regexp_matches(l, {_sql_str('|'.join(bad))})"  # one call a line: the call is the cost
        if self.repeat is not None:
            test += f" OR l = {_sql_str(self.d.join(self.repeat))}"
        lines = (f"read_csv({_sql_str(str(self.path))}, delim={_sql_str(chr(1) + chr(2) + chr(3))}, quote='', "
                 f"escape='', header=false, skip={self.skip}, columns={{'l': 'VARCHAR'}}, auto_detect=false, "
                 f"strict_mode=true, all_varchar=true, buffer_size={8 * 1024**2})")  # (32 MB by default)
        if bits:
            return (f"SELECT count(*), coalesce(sum(strlen(l)), 0), bitstring_agg(n, 1, {bits}) FILTER (WHERE {test}) "
                    f"FROM (SELECT row_number() OVER () AS n, l FROM {lines})")
        return f"SELECT count(*), coalesce(sum(strlen(l)), 0), count(*) FILTER (WHERE {test}) FROM {lines}"

    def _verbatim(self, con) -> tuple[int, int, int]:
        """The check, while a thread copies the lines as they are behind the header: (lines, bytes, dirty lines),
        where dirty = 0 means the output is done."""
        stop, result = threading.Event(), {}
        copier = threading.Thread(target=_copy_bytes, daemon=True, args=(
            self.path, self.offset, self.out, _line(self.names), self.d.encode(), stop, result))
        copier.start()
        got = None
        try:
            got = con.execute(self._query()).fetchone()
        finally:
            if got is None or got[2]:
                stop.set()
            copier.join()
        if "error" in result:
            raise result["error"]
        lines, size, dirty = got
        if not dirty and (lines, size) != (result.get("lines"), result.get("size")):
            raise _Redo  # DuckDB split the lines otherwise than Python (mixed line ends after `skip`)
        return got

    def _rows(self, bits: str, lines: int, size: int) -> Iterator[list[str] | _Block]:
        """The data rows for _copy: runs of clean lines as _Blocks, the other lines parsed by Python's csv."""
        table = None if self.d == "," else bytes.maketrans(self.d.encode(), b",")
        blocks = _blocks(self.path, self.offset)
        todo: list[bytes] = []  # the current block's lines (each with its line end), handed out up to `at`
        at = no = 0  # `no`: lines handed out so far (DuckDB numbers them from 1)
        read = [0, 0]  # lines and bytes (without line ends) read so far: DuckDB's counts at the end

        def load() -> tuple[bytes, int] | None:
            block = next(blocks, None)
            if block is None:
                return None
            ends = block.count(b"\n")
            n = ends + (not block.endswith(b"\n"))  # the last line of the file may lack its line end
            read[0] += n
            read[1] += len(block) - ends - block.count(b"\r")  # (a lone CR fails DuckDB's read)
            return block, n

        def split(block: bytes, n: int) -> list[bytes]:
            parts = block.splitlines(keepends=True)
            if len(parts) != n:
                raise _Redo  # a lone CR: a line end to Python's csv, not to DuckDB's numbering
            return parts

        def output(run: bytes, n: int) -> _Block:  # `n` clean lines: only CRLF or LF ends, no other CR
            if not run.endswith(b"\n"):
                run += b"\n"
            if table is not None:
                run = run.translate(table)
            crs = run.count(b"\r")
            if crs != n:
                run = (run.replace(b"\r\n", b"\n") if crs else run).replace(b"\n", b"\r\n")
            return _Block(run, n)

        def more() -> Iterator[str]:  # for the csv reader: the dirty line, then any lines a quoted cell goes on to
            nonlocal todo, at, no
            while True:
                while at < len(todo):
                    line = todo[at]
                    at += 1
                    no += 1
                    yield line.decode("utf-8")
                got = load()
                if got is None:
                    return
                todo, at = split(*got), 0

        reader = csv.reader(more(), delimiter=self.d)
        while True:
            if at == len(todo):  # between blocks: one without a dirty line goes out whole
                got = load()
                if got is None:
                    break
                block, n = got
                dirty = bits.find("1", no)  # the next dirty line (0-based)
                if dirty < 0 or dirty >= no + n:
                    no += n
                    yield output(block, n)
                    continue
                todo, at = split(block, n), 0
            dirty = bits.find("1", no)
            stop = len(todo) if dirty < 0 else min(len(todo), at + dirty - no)
            if stop > at:  # the clean lines before the next dirty one
                run, n = b"".join(todo[at:stop]), stop - at
                no += n
                at = stop
                yield output(run, n)
                continue
            yield next(reader)  # the dirty line: one record, as the row loop reads it (a quoted cell may go on)
        if read != [lines, size] or no != lines:
            raise _Redo


def _blocks(path: Path, offset: int) -> Iterator[bytes]:
    """The file from `offset` in blocks of whole lines (the last one may lack its line end)."""
    with path.open("rb") as fh:
        fh.seek(offset)
        carry = b""
        while chunk := fh.read(_CHUNK):
            block = carry + chunk
            cut = block.rfind(b"\n") + 1
            if cut:
                yield block[:cut]
            carry = block[cut:]
        if carry:
            yield carry


def _count_lines(path: Path, offset: int) -> int:
    with path.open("rb") as fh:
        fh.seek(offset)
        n, last = 0, b"\n"
        while chunk := fh.read(_CHUNK):
            n += chunk.count(b"\n")
            last = chunk[-1:]
        return n + (last != b"\n")


def _transcode(src: Path, codec: str, dst: Path) -> bool:
    """`src` decoded with `codec` into `dst` as UTF-8; False if it does not decode (the row loop then says why)."""
    decoder = codecs.getincrementaldecoder(codec)()
    try:
        with src.open("rb") as fin, dst.open("wb") as fout:
            while chunk := fin.read(_CHUNK):
                fout.write(decoder.decode(chunk).encode("utf-8"))
            fout.write(decoder.decode(b"", final=True).encode("utf-8"))
    except UnicodeDecodeError:
        return False
    return True


def _preamble(path: Path, delimiter: str, records: int) -> tuple[int, int] | None:
    """(lines, bytes) the first `records` records of the UTF-8 file take as Python's csv reads them (a BOM counts as
    preamble); None when they hold a lone CR (a line end to Python's csv, not to a line split) or do not read."""
    sizes: list[int] = []

    def lines():
        with path.open("rb") as fh:
            for raw in fh:
                sizes.append(len(raw))
                if raw.count(b"\r") > raw.endswith(b"\r\n"):
                    raise ValueError("lone CR")
                yield raw.decode("utf-8-sig" if len(sizes) == 1 else "utf-8")

    try:
        reader = csv.reader(lines(), delimiter=delimiter)
        for _ in range(records):
            next(reader)
    except (StopIteration, ValueError, csv.Error):  # UnicodeDecodeError is a ValueError
        return None
    if not sizes:
        with path.open("rb") as fh:
            return 0, len(codecs.BOM_UTF8) if fh.read(3) == codecs.BOM_UTF8 else 0
    return len(sizes), sum(sizes)


def _copy_bytes(src: Path, offset: int, out: Path, header: bytes, delimiter: bytes, stop: threading.Event,
                result: dict) -> None:
    """`out` = `header` + the lines of `src` from `offset` with the delimiter turned into commas and every line
    ended by CRLF; result["lines"], result["size"]: how many lines, and their bytes without the line ends (a thread:
    stops early when `stop` is set)."""
    table = None if delimiter == b"," else bytes.maketrans(delimiter, b",")
    lines = size = 0
    try:
        with out.open("wb") as fout:
            fout.write(header)
            for block in _blocks(src, offset):
                if stop.is_set():
                    return
                if not block.endswith(b"\n"):
                    block += b"\n"
                ends = block.count(b"\n")
                lines += ends
                if table is not None:
                    block = block.translate(table)
                if b"\r" in block:
                    pairs = block.count(b"\r\n")
                    size += len(block) - ends - pairs
                    if pairs != ends:  # mixed line ends (a lone CR fails the check anyway)
                        block = block.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
                else:
                    size += len(block) - ends
                    block = block.replace(b"\n", b"\r\n")
                fout.write(block)
        result["lines"], result["size"] = lines, size
    except BaseException as exc:  # handed to the waiting thread
        result["error"] = exc
