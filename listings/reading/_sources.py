"""Raw rows out of an uploaded file, one format at a time (private to listings.reading).

Every reader yields rows as lists of strings (cells not yet stripped) and never holds a text table in memory:
CSV/TSV and JSON lines are decoded in chunks through io.TextIOWrapper; XLSX is read with openpyxl in read-only
mode; legacy XLS (≤ 65,536 rows by design) and JSON documents (≤ JSON_MAX_BYTES) are loaded whole.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from listings.reading import _encoding as _reading_encoding
from listings.reading import _limits as limits_
from listings.reading._errors import ReadError, human_size
from listings.reading._limits import ReadLimits

SNIFF_BYTES = 64 * 1024
JSON_MAX_BYTES = 50 * 1024**2
DELIMITERS = (",", "\t", ";", "|")
# a long WKT geometry or a list in one cell can exceed the csv module's 128 KB default; 16 MB still bounds memory
csv.field_size_limit(max(csv.field_size_limit(), 16 * 1024**2))


@dataclass
class Source:
    format: str
    encoding: str | None
    delimiter: str | None
    rows: Iterator[list[str]]
    join_with: str = ","  # how fields beyond the last column are joined back together
    sheet: str | None = None
    fixed_header: list[str] | None = None  # JSON: the keys are the header, every row is data
    sheet_like: bool = False  # cells beyond the header are real columns (a spreadsheet), not a split last field
    warnings: list[str] = field(default_factory=list)
    close: Callable[[], None] = lambda: None
    path: Path | None = None  # text tables: the file and the codec `rows` decodes it with (for the fast copy)
    codec: str | None = None


# --- text: encoding and delimiter -------------------------------------------------------------------------------

def detect_encoding(head: bytes, complete: bool) -> tuple[str, str]:
    """(reported encoding, codec to decode with) from the first bytes: BOM, UTF-8, then GBK/GB18030 or Big5 judged
    by plausibility (_reading_encoding; raises EncodingQuestion when the holder must choose)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "utf-16"  # Excel's “Unicode 文本”
    if b"\x00" in head:
        found = _reading_encoding.utf16_without_bom(head, complete)
        if found:
            return found
        raise ReadError("read.format", what="这是一个二进制文件（不是文本表格，也不是 Excel 文件）")
    if _decodes(head, "utf-8", complete):
        return "utf-8", "utf-8"
    return _reading_encoding.judge(head, complete)


def _decodes(data: bytes, codec: str, complete: bool) -> bool:
    try:
        codecs.getincrementaldecoder(codec)().decode(data, final=complete)
    except UnicodeDecodeError:
        return False
    return True


def decode_head(head: bytes, codec: str, complete: bool) -> str:
    return codecs.getincrementaldecoder(codec)(errors="replace").decode(head, final=complete)


def detect_delimiter(text: str, complete: bool, prefer_tab: bool) -> str:
    """The candidate giving the most consistent field count (≥ 2) across the sampled lines."""
    if not complete and "\n" in text:
        text = text[: text.rindex("\n") + 1]  # the last line is probably cut
    scores = {}
    for delim in DELIMITERS:
        try:
            counts = [len(r) for r in csv.reader(io.StringIO(text), delimiter=delim) if any(c.strip() for c in r)]
        except csv.Error:
            continue
        if not counts:
            continue
        tally = Counter(counts)
        mode = max(tally, key=lambda n: (tally[n], n))
        if mode >= 2:
            scores[delim] = tally[mode] / len(counts) + min(mode, 50) / 10_000  # ties go to more fields
    if prefer_tab and "\t" in scores:
        return "\t"
    if not scores:
        return "\t" if prefer_tab else ","
    return max(scores, key=lambda d: (scores[d], -DELIMITERS.index(d)))


def text_rows(path: Path, codec: str, delimiter: str, limits: ReadLimits = limits_.DEFAULT) -> Iterator[list[str]]:
    max_line, max_cell = limits.max_line_chars, limits.max_cell_chars
    with path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding=codec, newline="")
        taken = [0, 0]  # physical lines read, characters read since the last record

        def lines() -> Iterator[str]:
            # never more than max_line characters at once: a file without line ends is not read whole
            readline = text.readline
            while line := readline(max_line):
                taken[0] += 1
                if len(line) == max_line and line[-1] not in "\r\n" and readline(1):
                    raise limits_.line_too_long(taken[0], limits)
                taken[1] += len(line)
                yield line

        reader = csv.reader(lines(), delimiter=delimiter)
        try:
            for row in reader:
                # only a record longer than the cell limit can hold a cell over it (one compare a row)
                if taken[1] > max_cell and max(map(len, row), default=0) > max_cell:
                    raise limits_.cell_too_long(reader.line_num, limits)
                taken[1] = 0
                yield row
        except csv.Error as exc:
            raise ReadError("read.malformed", line=reader.line_num, detail=str(exc)) from None


# --- spreadsheets -------------------------------------------------------------------------------------------------

def float_text(v: float) -> str:
    if v.is_integer() and abs(v) < 1e17:
        return str(int(v))  # 4111010001.0 → "4111010001"
    return f"{v:.15g}"  # what Excel shows: 15 significant digits, no 0.30000000000000004


def datetime_text(v: dt.datetime) -> str:
    return v.strftime("%Y-%m-%d") if v.time() == dt.time() else v.strftime("%Y-%m-%d %H:%M:%S")


def xlsx_cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return float_text(v)
    if isinstance(v, dt.datetime):
        return datetime_text(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dt.time):
        return v.strftime("%H:%M:%S")
    return str(v)


def xlsx_source(path: Path, limits: ReadLimits = limits_.DEFAULT) -> Source:
    import openpyxl

    fh = path.open("rb")  # a file object: openpyxl would refuse a path whose extension is not .xlsx

    def close():
        wb.close()
        fh.close()

    try:
        wb = openpyxl.load_workbook(fh, read_only=True, data_only=True)
    except Exception as exc:  # zipfile, XML and openpyxl errors alike: the file is not a readable workbook
        fh.close()
        raise _xlsx_error(exc) from None
    try:
        for ws in wb.worksheets:
            ws.reset_dimensions()  # a wrong <dimension> tag (some exporters write "A1") would cut rows short
        filled = [ws for ws in wb.worksheets if _first_filled(ws.iter_rows(values_only=True))]
    except Exception as exc:
        close()
        raise _xlsx_error(exc) from None
    if not filled:
        close()
        raise ReadError("read.empty")

    max_cell = limits.max_cell_chars

    def rows():
        try:
            for n, row in enumerate(filled[0].iter_rows(values_only=True), 1):
                cells = [xlsx_cell(v) for v in row]
                if max(map(len, cells), default=0) > max_cell:
                    raise limits_.cell_too_long(n, limits)
                yield cells
        except (ReadError, GeneratorExit):
            raise
        except Exception as exc:
            raise _xlsx_error(exc) from None

    return Source("xlsx", None, None, rows(), sheet=filled[0].title, sheet_like=True,
                  warnings=_sheet_warning([ws.title for ws in filled]), close=close)


def _xlsx_error(exc: Exception) -> ReadError:
    if limits_.unsafe_xml(exc):  # defusedxml refused an entity or DTD that the prolog check did not see
        return ReadError("read.xlsx_unsafe", what="XML 实体或文档类型声明")
    return ReadError("read.xlsx_corrupt")


def _first_filled(rows) -> bool:
    return any(any(v is not None and str(v).strip() for v in row) for row in rows)


def _sheet_warning(titles: list[str]) -> list[str]:
    if len(titles) < 2:
        return []
    others = "、".join(f"“{t}”" for t in titles[1:4]) + ("等" if len(titles) > 4 else "")
    return [f"文件有 {len(titles)} 个有内容的工作表，只读取了第一个“{titles[0]}”，没有读取 {others}；"
            "如需上传其他工作表，请分别另存为单独的文件"]


def xls_source(path: Path, limits: ReadLimits = limits_.DEFAULT) -> Source:
    import xlrd

    try:
        book = xlrd.open_workbook(path)
    except Exception as exc:  # xlrd.XLRDError, compdoc.CompDocError, struct.error, …
        if "encrypted" in str(exc).lower() or _encrypted_ole(path):
            raise ReadError("read.encrypted") from None  # also a password-protected .xlsx (an OLE2 envelope)
        if "can't find workbook" in str(exc).lower():
            raise ReadError("read.format", what="这是一个 Word 或其他 Office 文档，不是 Excel 表格") from None
        raise ReadError("read.xls_corrupt") from None
    if book.nsheets > limits.max_sheets:
        book.release_resources()
        raise ReadError("read.too_many_sheets", sheets=book.nsheets, limit=limits.max_sheets)
    sheets = [s for s in book.sheets() if any(
        any(str(v).strip() for v in s.row_values(r)) for r in range(s.nrows))]
    if not sheets:
        raise ReadError("read.empty")
    sheet = sheets[0]

    def cell(c) -> str:
        if c.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
            return ""
        if c.ctype == xlrd.XL_CELL_NUMBER:
            return float_text(c.value)
        if c.ctype == xlrd.XL_CELL_DATE:
            try:
                value = xlrd.xldate_as_datetime(c.value, book.datemode)
            except Exception:
                return float_text(c.value)
            return value.strftime("%H:%M:%S") if c.value < 1 else datetime_text(value)
        if c.ctype == xlrd.XL_CELL_BOOLEAN:
            return "TRUE" if c.value else "FALSE"
        if c.ctype == xlrd.XL_CELL_ERROR:
            return xlrd.error_text_from_code.get(c.value, "#ERROR")
        return str(c.value)

    def rows():
        for r in range(sheet.nrows):
            cells = [cell(c) for c in sheet.row(r)]
            if max(map(len, cells), default=0) > limits.max_cell_chars:
                raise limits_.cell_too_long(r + 1, limits)
            yield cells

    return Source("xls", None, None, rows(), sheet=sheet.name, sheet_like=True,
                  warnings=_sheet_warning([s.name for s in sheets]), close=book.release_resources)


def _encrypted_ole(path: Path) -> bool:
    with path.open("rb") as fh:
        return "EncryptedPackage".encode("utf-16-le") in fh.read(1024**2)


# --- JSON ---------------------------------------------------------------------------------------------------------

def json_cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return float_text(v)
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


def _records_source(fmt: str, encoding: str, records, warnings: list[str], limits: ReadLimits) -> Source:
    keys: dict[str, None] = {}
    depth = limits.max_json_depth - 2  # the array and the record are two levels already
    for rec in records():
        keys.update(dict.fromkeys(rec))
        if len(keys) > limits.max_columns:
            raise limits_.too_many_columns(len(keys), limits)
        for v in rec.values():
            if isinstance(v, (dict, list)) and limits_.json_depth(v, depth):
                raise ReadError("read.json_too_deep", limit=limits.max_json_depth)
    if not keys:
        raise ReadError("read.no_columns")
    names = list(keys)
    rows = ([json_cell(rec.get(k)) for k in names] for rec in records())
    return Source(fmt, encoding, None, rows, fixed_header=names, warnings=warnings)


def _json_lines(head: str) -> bool:
    """JSON lines: the first two non-blank lines are each a whole JSON object."""
    lines = [line for line in head.splitlines() if line.strip()][:2]
    try:
        return len(lines) == 2 and all(isinstance(json.loads(line), dict) for line in lines)
    except ValueError:
        return False


def json_source(path: Path, encoding: str, codec: str, size: int, head: str,
                limits: ReadLimits = limits_.DEFAULT) -> Source:
    if _json_lines(head):
        return _json_lines_source(path, encoding, codec, limits)
    if size > JSON_MAX_BYTES:
        raise ReadError("read.too_large", size=human_size(size), limit=human_size(JSON_MAX_BYTES),
                        _template="read.json_too_large")
    try:
        doc = json.loads(path.read_text(encoding=codec))
    except UnicodeDecodeError:
        raise ReadError("read.encoding", detail="JSON 文件里有无法识别的字符") from None
    except RecursionError:  # nested deeper than the interpreter's stack allows: far beyond the limit
        raise ReadError("read.json_too_deep", limit=limits.max_json_depth) from None
    except ValueError as exc:
        if str(exc).startswith("Extra data"):
            return _json_lines_source(path, encoding, codec, limits)
        raise ReadError("read.json_shape", detail=f"不是有效的 JSON（{exc}）") from None
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        features = doc.get("features")
        if not isinstance(features, list):
            raise ReadError("read.json_shape", detail="FeatureCollection 里没有 features 数组")
        records = []
        for i, feat in enumerate(features, 1):
            props = feat.get("properties") if isinstance(feat, dict) and feat.get("type") == "Feature" else False
            if props is not None and not isinstance(props, dict):
                raise ReadError("read.json_shape", detail=f"第 {i} 个要素不是带 properties 的 Feature")
            records.append(props or {})
        if not records:
            raise ReadError("read.empty")
        note = "GeoJSON 只读取了每个要素的属性（properties），坐标等几何信息没有放进表格"
        return _records_source("geojson", encoding, lambda: records, [note], limits)
    if isinstance(doc, dict):
        inner = [k for k, v in doc.items() if isinstance(v, list) and v and isinstance(v[0], dict)]
        hint = f"（数据可能在“{inner[0]}”字段里，请只上传这个数组）" if inner else ""
        raise ReadError("read.json_shape", detail="最外层是一个对象，不是数组" + hint)
    if not isinstance(doc, list):
        raise ReadError("read.json_shape", detail="最外层不是数组")
    if not doc:
        raise ReadError("read.empty")
    for i, rec in enumerate(doc, 1):
        if not isinstance(rec, dict):
            raise ReadError("read.json_shape", detail=f"数组的第 {i} 个元素不是对象（是 {type(rec).__name__}）")
    return _records_source("json", encoding, lambda: doc, [], limits)


def _json_lines_source(path: Path, encoding: str, codec: str, limits: ReadLimits) -> Source:
    """JSON lines (one object per line), streamed twice: once for the keys, once for the rows."""

    def records():
        with path.open("rb") as raw:
            readline = io.TextIOWrapper(raw, encoding=codec).readline
            for n, line in enumerate(iter(lambda: readline(limits.max_line_chars), ""), 1):
                if len(line) == limits.max_line_chars and not line.endswith("\n"):
                    raise limits_.line_too_long(n, limits)
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except RecursionError:
                    raise ReadError("read.json_too_deep", limit=limits.max_json_depth) from None
                except ValueError:
                    raise ReadError("read.json_shape", detail=f"第 {n} 行不是有效的 JSON") from None
                if not isinstance(rec, dict):
                    raise ReadError("read.json_shape", detail=f"第 {n} 行不是对象")
                yield rec

    return _records_source("json", encoding, records, [], limits)
