"""Chinese search over listed listings, like searching goods in a shop.

Documents. A listing's title, and separately its summary, column names, tags, holder and category, are
segmented by jieba in search mode; every Chinese word also carries its pinyin without tones and its
initials (医保 → yibao, yb), so a buyer may type either. The space-joined tokens are indexed by SQLite
FTS5 (`listing_fts`, rowid = listing id) or by a PostgreSQL tsvector under a GIN index
(`listing_search`, title words weighted A); both come from a hand-written migration, and `_SQLite` /
`_Postgres` below are the only engine-specific code. Only listed listings are indexed.

Queries. A query is segmented the same way, less the words of a question put as a sentence (我想查一下,
有多少). Each word is asked as typed and through its expansions (listings/_search_thesaurus.py:
data/synonyms.json, the category tree's names, and 同义词词林 for a word no listing holds); the text index
only answers "which ids match" (and "which match in the title"), as one comma-joined string per question.
listings/_search_rank.py weighs the words (IDF × rarity in the catalogue), ranks title above summary and
typed above expanded, and says how well the query matched: `match` is exact, expanded (`query.missing`
names the words no match holds) or nearest (no match; `nearest` holds the closest listings).

Filters, facets and order. SQL was measured too slow for them on SQLite at 100,000 listings (GROUP BY
costs 1–4 µs a row, bm25 ~4 µs a matching row: ~140 ms for a typical query, 1.6 s to browse all), so
each process keeps a `_Snapshot` of every listed listing's filter, facet and sort attributes as bit
masks (bit i = listing id i) and id orders. Filtering is AND-ing masks, a facet count is an AND and a
popcount, whatever the number of matches. Relevance splits the matches into parts of equal weighted
score, best first, each in quality order. The page's rows are read from the database.

Freshness. `index_listing` — to be called after every change of a listing's status, price, quality or
catalogue fields, inside the change's transaction or after it — rewrites its document and appends its
id to `listing_search_log`. Every process reads the log at most every REFRESH_SECONDS (and at its next
search after calling `index_listing` itself) and patches its snapshot; answers are cached per process
until the snapshot changes. So a committed change shows everywhere within REFRESH_SECONDS. The snapshot
is rebuilt from the listing table every SNAPSHOT_MAX_AGE, which bounds the effect of a missed call.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import functools
import heapq
import json
import logging
import math
import re
import threading
import time
import unicodedata
from array import array
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from listings.publication import view_cache as _view_cache
from listings.search import _rank as _search_rank
from listings.search import _thesaurus as _search_thesaurus
from listings.tables import DeliveryMode, Listing, ListingStatus, Tier
from market import db
from market.errors import DomainError

DATA = Path(__file__).resolve().parent.parent / "data"  # listings/data
REFRESH_SECONDS = 1.0  # how long another process's listing change may take to show in this one
SNAPSHOT_MAX_AGE = 3600.0  # rebuild the snapshot from the listing table this often whatever the log says
CACHE_ENTRIES = 2000  # answers kept per process (each is a page of items and the facets)
LOG_KEEP = 100_000  # log entries kept; a process further behind rebuilds its snapshot
MMAP_BYTES = 1 << 30  # SQLite: map up to this much of the database file into memory for searches
SORTS = ("relevance", "quality", "freshness", "price_asc", "price_desc")
PRICES = ("free", "paid")
MAX_PAGE_SIZE = 100
QUALITY_BUCKETS = (("90+", 90, None), ("75-89", 75, 90), ("60-74", 60, 75), ("<60", None, 60))
FACET_LIMIT = 20  # holders and categories shown per facet; the small fixed facets are shown whole
SCENARIO_ITEMS = 3
NEAREST_ITEMS = 5  # listings offered when nothing matches well
SCENARIO_SECONDS = 60.0  # a scenario bundle is recomputed at most this often for other processes' changes

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(f"[{_CJK}]+|[0-9a-z]+")
# single characters that carry no meaning on their own in a catalogue entry
_INDEX_STOPWORDS = frozenset("的了和与及或等之其在对为是由于按各个并且以")
# words a buyer types around what they want ("我要找医保的数据"); "数据" is every listing's noun
_QUERY_STOPWORDS = frozenset({
    "我", "我要", "我想", "想要", "想", "要", "需要", "如何", "怎么", "怎样", "哪里", "哪些", "什么", "一下", "有",
    "找", "查找", "查询", "搜索", "关于", "相关", "数据", "资料", "开", "办", "做", "个", "家", "一家", "一个",
    # the rest of a question put as a sentence ("杭州各区县常住人口有多少", "我想查一下…")
    "我想查", "查", "一下", "多少", "有多少", "可以", "能", "怎么样", "如何查", "了解", "请问", "帮", "帮我", "给",
    "最近", "现在", "目前", "前", "用", "还", "吗", "呢", "吧", "啊", "得", "地", "着", "过", "每个", "哪个",
    *_INDEX_STOPWORDS})
_FTS_OPERATORS = frozenset({"and", "or", "not", "near"})

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
    if not await _backend().indexed() and await Listing.exists().where(Listing.status == ListingStatus.LISTED.value):
        await reindex_all()
    await _fresh_snapshot()


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


# ---- queries -----------------------------------------------------------------------------

# A query is a tree: ("t", token, prefix) leaves under ("&", [...]) and ("|", [...]) nodes.
Node = tuple


def _or(nodes: list[Node]) -> Node:
    return nodes[0] if len(nodes) == 1 else ("|", nodes)


def _and(nodes: list[Node]) -> Node:
    return nodes[0] if len(nodes) == 1 else ("&", nodes)


def _parts(word: str) -> list[str]:
    """Dictionary words covering a compound left to right: 市场主体 → 市场, 主体 (not the overlapping 场主)."""
    found = {w for w in _tokenizer.cut_for_search(word) if w != word and len(w) >= 2}
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
        _ensure_ready()
        self.terms: list[str] = []
        for run in _runs(q):
            for word in (_tokenizer.lcut(run) if _is_cjk(run) else [run]):
                if word not in _QUERY_STOPWORDS and word not in _FTS_OPERATORS and word not in self.terms:
                    self.terms.append(word)
        self.expanded: dict[str, list[str]] = {}
        self.literal: list[Node] = []  # per term: the word as typed (or its parts, for a compound)
        self.expansions: list[Node | None] = []  # per term: what it may also be written as
        self.gaps: list[Node | None] = []  # per term: 词林's words, asked for when no listing holds the term
        self.gap_words: dict[str, list[str]] = {}
        table = _synonyms()
        for term in self.terms:
            parts = _parts(term) if _is_cjk(term) and len(term) >= 3 else []
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
        cjk = _is_cjk(word)
        # a lone character or a partly typed pinyin matches as a prefix: 药 → 药店, yib → yibao
        prefix = (cjk and len(word) == 1) or (not cjk and len(word) >= 3 and not word.isdigit())
        return ("t", word, prefix)

    @staticmethod
    def _phrase(words: str) -> Node | None:
        """Every word of a phrase, as the segmenter splits it (公交站点 → 公交 & 站点)."""
        tokens = [t for run in _runs(words) for t in (_tokenizer.lcut(run) if _is_cjk(run) else [run])
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


# ---- the two engines ---------------------------------------------------------------------


class _SQLite:
    before_match = ""

    @staticmethod
    def expression(node: Node, title: bool = False) -> str:
        """FTS5 syntax with every token quoted, so nothing the buyer types is read as an operator."""
        def render(n: Node) -> str:
            if n[0] == "t":
                return '"' + n[1].replace('"', '""') + '"' + ("*" if n[2] else "")
            return "(" + (" AND " if n[0] == "&" else " OR ").join(render(c) for c in n[1]) + ")"

        return ("{title} : (" + render(node) + ")") if title else render(node)

    fresh = "round((julianday(data_updated_at) - 2440587.5) * 86400.0, 3)"  # seconds since 1970, or NULL
    # every listed listing's snapshot attributes in one string: a row per listing, category last
    records = ("SELECT group_concat(id || char(31) || tier || char(31) || update_cycle || char(31) || grade"
               " || char(31) || delivery_mode || char(31) || min_price_fen || char(31) || quality_score"
               f" || char(31) || holder || char(31) || coalesce({fresh}, '') || char(31)"
               " || replace(category_path, char(30), ' '), char(30)) AS records FROM listing WHERE status = {}")

    @staticmethod
    def matches(expressions: list[str]) -> tuple[str, list]:
        """One statement answering, per expression, its number and the comma-joined ids that match it."""
        return " UNION ALL ".join(f"SELECT {i} AS k, group_concat(rowid) AS ids FROM listing_fts "
                                  "WHERE listing_fts MATCH {}" for i in range(len(expressions))), expressions

    async def write(self, docs: list[tuple[int, str, str]]) -> None:
        for i in range(0, len(docs), 300):
            chunk = docs[i:i + 300]
            ids = [d[0] for d in chunk]
            await Listing.raw(f"DELETE FROM listing_fts WHERE rowid IN ({', '.join('{}' for _ in ids)})", *ids)
            await Listing.raw("INSERT INTO listing_fts (rowid, title, tokens) VALUES "
                              + ", ".join("({}, {}, {})" for _ in chunk), *(v for d in chunk for v in d))

    async def delete(self, listing_id: int) -> None:
        await Listing.raw("DELETE FROM listing_fts WHERE rowid = {}", listing_id)

    async def prune(self) -> None:
        await Listing.raw("DELETE FROM listing_fts WHERE rowid NOT IN (SELECT id FROM listing WHERE status = {})",
                          ListingStatus.LISTED.value)

    async def clear(self) -> None:
        await Listing.raw("DELETE FROM listing_fts")

    async def indexed(self) -> bool:
        return bool(await Listing.raw("SELECT rowid FROM listing_fts LIMIT 1"))


class _Postgres:
    # the planner prices `tsv @@ query` on a sequential scan far too low (each row's tsvector must be
    # decompressed): for a word in 25% of 30,000 listings it chose a 140 ms scan over a 40 ms GIN scan
    before_match = "SET LOCAL enable_seqscan = off"

    @staticmethod
    def expression(node: Node, title: bool = False) -> tuple[str, bool]:
        """tsquery syntax with every lexeme quoted, and whether to match the title's tsvector."""
        def render(n: Node) -> str:
            if n[0] == "t":
                return "'" + n[1].replace("\\", "\\\\").replace("'", "''") + "'" + (":*" if n[2] else "")
            return "(" + (" & " if n[0] == "&" else " | ").join(render(c) for c in n[1]) + ")"

        return render(node), title

    fresh = "extract(epoch FROM data_updated_at)::float8"
    records = ("SELECT string_agg(concat_ws(chr(31), id, tier, update_cycle, grade, delivery_mode, min_price_fen,"
               f" quality_score, holder, coalesce(({fresh})::text, ''), replace(category_path, chr(30), ' ')),"
               " chr(30)) AS records FROM listing WHERE status = {}")

    @staticmethod
    def matches(expressions: list[tuple[str, bool]]) -> tuple[str, list]:
        sql = " UNION ALL ".join(f"SELECT {i} AS k, string_agg(listing_id::text, ',') AS ids FROM listing_search "
                                 f"WHERE {'title_tsv' if title else 'tsv'} @@ to_tsquery('simple', {{}})"
                                 for i, (_text, title) in enumerate(expressions))
        return sql, [text for text, _title in expressions]

    async def write(self, docs: list[tuple[int, str, str]]) -> None:
        for i in range(0, len(docs), 1000):
            chunk = docs[i:i + 1000]
            await Listing.raw("INSERT INTO listing_search (listing_id, title, tokens) "
                              "SELECT * FROM unnest({}::integer[], {}::text[], {}::text[]) "
                              "ON CONFLICT (listing_id) DO UPDATE SET title = EXCLUDED.title, tokens = EXCLUDED.tokens",
                              [d[0] for d in chunk], [d[1] for d in chunk], [d[2] for d in chunk])

    async def delete(self, listing_id: int) -> None:
        await Listing.raw("DELETE FROM listing_search WHERE listing_id = {}", listing_id)

    async def prune(self) -> None:
        await Listing.raw("DELETE FROM listing_search s WHERE NOT EXISTS (SELECT 1 FROM listing l "
                          "WHERE l.id = s.listing_id AND l.status = {})", ListingStatus.LISTED.value)

    async def clear(self) -> None:
        await Listing.raw("DELETE FROM listing_search")

    async def indexed(self) -> bool:
        return bool(await Listing.raw("SELECT listing_id FROM listing_search LIMIT 1"))


def _backend() -> _SQLite | _Postgres:
    return _SQLite() if db.is_sqlite() else _Postgres()


@contextlib.asynccontextmanager
async def _read_session():
    """A search's statements on one connection, in one read transaction (a consistent view).
    SQLite: Piccolo would open a connection per statement; the transaction is deferred, so it takes no
    write lock, and the file is memory-mapped: a new connection has an empty page cache, and copying the
    index's pages in through read() doubled the FTS time."""
    eng = db.engine()
    if eng.transaction_exists():
        yield
    elif db.is_sqlite():
        from piccolo.engine.sqlite import TransactionType

        async with eng.transaction(transaction_type=TransactionType.deferred):
            await eng.run_ddl(f"PRAGMA mmap_size = {MMAP_BYTES}")
            yield
    else:
        async with eng.transaction():
            yield


async def _match(expressions: list) -> list[list[int]]:
    """The ids matching each text-index expression, in one statement."""
    if not expressions:
        return []
    backend = _backend()
    if backend.before_match and db.engine().transaction_exists():
        await db.engine().run_ddl(backend.before_match)
    sql, args = backend.matches(expressions)
    rows = await Listing.raw(sql, *args)
    found: list[list[int]] = [[] for _ in expressions]
    for r in rows:
        if r["ids"]:
            found[r["k"]] = list(map(int, r["ids"].split(",")))
    return found


# ---- the in-memory snapshot of filter, facet and sort attributes -------------------------

_FACETS = ("tier", "update_cycle", "grade", "delivery_mode", "price", "quality", "category")
_ONE = re.compile("1")
_UNRANKED = 1 << 62


def _sort_keys(attrs: dict):
    """Sort keys by sort name; smaller comes first. An unknown update time sorts last."""
    def fresh(i):
        f = attrs[i][8]
        return -f if f is not None else math.inf

    return {
        "quality": lambda i: (-attrs[i][5], fresh(i), -i),
        "freshness": lambda i: (fresh(i), -attrs[i][5], -i),
        "price_asc": lambda i: (attrs[i][4], -attrs[i][5], -i),
        "price_desc": lambda i: (-attrs[i][4], -attrs[i][5], -i),
    }


def _mask(ids) -> int:
    """A bit mask with the given ids' bits set."""
    ids = list(ids)
    if not ids:
        return 0
    buf = bytearray((max(ids) >> 3) + 1)
    for i in ids:
        buf[i >> 3] |= 1 << (i & 7)
    return int.from_bytes(buf, "little")


def _ids(mask: int) -> list[int]:
    """The ids whose bits are set, ascending (the fastest way measured in pure Python: ~0.2 µs an id)."""
    return [m.start() for m in _ONE.finditer(bin(mask)[:1:-1])]


class _Snapshot:
    """Every listed listing's filter, facet and sort attributes: a bit mask per facet value (bit i is
    listing id i) and the ids in each sort order. Built from the listing table, patched from the log."""

    def __init__(self, seq: int) -> None:
        self.base = seq  # the snapshot was read after log entry `base` was written: it reflects all up to it
        self.seq = seq  # the last log entry reflected
        self.applied: set[int] = set()  # entries after `base` applied (PostgreSQL may commit them out of order)
        self.built_at = time.monotonic()
        self.checked_at = self.built_at
        # id → (tier, update_cycle, grade, delivery_mode, price, quality, holder, category, updated: epoch s)
        self.attrs: dict[int, tuple] = {}
        self.listed = 0
        self.masks: dict[str, dict[Any, int]] = {f: {} for f in _FACETS}
        self.holders: dict[int, set[int]] = {}
        self.holder_names: dict[int, str] = {}
        self.holder_of = array("i")  # listing id → holder id (0: not listed)
        self._orders: dict[str, list[int]] = {}  # made on first use, then kept up to date
        self._ranks: dict[str, array] = {}  # listing id → position in an order; remade after a change
        self.keys = _sort_keys(self.attrs)

    @staticmethod
    def _attrs(tier, cycle, grade, delivery, price, quality, holder, category, fresh) -> tuple:
        return (tier, cycle, grade, delivery, int(price or 0), max(0, min(100, int(quality or 0))), int(holder),
                category or "", float(fresh) if fresh not in (None, "") else None)

    @staticmethod
    def _values(a: tuple) -> dict[str, Any]:
        return {"tier": a[0], "update_cycle": a[1], "grade": a[2], "delivery_mode": a[3],
                "price": "free" if a[4] == 0 else "paid", "quality": a[5], "category": a[7]}

    def order(self, sort: str) -> list[int]:
        """Every listed id in the sort order."""
        if sort not in self._orders:
            self._orders[sort] = sorted(self.attrs, key=self.keys[sort])
        return self._orders[sort]

    def best(self, ids, sort: str, count: int, skip: int = 0) -> list[int]:
        """The first `count` after `skip` of these ids (unlisted ones left out) in the sort order: a
        lookup in a rank array per id, cheaper than computing sort keys."""
        rank = self._ranks.get(sort)
        if rank is None:
            rank = self._ranks[sort] = array("q", [_UNRANKED]) * len(self.holder_of)
            for position, i in enumerate(self.order(sort)):
                rank[i] = position
        size = len(rank)
        top = heapq.nsmallest(skip + count, [i for i in ids if i < size], key=rank.__getitem__)[skip:]
        return [i for i in top if rank[i] != _UNRANKED]

    def _grow(self, listing_id: int) -> None:
        if listing_id >= len(self.holder_of):
            self.holder_of.extend([0] * (listing_id + 1024 - len(self.holder_of)))

    @classmethod
    def build(cls, seq: int, records: str, holder_names: dict[int, str]) -> "_Snapshot":
        """All at once from the records string (in a worker thread): bits are set in byte arrays (an int
        mask is rebuilt by every change); the sort orders and ranks are made now, not by a request."""
        snap = cls(seq)
        snap.holder_names = holder_names
        rows = [r.split("\x1f", 9) for r in records.split("\x1e")] if records else []
        size = (max((int(r[0]) for r in rows), default=0) >> 3) + 1
        buffers: dict[str, dict[Any, bytearray]] = {f: {} for f in _FACETS}
        listed = bytearray(size)
        facets = [buffers[f] for f in _FACETS]
        for row in rows:
            i, a = int(row[0]), cls._attrs(*row[1:8], row[9], row[8])
            snap.attrs[i] = a
            byte, bit = i >> 3, 1 << (i & 7)
            listed[byte] |= bit
            for values, value in zip(facets, (a[0], a[1], a[2], a[3], "free" if a[4] == 0 else "paid", a[5], a[7])):
                buf = values.get(value)
                if buf is None:
                    buf = values[value] = bytearray(size)
                buf[byte] |= bit
            snap.holders.setdefault(a[6], set()).add(i)
        snap.listed = int.from_bytes(listed, "little")
        snap.masks = {f: {v: int.from_bytes(b, "little") for v, b in values.items()} for f, values in buffers.items()}
        snap._grow(max(snap.attrs, default=0))
        for i, a in snap.attrs.items():
            snap.holder_of[i] = a[6]
        for sort in snap.keys:
            snap.best((), sort, 0)  # makes the order and its ranks
        return snap

    def remove(self, listing_id: int) -> None:
        a = self.attrs.get(listing_id)
        if a is None:
            return
        bit = 1 << listing_id
        for name, order in self._orders.items():
            key = self.keys[name]
            at = bisect.bisect_left(order, key(listing_id), key=key)
            if at < len(order) and order[at] == listing_id:
                del order[at]
            else:
                order.remove(listing_id)
        del self.attrs[listing_id]
        self._ranks.clear()
        self.listed &= ~bit
        for facet, value in self._values(a).items():
            self.masks[facet][value] &= ~bit
        self.holders.get(a[6], set()).discard(listing_id)
        self.holder_of[listing_id] = 0

    def put(self, row: dict) -> None:
        i = row["id"]
        self.remove(i)
        a = self.attrs[i] = self._attrs(row["tier"], row["update_cycle"], row["grade"], row["delivery_mode"],
                                        row["min_price_fen"], row["quality_score"], row["holder"],
                                        row["category_path"], row["fresh"])
        bit = 1 << i
        self.listed |= bit
        for facet, value in self._values(a).items():
            self.masks[facet][value] = self.masks[facet].get(value, 0) | bit
        self.holders.setdefault(a[6], set()).add(i)
        self.holder_names[a[6]] = row["holder_name"]
        self._grow(i)
        self.holder_of[i] = a[6]
        for name, order in self._orders.items():
            bisect.insort(order, i, key=self.keys[name])
        self._ranks.clear()

    # -- questions --

    def filter(self, *, tier, category, holder_id, price, price_min_fen, price_max_fen, update_cycle, quality_min,
               grade, delivery_mode) -> int:
        f = self.listed
        for facet, value in (("tier", tier), ("update_cycle", update_cycle), ("grade", grade),
                             ("delivery_mode", delivery_mode), ("price", price)):
            if value is not None:
                f &= self.masks[facet].get(value, 0)
        if category:
            m = 0
            below = category + " > "
            for path, pm in self.masks["category"].items():
                if path == category or path.startswith(below):  # whole segments: 交通 is not 交通运输
                    m |= pm
            f &= m
        if holder_id is not None:
            f &= _mask(self.holders.get(holder_id, ()))
        if quality_min is not None:
            m = 0
            for score, qm in self.masks["quality"].items():
                if score >= quality_min:
                    m |= qm
            f &= m
        if price_min_fen is not None or price_max_fen is not None:
            order, price = self.order("price_asc"), (lambda i: self.attrs[i][4])
            lo = 0 if price_min_fen is None else bisect.bisect_left(order, price_min_fen, key=price)
            hi = len(order) if price_max_fen is None else bisect.bisect_right(order, price_max_fen, key=price)
            f &= _mask(order[lo:hi])
        return f

    def facets(self, f: int) -> dict[str, list]:
        out: dict[str, list] = {}
        for facet in ("tier", "update_cycle", "grade", "delivery_mode"):
            counts = [[v, (f & m).bit_count()] for v, m in self.masks[facet].items()]
            out[facet] = sorted((c for c in counts if c[1]), key=lambda c: (-c[1], str(c[0])))
        out["price"] = [[p, (f & self.masks["price"].get(p, 0)).bit_count()] for p in PRICES]
        buckets = dict.fromkeys((b[0] for b in QUALITY_BUCKETS), 0)
        for score, m in self.masks["quality"].items():
            n = (f & m).bit_count()
            if n:
                buckets[next(b[0] for b in QUALITY_BUCKETS if (b[1] is None or score >= b[1])
                              and (b[2] is None or score < b[2]))] += n
        out["quality"] = [[b, n] for b, n in buckets.items()]
        tops: Counter = Counter()
        for path, m in self.masks["category"].items():
            n = (f & m).bit_count()
            if n:
                tops[path.split(" > ", 1)[0].strip()] += n
        out["category"] = [[v, n] for v, n in sorted(tops.items(), key=lambda c: (-c[1], c[0]))[:FACET_LIMIT]]
        if f.bit_count() * 2 <= len(self.attrs):
            holders = Counter(map(self.holder_of.__getitem__, _ids(f)))
        else:  # most listings: count the few left out
            holders = Counter({h: len(ids) for h, ids in self.holders.items()})
            holders.subtract(Counter(map(self.holder_of.__getitem__, _ids(self.listed & ~f))))
        out["holder"] = [[self.holder_names.get(h, ""), n, h]
                         for h, n in sorted(holders.items(), key=lambda c: (-c[1], c[0]))[:FACET_LIMIT]]
        return out

    def page(self, parts: list[int], sort: str, skip: int, take: int) -> list[int]:
        """Ids `skip` to `skip + take` of the masks in `parts` taken in turn, each in the sort order."""
        out: list[int] = []
        for f in parts:
            count = f.bit_count()
            if skip >= count:
                skip -= count
                continue
            want = min(take - len(out), count - skip)
            # walk the sort order while that is expected to test fewer than ~50,000 ids; else sort the few
            if (skip + want) * len(self.attrs) > 50_000 * count:
                out.extend(self.best(_ids(f), sort, want, skip))
            else:
                bits = f.to_bytes((f.bit_length() + 7) >> 3, "little")
                for i in self.order(sort):
                    if i >> 3 < len(bits) and bits[i >> 3] >> (i & 7) & 1:
                        if skip:
                            skip -= 1
                            continue
                        out.append(i)
                        if len(out) == take:
                            break
            skip = 0
            if len(out) >= take:
                break
        return out


_snapshot: _Snapshot | None = None


async def _log(listing_id: int) -> int:
    """Append to the change log (0: everything changed); returns the entry's number."""
    rows = await Listing.raw("INSERT INTO listing_search_log (listing_id) VALUES ({}) RETURNING seq", listing_id)
    seq = rows[0]["seq"]
    if seq % 1000 == 0:
        await Listing.raw("DELETE FROM listing_search_log WHERE seq < {}", seq - LOG_KEEP)
    return seq


async def _build_snapshot() -> _Snapshot:
    """Read every listed listing's attributes as one string (Python objects for 100,000 rows through the
    driver cost seconds; one string costs a split), and the holders' names."""
    listed = ListingStatus.LISTED.value
    _view_cache.clear()  # a rebuild means changes may have been missed: forget every listing view
    seq = (await Listing.raw("SELECT coalesce(max(seq), 0) AS seq FROM listing_search_log"))[0]["seq"]
    records = (await Listing.raw(_backend().records, listed))[0]["records"]
    names = await Listing.raw("SELECT holder, max(holder_name) AS name FROM listing WHERE status = {} GROUP BY holder",
                              listed)
    return await asyncio.to_thread(_Snapshot.build, seq, records, {r["holder"]: r["name"] for r in names})


async def _refresh(snap: _Snapshot) -> _Snapshot:
    """Apply the log entries this process has not seen; rebuild when too far behind or told to."""
    rows = await Listing.raw("SELECT seq, listing_id FROM listing_search_log WHERE seq > {} ORDER BY seq LIMIT 5001",
                             snap.seq - 100)  # look back: PostgreSQL may commit a lower seq later
    oldest = (await Listing.raw("SELECT min(seq) AS seq FROM listing_search_log"))[0]["seq"]
    fresh = [r for r in rows if r["seq"] > snap.base and r["seq"] not in snap.applied]
    if (len(rows) > 5000 or (oldest is not None and oldest > snap.seq + 1 and snap.seq > 0)
            or any(r["listing_id"] == 0 for r in fresh) or time.monotonic() - snap.built_at > SNAPSHOT_MAX_AGE):
        return await _build_snapshot()
    if fresh:
        ids = sorted({r["listing_id"] for r in fresh})
        found = {r["id"]: r for r in await Listing.raw(
            "SELECT id, tier, update_cycle, grade, delivery_mode, min_price_fen, quality_score, holder, holder_name, "
            f"category_path, {_backend().fresh} AS fresh FROM listing WHERE status = {{}} "
            f"AND id IN ({', '.join('{}' for _ in ids)})", ListingStatus.LISTED.value, *ids)}
        _view_cache.forget(ids)
        for i in ids:
            if i in found:
                snap.put(found[i])
            else:
                snap.remove(i)
        snap.applied.update(r["seq"] for r in fresh)
        snap.seq = max(snap.seq, max(r["seq"] for r in fresh))
        if len(snap.applied) > 10_000:
            snap.applied = {s for s in snap.applied if s > snap.seq - 200}
        forget_answers()
    snap.checked_at = time.monotonic()
    return snap


async def _fresh_snapshot() -> _Snapshot:
    """The snapshot, checked against the log if REFRESH_SECONDS have passed (or this process changed
    something); one refresh at a time however many requests arrive."""
    snap = _snapshot
    if snap is not None and time.monotonic() - snap.checked_at < REFRESH_SECONDS:
        return snap

    async def load() -> _Snapshot:
        global _snapshot
        async with _read_session():
            new = await (_refresh(snap) if snap is not None else _build_snapshot())
        if new is not snap:
            forget_answers()
        _snapshot = new
        return new

    return await _single_flight(("snapshot",), load)


def invalidate() -> None:
    """Make the next search read the change log (this process changed something) and forget answers."""
    if _snapshot is not None:
        _snapshot.checked_at = -math.inf
    forget_answers(bundles=True)


# ---- indexing ----------------------------------------------------------------------------

_DOC_COLUMNS = (Listing.id, Listing.status, Listing.title, Listing.summary, Listing.columns, Listing.tags,
                Listing.holder_name, Listing.category_path)


async def index_listing(listing_id: int) -> None:
    """Put a listing's document in the index if it is listed, take it out otherwise, and record the
    change for every process's snapshot (idempotent; call after any change of a listing)."""
    await _ready_async()
    row = await Listing.select(*_DOC_COLUMNS).where(Listing.id == listing_id).first()
    listed = row is not None and row["status"] == ListingStatus.LISTED.value
    doc = document(row) if listed else None
    backend = _backend()
    async with db.atomic():
        if listed:
            await backend.write([(listing_id, *doc)])
        else:
            await backend.delete(listing_id)
        await _log(listing_id)
    invalidate()
    _view_cache.forget([listing_id])


async def reindex_all(*, batch_size: int = 2000) -> int:
    """Rebuild the index from every listed listing, in batches (searches keep working meanwhile);
    returns how many were indexed."""
    await _ready_async()
    backend = _backend()
    last, total = 0, 0
    while True:
        rows = await (Listing.select(*_DOC_COLUMNS)
                      .where((Listing.status == ListingStatus.LISTED.value) & (Listing.id > last))
                      .order_by(Listing.id).limit(batch_size))
        if not rows:
            break
        docs = await asyncio.to_thread(lambda: [(r["id"], *document(r)) for r in rows])
        async with db.atomic():
            await backend.write(docs)
        last, total = rows[-1]["id"], total + len(rows)
    async with db.atomic():
        await backend.prune()
        await _log(0)
    invalidate()
    return total


async def clear_index() -> None:
    """Empty the index and make every process rebuild its snapshot (tests; a rebuild from scratch)."""
    global _snapshot
    async with db.atomic():
        await _backend().clear()
        await _log(0)
    _snapshot = None
    invalidate()
    _view_cache.clear()


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
    snap = await _fresh_snapshot()
    if key in _answers:
        return _answers[key]

    async def run():
        value = await compute(snap)
        if _snapshot is snap:  # not superseded while computing
            if len(_answers) >= CACHE_ENTRIES:
                for old in list(_answers)[: CACHE_ENTRIES // 10]:
                    _answers.pop(old, None)
            _answers[key] = value
        return value

    return await _single_flight(key, run)


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
    return await _answer(key, lambda snap: _search(snap, q, filters, sort, page, page_size))


async def _search(snap: _Snapshot, q: str, filters: dict, sort: str, page: int, page_size: int) -> dict:
    await _ready_async()
    query = Query(q)
    selected = snap.filter(**filters)
    parts, match, missing, nearest = [selected], None, [], []
    async with _read_session():
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
        sc = match_scenario(q) if q else None
        if sc is not None:
            scenario_bundle = await _bundle(snap, sc)
    total = selected.bit_count()
    return {"items": items, "total": total, "page": page, "page_size": page_size,
            "pages": (total + page_size - 1) // page_size, "facets": snap.facets(selected),
            "query": {"terms": query.terms, "expanded": query.expanded, "missing": missing},
            "match": match, "nearest": nearest, "scenario": scenario_bundle}


async def _words(snap: _Snapshot, query: Query) -> list[_search_rank.Word]:
    """Each query term's masks (as typed / through expansions, anywhere / in the title) and weight.
    A term no listing holds is asked again through 词林 (its words join the query's `expanded`)."""
    backend = _backend()
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
    _search_rank.weigh(words, len(snap.attrs), _is_cjk)
    return words


async def _masks(wanted: list, listed: int) -> list[int]:
    """The mask of listed listings matching each expression (None: none), from the cache or the index
    (one statement for all that are not cached)."""
    known = {e: _text_masks[e] for e in wanted if e is not None and e in _text_masks}
    missing = list(dict.fromkeys(e for e in wanted if e is not None and e not in known))
    for expression, ids in zip(missing, await _match(missing)):
        if len(_text_masks) >= CACHE_ENTRIES // 4:
            del _text_masks[next(iter(_text_masks))]
        _text_masks[expression] = known[expression] = _mask(ids)
    return [known[e] & listed if e is not None else 0 for e in wanted]


async def fresh_changes() -> None:
    """Catch up with other processes' listing changes (the log, at most every REFRESH_SECONDS); the
    listing view cache is invalidated on the way."""
    await _fresh_snapshot()


async def category_counts() -> dict[str, int]:
    """Listed listings per category path, as stored (the catalogue page sums them up the tree)."""
    snap = await _fresh_snapshot()
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
            items.append({**r, "tags": [str(t) for t in _json_list(r["tags"])],
                          "data_updated_at": updated.isoformat() if isinstance(updated, datetime) else updated or None})
    return items


# ---- scenarios ---------------------------------------------------------------------------


async def scenario(q: str) -> dict | None:
    """The scenario bundle a query names ("我要开小卖部"): each need with its top listings, or None."""
    sc = match_scenario(q or "")
    if sc is None:
        return None
    snap = await _fresh_snapshot()
    async with _read_session():
        return await _bundle(snap, sc)


async def _bundle(snap: _Snapshot, sc: dict) -> dict:
    """A scenario's bundle, recomputed at most every SCENARIO_SECONDS for changes made in other processes
    (it is a recommendation, and costs ~40 ms); listings taken off sale since are left out at once."""
    hit = _bundles.get(sc["name"])
    if hit is None or hit[0] < time.monotonic():
        bundle = await _single_flight(("scenario", sc["name"]), lambda: _compute_scenario(snap, sc))
        _bundles[sc["name"]] = hit = (time.monotonic() + SCENARIO_SECONDS, bundle)
    bundle = hit[1]
    return {**bundle, "needs": [{**need, "listings": [i for i in need["listings"] if i["id"] in snap.attrs]}
                                for need in bundle["needs"]]}


async def _compute_scenario(snap: _Snapshot, sc: dict) -> dict:
    """Top listings per need. A need's phrases are alternatives and already name the words wanted (no
    synonyms); the words of one phrase must all match (零售门店 is not 零售). Listings whose
    title matches come first, then by quality; the whole text is searched only for needs that lack them."""
    await _ready_async()
    backend = _backend()
    trees = []
    for need in sc["needs"]:
        phrases = [query.tree() for query in (Query(p, literal=True) for p in need["query"].split()) if query]
        trees.append(_or(phrases) if phrases else None)
    asked = [n for n, tree in enumerate(trees) if tree is not None]
    tops: list[list[int]] = [[] for _ in trees]
    async with _read_session():
        for n, ids in zip(asked, await _match([backend.expression(trees[n], title=True) for n in asked])):
            tops[n] = snap.best(ids, "quality", SCENARIO_ITEMS)
        short = [n for n in asked if len(tops[n]) < SCENARIO_ITEMS]
        for n, ids in zip(short, await _match([backend.expression(trees[n]) for n in short])):
            chosen = set(tops[n])
            tops[n] += snap.best([i for i in ids if i not in chosen], "quality", SCENARIO_ITEMS - len(tops[n]))
        items = {it["id"]: it for it in await _items(sorted({i for top in tops for i in top}))}
    return {"name": sc["name"], "title": sc["title"],
            "needs": [{"need": need["need"], "query": need["query"], "listings": [items[i] for i in top if i in items]}
                      for need, top in zip(sc["needs"], tops)]}
