"""The coded catalogue values (update cycle, sharing and open types, grades), their Chinese names,
the limits on what a holder types, and the plain-language questions the confirmation page asks."""

from __future__ import annotations

from pathlib import Path

from market.errors import N_


UPDATE_CYCLES = ("realtime", "daily", "weekly", "monthly", "quarterly", "half_yearly", "yearly", "other")
SHARING_TYPES = ("unconditional", "conditional", "not_shared")
OPEN_TYPES = ("unconditional", "conditional", "not_open")
GRADES = ("general", "important", "core")  # GB/T 43697: 一般 / 重要 / 核心

MAX_QUESTIONS = 5
TITLE_MIN, TITLE_MAX = 2, 200
SUMMARY_MAX = 2000
TAGS_MAX, TAG_MAX_CHARS = 12, 20
SUGGESTED_TAGS_MAX = 8
CONDITION_MAX = 500
LOW_CONFIDENCE = 0.5  # below this the holder is asked

_CYCLE_LABELS = {
    "realtime": N_("实时"), "daily": N_("每日"), "weekly": N_("每周"), "monthly": N_("每月"),
    "quarterly": N_("每季度"), "half_yearly": N_("每半年"), "yearly": N_("每年"), "other": N_("其他"),
}
_SHARING_LABELS = {"unconditional": N_("无条件共享"), "conditional": N_("有条件共享"), "not_shared": N_("不予共享")}
_OPEN_LABELS = {"unconditional": N_("无条件开放"), "conditional": N_("有条件开放"), "not_open": N_("不予开放")}

_PROMPTS = {
    "title": N_("这份数据叫什么名字？"),
    "category_path": N_("这份数据属于哪一类？请从列表里选一个最接近的。"),
    "update_cycle": N_("这份数据多久更新一次？"),
    "sharing_condition": N_("别人要用这份数据，需要满足什么条件？"),
    "columns": N_("这份表没有列名，请告诉我们每一列是什么。"),
    "summary": N_("请用一两句话说说这份数据是什么、能用来做什么。"),
    "tags": N_("还有哪些词能帮别人找到这份数据？"),
}

_TREE_PATH = Path(__file__).resolve().parent.parent / "data" / "categories.json"  # listings/data


def label(update_cycle: str) -> str:
    """Chinese name of an update cycle (其他 for anything unknown)."""
    return _CYCLE_LABELS.get(update_cycle, _CYCLE_LABELS["other"])


def sharing_label(sharing_type: str) -> str:
    return _SHARING_LABELS.get(sharing_type, sharing_type)


def open_label(open_type: str) -> str:
    return _OPEN_LABELS.get(open_type, open_type)
