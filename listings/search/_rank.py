"""Relevance for listings.search: which listings answer a query, in what order, and how well.

Each query word arrives as four bit masks over listing ids (bit i = listing i): listings holding the
word itself in the title / anywhere, and listings holding one of its expansions (synonyms, category
names, 词林) in the title / anywhere. A word weighs its general distinctiveness (jieba's IDF) times its
rarity in the catalogue (on every listing: ~0; on few: 1), so 公交 outweighs 坐标, 数据 and 杭州市.

A listing earns, per word, the best of: the word in its title (1.0), elsewhere (0.6), an expansion
in its title (0.5), elsewhere (0.3), times the word's weight. Listings with the same earnings form one
part (a mask), so ranking costs a few big-integer ANDs per part and word, not work per listing: the
page walks the parts best first, each in quality order.

Which listings count as matches (the total, the facets):
- exact: some listing holds every word as typed; the matches are the listings holding every word
  (as typed or through an expansion);
- expanded: no listing holds every word as typed, but some hold every word through expansions, or,
  failing that, words carrying at least PARTIAL of the query's weight;
- nearest: nothing matches well; no listing counts as a match and the best partial ones are offered
  as the nearest, beside the demand board.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from listings.search import _thesaurus as _search_thesaurus

TITLE, BODY, EXPANDED_TITLE, EXPANDED_BODY = 1.0, 0.6, 0.5, 0.3
PARTIAL = 0.4  # share of the query's weight a listing must cover when none covers every word
DISTINCTIVE = 0.05  # share of the catalogue at or below which a word counts as fully distinctive
SINGLE_CHARACTER = 0.5  # weight of a one-character word against its IDF
MAX_PARTS = 256  # past this many distinct earnings the least relevant are merged (deep pages only)


@dataclass
class Word:
    term: str
    literal: int  # listings holding the word anywhere
    literal_title: int
    expanded: int  # listings holding an expansion anywhere
    expanded_title: int
    weight: float = 0.0


@dataclass
class Ranking:
    match: str  # exact | expanded | nearest
    matched: int  # mask of the listings that count as matches
    parts: list[int]  # the matches, best first
    nearest: list[int]  # when match is nearest: the partial matches, best first
    missing: list[str]  # query words no match holds


def weigh(words: list[Word], listed: int, is_cjk) -> None:
    """Set each word's weight: general IDF × rarity in the catalogue (listed = number of listings)."""
    n = max(listed, 1)
    # rarity saturates: a word on at most DISTINCTIVE of the listings is as telling as one on none (a
    # word the catalogue lacks must not outweigh the words it holds just for being absent)
    top = math.log((n + 1) / (DISTINCTIVE * n + 0.5))
    for w in words:
        general = _search_thesaurus.general_idf(w.term) if is_cjk(w.term) else _search_thesaurus.general_idf("")
        df = w.literal.bit_count()
        w.weight = general * min(1.0, math.log((n + 1) / (df + 0.5)) / top)
        if is_cjk(w.term) and len(w.term) == 1:
            w.weight *= SINGLE_CHARACTER  # 花, 钱, 选: in a sentence a lone character rarely names the data
    if words and not any(w.weight > 0 for w in words):
        for w in words:  # every word on every listing: let them count alike
            w.weight = 1.0


def rank(selected: int, words: list[Word]) -> Ranking:
    """Split the selected listings by what they earn for the query, and decide what matches."""
    total = sum(w.weight for w in words) or 1.0
    anywhere = 0
    for w in words:
        anywhere |= w.literal | w.expanded
    # key: (score, words found, words found as typed, weight covered) → mask
    parts: dict[tuple, int] = {(0.0, 0, 0, 0.0): selected & anywhere} if selected & anywhere else {}
    for w in sorted(words, key=lambda w: -w.weight):
        if not (w.literal | w.expanded):
            continue
        new: dict[tuple, int] = {}

        def add(key: tuple, mask: int) -> None:
            new[key] = new.get(key, 0) | mask

        for (score, found, typed, covered), m in parts.items():
            for mask, credit, as_typed in ((w.literal_title, TITLE, 1), (w.literal, BODY, 1),
                                           (w.expanded_title, EXPANDED_TITLE, 0), (w.expanded, EXPANDED_BODY, 0)):
                hit = m & mask
                if hit:
                    add((round(score + credit * w.weight, 9), found + 1, typed + as_typed,
                         round(covered + w.weight, 9)), hit)
                    m &= ~mask
                    if not m:
                        break
            if m:
                add((score, found, typed, covered), m)
        parts = _capped(new)
    ordered = sorted(parts.items(), key=lambda kv: (-kv[0][0], -kv[0][1]))
    n = len(words)
    full = [(k, m) for k, m in ordered if k[1] == n]
    if full:
        match = "exact" if any(k[2] == n for k, _ in full) else "expanded"
        chosen = full
    else:
        chosen = [(k, m) for k, m in ordered if k[3] >= PARTIAL * total]
        match = "expanded" if chosen else "nearest"
    matched = 0
    for _k, m in chosen:
        matched |= m
    missing = [w.term for w in words if not (matched & (w.literal | w.expanded))] if matched else [w.term for w in words]
    return Ranking(match=match, matched=matched, parts=[m for _k, m in chosen],
                   nearest=[m for k, m in ordered if k[0] > 0] if match == "nearest" else [], missing=missing)


def _capped(parts: dict[tuple, int]) -> dict[tuple, int]:
    if len(parts) <= MAX_PARTS:
        return parts
    ordered = sorted(parts.items(), key=lambda kv: -kv[0][0])
    kept = dict(ordered[:MAX_PARTS - 1])
    tail = ordered[MAX_PARTS - 1:]
    merged = 0
    for _k, m in tail:
        merged |= m
    # the merged listings keep the least of every figure: they rank after the kept ones
    key = tuple(min(k[i] for k, _m in tail) for i in range(4))
    kept[key] = kept.get(key, 0) | merged
    return kept
