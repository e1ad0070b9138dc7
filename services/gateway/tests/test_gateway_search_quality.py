"""检索质量: ≥ 95 % of the real-style queries find their items in the top 3 of the demo catalogue."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from yiwang_gateway.search.demo import demo_items
from yiwang_gateway.search.documents import document_from_event
from yiwang_gateway.search.quality import evaluate, load_cases
from yiwang_gateway.search.service import search_service

QUERIES = Path(__file__).parent / "search_data" / "quality_queries.tsv"


def test_demo_catalogue_is_realistic() -> None:
    items = demo_items()
    assert len(items) >= 80
    assert {i.region_code for i in items} == {"530000", "530400", "530428"}
    assert len({i.implementing_org.name for i in items}) >= 25


def test_hit_rate_top3_is_at_least_95_percent() -> None:
    cases = load_cases(QUERIES)
    kinds = Counter(c.kind for c in cases)
    assert len(cases) >= 60 and set(kinds) == {
        "colloquial",
        "abbreviation",
        "pinyin",
        "initials",
        "typo",
        "partial",
    }
    index = search_service.new_index()
    index.add_many(document_from_event(d) for d in demo_items())
    names = {i.name for i in demo_items()}
    assert all(e in names for c in cases for e in c.expected), "a case names an item not in the catalogue"
    report = evaluate(index, cases)
    misses = "\n".join(f"{c.kind} {c.query}: want {c.expected}, got {got}" for c, got in report.misses)
    print(f"search quality: {report.hits}/{report.total} = {report.hit_rate:.1%} in top 3")
    assert report.hit_rate >= 0.95, misses
