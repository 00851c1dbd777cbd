"""What an agreement covers: its scope (assets, category subtrees, columns per asset), checked when
drafted and resolved to asset ids whenever it is read, and the consent of departments whose shared
data would enter it.

A category subtree stays a category: an asset filed under it later is in scope too (分领域授权 grants
a domain, not a list), so scopes are resolved when they are used, never stored resolved. The PDF
lists the assets the categories held on the day it was issued.
"""

from __future__ import annotations

import json

from listings import catalogue
from listings import service as listings_service
from market.errors import DomainError
from operators.tables import SharedSource

MAX_ASSETS = 2000
MAX_CATEGORIES = 200
MAX_COLUMNS = 1000


def _ints(values, field: str) -> list[int]:
    out = []
    for v in values or []:
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 2**31 - 1:
            raise DomainError("agreement.scope_invalid", "授权范围不正确：{field}", field=field)
        out.append(v)
    return sorted(set(out))


async def normalise(scope: dict) -> dict:
    """Refuse a scope naming an asset, category or column that does not exist; return it in canonical
    form: {"asset_ids": [...], "categories": [tree paths], "columns": {"<asset id>": [...]}}."""
    if not isinstance(scope, dict):
        raise DomainError("agreement.scope_invalid", "授权范围不正确：{field}", field="scope")
    asset_ids = _ints(scope.get("asset_ids"), "asset_ids")
    raw_categories = scope.get("categories") or []
    if not isinstance(raw_categories, list) or len(raw_categories) > MAX_CATEGORIES or len(asset_ids) > MAX_ASSETS:
        raise DomainError("agreement.scope_invalid", "授权范围不正确：{field}", field="categories")
    categories = []
    for value in raw_categories:
        path = catalogue.category_path(str(value)) if isinstance(value, str) else None
        if path is None:
            raise DomainError("agreement.unknown_category", "没有这个数据分类：{category}", category=str(value)[:100])
        categories.append(path)
    # a category inside another one adds nothing: keep the outermost
    categories = sorted(set(categories))
    categories = [c for c in categories if not any(c.startswith(o + " > ") for o in categories)]
    if not asset_ids and not categories:
        raise DomainError("agreement.scope_empty", "授权范围不能为空：请至少选择一项数据资源或一个数据分类")
    known = await listings_service.asset_summaries(asset_ids)
    missing = [i for i in asset_ids if i not in known]
    if missing:
        raise DomainError("agreement.unknown_asset", "数据资源不存在：{asset_id}", asset_id=missing[0])
    columns: dict[str, list[str]] = {}
    raw_columns = scope.get("columns") or {}
    if not isinstance(raw_columns, dict):
        raise DomainError("agreement.scope_invalid", "授权范围不正确：{field}", field="columns")
    for key, names in raw_columns.items():
        try:
            asset_id = int(key)
        except (TypeError, ValueError):
            raise DomainError("agreement.scope_invalid", "授权范围不正确：{field}", field="columns") from None
        if asset_id not in known:
            # columns narrow an asset named in the scope; naming them for another asset is a mistake
            raise DomainError("agreement.columns_without_asset",
                              "只能为授权范围中列明的数据资源限定字段：{asset_id}", asset_id=asset_id)
        if not isinstance(names, list) or not names or len(names) > MAX_COLUMNS:
            raise DomainError("agreement.scope_invalid", "授权范围不正确：{field}", field="columns")
        have = set(known[asset_id]["columns"])
        for name in names:
            if not isinstance(name, str) or name not in have:
                raise DomainError("agreement.unknown_column", "数据资源 {asset_id} 没有字段：{column}",
                                  asset_id=asset_id, column=str(name)[:100])
        columns[str(asset_id)] = sorted(set(names))
    return {"asset_ids": asset_ids, "categories": categories, "columns": columns}


async def resolve(scope: dict | str) -> set[int]:
    """Every asset id a scope covers today: those it names and those filed under its categories."""
    if isinstance(scope, str):
        scope = json.loads(scope or "{}")
    ids = set(scope.get("asset_ids") or [])
    if scope.get("categories"):
        for found in (await listings_service.asset_ids_under_categories(scope["categories"])).values():
            ids.update(found)
    return ids


def categories_overlap(a: list[str], b: list[str]) -> bool:
    """Whether two lists of category paths share a subtree (one equals or contains the other)."""
    return any(x == y or x.startswith(y + " > ") or y.startswith(x + " > ") for x in a for y in b)


async def unconsented(asset_ids: set[int]) -> list[dict]:
    """Shared sources among these assets whose providing department has not recorded its consent."""
    if not asset_ids:
        return []
    return await (SharedSource.select(SharedSource.asset, SharedSource.provider_org,
                                      SharedSource.provider_org.name.as_alias("provider_name"))
                  .where(SharedSource.asset.is_in(sorted(asset_ids)), SharedSource.consented_at.is_null())
                  .order_by(SharedSource.asset))


async def require_consent(asset_ids: set[int]) -> None:
    missing = await unconsented(asset_ids)
    if missing:
        first = missing[0]
        raise DomainError("agreement.source_consent_missing",
                          "数据资源 {asset_id} 由{provider}共享而来，须先记录该部门同意其用于授权运营",
                          asset_id=first["asset"], provider=first["provider_name"])
