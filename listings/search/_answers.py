"""Answers cached per process until the snapshot changes, each computed once however many ask."""

from __future__ import annotations

import asyncio
from typing import Any

from listings.search._constants import CACHE_ENTRIES
from listings.search import _snapshots


# ---- answers: cached, computed once however many ask ---------------------------------------

_answers: dict[tuple, Any] = {}
_text_masks: dict[Any, int] = {}  # index expression → mask of the ids matching it (a query's pages, sorts, facets)
_bundles: dict[str, tuple[float, dict]] = {}  # scenario name → (expires, bundle)
_inflight: dict[tuple, asyncio.Future] = {}


def forget_answers(*, bundles: bool = False) -> None:
    """Empty this process's answer cache, and the scenario bundles if asked (benchmarks use it to time
    the uncached path)."""
    _answers.clear()
    _text_masks.clear()
    if bundles:
        _bundles.clear()


async def _single_flight(key: tuple, compute) -> Any:
    """Run `compute` once for concurrent callers with the same key (on the same event loop)."""
    loop = asyncio.get_running_loop()
    pending = _inflight.get(key)
    if pending is not None and pending.get_loop() is loop:
        return await asyncio.shield(pending)
    future = loop.create_future()
    _inflight[key] = future
    try:
        value = await compute()
    except BaseException as exc:
        if isinstance(exc, asyncio.CancelledError):
            future.cancel()
        else:
            future.set_exception(exc)
            future.exception()  # the waiters re-raise it; a lone caller must not leave it unretrieved
        raise
    finally:
        if _inflight.get(key) is future:
            del _inflight[key]
    future.set_result(value)
    return value


async def _answer(key: tuple, compute) -> Any:
    """A cached answer; the cache is emptied whenever the snapshot changes."""
    snap = await _snapshots._fresh_snapshot()
    if key in _answers:
        return _answers[key]

    async def run():
        value = await compute(snap)
        if _snapshots._snapshot is snap:  # not superseded while computing
            if len(_answers) >= CACHE_ENTRIES:
                for old in list(_answers)[: CACHE_ENTRIES // 10]:
                    _answers.pop(old, None)
            _answers[key] = value
        return value

    return await _single_flight(key, run)
