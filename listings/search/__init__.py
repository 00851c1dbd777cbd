"""Chinese search over listed listings, like searching goods in a shop.

Documents. A listing's title, and separately its summary, column names, tags, holder and category, are
segmented by jieba in search mode; every Chinese word also carries its pinyin without tones and its
initials (医保 → yibao, yb), so a buyer may type either. The space-joined tokens are indexed by SQLite
FTS5 (`listing_fts`, rowid = listing id) or by a PostgreSQL tsvector under a GIN index
(`listing_search`, title words weighted A); both come from a hand-written migration, and `_engines` holds
the only engine-specific code. Only listed listings are indexed.

Queries. A query is segmented the same way, less the words of a question put as a sentence (我想查一下,
有多少). Each word is asked as typed and through its expansions (`_thesaurus`: data/synonyms.json, the
category tree's names, and 同义词词林 for a word no listing holds); the text index only answers "which ids
match" (and "which match in the title"), as one comma-joined string per question. `_rank` weighs the
words (IDF × rarity in the catalogue), ranks title above summary and typed above expanded, and says how
well the query matched: `match` is exact, expanded (`query.missing` names the words no match holds) or
nearest (no match; `nearest` holds the closest listings).

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

Private modules: `_constants`, `_tokens` (segmentation, pinyin, synonyms, scenarios), `_query`, `_engines`
(`_SQLite` / `_Postgres`, the only engine-specific code), `_snapshots` (the snapshot and indexing),
`_answers` (the per-process answer cache), `_search`, `_scenarios`, `_thesaurus`, `_rank`. They refer to
each other as modules (`_snapshots._fresh_snapshot()`), so state a module reassigns is always read fresh.
"""

from __future__ import annotations

from listings.search import _snapshots  # noqa: F401  (tests reach the snapshot and the log through it)
from listings.search._answers import forget_answers  # noqa: F401
from listings.search._constants import MAX_PAGE_SIZE, PRICES, REFRESH_SECONDS, SORTS  # noqa: F401
from listings.search._query import Query  # noqa: F401
from listings.search._scenarios import scenario  # noqa: F401
from listings.search._search import category_counts, fresh_changes, search  # noqa: F401
from listings.search._snapshots import clear_index, index_listing, invalidate, reindex_all  # noqa: F401
from listings.search._tokens import document, match_scenario, warm_up  # noqa: F401
