"""The fast copy's check done by loading the table itself (private to listings.reading).

When reading and profiling share a DuckDB connection (the profiling job's child does), a clean big text file
is read once, not twice: DuckDB parses the file into the columns the profiler wants (`t`, c0…cN, VARCHAR, empty
cells null) while a thread copies its bytes behind the new header line, and one aggregate over the columns
tells whether every line is one _copy would write unchanged. If so the prepared CSV is done (a file that is
already exactly the prepared CSV is not copied at all but linked, see _bytecopy) and the profiler
starts from `t` without loading its own copy (the load was a third of the whole ingest time); if not — a line
DuckDB cannot split into exactly `width` fields, any cell to quote, trim or blank, an empty, first-cell-only or
repeated header row, or counts that differ from Python's — `t` is dropped and the fast copy goes on as before
(_fast, whose line check this replaces only in that case).

The checks are those of _FastCopy._query, cell by cell instead of one regular expression a line (DuckDB's
regular expressions run at ~200 MB/s; `contains` and first/last code points are several times faster;
the last one is taken as `c[-1]`, the code point Python's `c[-1]` is, at a sixth of the cost of `right(c, 1)`).
"""

from __future__ import annotations

import threading

from listings.reading._bytecopy import _copy_bytes, _place
from listings.reading._fast import _QUOTED, _SPACE, _line, _sql_str
from listings.reading._layout import MISSING_MARKERS

TABLE = "t"  # the name and columns (c0…) listings.profiling loads into
# DuckDB's CSV buffer: parsing 1M rows (167 MB) costs ~20 % less CPU with 32 MB buffers than with 8 MB (0.6 s
# against 0.8 s); the ingest's peak memory grows by 20-60 MB (~380 → 400-440 MB). 64 MB buffers: no faster.
_BUFFER = 32 * 1024**2


def load_and_check(fc, con) -> tuple[int, int, int] | None:
    """(lines, bytes without line ends, dirty lines) with `t` loaded and the output written when dirty is 0;
    None when DuckDB could not read the file as `width` plain fields a line (nothing is left behind)."""
    import duckdb

    n, d = fc.width, fc.d
    cols = [f"c{i}" for i in range(n)]
    spec = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in cols) + "}"
    stop, result = threading.Event(), {}
    copier = threading.Thread(target=_copy_bytes, daemon=True, args=(
        fc.path, fc.offset, fc.out, _line(fc.names), d.encode(), stop, result))
    copier.start()
    got = None
    try:
        try:
            con.execute(
                f"CREATE TABLE {TABLE} AS SELECT * FROM read_csv({_sql_str(str(fc.path))}, delim={_sql_str(d)}, "
                f"quote='', escape='', header=false, skip={fc.skip}, columns={spec}, auto_detect=false, "
                f"strict_mode=true, null_padding=false, encoding='utf-8', nullstr='', "
                f"buffer_size={_BUFFER})")
            got = con.execute(_check(fc, cols)).fetchone()
        except duckdb.Error:
            got = None
    finally:
        if got is None or got[2]:
            stop.set()
        copier.join()
    if got is not None and not got[2]:
        if "error" in result:
            con.execute(f"DROP TABLE IF EXISTS {TABLE}")
            raise result["error"]
        if (got[0], got[1]) == (result.get("lines"), result.get("size")):
            _place(result, fc.path, fc.out)
            return got  # clean, copied, and loaded
        got = None  # DuckDB split the lines otherwise than Python: the line check decides
    con.execute(f"DROP TABLE IF EXISTS {TABLE}")
    return got


def _check(fc, cols: list[str]) -> str:
    d = fc.d
    space = ", ".join(str(ord(ch)) for ch in _SPACE if ch != d)
    markers = ", ".join(_sql_str(m) for m in sorted(MISSING_MARKERS))
    special = [ch for ch in _QUOTED if ch != d]
    joined = "concat(" + ", ".join(cols) + ")"  # (concat skips nulls: the empty cells)
    bad = [" OR ".join(f"contains({joined}, {_sql_str(ch)})" for ch in special)]  # to quote (or a lone CR)
    # the first code point decides cheaply whether a cell could start with a space or be a marker
    first = ", ".join(dict.fromkeys([*space.split(", "), *(str(ord(m[0])) for m in sorted(MISSING_MARKERS))]))
    for c in cols:  # a cell to strip, a marker
        bad.append(f"(ord({c}) IN ({first}) AND (ord({c}) IN ({space}) OR {c} IN ({markers}))) "
                   f"OR ord({c}[-1]) IN ({space})")  # last code point; right(c, 1) costs ~6x as much
    bad.append(" AND ".join(f"{c} IS NULL" for c in cols))  # an empty row
    if len(cols) >= 3:
        bad.append(" AND ".join(f"{c} IS NULL" for c in cols[1:]))  # only the first cell filled
    if fc.repeat is not None:  # the header again
        bad.append(" AND ".join(f"{c} IS NOT DISTINCT FROM {_sql_str(v) if v else 'NULL'}"
                                for c, v in zip(cols, fc.repeat)))
    size = " + ".join(f"coalesce(strlen({c}), 0)" for c in cols) + f" + {len(cols) - 1}"
    return (f"SELECT count(*), coalesce(sum({size}), 0), count(*) FILTER (WHERE "
            + " OR ".join(f"({b})" for b in bad) + f") FROM {TABLE}")
