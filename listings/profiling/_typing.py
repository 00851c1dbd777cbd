"""Stages 1-2 of a profile: load and sample, then storage types (a mixin of the profiler)."""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections import Counter
import duckdb
from stdnum.cn import uscc

from listings.profiling._column import _Column, _Loaded, _compact_id, _evenly, _lit, _parses, _share
from listings.profiling._identifiers import region_codes
from listings.profiling._rules import DATETIME_FORMATS, DATE_FORMATS, DETECT_VALUES, SAMPLE_CELLS, SEMANTIC_SHARE, SQL_BATCH, TYPE_SAMPLE, TYPE_SHARE, WIDE, _CODE_HINT, _DATE_HINT, _NULLSTR, _RX


_DIGIT = re.compile("[0-9]")
_UNIT_LAST = frozenset("元年%％\n")  # the last character of what UNIT_SUFFIX matches


class _Typing:
    """Stages 1-2 of a profile: load the CSV into DuckDB, sample it, decide storage types."""

    # -- stage 1: load ---------------------------------------------------------------------------
    def load(self) -> None:
        names = self.names
        if not names:
            import csv

            with self.path.open(encoding="utf-8", newline="") as fh:
                names = next(csv.reader(fh), [])
            self.names = names
        idents = [f"c{i}" for i in range(len(names))]
        spec = "{" + ", ".join(f"'{n}': 'VARCHAR'" for n in idents) + "}"
        path = _lit(self.path.as_posix())
        try:
            if self.loaded:
                raise _Loaded
            self.con.execute(
                f"CREATE TABLE t AS SELECT * FROM read_csv({path}, header=true, auto_detect=false, delim=',', "
                f"quote='\"', escape='\"', columns={spec}, null_padding=true, strict_mode=false, encoding='utf-8', "
                f"nullstr={_NULLSTR})")
        except _Loaded:
            pass
        except duckdb.Error:
            # a file whose width differs from `columns`: let DuckDB sniff it, keep names by position
            self.con.execute("DROP TABLE IF EXISTS t")
            self.con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv({path}, header=true, all_varchar=true, "
                             f"nullstr={_NULLSTR})")
            idents = [r[0] for r in self.con.execute("DESCRIBE t").fetchall()]
            names = [names[i] if i < len(names) else idents[i] for i in range(len(idents))]
            self.names = names
        self.cols = [_Column(i, n, ident) for i, (n, ident) in enumerate(zip(names, idents))]
        self.rows = self.con.execute("SELECT count(*) FROM t").fetchone()[0]
        # per column: the sample rows, and the values checked with stdnum (the same for up to 100 columns)
        self.sample_size = max(100, min(self.sample_size, SAMPLE_CELLS // max(1, len(self.cols))))

    # -- stage 2: sample and decide types ---------------------------------------------------------
    def sample(self) -> None:
        step = max(1, math.ceil(self.rows / self.sample_size))
        self.con.execute(f"CREATE TEMP TABLE s AS SELECT * FROM t WHERE rowid % {step} = 0 LIMIT {self.sample_size}")
        self.sample_rows = self.con.execute("SELECT count(*) FROM s").fetchone()[0]
        if not self.cols:
            return
        # types are decided on at most TYPE_SAMPLE rows of the sample (the full pass verifies them)
        k = max(1, math.ceil(self.sample_rows / TYPE_SAMPLE))
        # the sample's rows, turned into columns here (one ordered list aggregate per column costs DuckDB
        # memory in columns², over 20 GB at 5,000 columns); at most SAMPLE_CELLS values
        wide = len(self.cols) >= WIDE
        for start in range(0, len(self.cols), 10 * SQL_BATCH if wide else SQL_BATCH):
            batch = self.cols[start:start + (10 * SQL_BATCH if wide else SQL_BATCH)]
            if wide:  # (one expression per column costs DuckDB ~0.5 ms of planning: unpivot instead)
                names = ", ".join(c.q for c in batch)
                got: dict[str, list] = {c.ident: [] for c in batch}
                for col, r, v in self.con.execute(
                        f"SELECT col, r, trim(v) FROM (UNPIVOT (SELECT rowid AS r, {names} FROM s) ON {names} "
                        f"INTO NAME col VALUE v) WHERE trim(v) <> '' ORDER BY col, r").fetchall():
                    got[col].append((r, v))
                for c in batch:
                    c.sample = [v for _r, v in got[c.ident]]
                    c.stats = self._type_stats([v for r, v in got[c.ident] if r % k == 0])
                    self._decide_type(c)
                continue
            rows = self.con.execute("SELECT " + ", ".join(f"trim({c.q})" for c in batch)
                                    + " FROM s ORDER BY rowid").fetchall()
            for c, values in zip(batch, zip(*rows) if rows else [() for _ in batch]):
                c.sample = [v for v in values if v]
                c.stats = self._type_stats([v for i, v in enumerate(values) if v and i % k == 0])
                self._decide_type(c)
            del rows

    @staticmethod
    def _type_stats(vals: list[str]) -> dict:
        """Parse counts over (trimmed, non-null) sample values; the full pass re-checks in SQL."""
        rx_int, rx_num, rx_coord = _RX["integer"], _RX["number"], _RX["coordinate"]
        rx_date, rx_stamp = _RX["date_like"], _RX["datetime_like"]
        unit, thousands = _RX["unit_suffix"], _RX["thousands"]
        st = dict.fromkeys(("int", "num", "int_c", "num_c", "date", "datetime", "date8", "coord", "lead0"), 0)
        lengths = []
        units: set[str] = set()  # unit suffixes stripped before parsing (元, 万元, %, 年 …)
        digit = _DIGIT.search
        for v in vals:
            lengths.append(len(v))
            if not digit(v):
                # no number, date or time without a digit ([0-9] in every pattern): only a unit to note (the unit
                # pattern ends in one of these, or with $ before a final line feed)
                if v[-1:] in _UNIT_LAST:
                    c = unit.sub("", v)
                    if len(c) != len(v):
                        units.add(v[len(c):].strip())
                continue
            if rx_num.fullmatch(v):
                st["num"] += 1
                if rx_int.fullmatch(v):
                    st["int"] += 1
                    digits = v.lstrip("+-")
                    if len(digits) > 1 and digits[0] == "0":
                        st["lead0"] += 1
                    if len(v) == 8 and v.isdigit() and _parses(v, ("%Y%m%d",)) and 1900 <= int(v[:4]) <= 2100:
                        st["date8"] += 1
                elif rx_coord.fullmatch(v):
                    st["coord"] += 1
                c = v
            else:
                c = unit.sub("", v)
                if len(c) != len(v):
                    units.add(v[len(c):].strip())
                if thousands.fullmatch(c):
                    c = c.replace(",", "")
            if rx_num.fullmatch(c):
                st["num_c"] += 1
                if rx_int.fullmatch(c):
                    st["int_c"] += 1
            elif rx_stamp.match(v):
                if _parses(v, DATETIME_FORMATS):
                    st["datetime"] += 1
            elif rx_date.match(v) and _parses(v, DATE_FORMATS):
                st["date"] += 1
        st.update(nn=len(vals), distinct=len(set(vals)), minlen=min(lengths, default=0),
                  maxlen=max(lengths, default=0), mixed_units=len(units & {"元", "万元", "亿元"}) > 1)
        return st

    def _decide_type(self, c: _Column) -> None:
        st = c.stats
        nn = st["nn"]
        if not nn:
            c.type = "text"
            return
        if _share(st["datetime"], nn) >= TYPE_SHARE and st["datetime"] > st["date"]:
            c.type, c.date_formats = "datetime", self._formats(c, DATETIME_FORMATS)
            return
        if _share(st["date"], nn) >= TYPE_SHARE:
            c.type, c.date_formats = "date", self._formats(c, DATE_FORMATS)
            return
        code_hint = bool(_CODE_HINT.search(c.name))
        if _share(st["date8"], nn) >= TYPE_SHARE and (_DATE_HINT.search(c.name) or not code_hint) \
                and st["minlen"] == st["maxlen"] == 8 and not st["lead0"]:
            c.type, c.date_formats = "date", ("%Y%m%d",)
            return
        if st["mixed_units"]:
            # 1.2亿元 beside 500万元: stripping the units would mix magnitudes; an amount column (see detect)
            c.type = "text"
            return
        int_share = max(st["int"], st["int_c"]) / nn
        num_share = max(st["num"], st["num_c"]) / nn
        if int_share >= TYPE_SHARE:
            c.clean = st["int_c"] > st["int"]
            if self._code_like(c, code_hint):
                c.type, c.clean = "text", False
            else:
                c.type = "integer"
            return
        if num_share >= TYPE_SHARE:
            c.clean = st["num_c"] > st["num"]
            c.type = "decimal"
            return
        c.type = "text"

    @staticmethod
    def _formats(c: _Column, formats: tuple[str, ...]) -> tuple[str, ...]:
        """The formats the sampled values are written in, most used first (the full pass parses only these)."""
        counts: Counter = Counter()
        for v in _evenly(c.sample, 400):
            for f in formats:
                try:
                    _dt.datetime.strptime(v, f)
                except ValueError:
                    continue
                counts[f] += 1
                break
        return tuple(f for f, _n in counts.most_common()) or formats

    def _code_like(self, c: _Column, code_hint: bool) -> bool:
        """Digit strings that identify rather than count: keep them as text."""
        st = c.stats
        if st["lead0"]:
            return True
        if st["maxlen"] >= 16:  # beyond exact integers: ID numbers, bank cards
            return True
        if code_hint and not c.hint("year") and not c.hint("amount"):
            return True
        vals = _evenly(c.sample, DETECT_VALUES)
        if st["maxlen"] >= 6:  # phone numbers (+86 …) and region codes are identifiers, not quantities
            for kind in ("mobile", "region_code"):
                if _share(sum(1 for v in vals if self._matches(kind, v)), len(vals)) >= SEMANTIC_SHARE:
                    return True
        if st["minlen"] == st["maxlen"] and st["minlen"] >= 8 and st["distinct"] >= min(10, st["nn"]):
            return True
        return False

    # -- semantic detection on the sample ------------------------------------------------------------
    def _matches(self, kind: str, v: str) -> bool:
        if kind == "region_code":
            return len(v) == 6 and v in region_codes()
        if kind in ("resident_id", "uscc"):
            return bool(_RX[kind].fullmatch(_compact_id(v)))
        if kind == "mobile":
            return bool(_RX["mobile"].fullmatch(v if v.isdigit() else re.sub(r"[\s\-]", "", v)))
        if kind == "address":
            return len(v) >= 6 and bool(_RX["address"].search(v))
        if kind == "enterprise_name":
            return len(v) >= 4 and bool(_RX["enterprise_name"].search(v))
        return bool(_RX[kind].fullmatch(v))
