"""Small helpers of the profiler (SQL quoting, number strings, sampling evenly), the per-column state
it fills stage by stage, and the DuckDB connection it works on."""

from __future__ import annotations

import datetime as _dt
import math
import re
import unicodedata
from pathlib import Path
import duckdb

from listings.profiling._rules import PATTERNS, UNIT_SUFFIX, _HINTS


# ---- small helpers ---------------------------------------------------------------------------------
def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _num_str(x) -> str | None:
    if x is None:
        return None
    if isinstance(x, int):
        return str(x)
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        return str(x)
    if x.is_integer() and abs(x) < 1e18:
        return str(int(x))
    s = format(x, ".15g")
    if "e" in s:
        s = format(x, ".10f").rstrip("0").rstrip(".")
    return s


def _norm_key(value: str) -> str:
    v = unicodedata.normalize("NFKC", value).strip().lower()
    return re.sub(r"\s+", "", v)


def _compact_id(value: str) -> str:
    if value.isalnum():
        return value.upper()
    return re.sub(r"[\s\-]", "", value).upper()


def _evenly(values: list, k: int) -> list:
    if len(values) <= k:
        return values
    step = len(values) / k
    return [values[int(i * step)] for i in range(k)]


def _parses(value: str, formats: tuple[str, ...]) -> bool:
    for f in formats:
        try:
            _dt.datetime.strptime(value, f)
            return True
        except ValueError:
            continue
    return False


def _share(n: int, d: int) -> float:
    return n / d if d else 0.0


class _Column:
    def __init__(self, index: int, name: str, ident: str):
        self.index = index
        self.name = name
        self.ident = ident  # SQL identifier inside DuckDB
        self.sample: list[str] = []  # trimmed non-null sample values, in file order
        self.stats: dict = {}
        self.type = "text"
        self.clean = False  # numbers need unit suffixes / thousands separators stripped
        self.separators = False  # phone numbers written with spaces or hyphens
        self.date_formats: tuple[str, ...] = ()
        self.semantic: str | None = None
        self.candidates: dict[str, float] = {}
        self.unit: str | None = None
        self.sensitive_kind: list[str] = []
        self.personal = False
        self.minors = False
        self.minors_count = 0
        self.valid_count: int | None = None
        self.checked_count: int | None = None
        self.result: dict = {}

    @property
    def q(self) -> str:
        return _q(self.ident)

    def hint(self, kind: str) -> bool:
        return bool(_HINTS[kind].search(self.name))

    def num_expr(self, src: str | None = None) -> str:
        """SQL expression of the column's value as cleaned number text."""
        v = src or self.q
        if not self.clean:
            return f"trim({v})"
        stripped = f"regexp_replace(trim({v}), '{UNIT_SUFFIX}', '')"
        return (f"CASE WHEN regexp_full_match({stripped}, '{PATTERNS['thousands']}') "
                f"THEN replace({stripped}, ',', '') ELSE {stripped} END")


class _Loaded(Exception):
    """The table is there already: no load."""


def connect(*, threads: int = 2, memory_limit: str | None = None, spill: Path | None = None):
    """An in-memory DuckDB connection for profiling, within `threads` and `memory_limit` (e.g. "1024MB")."""
    config = {"threads": max(1, int(threads))}
    if memory_limit:  # DuckDB spills to disk (or raises OutOfMemory) instead of growing past it
        config["memory_limit"] = memory_limit
        if spill is not None:
            config["temp_directory"] = str(spill)
    con = duckdb.connect(":memory:", config=config)
    con.execute("SET enable_progress_bar = false")  # (it writes to stderr of a job's process)
    return con
