"""Where the table starts and what its columns are called, then the row-by-row copy to a clean CSV
(private to listings.reading).

Layout is decided on the first SAMPLE_ROWS rows only; the copy then streams every row once. Cells are
classified as "" (empty), "T" (text), "N" (number, date, code, GUID, boolean) or "Y" (a period label such as
1978年 / 2019年3月, which is a name in a header and a value in a data column).

The copy has a fast form for big delimited text files (write_table(fast=True), see the last section): DuckDB
copies the rows instead of the Python loop, with the very same output, and whenever that cannot be guaranteed
the loop runs as before.
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

from listings._reading_errors import ReadError
from listings._reading_sources import Source

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
    out = []
    for name in names:
        unique, n = name, 1
        while unique in seen:
            n += 1
            unique = f"{name}_{n}"
        seen.add(unique)
        out.append(unique)
    return out


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


def write_table(source: Source, out: Path, *, fast: bool = False) -> Written:
    """Detect the layout on a sample, then copy every data row to `out` as UTF-8 comma CSV.

    `fast`: a delimited text file is copied by DuckDB when that gives exactly what the row loop gives."""
    rows = source.rows
    raw_sample = list(islice(rows, SAMPLE_ROWS))
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
    headerless = not layout.header and source.fixed_header is None
    stats = None
    if fast and not group and source.path is not None and source.fixed_header is None and not source.sheet_like:
        stats = _fast_copy(source, out, raw_sample[layout.data_start:], names, width, layout.data_start, auto,
                           repeat, headerless)
    if stats is None:
        stats = _copy(chain(sample[layout.data_start:], rows), out, names, width, source.join_with,
                      group, auto, first_raw=layout.data_start, ragged_ok=source.sheet_like, repeat=repeat)
    if stats.drop:
        renumber = width - len(stats.drop) if headerless else 0
        names = stats.names or _drop_columns(out, names, stats.drop, renumber=renumber)
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
        group_column=names[-1] if group and stats.groups else None, warnings=warnings)


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
    names: list[str] | None = None  # the names left after `drop`, when the copy already left those columns out


def _copy(rows: Iterator[list[str]], out: Path, names: list[str], width: int, join_with: str,
          group, auto: set[int], first_raw: int, ragged_ok: bool, repeat: list[str] | None) -> _Stats:
    stats = _Stats()
    empty_cols = set(auto)  # columns without a header name that have shown no value yet
    found: dict[str, int] = {}
    longer = shorter = notes = repeats = 0
    first_group = example = current = None
    strip, markers, clean = str.strip, MISSING_MARKERS, MISSING_MARKERS.isdisjoint  # hot loop: local names
    wide = width >= 3
    with out.open("w", encoding="utf-8", newline="") as fh:
        write = _Writer(fh)
        write(names)
        for raw_index, cells in enumerate(rows, first_raw):
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
    _notes(stats, names, width, longer, shorter and not ragged_ok, sum(found.values()), repeats, notes)
    return stats


def _notes(stats: _Stats, names: list[str], width: int, longer: int, shorter: int, found: int, repeats: int,
           notes: int) -> None:
    """The copy's warnings (shared by the row loop and the fast copy, in this order)."""
    if longer:
        stats.notes.append(f"有 {longer} 行的字段比表头多，多出的内容已合并到最后一列“{names[width - 1]}”")
    if shorter:  # not for spreadsheets: their rows simply end at the last filled cell
        stats.notes.append(f"有 {shorter} 行的字段比表头少，缺少的单元格已留空")
    if found:
        shown = "、".join(f"“{m}”" for m in stats.markers)
        stats.notes.append(f"已把 {found} 个表示缺失的标记（{shown}）转为空值")
    if repeats:
        stats.notes.append(f"表格中间有 {repeats} 行是重复的表头，已去掉")
    if notes:
        stats.notes.append(f"已忽略 {notes} 行说明文字（如“注：…”“数据来源：…”“单位：…”）")


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
    new_names = _kept_names(names, drop, renumber)
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


def _kept_names(names: list[str], drop: list[int], renumber: int) -> list[str]:
    dropped = set(drop)
    kept = [n for i, n in enumerate(names) if i not in dropped]
    kept[:renumber] = [f"列{n}" for n in range(1, renumber + 1)]
    return kept


# --- the fast copy ---------------------------------------------------------------------------------------------------
#
# For a big delimited text file the row loop of _copy (csv.reader → checks → csv.writer, some 9 µs a row) is most of
# the upload's reading time. DuckDB parses and writes CSV much faster, so when the layout found on the sample allows
# it the rows are copied through DuckDB under the same rules, and written byte for byte as _Writer writes them:
#
#   verbatim  the data lines need no change at all: no quotes, no markers, no whitespace around a cell, no empty,
#             note or repeated-header line, every line `width` fields, no ; | ' or tab (so _Writer quotes nothing).
#             DuckDB checks every line with two regular expressions while a thread copies the bytes behind the new
#             header line (delimiter → comma, line ends → CRLF).
#   sql       DuckDB reads the cells (strict_mode: a row of another length is an error) and does what _copy does —
#             strip, join surplus fields into the last column, blank the markers, drop empty, repeated-header and
#             note rows, drop unnamed columns that stay empty — in two passes: the counts for the warnings, then a
#             COPY of the finished lines (quoted like _Writer, in the file's order).
#
# Whatever DuckDB might read differently from Python's csv module sends the file back to the row loop, which then
# runs exactly as before: any DuckDB error (a ragged row past the sample, a stray quote, bad UTF-8, a lone CR, a line
# over 2 MB), a field opening with spaces before a quote (DuckDB reads it as quoted, Python's csv as text), first rows
# that differ from the sample, ragged sample rows, group rows. Other encodings (GBK, GB18030, UTF-16) are transcoded
# to a temporary UTF-8 file in big chunks first.

_SPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
          "\u2009\u200a\u2028\u2029\u202f\u205f\u3000")  # what str.strip() removes and re's \s matches (tested)
_RISKY = ";|\t'"  # _Writer quotes every field of a row holding one of these
_FAST_MAX_EXTRA = 16  # surplus fields per row (beyond the width) the SQL joins into the last column
_FAST_MAX_FIELDS = 1000  # RE2's repetition limit
_CHUNK = 16 * 1024**2


def _re2(text: str) -> str:
    """`text` as RE2 literals (letters as they are, everything else as \\x{…})."""
    return "".join(ch if ch.isalnum() else f"\\x{{{ord(ch):x}}}" for ch in text)


def _sql_str(text: str) -> str:
    """A SQL string literal; control characters go in as chr(n)."""
    parts = re.split(r"([\x00-\x1f])", text)
    out = [f"chr({ord(p)})" if len(p) == 1 and p < " " else "'" + p.replace("'", "''") + "'" for p in parts if p]
    return " || ".join(out) or "''"


_S = "[" + _re2(_SPACE) + "]"
_UNIT_RE2 = "^(?:" + _UNIT.pattern.replace(r"\s", _S) + ")$"
_NOTE_RE2 = "^(?:" + _NOTE.pattern.replace(r"\s", _S) + ")"
_MARKERS_SQL = ", ".join(_sql_str(m) for m in sorted(MISSING_MARKERS))


def _line(cells: list[str]) -> str:
    buf = io.StringIO()
    _Writer(buf)(cells)
    return buf.getvalue()


def _fast_copy(source: Source, out: Path, data: list[list[str]], names: list[str], width: int, data_start: int,
               auto: set[int], repeat: list[str] | None, headerless: bool) -> _Stats | None:
    """The copy of _copy done through DuckDB, or None when that cannot be done exactly (nothing else happened then,
    except perhaps a partial `out`, which the row loop overwrites). `data`: the sampled data rows, unstripped."""
    filled = [r for r in data if r]  # an empty line is [] to Python's csv; DuckDB skips it
    delimiter = source.delimiter or ""
    n = len(filled[0]) if filled else 0
    if (not filled or len(delimiter) != 1 or delimiter in '"\r\n' or source.path is None
            or not width <= n <= min(width + _FAST_MAX_EXTRA, _FAST_MAX_FIELDS) or any(len(r) != n for r in filled)):
        return None
    import duckdb

    tmp = out.with_name(out.name + ".utf8")
    try:
        if source.codec in ("utf-8", "utf-8-sig"):
            path = source.path
        elif source.codec and _transcode(source.path, source.codec, tmp):
            path = tmp
        else:
            return None
        con = duckdb.connect(":memory:", config={"threads": 2, "preserve_insertion_order": True})
        try:
            job = _FastJob(con, duckdb.Error, path, out, delimiter, n, width, data_start, data, names, auto,
                           repeat, headerless, source.join_with)
            if not job.aligned():
                return None
            return (job.verbatim() if job.verbatim_likely() else None) or job.by_sql()
        except duckdb.Error:
            return None
        finally:
            con.close()
    finally:
        tmp.unlink(missing_ok=True)


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
    """(lines, bytes) the first `records` CSV records of the UTF-8 file take, as Python's csv reads them; None if
    they hold a lone CR (a line end to Python, not to a line split) or do not read."""
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


def _space_before_quote(path: Path, delimiter: str) -> bool:
    """Whether a field opens with spaces and then a quote, like `1, "a",2`: DuckDB reads it as the quoted field a,
    Python's csv as the text ` "a"`."""
    spaced = re.compile(rb' +"')
    ends = (delimiter.encode(), b"\n", b"\r")
    with path.open("rb") as fh:
        carry = b""
        while True:
            chunk = fh.read(_CHUNK)
            block = carry + chunk
            if chunk:  # whole lines only: the pattern never crosses a line end
                cut = block.rfind(b"\n") + 1
                block, carry = block[:cut], block[cut:]
            for m in spaced.finditer(block):
                if m.start() == 0 or block[m.start() - 1: m.start()] in ends:
                    return True
            if not chunk:
                return False


def _copy_bytes(src: Path, offset: int, out: Path, header: bytes, delimiter: bytes, stop: threading.Event,
                result: dict) -> None:
    """`out` = `header` + the lines of `src` from `offset` with the delimiter turned into commas and every line
    ended by CRLF; result["lines"] = how many lines (a thread: stops early when `stop` is set)."""
    table = None if delimiter == b"," else bytes.maketrans(delimiter, b",")
    lines = 0

    def clean(block: bytes) -> bytes:
        nonlocal lines
        ends = block.count(b"\n")
        lines += ends
        if table is not None:
            block = block.translate(table)
        if b"\r" not in block:
            return block.replace(b"\n", b"\r\n")
        if block.count(b"\r\n") != ends:  # mixed line ends (a lone CR fails the check anyway)
            block = block.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        return block

    try:
        with src.open("rb") as fin, out.open("wb") as fout:
            fin.seek(offset)
            fout.write(header)
            carry = b""
            while not stop.is_set():
                chunk = fin.read(_CHUNK)
                if not chunk:
                    if carry:  # the last line has no line end
                        fout.write(clean(carry + b"\n"))
                    result["lines"] = lines
                    break
                block = carry + chunk
                cut = block.rfind(b"\n") + 1
                block, carry = block[:cut], block[cut:]
                fout.write(clean(block))
    except BaseException as exc:  # handed to the waiting thread
        result["error"] = exc


def _sample_markers(rows: list[list[str]], width: int, join_with: str) -> list[str]:
    """The markers the row loop finds in these rows, in the order it finds them."""
    found: dict[str, None] = {}
    for cells in rows:
        cells = [c.strip() for c in cells]
        if len(cells) > width:
            while len(cells) > width and not cells[-1]:
                cells.pop()
            if len(cells) > width:
                cells[width - 1:] = [join_with.join(cells[width - 1:])]
        found.update((c, None) for c in cells if c in MISSING_MARKERS)
    return list(found)


class _FastJob:
    def __init__(self, con, error: type[Exception], path: Path, out: Path, delimiter: str, n: int, width: int,
                 data_start: int, data: list[list[str]], names: list[str], auto: set[int],
                 repeat: list[str] | None, headerless: bool, join_with: str):
        self.con, self.error, self.path, self.out, self.d, self.n = con, error, path, out, delimiter, n
        self.width = width
        self.data_start, self.data, self.names, self.auto, self.repeat = data_start, data, names, sorted(auto), repeat
        self.headerless, self.join_with = headerless, join_with
        columns = ", ".join(f"'c{j}': 'VARCHAR'" for j in range(n))
        self.src = (f"read_csv({_sql_str(str(path))}, delim={_sql_str(delimiter)}, quote='\"', escape='\"', "
                    f"header=false, skip={data_start}, columns={{{columns}}}, auto_detect=false, strict_mode=true, "
                    f"null_padding=false, all_varchar=true)")

    def aligned(self) -> bool:
        """DuckDB's first rows are the sampled ones, cell for cell (same record boundaries, same quoting)."""
        want = [r for r in self.data if any(r)]
        got = self.con.execute(f"SELECT * FROM {self.src} LIMIT {len(self.data)}").fetchall()
        got = [[c or "" for c in r] for r in got]
        return [r for r in got if any(r)][:len(want)] == want

    # -- verbatim ------------------------------------------------------------------------------------------------

    def verbatim_likely(self) -> bool:
        """The sampled rows would all be written as they are."""
        if self.n != self.width:
            return False
        odd = set('"\r\n,' + _RISKY + self.d)
        for r in self.data:
            if (not any(r) or r == self.repeat or (self.width >= 3 and not any(r[1:]))
                    or any(c != c.strip() or c in MISSING_MARKERS or not odd.isdisjoint(c) for c in r)):
                return False
        return all(any(r[c] for r in self.data) for c in self.auto)  # no unnamed column to drop

    def verbatim(self) -> _Stats | None:
        pre = _preamble(self.path, self.d, self.data_start)
        if pre is None:
            return None
        lines, offset = pre
        d, n = _re2(self.d), self.n
        space = "[" + _re2(_SPACE.replace(self.d, "")) + "]"
        markers = "|".join(_re2(m) for m in sorted(MISSING_MARKERS, key=len, reverse=True))
        bad = ["[" + _re2("".join(ch for ch in '"\r\n,' + _RISKY if ch != self.d)) + "]",  # to quote, or odd
               f"(?:^|{d}){space}", f"{space}(?:{d}|$)",  # a cell to strip
               f"(?:^|{d})(?:{markers})(?:{d}|$)",  # a marker
               f"^(?:{d})*$",  # an empty row
               f"^(?:[^{d}]*{d}){{{n}}}"]  # too many fields
        if n >= 2:
            bad.append(f"^[^{d}]*(?:{d}[^{d}]*){{0,{n - 2}}}$")  # too few
        if self.width >= 3:
            bad.append(f"{d}{{{n - 1}}}$")  # only the first cell filled: a note, unit or group row to the loop
        check = f"l IS NULL OR regexp_matches(l, {_sql_str('|'.join(bad))})"  # one call: the call is the cost
        if self.repeat is not None:
            check += f" OR l = {_sql_str(self.d.join(self.repeat))}"
        query = (f"SELECT count(*), count(*) FILTER (WHERE {check}) FROM read_csv({_sql_str(str(self.path))}, "
                 f"delim=chr(1), quote='', escape='', header=false, skip={lines}, columns={{'l': 'VARCHAR'}}, "
                 f"auto_detect=false, strict_mode=true, all_varchar=true)")
        stop, result = threading.Event(), {}
        copier = threading.Thread(target=_copy_bytes, daemon=True, args=(
            self.path, offset, self.out, _line(self.names).encode("utf-8"), self.d.encode(), stop, result))
        copier.start()
        total, failed = 0, True
        try:
            total, failed = self.con.execute(query).fetchone()
        except self.error:  # e.g. a \x01 in the data splits the line: the SQL copy may still do
            pass
        finally:
            if failed:
                stop.set()
            copier.join()
        if "error" in result:
            raise result["error"]
        # the line count is the cross-check: DuckDB's line split goes wrong on mixed line ends after `skip`
        return None if failed or result.get("lines") != total else _Stats(rows=total)

    # -- sql -----------------------------------------------------------------------------------------------------

    def _rows(self, src: str) -> str:
        """The rows as _copy sees them: e* stripped fields, t* the `width` cells, x* without markers, the flags."""
        n, w = self.n, self.width
        edge, trim = _sql_str(f"^{_S}|{_S}$"), _sql_str(f"^{_S}+|{_S}+$")
        cols = [f"CASE WHEN regexp_matches(c{j}, {edge}) THEN regexp_replace(c{j}, {trim}, '', 'g') "
                f"ELSE coalesce(c{j}, '') END AS e{j}" for j in range(n)]
        q = f"SELECT *, {', '.join(cols)} FROM {src}"
        cols = [f"e{i} AS t{i}" for i in range(w - 1)]
        if n == w:
            cols.append(f"e{w - 1} AS t{w - 1}")
        else:  # surplus fields: trailing empty ones go, the rest joins the last cell
            sep = f" || {_sql_str(self.join_with)} || "
            cases = " ".join(f"WHEN e{k} <> '' THEN {sep.join(f'e{j}' for j in range(w - 1, k + 1))}"
                             for k in range(n - 1, w - 1, -1))
            cols.append(f"CASE {cases} ELSE e{w - 1} END AS t{w - 1}")
            cols.append("(" + " OR ".join(f"e{j} <> ''" for j in range(w, n)) + ") AS longer")
        q = f"SELECT *, {', '.join(cols)} FROM ({q})"
        cols = [f"CASE WHEN t{i} IN ({_MARKERS_SQL}) THEN '' ELSE t{i} END AS x{i}" for i in range(w)]
        q = f"SELECT *, {', '.join(cols)} FROM ({q})"
        cols = ["(" + " OR ".join(f"x{i} <> ''" for i in range(w)) + ") AS ne"]
        cols.append("(" + " AND ".join(f"x{i} = {_sql_str(c)}" for i, c in enumerate(self.repeat)) + ") AS rep"
                    if self.repeat is not None else "false AS rep")
        cols.append("(" + " AND ".join(f"x{i} = ''" for i in range(1, w)) + ") AS one" if w >= 3 else "false AS one")
        q = f"SELECT *, {', '.join(cols)} FROM ({q})"
        unit, note = _sql_str(_UNIT_RE2), _sql_str(_NOTE_RE2)
        q = (f"SELECT *, CASE WHEN ne AND NOT rep AND one THEN regexp_full_match(x0, {unit}) "
             f"OR regexp_matches(x0, {note}) ELSE false END AS note, "
             f"CASE WHEN ne AND NOT rep AND one THEN regexp_extract(x0, {unit}, 1) END AS u FROM ({q})")
        return f"SELECT *, ne AND NOT rep AND NOT note AS keep FROM ({q})"

    def by_sql(self) -> _Stats | None:
        w = self.width
        result: dict = {}

        def scan():
            try:
                result["spaced"] = _space_before_quote(self.path, self.d)
            except BaseException as exc:
                result["error"] = exc

        scanner = threading.Thread(target=scan, daemon=True)
        scanner.start()
        aggs = ["count_if(keep)", " + ".join(f"count_if(t{i} <> x{i})" for i in range(w)),
                "count_if(longer)" if self.n > w else "0", "count_if(ne AND rep)", "count_if(note)",
                "list(DISTINCT u) FILTER (WHERE note AND u <> '')"]
        aggs += [f"list(DISTINCT t{i}) FILTER (WHERE t{i} <> x{i})" for i in range(w)]
        aggs += [f"coalesce(bool_or(x{i} <> '') FILTER (WHERE keep), false)" for i in self.auto]
        try:
            got = self.con.execute(f"SELECT {', '.join(aggs)} FROM ({self._rows(self.src)})").fetchone()
        finally:
            scanner.join()
        if "error" in result:
            raise result["error"]
        if result["spaced"]:
            return None
        rows, marks, longer, repeats, notes, units = got[:6]
        found = {m for ms in got[6:6 + w] for m in ms or ()}
        markers = _sample_markers(self.data, w, self.join_with)  # the sample comes first: its order stands
        if not found.issuperset(markers):
            return None
        new, units = sorted(found - set(markers)), units or []
        unit = units[0] if units else None
        if len(new) > 1 or len(units) > 1:  # which came first: ask again, with row numbers
            new, unit = self._first(new, units)
        markers += new
        drop = [c for c, filled in zip(self.auto, got[6 + w:]) if not filled]
        stats = _Stats(rows=rows, unit=unit, markers=markers, drop=drop)
        names = self.names
        if drop:
            stats.names = names = _kept_names(names, drop, self.width - len(drop) if self.headerless else 0)
        _notes(stats, self.names, w, longer, 0, marks, repeats, notes)
        if self._write([i for i in range(w) if i not in set(drop)], names) != rows:
            return None
        return stats

    def _first(self, markers: list[str], units: list[str]) -> tuple[list[str], str | None]:
        """The markers in the order they first appear (row by row, left to right), and the first unit."""
        w = self.width
        src = f"(SELECT row_number() OVER () AS rn, * FROM {self.src})"
        cols = [f"min(rn * {w} + CASE {' '.join(f'WHEN t{i} = {_sql_str(m)} THEN {i}' for i in range(w))} END)"
                for m in markers]
        cols.append("arg_min(u, rn) FILTER (WHERE note AND u <> '')")
        got = self.con.execute(f"SELECT {', '.join(cols)} FROM ({self._rows(src)})").fetchone()
        first = dict(zip(markers, got))
        return sorted(markers, key=first.__getitem__), got[-1] if units else None

    def _write(self, keep: list[int], names: list[str]) -> int:
        """COPY the kept rows as _Writer writes them; the number of rows written."""
        quoted = {i: f"'\"' || replace(x{i}, '\"', '\"\"') || '\"'" for i in keep}
        special = _sql_str("[" + _re2(',"\r\n') + "]")
        plain = " || ',' || ".join(f"CASE WHEN regexp_matches(x{i}, {special}) THEN {quoted[i]} ELSE x{i} END"
                                   for i in keep)
        risky = _sql_str("[" + _re2(_RISKY) + "]")
        all_quoted = " || ',' || ".join(quoted[i] for i in keep)
        header = '"' + (_line(names)[:-2] + "\r").replace('"', '""') + '"'  # DuckDB ends each line with \n
        self.out.unlink(missing_ok=True)
        got = self.con.execute(
            f"COPY (SELECT CASE WHEN regexp_matches(p, {risky}) THEN {all_quoted} ELSE p END || chr(13) AS {header} "
            f"FROM (SELECT *, {plain} AS p FROM ({self._rows(self.src)}) WHERE keep)) TO {_sql_str(str(self.out))} "
            f"(FORMAT csv, HEADER true, QUOTE '', ESCAPE '', DELIMITER '|')").fetchone()
        return got[0]
