"""Quality report of a version: five measured dimensions, a 0-100 score and the reasons behind it.

The score prices the cleaned tier, so every point lost must be explained in words a holder can act
on ("第 3 列有 40% 空值"), never just a number.
"""

from __future__ import annotations

from datetime import datetime, timezone

from market.i18n import N_

# weights of the dimensions in the score; they sum to 100
WEIGHTS = {"completeness": 30, "validity": 30, "uniqueness": 15, "consistency": 15, "timeliness": 10}

# how many days a version may age before it is overdue, per declared update cycle
CYCLE_DAYS = {"realtime": 1, "daily": 2, "weekly": 8, "monthly": 32, "quarterly": 93, "half_yearly": 184,
              "yearly": 366}


SEMANTIC_LABELS = {
    "uscc": N_("统一社会信用代码"), "resident_id": N_("居民身份证号"), "mobile": N_("手机号"),
    "region_code": N_("行政区划代码"), "enterprise_name": N_("企业名称"), "person_name": N_("姓名"),
    "address": N_("地址"), "amount": N_("金额"), "year": N_("年份"), "longitude": N_("经度"), "latitude": N_("纬度"),
}


def _reason(code: str, message: str, target: str | None = None, **params) -> dict:
    return {"code": code, "message": message, "column": target, "params": params}


def timeliness(update_cycle: str, version_created_at: datetime | None, now: datetime | None = None) -> tuple[float, dict | None]:
    """1.0 while within the declared cycle, falling linearly to 0 at three cycles overdue."""
    if not version_created_at or update_cycle not in CYCLE_DAYS:
        return 1.0, None
    now = now or datetime.now(timezone.utc)
    allowed = CYCLE_DAYS[update_cycle]
    age = (now - version_created_at).total_seconds() / 86400
    if age <= allowed:
        return 1.0, None
    value = max(0.0, 1.0 - (age - allowed) / (2 * allowed))
    return value, _reason("quality.overdue", N_("已超过声明的更新周期 {days} 天未更新"), days=int(age - allowed))


def report(profile: dict, *, update_cycle: str = "other", version_created_at: datetime | None = None,
           now: datetime | None = None) -> dict:
    """Score a profiled table. Returns {score, dimensions: {name: 0..1}, reasons: [...]}."""
    rows = profile.get("row_count") or 0
    columns = profile.get("columns") or []
    reasons: list[dict] = []
    if rows == 0 or not columns:
        return {"score": 0, "dimensions": {k: 0.0 for k in WEIGHTS},
                "reasons": [_reason("quality.empty", N_("表中没有数据"))]}

    cells = rows * len(columns)
    nulls = sum(c.get("null_count") or 0 for c in columns)
    completeness = 1 - nulls / cells
    for col in columns:
        share = (col.get("null_count") or 0) / rows
        if share >= 0.2:
            reasons.append(_reason("quality.nulls", N_("“{column}”有 {pct}% 为空"), col["name"],
                                   column=col["name"], pct=round(share * 100)))

    checked = [c for c in columns if c.get("validity") is not None]
    validity = sum(c["validity"] for c in checked) / len(checked) if checked else 1.0
    for col in checked:
        if col["validity"] < 0.99:
            reasons.append(_reason("quality.invalid", N_("“{column}”有 {pct}% 的值不符合{kind}规则"), col["name"],
                                   column=col["name"], pct=round((1 - col["validity"]) * 100),
                                   kind=SEMANTIC_LABELS.get(col.get("semantic_type") or "", "")))

    duplicates = profile.get("duplicate_rows") or 0
    uniqueness = 1 - duplicates / rows
    if duplicates:
        reasons.append(_reason("quality.duplicates", N_("有 {n} 行完全重复"), n=duplicates))

    inconsistent = [c for c in columns if c.get("variants")]
    consistency = 1 - min(1.0, len(inconsistent) / max(1, len(columns)) * 2)
    for col in inconsistent:
        example = " / ".join(col["variants"][0]) if col["variants"] else ""
        reasons.append(_reason("quality.variants", N_("“{column}”同一含义有多种写法（如 {example}）"), col["name"],
                               column=col["name"], example=example))

    timely, late = timeliness(update_cycle, version_created_at, now)
    if late:
        reasons.append(late)

    dims = {"completeness": completeness, "validity": validity, "uniqueness": uniqueness,
            "consistency": consistency, "timeliness": timely}
    score = round(sum(WEIGHTS[k] * max(0.0, min(1.0, v)) for k, v in dims.items()))
    return {"score": score, "dimensions": {k: round(v, 4) for k, v in dims.items()}, "reasons": reasons}
