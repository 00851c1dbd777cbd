"""Chinese search over listed listings, like searching goods in a shop.

A listing's document is its title (twice, so a title match weighs more in bm25 / ts_rank), summary,
column names, tags, holder and category, segmented by jieba in search mode. Every Chinese word also
carries its pinyin without tones and its initials (医保 → yibao, yb), so a buyer may type either. The
document is stored as space-joined tokens and indexed by SQLite FTS5 (`listing_fts`, rowid = listing
id) or by a PostgreSQL tsvector with a GIN index (`listing_search`); both are created by a hand-written
migration, and `_SQLite` / `_Postgres` below hide the difference. Only listed listings are indexed:
`index_listing` runs after every status change.

A query is segmented the same way; each word must match (AND), through itself or any synonym from
data/synonyms.json (OR). One statement returns the page's ids and every facet over the filtered
matches; a second fetches the page's rows. Answers are cached per process for CACHE_SECONDS: a change
made in this process shows at once, one made in another process within that time.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import re
import threading
import time
import unicodedata
from pathlib import Path
from typing import Any

from listings.tables import DeliveryMode, Listing, ListingStatus, Tier
from market import db
from market.errors import DomainError

DATA = Path(__file__).resolve().parent / "data"
CACHE_SECONDS = 5.0  # how long another process's listing change may take to show in this one
CACHE_ENTRIES = 2000
SORTS = ("relevance", "quality", "freshness", "price_asc", "price_desc")
PRICES = ("free", "paid")
MAX_PAGE_SIZE = 100
UPDATE_CYCLES = ("realtime", "daily", "weekly", "monthly", "quarterly", "half_yearly", "yearly", "other")
GRADES = ("general", "important", "core")
QUALITY_BUCKETS = (("90+", 90, None), ("75-89", 75, 90), ("60-74", 60, 75), ("<60", None, 60))
FACET_LIMIT = 20  # holders and categories shown per facet; the small fixed facets are shown whole
SCENARIO_ITEMS = 3

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(f"[{_CJK}]+|[0-9a-z]+")
# single characters that carry no meaning on their own in a catalogue entry
_INDEX_STOPWORDS = frozenset("的了和与及或等之其在对为是由于按各个并且以")
# words a buyer types around what they want ("我要找医保的数据"); "数据" is every listing's noun
_QUERY_STOPWORDS = frozenset({
    "我", "我要", "我想", "想要", "想", "要", "需要", "如何", "怎么", "怎样", "哪里", "哪些", "什么", "一下", "有",
    "找", "查找", "查询", "搜索", "关于", "相关", "数据", "资料", "开", "办", "做", "个", "家", "一家", "一个",
    *_INDEX_STOPWORDS})
_FTS_OPERATORS = frozenset({"and", "or", "not", "near"})

log = logging.getLogger(__name__)

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
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        words = {w for group in _synonym_groups() for w in group}
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
    """Load the segmenter and pinyin tables now (call at start-up), and build the index if it is empty
    while listings are on sale (a fresh migration of an existing database)."""
    await _ready_async()
    await asyncio.to_thread(_pinyin, "医保")
    if await _backend().count() == 0 and await Listing.exists().where(Listing.status == ListingStatus.LISTED.value):
        await reindex_all()


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


def document(row: dict) -> str:
    """The space-joined tokens indexed for a listing row."""
    _ensure_ready()
    columns = [c.get("name", "") if isinstance(c, dict) else str(c) for c in _json_list(row.get("columns"))]
    texts = [row.get("title", ""), row.get("title", ""), row.get("summary", ""), *columns,
             *(str(t) for t in _json_list(row.get("tags"))), row.get("holder_name", ""), row.get("category_path", "")]
    return " ".join(tok for text in texts for run in _runs(text) for tok in _run_tokens(run))


# ---- synonyms and scenarios --------------------------------------------------------------


@functools.cache
def _synonym_groups() -> tuple[tuple[str, ...], ...]:
    raw = json.loads((DATA / "synonyms.json").read_text(encoding="utf-8"))
    return tuple(tuple(w.strip().lower() for w in g["words"] if w.strip()) for g in raw["groups"])


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
    """A parsed query: its terms, their synonyms, and the tree an index can match."""

    def __init__(self, q: str) -> None:
        _ensure_ready()
        self.terms: list[str] = []
        for run in _runs(q):
            for word in (_tokenizer.lcut(run) if _is_cjk(run) else [run]):
                if word not in _QUERY_STOPWORDS and word not in _FTS_OPERATORS and word not in self.terms:
                    self.terms.append(word)
        self.expanded: dict[str, list[str]] = {}
        self.nodes: list[Node] = []
        for term in self.terms:
            synonyms = list(_synonyms().get(term, ()))
            if synonyms:
                self.expanded[term] = synonyms
            alts = [self._word(term, synonyms)]
            parts = _parts(term) if _is_cjk(term) and len(term) >= 3 else []
            if len(parts) > 1:
                # the compound may be segmented differently inside a listing's text: its parts, each
                # with its own synonyms, also match (企业信用 → (企业|法人|…) & (信用|征信|…))
                alts.append(_and([self._word(p, list(_synonyms().get(p, ()))) for p in parts]))
            self.nodes.append(_or(alts))

    @staticmethod
    def _word(word: str, synonyms: list[str]) -> Node:
        cjk = _is_cjk(word)
        # a lone character or a partly typed pinyin matches as a prefix: 药 → 药店, yib → yibao
        prefix = (cjk and len(word) == 1) or (not cjk and len(word) >= 3 and not word.isdigit())
        alts = [("t", word, prefix)]
        for syn in synonyms:
            runs = _runs(syn)
            if runs:
                alts.append(_and([("t", r, False) for r in runs]))
        return _or(alts)

    def tree(self) -> Node:
        """Every term must match."""
        return _and(self.nodes)

    def __bool__(self) -> bool:
        return bool(self.nodes)


# ---- the two backends --------------------------------------------------------------------


class _SQLite:
    match = "SELECT rowid AS id, -bm25(listing_fts) AS score FROM listing_fts WHERE listing_fts MATCH {}"
    category_top = ("CASE WHEN instr(l.category_path, ' > ') > 0 "
                    "THEN substr(l.category_path, 1, instr(l.category_path, ' > ') - 1) ELSE l.category_path END")

    @classmethod
    def expression(cls, node: Node) -> str:
        """FTS5 syntax with every token quoted, so nothing the buyer types is read as an operator."""
        if node[0] == "t":
            return '"' + node[1].replace('"', '""') + '"' + ("*" if node[2] else "")
        return "(" + (" AND " if node[0] == "&" else " OR ").join(cls.expression(n) for n in node[1]) + ")"

    async def write(self, docs: list[tuple[int, str]]) -> None:
        for i in range(0, len(docs), 400):
            chunk = docs[i:i + 400]
            ids = [d[0] for d in chunk]
            await Listing.raw(f"DELETE FROM listing_fts WHERE rowid IN ({', '.join('{}' for _ in ids)})", *ids)
            await Listing.raw("INSERT INTO listing_fts(rowid, tokens) VALUES "
                              + ", ".join("({}, {})" for _ in chunk), *(v for d in chunk for v in d))

    async def delete(self, listing_id: int) -> None:
        await Listing.raw("DELETE FROM listing_fts WHERE rowid = {}", listing_id)

    async def prune(self) -> None:
        await Listing.raw("DELETE FROM listing_fts WHERE rowid NOT IN "
                          "(SELECT id FROM listing WHERE status = {})", ListingStatus.LISTED.value)

    async def clear(self) -> None:
        await Listing.raw("DELETE FROM listing_fts")

    async def count(self) -> int:
        return (await Listing.raw("SELECT count(*) AS n FROM listing_fts"))[0]["n"]


class _Postgres:
    match = ("SELECT s.listing_id AS id, ts_rank(s.tsv, tq.q) AS score "
             "FROM listing_search s, to_tsquery('simple', {}) AS tq(q) WHERE s.tsv @@ tq.q")
    category_top = "split_part(l.category_path, ' > ', 1)"

    @classmethod
    def expression(cls, node: Node) -> str:
        """tsquery syntax with every lexeme quoted."""
        if node[0] == "t":
            return "'" + node[1].replace("\\", "\\\\").replace("'", "''") + "'" + (":*" if node[2] else "")
        return "(" + (" & " if node[0] == "&" else " | ").join(cls.expression(n) for n in node[1]) + ")"

    async def write(self, docs: list[tuple[int, str]]) -> None:
        for i in range(0, len(docs), 1000):
            chunk = docs[i:i + 1000]
            await Listing.raw("INSERT INTO listing_search (listing_id, tokens) "
                              "SELECT * FROM unnest({}::integer[], {}::text[]) "
                              "ON CONFLICT (listing_id) DO UPDATE SET tokens = EXCLUDED.tokens",
                              [d[0] for d in chunk], [d[1] for d in chunk])

    async def delete(self, listing_id: int) -> None:
        await Listing.raw("DELETE FROM listing_search WHERE listing_id = {}", listing_id)

    async def prune(self) -> None:
        await Listing.raw("DELETE FROM listing_search s WHERE NOT EXISTS (SELECT 1 FROM listing l "
                          "WHERE l.id = s.listing_id AND l.status = {})", ListingStatus.LISTED.value)

    async def clear(self) -> None:
        await Listing.raw("DELETE FROM listing_search")

    async def count(self) -> int:
        return (await Listing.raw("SELECT count(*) AS n FROM listing_search"))[0]["n"]


def _backend() -> _SQLite | _Postgres:
    return _SQLite() if db.is_sqlite() else _Postgres()


def _read_session():
    """SQLite: run a search's statements on one connection (Piccolo opens one per statement otherwise)
    in a deferred, read-only transaction that takes no write lock. PostgreSQL: the pool is enough."""
    eng = db.engine()
    if db.is_sqlite() and not eng.transaction_exists():
        from piccolo.engine.sqlite import TransactionType

        return eng.transaction(transaction_type=TransactionType.deferred)
    return contextlib.nullcontext()


# ---- indexing ----------------------------------------------------------------------------

_DOC_COLUMNS = (Listing.id, Listing.status, Listing.title, Listing.summary, Listing.columns, Listing.tags,
                Listing.holder_name, Listing.category_path)


async def index_listing(listing_id: int) -> None:
    """Put a listing's document in the index if it is listed, take it out otherwise (idempotent)."""
    await _ready_async()
    row = await Listing.select(*_DOC_COLUMNS).where(Listing.id == listing_id).first()
    backend = _backend()
    async with db.atomic():
        if row is not None and row["status"] == ListingStatus.LISTED.value:
            await backend.write([(listing_id, document(row))])
        else:
            await backend.delete(listing_id)
    invalidate()


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
        docs = await asyncio.to_thread(lambda: [(r["id"], document(r)) for r in rows])
        async with db.atomic():
            await backend.write(docs)
        last, total = rows[-1]["id"], total + len(rows)
    async with db.atomic():
        await backend.prune()
    invalidate()
    return total


async def clear_index() -> None:
    """Empty the index (tests; a rebuild from scratch is `clear_index()` then `reindex_all()`)."""
    await _backend().clear()
    invalidate()


# ---- the answer cache --------------------------------------------------------------------

_cache: dict[tuple, tuple[float, Any]] = {}
_inflight: dict[tuple, asyncio.Future] = {}
_generation = 0


def invalidate() -> None:
    """Forget every cached answer (the index or the listings changed)."""
    global _generation
    _generation += 1
    _cache.clear()


async def _cached(key: tuple, compute) -> Any:
    """The cached answer for `key`, or compute it once however many requests ask at the same time."""
    hit = _cache.get(key)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    loop = asyncio.get_running_loop()
    pending = _inflight.get(key)
    if pending is not None and pending.get_loop() is loop:
        return await asyncio.shield(pending)
    future = loop.create_future()
    _inflight[key] = future
    generation = _generation
    try:
        value = await compute()
    except BaseException as exc:
        if isinstance(exc, asyncio.CancelledError):
            future.cancel()
        else:
            future.set_exception(exc)
            future.exception()  # waiters re-raise it; mark it retrieved for the lone caller
        raise
    finally:
        if _inflight.get(key) is future:
            del _inflight[key]
    if generation == _generation:  # a change arrived while computing: don't keep the stale answer
        if len(_cache) >= CACHE_ENTRIES:
            for old in list(_cache)[: CACHE_ENTRIES // 10]:
                _cache.pop(old, None)
        _cache[key] = (time.monotonic() + CACHE_SECONDS, value)
    future.set_result(value)
    return value


# ---- search ------------------------------------------------------------------------------

_ITEM_COLUMNS = ("id", "title", "tier", "summary", "holder_name", "category_path", "quality_score",
                 "min_price_fen", "update_cycle", "grade", "delivery_mode", "data_updated_at",
                 "registration_code", "tags")
_ORDER = {
    "relevance": "score DESC, quality DESC, fresh DESC NULLS LAST, id DESC",
    "quality": "quality DESC, score DESC, id DESC",
    "freshness": "fresh DESC NULLS LAST, quality DESC, id DESC",
    "price_asc": "price ASC, quality DESC, id DESC",
    "price_desc": "price DESC, quality DESC, id DESC",
}


def _quality_case(column: str) -> str:
    parts = []
    for label, low, high in QUALITY_BUCKETS:
        cond = " AND ".join(c for c in (f"{column} >= {low}" if low is not None else "",
                                        f"{column} < {high}" if high is not None else "") if c)
        parts.append(f"WHEN {cond} THEN '{label}'")
    return "CASE " + " ".join(parts) + " END"


def _filters(*, tier, category, holder_id, price, price_min_fen, price_max_fen, update_cycle, quality_min,
             grade, delivery_mode) -> tuple[list[str], list]:
    where, args = ["l.status = {}"], [ListingStatus.LISTED.value]
    for column, value in (("tier", tier), ("update_cycle", update_cycle), ("grade", grade),
                          ("delivery_mode", delivery_mode)):
        if value:
            where.append(f"l.{column} = {{}}")
            args.append(value)
    if category:
        where.append("l.category_path LIKE {} ESCAPE '\\'")
        args.append(re.sub(r"([\\%_])", r"\\\1", category) + "%")
    if holder_id is not None:
        where.append("l.holder = {}")
        args.append(holder_id)
    if price == "free":
        where.append("l.min_price_fen = 0")
    elif price == "paid":
        where.append("l.min_price_fen > 0")
    if price_min_fen is not None:
        where.append("l.min_price_fen >= {}")
        args.append(price_min_fen)
    if price_max_fen is not None:
        where.append("l.min_price_fen <= {}")
        args.append(price_max_fen)
    if quality_min is not None:
        where.append("l.quality_score >= {}")
        args.append(quality_min)
    return where, args


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
    return await _cached(key, lambda: _search(q, filters, sort, page, page_size))


async def _search(q: str, filters: dict, sort: str, page: int, page_size: int) -> dict:
    await _ready_async()
    query = Query(q)
    backend = _backend()
    where, args = _filters(**filters)
    if query:
        source = f"m JOIN listing l ON l.id = m.id WHERE {' AND '.join(where)}"
        prefix, args = f"m AS MATERIALIZED ({backend.match}), ", [backend.expression(query.tree()), *args]
        score = "m.score"
    else:
        source, prefix, score = f"listing l WHERE {' AND '.join(where)}", "", "0"
    order = _ORDER["quality" if sort == "relevance" and not query else sort]
    facet = "SELECT * FROM (SELECT '{k}' AS k, {v} AS v, count(*) AS n, {x} AS x FROM f GROUP BY {g} {tail}) AS {k}"
    sql = (
        f"WITH {prefix}f AS MATERIALIZED (SELECT l.id AS id, {score} AS score, l.tier AS tier, "
        f"l.update_cycle AS cycle, l.grade AS grade, l.delivery_mode AS delivery, l.min_price_fen AS price, "
        f"l.quality_score AS quality, l.data_updated_at AS fresh, l.holder AS holder, "
        f"l.holder_name AS holder_name, {backend.category_top} AS cat FROM {source}) "
        f"SELECT 'page' AS k, CAST(NULL AS TEXT) AS v, id AS n, rn AS x FROM (SELECT id, row_number() OVER (ORDER BY {order}) AS rn "
        f"FROM f ORDER BY {order} LIMIT {{}} OFFSET {{}}) AS p"
    )
    args += [page_size, (page - 1) * page_size]
    tail = f"ORDER BY n DESC, v LIMIT {FACET_LIMIT}"
    none = "CAST(NULL AS BIGINT)"  # typed: PostgreSQL reads an untyped NULL in a subquery as text
    for k, v, x, g, t in (("tier", "tier", none, "tier", ""), ("update_cycle", "cycle", none, "cycle", ""),
                          ("grade", "grade", none, "grade", ""), ("delivery_mode", "delivery", none, "delivery", ""),
                          ("price", "CASE WHEN price = 0 THEN 'free' ELSE 'paid' END", none, "2", ""),
                          ("quality", _quality_case("quality"), none, "2", ""),
                          ("category", "cat", none, "cat", tail), ("holder", "holder_name", "holder", "holder, holder_name", tail)):
        sql += " UNION ALL " + facet.format(k=k, v=v, x=x, g=g, tail=t)
    async with _read_session():
        rows = await Listing.raw(sql, *args)
        page_ids = [r["n"] for r in sorted((r for r in rows if r["k"] == "page"), key=lambda r: r["x"])]
        items = await _items(page_ids)
        scenario_bundle = await _scenario_bundle(match_scenario(q)) if q else None
    facets: dict[str, list] = {k: [] for k in ("tier", "category", "holder", "update_cycle", "grade",
                                                "delivery_mode", "price", "quality")}
    for r in rows:
        if r["k"] == "holder":
            facets["holder"].append([r["v"], r["n"], r["x"]])
        elif r["k"] != "page":
            facets[r["k"]].append([r["v"], r["n"]])
    for k in ("tier", "update_cycle", "grade", "delivery_mode"):
        facets[k].sort(key=lambda p: (-p[1], str(p[0])))
    counts = dict((v, n) for v, n in facets["price"])
    facets["price"] = [[p, counts.get(p, 0)] for p in PRICES]
    counts = dict((v, n) for v, n in facets["quality"])
    facets["quality"] = [[b[0], counts.get(b[0], 0)] for b in QUALITY_BUCKETS]
    total = sum(n for _v, n in facets["tier"])
    return {"items": items, "total": total, "page": page, "page_size": page_size,
            "pages": (total + page_size - 1) // page_size, "facets": facets,
            "query": {"terms": query.terms, "expanded": query.expanded}, "scenario": scenario_bundle}


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
            items.append({**r, "tags": [str(t) for t in _json_list(r["tags"])],
                          "data_updated_at": _iso(r["data_updated_at"])})
    return items


def _iso(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value or None
    return value.isoformat()


# ---- scenarios ---------------------------------------------------------------------------


async def scenario(q: str) -> dict | None:
    """The scenario bundle a query names ("我要开小卖部"): each need with its top listings, or None."""
    sc = match_scenario(q or "")
    if sc is None:
        return None
    async with _read_session():
        return await _scenario_bundle(sc)


async def _scenario_bundle(sc: dict | None) -> dict | None:
    if sc is None:
        return None
    return await _cached(("scenario", sc["name"]), lambda: _compute_scenario(sc))


async def _compute_scenario(sc: dict) -> dict:
    """Top listings per need, in one statement, ranked by relevance."""
    await _ready_async()
    backend = _backend()
    parts, args, needs = [], [], []
    for i, need in enumerate(sc["needs"]):
        needs.append(need)
        # the need's phrases are alternatives; the words of one phrase must all match (零售门店 ≠ 零售)
        phrases = [query.tree() for query in map(Query, need["query"].split()) if query]
        if not phrases:
            continue
        parts.append(f"SELECT * FROM (SELECT {i} AS need, m.id AS id, m.score AS score FROM ({backend.match}) AS m "
                     f"JOIN listing l ON l.id = m.id WHERE l.status = {{}} "
                     f"ORDER BY m.score DESC, l.quality_score DESC, l.id DESC LIMIT {SCENARIO_ITEMS}) AS n{i}")
        args += [backend.expression(_or(phrases)), ListingStatus.LISTED.value]
    rows = await Listing.raw(" UNION ALL ".join(parts), *args) if parts else []
    by_need: dict[int, list[int]] = {}
    for r in rows:
        by_need.setdefault(r["need"], []).append(r["id"])
    items = {it["id"]: it for it in await _items(sorted({r["id"] for r in rows}))}
    return {"name": sc["name"], "title": sc["title"],
            "needs": [{"need": need["need"], "query": need["query"],
                       "listings": [items[i] for i in by_need.get(n, []) if i in items]}
                      for n, need in enumerate(needs)]}
