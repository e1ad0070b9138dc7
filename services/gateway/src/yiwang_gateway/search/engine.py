"""In-process search index (检索引擎): BM25F over words, character bigrams and fuzzy pinyin.

No FastAPI, no SQLAlchemy: documents in, ranked hits out. One document is added, replaced or removed
in well under a millisecond (its tokens are appended to array-backed postings; a removed document is
a tombstone until the next compaction), so an ``item.published`` is searchable as soon as the
handler's transaction commits. Scoring runs vectorised in numpy over the postings of the query's
tokens. Why in-process and not PostgreSQL full text: docs/adr/0015-search-engine.md.
"""

from __future__ import annotations

import html
import itertools
import math
import re
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

# level_of is re-exported: the index's callers read levels off region codes too.
from yiwang_gateway.catalogue.elements import Level, level_of as level_of
from yiwang_gateway.search.analysis import (
    Analyzer,
    char_bigrams,
    fuzzy,
    initials_trigrams,
    is_han,
    pinyin_bigrams,
    pinyin_key,
    pinyin_of,
    query_runs,
    split_pinyin,
)
from yiwang_gateway.search.dictionary import normalise

RegionScope = Literal["self", "up", "down"]
Facet = Literal["object", "theme", "department", "level", "event"]
#: The dimensions the index counts (分面统计): 服务对象, 主题, 实施部门, 行使层级, 人生事件.
FACETS: tuple[Facet, ...] = ("object", "theme", "department", "level", "event")

# Field weights (name > aliases/keywords > department/themes > guide text) and BM25F length
# normalisation per field; k1 saturates repeated terms, short names barely need length damping.
FIELDS: dict[str, tuple[float, float]] = {
    "name": (3.0, 0.5),
    "alias": (2.0, 0.5),
    "meta": (1.0, 0.5),
    "text": (0.3, 0.75),
}
K1 = 1.2
#: Most bytes of query-side copies of postings (numpy lists, impacts, dense rows): ~48 MB.
NP_CACHE_BYTES = 48_000_000
#: A token found in at least one slot in DENSE is scored as a dense row (see :meth:`SearchIndex._scored`).
DENSE = 8
#: Scores sampled to find the floor of a page's best (see :func:`top`).
SAMPLE = 1024
# Query-side weights of the kinds of evidence for one concept.
W_WORD, W_SUBWORD, W_SYNONYM, W_CORRECTION, W_BIGRAM, W_PINYIN, W_INITIALS = (
    1.0,
    0.5,
    0.8,
    0.7,
    0.35,
    0.3,
    0.6,
)


_SERIALS = itertools.count(1)
# Kinds of what one token adds to a concept's sums (SearchIndex._evidence).
ROW, LISTED, AT = 0, 1, 2
#: A scored token's cache entry: weight, live count, then what :meth:`SearchIndex._scored` returns.
_Scored = tuple[float, int, "npt.NDArray[np.intp] | None", "npt.NDArray[np.float32]", np.float32]


def region_ancestors(region_code: str) -> list[str]:
    """The code and the codes above it (county → city → province)."""
    out = [region_code]
    if not region_code.endswith("00"):
        out.append(region_code[:4] + "00")
    if not region_code.endswith("0000"):
        out.append(region_code[:2] + "0000")
    return out


@dataclass(frozen=True)
class SearchDocument:
    """One 实施清单 entry as the index sees it; ``payload`` travels back untouched in hits."""

    id: str
    name: str
    region_code: str
    department: str = ""
    department_code: str = ""
    aliases: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    objects: tuple[str, ...] = ()  # "natural" 自然人 and/or "legal" 法人
    item_type: str = ""
    text: str = ""
    payload: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def level(self) -> Level:
        return level_of(self.region_code)


@dataclass
class Filters:
    """Combinable filters; every set one must hold (AND), values inside one are alternatives (OR)."""

    themes: Sequence[str] = ()
    departments: Sequence[str] = ()
    levels: Sequence[str] = ()
    objects: Sequence[str] = ()
    events: Sequence[str] = ()
    region: str | None = None
    region_scope: RegionScope = "up"

    def token_groups(self) -> list[tuple[str, list[str]]]:
        """Per dimension (the facet names, and ``region``), the filter tokens any of which a hit must have."""
        groups: list[tuple[str, list[str]]] = [
            ("theme", [f"f:theme:{normalise(v)}" for v in self.themes]),
            ("department", [f"f:dept:{normalise(v)}" for v in self.departments]),
            ("level", [f"f:level:{v}" for v in self.levels]),
            ("object", [f"f:obj:{v}" for v in self.objects]),
            ("event", [f"f:event:{normalise(v)}" for v in self.events]),
        ]
        if self.region:
            code = self.region
            if self.region_scope == "self":
                groups.append(("region", [f"f:r:{code}"]))
            elif self.region_scope == "up":
                groups.append(("region", [f"f:r:{c}" for c in region_ancestors(code)]))
            else:
                level = level_of(code)
                prefix = code[:2] if level == "province" else code[:4] if level == "city" else code
                groups.append(("region", [f"f:rp:{prefix}" if level != "county" else f"f:r:{code}"]))
        return [(name, tokens) for name, tokens in groups if tokens]


class FacetColumn:
    """One facet dimension's values per slot: a vocabulary and a slots × width matrix of its ids.

    Counting is a gather of the candidates' rows and one ``bincount``: its cost follows the
    candidate set, not the catalogue (a query matching 40 items counts 40 rows).
    """

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self.labels: list[str] = []
        self._rows: npt.NDArray[np.int32] = np.full((1024, 1), -1, dtype=np.int32)

    def set(self, slot: int, values: Iterable[tuple[str, str]]) -> None:
        """``values`` are (key, label) pairs; the first label seen for a key is the one shown."""
        ids = sorted({self._ids.setdefault(key, len(self._ids)) for key, _ in values})
        for key, label in values:
            if self._ids[key] == len(self.labels):
                self.labels.append(label)
        rows = self._rows
        if slot >= rows.shape[0] or len(ids) > rows.shape[1]:
            grown = np.full((max(rows.shape[0], (slot + 1) * 2), max(rows.shape[1], len(ids))), -1, np.int32)
            grown[: rows.shape[0], : rows.shape[1]] = rows
            self._rows = rows = grown
        rows[slot] = -1
        rows[slot, : len(ids)] = ids

    def compact(self, alive: npt.NDArray[np.bool_], capacity: int) -> None:
        kept = self._rows[: alive.size][alive]
        self._rows = np.full((capacity, self._rows.shape[1]), -1, dtype=np.int32)
        self._rows[: kept.shape[0]] = kept

    def count(self, slots: npt.NDArray[np.intp]) -> dict[str, int]:
        ids = self._rows[slots].ravel()
        counts = np.bincount(ids[ids >= 0], minlength=len(self.labels))
        return {self.labels[i]: int(counts[i]) for i in np.flatnonzero(counts)}


@dataclass
class Concept:
    """One thing the citizen asked for, with every token that counts as evidence of it."""

    label: str
    tokens: dict[str, float] = field(default_factory=dict)

    def add(self, token: str, weight: float) -> None:
        if weight > self.tokens.get(token, 0.0):
            self.tokens[token] = weight


@dataclass
class ParsedQuery:
    concepts: list[Concept]
    highlight_terms: list[str]


@dataclass
class Hit:
    document: SearchDocument
    score: float


@dataclass
class SearchResult:
    total: int
    hits: list[Hit]
    query: ParsedQuery
    #: Per requested facet, value → how many matches it would leave (its own selection ignored).
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


class SearchIndex:
    """The index; single-threaded by design (the event loop owns it)."""

    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer
        self._postings: dict[str, tuple[array[int], array[float]]] = {}
        self._docs: list[SearchDocument | None] = []
        # Field lengths per slot, so removal needs no re-analysis (and documents drop their text).
        self._lengths: list[tuple[int, ...]] = []
        self._slot: dict[str, int] = {}
        self._alive: npt.NDArray[np.bool_] = np.zeros(1024, dtype=bool)
        self._field_len_sum: Counter[str] = Counter()
        self._facets: dict[str, FacetColumn] = {name: FacetColumn() for name in FACETS}
        self._dead = 0
        # Query-side copies of postings: intp ids (numpy's fancy indexing converts int32 ids on
        # every use, which cost as much as the scatter itself) and float32 saturated tfs (a view
        # would pin the array('f') and forbid appends). Made on first use, dropped when the token's
        # postings grow; bounded, because a catalogue's every token need not sit there twice.
        self._np: dict[str, tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]] = {}
        # Frequent tokens' saturated tfs as dense rows over the slots (0 where absent), see :meth:`_scored`.
        self._dense: dict[str, npt.NDArray[np.float32]] = {}
        # Per scored token, what the last (query weight, live count) it was scored with gave
        # (see :meth:`_scored`). Dropped with the token's copies.
        self._impacts: dict[str, _Scored] = {}
        self._np_bytes = 0
        # Scratch row for a dense token's products (the event loop owns the index: one query at a time).
        self._scratch: npt.NDArray[np.float32] = np.empty(0, dtype=np.float32)
        # Dense masks of the large filter groups (a level, a 服务对象, a province), for this generation.
        self._masks: dict[tuple[str, ...], npt.NDArray[np.bool_]] = {}
        self._masks_of = -1
        # Bumped by every change, so a cached answer can tell it was given by an older index.
        self.generation = 0
        # Unique in the process: an id() is reused once an index is freed (a rebuilt index could
        # then pass for the one a cached answer came from, at the same generation).
        self.serial = next(_SERIALS)
        # Fuzzy pinyin of every known word → the words: typed pinyin and homophone typos land here.
        self._by_pinyin: dict[str, set[str]] = {}
        # The same with one syllable blanked: one wrong character of a ≥3-character word.
        self._by_pinyin_wild: dict[str, set[str]] = {}
        self._by_initials: dict[str, set[str]] = {}
        for term in analyzer.dictionary.synonyms:
            self._learn(term)

    # ---------------------------------------------------------------- maintenance
    def __len__(self) -> int:
        return len(self._slot)

    def __contains__(self, doc_id: str) -> bool:
        return doc_id in self._slot

    def get(self, doc_id: str) -> SearchDocument | None:
        slot = self._slot.get(doc_id)
        return None if slot is None else self._docs[slot]

    def add(self, doc: SearchDocument) -> None:
        """Add, or replace the document with the same id."""
        self.add_many([doc])

    def add_many(self, docs: Iterable[SearchDocument]) -> None:
        """Add many at once: field length averages are taken over the batch before weighting."""
        analysed = []
        for doc in docs:
            if doc.id in self._slot:
                self.remove(doc.id)
            fields = self._fields(doc)
            for name, tokens in fields.items():
                self._field_len_sum[name] += len(tokens)
            analysed.append((doc, fields))
        n = max(len(self._slot) + len(analysed), 1)
        averages = {f: max(self._field_len_sum[f] / n, 1.0) for f in FIELDS}
        for doc, fields in analysed:
            self._insert(doc, fields, averages)
        self.generation += 1

    def remove(self, doc_id: str) -> bool:
        """Remove a document (事项撤回); False when it was not indexed."""
        slot = self._slot.pop(doc_id, None)
        if slot is None:
            return False
        for name, length in zip(FIELDS, self._lengths[slot], strict=True):
            self._field_len_sum[name] -= length
        self._docs[slot] = None
        self._alive[slot] = False
        self._dead += 1
        self.generation += 1
        if self._dead > 1000 and self._dead > len(self._docs) // 4:
            self.compact()
        return True

    def compact(self) -> None:
        """Drop tombstones: renumber the live slots and rewrite every posting list."""
        old = len(self._docs)
        alive = self._alive[:old]
        new_slot = np.cumsum(alive, dtype=np.int64) - 1
        for token, (ids, tfs) in list(self._postings.items()):
            a = np.frombuffer(ids, dtype=np.int32)
            keep = alive[a]
            if not keep.any():
                del self._postings[token]
                continue
            self._postings[token] = (
                array("i", new_slot[a[keep]].astype(np.int32).tobytes()),
                array("f", np.frombuffer(tfs, dtype=np.float32)[keep].tobytes()),
            )
        self._lengths = [n for d, n in zip(self._docs, self._lengths, strict=True) if d is not None]
        live = [d for d in self._docs if d is not None]
        self._docs = list(live)
        self._slot = {d.id: i for i, d in enumerate(live)}
        self._alive = np.zeros(max(1024, len(self._docs) * 2), dtype=bool)
        self._alive[: len(self._docs)] = True
        for column in self._facets.values():
            column.compact(alive, self._alive.size)
        self._dead = 0
        self._forget_all()

    def _fields(self, doc: SearchDocument) -> dict[str, list[str]]:
        a = self.analyzer
        alias_tokens = [t for alias in doc.aliases for t in a.name_tokens(alias)]
        meta = [doc.department, doc.item_type, *doc.themes, *doc.events]
        return {
            "name": a.name_tokens(doc.name),
            "alias": alias_tokens,
            "meta": [t for m in meta if m for t in a.meta_tokens(m)],
            "text": a.text_tokens(doc.text) if doc.text else [],
        }

    def _filter_tokens(self, doc: SearchDocument) -> set[str]:
        code = doc.region_code
        tokens = {f"f:r:{code}", f"f:rp:{code[:2]}", f"f:rp:{code[:4]}", f"f:level:{doc.level}"}
        tokens.update(f"f:theme:{normalise(t)}" for t in doc.themes)
        tokens.update(f"f:event:{normalise(e)}" for e in doc.events)
        tokens.update(f"f:obj:{o}" for o in doc.objects)
        tokens.update(f"f:dept:{normalise(d)}" for d in (doc.department, doc.department_code) if d)
        return tokens

    @staticmethod
    def _facet_values(doc: SearchDocument) -> dict[str, list[tuple[str, str]]]:
        """(key, label) per facet; keys are what the filters match (normalised like their tokens)."""
        return {
            "object": [(o, o) for o in doc.objects],
            "theme": [(normalise(t), t) for t in doc.themes],
            "department": [(normalise(doc.department), doc.department)] if doc.department else [],
            "level": [(doc.level, doc.level)],
            "event": [(normalise(e), e) for e in doc.events],
        }

    def _insert(self, doc: SearchDocument, fields: dict[str, list[str]], averages: dict[str, float]) -> None:
        slot = len(self._docs)
        self._docs.append(replace(doc, text="") if doc.text else doc)
        self._lengths.append(tuple(len(fields[name]) for name in FIELDS))
        self._slot[doc.id] = slot
        if slot >= len(self._alive):
            grown = np.zeros(len(self._alive) * 2, dtype=bool)
            grown[: len(self._alive)] = self._alive
            self._alive = grown
        self._alive[slot] = True
        for name, values in self._facet_values(doc).items():
            self._facets[name].set(slot, values)
        weights: dict[str, float] = defaultdict(float)
        for name, tokens in fields.items():
            if not tokens:
                continue
            w, b = FIELDS[name]
            norm = 1 - b + b * len(tokens) / averages[name]
            for token, tf in Counter(tokens).items():
                weights[token] += w * tf / norm
        for token in self._filter_tokens(doc):
            weights[token] = 1.0
        for token, wtf in weights.items():
            if token in self._impacts or token in self._np or token in self._dense:
                self._forget(token)
            postings = self._postings.get(token)
            if postings is None:
                postings = self._postings[token] = (array("i"), array("f"))
            postings[0].append(slot)
            # Stored saturated (BM25's tf / (tf + k1)): a query then only scales and adds it.
            postings[1].append(wtf / (wtf + K1))
        for text in (doc.name, *doc.aliases):
            for word in self.analyzer.words(text):
                self._learn(word)

    def _learn(self, word: str) -> None:
        if not is_han(word) or len(word) < 2:
            return
        syls = pinyin_of(word)
        if len(syls) != len(word):
            return
        key = pinyin_key(syls)
        self._by_pinyin.setdefault(key, set()).add(word)
        self._by_initials.setdefault("".join(s[0] for s in syls), set()).add(word)
        if len(syls) >= 3:
            parts = key.split(" ")
            for k in range(len(parts)):
                self._by_pinyin_wild.setdefault(" ".join([*parts[:k], "*", *parts[k + 1 :]]), set()).add(word)

    def memory_bytes(self) -> int:
        """Bytes held by postings and per-document arrays (documents' own strings not counted)."""
        total = self._alive.nbytes
        for ids, tfs in self._postings.values():
            total += ids.itemsize * len(ids) + tfs.itemsize * len(tfs) + 64 * 2
        return total

    # ---------------------------------------------------------------- queries
    def _df(self, token: str) -> int:
        postings = self._postings.get(token)
        return 0 if postings is None else len(postings[0])

    def _word_concept(self, word: str, label: str | None = None, base: float = W_WORD) -> Concept:
        concept = Concept(label or word)
        concept.add(f"w:{word}", base)
        for sub in self.analyzer.words(word):
            if sub != word:
                concept.add(f"w:{sub}", base * W_SUBWORD)
        for expansion in self.analyzer.dictionary.synonyms.get(word, []):
            concept.add(f"w:{expansion}", base * W_SYNONYM)
            for sub in self.analyzer.words(expansion):
                if sub != expansion:
                    concept.add(f"w:{sub}", base * W_SYNONYM * W_SUBWORD)
        return concept

    def _corrections(self, syls: Sequence[str]) -> list[str]:
        """Known words whose fuzzy pinyin matches ``syls`` exactly, else with one syllable off."""
        return self._known([fuzzy(s) for s in syls])

    def _known(self, parts: list[str]) -> list[str]:
        """:meth:`_corrections` of syllables already folded by ``fuzzy``."""
        found = self._by_pinyin.get(" ".join(parts))
        if found:
            return sorted(found, key=self._df, reverse=True)[:3]
        if len(parts) >= 3:
            near: set[str] = set()
            wild = self._by_pinyin_wild
            for k in range(len(parts)):
                near |= wild.get(" ".join([*parts[:k], "*", *parts[k + 1 :]]), set())
            return sorted(near, key=self._df, reverse=True)[:3]
        return []

    def _spell(self, syls: Sequence[str]) -> list[tuple[int, int, list[str]]]:
        """Greedy longest spans (≥ 2 syllables) of ``syls`` that spell known words."""
        spans = []
        folded = [fuzzy(s) for s in syls]  # once, not once per span tried
        i = 0
        while i < len(syls):
            for j in range(min(len(syls), i + 8), i + 1, -1):
                words = self._known(folded[i:j])
                if words:
                    spans.append((i, j, words))
                    i = j
                    break
            else:
                i += 1
        return spans

    def parse(self, q: str) -> ParsedQuery:
        """Turn the citizen's words into concepts (see the module doc of analysis for token kinds)."""
        stop = self.analyzer.dictionary.stopwords
        synonyms = self.analyzer.dictionary.synonyms
        concepts: list[Concept] = []
        terms: list[str] = []
        for run in query_runs(q):
            if run.isdigit():
                concepts.append(Concept(run, {f"w:{run}": W_WORD}))
                continue
            if not is_han(run):
                concepts.extend(self._latin(run, terms))
                continue
            segments: list[str] = []
            current = ""
            for tok in self.analyzer.cut(run):
                if tok in stop:
                    # A one-character stop word inside a typed word (架驶证换证) must not cut it in two.
                    if len(tok) == 1 and current:
                        current += tok
                    else:
                        segments.append(current)
                        current = ""
                    continue
                current += tok
                if len(tok) > 1 or tok in synonyms:
                    concept = self._word_concept(tok)
                    if self._df(f"w:{tok}") == 0 and tok not in synonyms and len(tok) > 1:
                        for word in self._corrections(pinyin_of(tok)):
                            self._meaning(concept, word, terms, W_CORRECTION)
                    concepts.append(concept)
                    terms.append(tok)
                    terms.extend(synonyms.get(tok, []))
            segments.append(current)
            for segment in segments:
                segment = segment.rstrip(self.analyzer.stop_chars)
                if len(segment) < 2:
                    continue
                surface = Concept(f"~{segment}")
                for token in char_bigrams(segment):
                    surface.add(token, W_BIGRAM)
                syls = pinyin_of(segment)
                for token in pinyin_bigrams(syls):
                    surface.add(token, W_PINYIN)
                for _, _, words in self._spell(syls):
                    for word in words:
                        if word not in segment:
                            self._meaning(surface, word, terms, W_CORRECTION)
                concepts.append(surface)
        return ParsedQuery(concepts, sorted(set(terms), key=len, reverse=True))

    def _meaning(self, concept: Concept, word: str, terms: list[str], base: float) -> None:
        """``word`` joins ``concept`` at ``base`` weight with what it means (its sub-words and its
        dictionary expansions), and its terms are highlighted: a word spelt in pinyin, or a known
        word a typo likely meant (社宝 → 社保, which stands for 社会保险 as when typed right)."""
        for token, weight in self._word_concept(word, base=base).tokens.items():
            concept.add(token, weight)
        terms.append(word)
        terms.extend(self.analyzer.dictionary.synonyms.get(word, []))

    def _latin(self, run: str, terms: list[str]) -> list[Concept]:
        if run in self.analyzer.dictionary.synonyms:  # ktv, app: Latin words of the dictionary
            terms.extend([run, *self.analyzer.dictionary.synonyms[run]])
            return [self._word_concept(run)]
        syls = split_pinyin(run)
        if syls and len(syls) >= 2:
            concepts = []
            for _, _, words in self._spell(syls):
                concept = Concept(run)
                for word in words:
                    self._meaning(concept, word, terms, W_WORD)
                concepts.append(concept)
            surface = Concept(f"~{run}")
            for token in pinyin_bigrams(syls):
                surface.add(token, W_PINYIN * 2)
            concepts.append(surface)
            return concepts
        concept = Concept(run)
        # Pinyin initials have few vowels (a syllable starts with one only in 安, 爱, 二 …): a
        # Latin word with two or more (passport, office) is a word, never initials whose stray
        # trigram would rank an unrelated item.
        if len(run) >= 3 and sum(run.count(v) for v in "aeiou") < 2:
            for token in initials_trigrams(run):
                concept.add(token, W_INITIALS)
        for word in self._by_initials.get(run, set()):
            if word in self.analyzer.dictionary.synonyms:
                for token, weight in self._word_concept(word, base=W_CORRECTION).tokens.items():
                    concept.add(token, weight)
                terms.append(word)
        if not concept.tokens:
            concept.add(f"w:{run}", W_WORD)
        return [concept]

    def _arrays(self, token: str) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]] | None:
        """The token's postings as numpy arrays (ids ascending, tombstones included)."""
        got = self._np.get(token)
        if got is None:
            postings = self._postings.get(token)
            if postings is None:
                return None
            ids, tfs = postings
            got = (
                np.frombuffer(ids, dtype=np.int32).astype(np.intp),
                np.frombuffer(tfs, dtype=np.float32).copy(),
            )
            self._reserve(got[0].nbytes + got[1].nbytes)
            self._np[token] = got
        return got

    def _scored(
        self, token: str, weight: float, live: int
    ) -> tuple[npt.NDArray[np.intp] | None, npt.NDArray[np.float32], np.float32] | None:
        """What scoring ``token`` at query weight ``weight`` adds per slot, or None (no postings).

        Either ``(ids, impacts, coef)``: its slots and their impacts (saturated tf × coef, coef =
        weight × idf × (k1 + 1), float32); or, for a token found in at least one slot in
        :data:`DENSE`, ``(None, row, coef)``: its saturated tfs as a dense row over the slots,
        0 where absent, whose products with coef are its impacts (a pass over the row is several
        times cheaper than a scatter of that many entries, and the row is no larger than the
        list's copies). Adding a 0 product leaves a sum as it is, so both give the same float32
        sums. Kept per token for the last (weight, live count): a token's weight is one of a few
        constants and the live count moves only with the index, so a query usually finds the
        product made.
        """
        got = self._impacts.get(token)
        if got is not None and got[0] == weight and got[1] == live:
            return got[2], got[3], got[4]
        postings = self._postings.get(token)
        if postings is None:
            return None
        size = len(postings[0])
        # Tombstones still sit in the postings until compaction; never count more than live.
        df = min(size, live)
        idf = math.log(1 + (live - df + 0.5) / (df + 0.5))
        coef = np.float32(weight * idf * (K1 + 1))
        row = self._dense.get(token)
        if row is None and size * DENSE >= len(self._docs):
            ids32 = np.frombuffer(postings[0], dtype=np.int32)
            row = np.zeros(int(ids32[-1]) + 1, dtype=np.float32)
            row[ids32] = np.frombuffer(postings[1], dtype=np.float32)
            self._reserve(row.nbytes)
            self._dense[token] = row
        if row is not None:
            entry: _Scored = (weight, live, None, row, coef)
        else:
            arrays = self._arrays(token)
            assert arrays is not None
            impact: npt.NDArray[np.float32] = arrays[1] * coef
            if token not in self._impacts:  # else it replaces impacts of the same size
                self._reserve(impact.nbytes)
            entry = (weight, live, arrays[0], impact, coef)
        self._impacts[token] = entry
        return entry[2], entry[3], entry[4]

    def _reserve(self, nbytes: int) -> None:
        """Count ``nbytes`` more of query-side copies; all are dropped once they would pass the bound."""
        if self._np_bytes + nbytes > NP_CACHE_BYTES:
            self._forget_all()
        self._np_bytes += nbytes

    def _forget(self, token: str) -> None:
        """Drop the token's query-side copies (its postings are about to change)."""
        arrays = self._np.pop(token, None)
        if arrays is not None:
            self._np_bytes -= arrays[0].nbytes + arrays[1].nbytes
        row = self._dense.pop(token, None)
        if row is not None:
            self._np_bytes -= row.nbytes
        entry = self._impacts.pop(token, None)
        if entry is not None and entry[2] is not None:
            self._np_bytes -= entry[3].nbytes

    def _forget_all(self) -> None:
        self._np.clear()
        self._dense.clear()
        self._impacts.clear()
        self._np_bytes = 0

    def _product(self, row: npt.NDArray[np.float32], coef: np.float32) -> npt.NDArray[np.float32]:
        """``row × coef`` in the scratch row (valid until the next call)."""
        if self._scratch.size < row.size:
            self._scratch = np.empty(max(row.size, 2 * self._scratch.size), dtype=np.float32)
        out = self._scratch[: row.size]
        np.multiply(row, coef, out=out)
        return out

    def _groups(self, filters: Filters | None) -> list[tuple[str, tuple[str, ...], npt.NDArray[np.intp]]]:
        """Per filter dimension: its name, its tokens and the ascending slots it allows."""
        out = []
        for name, tokens in filters.token_groups() if filters else []:
            lists = [a[0] for token in tokens if (a := self._arrays(token)) is not None]
            if not lists:
                slots: npt.NDArray[np.intp] = np.empty(0, dtype=np.intp)
            elif len(lists) == 1:
                slots = lists[0]
            else:
                # A region's scope (county, city, province) is disjoint lists: a sort is their
                # union; overlapping ones (two themes) also drop their repeats.
                slots = np.sort(np.concatenate(lists))
                if slots.size > 1 and (slots[1:] == slots[:-1]).any():
                    slots = np.unique(slots)
            out.append((name, tuple(tokens), slots))
        return out

    def _mask(self, key: tuple[str, ...], slots: npt.NDArray[np.intp], n: int) -> npt.NDArray[np.bool_]:
        """Dense mask of ``slots``; a large group's (a level, a 服务对象) is kept for this generation."""
        if self._masks_of != self.generation:
            self._masks.clear()
            self._masks_of = self.generation
        mask = self._masks.get(key)
        if mask is None:
            mask = np.zeros(n, dtype=bool)
            mask[slots] = True
            if slots.size * 16 >= n:
                if len(self._masks) >= 64:
                    self._masks.clear()
                self._masks[key] = mask
        return mask

    def _inside(
        self, slots: npt.NDArray[np.intp], key: tuple[str, ...], allowed: npt.NDArray[np.intp], n: int
    ) -> npt.NDArray[np.bool_]:
        """Which of the ascending ``slots`` are among the ascending ``allowed``."""
        if allowed.size * 16 >= n:
            inside: npt.NDArray[np.bool_] = self._mask(key, allowed, n)[slots]
            return inside
        if allowed.size == 0:
            return np.zeros(slots.size, dtype=bool)
        pos = allowed.searchsorted(slots)
        np.minimum(pos, allowed.size - 1, out=pos)
        found: npt.NDArray[np.bool_] = allowed[pos] == slots
        return found

    def _evidence(
        self, parsed: ParsedQuery, universe: npt.NDArray[np.intp] | None, n: int
    ) -> tuple[
        npt.NDArray[np.float32], npt.NDArray[np.unsignedinteger[Any]], npt.NDArray[np.unsignedinteger[Any]]
    ]:
        """Per slot (of ``universe``, else of the whole index): the summed BM25F score and how
        many word and surface concepts it matches (combined into half units by the caller, for
        the matches only rather than for every slot).

        A slot's numbers are the same whichever set it is scored in (idf is the index's), so a
        filtered query scored over its few allowed slots ranks exactly as over the whole index.
        """
        live = max(len(self._slot), 1)
        size = n if universe is None else universe.size
        total: npt.NDArray[np.float32] | None = None
        # Concepts matched per slot, words and surface evidence apart (small counts, not floats).
        wide = len(parsed.concepts) >= 128  # 2 × words + surface must fit
        words: npt.NDArray[np.unsignedinteger[Any]] = np.zeros(size, dtype=np.uint16 if wide else np.uint8)
        surface: npt.NDArray[np.unsignedinteger[Any]] = np.zeros(size, dtype=words.dtype)
        position: npt.NDArray[np.int32] | None = None
        for concept in parsed.concepts:
            # What each token adds, in the concept's order (the order of the float32 sums):
            # ROW (dense row, coef), LISTED (its slots, impacts) or, with a universe, AT
            # (positions in the universe, impacts).
            parts: list[tuple[int, Any, Any]] = []
            read = 0
            for token, weight in concept.tokens.items():
                scored = self._scored(token, weight, live)
                if scored is None:
                    continue
                ids, values, coef = scored
                if ids is None:
                    parts.append((ROW, values, coef))
                elif universe is not None and universe.size * 16 <= ids.size:
                    # Few slots asked of a long list: look each up (binary search) instead of reading it.
                    pos = ids.searchsorted(universe)
                    np.minimum(pos, ids.size - 1, out=pos)
                    at = np.flatnonzero(ids[pos] == universe)
                    parts.append((AT, at, values[pos[at]]))
                else:
                    parts.append((LISTED, ids, values))
                    read += ids.size
            if not parts:
                continue
            # Surface evidence (bigrams, pinyin) is only partial coverage of what was asked.
            counter = surface if concept.label.startswith("~") else words
            if universe is not None and read * 32 < n:
                # Over the universe's positions; short lists mapped there (cheaper than a pass
                # over every slot).
                if read:
                    if position is None:
                        position = np.full(n, -1, dtype=np.int32)
                        position[universe] = np.arange(universe.size, dtype=np.int32)
                    for k, (kind, ids, values) in enumerate(parts):
                        if kind == LISTED:
                            where = position[ids]
                            keep = where >= 0
                            parts[k] = (AT, where[keep].astype(np.intp), values[keep])
                if len(parts) == 1 and parts[0][0] == AT and parts[0][1].size * 8 < size:
                    total = _add_sparse(total, size, counter, parts[0][1], parts[0][2])
                    continue
                score = np.zeros(size, dtype=np.float32)
                for kind, a, b in parts:
                    if kind == ROW:
                        cut = int(universe.searchsorted(a.size))  # the universe's slots the row covers
                        score[:cut] += a[universe[:cut]] * b
                    else:
                        np.add.at(score, a, b)
            elif (
                universe is None and len(parts) == 1 and parts[0][0] == LISTED and parts[0][1].size * 8 < size
            ):
                total = _add_sparse(total, size, counter, parts[0][1], parts[0][2])
                continue
            else:
                # Over every slot (with a universe: long lists read whole, the concept summed
                # over every slot in the same order, so to the same float32 sums, and the
                # universe's read off afterwards; one pass per list where mapping it to universe
                # positions took several).
                score = self._spread(parts, n, universe)
                if universe is not None:
                    score = score[universe]
            if total is None:
                total = score  # 0 + x is x: the first concept's sums are the totals so far
            else:
                total += score
            np.add(counter, np.greater(score, 0).view(np.uint8), out=counter)
        return (np.zeros(size, dtype=np.float32) if total is None else total), words, surface

    def _spread(
        self, parts: list[tuple[int, Any, Any]], n: int, universe: npt.NDArray[np.intp] | None
    ) -> npt.NDArray[np.float32]:
        """One concept's summed impacts over every slot, token after token in the concept's order."""
        score: npt.NDArray[np.float32] | None = None
        for kind, a, b in parts:
            if kind == ROW:
                if score is None:
                    # The first token's products are the sums so far (0 + x is x).
                    score = np.empty(n, dtype=np.float32)
                    np.multiply(a, b, out=score[: a.size])
                    score[a.size :] = 0
                else:
                    # A row stops at its last slot (slots added since are not the token's).
                    score[: a.size] += self._product(a, b)
                continue
            if score is None:
                score = np.zeros(n, dtype=np.float32)
            if kind == AT:
                assert universe is not None
                a = universe[a]
            # Postings hold each slot once, so add.at is a plain scatter-add (and numpy's fastest).
            np.add.at(score, a, b)
        assert score is not None
        return score

    @staticmethod
    def _share_table(parsed: ParsedQuery) -> npt.NDArray[np.float32]:
        """``((1 + matched) / (1 + coverage))²`` per matched half-count, in float32 exactly as a
        dense pass makes it (increasing: its last entry bounds every share)."""
        surface = sum(1 for c in parsed.concepts if c.label.startswith("~"))
        return _share_table(len(parsed.concepts), surface)

    def search(
        self,
        q: str,
        filters: Filters | None = None,
        *,
        limit: int = 10,
        offset: int = 0,
        facets: Sequence[str] = (),
    ) -> SearchResult:
        """Ranked hits for ``q`` among the documents the filters allow; empty ``q`` browses.

        ``facets`` (names from :data:`FACETS`) are counted over what ``q`` matches under every
        filter but the facet's own, so a chosen value leaves its alternatives visible.
        """
        parsed = self.parse(q)
        n = len(self._docs)
        groups = self._groups(filters)
        # Every answer (hits, total, every facet) lies inside the filters no facet ignores; when
        # they allow few slots (a region, a department), only those are scored.
        drivers = [g for g in groups if g[0] not in facets]
        if drivers:
            smallest = min(drivers, key=lambda g: g[2].size)
            if smallest[2].size * 8 <= n:
                universe = smallest[2][self._alive[smallest[2]]]
                for name, key, allowed in drivers:
                    if name != smallest[0]:
                        universe = universe[self._inside(universe, key, allowed, n)]
                rest = [
                    (name, self._inside(universe, key, allowed, n))
                    for name, key, allowed in groups
                    if name in facets
                ]
                return self._answer(parsed, universe, rest, n, limit, offset, facets)
        masks = [(name, self._mask(key, allowed, n)) for name, key, allowed in groups]
        return self._answer(parsed, None, masks, n, limit, offset, facets)

    def _answer(
        self,
        parsed: ParsedQuery,
        universe: npt.NDArray[np.intp] | None,
        groups: list[tuple[str, npt.NDArray[np.bool_]]],
        n: int,
        limit: int,
        offset: int,
        facets: Sequence[str],
    ) -> SearchResult:
        """Rank, count and page over ``universe`` (every slot when None); ``groups`` are the
        allowed masks (aligned with the universe) of the filters still to apply."""
        total: npt.NDArray[np.float32] | None = None
        words: npt.NDArray[np.unsignedinteger[Any]] | None = None
        surface: npt.NDArray[np.unsignedinteger[Any]] | None = None
        if parsed.concepts:
            total, words, surface = self._evidence(parsed, universe, n)
            matches = total > 0
            if universe is None and self._dead:  # a universe holds live slots only
                matches &= self._alive[:n]
        else:
            matches = self._alive[:n].copy() if universe is None else np.ones(universe.size, dtype=bool)
        # ``exact``: the mask is the scored matches themselves (no filter, no tombstone left to
        # apply), which lets the contenders skip re-applying it.
        exact = not groups and (universe is not None or not self._dead)
        mask = matches
        if groups:
            mask = matches & groups[0][1]
            for _, allowed in groups[1:]:
                mask &= allowed
        counts: dict[str, dict[str, int]] = {}
        for name in facets:
            others = matches.copy()
            for group, allowed in groups:
                if group != name:
                    others &= allowed
            chosen = np.flatnonzero(others)
            counts[name] = self._facets[name].count(chosen if universe is None else universe[chosen])
        if total is None or words is None or surface is None:
            at = np.flatnonzero(mask)
            candidates = at if universe is None else universe[at]
            page = candidates[offset : offset + limit]
            return SearchResult(int(candidates.size), [self._hit(int(s), 0.0) for s in page], parsed, counts)
        count = int(np.count_nonzero(mask))
        want = min(offset + limit, count)
        if want == 0:
            return SearchResult(count, [], parsed, counts)
        table = self._share_table(parsed)
        at = self._contenders(
            total, words, surface, table, None if exact else mask, count, want, matches=mask
        )
        scores = total[at] * table[halves(words, surface, at)]
        page = top(scores, want)[offset : offset + limit]
        candidates = at if universe is None else universe[at]
        # Python ints and floats in one call each, not a numpy scalar per hit.
        hit = self._hit
        hits = [
            hit(slot, score)
            for slot, score in zip(candidates[page].tolist(), scores[page].tolist(), strict=True)
        ]
        return SearchResult(count, hits, parsed, counts)

    @staticmethod
    def _contenders(
        total: npt.NDArray[np.float32],
        words: npt.NDArray[np.unsignedinteger[Any]],
        surface: npt.NDArray[np.unsignedinteger[Any]],
        table: npt.NDArray[np.float32],
        mask: npt.NDArray[np.bool_] | None,
        count: int,
        want: int,
        *,
        matches: npt.NDArray[np.bool_],
    ) -> npt.NDArray[np.intp]:
        """Ascending positions of the ``count`` matches (``matches``) that can be among the ``want`` best.

        With many matches, the ``want``-th best score of a strided sample of them is a floor no
        answer lies below; a match's score is its summed evidence times a coverage share of at most
        the table's last, and float32 rounding keeps that order, so a match whose evidence times
        that share stays below the floor can never be on the page. Only the others are scored
        exactly (gathering every match's numbers cost more than the scoring itself at 100k).

        ``mask`` is None when ``matches`` is exactly ``total > 0``: every slot reaching the
        (positive) floor is then a match already and the mask need not be applied again.
        """
        if count <= 4 * SAMPLE or want > SAMPLE // 4:
            return np.flatnonzero(matches)
        stride = max(1, matches.size // SAMPLE)
        sample = np.flatnonzero(matches[::stride]) * stride
        if sample.size < want:
            return np.flatnonzero(matches)
        scores = total[sample] * table[halves(words, surface, sample)]
        floor = float(np.partition(scores, scores.size - want)[scores.size - want])
        # fl(x × share) ≥ floor needs x ≥ floor / share × (1 − 2⁻²⁴): a float32 bound a little
        # below that keeps every such x (a few more contenders at most, all scored exactly) and
        # is one comparison per slot instead of a multiplication and a comparison.
        bound = np.float32(floor / float(table[-1]) * (1 - 2.0**-20))
        reach = total >= bound
        if mask is not None:
            reach &= mask
        return np.flatnonzero(reach)

    def _hit(self, slot: int, score: float) -> Hit:
        doc = self._docs[slot]
        assert doc is not None
        return Hit(doc, score)


def _add_sparse(
    total: npt.NDArray[np.float32] | None,
    size: int,
    counter: npt.NDArray[Any],
    at: npt.NDArray[np.intp],
    values: npt.NDArray[np.float32],
) -> npt.NDArray[np.float32]:
    """A short list's concept added straight into the running total (no per-concept score array)."""
    if total is None:
        total = np.zeros(size, dtype=np.float32)
    total[at] += values
    counter[at] = counter[at] + 1
    return total


@lru_cache(maxsize=256)
def _share_table(concepts: int, surface: int) -> npt.NDArray[np.float32]:
    """The share table of a query of ``concepts`` concepts, ``surface`` of them surface evidence
    (a pure function of the two counts, made once; read-only, as every query shares it)."""
    coverage = (concepts - surface) * 1.0 + surface * 0.5
    steps = np.arange(2 * concepts + 1, dtype=np.float32) * np.float32(0.5)
    table: npt.NDArray[np.float32] = ((1.0 + steps) / (1.0 + coverage)) ** 2
    table.flags.writeable = False
    return table


def halves(
    words: npt.NDArray[np.unsignedinteger[Any]],
    surface: npt.NDArray[np.unsignedinteger[Any]],
    at: npt.NDArray[np.intp],
) -> npt.NDArray[np.unsignedinteger[Any]]:
    """Concepts matched at positions ``at``, in half units: a word concept 2, surface evidence 1."""
    matched: npt.NDArray[np.unsignedinteger[Any]] = np.left_shift(words[at], 1)
    np.add(matched, surface[at], out=matched)
    return matched


def top(scores: npt.NDArray[np.float32], want: int) -> npt.NDArray[np.intp]:
    """Positions of the ``want`` best ``scores``, best first; equal scores in position order
    (candidates are in slot order, so the same item in many regions pages stably).

    Exact, and linear in ``scores``: a strided sample's ``want``-th best is a floor no answer is
    below, so only the few at or above it are ranked (ties at the boundary all kept, then cut).
    """
    count = scores.size
    kept = np.arange(count)
    if count > 4 * SAMPLE and want <= SAMPLE // 4:
        sample = scores[:: count // SAMPLE]
        floor = np.partition(sample, sample.size - want)[sample.size - want]
        kept = np.flatnonzero(scores >= floor)
    if kept.size > want:
        values = scores[kept]
        cut = np.partition(values, values.size - want)[values.size - want]
        above = kept[values > cut]
        kept = np.concatenate((above, kept[values == cut][: want - above.size]))
    order: npt.NDArray[np.intp] = kept[np.lexsort((kept, -scores[kept]))]
    return order


@lru_cache(maxsize=4096)
def _terms_pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    ordered = sorted({t for t in terms if t}, key=len, reverse=True)  # longest wins at a position
    # One capturing group: ``split`` then returns the terms found between the text around them.
    return re.compile("(" + "|".join(map(re.escape, ordered)) + ")") if ordered else None


def highlight(text: str, terms: Sequence[str], *, width: int = 60) -> str:
    """HTML-escaped excerpt of ``text`` around the first term found, each term wrapped in <em>."""
    return highlight_with(_terms_pattern(tuple(terms)), text, width=width)


_UNSAFE = re.compile(r"[&<>\"']")


def matchable(text: str) -> str:
    """The form of ``text`` the terms are looked for in, aligned character for character with it
    (its normal form when that keeps the length, else its lower case)."""
    normal = normalise(text)
    return normal if len(normal) == len(text) else text.lower()


def highlight_with(
    pattern: re.Pattern[str] | None, text: str, *, width: int = 60, lowered: str | None = None
) -> str:
    """:func:`highlight` with the terms' pattern made once (``terms_pattern``) for a page of hits;
    ``lowered`` is ``matchable(text)`` when the caller made it already (once, at indexing)."""
    if lowered is None:
        lowered = matchable(text)
    first = pattern.search(lowered) if pattern else None
    start = max(0, first.start() - width // 3) if first else 0
    excerpt, low = text[start : start + width], lowered[start : start + width]
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + width < len(text) else ""
    if pattern is None:
        return prefix + html.escape(excerpt) + suffix
    if low == excerpt and not _UNSAFE.search(excerpt):
        # Nothing to escape and the matches are the text's own characters: split in C (text,
        # term, text, …), the terms wrapped (``sub`` called back into Python once per term).
        pieces = pattern.split(excerpt)
        pieces[1::2] = ["<em>" + term + "</em>" for term in pieces[1::2]]
        return prefix + "".join(pieces) + suffix
    out, pos = [], 0
    for m in pattern.finditer(low):
        out.append(html.escape(excerpt[pos : m.start()]))
        out.append(f"<em>{html.escape(excerpt[m.start() : m.end()])}</em>")
        pos = m.end()
    out.append(html.escape(excerpt[pos:]))
    return prefix + "".join(out) + suffix


def terms_pattern(terms: Sequence[str]) -> re.Pattern[str] | None:
    """The alternation of ``terms``, longest first (None when there is none)."""
    return _terms_pattern(tuple(terms))
