"""Profile a prepared table: storage types, semantic types, personal-information flags, statistics.

`profile_csv(csv_path, columns)` reads the clean UTF-8 comma CSV that `listings.reading` prepares
(first line = column names) into an in-memory DuckDB table and describes every column:

- storage ``type``: integer, decimal, date, datetime, boolean, category or text, decided from how
  many non-null values parse as that type (>= 98 %). Digit strings that are codes (leading zeros,
  code-like headers such as 标识码/代码/编号, fixed-length identifiers) stay text.
- ``semantic_type``: uscc, resident_id, mobile, region_code, enterprise_name, person_name, address,
  amount, year, longitude, latitude or None, decided on a deterministic sample (>= 60 % of the
  sampled non-null values match; a matching column-name hint lowers the bar for identifiers).
- ``validity``: share of checked non-null values that are valid for the semantic type. Cheap checks
  (patterns, ranges, GB/T 2260 membership) run over every row in SQL; check-digit validation with
  python-stdnum (GB 32100 credit codes; GB 11643 ID numbers with a real, non-future birth date and a
  region code that exists or existed at any time) runs on a deterministic sample of at most
  ``sample_size`` non-null values (``checked_count``).
- ``personal`` / ``sensitive`` / ``sensitive_kind`` following GB/T 43697-2024 and GB/T 35273:
  resident IDs, bank cards (16-19 digits, Luhn), health, religion, biometrics, whereabouts and
  minors under 14 (birth dates inside valid ID numbers) are sensitive.
- statistics: null/distinct counts, min/max in the type's order, top values, mean/sum for numbers,
  the unit of amounts, examples, and ``variants`` (spellings of one category value, e.g.
  正常参保 / 正常 / 正常缴费).

Region codes come from the GB/T 2260 table that python-stdnum ships (stdnum/cn/loc.dat, every
code that has existed, with its years of validity) plus the few it lacks
(listings/data/gb2260_supplement.tsv), never from test data.

The heavy lifting is SQL: one load, one aggregate pass over all columns, one GROUP BY per column
(top values and exact distinct counts), plus bounded Python work on the sample.

Private modules, in the order a table passes through them: `_rules` (types, thresholds, patterns,
column-name hints), `_identifiers` (region codes, check digits), `_column` (per-column state, the
DuckDB connection), then the profiler's stages as mixins: `_typing` (load, sample, storage types),
`_aggregates`, `_semantics`, `_personal` (validity, whom a row describes, personal flags), `_results`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from listings.profiling._aggregates import _Aggregating
from listings.profiling._column import connect
from listings.profiling._identifiers import (  # noqa: F401
    EARLIEST_BIRTH_YEAR,
    region_codes,
    region_table,
    ric_birth_date,
    ric_is_valid,
    uscc_is_valid,
)
from listings.profiling._personal import _Personal
from listings.profiling._results import _Results
from listings.profiling._rules import (  # noqa: F401
    COMMON_SURNAMES,
    COMPOUND_SURNAMES,
    PATTERNS,
    PERSONAL_SEMANTIC,
    SEMANTIC_TYPES,
    SENSITIVE_HINTS,
    TYPES,
)
from listings.profiling._semantics import _Semantics
from listings.profiling._typing import _Typing


class _Profiler(_Typing, _Aggregating, _Semantics, _Personal, _Results):
    """One profile run over one table; each stage lives in its mixin module."""

    def __init__(self, csv_path: Path, columns: list[str], progress, sample_size: int, threads: int = 2,
                 memory_limit: str | None = None, con=None, loaded: bool = False):
        self.path = Path(csv_path)
        self.names = list(columns)
        self.progress = progress
        self.sample_size = max(100, int(sample_size))
        self.loaded = loaded  # `t` is already in `con` (listings.reading loaded it while checking the file)
        self.own = con is None
        self.con = con if con is not None else connect(threads=threads, memory_limit=memory_limit,
                                                       spill=self.path.parent / ".profile-spill")


    def run(self) -> dict:
        p = self.progress
        p(0.0, "loading")
        self.load()
        p(0.3, "sampling")
        self.sample()
        p(0.4, "detecting")
        self.detect()
        p(0.45, "aggregating")
        self.aggregate()
        p(0.55, "top_values")
        self.group()
        self.decide_categories()
        p(0.8, "validating")
        self.validate()
        self.flags()
        p(0.9, "duplicates")
        dups = self.duplicates()
        cols = [self.column_result(c) for c in self.cols]
        result = {
            "row_count": self.rows,
            "duplicate_rows": dups,
            "sample_rows": self.sample_rows,
            "personal": any(c["personal"] for c in cols),
            "sensitive": any(c["sensitive"] for c in cols),
            "minors": any(c["minors"] for c in cols),
            "subject": getattr(self, "subject", None),  # what a row describes: person, organisation or None
            "columns": cols,
        }
        p(1.0, "done")
        return result


def profile_csv(csv_path: Path, columns: list[str], *, progress: Callable[[float, str], None] | None = None,
                sample_size: int = 20000, threads: int = 2, memory_limit: str | None = None, con=None,
                loaded: bool = False) -> dict:
    """Profile a clean UTF-8 comma CSV whose first line holds the column names (see module doc).

    `threads` and `memory_limit` (e.g. "1024MB") bound DuckDB; the job runs this in a bounded child process.
    `con`: a connection of `connect()` to use (not closed here); `loaded`: its table `t` holds the CSV already."""
    def report(fraction: float, stage: str) -> None:
        if progress is not None:
            progress(max(0.0, min(1.0, fraction)), stage)

    prof = _Profiler(Path(csv_path), list(columns), report, sample_size, threads, memory_limit, con, loaded)
    try:
        return prof.run()
    finally:
        if prof.own:
            prof.con.close()
