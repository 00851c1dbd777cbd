"""The reading stage: from a raw uploaded file to a clean UTF-8, comma-separated CSV plus what was detected.

Holders do not know what GBK or a delimiter is, so everything is detected from the content (the file name's
extension only breaks ties): the container (XLSX zip, legacy XLS OLE2, JSON, text), the text encoding (BOM,
UTF-8, GBK/GB18030 or Big5 judged by plausibility, the holder choosing when that is uncertain), the delimiter,
title/unit rows above the header, one- or two-row headers or none, group rows inside the data, missing-value
markers. The output loads as-is with DuckDB `read_csv(path, header=true, all_varchar=true)`.

Memory stays bounded for text (CSV/TSV/JSON lines: decoded in chunks, copied row by row) and XLSX
(openpyxl read-only); legacy XLS and JSON documents (≤ 50 MB) are loaded whole. Big delimited text files
(≥ FAST_MIN_BYTES) take a fast copy with the very same result: DuckDB finds the lines that need no change, those
are copied as bytes, and the row loop handles the rest (see _fast; any doubt and the loop does it all). A file that
is already exactly the output (UTF-8, commas, CRLF, the header as written here) is linked rather than copied.

Helpers live in private modules: _errors (messages), _limits (limits on user input), _sources (formats → raw
rows), _encoding (which text encoding, or the question to the holder), _layout (where the table starts, column
names), _copy (the row-by-row copy), _fast (the fast copy of big clean files), _bytecopy (its byte copy of clean
lines, by the kernel or as a link where the lines are already right), _loaded (loading into DuckDB while checking, so
profiling parses the file once).
"""

from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from listings.reading import _sources as sources
from listings.reading._encoding import CODECS as ENCODINGS
from listings.reading._encoding import EncodingQuestion, codec_of, judge, sample_after_ascii
from listings.reading._errors import ReadError, human_size
from listings.reading._copy import write_table
from listings.reading._layout import MISSING_MARKERS
from listings.reading._limits import DEFAULT as DEFAULT_LIMITS
from listings.reading._limits import ReadLimits, check_xlsx, check_zip_directory

__all__ = ["ENCODINGS", "EncodingQuestion", "FAST_MIN_BYTES", "MISSING_MARKERS", "PreparedTable", "ReadError",
           "ReadLimits", "prepare"]

OUTPUT_NAME = "table.csv"
# from this size on, a delimited text file takes the fast copy (below it, the row loop takes well under a second)
FAST_MIN_BYTES = 8 * 1024**2
# JSON starts like [{…, [1, {"…, not like the SQL Server export header [id],[name]
_JSON_START = re.compile(r'[\[{]\s*(?:[\[{"\]}\d-]|true|false|null|$)')

_OTHER_BINARY = (  # magic bytes of files people upload by mistake
    (b"%PDF", "这是一个 PDF 文件"),
    (b"\x1f\x8b", "这是一个 gzip 压缩文件，请先解压"),
    (b"Rar!", "这是一个 RAR 压缩包，请先解压"),
    (b"7z\xbc\xaf\x27\x1c", "这是一个 7z 压缩包，请先解压"),
    (b"\x89PNG", "这是一张图片"),
    (b"\xff\xd8\xff", "这是一张图片"),
    (b"GIF8", "这是一张图片"),
)


@dataclass
class PreparedTable:
    format: str  # "csv", "tsv", "xlsx", "xls", "json", "geojson"
    encoding: str | None  # a key of ENCODINGS ("utf-8", "gbk", "big5", "utf-16" …); None for xlsx/xls
    delimiter: str | None  # ",", "\t", ";", "|" for text tables, else None
    header_row: int | None  # 0-based raw index of the (last) header row; None when headerless (and for JSON keys)
    header_rows: int  # 0 headerless, 1, or 2 (two-row merged header); JSON/GeoJSON keys count as 1
    skipped_rows: list[int]  # raw row indexes dropped before the header: title, unit, note and blank rows
    unit: str | None  # from a unit row like “单位：万元” → "万元"
    columns: list[str]
    missing_markers: list[str]  # markers found in data cells and written as empty cells
    row_count: int  # data rows written
    group_column: str | None  # "分组" when group rows (“北京市（92所）”) were folded into a column
    sheet: str | None  # the worksheet read, for xlsx/xls
    warnings: list[str]  # Chinese, plain language, for the holder
    csv_path: Path  # UTF-8 (no BOM), comma, RFC 4180 quoting, first line = columns
    loaded: bool = False  # also loaded into the DuckDB connection given to prepare (profile_csv(loaded=True))


def prepare(src: Path, workdir: Path, *, filename: str, max_bytes: int = 200 * 1024**2 * 5,
            fast: bool | None = None, encoding: str | None = None, limits: ReadLimits | None = None,
            con=None) -> PreparedTable:
    """Read the upload at `src` (originally called `filename`) into `workdir`/table.csv.

    Raises ReadError (code + Chinese message) for anything that is not a readable table; then nothing this call
    wrote is left in `workdir` (and `workdir` itself is removed if this call created it and it is empty).
    `fast`: the fast copy for a delimited text file (the result is the same either way): None = for files of
    FAST_MIN_BYTES or more, True = for any size, False = never.
    `encoding`: the text encoding the holder chose (one of ENCODINGS) after an EncodingQuestion; without it the
    encoding is detected, and EncodingQuestion (candidates with their first rows) is raised when it is uncertain.
    `limits`: on columns, line and cell length,
    sheets, unpacked size and nesting (each breach a ReadError before the heavy work; default ReadLimits()).
    `con`: a DuckDB connection that profiling will use; a big clean text file is then loaded into it while it is
    checked (table `t`, see _loaded), so it is parsed once instead of twice (PreparedTable.loaded).
    """
    src, workdir = Path(src), Path(workdir)
    created = not workdir.exists()
    workdir.mkdir(parents=True, exist_ok=True)
    final = workdir / OUTPUT_NAME
    part = workdir / (OUTPUT_NAME + ".part")
    try:
        table = _prepare(src, part, filename, max_bytes, fast, encoding, limits or DEFAULT_LIMITS, con)
        os.replace(part, final)
        table.csv_path = final
        return table
    except BaseException:
        for leftover in (part, part.with_name(part.name + ".cols"), part.with_name(part.name + ".utf8")):
            leftover.unlink(missing_ok=True)
        if created:
            try:
                workdir.rmdir()
            except OSError:
                pass
        raise


def _prepare(src: Path, out: Path, filename: str, max_bytes: int, fast: bool | None,
             chosen: str | None, limits: ReadLimits, con=None) -> PreparedTable:
    size = src.stat().st_size
    if size == 0:
        raise ReadError("read.empty")
    if size > max_bytes:
        raise ReadError("read.too_large", size=human_size(size), limit=human_size(max_bytes))
    with src.open("rb") as fh:
        head = fh.read(sources.SNIFF_BYTES)
    complete = len(head) == size
    ext = Path(filename).suffix.lower()

    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        _check_xlsx(src, limits)
        source = sources.xlsx_source(src, limits)
    elif head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        source = sources.xls_source(src, limits)
    else:
        for magic, what in _OTHER_BINARY:
            if head.startswith(magic):
                raise ReadError("read.format", what=what)
        if fast is None:
            fast = size >= FAST_MIN_BYTES
        return _prepare_text(src, out, head, complete, size, ext, fast, chosen, limits, con)
    try:
        written = write_table(source, out, max_columns=limits.max_columns)
    finally:
        source.close()
    warnings = written.warnings
    if ext in (".csv", ".tsv", ".txt", ".json", ".geojson"):
        warnings.insert(0, f"文件扩展名是 {ext}，但内容其实是 Excel（{source.format}）文件，已按 Excel 读取")
    return _table(source, written, out)


def _check_xlsx(src: Path, limits: ReadLimits) -> None:
    """A zip is an XLSX workbook when it has [Content_Types].xml and an xl/ folder; say what it is otherwise.
    A workbook must then pass the limits (zip bomb, sheets, XML entities) before openpyxl opens it."""
    check_zip_directory(src)
    try:
        with zipfile.ZipFile(src) as zf:
            names = set(zf.namelist())
            if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names) \
                    and "xl/workbook.bin" not in names:
                check_xlsx(zf, limits)
    except (zipfile.BadZipFile, OSError):
        raise ReadError("read.xlsx_corrupt") from None
    if "xl/workbook.bin" in names:
        raise ReadError("read.format", what="这是 Excel 二进制工作簿（.xlsb），请在 Excel 中另存为 xlsx")
    if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names):
        return
    if "[Content_Types].xml" in names and any(n.startswith("word/") for n in names):
        raise ReadError("read.format", what="这是一个 Word 文档，不是表格")
    if "mimetype" in names and any(n == "content.xml" for n in names):
        raise ReadError("read.format", what="这是 WPS/LibreOffice 的 ODS 等格式，请另存为 xlsx 或 CSV")
    raise ReadError("read.format", what="这是一个压缩包，不是表格，请解压后上传里面的表格文件")


def _prepare_text(src: Path, out: Path, head: bytes, complete: bool, size: int, ext: str,
                  fast: bool, chosen: str | None, limits: ReadLimits, con=None) -> PreparedTable:
    if chosen:
        encoding, codec = chosen, codec_of(chosen)
    else:
        encoding, codec = sources.detect_encoding(head, complete)
    text = sources.decode_head(head, codec, complete)
    start = text.lstrip("\ufeff \t\r\n")
    if not start:
        raise ReadError("read.empty")
    if _JSON_START.match(start):
        source = sources.json_source(src, encoding, codec, size, start, limits)
        written = write_table(source, out, max_columns=limits.max_columns)
        return _table(source, written, out)
    if start[0] == "<":
        what = ("这是一个网页（HTML）文件，常见于网站导出的“xls”" if "<html" in start[:2000].lower()
                or "<table" in start[:2000].lower() else "这是一个 XML 文件")
        raise ReadError("read.format", what=what + "，请用 Excel 打开后另存为 xlsx 或“CSV UTF-8”")
    if sum(1 for ch in start[:4096] if ch < " " and ch not in "\t\r\n") > 8:
        raise ReadError("read.format", what="这是一个二进制文件（不是文本表格，也不是 Excel 文件）")

    delimiter = sources.detect_delimiter(text, complete, prefer_tab=ext == ".tsv")
    extra = []
    while True:
        source = sources.Source("tsv" if delimiter == "\t" else "csv", encoding, delimiter,
                                sources.text_rows(src, codec, delimiter, limits), join_with=delimiter, path=src,
                                codec=codec)
        try:
            written = write_table(source, out, fast=fast, max_columns=limits.max_columns, con=con)
            break
        except UnicodeDecodeError:
            if codec == "utf-8" and head.isascii() and not chosen:
                # the first 64 KB were plain ASCII, Chinese text in another encoding comes later: judge that part
                sample, to_end = sample_after_ascii(src, len(head), sources.SNIFF_BYTES)
                encoding, codec = judge(sample, to_end)
                # only a sample was judged: GB18030 also decodes any GBK character further on
                encoding = "gb18030" if encoding == "gbk" else encoding
                extra = [f"文件开头是纯英文数字，后面才出现中文，编码按 {encoding.upper()} 识别，请核对中文是否显示正常"]
                continue
            raise ReadError("read.encoding",
                            detail=f"文件开头是 {encoding}，后面却出现了无法识别的字符，可能混用了几种编码") from None
        finally:
            source.rows.close()
    if ext in (".xlsx", ".xls"):
        extra.insert(0, f"文件扩展名是 {ext}，但内容其实是文本表格（CSV），已按 CSV 读取")
    written.warnings[:0] = extra
    return _table(source, written, out)


def _table(source: sources.Source, written, out: Path) -> PreparedTable:
    return PreparedTable(
        format=source.format, encoding=source.encoding, delimiter=source.delimiter,
        header_row=written.header_row, header_rows=written.header_rows, skipped_rows=written.skipped_rows,
        unit=written.unit, columns=written.columns, missing_markers=written.missing_markers,
        row_count=written.row_count, group_column=written.group_column, sheet=source.sheet,
        warnings=written.warnings, csv_path=out, loaded=written.loaded)
