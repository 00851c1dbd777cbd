"""Suggested classification grade of a profiled table (GB/T 43697-2024 数据安全技术 数据分类分级规则).

Grades: 一般 (general) < 重要 (important) < 核心 (core). "就高从严": the table takes the highest grade
any rule gives it, and every rule that fired is listed as a reason the holder can read.

Rules (defaults configurable through the keyword arguments):

    no personal information                                   -> general
    personal information (not sensitive)                      -> general, shown masked
    sensitive personal information (ID numbers, bank cards,
      health, religion, biometrics, whereabouts)              -> important
    personal information of >= 1,000,000 people               -> important
    minors under 14                                           -> at least important
    sensitive personal information of >= 10,000,000 people    -> core

The number of people is the largest distinct count among the identifying columns (ID numbers,
mobile numbers, bank cards); without such a column, every row counts as one person (从严).

Reasons are {"column", "code", "message", "params", "text"}: `message` is a Chinese template whose
{placeholders} are filled from `params` (so it can be translated where it is shown), `text` the
same sentence already filled in.
"""

from __future__ import annotations

import copy

from market.i18n import N_

GRADES = ("general", "important", "core")  # 一般 / 重要 / 核心  (GB/T 43697-2024)
GRADE_NAMES = {"general": "一般", "important": "重要", "core": "核心"}
SHARING_TYPES = ("unconditional", "conditional", "not_shared")  # 无条件共享 / 有条件共享 / 不予共享

KIND_NAMES = {
    "resident_id": "居民身份证号码",
    "bank_card": "银行卡号",
    "health": "健康医疗信息",
    "religion": "宗教信仰",
    "biometrics": "生物识别信息",
    "whereabouts": "行踪轨迹",
    "minors": "不满十四周岁未成年人的信息",
}
SEMANTIC_NAMES = {"resident_id": "居民身份证号码", "mobile": "手机号码", "person_name": "姓名", "address": "住址"}
_IDENTIFYING = ("resident_id", "mobile")


def _reason(code: str, message: str, column: str | None = None, **params) -> dict:
    params = {"column": column, **params} if column is not None else params
    return {"column": column, "code": code, "message": message, "params": params, "text": message.format(**params)}


def _rank(grade: str) -> int:
    return GRADES.index(grade)


def people_count(profile: dict) -> tuple[int, str | None]:
    """Estimated number of distinct people in the table, and the column it was counted on."""
    best, where = 0, None
    for col in profile.get("columns", []):
        kinds = col.get("sensitive_kind") or []
        if col.get("semantic_type") in _IDENTIFYING or "bank_card" in kinds:
            n = int(col.get("distinct_count") or 0)
            if n > best:
                best, where = n, col["name"]
    if where is None and any(c.get("personal") for c in profile.get("columns", [])):
        return int(profile.get("row_count") or 0), None
    return best, where


def classify(profile: dict, *, core_threshold_people: int = 10_000_000,
             important_threshold_people: int = 1_000_000) -> dict:
    columns = profile.get("columns", [])
    reasons: list[dict] = []
    grade = "general"
    masked: list[str] = []

    def raise_to(g: str) -> None:
        nonlocal grade
        if _rank(g) > _rank(grade):
            grade = g

    personal_cols = [c for c in columns if c.get("personal") or c.get("sensitive")]
    sensitive_cols = [c for c in columns if c.get("sensitive")]
    for col in personal_cols:
        masked.append(col["name"])
        semantic = col.get("semantic_type")
        kinds = [k for k in (col.get("sensitive_kind") or []) if k != "minors"]
        if kinds:
            names = "、".join(KIND_NAMES.get(k, k) for k in kinds)
            reasons.append(_reason("class.sensitive_personal",
                                   "“{column}”含{kinds}，属于敏感个人信息，数据至少定为“重要”级，展示时脱敏",
                                   col["name"], kinds=names, kind_codes=kinds))
            raise_to("important")
        else:
            what = SEMANTIC_NAMES.get(semantic, "个人信息")
            reasons.append(_reason("class.personal",
                                   "“{column}”含{what}，属于个人信息，展示和交付时默认脱敏",
                                   col["name"], what=what))
        if col.get("minors") or "minors" in (col.get("sensitive_kind") or []):
            reasons.append(_reason("class.minors",
                                   "“{column}”中有不满十四周岁未成年人的信息，属于敏感个人信息，数据至少定为“重要”级",
                                   col["name"]))
            raise_to("important")

    public = [c["name"] for c in columns if c.get("describes") == "organisation" and not c.get("personal")
              and c.get("personal_source") != "holder"]
    if public:
        reasons.append(_reason("class.organisation_facts",
                               "“{columns}”是机构的名称、地址或公开电话，每行描述的是机构而非个人，不属于个人信息，不脱敏",
                               None, columns="”“".join(public)))
    for col in columns:
        if col.get("personal_source") == "holder":
            message = (N_("数据持有方认定“{column}”属于个人信息：{reason}") if col.get("personal")
                       else N_("数据持有方认定“{column}”不属于个人信息：{reason}"))
            reasons.append(_reason("class.personal_corrected", message, col["name"],
                                   reason=col.get("personal_reason") or ""))

    if personal_cols:
        people, where = people_count(profile)
        sensitive_people = sensitive_cols and people
        if sensitive_people and people >= core_threshold_people:
            reasons.append(_reason("class.sensitive_people_core",
                                   "含约 {people} 人的敏感个人信息，达到 {threshold} 人，定为“核心”级，不能上架",
                                   where, people=people, threshold=core_threshold_people))
            raise_to("core")
        elif people >= important_threshold_people:
            reasons.append(_reason("class.people_important",
                                   "含约 {people} 人的个人信息，达到 {threshold} 人，数据至少定为“重要”级",
                                   where, people=people, threshold=important_threshold_people))
            raise_to("important")
    else:
        reasons.append(_reason("class.no_personal", "未发现个人信息，数据定为“一般”级"))

    return {
        "grade": grade,
        "grade_name": GRADE_NAMES[grade],
        "personal": bool(personal_cols),
        "sensitive": bool(sensitive_cols),
        "minors": any(c.get("minors") for c in columns),
        "reasons": reasons,
        "masked_columns": masked,
    }


def may_list(grade: str, sharing_type: str) -> tuple[bool, str | None]:
    """Whether a table of this grade and sharing type (共享类型) may be listed on the marketplace."""
    if grade not in GRADES:
        return False, N_("未知的数据级别")
    if sharing_type == "not_shared":
        return False, N_("该数据的共享类型为“不予共享”，属于负面清单，不能上架")
    if grade == "core":
        return False, N_("核心数据不能上架交易")
    return True, None


# kinds a holder may not declare non-personal: they identify a person whatever the table is about
UNCORRECTABLE_KINDS = frozenset({"resident_id", "bank_card", "minors"})


def may_declare_not_personal(col: dict) -> bool:
    auto = col.get("personal_auto") or col
    kinds = set(auto.get("sensitive_kind") or [])
    return col.get("semantic_type") != "resident_id" and not kinds & UNCORRECTABLE_KINDS and not auto.get("minors")


def correct_personal(profile: dict, column: str, personal: bool, reason: str) -> dict:
    """A copy of `profile` where the holder decided whether `column` is personal information. The
    automatic decision is kept in ``personal_auto`` so that a later correction can restore it; masking,
    classify() and the listing rules read the corrected flags like automatic ones. KeyError: no such
    column; ValueError: the column holds ID numbers, bank cards or minors' data (always personal)."""
    out = copy.deepcopy(profile)
    col = next((c for c in out.get("columns", []) if c["name"] == column), None)
    if col is None:
        raise KeyError(column)
    auto = col.get("personal_auto") or {k: col.get(k) for k in ("personal", "sensitive", "sensitive_kind", "minors")}
    if not personal and not may_declare_not_personal(col):
        raise ValueError(column)
    if personal:
        col.update(sensitive=bool(auto.get("sensitive")), sensitive_kind=list(auto.get("sensitive_kind") or []),
                   minors=bool(auto.get("minors")), personal=True)
    else:
        col.update(personal=False, sensitive=False, sensitive_kind=[], minors=False)
    col.update(personal_auto=auto, personal_source="holder", personal_reason=reason)
    cols = out.get("columns", [])
    out.update(personal=any(c.get("personal") for c in cols), sensitive=any(c.get("sensitive") for c in cols),
               minors=any(c.get("minors") for c in cols))
    return out


def carry_corrections(previous: dict | None, profile: dict) -> dict:
    """The holder's corrections of an earlier version, applied to a new version's columns of the same name."""
    for col in (previous or {}).get("columns", []):
        if col.get("personal_source") != "holder":
            continue
        try:
            profile = correct_personal(profile, col["name"], bool(col.get("personal")),
                                       col.get("personal_reason") or "")
        except (KeyError, ValueError):
            continue  # the column is gone, or now holds ID numbers: the automatic decision stands
    return profile
