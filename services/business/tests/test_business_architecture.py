"""Architecture of the business package: queries only in repositories, no cycles between its packages."""

from __future__ import annotations

from pathlib import Path

import grimp

import yiwang_business
from yiwang_common.testing.architecture import find_queries_outside_repositories

PACKAGE_DIR = Path(yiwang_business.__file__).parent


def test_queries_live_only_in_repositories() -> None:
    assert find_queries_outside_repositories(PACKAGE_DIR) == []


def _package_cycles(graph: grimp.ImportGraph, root: str) -> list[list[str]]:
    """Cycles between the direct children of ``root``, each child counted with its descendants."""
    children = sorted(graph.find_children(root))
    edges = {
        a: {
            b
            for b in children
            if a != b and graph.direct_import_exists(importer=a, imported=b, as_packages=True)
        }
        for a in children
    }
    cycles: list[list[str]] = []
    for start in children:
        # Depth-first from each child, reporting a path back to it; a cycle is listed from its
        # smallest member only, so each appears once.
        stack: list[tuple[str, list[str]]] = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in sorted(edges[node]):
                if nxt == start:
                    cycles.append(path)
                elif nxt > start and nxt not in path:
                    stack.append((nxt, [*path, nxt]))
    return cycles


def test_no_import_cycles_between_business_packages() -> None:
    # The "acyclic_siblings" lint contract sees cycles between the modules of one domain package;
    # this one sees cycles between the packages themselves (task ↔ decision, task ↔ licence).
    graph = grimp.build_graph("yiwang_business", "yiwang_common")
    assert _package_cycles(graph, "yiwang_business") == []
