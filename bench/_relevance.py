"""The search relevance set: queries a person types on the demo catalogue and the listings they expect.

Shared by bench/search.py (every case, printed next to the latency figures) and
tests/listings/test_search_relevance.py (the cases marked `test`, asserting the floors).

    cases = load_cases()                       # or load_cases(test_only=True)
    figures = await evaluate(cases)            # runs listings.search.search() per case

A case is a hit when one of the first three items is a listing it expects (by title; the product tier's
title adds （数据产品）). The zero-result rate is the share of cases with no matching item at all (a
"nearest" answer shows suggestions but matched nothing). Cases of kind `absent` ask for data the
catalogue lacks: they count only in `absent_said_so` (the answer said match = nearest).
"""

from __future__ import annotations

import json
from pathlib import Path

CASES = Path(__file__).resolve().parent / "search_relevance.json"
PRODUCT_SUFFIX = "（数据产品）"


def load_cases(*, test_only: bool = False) -> list[dict]:
    data = json.loads(CASES.read_text(encoding="utf-8"))
    return [c for c in data["cases"] if c.get("test") or not test_only]


def floors() -> dict:
    return json.loads(CASES.read_text(encoding="utf-8"))["floors"]


def _title(item: dict) -> str:
    return item["title"].removesuffix(PRODUCT_SUFFIX)


async def evaluate(cases: list[dict]) -> dict:
    """Run every case through search() and return the rates and the misses."""
    from listings import search

    hits, zero, misses, absent, absent_ok = 0, 0, [], 0, 0
    for case in cases:
        result = await search.search(q=case["q"])
        top = [_title(i) for i in result["items"][:3]]
        if case["kind"] == "absent":
            absent += 1
            if result.get("match") == case.get("expect_match", "nearest"):
                absent_ok += 1
            else:
                misses.append({"q": case["q"], "match": result.get("match"), "top": top})
            continue
        if not result["items"]:
            zero += 1
        if set(top) & set(case["expect"]):
            hits += 1
        else:
            misses.append({"q": case["q"], "match": result.get("match"), "top": top, "expect": case["expect"]})
    counted = len(cases) - absent
    return {"relevance_queries": counted, "top3_hit_rate": round(hits / counted, 3) if counted else None,
            "zero_result_rate": round(zero / counted, 3) if counted else None,
            "absent_queries": absent, "absent_said_so": absent_ok, "misses": misses}


async def load_demo_catalogue(settings) -> None:
    """The demo catalogue, built as `market demo` builds it (upload, profile, catalogue, list)."""
    from market import demo

    await demo.load(settings)
