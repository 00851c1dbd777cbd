"""The knobs of search: freshness, cache sizes, sorts, facets, page sizes, and the character classes
and stop words of segmentation."""

from __future__ import annotations

import re
from pathlib import Path


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
