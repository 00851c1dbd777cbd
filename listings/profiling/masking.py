"""Default display masks for personal information (DOMAIN.md, Identifiers):

    居民身份证号   keeps the first 1 and the last 2 characters   1***************34 (same length)
    手机号         keeps the first 3 and the last 4 digits       135****2210 (+86 prefix kept)
    姓名           keeps the first character                     张**  (one * per hidden character)
    住址           hides the last 8 characters                   浙江省杭州市西湖区******** (≤ 8 chars: first 2 kept)
    银行卡号       keeps the first 4 and the last 4 digits       6222***********1234
    other personal / sensitive values (health, religion, …)      ***

`mask_rows(rows, profile)` masks every personal column of preview rows using a profile from
`listings.profiling.profile_csv`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

FULL_MASK = "***"


def _keep(value: str, head: int, tail: int) -> str:
    if len(value) <= head + tail:
        # too short to show both ends: show at most the head, hide the rest
        head = min(head, max(0, len(value) - 1))
        return value[:head] + "*" * (len(value) - head)
    return value[:head] + "*" * (len(value) - head - tail) + value[len(value) - tail:]


def mask_resident_id(value: str) -> str:
    v = value.strip()
    return _keep(v, 1, 2)


def mask_mobile(value: str) -> str:
    v = value.strip()
    m = re.fullmatch(r"(\+?86[\s-]?)?(.*)", v)
    prefix, rest = (m.group(1) or ""), m.group(2)
    digits = re.sub(r"[\s-]", "", rest)
    if len(digits) < 8:
        return prefix + _keep(digits, 1, 1)
    return prefix + digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_person_name(value: str) -> str:
    v = value.strip()
    if not v:
        return v
    return v[0] + "*" * (len(v) - 1)


def mask_address(value: str) -> str:
    v = value.strip()
    if len(v) <= 8:
        return v[:2] + "*" * (len(v) - 2) if len(v) > 2 else "*" * len(v)
    return v[:-8] + "*" * 8


def mask_bank_card(value: str) -> str:
    digits = re.sub(r"[\s-]", "", value.strip())
    return _keep(digits, 4, 4)


def mask(value: str | None, semantic_type: str | None, sensitive_kind: Iterable[str] = ()) -> str | None:
    """The default display mask of one value of a personal column."""
    if value is None:
        return None
    value = str(value)
    if value.strip() == "":
        return value
    kinds = list(sensitive_kind or ())
    if semantic_type == "resident_id" or (semantic_type is None and "resident_id" in kinds):
        return mask_resident_id(value)
    if semantic_type == "mobile":
        return mask_mobile(value)
    if semantic_type == "person_name":
        return mask_person_name(value)
    if semantic_type == "address":
        return mask_address(value)
    if "bank_card" in kinds:
        return mask_bank_card(value)
    if "resident_id" in kinds:
        # ID numbers hidden among other identifiers (e.g. a credit-code column holding some)
        return mask_resident_id(value)
    return FULL_MASK


def mask_rows(rows: list[dict], profile: dict) -> list[dict]:
    """Copies of `rows` (column name -> value) with every personal column masked."""
    personal = {
        c["name"]: (c.get("semantic_type"), c.get("sensitive_kind") or [])
        for c in profile.get("columns", [])
        if c.get("personal") or c.get("sensitive")
    }
    out = []
    for row in rows:
        masked = dict(row)
        for name, (semantic, kinds) in personal.items():
            if name in masked and masked[name] is not None:
                masked[name] = mask(str(masked[name]), semantic, kinds)
        out.append(masked)
    return out
