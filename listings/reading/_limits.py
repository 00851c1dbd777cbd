"""Limits on an uploaded table, checked before (or while) the reading stage does its work (private to
listings.reading).

A tiny hostile file must not cost unbounded memory or time: 38 KB of 5,000 columns, one line of
200 MB, an XLSX that unpacks to terabytes, JSON nested 100,000 deep, XML entities that expand a
billion times. Each limit is a setting (market.config: MARKET_UPLOAD_*), and each breach is a
ReadError with a stable code and a Chinese message saying what to do.
"""

from __future__ import annotations

import struct
import zipfile
from dataclasses import dataclass

from listings.reading._errors import ReadError, human_size

# an XML member of an XLSX declares a DTD (and with it entities) in its prolog, before the root element
_PROLOG_BYTES = 4096
# a member unpacking to less than this may have any ratio: a 2 MB sheet of one repeated value is normal
_RATIO_FLOOR_BYTES = 10 * 1024**2
_MAX_ZIP_ENTRIES = 10_000  # an XLSX has a few dozen parts; the central directory of millions costs GBs to list


@dataclass(frozen=True)
class ReadLimits:
    max_columns: int = 1000
    max_line_chars: int = 32 * 1024 * 1024
    max_cell_chars: int = 16 * 1024 * 1024
    max_sheets: int = 100
    max_unzipped_bytes: int = 1024 * 1024**2
    max_zip_ratio: int = 200
    max_json_depth: int = 32

    @classmethod
    def from_settings(cls, settings) -> "ReadLimits":
        return cls(max_columns=settings.upload_max_columns, max_line_chars=settings.upload_max_line_chars,
                   max_cell_chars=settings.upload_max_cell_chars, max_sheets=settings.upload_max_sheets,
                   max_unzipped_bytes=settings.upload_max_unzipped_mb * 1024**2,
                   max_zip_ratio=settings.upload_max_zip_ratio, max_json_depth=settings.upload_max_json_depth)


DEFAULT = ReadLimits()


def check_zip_directory(path) -> None:
    """Refuse an archive whose end-of-central-directory record declares more entries than an XLSX ever has,
    before zipfile builds an object for each of them."""
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        size = fh.tell()
        fh.seek(max(0, size - 66 * 1024))  # the record (22 bytes) plus at most a 64 KB comment
        tail = fh.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return  # zipfile will say what is wrong
    entries = struct.unpack("<H", tail[at + 10: at + 12])[0]
    if _MAX_ZIP_ENTRIES < entries < 0xFFFF:  # 0xFFFF: a ZIP64 archive, whose listing check_xlsx counts
        raise ReadError("read.xlsx_bomb", detail=f"压缩包里有 {entries} 个文件")


def check_xlsx(zf: zipfile.ZipFile, limits: ReadLimits) -> None:
    """Zip bomb, sheet count and XML entity checks of an XLSX, from its directory and the prologs of its
    XML parts, before openpyxl parses anything."""
    infos = zf.infolist()
    if len(infos) > _MAX_ZIP_ENTRIES:
        raise ReadError("read.xlsx_bomb", detail=f"压缩包里有 {len(infos)} 个文件")
    total = sum(i.file_size for i in infos)
    if total > limits.max_unzipped_bytes:
        raise ReadError("read.xlsx_bomb", detail=f"解压后共 {human_size(total)}，上限是 {human_size(limits.max_unzipped_bytes)}")
    for info in infos:
        if info.file_size > _RATIO_FLOOR_BYTES and info.file_size > limits.max_zip_ratio * max(1, info.compress_size):
            ratio = info.file_size // max(1, info.compress_size)
            raise ReadError("read.xlsx_bomb", detail=f"“{info.filename}”的压缩比是 {ratio} 倍，上限是 {limits.max_zip_ratio} 倍")
    sheets = sum(1 for i in infos if i.filename.startswith("xl/worksheets/") and i.filename.endswith(".xml"))
    if sheets > limits.max_sheets:
        raise ReadError("read.too_many_sheets", sheets=sheets, limit=limits.max_sheets)
    for info in infos:
        if not info.filename.endswith((".xml", ".rels", ".vml")) or info.is_dir():
            continue
        try:
            with zf.open(info) as fh:
                head = fh.read(_PROLOG_BYTES)
        except (zipfile.BadZipFile, OSError, NotImplementedError, EOFError, ValueError):
            raise ReadError("read.xlsx_corrupt") from None
        if _declares_dtd(head):
            raise ReadError("read.xlsx_unsafe", what="XML 文档类型声明或实体（<!DOCTYPE>/<!ENTITY>）")


def _declares_dtd(head: bytes) -> bool:
    flat = head.replace(b"\x00", b"").upper()  # UTF-16 XML too
    return b"<!DOCTYPE" in flat or b"<!ENTITY" in flat


def unsafe_xml(exc: BaseException | None) -> bool:
    """An error raised by defusedxml (which openpyxl uses when it is installed) on a forbidden construct, itself
    or as the cause of openpyxl's "Unable to read workbook"."""
    seen = 0
    while exc is not None and seen < 10:
        if type(exc).__module__.startswith("defusedxml"):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def line_too_long(line: int, limits: ReadLimits) -> ReadError:
    return ReadError("read.line_too_long", line=line, limit=limits.max_line_chars)


def cell_too_long(line: int, limits: ReadLimits) -> ReadError:
    return ReadError("read.cell_too_long", line=line, limit=limits.max_cell_chars)


def too_many_columns(columns: int, limits: ReadLimits) -> ReadError:
    return ReadError("read.too_many_columns", columns=columns, limit=limits.max_columns)


def json_depth(value, limit: int) -> bool:
    """Whether `value` (a parsed JSON value) nests deeper than `limit` containers (iterative: a deep
    value must not exhaust the interpreter's stack here either)."""
    stack = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        if isinstance(v, dict):
            v = v.values()
        elif not isinstance(v, list):
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in v if isinstance(child, (dict, list)))
    return False
