"""Search relevance over the demo catalogue, so it cannot rot: the `test` cases of
bench/search_relevance.json (queries a person types, with the listings they expect on top) must keep
the floors that bench/search.py reports over every case. The catalogue is built as `market demo`
builds it (generated tables uploaded, profiled, catalogued and listed), once, in one test."""

from __future__ import annotations

from bench import _relevance
from listings import search


async def test_demo_catalogue_relevance_keeps_its_floors(settings):
    await _relevance.load_demo_catalogue(settings)
    search.invalidate()
    cases = _relevance.load_cases(test_only=True)
    assert len([c for c in cases if c["kind"] != "absent"]) >= 25
    figures = await _relevance.evaluate(cases)
    floors = _relevance.floors()
    report = f"{figures}"
    assert figures["top3_hit_rate"] >= floors["top3_hit_rate"], report
    assert figures["zero_result_rate"] <= floors["zero_result_rate"], report
    assert figures["absent_said_so"] == figures["absent_queries"] > 0, report
