"""This process's cache of listing views (the listing row, its plans, cap and objections), so a
listing page costs no database round trip while nothing about the listing changed.

It rides on the listing change log that search keeps (`listing_search_log`): every change of a
listing, its plans, cap or objections goes through `search.index_listing`, which drops the entry here
at once; another process's change drops it when search reads the log (within
search.REFRESH_SECONDS, 1 s). A generation counter stops a read that raced a change from caching the
old view, and entries expire after TTL_SECONDS whatever happens, as a backstop.
"""

from __future__ import annotations

import time
from collections import OrderedDict

MAX_ENTRIES = 20_000
TTL_SECONDS = 30.0

_entries: OrderedDict[int, tuple[float, dict]] = OrderedDict()
_generation = 0


def generation() -> int:
    return _generation


def get(listing_id: int) -> dict | None:
    hit = _entries.get(listing_id)
    if hit is None:
        return None
    if hit[0] < time.monotonic():
        _entries.pop(listing_id, None)
        return None
    return hit[1]


def put(listing_id: int, view: dict, loaded_at_generation: int) -> None:
    """Keep a view read while the generation was `loaded_at_generation` (not if anything changed since)."""
    if loaded_at_generation != _generation:
        return
    _entries[listing_id] = (time.monotonic() + TTL_SECONDS, view)
    _entries.move_to_end(listing_id)
    while len(_entries) > MAX_ENTRIES:
        _entries.popitem(last=False)


def forget(listing_ids) -> None:
    global _generation
    _generation += 1
    for listing_id in listing_ids:
        _entries.pop(listing_id, None)


def clear() -> None:
    global _generation
    _generation += 1
    _entries.clear()
