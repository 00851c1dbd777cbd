"""Stage 4 of a profile: semantic types (a mixin of the profiler)."""

from __future__ import annotations

import re
from collections import Counter
from stdnum.cn import uscc

from listings.profiling import amounts
from listings.profiling._column import _Column, _evenly, _share
from listings.profiling._identifiers import ric_is_valid, uscc_is_valid
from listings.profiling._rules import DETECT_VALUES, HINTED_SHARE, SEMANTIC_SHARE, TYPE_SHARE, UNIT_SUFFIX, _RX, _UNIT_IN_NAME


# kinds whose pattern needs an ASCII digit, which neither cleaning (spaces, hyphens) nor upper-casing makes
DIGIT_KINDS = frozenset({"resident_id", "uscc", "mobile", "region_code"})
_DIGIT = re.compile("[0-9]")


class _Semantics:
    """Stage 4: semantic types on the sample (identifiers, names, places, amounts, coordinates)."""

    def detect(self) -> None:
        for c in self.cols:
            vals = _evenly(c.sample, DETECT_VALUES)
            if not vals:
                continue
            self._detect_column(c, vals)
        self._pair_coordinates()

    def _detect_column(self, c: _Column, vals: list[str]) -> None:
        n = len(vals)
        with_digit = None

        def share(kind: str) -> float:
            nonlocal with_digit
            pool = vals
            if kind in DIGIT_KINDS:  # (names and places: most values have no digit, none of which can match)
                if with_digit is None:
                    with_digit = [v for v in vals if _DIGIT.search(v)]
                pool = with_digit
            s = _share(sum(1 for v in pool if self._matches(kind, v)), n)
            c.candidates[kind] = round(s, 4)
            return s

        def need(kind: str) -> float:
            return HINTED_SHARE if c.hint(kind) else SEMANTIC_SHARE

        if c.type in ("integer", "decimal"):
            nums = []
            for v in vals:
                x = self._py_number(v)
                if x is not None:
                    nums.append(x)
            if not nums:
                return
            in_year = _share(sum(1 for x in nums if float(x).is_integer() and 1900 <= x <= 2100), n)
            with_nian = _share(sum(1 for v in vals if v.endswith("年")), n)
            if c.type == "integer" and in_year >= SEMANTIC_SHARE and (
                    c.hint("year") or with_nian >= SEMANTIC_SHARE
                    or (in_year >= TYPE_SHARE and c.stats["minlen"] == c.stats["maxlen"] == 4
                        and not c.hint("amount"))):
                c.semantic = "year"
                return
            lng = _share(sum(1 for x in nums if 73 <= x <= 136), n)
            lat = _share(sum(1 for x in nums if 3 <= x <= 54), n)
            c.candidates.update({"longitude": round(lng, 4), "latitude": round(lat, 4)})
            if c.hint("longitude") and lng >= SEMANTIC_SHARE:
                c.semantic = "longitude"
                return
            if c.hint("latitude") and lat >= SEMANTIC_SHARE:
                c.semantic = "latitude"
                return
            unit = self._unit(c)
            if unit or c.hint("amount"):
                c.semantic, c.unit = "amount", unit
                return
            return
        if c.type not in ("text",):
            return
        ric_s, uscc_s = share("resident_id"), share("uscc")
        if ric_s >= need("resident_id") or uscc_s >= need("uscc"):
            if ric_s >= need("resident_id") and uscc_s >= need("uscc"):
                # 18 digits fit both formats: the check digits decide (a valid ID rarely passes mod 31)
                probe = vals[:500]
                r_ok = sum(1 for v in probe if ric_is_valid(v))
                u_ok = sum(1 for v in probe if uscc_is_valid(v))
                if c.hint("resident_id") or (r_ok > u_ok and not c.hint("uscc")):
                    c.semantic = "resident_id"
                else:
                    c.semantic = "uscc"
            elif ric_s >= need("resident_id") and (ric_s >= uscc_s or c.hint("resident_id")):
                c.semantic = "resident_id"
            else:
                c.semantic = "uscc"
            return
        if share("mobile") >= need("mobile"):
            c.semantic = "mobile"
            c.separators = any(re.search(r"[\s\-]", v) for v in vals)
            return
        if share("region_code") >= need("region_code"):
            c.semantic = "region_code"
            return
        ent = share("enterprise_name")
        addr = share("address")
        name = share("person_name")
        distinct_ratio = _share(c.stats["distinct"], c.stats["nn"])
        if name >= SEMANTIC_SHARE and (c.hint("person_name") or (name >= 0.85 and distinct_ratio >= 0.3)) \
                and name >= max(ent, addr):
            c.semantic = "person_name"
            return
        if ent >= SEMANTIC_SHARE and ent >= addr:
            c.semantic = "enterprise_name"
            return
        if addr >= SEMANTIC_SHARE or (c.hint("address") and addr >= HINTED_SHARE):
            c.semantic = "address"
            return
        facts = amounts.amount_column(c.name, vals)
        if facts:  # 30(万), 24,500(万元), 40万人民币: amounts whose unit is in the text (see listings.profiling.amounts)
            c.semantic, c.unit, c.amount_facts = "amount", facts["unit"], facts

    def _pair_coordinates(self) -> None:
        """Unnamed coordinates (e.g. a headerless file): decimals with >= 3 decimals, in China's
        longitude and latitude ranges, accepted only as a pair of columns."""
        def ready(c: _Column, kind: str) -> bool:
            return (c.semantic is None and c.type == "decimal" and c.candidates.get(kind, 0) >= 0.95
                    and _share(c.stats["coord"], c.stats["nn"]) >= SEMANTIC_SHARE)

        lngs = [c for c in self.cols if ready(c, "longitude")]
        lats = [c for c in self.cols if ready(c, "latitude")]
        has_lng = any(c.semantic == "longitude" for c in self.cols)
        has_lat = any(c.semantic == "latitude" for c in self.cols)
        if (lngs or has_lng) and (lats or has_lat):
            if lngs and not has_lng:
                lngs[0].semantic = "longitude"
            if lats and not has_lat:
                lat = next((c for c in lats if c is not (lngs[0] if lngs else None)), None)
                if lat is not None:
                    lat.semantic = "latitude"

    @staticmethod
    def _py_number(v: str) -> float | None:
        v = re.sub(UNIT_SUFFIX, "", v.strip())
        if _RX["thousands"].fullmatch(v):
            v = v.replace(",", "")
        if not _RX["number"].fullmatch(v):
            return None
        try:
            return float(v)
        except ValueError:
            return None

    @staticmethod
    def _unit(c: _Column) -> str | None:
        m = _UNIT_IN_NAME.search(c.name)
        if m:
            return m.group(1) or m.group(2)
        counts = Counter()
        for v in c.sample[:DETECT_VALUES]:
            for u in ("亿元", "万元", "元"):
                if v.endswith(u):
                    counts[u] += 1
                    break
        if counts:
            unit, n = counts.most_common(1)[0]
            if n >= 0.3 * min(len(c.sample), DETECT_VALUES):
                return unit
        return None
