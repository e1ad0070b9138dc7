"""Search-quality measurement: queries with the items that must be in the top 3 (tests and bench)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from yiwang_gateway.search.engine import SearchIndex


@dataclass
class QualityCase:
    kind: str
    query: str
    expected: list[str]


@dataclass
class QualityReport:
    total: int
    hits: int
    misses: list[tuple[QualityCase, list[str]]]

    @property
    def hit_rate(self) -> float:
        return self.hits / self.total if self.total else 0.0


def load_cases(path: Path) -> list[QualityCase]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, query, expected = line.split("\t")
        cases.append(QualityCase(kind, query, expected.split("|")))
    return cases


def evaluate(index: SearchIndex, cases: list[QualityCase], top: int = 3) -> QualityReport:
    """A case hits when every expected item name is among the first ``top`` results."""
    misses = []
    for case in cases:
        names = [h.document.name for h in index.search(case.query, limit=top).hits]
        if not all(e in names for e in case.expected):
            misses.append((case, names))
    return QualityReport(len(cases), len(cases) - len(misses), misses)
