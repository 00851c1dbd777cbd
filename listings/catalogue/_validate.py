"""validate(): what the holder sends back from the confirmation page, checked field by field."""

from __future__ import annotations

import re

from market.errors import DomainError
from listings.catalogue._fields import CONDITION_MAX, GRADES, OPEN_TYPES, SHARING_TYPES, SUMMARY_MAX, TAGS_MAX, TAG_MAX_CHARS, TITLE_MAX, TITLE_MIN, UPDATE_CYCLES, _CYCLE_LABELS, _OPEN_LABELS, _SHARING_LABELS
from listings.catalogue._tree import _index, _resolve_category


# ---------------------------------------------------------------------------------------------
# validate()
# ---------------------------------------------------------------------------------------------

def _code_of(value, allowed: tuple[str, ...], labels: dict[str, str]) -> str | None:
    if value in allowed:
        return value
    by_label = {v: k for k, v in labels.items()}
    return by_label.get(value.strip()) if isinstance(value, str) else None


def validate(fields: dict, *, grade: str = "general", personal: bool = False) -> dict:
    """The holder's confirmed catalogue fields, normalized; DomainError with a stable code if not valid.

    Only `title` is required: a field left out stays unset (raw data can be listed as it is)."""
    if grade not in GRADES:
        raise DomainError("catalogue.grade_invalid", "分级只能是一般、重要或核心", grade=grade)
    out: dict = {}
    title = fields.get("title")
    title = re.sub(r"\s+", " ", title).strip() if isinstance(title, str) else ""
    if not TITLE_MIN <= len(title) <= TITLE_MAX:
        raise DomainError("catalogue.title_invalid", "资源名称应为 2 到 200 个字符", length=len(title))
    out["title"] = title

    if fields.get("summary") is not None:
        summary = fields["summary"]
        if not isinstance(summary, str) or len(summary.strip()) > SUMMARY_MAX:
            raise DomainError("catalogue.summary_too_long", "摘要不能超过 2000 个字",
                              length=len(summary) if isinstance(summary, str) else 0)
        out["summary"] = summary.strip()

    path = fields.get("category_path")
    if path is None and fields.get("category_code"):
        entry = _index().entries.get(str(fields["category_code"]))
        if entry is None:
            raise DomainError("catalogue.category_unknown", "请从分类列表中选择一个分类",
                              category_code=str(fields["category_code"]))
        out["category_path"], out["category_code"] = list(entry.path), entry.code
    elif path is not None:
        if not isinstance(path, (str, list, tuple)):
            raise DomainError("catalogue.category_unknown", "请从分类列表中选择一个分类", path=str(path))
        if path in ("", [], ()):
            out["category_path"], out["category_code"] = [], ""
        else:
            entry = _resolve_category(path)
            if entry is None or (fields.get("category_code") and fields["category_code"] != entry.code):
                shown = path if isinstance(path, str) else " > ".join(map(str, path))
                raise DomainError("catalogue.category_unknown", "请从分类列表中选择一个分类", path=shown)
            out["category_path"], out["category_code"] = list(entry.path), entry.code

    if fields.get("update_cycle") is not None:
        cycle = _code_of(fields["update_cycle"], UPDATE_CYCLES, _CYCLE_LABELS)
        if cycle is None:
            raise DomainError("catalogue.update_cycle_invalid",
                              "更新周期只能是实时、每日、每周、每月、每季度、每半年、每年或其他",
                              value=str(fields["update_cycle"]))
        out["update_cycle"] = cycle

    if fields.get("tags") is not None:
        tags = fields["tags"]
        if isinstance(tags, str):
            tags = re.split(r"[,，、;；\s]+", tags)
        if not isinstance(tags, (list, tuple)):
            raise DomainError("catalogue.tag_invalid", "每个标签应为 1 到 20 个字", tag=str(tags)[:40])
        clean: list[str] = []
        for tag in tags:
            if not isinstance(tag, str):
                raise DomainError("catalogue.tag_invalid", "每个标签应为 1 到 20 个字", tag=str(tag)[:40])
            tag = tag.strip().lstrip("#")
            if not tag:
                continue
            if len(tag) > TAG_MAX_CHARS:
                raise DomainError("catalogue.tag_invalid", "每个标签应为 1 到 20 个字", tag=tag[:40])
            if tag not in clean:
                clean.append(tag)
        if len(clean) > TAGS_MAX:
            raise DomainError("catalogue.tags_too_many", "标签最多 12 个", count=len(clean))
        out["tags"] = clean

    if fields.get("sharing_type") is not None:
        sharing = _code_of(fields["sharing_type"], SHARING_TYPES, _SHARING_LABELS)
        if sharing is None:
            raise DomainError("catalogue.sharing_type_invalid", "共享类型只能是无条件共享、有条件共享或不予共享",
                              value=str(fields["sharing_type"]))
        out["sharing_type"] = sharing
    if fields.get("open_type") is not None:
        opening = _code_of(fields["open_type"], OPEN_TYPES, _OPEN_LABELS)
        if opening is None:
            raise DomainError("catalogue.open_type_invalid", "开放属性只能是无条件开放、有条件开放或不予开放",
                              value=str(fields["open_type"]))
        out["open_type"] = opening
    if grade == "core" and (out.get("sharing_type", "not_shared") != "not_shared"
                            or out.get("open_type", "not_open") != "not_open"):
        raise DomainError("catalogue.core_not_shared", "核心数据不予共享、不予开放")
    if (grade == "important" or personal) and "unconditional" in (out.get("sharing_type"), out.get("open_type")):
        raise DomainError("catalogue.sharing_too_open", "含个人信息或重要数据的资源只能有条件共享或开放")

    if fields.get("sharing_condition") is not None:
        condition = fields["sharing_condition"]
        if not isinstance(condition, str) or len(condition.strip()) > CONDITION_MAX:
            raise DomainError("catalogue.sharing_condition_too_long", "共享条件不能超过 500 个字")
        out["sharing_condition"] = condition.strip()
    return out
