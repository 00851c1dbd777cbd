"""The fast path of the copy (private to listings.reading): DuckDB checks the clean lines of a big
delimited file and their bytes are copied as they are; any line the row loop would change goes
through the row loop instead, so the result is identical (fuzz-tested)."""

from __future__ import annotations

import codecs
import csv
import io
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from listings.reading._sources import Source
from listings.reading import _bytecopy, _copy
from listings.reading._bytecopy import _blocks, _copy_bytes, _count_lines, _place
from listings.reading._layout import MISSING_MARKERS


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
    _copy._Writer(buf)(cells)
    return buf.getvalue().encode("utf-8")


class _FastCopy:
    """Set up by write_table for a delimited text file; `run` gives the _Stats, or None for the plain loop."""

    def __init__(self, source: Source, out: Path, data: list[list[str]], names: list[str], width: int,
                 data_start: int, auto: set[int], repeat: list[str] | None, con=None):
        self.source, self.out, self.data, self.names, self.width = source, out, data, names, width
        self.data_start, self.auto, self.repeat = data_start, auto, repeat
        self.con = con  # the profiler's DuckDB connection, if any: a clean file is loaded into it (_loaded)
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

    def run(self, copy) -> _copy._Stats | None:
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
                    return _copy._Stats(rows=got[0])
            con = duckdb.connect(":memory:", config={"threads": 2, "preserve_insertion_order": True})
            try:
                if got is not None:  # some lines are dirty: which ones, below
                    lines, dirty = got[0], got[2]
                elif len(clean) == len(self.data):  # probably all clean: check and copy at once
                    lines, size, dirty = self._verbatim(con)
                    if not dirty:
                        return _copy._Stats(rows=lines)
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
        if not dirty:
            _place(result, self.path, self.out)
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


def _transcode(src: Path, codec: str, dst: Path) -> bool:
    """`src` decoded with `codec` into `dst` as UTF-8; False if it does not decode (the row loop then says why)."""
    decoder = codecs.getincrementaldecoder(codec)()
    try:
        with src.open("rb") as fin, dst.open("wb") as fout:
            while chunk := fin.read(_bytecopy._CHUNK):
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
