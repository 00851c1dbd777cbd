"""search(): filters, facets, sort and relevance over the snapshot; the page's rows from the database."""

from __future__ import annotations

from datetime import datetime

from listings.search import _rank as _search_rank
from listings.tables import DeliveryMode
from listings.tables import Listing
from listings.tables import Tier
from market.errors import DomainError
from listings.search import _answers, _engines, _query, _scenarios, _snapshots, _tokens
from listings.search._constants import CACHE_ENTRIES, MAX_PAGE_SIZE, NEAREST_ITEMS, PRICES, SORTS


# ---- search ------------------------------------------------------------------------------

_ITEM_COLUMNS = ("id", "title", "tier", "summary", "holder_name", "category_path", "quality_score",
                 "min_price_fen", "update_cycle", "grade", "delivery_mode", "data_updated_at",
                 "registration_code", "tags")


def _check(value: str | None, allowed, code: str, name: str) -> None:
    if value is not None and value not in allowed:
        raise DomainError(code, "参数 {name} 的取值无效：{value}", name=name, value=value)


async def search(*, q: str = "", tier: str | None = None, category: str | None = None, holder_id: int | None = None,
                 price: str | None = None, price_min_fen: int | None = None, price_max_fen: int | None = None,
                 update_cycle: str | None = None, quality_min: int | None = None, grade: str | None = None,
                 delivery_mode: str | None = None, sort: str = "relevance", page: int = 1,
                 page_size: int = 20) -> dict:
    """Listed listings matching a query and filters: one page, facet counts, the parsed query, and the
    scenario bundle when the query names one."""
    q = (q or "").strip()[:200]
    sort = sort or "relevance"
    _check(sort, SORTS, "search.bad_sort", "sort")
    _check(price or None, PRICES, "search.bad_price", "price")
    _check(tier or None, {t.value for t in Tier}, "search.bad_tier", "tier")
    _check(delivery_mode or None, {d.value for d in DeliveryMode}, "search.bad_delivery_mode", "delivery_mode")
    page, page_size = max(1, int(page or 1)), min(max(1, int(page_size or 20)), MAX_PAGE_SIZE)
    filters = dict(tier=tier or None, category=(category or "").strip() or None, holder_id=holder_id,
                   price=price or None, price_min_fen=price_min_fen, price_max_fen=price_max_fen,
                   update_cycle=update_cycle or None, quality_min=quality_min, grade=grade or None,
                   delivery_mode=delivery_mode or None)
    key = ("search", q, sort, page, page_size, *sorted(filters.items()))
    return await _answers._answer(key, lambda snap: _search(snap, q, filters, sort, page, page_size))


async def _search(snap: _snapshots._Snapshot, q: str, filters: dict, sort: str, page: int, page_size: int) -> dict:
    await _tokens._ready_async()
    query = _query.Query(q)
    selected = snap.filter(**filters)
    parts, match, missing, nearest = [selected], None, [], []
    async with _engines._read_session():
        if query:
            words = await _words(snap, query)
            ranking = _search_rank.rank(selected, words)
            selected, match, missing = ranking.matched, ranking.match, ranking.missing
            # relevance: the parts best first; other sorts: every match in that order
            parts = ranking.parts if sort == "relevance" else [selected]
            if match == "nearest":
                near = ranking.nearest or [snap.filter(**filters)]
                nearest = await _items(snap.page(near, "quality", 0, NEAREST_ITEMS))
        ids = snap.page(parts, "quality" if sort == "relevance" else sort, (page - 1) * page_size, page_size)
        items = await _items(ids)
        scenario_bundle = None
        sc = _tokens.match_scenario(q) if q else None
        if sc is not None:
            scenario_bundle = await _scenarios._bundle(snap, sc)
    total = selected.bit_count()
    return {"items": items, "total": total, "page": page, "page_size": page_size,
            "pages": (total + page_size - 1) // page_size, "facets": snap.facets(selected),
            "query": {"terms": query.terms, "expanded": query.expanded, "missing": missing},
            "match": match, "nearest": nearest, "scenario": scenario_bundle}


async def _words(snap: _snapshots._Snapshot, query: _query.Query) -> list[_search_rank.Word]:
    """Each query term's masks (as typed / through expansions, anywhere / in the title) and weight.
    A term no listing holds is asked again through 词林 (its words join the query's `expanded`)."""
    backend = _engines._backend()
    n = len(query.terms)

    def expressions(nodes) -> list:
        return [e for node in nodes for e in ((backend.expression(node), backend.expression(node, title=True))
                                              if node is not None else (None, None))]

    masks = await _masks(expressions(node for i in range(n) for node in (query.literal[i], query.expansions[i])),
                         snap.listed)
    gaps = [i for i in range(n) if query.gaps[i] is not None and not masks[4 * i] and not masks[4 * i + 2]]
    if gaps:
        filled = await _masks(expressions(query.gaps[i] for i in gaps), snap.listed)
        for k, i in enumerate(gaps):
            masks[4 * i + 2] |= filled[2 * k]
            masks[4 * i + 3] |= filled[2 * k + 1]
            if filled[2 * k]:
                query.expanded[query.terms[i]] = query.expanded.get(query.terms[i], []) + query.gap_words[query.terms[i]]
    words = [_search_rank.Word(term, *masks[4 * i:4 * i + 4]) for i, term in enumerate(query.terms)]
    _search_rank.weigh(words, len(snap.attrs), _tokens._is_cjk)
    return words


async def _masks(wanted: list, listed: int) -> list[int]:
    """The mask of listed listings matching each expression (None: none), from the cache or the index
    (one statement for all that are not cached)."""
    known = {e: _answers._text_masks[e] for e in wanted if e is not None and e in _answers._text_masks}
    missing = list(dict.fromkeys(e for e in wanted if e is not None and e not in known))
    for expression, ids in zip(missing, await _engines._match(missing)):
        if len(_answers._text_masks) >= CACHE_ENTRIES // 4:
            del _answers._text_masks[next(iter(_answers._text_masks))]
        _answers._text_masks[expression] = known[expression] = _snapshots._mask(ids)
    return [known[e] & listed if e is not None else 0 for e in wanted]


async def fresh_changes() -> None:
    """Catch up with other processes' listing changes (the log, at most every REFRESH_SECONDS); the
    listing view cache is invalidated on the way."""
    await _snapshots._fresh_snapshot()


async def category_counts() -> dict[str, int]:
    """Listed listings per category path, as stored (the catalogue page sums them up the tree)."""
    snap = await _snapshots._fresh_snapshot()
    return {path: n for path, m in snap.masks["category"].items() if (n := m.bit_count())}


async def _items(ids: list[int]) -> list[dict]:
    if not ids:
        return []
    rows = await Listing.raw(f"SELECT {', '.join('l.' + c for c in _ITEM_COLUMNS)} FROM listing l "
                             f"WHERE l.id IN ({', '.join('{}' for _ in ids)})", *ids)
    by_id = {r["id"]: r for r in rows}
    items = []
    for listing_id in ids:
        r = by_id.get(listing_id)
        if r is not None:
            updated = r["data_updated_at"]
            items.append({**r, "tags": [str(t) for t in _tokens._json_list(r["tags"])],
                          "data_updated_at": updated.isoformat() if isinstance(updated, datetime) else updated or None})
    return items
