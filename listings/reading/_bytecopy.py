"""Clean lines as bytes (private to listings.reading): a file read in blocks of whole lines, and the byte copy of
clean lines behind a new header line that runs in a thread while DuckDB checks the lines (_fast, _loaded). A file
that is already exactly the prepared CSV is not copied through Python at all: it is linked (_place)."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

_CHUNK = 4 * 1024**2  # Python reads and writes in blocks of this size (a few copies each: memory stays ~100 MB)


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


def _copy_bytes(src: Path, offset: int, out: Path, header: bytes, delimiter: bytes, stop: threading.Event,
                result: dict) -> None:
    """`out` = `header` + the lines of `src` from `offset` with the delimiter turned into commas and every line
    ended by CRLF; result["lines"], result["size"]: how many lines, and their bytes without the line ends (a thread:
    stops early when `stop` is set).

    With commas, the lines that already end with CRLF (up to the first that does not) are the output's as they are:
    the kernel copies them (_copy_range), Python only counts them. When that is all of them and `src` begins with
    exactly `header` (a file saved as csv.writer writes it, without a BOM), the output is `src` itself: nothing is
    written, result["same"] is True, and the caller links the file (_place)."""
    table = None if delimiter == b"," else bytes.maketrans(delimiter, b",")
    try:
        lines = size = 0
        start = offset
        if table is None:
            got = _crlf_prefix(src, offset, stop)
            if got is None:
                return
            lines, size, start = got
            if start == src.stat().st_size and _starts_with(src, offset, header):
                result["lines"], result["size"], result["same"] = lines, size, True
                return
        with out.open("wb") as fout:
            fout.write(header)
            _copy_range(src, offset, start - offset, fout)
            for block in _blocks(src, start):
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


def _crlf_prefix(src: Path, offset: int, stop: threading.Event) -> tuple[int, int, int] | None:
    """(lines, their bytes without the line ends, end) of the longest run of lines from `offset` that all end with
    CRLF, read in chunks of _CHUNK into one buffer (counting only: no copy of the data), where `end` is the file
    position after the run; None when `stop` was set."""
    buf = bytearray(_CHUNK)
    lines, end, pos, cr_before = 0, offset, offset, False  # `end`: after the last LF of the run
    with src.open("rb", buffering=0) as fh:
        fh.seek(offset)
        while n := fh.readinto(buf):
            if stop.is_set():
                return None
            ends = buf.count(b"\n", 0, n)
            pairs = buf.count(b"\r\n", 0, n) + (cr_before and buf[0] == 0x0A)  # a CRLF across two chunks
            if ends != pairs:  # an LF alone: the run stops at the last line end before this chunk
                break
            if ends:
                lines += ends
                end = pos + buf.rfind(b"\n", 0, n) + 1
            cr_before = buf[n - 1] == 0x0D
            pos += n
    return lines, end - offset - 2 * lines, end


def _starts_with(path: Path, offset: int, header: bytes) -> bool:
    if offset != len(header):
        return False
    with path.open("rb") as fh:
        return fh.read(offset) == header


def _copy_range(src: Path, start: int, length: int, fout) -> None:
    """`length` bytes of `src` from `start` appended to the open `fout`, copied by the kernel (copy_file_range),
    or by Python where the system cannot."""
    if length <= 0:
        return
    fout.flush()
    done = 0
    with src.open("rb") as fin:
        try:
            while done < length:
                n = os.copy_file_range(fin.fileno(), fout.fileno(), length - done, start + done)
                if not n:
                    break
                done += n
        except (OSError, AttributeError):  # (no such system call here, or not between these files)
            fin.seek(start + done)
            while done < length and (chunk := fin.read(min(_CHUNK, length - done))):
                fout.write(chunk)
                done += len(chunk)
    fout.seek(0, os.SEEK_END)


def _place(result: dict, src: Path, out: Path) -> None:
    """After _copy_bytes: when the output is `src` byte for byte, `out` becomes a hard link to it (the same
    filesystem: the profiling job's upload and output share a folder) or else a copy made by the kernel. Nothing
    writes into either file in place afterwards (a change writes a new file and renames it over `out`)."""
    if not result.get("same"):
        return
    out.unlink(missing_ok=True)
    try:
        os.link(src, out)
    except OSError:
        shutil.copyfile(src, out)
