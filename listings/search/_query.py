"""A buyer's query: segmented like the documents, less the words of a question put as a sentence, each
word asked as typed and through its expansions, as the index expressions the engines answer."""

from __future__ import annotations

from listings.search import _thesaurus as _search_thesaurus
from listings.search._constants import _FTS_OPERATORS, _INDEX_STOPWORDS, _QUERY_STOPWORDS
from listings.search import _tokens


# ---- queries -----------------------------------------------------------------------------

# A query is a tree: ("t", token, prefix) leaves under ("&", [...]) and ("|", [...]) nodes.
Node = tuple


def _or(nodes: list[Node]) -> Node:
    return nodes[0] if len(nodes) == 1 else ("|", nodes)


def _and(nodes: list[Node]) -> Node:
    return nodes[0] if len(nodes) == 1 else ("&", nodes)


def _parts(word: str) -> list[str]:
    """Dictionary words covering a compound left to right: 市场主体 → 市场, 主体 (not the overlapping 场主)."""
    found = {w for w in _tokens._tokenizer.cut_for_search(word) if w != word and len(w) >= 2}
    parts, i = [], 0
    while i < len(word):
        best = max((w for w in found if word.startswith(w, i)), key=len, default=None)
        if best:
            parts.append(best)
        i += len(best) if best else 1
    return parts


class Query:
    """A parsed query: its terms, what each may also be written as, and the trees an index can match."""

    def __init__(self, q: str, literal: bool = False) -> None:
        """`literal`: the words as written, without expansions."""
        _tokens._ensure_ready()
        self.terms: list[str] = []
        for run in _tokens._runs(q):
            for word in (_tokens._tokenizer.lcut(run) if _tokens._is_cjk(run) else [run]):
                if word not in _QUERY_STOPWORDS and word not in _FTS_OPERATORS and word not in self.terms:
                    self.terms.append(word)
        self.expanded: dict[str, list[str]] = {}
        self.literal: list[Node] = []  # per term: the word as typed (or its parts, for a compound)
        self.expansions: list[Node | None] = []  # per term: what it may also be written as
        self.gaps: list[Node | None] = []  # per term: 词林's words, asked for when no listing holds the term
        self.gap_words: dict[str, list[str]] = {}
        table = _tokens._synonyms()
        for term in self.terms:
            parts = _parts(term) if _tokens._is_cjk(term) and len(term) >= 3 else []
            alts = [self._word(term)]
            if len(parts) > 1:
                # the compound may be segmented differently inside a listing's text: its parts also match
                alts.append(_and([("t", p, False) for p in parts]))
            self.literal.append(_or(alts))
            if literal:
                self.expansions.append(None)
                self.gaps.append(None)
                continue
            words, broad = _search_thesaurus.expansions(term, table)
            if words:
                self.expanded[term] = words
            if broad:
                self.gap_words[term] = broad
            gaps = [n for n in map(self._phrase, broad) if n is not None]
            self.gaps.append(_or(gaps) if gaps else None)
            others = [self._phrase(w) for w in words]
            if len(parts) > 1 and any(table.get(p) for p in parts):
                # …and so do the parts' synonyms (企业信用 → (企业|法人|…) & (信用|征信|…))
                others.append(_and([_or([("t", p, False)] + [self._phrase(w) for w in table.get(p, ())])
                                    for p in parts]))
            others = [o for o in others if o is not None]
            self.expansions.append(_or(others) if others else None)

    @staticmethod
    def _word(word: str) -> Node:
        cjk = _tokens._is_cjk(word)
        # a lone character or a partly typed pinyin matches as a prefix: 药 → 药店, yib → yibao
        prefix = (cjk and len(word) == 1) or (not cjk and len(word) >= 3 and not word.isdigit())
        return ("t", word, prefix)

    @staticmethod
    def _phrase(words: str) -> Node | None:
        """Every word of a phrase, as the segmenter splits it (公交站点 → 公交 & 站点)."""
        tokens = [t for run in _tokens._runs(words) for t in (_tokens._tokenizer.lcut(run) if _tokens._is_cjk(run) else [run])
                  if t not in _INDEX_STOPWORDS]
        return _and([("t", t, False) for t in tokens]) if tokens else None

    def node(self, i: int) -> Node:
        """Term i as typed or through any expansion."""
        return self.literal[i] if self.expansions[i] is None else _or([self.literal[i], self.expansions[i]])

    def tree(self) -> Node:
        """Every term must match."""
        return _and([self.node(i) for i in range(len(self.terms))])

    def __bool__(self) -> bool:
        return bool(self.literal)
