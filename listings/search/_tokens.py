"""Tokens: jieba segmentation in search mode (a private tokenizer, so our words don't leak into other
users of jieba), pinyin and initials for every Chinese word, a listing's documents; then the
synonym groups and scenario bundles shipped in listings/data."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
import threading
import unicodedata
from typing import Any

from listings.search import _thesaurus as _search_thesaurus
from listings.tables import Listing
from listings.tables import ListingStatus
from listings.search._constants import DATA, _CJK, _INDEX_STOPWORDS, _RUN
from listings.search import _engines, _snapshots


# ---- tokens ------------------------------------------------------------------------------

_ready = False
_ready_lock = threading.Lock()
_tokenizer = None  # a private jieba.Tokenizer: the words we add don't leak into other users of jieba


def _ensure_ready() -> None:
    """Load jieba's dictionary (~1 s) and teach it our synonyms and scenario words, once per process."""
    global _ready, _tokenizer
    if _ready:
        return
    with _ready_lock:
        if _ready:
            return
        import jieba

        jieba.setLogLevel(logging.WARNING)
        _search_thesaurus.load()
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        words = {w for group in _synonym_groups() for w in group} | set(_search_thesaurus.one_way())
        for sc in _scenarios():
            words.update(sc.get("keywords", ()))
        for word in sorted(words):
            if re.fullmatch(f"[{_CJK}]{{2,}}", word):
                tokenizer.add_word(word)
        _tokenizer = tokenizer
        _ready = True


async def _ready_async() -> None:
    if not _ready:
        await asyncio.to_thread(_ensure_ready)  # keep the event loop serving while the dictionary loads


async def warm_up() -> None:
    """Load the segmenter and pinyin tables and the snapshot now (call at start-up); build the index if it
    is empty while listings are on sale (a fresh migration of an existing database)."""
    await _ready_async()
    await asyncio.to_thread(_pinyin, "医保")
    if not await _engines._backend().indexed() and await Listing.exists().where(Listing.status == ListingStatus.LISTED.value):
        await _snapshots.reindex_all()
    await _snapshots._fresh_snapshot()


def _runs(text: str) -> list[str]:
    """Runs of Chinese characters or of ASCII letters/digits, NFKC-folded (full-width → ASCII) and lower-cased."""
    return _RUN.findall(unicodedata.normalize("NFKC", text or "").lower())


def _is_cjk(token: str) -> bool:
    return "\u3400" <= token[0]


@functools.lru_cache(maxsize=100_000)
def _pinyin(word: str) -> tuple[str, ...]:
    """医保 → ("yibao", "yb"); a single character gets no initials (one letter matches too much)."""
    from pypinyin import Style, lazy_pinyin

    full = "".join(lazy_pinyin(word, errors="ignore"))
    if not full.isascii() or not full.isalpha():
        return ()
    if len(word) < 2:
        return (full,)
    return full, "".join(lazy_pinyin(word, style=Style.FIRST_LETTER, errors="ignore"))


@functools.lru_cache(maxsize=200_000)
def _run_tokens(run: str) -> tuple[str, ...]:
    """Index tokens of one run: jieba search-mode words, each Chinese word followed by its pinyin."""
    if not _is_cjk(run):
        return (run,)
    out: list[str] = []
    for word in _tokenizer.cut_for_search(run):
        if word in _INDEX_STOPWORDS or not _RUN.fullmatch(word):
            continue
        out.append(word)
        out.extend(_pinyin(word))
    return tuple(out)


def _json_list(value: Any) -> list:
    if isinstance(value, str):
        try:
            value = json.loads(value or "[]")
        except ValueError:
            return []
    return value if isinstance(value, list) else []


def _tokens(*texts: str) -> str:
    return " ".join(tok for text in texts for run in _runs(text) for tok in _run_tokens(run))


def _tag_tokens(tag: str) -> str:
    """A tag's words, and the tag whole with its pinyin and initials: a tag is a label people type as
    one (拥堵指数, ydzs) even when the segmenter splits it."""
    tokens = _tokens(tag)
    runs = _runs(tag)
    if len(runs) == 1 and _is_cjk(runs[0]) and len(runs[0]) >= 3 and runs[0] not in tokens.split():
        tokens = " ".join((tokens, runs[0], *_pinyin(runs[0])))
    return tokens


def document(row: dict) -> tuple[str, str]:
    """The indexed tokens of a listing row: (title, everything else)."""
    _ensure_ready()
    columns = [c.get("name", "") if isinstance(c, dict) else str(c) for c in _json_list(row.get("columns"))]
    return _tokens(row.get("title", "")), " ".join((
        _tokens(row.get("summary", ""), *columns), *(_tag_tokens(str(t)) for t in _json_list(row.get("tags"))),
        _tokens(row.get("holder_name", ""), row.get("category_path", ""))))


# ---- synonyms and scenarios --------------------------------------------------------------


def _synonym_groups() -> tuple[tuple[str, ...], ...]:
    return _search_thesaurus.synonym_groups()


@functools.cache
def _synonyms() -> dict[str, tuple[str, ...]]:
    """word → the other words of every group it belongs to; also full pinyin → the group (yibao → 医保, …)."""
    out: dict[str, list[str]] = {}
    for group in _synonym_groups():
        for word in group:
            keys = [word] + ([_pinyin(word)[0]] if _is_cjk(word) and _pinyin(word) else [])
            for key in keys:
                bucket = out.setdefault(key, [])
                bucket.extend(w for w in group if w != key and w not in bucket)
    return {k: tuple(v) for k, v in out.items()}


@functools.cache
def _scenarios() -> tuple[dict, ...]:
    return tuple(json.loads((DATA / "scenarios.json").read_text(encoding="utf-8"))["scenarios"])


def match_scenario(q: str) -> dict | None:
    """The scenario whose title or one of whose keywords the query mentions ("我要开小卖部", "小卖部")."""
    text = "".join(_runs(q))
    if len(text) < 2:
        return None
    for sc in _scenarios():
        names = [sc["name"], sc["title"], *sc.get("keywords", ())]
        if any("".join(_runs(n)) in text for n in names if n):
            return sc
    return None
