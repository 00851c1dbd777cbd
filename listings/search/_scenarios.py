"""Scenario bundles (我要开小卖部 → the kinds of data a shop needs), each kind's best listings."""

from __future__ import annotations

import time

from listings.search import _answers, _engines, _query, _search, _snapshots, _tokens
from listings.search._constants import SCENARIO_ITEMS, SCENARIO_SECONDS


# ---- scenarios ---------------------------------------------------------------------------


async def scenario(q: str) -> dict | None:
    """The scenario bundle a query names ("我要开小卖部"): each need with its top listings, or None."""
    sc = _tokens.match_scenario(q or "")
    if sc is None:
        return None
    snap = await _snapshots._fresh_snapshot()
    async with _engines._read_session():
        return await _bundle(snap, sc)


async def _bundle(snap: _snapshots._Snapshot, sc: dict) -> dict:
    """A scenario's bundle, recomputed at most every SCENARIO_SECONDS for changes made in other processes
    (it is a recommendation, and costs ~40 ms); listings taken off sale since are left out at once."""
    hit = _answers._bundles.get(sc["name"])
    if hit is None or hit[0] < time.monotonic():
        bundle = await _answers._single_flight(("scenario", sc["name"]), lambda: _compute_scenario(snap, sc))
        _answers._bundles[sc["name"]] = hit = (time.monotonic() + SCENARIO_SECONDS, bundle)
    bundle = hit[1]
    return {**bundle, "needs": [{**need, "listings": [i for i in need["listings"] if i["id"] in snap.attrs]}
                                for need in bundle["needs"]]}


async def _compute_scenario(snap: _snapshots._Snapshot, sc: dict) -> dict:
    """Top listings per need. A need's phrases are alternatives and already name the words wanted (no
    synonyms); the words of one phrase must all match (零售门店 is not 零售). Listings whose
    title matches come first, then by quality; the whole text is searched only for needs that lack them."""
    await _tokens._ready_async()
    backend = _engines._backend()
    trees = []
    for need in sc["needs"]:
        phrases = [query.tree() for query in (_query.Query(p, literal=True) for p in need["query"].split()) if query]
        trees.append(_query._or(phrases) if phrases else None)
    asked = [n for n, tree in enumerate(trees) if tree is not None]
    tops: list[list[int]] = [[] for _ in trees]
    async with _engines._read_session():
        for n, ids in zip(asked, await _engines._match([backend.expression(trees[n], title=True) for n in asked])):
            tops[n] = snap.best(ids, "quality", SCENARIO_ITEMS)
        short = [n for n in asked if len(tops[n]) < SCENARIO_ITEMS]
        for n, ids in zip(short, await _engines._match([backend.expression(trees[n]) for n in short])):
            chosen = set(tops[n])
            tops[n] += snap.best([i for i in ids if i not in chosen], "quality", SCENARIO_ITEMS - len(tops[n]))
        items = {it["id"]: it for it in await _search._items(sorted({i for top in tops for i in top}))}
    return {"name": sc["name"], "title": sc["title"],
            "needs": [{"need": need["need"], "query": need["query"], "listings": [items[i] for i in top if i in items]}
                      for need, top in zip(sc["needs"], tops)]}
