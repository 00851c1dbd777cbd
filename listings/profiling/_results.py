"""Stage 7 of a profile: duplicates and the column results (a mixin of the profiler)."""

from __future__ import annotations

import re

from listings.profiling._column import _Column, _norm_key, _num_str
from listings.profiling._rules import CATEGORY_FETCH, TOP_K


class _Results:
    """Stage 7: duplicate rows and each column's result as the profile JSON holds it."""

    # -- stage 7: duplicates and the result ------------------------------------------------------------------
    def duplicates(self) -> int:
        if self.rows < 2 or not self.cols:
            return 0
        if any(c.distinct == self.rows and c.full["nonnull"] == self.rows for c in self.cols):
            return 0  # a column with a distinct value in every row: no two rows are equal
        row = ", ".join(c.q for c in self.cols)
        return self.con.execute(f"SELECT count(*) - count(DISTINCT hash({row})) FROM t").fetchone()[0]

    def column_result(self, c: _Column) -> dict:
        full = c.full
        nn = full["nonnull"]
        if c.type in ("integer", "decimal"):
            lo, hi = full.get("tmin"), full.get("tmax")
            if not c.clean:
                lo, hi = _num_str(lo), _num_str(hi)
        elif c.type in ("date", "datetime"):
            lo, hi = full.get("tmin"), full.get("tmax")
        elif "smin" in full:
            lo, hi = full["smin"], full["smax"]
        elif c.groups and len(c.groups) >= c.distinct:
            vals = [v for v, _n in c.groups]
            lo, hi = min(vals), max(vals)
        elif nn:
            lo, hi = self.con.execute(f"SELECT min({c.q}), max({c.q}) FROM t").fetchone()
        else:
            lo = hi = None
        validity = None
        if c.semantic is not None and c.checked_count:
            validity = round(c.valid_count / c.checked_count, 6)
        examples = list(dict.fromkeys(c.sample))[:3]
        out = {
            "name": c.name,
            "type": c.type,
            "semantic_type": c.semantic,
            "personal": c.personal,
            "sensitive": bool(c.sensitive_kind),
            "sensitive_kind": c.sensitive_kind,
            "null_count": self.rows - nn,
            "distinct_count": c.distinct,
            "min": lo,
            "max": hi,
            "top_values": [[v, n] for v, n in c.groups[:TOP_K]],
            "valid_count": c.valid_count if c.semantic else None,
            "checked_count": c.checked_count if c.semantic else None,
            "validity": validity,
            "unit": c.unit if c.semantic == "amount" else None,
            "mean": None,
            "sum": None,
            "examples": examples,
            "variants": self._variants(c) if c.type == "category" else [],
            "minors": c.minors,
        }
        if getattr(c, "amount_facts", None):
            out["units"] = c.amount_facts["units"]  # every unit written in the text, with its count
        if getattr(c, "about_organisation", False):
            out["describes"] = "organisation"  # a name/address/phone of an organisation: not personal
        if c.type in ("integer", "decimal"):
            out["mean"] = _num_str(full.get("mean"))
            out["sum"] = _num_str(full.get("sum"))
            out["type_invalid_count"] = nn - full.get("typed", 0)
        elif c.type in ("date", "datetime"):
            out["type_invalid_count"] = nn - full.get("typed", 0)
        if c.minors:
            out["minors_in_sample"] = c.minors_count
        if getattr(c, "embedded_ids", 0):
            out["embedded_resident_ids"] = c.embedded_ids
        return out

    @staticmethod
    def _variants(c: _Column) -> list[list[str]]:
        """Spellings of one value: equal after NFKC/whitespace/case folding, or one a prefix of the other
        where the rest is short (正常 / 正常参保 / 正常缴费) or a bracketed or punctuated remark
        (存续 / 存续（在营、开业、在册）)."""
        groups = [(v, n) for v, n in c.groups if v is not None]
        if len(groups) < 2 or len(groups) > CATEGORY_FETCH:
            return []
        parent = list(range(len(groups)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        keys = [_norm_key(v) for v, _n in groups]
        # a prefix pair shares its first two characters: compare only within those buckets
        by_head: dict[str, list[int]] = {}
        for i, k in enumerate(keys):
            if re.search(r"[^\d.\-+]", k):
                by_head.setdefault(k[:2], []).append(i)
        for members in by_head.values():
            for x, i in enumerate(members):
                for j in members[x + 1:]:
                    a, b = keys[i], keys[j]
                    same = a == b
                    if not same:
                        short, long_ = (a, b) if len(a) <= len(b) else (b, a)
                        if len(short) >= 2 and long_.startswith(short):
                            rest = long_[len(short):]
                            same = len(rest) <= 2 or rest[0] in "(（[【,，、:：;；-—/"
                    if same:
                        parent[find(i)] = find(j)
        buckets: dict[int, list[tuple[str, int]]] = {}
        for i, g in enumerate(groups):
            buckets.setdefault(find(i), []).append(g)
        out = [[v for v, _n in sorted(members, key=lambda g: (-g[1], g[0]))]
               for members in buckets.values() if len(members) > 1]
        out.sort(key=lambda vs: -sum(n for v, n in groups if v in vs))
        return out
