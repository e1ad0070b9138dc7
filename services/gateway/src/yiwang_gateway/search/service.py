"""Use cases of search: build the index at start-up, follow the catalogue, answer queries."""

from __future__ import annotations

import gc
import logging
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_gateway.search.analysis import Analyzer
from yiwang_gateway.search.dictionary import load_dictionary
from yiwang_gateway.search.documents import document_from_item
from yiwang_gateway.search.engine import (
    Facet,
    Filters,
    RegionScope,
    SearchIndex,
    highlight_with,
    terms_pattern,
)
from yiwang_gateway.search.errors import BadQuery, SearchNotReady
from yiwang_gateway.search.repository import SearchRepository
from yiwang_gateway.search.schemas import SearchResponse

log = logging.getLogger(__name__)

OBJECTS = {
    "自然人": "natural",
    "natural": "natural",
    "natural_person": "natural",
    "法人": "legal",
    "legal": "legal",
    "legal_person": "legal",
}
#: The index's 服务对象 codes as the API and the pages spell them.
OBJECT_PARAMS = {"natural": "natural_person", "legal": "legal_person"}
LEVELS = {
    "省级": "province",
    "市级": "city",
    "县级": "county",
    "province": "province",
    "city": "city",
    "county": "county",
}


def check_query(q: str) -> str:
    """Control characters (C0, C1, DEL, format marks) are refused, not silently stripped."""
    # isprintable() is false for every Cc and Cf character (and a few others, checked one by one).
    if not q.isprintable() and any(unicodedata.category(c) in ("Cc", "Cf") for c in q):
        raise BadQuery("检索词包含控制字符")
    return q.strip()


class SearchService:
    """One index per process, owned by the event loop."""

    def __init__(self) -> None:
        self.index: SearchIndex | None = None
        # Loading jieba's dictionary costs about a second: one analyzer per dictionary file per process.
        self._analyzers: dict[Path | None, Analyzer] = {}
        # Answers by (query, filters, page): a portal's queries repeat heavily (the home page's
        # themes, the same few popular items). Valid only for the index generation they came from,
        # so any publication or withdrawal empties it. 0 turns it off.
        self.cache_size = 1024
        self._cache: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
        self._cache_of: tuple[int, int] = (0, -1)

    def new_index(self, dictionary_path: Path | None = None) -> SearchIndex:
        analyzer = self._analyzers.get(dictionary_path)
        if analyzer is None:
            analyzer = self._analyzers[dictionary_path] = Analyzer(load_dictionary(dictionary_path))
        return SearchIndex(analyzer)

    async def build(
        self, sessionmaker: async_sessionmaker[AsyncSession], dictionary_path: Path | None
    ) -> SearchIndex:
        """Index every catalogue row; the new index replaces the old one only when complete."""
        start = time.perf_counter()
        index = self.new_index(dictionary_path)
        async with sessionmaker() as session:
            async for rows in SearchRepository.from_session(session).batches():
                index.add_many(document_from_item(r) for r in rows)
        self.index = index
        # The index is long-lived and acyclic: keep its millions of objects out of every later
        # garbage collection (a full collection over them cost ~10 ms pauses at 100k items).
        gc.collect()
        gc.freeze()
        log.info(
            "search index built",
            extra={
                "items": len(index),
                "seconds": round(time.perf_counter() - start, 3),
                "bytes": index.memory_bytes(),
            },
        )
        return index

    async def on_item_changed(self, session: AsyncSession, item_code: str) -> None:
        """Re-read the row as this unit of work leaves it; index it once the transaction commits."""
        item = await SearchRepository.from_session(session).get(item_code)
        if item is None:
            return
        doc = document_from_item(item)

        def apply(_session: Any) -> None:
            if self.index is not None:
                self.index.add(doc)

        event.listen(session.sync_session, "after_commit", apply, once=True)

    def on_item_withdrawn(self, session: AsyncSession, item_code: str) -> None:
        """事项撤回: out of the index once the transaction commits (for the withdrawn event to come)."""

        def apply(_session: Any) -> None:
            if self.index is not None:
                self.index.remove(item_code)

        event.listen(session.sync_session, "after_commit", apply, once=True)

    def search(
        self,
        *,
        q: str,
        themes: list[str],
        departments: list[str],
        levels: list[str],
        objects: list[str],
        events: list[str],
        region: str | None,
        region_scope: RegionScope,
        limit: int,
        offset: int,
        facets: Sequence[Facet] = (),
    ) -> SearchResponse:
        """The answer as a model (the portal's pages); the API sends :meth:`search_json`."""
        body = self.answer(
            q=q,
            themes=themes,
            departments=departments,
            levels=levels,
            objects=objects,
            events=events,
            region=region,
            region_scope=region_scope,
            limit=limit,
            offset=offset,
            facets=facets,
        )
        return SearchResponse.model_validate(body)

    def search_json(self, **params: Any) -> bytes:
        """The answer as the API's JSON body (``SearchResponse``), serialised once by orjson."""
        return orjson.dumps(self.answer(**params))

    def answer(
        self,
        *,
        q: str,
        themes: list[str],
        departments: list[str],
        levels: list[str],
        objects: list[str],
        events: list[str],
        region: str | None,
        region_scope: RegionScope,
        limit: int,
        offset: int,
        facets: Sequence[Facet] = (),
    ) -> dict[str, Any]:
        """The answer with the fields and shape of ``SearchResponse``, as plain JSON values.

        Built straight from the documents' payloads (already the API's values, made once when the
        item was indexed) instead of validating a model per hit: the fields are pinned to the
        model by the API tests, which validate every answer against it.
        """
        if self.index is None:
            raise SearchNotReady("检索索引尚未就绪, 请稍后重试")
        q = check_query(q)
        start = time.perf_counter()
        key = (
            q,
            *(tuple(v) for v in (themes, departments, levels, objects, events, facets)),
            region,
            region_scope,
            limit,
            offset,
        )
        state = (self.index.serial, self.index.generation)
        if state != self._cache_of:
            self._cache.clear()
            self._cache_of = state
        elif (cached := self._cache.get(key)) is not None:
            self._cache.move_to_end(key)
            return cached | {"took_ms": round((time.perf_counter() - start) * 1000, 3)}
        filters = Filters(
            themes=themes,
            departments=departments,
            levels=[LEVELS[v] for v in levels],
            objects=[OBJECTS[v] for v in objects],
            events=events,
            region=region,
            region_scope=region_scope,
        )
        result = self.index.search(q, filters, limit=limit, offset=offset, facets=facets)
        pattern = terms_pattern(result.query.highlight_terms)
        hits = []
        # A page often holds one 目录 item in several regions: the same name and guide text,
        # highlighted once for this answer.
        marked: dict[tuple[str, int], str] = {}
        for hit in result.hits:
            p = hit.document.payload
            name, source = p["fields"]["name"], p["snippet_source"]
            # The matchable forms were made at indexing (documents.py; None: the text itself).
            if (name_highlight := marked.get((name, 200))) is None:
                name_highlight = marked[name, 200] = highlight_with(
                    pattern, name, width=200, lowered=p["name_lowered"] or name
                )
            if (snippet := marked.get((source, 60))) is None:
                snippet = marked[source, 60] = highlight_with(
                    pattern, source, lowered=p["snippet_lowered"] or source
                )
            hits.append(
                p["fields"]
                | {"name_highlight": name_highlight, "snippet": snippet, "score": round(hit.score, 4)}
            )
        body: dict[str, Any] = {
            "query": q,
            "total": result.total,
            "limit": limit,
            "offset": offset,
            "took_ms": round((time.perf_counter() - start) * 1000, 3),
            "interpreted_as": [
                {"concept": c.label, "terms": sorted(t[2:] for t in c.tokens if t.startswith("w:"))}
                for c in result.query.concepts
            ],
            "items": hits,
            "facets": {
                name: {OBJECT_PARAMS.get(v, v) if name == "object" else v: c for v, c in counts.items()}
                for name, counts in result.facets.items()
            },
        }
        if self.cache_size > 0:
            self._cache[key] = body
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return body


search_service = SearchService()
