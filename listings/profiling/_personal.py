"""Stages 5-6 of a profile: validity and personal data (a mixin of the profiler)."""

from __future__ import annotations

import datetime as _dt
import re
from stdnum import luhn
from stdnum.cn import uscc

from listings.profiling import amounts
from listings.profiling._column import _Column, _evenly, _share
from listings.profiling._identifiers import region_codes, ric_birth_date, ric_is_valid, uscc_is_valid
from listings.profiling._rules import DETECT_VALUES, HINTED_SHARE, PERSONAL_SEMANTIC, SEMANTIC_SHARE, SENSITIVE_HINTS, _BIRTH_HINT, _HOME_HINT, _IDENTIFIER_SEMANTIC, _ORG_HINT, _ORG_PHONE_HINT, _PERSONAL_HINT, _PERSON_SUBJECT_HINT, _RX


class _Personal:
    """Stages 5-6: validity of semantic types (check digits on a sample), whom a row describes, and
    the personal / sensitive flags."""

    # -- stage 5: validity of semantic types --------------------------------------------------------------
    def validate(self) -> None:
        for c in self.cols:
            nn = c.full["nonnull"]
            if c.semantic is None or not nn:
                continue
            if c.semantic in ("uscc", "resident_id"):
                values = self._stdnum_sample(c)
                check = uscc_is_valid if c.semantic == "uscc" else ric_is_valid
                ok = [v for v in values if check(v)]
                c.valid_count, c.checked_count = len(ok), len(values)
                if c.semantic == "resident_id":
                    self._minors(c, ok)
            elif c.semantic in ("enterprise_name", "address"):
                # free-text heuristics: a regex over long Chinese strings costs a third of the whole
                # load per million rows, so these two are checked on the sample like stdnum checks
                values = c.sample[: self.sample_size]
                c.valid_count = sum(1 for v in values if self._matches(c.semantic, v))
                c.checked_count = len(values)
            elif c.semantic == "amount" and c.type not in ("integer", "decimal"):
                values = c.sample[: self.sample_size]
                c.valid_count = sum(1 for v in values if amounts.parse_amount(v) is not None)
                c.checked_count = len(values)
            elif c.semantic == "region_code":
                regions = sorted(region_codes())
                self.con.execute("CREATE TEMP TABLE IF NOT EXISTS regions AS SELECT unnest(?::VARCHAR[]) AS code",
                                 [regions])
                c.valid_count = self.con.execute(
                    f"SELECT count(*) FROM t SEMI JOIN regions r ON t.{c.q} = r.code").fetchone()[0]
                c.checked_count = nn
            else:
                c.valid_count, c.checked_count = c.full.get("sem_valid", 0), nn
        # identifiers hidden in other columns: valid ID numbers inside a credit-code column
        for c in self.cols:
            if c.semantic == "uscc":
                probe = self._stdnum_sample(c)
                ids = [v for v in probe if _RX["plausible_id"].fullmatch(v) and ric_is_valid(v)]
                c.embedded_ids = len(ids)
                if len(ids) >= 5 or (probe and len(ids) / len(probe) >= 0.01):
                    c.sensitive_kind.append("resident_id")
                    self._minors(c, ids)

    def _stdnum_sample(self, c: _Column) -> list[str]:
        cached = getattr(c, "_stdnum_values", None)
        if cached is not None:
            return cached
        nn = c.full["nonnull"]
        values = c.sample
        want = min(nn, self.sample_size)
        if len(values) < 0.9 * want:
            # sparse column: a dedicated, evenly spaced sample of its non-null values
            step = max(1, nn // max(1, want))
            rows = self.con.execute(
                f"SELECT trim({c.q}) FROM t WHERE rowid % {step} = 0 AND {c.q} IS NOT NULL "
                f"AND trim({c.q}) <> '' LIMIT {self.sample_size}").fetchall()
            values = [r[0] for r in rows]
        c._stdnum_values = list(values[: self.sample_size])
        return c._stdnum_values

    @staticmethod
    def _minors(c: _Column, valid_ids: list[str]) -> None:
        today = _dt.date.today()
        limit = today.replace(year=today.year - 14) if not (today.month == 2 and today.day == 29) \
            else today.replace(year=today.year - 14, day=28)
        n = 0
        for v in valid_ids:
            born = ric_birth_date(v)
            if born is not None and born > limit:
                n += 1
        c.minors_count += n
        if n:
            c.minors = True

    # -- stage 6: personal / sensitive flags ---------------------------------------------------------------
    def _subject(self) -> str | None:
        """What a row describes: "person" (an ID number, or names under a header like 姓名), else
        "organisation" (a column of organisation names such as 杭州市第一人民医院 or 西湖区北山街道社区卫生服务
        中心, valid credit codes in the row, or headers like 机构名称/单位地址), else None (unknown: 从严)."""
        for c in self.cols:
            if c.semantic == "resident_id" or (c.semantic == "person_name" and _PERSON_SUBJECT_HINT.search(c.name)):
                return "person"
        for c in self.cols:
            if c.semantic == "enterprise_name" and not c.hint("person_name"):
                return "organisation"
            if c.semantic == "uscc" and c.checked_count and c.valid_count / c.checked_count >= SEMANTIC_SHARE \
                    and not getattr(c, "embedded_ids", 0):
                return "organisation"
            if _ORG_HINT.search(c.name):
                return "organisation"
        return None

    @staticmethod
    def _about_organisation(c: _Column) -> bool:
        """In a row describing an organisation: whether this column describes the organisation (its name,
        address, public phone) rather than a person (法定代表人, 联系人, a home address)."""
        if c.semantic == "address":
            return not _HOME_HINT.search(c.name)
        if c.semantic == "person_name":
            # names that look like a person's under a header naming an organisation (名称: 李记, 王府);
            # any other column of person names (法定代表人, 经营者, 医生) is about a person (从严)
            return bool(_ORG_HINT.search(c.name) or c.hint("enterprise_name")) and not c.hint("person_name")
        if c.semantic == "mobile":
            return bool(_ORG_PHONE_HINT.search(c.name))
        return False

    def flags(self) -> None:
        self.subject = self._subject()
        for c in self.cols:
            c.about_organisation = self.subject == "organisation" and self._about_organisation(c)
        person_in_table = any(c.semantic in _IDENTIFIER_SEMANTIC and not c.about_organisation for c in self.cols)
        strong_id = any(c.semantic in ("resident_id", "mobile") and not c.about_organisation for c in self.cols)
        for c in self.cols:
            kinds = c.sensitive_kind
            if c.semantic == "resident_id":
                kinds.insert(0, "resident_id")
            if self._bank_card(c):
                kinds.append("bank_card")
            for kind, rx in SENSITIVE_HINTS.items():
                if kind == "bank_card" or not rx.search(c.name):
                    continue
                if kind == "whereabouts":
                    if person_in_table:
                        kinds.append(kind)
                elif person_in_table or c.type == "text":
                    kinds.append(kind)
            if strong_id and c.semantic in ("longitude", "latitude") and "whereabouts" not in kinds:
                kinds.append("whereabouts")  # coordinates in a table of identified people
            if c.type == "date" and _BIRTH_HINT.search(c.name) and person_in_table and self._young(c):
                c.minors = True
            if c.minors:
                kinds.append("minors")
            c.sensitive_kind = list(dict.fromkeys(kinds))
            hinted_personal = bool(_PERSONAL_HINT.search(c.name)) and (person_in_table or c.type == "text")
            personal_semantic = c.semantic in PERSONAL_SEMANTIC and not c.about_organisation
            c.personal = bool(personal_semantic or c.sensitive_kind or hinted_personal)

    @staticmethod
    def _young(c: _Column) -> bool:
        """A birth-date column whose latest date is less than 14 years ago."""
        latest = c.full.get("tmax")
        if not latest:
            return False
        for f in c.date_formats:
            try:
                born = _dt.datetime.strptime(latest.strip(), f).date()
            except ValueError:
                continue
            today = _dt.date.today()
            return born > today.replace(year=today.year - 14, day=min(today.day, 28))
        return False

    def _bank_card(self, c: _Column) -> bool:
        if c.type not in ("text",) or c.semantic is not None:
            return False
        vals = [re.sub(r"[\s\-]", "", v) for v in _evenly(c.sample, DETECT_VALUES)]
        if not vals:
            return False
        digits = [v for v in vals if 16 <= len(v) <= 19 and v.isdigit()]
        hinted = bool(SENSITIVE_HINTS["bank_card"].search(c.name))
        if _share(len(digits), len(vals)) < (HINTED_SHARE if hinted else SEMANTIC_SHARE):
            return False
        ok = sum(1 for v in digits if luhn.is_valid(v))
        return hinted or _share(ok, len(digits)) >= SEMANTIC_SHARE
