"""Stage 3 of a profile: aggregates and top values over the whole table (a mixin of the profiler)."""

from __future__ import annotations

from collections import Counter

from listings.profiling import _rules
from listings.profiling._column import _Column, _lit
from listings.profiling._rules import CATEGORY_FETCH, PATTERNS, SQL_BATCH, TOP_K, TYPE_SHARE, WIDE, _BOOL_PAIRS


class _Aggregating:
    """Stage 3: one aggregate pass over the whole table, top values grouped per column (in batches
    of columns for wide tables), categories."""

    # -- stage 3: one aggregate pass over the whole table -----------------------------------------------
    def aggregate(self) -> None:
        if not self.cols:
            return
        parts = [self._aggregates(c, c.q, f"{c.index}") for c in self.cols]
        keys = [ks for _inner, _outer, ks in parts]
        row: list = []
        if len(self.cols) >= WIDE:
            row = self._aggregate_unpivoted(parts)
        else:
            for start in range(0, len(self.cols), SQL_BATCH):  # one pass over the table per batch of columns
                batch = parts[start:start + SQL_BATCH]
                inner = [c.q for c in self.cols[start:start + SQL_BATCH]] + [e for p in batch for e in p[0]]
                outer = [e for p in batch for e in p[1]]
                row += self.con.execute(f"SELECT {', '.join(outer)} FROM (SELECT {', '.join(inner)} FROM t)").fetchone()
        pos = 0
        for c, ks in zip(self.cols, keys):
            c.full = dict(zip(ks, row[pos:pos + len(ks)]))
            pos += len(ks)
            nn = c.full["nonnull"]
            # the type must hold over all rows, not only the sample
            if c.type in ("integer", "decimal", "date", "datetime") and nn and c.full["typed"] < TYPE_SHARE * nn:
                c.type, c.clean = "text", False
                if c.semantic in ("year", "longitude", "latitude", "amount"):
                    c.semantic, c.unit = None, None
                    c.full.pop("sem_valid", None)

    def _aggregates(self, c: _Column, q: str, n: str) -> tuple[list[str], list[str], list[str]]:
        """(derived expressions, aggregates, their keys) of one column whose value is the SQL `q`; derived
        values are named x<n> / d<n>."""
        inner: list[str] = []
        outer = [f"count({q})"]
        keys = ["nonnull"]
        if c.type == "text" and c.stats.get("distinct", 0) > CATEGORY_FETCH // 2:
            # (columns with few values get min/max from their complete GROUP BY instead)
            outer += [f"min({q})", f"max({q})"]
            keys += ["smin", "smax"]
        if c.type in ("integer", "decimal"):
            x = f"x{n}"
            if c.clean:
                pat = PATTERNS["integer"] if c.type == "integer" else PATTERNS["number"]
                cast = "HUGEINT" if c.type == "integer" else "DOUBLE"
                inner.append(f"CASE WHEN regexp_full_match({c.num_expr(q)}, '{pat}') "
                             f"THEN TRY_CAST({c.num_expr(q)} AS {cast}) END AS {x}")
            elif c.type == "integer":
                # TRY_CAST alone would round '12.5' to 13
                inner.append(f"CASE WHEN contains({q}, '.') THEN NULL ELSE TRY_CAST({q} AS HUGEINT) END AS {x}")
            else:
                inner.append(f"TRY_CAST({q} AS DOUBLE) AS {x}")
            if c.clean:
                outer += [f"count({x})", f"arg_min({q}, {x})", f"arg_max({q}, {x})"]
            else:
                outer += [f"count({x})", f"min({x})", f"max({x})"]
            outer += [f"sum({x})", f"avg({x})"]
            keys += ["typed", "tmin", "tmax", "sum", "mean"]
            lo_hi = {"year": (1900, 2100), "longitude": (73, 136), "latitude": (3, 54)}.get(c.semantic)
            if lo_hi:
                outer.append(f"count(*) FILTER (WHERE {x} BETWEEN {lo_hi[0]} AND {lo_hi[1]})")
                keys.append("sem_valid")
            elif c.semantic == "amount":
                outer.append(f"count({x})")
                keys.append("sem_valid")
        elif c.type in ("date", "datetime"):
            d = f"d{n}"
            if c.date_formats == ("%Y-%m-%d",):
                inner.append(f"TRY_CAST({q} AS DATE) AS {d}")
            else:
                fmts = "[" + ", ".join(_lit(f) for f in c.date_formats) + "]"
                inner.append(f"try_strptime({q}, {fmts}) AS {d}")
            outer += [f"count({d})", f"arg_min({q}, {d})", f"arg_max({q}, {d})"]
            keys += ["typed", "tmin", "tmax"]
        if c.semantic in ("mobile", "person_name"):
            v = q
            if c.semantic == "mobile" and c.separators:
                v = f"regexp_replace({q}, '[\\s-]', '', 'g')"
            outer.append(f"count(*) FILTER (WHERE regexp_full_match({v}, {_lit(PATTERNS[c.semantic])}))")
            keys.append("sem_valid")
        return inner, outer, keys

    def _aggregate_unpivoted(self, parts) -> list:
        """aggregate() for a wide table: DuckDB spends ~2 ms planning each column's handful of aggregates
        (10 s at 5,000 columns), so columns whose aggregates read alike share one query over the
        unpivoted values, grouped by column. UNPIVOT drops nulls, which no aggregate counts anyway."""
        alike: dict[tuple, list[int]] = {}
        for i, c in enumerate(self.cols):
            inner, outer, _keys = self._aggregates(c, "v", "")
            alike.setdefault((tuple(inner), tuple(outer)), []).append(i)
        found: dict[int, tuple] = {}
        for (inner, outer), members in alike.items():
            for start in range(0, len(members), 10 * SQL_BATCH):
                batch = members[start:start + 10 * SQL_BATCH]
                names = ", ".join(self.cols[i].q for i in batch)
                rows = self.con.execute(
                    f"SELECT col, {', '.join(outer)} FROM (SELECT col, v{''.join(', ' + e for e in inner)} FROM "
                    f"(UNPIVOT (SELECT {names} FROM t) ON {names} INTO NAME col VALUE v)) GROUP BY col").fetchall()
                index = {self.cols[i].ident: i for i in batch}
                for r in rows:
                    found[index[r[0]]] = r[1:]
        row: list = []
        for i, (_inner, _outer, keys) in enumerate(parts):
            # a column with no value at all is missing from the unpivoted rows: counts 0, the rest null
            row += found.get(i) or [0 if k in ("nonnull", "typed", "sem_valid") else None for k in keys]
        return row

    # -- stage 4: top values and exact distinct counts --------------------------------------------------
    def group(self) -> None:
        batched: list[_Column] = []  # a wide table's columns, grouped a batch of columns per query
        for i, c in enumerate(self.cols):
            nn = c.full["nonnull"]
            if not nn:
                c.distinct, c.groups = 0, []
            elif self._mostly_unique(c):
                self._group_repeated(c)
            elif len(self.cols) >= WIDE:
                batched.append(c)
                continue
            else:
                k = CATEGORY_FETCH + 1 if self._few(c) else TOP_K
                rows = self.con.execute(
                    f"SELECT v, n, count(*) OVER () FROM (SELECT {c.q} AS v, count(*) AS n FROM t "
                    f"WHERE {c.q} IS NOT NULL GROUP BY {c.q}) ORDER BY n DESC, v LIMIT {k}").fetchall()
                c.distinct = rows[0][2] if rows else 0
                c.groups = [(v, n) for v, n, _ in rows]
            self.progress(0.55 + 0.25 * (i + 1) / max(1, len(self.cols)), "top_values")
        for start in range(0, len(batched), 5 * SQL_BATCH):
            self._group_batch(batched[start:start + 5 * SQL_BATCH])
            self.progress(0.55 + 0.25 * min(1.0, (start + 5 * SQL_BATCH) / len(batched)), "top_values")

    def _mostly_unique(self, c: _Column) -> bool:
        sample_nn = c.stats.get("nn") or 0
        return bool(sample_nn) and c.stats["distinct"] / sample_nn > 0.5 \
            and self.rows > _rules.MOSTLY_UNIQUE_ROWS

    @staticmethod
    def _few(c: _Column) -> bool:
        return c.stats.get("distinct", 0) <= CATEGORY_FETCH and c.type not in ("integer", "decimal", "date", "datetime")

    def _group_batch(self, batch: list[_Column]) -> None:
        """What group() does column by column, for a batch of columns in one query (UNPIVOT drops nulls)."""
        few = ", ".join(_lit(c.ident) for c in batch if self._few(c)) or "NULL"
        rows = self.con.execute(
            f"SELECT col, v, n, d FROM (SELECT col, v, n, count(*) OVER (PARTITION BY col) AS d, "
            f"row_number() OVER (PARTITION BY col ORDER BY n DESC, v) AS rk FROM (SELECT col, v, count(*) AS n "
            f"FROM (UNPIVOT (SELECT {', '.join(c.q for c in batch)} FROM t) ON {', '.join(c.q for c in batch)} "
            f"INTO NAME col VALUE v) GROUP BY col, v)) "
            f"WHERE rk <= CASE WHEN col IN ({few}) THEN {CATEGORY_FETCH + 1} ELSE {TOP_K} END "
            f"ORDER BY col, rk").fetchall()
        by_col: dict[str, list[tuple]] = {}
        for col, v, n, d in rows:
            by_col.setdefault(col, []).append((v, n, d))
        for c in batch:
            got = by_col.get(c.ident, [])
            c.distinct = got[0][2] if got else 0
            c.groups = [(v, n) for v, n, _ in got]

    def _group_repeated(self, c: _Column) -> None:
        """Mostly-unique column: only the values that repeat are kept from the grouping (a window and a sort over
        a million groups cost more than the grouping itself). Exact: distinct = non-null - (rows in repeated
        groups - their number); top values are the repeated ones, padded with sampled values, which occur once
        (when fewer than TOP_K values repeat, all of them are in the top values: any other sampled value occurs
        once)."""
        q = c.q
        nn = c.full["nonnull"]
        where = f"{q} IS NOT NULL"
        if self._few_pairs(c, nn):
            # few values repeat: grouping a million 64-bit hashes costs less than grouping the strings, and only
            # the rows whose hash repeats are grouped by value (a value seen once has a hash seen once; a hash
            # seen more often holds a repeated value or values that collide, which the value grouping tells apart)
            where += f" AND hash({q}) IN (SELECT hash({q}) FROM t WHERE {q} IS NOT NULL GROUP BY 1 HAVING count(*) > 1)"
        top = self.con.execute(
            f"SELECT v, n, count(*) OVER (), sum(n) OVER () FROM (SELECT {q} AS v, count(*) AS n FROM t "
            f"WHERE {where} GROUP BY {q} HAVING count(*) > 1) ORDER BY n DESC, v LIMIT {TOP_K}").fetchall()
        groups, rows_in = (top[0][2], int(top[0][3])) if top else (0, 0)
        c.distinct = nn - rows_in + groups
        c.groups = [(v, n) for v, n, _g, _r in top]
        if len(c.groups) < TOP_K:
            seen = {v for v, _n in c.groups}
            pad = [(v, 1) for v in sorted(set(self._raw_sample(c))) if v not in seen]
            c.groups += pad[:TOP_K - len(c.groups)]

    @staticmethod
    def _few_pairs(c: _Column, nn: int) -> bool:
        """Whether few rows of the column hold a repeated value, judged by the pairs of equal values in the sample
        (of n values: a pair of the column shows in it with odds (n / nn)², so pairs ≈ sample pairs × (nn / n)²).
        Only the way of grouping depends on it, not the result."""
        n = len(c.sample)
        if not n:
            return False
        pairs = sum(k * (k - 1) // 2 for k in Counter(c.sample).values() if k > 1)
        return pairs * (nn / n) ** 2 <= nn / 4

    def _raw_sample(self, c: _Column) -> list[str]:
        return [r[0] for r in self.con.execute(f"SELECT {c.q} FROM s WHERE {c.q} IS NOT NULL LIMIT 200").fetchall()]

    def decide_categories(self) -> None:
        for c in self.cols:
            nn = c.full["nonnull"]
            if not nn:
                continue
            values = {v.strip().upper() for v, _n in c.groups} if c.distinct <= 2 else set()
            if values and c.semantic is None and any(values <= pair and (pair != {"0", "1"} or values == pair)
                                                     for pair in _BOOL_PAIRS):
                if len(values) == 2 or not values <= {"0", "1"}:
                    c.type, c.clean = "boolean", False
                    continue
            few = (c.distinct <= 50 and c.distinct / nn <= 0.5) or (
                c.distinct <= CATEGORY_FETCH and c.distinct / nn <= 0.2)
            if c.type == "text" and c.semantic in (None, "region_code", "enterprise_name", "address") and few:
                c.type = "category"
