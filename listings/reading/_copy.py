"""The row-by-row copy to a clean CSV (private to listings.reading): write_table, group rows turned
into a column, per-column statistics, the CSV writer, dropping empty columns."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from itertools import chain
from itertools import islice
from pathlib import Path

from listings.reading._errors import ReadError
from listings.reading._sources import Source
from listings.reading import _fast
from listings.reading._layout import GROUP_COLUMN, Layout, MISSING_MARKERS, SAMPLE_ROWS, _GROUP, _NOTE, _UNIT, _cell, _check_width, _dominant, _filled, content_name, dedupe, detect_layout, header_cell, kind, merge_two_rows


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
        fast_copy = _fast._FastCopy(source, out, raw_sample[layout.data_start:], names, width, layout.data_start, auto,
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


def _copy(rows: Iterator[list[str] | _fast._Block], out: Path, names: list[str], width: int, join_with: str,
          group, auto: set[int], first_raw: int, ragged_ok: bool, repeat: list[str] | None) -> _Stats:
    """Every row to `out` under the rules; a _Block (clean lines from the fast copy) goes out as it is."""
    stats = _Stats()
    empty_cols = set(auto)  # columns without a header name that have shown no value yet
    found: dict[str, int] = {}
    longer = shorter = notes = repeats = 0
    first_group = example = current = None
    strip, markers, clean = str.strip, MISSING_MARKERS, MISSING_MARKERS.isdisjoint  # hot loop: local names
    wide, block = width >= 3, _fast._Block
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
