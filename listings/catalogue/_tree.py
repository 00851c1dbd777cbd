"""The shipped category tree (data/categories.json: 类 › 项 › 目 › 细目), its index, and browsing it."""

from __future__ import annotations

import functools
import json
import math
import re
from typing import NamedTuple

from market.errors import DomainError
from listings.catalogue._fields import _TREE_PATH


# ---------------------------------------------------------------------------------------------
# The category tree
# ---------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def load_tree() -> list[dict]:
    """The shipped tree (类/项/目/细目). Cached and shared: callers must not modify it."""
    return json.loads(_TREE_PATH.read_text(encoding="utf-8"))


class _Entry(NamedTuple):
    code: str
    path: tuple[str, ...]
    parent: str | None
    node: dict
    keywords: tuple[str, ...]


class _Index(NamedTuple):
    entries: dict[str, _Entry]  # by code, in tree order
    by_path: dict[tuple[str, ...], str]
    specificity: dict[str, float]  # keyword -> 1/sqrt(number of nodes listing it)


@functools.lru_cache(maxsize=1)
def _index() -> _Index:
    entries: dict[str, _Entry] = {}
    counts: dict[str, int] = {}

    def walk(nodes: list[dict], path: tuple[str, ...], parent: str | None) -> None:
        for node in nodes:
            here = path + (node["name"],)
            keywords = tuple(dict.fromkeys([node["name"], *node.get("keywords", [])]))
            entries[node["code"]] = _Entry(node["code"], here, parent, node, keywords)
            for kw in keywords:
                counts[kw] = counts.get(kw, 0) + 1
            walk(node.get("children") or [], here, node["code"])

    walk(load_tree(), (), None)
    return _Index(entries, {e.path: code for code, e in entries.items()},
                  {kw: 1 / math.sqrt(n) for kw, n in counts.items()})


def category_choices() -> list[tuple[str, str]]:
    """Every node as ("医疗卫生 > 诊疗服务 > 门诊人次", code), in tree order, for a <select>."""
    return [(" > ".join(e.path), code) for code, e in _index().entries.items()]


def browse(path: str | None, counts: dict[str, int]) -> dict:
    """One level of the category tree for drill-down browsing: the node, its ancestors, and its
    children with how many listed listings sit at or below each (from `counts`, per stored path).
    Listings filed under paths the tree does not know are counted under 其他 at the top."""
    entry = _resolve_category(path) if path else None
    if path and entry is None:
        raise DomainError("catalogue.unknown_category", "没有这个数据分类：{path}", path=path)
    prefix = entry.path if entry else ()
    by_path = _index().by_path

    def filed(path: str) -> bool:
        parts = tuple(p.strip() for p in path.split(" > "))
        return any(parts[:i] in by_path for i in range(1, len(parts) + 1))

    def total(node_path: tuple[str, ...]) -> int:
        joined = " > ".join(node_path)
        return sum(n for p, n in counts.items() if p == joined or p.startswith(joined + " > "))

    children = entry.node.get("children") or [] if entry else load_tree()
    items = [{"name": c["name"], "code": c["code"], "path": " > ".join(prefix + (c["name"],)),
              "count": total(prefix + (c["name"],)), "leaf": not c.get("children")} for c in children]
    crumbs = [{"name": name, "path": " > ".join(prefix[: i + 1])} for i, name in enumerate(prefix)]
    unfiled = 0 if entry else sum(n for p, n in counts.items() if not filed(p))
    return {"path": " > ".join(prefix), "name": prefix[-1] if prefix else "", "code": entry.code if entry else "",
            "breadcrumb": crumbs, "count": total(prefix) if prefix else sum(counts.values()),
            "children": items, "unfiled": unfiled}


def _resolve_category(path) -> _Entry | None:
    if isinstance(path, str):
        path = [p for p in re.split(r"\s*[>＞/]\s*", path) if p]
    code = _index().by_path.get(tuple(str(p).strip() for p in path))
    return _index().entries[code] if code else None


def category_path(value: str) -> str | None:
    """The tree path ("医疗卫生 > 诊疗服务") of a category given by its code (A0101) or its path; None if
    the tree has no such node."""
    value = (value or "").strip()
    entry = _index().entries.get(value) or _resolve_category(value)
    return " > ".join(entry.path) if entry else None
