"""GB/T 2260 region codes as python-stdnum ships them (plus the few it lacks), and check-digit
validation of credit codes (GB 32100) and ID numbers (GB 11643) without stdnum's per-call overhead."""

from __future__ import annotations

import datetime as _dt
import functools
import operator
import re
from pathlib import Path
from stdnum.cn import ric
from stdnum.cn import uscc


# ---- GB/T 2260 region codes as python-stdnum ships them --------------------------------------------
@functools.lru_cache(maxsize=1)
def region_table() -> dict[str, list[tuple[int | None, int | None, str]]]:
    """6-digit code -> [(first year or None, last year or None, name), ...] from stdnum/cn/loc.dat.

    The file lists every county-level code that has existed; '[1986-]房山区' means "from 1986",
    '[-2010]崇文区' "until 2010". Province (xx0000) and prefecture (xxxx00) codes are included."""
    import stdnum

    path = Path(stdnum.__file__).parent / "cn" / "loc.dat"
    out: dict[str, list[tuple[int | None, int | None, str]]] = {}
    province = None
    entry = re.compile(r'\s+(\d{4})\s+county="([^"]*)"?')
    span = re.compile(r"\[(\d*)-(\d*)\](.*)")
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line[0].isspace():
            province = line[:2]
            continue
        m = entry.match(line)
        if not m or province is None:
            continue
        entries = []
        for part in m.group(2).split(","):
            start = end = None
            mm = span.match(part)
            if mm:
                start = int(mm.group(1)) if mm.group(1) else None
                end = int(mm.group(2)) if mm.group(2) else None
                part = mm.group(3)
            entries.append((start, end, part))
        out[province + m.group(1)] = entries
    return out


@functools.lru_cache(maxsize=1)
def region_codes() -> frozenset[str]:
    """Every code that exists or existed in GB/T 2260: stdnum's table plus the few codes it lacks
    (listings/data/gb2260_supplement.tsv, generated from jionlp by scripts/gb2260_supplement.py)."""
    extra = Path(__file__).resolve().parent.parent / "data" / "gb2260_supplement.tsv"
    codes = {line.split("\t", 1)[0] for line in extra.read_text(encoding="utf-8").splitlines()
             if line and not line.startswith("#")}
    return frozenset(region_table()) | codes


# ---- identifier validation (python-stdnum's algorithms, without its per-call overhead) -------------
# stdnum.cn.uscc.is_valid re-cleans the string on every call (~30 us) and profiling checks up to
# 20,000 values per column, so its check is restated here; tests/listings/test_profiling.py asserts
# the same verdicts as stdnum's. ID numbers use stdnum's check digit but not its birth-place rule
# (see ric_is_valid).
_USCC_ALPHABET = uscc._alphabet  # noqa: SLF001 - stdnum's own charset, not a copy
_USCC_INDEX = {ch: i for i, ch in enumerate(_USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_is_valid(value: str) -> bool:
    """Same verdict as stdnum.cn.uscc.is_valid (GB 32100 format and check character)."""
    v = value.replace(" ", "").replace("-", "").upper().strip()
    if len(v) != 18 or not v[:8].isdigit():
        return False
    try:
        total = sum(map(operator.mul, map(_USCC_INDEX.__getitem__, v[:17]), _USCC_WEIGHTS))
    except KeyError:
        return False
    return v[-1] == _USCC_ALPHABET[(31 - total) % 31]


def ric_birth_date(value: str) -> _dt.date | None:
    v = value.upper().strip()
    try:
        return _dt.date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return None


EARLIEST_BIRTH_YEAR = 1850  # no one alive (or with a number) was born earlier


def ric_is_valid(value: str) -> bool:
    """A GB 11643 居民身份证号: 18 characters, the check digit right (stdnum.cn.ric.calc_check_digit), a
    real birth date not in the future, and a region code that exists or existed in GB/T 2260 at ANY time.

    Deliberately not stdnum.cn.ric.is_valid: that also requires the code to have existed in the birth
    year, but the code is where the number was issued, often years after birth (310115 浦东新区 dates
    from 1992 and holds people born in 1979), so it refused most numbers of a real register."""
    v = value.upper().strip()
    if len(v) != 18 or not v[:17].isdigit():
        return False
    if v[-1] != ric.calc_check_digit(v):
        return False
    born = ric_birth_date(v)
    if born is None or born.year < EARLIEST_BIRTH_YEAR or born > _dt.date.today():
        return False
    return v[:6] in region_codes()
